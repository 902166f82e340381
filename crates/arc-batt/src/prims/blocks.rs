//! Grids read as blocks: repeated rows and columns, coarse blocks, halves, repeats and
//! corners — the image transforms of icecuber's ARC solver (Hodel's `compress`-like
//! `compress2`/`compress3`, block downscaling, `cut` into halves) that the other primitive
//! sections lack. Each function is total, like every primitive (see [`super`]).

use super::{build, factor};
use crate::grid::{COLOURS, Grid, MAX_SIDE};

/// Removes every row equal to the row above it, then every column equal to the column on
/// its left: a grid of uniform blocks becomes one cell per block (icecuber's `compress2`).
pub fn dedup(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    if h == 0 {
        return Grid::empty();
    }
    let rows: Vec<usize> = (0..h)
        .filter(|&r| r == 0 || g.row(r) != g.row(r - 1))
        .collect();
    let col_equal = |c: usize| rows.iter().all(|&r| g.at(r, c) == g.at(r, c - 1));
    let cols: Vec<usize> = (0..w).filter(|&c| c == 0 || !col_equal(c)).collect();
    build(rows.len(), cols.len(), |r, c| g.at(rows[r], cols[c]))
}

/// Each `k × k` block becomes one cell: its most frequent colour other than the grid's
/// background (ties to the smallest colour), or the background when the block has no other
/// colour. Empty when the sides are not multiples of `k`. Unlike [`super::downscale`], which
/// keeps each block's top-left cell, a lone mark anywhere in a block survives.
pub fn downscale_fg(g: &Grid, k: i32) -> Grid {
    let Some(k) = factor(k) else {
        return Grid::empty();
    };
    let (h, w) = g.shape();
    if h == 0 || !h.is_multiple_of(k) || !w.is_multiple_of(k) {
        return Grid::empty();
    }
    let bg = g.most_colour();
    build(h / k, w / k, |r, c| {
        let mut counts = [0u16; COLOURS];
        for dr in 0..k {
            for dc in 0..k {
                counts[usize::from(g.at(r * k + dr, c * k + dc))] += 1;
            }
        }
        counts[usize::from(bg)] = 0;
        let best = (0..COLOURS).rev().max_by_key(|&c| counts[c]).unwrap_or(0);
        if counts[best] == 0 { bg } else { best as u8 }
    })
}

/// The grid cut in two along its longer side: the two halves in reading order. An odd side
/// loses its middle line (a separator); a square grid gives no halves.
pub fn halves(g: &Grid) -> Vec<Grid> {
    let (h, w) = g.shape();
    if h == w || h == 0 {
        return Vec::new();
    }
    let part =
        |r0: usize, c0: usize, ph: usize, pw: usize| build(ph, pw, |r, c| g.at(r0 + r, c0 + c));
    if w > h {
        let half = w / 2;
        vec![part(0, 0, h, half), part(0, w - half, h, half)]
    } else {
        let half = h / 2;
        vec![part(0, 0, half, w), part(h - half, 0, half, w)]
    }
}

/// The smallest block whose repetition (a whole number of copies down and across) is the
/// grid; the grid itself when no smaller block repeats to it.
pub fn unrepeat(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    let periodic =
        |a: usize, b: usize| (0..h).all(|r| (0..w).all(|c| g.at(r, c) == g.at(r % a, c % b)));
    let mut best = (h, w);
    for a in (1..=h).filter(|a| h.is_multiple_of(*a)) {
        for b in (1..=w).filter(|b| w.is_multiple_of(*b)) {
            if a * b < best.0 * best.1 && periodic(a, b) {
                best = (a, b);
            }
        }
    }
    build(best.0, best.1, |r, c| g.at(r, c))
}

/// The top-left `height × width` corner; empty when the grid is smaller.
pub fn top_left(g: &Grid, height: i32, width: i32) -> Grid {
    let (h, w) = g.shape();
    let side = |v: i32, limit: usize| {
        usize::try_from(v)
            .ok()
            .filter(|&v| v >= 1 && v <= limit.min(MAX_SIDE))
    };
    let (Some(th), Some(tw)) = (side(height, h), side(width, w)) else {
        return Grid::empty();
    };
    build(th, tw, |r, c| g.at(r, c))
}

/// Number of non-zero cells.
pub fn count_nonzero(g: &Grid) -> i32 {
    g.cells().iter().filter(|&&c| c != 0).count() as i32
}

/// How many of the seven non-trivial symmetries of the square (mirrors, diagonal mirrors and
/// turns) leave the grid unchanged; the diagonal ones and quarter turns count only on square
/// grids.
pub fn symmetries(g: &Grid) -> i32 {
    let (h, w) = g.shape();
    let same = |f: &dyn Fn(usize, usize) -> (usize, usize)| {
        (0..h).all(|r| {
            (0..w).all(|c| {
                let (r2, c2) = f(r, c);
                g.at(r, c) == g.at(r2, c2)
            })
        })
    };
    if h == 0 {
        return 0;
    }
    let mut n = 0;
    n += i32::from(same(&|r, c| (r, w - 1 - c)));
    n += i32::from(same(&|r, c| (h - 1 - r, c)));
    n += i32::from(same(&|r, c| (h - 1 - r, w - 1 - c)));
    if h == w {
        n += i32::from(same(&|r, c| (c, r)));
        n += i32::from(same(&|r, c| (w - 1 - c, h - 1 - r)));
        n += i32::from(same(&|r, c| (w - 1 - c, r)));
        n += i32::from(same(&|r, c| (c, h - 1 - r)));
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(rows: &[&[i64]]) -> Grid {
        Grid::from_rows(rows).unwrap()
    }

    #[test]
    fn dedup_keeps_one_cell_per_block() {
        let x = g(&[&[1, 1, 2], &[1, 1, 2], &[3, 3, 4], &[1, 1, 2]]);
        assert_eq!(dedup(&x), g(&[&[1, 2], &[3, 4], &[1, 2]]));
        assert!(dedup(&Grid::empty()).is_empty());
    }

    #[test]
    fn downscale_fg_keeps_a_mark_anywhere_in_its_block() {
        let x = g(&[&[0, 0, 0, 0], &[0, 3, 0, 0], &[0, 0, 0, 5], &[0, 0, 5, 2]]);
        assert_eq!(downscale_fg(&x, 2), g(&[&[3, 0], &[0, 5]]));
        assert!(downscale_fg(&x, 3).is_empty(), "4 is not a multiple of 3");
        assert!(downscale_fg(&x, 0).is_empty());
    }

    #[test]
    fn halves_cut_the_longer_side_and_drop_an_odd_middle_line() {
        let x = g(&[&[1, 2, 5, 3, 4]]);
        assert_eq!(halves(&x), vec![g(&[&[1, 2]]), g(&[&[3, 4]])]);
        let y = g(&[&[1], &[2], &[3], &[4]]);
        assert_eq!(halves(&y), vec![g(&[&[1], &[2]]), g(&[&[3], &[4]])]);
        assert!(halves(&g(&[&[1, 2], &[3, 4]])).is_empty(), "square");
    }

    #[test]
    fn unrepeat_finds_the_smallest_repeating_block() {
        let x = g(&[&[1, 2, 1, 2], &[3, 4, 3, 4], &[1, 2, 1, 2], &[3, 4, 3, 4]]);
        assert_eq!(unrepeat(&x), g(&[&[1, 2], &[3, 4]]));
        let y = g(&[&[1, 2, 3]]);
        assert_eq!(unrepeat(&y), y, "no smaller block");
    }

    #[test]
    fn corners_counts_and_symmetries() {
        let x = g(&[&[1, 2, 1], &[0, 4, 0], &[1, 2, 1]]);
        assert_eq!(top_left(&x, 2, 1), g(&[&[1], &[0]]));
        assert!(top_left(&x, 4, 1).is_empty());
        assert!(top_left(&x, -1, 1).is_empty());
        assert_eq!(count_nonzero(&x), 7);
        assert_eq!(symmetries(&x), 3, "both mirrors and the half turn");
        assert_eq!(symmetries(&g(&[&[1, 1], &[1, 1]])), 7);
        assert_eq!(
            symmetries(&g(&[&[1, 2]])),
            1,
            "one row: its top-bottom mirror"
        );
    }
}
