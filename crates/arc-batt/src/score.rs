//! Scoring, assembly and prediction.
//!
//! - A candidate that reproduces every demonstration output exactly is a solution; a
//!   solution whose value only a learned table gives (a colour substitution, a cell-wise rule)
//!   or a piece assembly is trusted only when it cross-validates (learned or assembled from all
//!   demonstrations but one, it reproduces that one, for each); trusted solutions rank first, then the rest by
//!   demonstrations reproduced, then partial credit
//!   ([`crate::search::partial_credit`]: cell agreement when the shapes agree, colour-set
//!   overlap otherwise), then simplicity (fewer program lines, smaller depth), then the order
//!   found. Only demonstration outputs enter any choice; test outputs are never read here.
//! - [`assemble`] adds two kinds of candidates built from the ones found: a colour
//!   substitution learned from the demonstrations (when one substitution maps a candidate onto
//!   every demonstration output), and icecuber-style pieces: a base candidate with other
//!   candidates laid over it, each painting only cells it gets right on every demonstration,
//!   greedily chosen to cover the cells the base gets wrong.
//! - [`predictions`] takes up to three distinct outputs per test input, in rank order.

use crate::dsl::{Prim, Type, Value};
use crate::grid::Grid;
use std::sync::Arc;

use crate::prims::{ColourMap, LocalRule, RULE_KINDS};
use crate::search::{SArg, Space};

/// Grid candidates that match every demonstration output's shape, best partial credit first.
fn shaped(space: &Space) -> Vec<u32> {
    let n_train = space.n_train();
    let outs = space.outputs();
    let mut ids: Vec<u32> = space
        .nodes()
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            n.vals[0].ty() == Type::Grid
                && n.vals[..n_train]
                    .iter()
                    .zip(outs)
                    .all(|(v, o)| v.grid().shape() == o.shape())
        })
        .map(|(i, _)| i as u32)
        .collect();
    ids.sort_by(|&a, &b| {
        let (na, nb) = (&space.nodes()[a as usize], &space.nodes()[b as usize]);
        nb.partial
            .total_cmp(&na.partial)
            .then(na.cost.cmp(&nb.cost))
            .then(a.cmp(&b))
    });
    ids
}

/// The colour substitution that maps `vals` onto `outs` cell by cell, when there is one.
pub fn learn_colour_map(vals: &[Value], outs: &[Grid]) -> Option<ColourMap> {
    let mut m: [Option<u8>; 10] = [None; 10];
    for (v, o) in vals.iter().zip(outs) {
        let g = v.grid();
        if g.shape() != o.shape() {
            return None;
        }
        for (&a, &b) in g.cells().iter().zip(o.cells()) {
            match m[usize::from(a)] {
                None => m[usize::from(a)] = Some(b),
                Some(x) if x == b => {}
                Some(_) => return None,
            }
        }
    }
    let mut map = ColourMap::IDENTITY;
    for (c, t) in m.iter().enumerate() {
        if let Some(t) = t {
            map.0[c] = *t;
        }
    }
    (map != ColourMap::IDENTITY).then_some(map)
}

/// Whether the colour substitution learned from every demonstration but one reproduces that
/// one, for each demonstration: colours a demonstration alone shows are memorised, not
/// learned. A single demonstration cannot be cross-validated.
pub fn colour_map_cross_validates(vals: &[Value], outs: &[Grid]) -> bool {
    vals.len() >= 2
        && (0..vals.len()).all(|d| {
            let mut m: [Option<u8>; 10] = [None; 10];
            for (e, (v, o)) in vals.iter().zip(outs).enumerate() {
                if e != d {
                    for (&a, &b) in v.grid().cells().iter().zip(o.cells()) {
                        m[usize::from(a)] = Some(b);
                    }
                }
            }
            vals[d]
                .grid()
                .cells()
                .iter()
                .zip(outs[d].cells())
                .all(|(&a, &b)| m[usize::from(a)].unwrap_or(a) == b)
        })
}

const WORDS: usize = 15; // 900 cells per demonstration

/// Adds colour-substituted and piece-assembled candidates to the space.
pub fn assemble(space: &mut Space) {
    if space.stopped().is_some() || !space.solutions().is_empty() {
        return;
    }
    let n_train = space.n_train();
    let outs: Vec<Grid> = space.outputs().to_vec();
    let cands = shaped(space);
    let remap = Prim::by_name("remap").unwrap_or(Prim::IDENTITY);
    let mut map_sources = vec![Space::INPUT];
    map_sources.extend(
        cands
            .iter()
            .copied()
            .filter(|&c| c != Space::INPUT)
            .take(60),
    );
    for &id in &map_sources {
        let vals = space.nodes()[id as usize].vals[..n_train].to_vec();
        if let Some(m) = learn_colour_map(&vals, &outs) {
            space.untrusted_mark = !colour_map_cross_validates(&vals, &outs);
            space.apply(remap, &[SArg::Node(id), SArg::Lit(Value::Map(m))], 1);
            space.untrusted_mark = false;
        }
        if !space.solutions().is_empty() || space.stopped().is_some() {
            return;
        }
    }
    // Learned cell-wise rules on the input and the best shaped candidates.
    let rule_prim = Prim::by_name("local_rule").unwrap_or(Prim::IDENTITY);
    let mut sources: Vec<u32> = vec![Space::INPUT];
    sources.extend(
        cands
            .iter()
            .copied()
            .filter(|&c| c != Space::INPUT)
            .take(12),
    );
    for &id in &sources {
        let node = &space.nodes()[id as usize];
        let srcs: Vec<&Grid> = node.vals[..n_train].iter().map(Value::grid).collect();
        let tests: Vec<&Grid> = node.vals[n_train..].iter().map(Value::grid).collect();
        let outs_ref: Vec<&Grid> = outs.iter().collect();
        let rules: Vec<(LocalRule, bool)> = (0..RULE_KINDS)
            .filter_map(|k| LocalRule::learn_validated(&srcs, &outs_ref, &tests, k))
            .collect();
        for (rule, validated) in rules {
            space.untrusted_mark = !validated;
            space.apply(
                rule_prim,
                &[SArg::Node(id), SArg::Lit(Value::Rule(Arc::new(rule)))],
                1,
            );
            space.untrusted_mark = false;
        }
        if space.stopped().is_some() || !space.solutions().is_empty() {
            return;
        }
    }
    // Pieces: masks of cells each candidate paints correctly (non-zero and equal to the
    // output), for candidates that paint no wrong cell on any demonstration.
    let cands = shaped(space);
    let mut pieces: Vec<(u32, Vec<u64>)> = Vec::new();
    for &id in cands.iter().take(4000) {
        let node = &space.nodes()[id as usize];
        let mut mask = vec![0u64; WORDS * n_train];
        let mut consistent = true;
        'demos: for (d, (v, o)) in node.vals[..n_train].iter().zip(&outs).enumerate() {
            for (k, (&a, &b)) in v.grid().cells().iter().zip(o.cells()).enumerate() {
                if a != 0 {
                    if a != b {
                        consistent = false;
                        break 'demos;
                    }
                    mask[d * WORDS + k / 64] |= 1 << (k % 64);
                }
            }
        }
        if consistent && mask.iter().any(|&w| w != 0) {
            pieces.push((id, mask));
        }
    }
    if pieces.is_empty() {
        return;
    }
    let overlay = Prim::by_name("overlay").unwrap_or(Prim::IDENTITY);
    for &base in cands.iter().take(3) {
        // Cells the base gets wrong; a wrong cell whose output is 0 cannot be painted over.
        let node = &space.nodes()[base as usize];
        let mut wrong = vec![0u64; WORDS * n_train];
        let mut fixable = true;
        for (d, (v, o)) in node.vals[..n_train].iter().zip(&outs).enumerate() {
            for (k, (&a, &b)) in v.grid().cells().iter().zip(o.cells()).enumerate() {
                if a != b {
                    if b == 0 {
                        fixable = false;
                    }
                    wrong[d * WORDS + k / 64] |= 1 << (k % 64);
                }
            }
        }
        if !fixable {
            continue;
        }
        // Up to four pieces, greedily, each covering the most wrong cells left; the pieces
        // chosen (indices into `pieces`) and the wrong cells they leave.
        let greedy = |mut wrong: Vec<u64>| -> (Vec<usize>, Vec<u64>) {
            let mut chosen = Vec::new();
            for _ in 0..4 {
                if wrong.iter().all(|&w| w == 0) {
                    break;
                }
                let best = pieces
                    .iter()
                    .enumerate()
                    .map(|(k, (id, m))| {
                        let gain: u32 = m
                            .iter()
                            .zip(&wrong)
                            .map(|(a, b)| (a & b).count_ones())
                            .sum();
                        (gain, *id, k)
                    })
                    .filter(|(gain, _, _)| *gain > 0)
                    .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
                let Some((_, _, k)) = best else { break };
                for (w, x) in wrong.iter_mut().zip(&pieces[k].1) {
                    *w &= !x;
                }
                chosen.push(k);
            }
            (chosen, wrong)
        };
        let (chosen, left) = greedy(wrong.clone());
        if left.iter().all(|&w| w == 0) && !chosen.is_empty() {
            // Cross-validation: the pieces chosen for the other demonstrations alone must mend
            // each demonstration too (pieces never paint a wrong cell, so covering its wrong
            // cells is enough).
            let validated = n_train >= 2
                && (0..n_train).all(|d| {
                    let own = d * WORDS..(d + 1) * WORDS;
                    let mut others = wrong.clone();
                    others[own.clone()].fill(0);
                    let (picked, _) = greedy(others);
                    own.enumerate().all(|(k, i)| {
                        let cover = picked.iter().fold(0u64, |acc, &p| acc | pieces[p].1[i]);
                        wrong[d * WORDS + k] & !cover == 0
                    })
                });
            space.untrusted_mark = !validated;
            let mut acc = base;
            for k in chosen {
                match space.apply(overlay, &[SArg::Node(acc), SArg::Node(pieces[k].0)], 1) {
                    Some(next) => acc = next,
                    None => break,
                }
            }
            space.untrusted_mark = false;
            if !space.solutions().is_empty() {
                return;
            }
        }
    }
}

/// Grid candidates, best first (see the [module docs](self)); at most 64.
pub fn rank(space: &Space) -> Vec<u32> {
    let mut ids: Vec<u32> = space
        .nodes()
        .iter()
        .enumerate()
        .filter(|(_, n)| n.vals[0].ty() == Type::Grid)
        .map(|(i, _)| i as u32)
        .collect();
    let n_train = space.n_train();
    let trusted_fit = |n: &crate::search::Node| n.trusted && usize::from(n.exact) == n_train;
    ids.sort_by(|&a, &b| {
        let (na, nb) = (&space.nodes()[a as usize], &space.nodes()[b as usize]);
        trusted_fit(nb)
            .cmp(&trusted_fit(na))
            .then(nb.exact.cmp(&na.exact))
            .then(nb.partial.total_cmp(&na.partial))
            .then(na.cost.cmp(&nb.cost))
            .then(na.depth.cmp(&nb.depth))
            .then(a.cmp(&b))
    });
    ids.truncate(64);
    ids
}

/// Up to `k` distinct predicted outputs per test input, from the ranked candidates.
pub fn predictions(space: &Space, ranked: &[u32], k: usize) -> Vec<Vec<Grid>> {
    let n_train = space.n_train();
    let n_test = space.nodes()[0].vals.len() - n_train;
    let mut out: Vec<Vec<Grid>> = vec![Vec::new(); n_test];
    for &id in ranked {
        let node = &space.nodes()[id as usize];
        for (t, preds) in out.iter_mut().enumerate() {
            let g = node.vals[n_train + t].grid();
            if preds.len() < k && !g.is_empty() && !preds.contains(g) {
                preds.push(g.clone());
            }
        }
        if out.iter().all(|p| p.len() >= k) {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::Library;
    use crate::search::{SearchConfig, search};
    use crate::task::Task;
    use std::path::Path;

    fn solve(json: &str) -> (Space, Vec<u32>) {
        let t = Task::from_json("t", json, Path::new("t.json")).unwrap();
        let cfg = SearchConfig::default();
        let mut s = Space::new(&t, &cfg);
        let found = search(&mut s, &t, &cfg, &Library::new());
        (s, found.ranked)
    }

    #[test]
    fn colour_maps_are_learned_only_when_consistent() {
        let g = |rows: &[&[i64]]| Grid::from_rows(rows).unwrap();
        let vals = [Value::Grid(g(&[&[1, 0]])), Value::Grid(g(&[&[0, 1]]))];
        let outs = [g(&[&[5, 0]]), g(&[&[0, 5]])];
        let m = learn_colour_map(&vals, &outs).unwrap();
        assert_eq!(m.0[1], 5);
        let clash = [g(&[&[5, 0]]), g(&[&[0, 6]])];
        assert_eq!(learn_colour_map(&vals, &clash), None);
        assert_eq!(
            learn_colour_map(&vals, &[g(&[&[1, 0]]), g(&[&[0, 1]])]),
            None,
            "identity"
        );
    }

    #[test]
    fn a_recolouring_task_is_solved_and_predicted() {
        // Every 1 becomes 4 and every 2 becomes 8: a substitution no single transform makes.
        let (s, ranked) = solve(
            r#"{"train": [{"input": [[1, 2, 0]], "output": [[4, 8, 0]]},
                          {"input": [[2, 2, 1]], "output": [[8, 8, 4]]}],
                "test": [{"input": [[0, 1, 2]], "output": [[0, 4, 8]]}]}"#,
        );
        assert!(!s.solutions().is_empty());
        let preds = predictions(&s, &ranked, 3);
        assert_eq!(preds[0][0].to_rows(), vec![vec![0u8, 4, 8]]);
    }

    #[test]
    fn predictions_are_distinct_and_at_most_k() {
        let (s, ranked) = solve(
            r#"{"train": [{"input": [[1, 2], [3, 4]], "output": [[2, 1], [4, 3]]}],
                "test": [{"input": [[5, 6], [7, 8]]}]}"#,
        );
        let preds = predictions(&s, &ranked, 3);
        assert_eq!(preds.len(), 1);
        assert!(preds[0].len() <= 3 && !preds[0].is_empty());
        assert_eq!(preds[0][0].to_rows(), vec![vec![6u8, 5], vec![8, 7]]);
        for (i, a) in preds[0].iter().enumerate() {
            assert!(preds[0][i + 1..].iter().all(|b| b != a));
        }
    }
}

#[cfg(test)]
mod rule_program_tests {
    use super::*;
    use crate::library::Library;
    use crate::search::{SearchConfig, search};
    use crate::task::Task;
    use std::path::Path;

    #[test]
    fn a_learned_rule_is_a_program_line_that_round_trips() {
        let t = Task::from_json(
            "t",
            r#"{"train": [{"input": [[0, 1, 0, 0, 0], [0, 0, 0, 1, 0]], "output": [[2, 1, 2, 0, 0], [0, 0, 2, 1, 2]]},
                          {"input": [[1, 0, 0], [0, 0, 0]], "output": [[1, 2, 0], [0, 0, 0]]}],
                "test": [{"input": [[0, 0, 1, 0, 0]], "output": [[0, 2, 1, 2, 0]]}]}"#,
            Path::new("t.json"),
        )
        .unwrap();
        let cfg = SearchConfig::default();
        let mut s = Space::new(&t, &cfg);
        let found = search(&mut s, &t, &cfg, &Library::new());
        let best = found.ranked[0];
        let p = s.program(best);
        let text = p.to_string();
        assert_ne!(text, "x1 = identity(I)");
        let back: crate::program::Program = text.parse().unwrap();
        assert_eq!(
            back.run(&t.test[0].input),
            *s.nodes()[best as usize].vals[2].grid()
        );
    }
}
