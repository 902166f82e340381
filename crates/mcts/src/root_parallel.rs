//! Root parallelism: independent UCT trees searched as par-core tasks, merged at the root.
//!
//! Cazenave and Jouandeau, "On the parallelization of UCT", Computer Games Workshop 2007;
//! Chaslot, Winands and van den Herik, "Parallel Monte-Carlo tree search", Computers and Games
//! 2008 (doi:10.1007/978-3-540-87608-3_6).
//!
//! Each of `trees` sequential [`Uct`] searches runs `simulations` simulations as task `i` of a
//! par-core [`Executor`] run; tree `i` is seeded from `(config.seed, i)` with
//! [`par_core::seed::task_rng`]. The root statistics are merged by summing visits and value
//! sums per action, in tree order. Trees share nothing, so this is the workload par-core's
//! executor is made for, and the result (the merged statistics and the move) is bit-identical
//! for any executor mode and worker count. Each tree is kept between calls and follows
//! [`RootParallelUct::advance`] (tree reuse).

use std::sync::Mutex;

use par_core::Executor;
use rand::RngCore;

use crate::error::MctsError;
use crate::game::{Action, Game};
use crate::uct::{ChildStats, SearchSummary, Uct, UctConfig, best_root_action};

/// Several independent UCT trees over the same root, merged at the root.
///
/// ```
/// use mcts::{Connect4, RootParallelUct, UctConfig};
/// use par_core::{ExecConfig, Executor, Mode};
/// let exec = Executor::new(ExecConfig { mode: Mode::Threads { workers: 2 }, ..ExecConfig::default() })?;
/// let mut search = RootParallelUct::new(UctConfig::default(), 4, Connect4::new())?;
/// let summary = search.search(&exec, 1_000)?;
/// assert_eq!(summary.simulations, 4_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RootParallelUct<G: Game> {
    config: UctConfig,
    trees: Vec<Mutex<Uct<G>>>,
    root_state: G,
}

impl<G: Game> RootParallelUct<G> {
    /// `trees >= 1` independent searches from `root_state`; fails on an invalid config.
    pub fn new(config: UctConfig, trees: usize, root_state: G) -> Result<Self, MctsError> {
        if trees == 0 {
            return Err(MctsError::Config {
                field: "trees",
                reason: "must be at least 1".into(),
            });
        }
        let trees = (0..trees)
            .map(|i| {
                let seed = par_core::seed::task_rng(config.seed, i).next_u64();
                let tree_config = UctConfig {
                    seed,
                    ..config.clone()
                };
                Uct::new(tree_config, root_state.clone()).map(Mutex::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            config,
            trees,
            root_state,
        })
    }

    /// The state at the root.
    pub fn root_state(&self) -> &G {
        &self.root_state
    }

    /// Number of trees.
    pub fn trees(&self) -> usize {
        self.trees.len()
    }

    /// Runs `simulations_per_tree` simulations in every tree, one par-core task per tree.
    /// Fails when the executor does (for example a panicking task, or a `Processes` mode,
    /// which cannot share the trees).
    pub fn search(
        &mut self,
        executor: &Executor,
        simulations_per_tree: u64,
    ) -> Result<SearchSummary, MctsError> {
        let trees = &self.trees;
        let output = executor.map(trees.len(), |ctx| {
            let mut tree = trees[ctx.index].lock().unwrap_or_else(|e| e.into_inner());
            let s = tree.search(simulations_per_tree);
            (s.nodes, s.tree_full)
        })?;
        let per_tree = output.into_values()?;
        let simulations = if self.root_state.is_terminal() {
            0
        } else {
            simulations_per_tree * self.trees.len() as u64
        };
        Ok(SearchSummary {
            simulations,
            nodes: per_tree.iter().map(|&(n, _)| n).sum(),
            tree_full: per_tree.iter().any(|&(_, full)| full),
            best_action: self.best_action(),
        })
    }

    /// Root statistics summed over the trees (visits added, mean values weighted by visits),
    /// in legal-action order.
    pub fn root_children(&self) -> Vec<ChildStats> {
        let mut merged: Vec<(Action, u64, f64)> = Vec::new();
        for tree in &self.trees {
            let tree = tree.lock().unwrap_or_else(|e| e.into_inner());
            for c in tree.root_children() {
                let sum = c.mean_value * f64::from(c.visits);
                match merged.iter_mut().find(|m| m.0 == c.action) {
                    Some(m) => {
                        m.1 += u64::from(c.visits);
                        m.2 += sum;
                    }
                    None => merged.push((c.action, u64::from(c.visits), sum)),
                }
            }
        }
        merged
            .into_iter()
            .map(|(action, visits, sum)| ChildStats {
                action,
                visits: visits.min(u64::from(u32::MAX)) as u32,
                mean_value: if visits > 0 { sum / visits as f64 } else { 0.0 },
            })
            .collect()
    }

    /// The move chosen from the merged statistics by the configured final-move rule.
    pub fn best_action(&self) -> Option<Action> {
        best_root_action(
            &self.root_state,
            || self.root_children(),
            self.config.final_move,
        )
    }

    /// Plays `action` in every tree, keeping each subtree.
    pub fn advance(&mut self, action: Action) -> Result<(), MctsError> {
        for tree in &mut self.trees {
            tree.get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .advance(action)?;
        }
        self.root_state.apply(action);
        Ok(())
    }
}
