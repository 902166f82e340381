//! Objects: sets of coloured cells with absolute positions, in one canonical order.
//!
//! An [`Object`] keeps its cells sorted by (row, column) with no position twice, so two
//! objects with the same cells are equal and hash alike, and "the first cell" is the top-most,
//! then left-most one. A list of objects ([`sort_objects`]) is sorted by the objects' cell
//! lists, which puts them in reading order of their first cells: "first", the winner of an
//! argmax tie and set iteration are therefore deterministic (Hodel's Python DSL iterates
//! `frozenset`s in an order CPython chooses; a port needs exactly this).
//!
//! [`components`] finds connected components with 4- or 8-connectivity, single- or
//! multi-coloured, with or without the background colour, as Hodel's `objects` does.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::grid::{COLOURS, Grid, GridBuf, MAX_SIDE};

/// One coloured cell at an absolute position. Orders by row, then column, then colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    /// Row, 0 at the top.
    pub r: u8,
    /// Column, 0 at the left.
    pub c: u8,
    /// Colour 0–9.
    pub colour: u8,
}

/// A set of cells in canonical order (see the [module docs](self)).
#[derive(Clone)]
pub struct Object {
    cells: Arc<[Cell]>,
    hash: u64,
}

impl Object {
    /// The empty object: the safe result of an operation on nothing.
    pub fn empty() -> Self {
        Self::from_sorted(Vec::new())
    }

    /// An object from cells in any order; the last cell given at a position wins, colours
    /// above 9 and positions beyond 30 × 30 are dropped.
    pub fn new(mut cells: Vec<Cell>) -> Self {
        cells.retain(|x| {
            x.colour <= 9 && usize::from(x.r) < MAX_SIDE && usize::from(x.c) < MAX_SIDE
        });
        // Stable sort by position keeps the given order among cells at one position.
        cells.sort_by_key(|x| (x.r, x.c));
        let mut out: Vec<Cell> = Vec::with_capacity(cells.len());
        for x in cells {
            match out.last_mut() {
                Some(last) if (last.r, last.c) == (x.r, x.c) => *last = x,
                _ => out.push(x),
            }
        }
        Self::from_sorted(out)
    }

    fn from_sorted(cells: Vec<Cell>) -> Self {
        Self::from_sorted_slice(&cells)
    }

    /// An object from cells already sorted by (row, column) with no position twice (one
    /// allocation: the shared buffer the cells are copied into).
    pub(crate) fn from_sorted_slice(cells: &[Cell]) -> Self {
        let mut s = rustc_hash::FxHasher::default();
        for x in cells {
            s.write_u8(x.r);
            s.write_u8(x.c);
            s.write_u8(x.colour);
        }
        s.write_usize(cells.len());
        Self {
            hash: s.finish(),
            cells: Arc::from(cells),
        }
    }

    /// The cells that are not `bg` in `grid`, as one object.
    pub fn from_grid(grid: &Grid, bg: u8) -> Self {
        let mut cells = Vec::new();
        for r in 0..grid.height() {
            for (c, &colour) in grid.row(r).iter().enumerate() {
                if colour != bg {
                    cells.push(Cell {
                        r: r as u8,
                        c: c as u8,
                        colour,
                    });
                }
            }
        }
        Self::from_sorted(cells)
    }

    /// The cells, sorted by (row, column).
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// Number of cells.
    pub fn size(&self) -> usize {
        self.cells.len()
    }

    /// Whether the object has no cells.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The precomputed 64-bit hash.
    pub fn hash64(&self) -> u64 {
        self.hash
    }

    /// `(top, left, bottom, right)`, inclusive; `(0, 0, 0, 0)` for the empty object.
    pub fn bbox(&self) -> (usize, usize, usize, usize) {
        bbox_of(&self.cells)
    }

    /// Height of the bounding box (0 when empty).
    pub fn height(&self) -> usize {
        if self.is_empty() {
            return 0;
        }
        let (t, _, b, _) = self.bbox();
        b - t + 1
    }

    /// Width of the bounding box (0 when empty).
    pub fn width(&self) -> usize {
        if self.is_empty() {
            return 0;
        }
        let (_, l, _, r) = self.bbox();
        r - l + 1
    }

    /// How many cells hold each colour.
    pub fn histogram(&self) -> [u16; COLOURS] {
        let mut h = [0u16; COLOURS];
        for x in self.cells.iter() {
            h[usize::from(x.colour)] += 1;
        }
        h
    }

    /// The most frequent colour (ties to the smallest); 0 when empty.
    pub fn colour(&self) -> u8 {
        let h = self.histogram();
        let mut best = 0;
        for c in 1..COLOURS {
            if h[c] > h[best] {
                best = c;
            }
        }
        best as u8
    }

    /// Number of distinct colours.
    pub fn colour_count(&self) -> usize {
        self.histogram().iter().filter(|&&n| n > 0).count()
    }

    /// The object moved by `(dr, dc)`; cells that leave the 30 × 30 plane are dropped.
    pub fn shifted(&self, dr: i32, dc: i32) -> Self {
        let cells =
            self.cells
                .iter()
                .filter_map(|x| {
                    let (r, c) = (i32::from(x.r) + dr, i32::from(x.c) + dc);
                    ((0..MAX_SIDE as i32).contains(&r) && (0..MAX_SIDE as i32).contains(&c))
                        .then_some(Cell {
                            r: r as u8,
                            c: c as u8,
                            colour: x.colour,
                        })
                })
                .collect();
        // A shift keeps (row, col) order.
        Self::from_sorted(cells)
    }

    /// The object moved so that its bounding box starts at (0, 0).
    pub fn normalized(&self) -> Self {
        let (t, l, _, _) = self.bbox();
        self.shifted(-(t as i32), -(l as i32))
    }

    /// Every cell recoloured to `colour` (colours above 9 leave the object unchanged).
    pub fn recoloured(&self, colour: u8) -> Self {
        if colour > 9 {
            return self.clone();
        }
        Self::from_sorted(self.cells.iter().map(|x| Cell { colour, ..*x }).collect())
    }

    /// The object drawn on a `bg` canvas the size of its bounding box.
    pub fn to_grid(&self, bg: u8) -> Grid {
        if self.is_empty() {
            return Grid::empty();
        }
        let (t, l, _, _) = self.bbox();
        let mut b = GridBuf::new(self.height(), self.width(), bg);
        for x in self.cells.iter() {
            b.set(usize::from(x.r) - t, usize::from(x.c) - l, x.colour);
        }
        b.freeze()
    }

    /// Whether `(r, c)` is one of the object's cells.
    pub fn contains(&self, r: usize, c: usize) -> bool {
        self.cells
            .binary_search_by(|x| (usize::from(x.r), usize::from(x.c)).cmp(&(r, c)))
            .is_ok()
    }
}

impl PartialEq for Object {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.cells == other.cells
    }
}

impl Eq for Object {}

impl Hash for Object {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialOrd for Object {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Object {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.cells.cmp(&other.cells)
    }
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Object{{")?;
        for (i, x) in self.cells.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}@{},{}", x.colour, x.r, x.c)?;
        }
        f.write_str("}")
    }
}

/// `(top, left, bottom, right)` of cells sorted by (row, column), inclusive; `(0, 0, 0, 0)`
/// for none.
pub(crate) fn bbox_of(cells: &[Cell]) -> (usize, usize, usize, usize) {
    let (Some(first), Some(last)) = (cells.first(), cells.last()) else {
        return (0, 0, 0, 0);
    };
    let (mut left, mut right) = (usize::MAX, 0);
    for x in cells {
        left = left.min(usize::from(x.c));
        right = right.max(usize::from(x.c));
    }
    (usize::from(first.r), left, usize::from(last.r), right)
}

/// Puts a list of objects in the canonical order and removes duplicates.
pub fn sort_objects(objs: &mut Vec<Object>) {
    objs.sort();
    objs.dedup();
}

/// How [`components`] groups cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Connectivity {
    /// Only cells of one colour form an object (otherwise any non-background cells do).
    pub univalued: bool,
    /// 8-connectivity (diagonal neighbours join) instead of 4.
    pub diagonal: bool,
    /// Background cells (the grid's most frequent colour) belong to no object.
    pub without_bg: bool,
}

/// The connected components of `grid` under `conn`, in canonical order. The background is
/// the grid's most frequent colour; with `without_bg` false every cell belongs to an object
/// (and a multi-coloured component then spans the whole connected grid).
pub fn components(grid: &Grid, conn: Connectivity) -> Vec<Object> {
    let mut out = Vec::new();
    for_each_component(grid, conn, |cells| {
        out.push(Object::from_sorted_slice(cells));
    });
    // Each object starts at its first cell in reading order, and objects are found in reading
    // order of those cells: `out` is already in canonical order.
    debug_assert!(out.windows(2).all(|w| w[0] < w[1]));
    out
}

/// Calls `visit` with the cells of each connected component of `grid` under `conn` (as
/// [`components`] defines them), each sorted by (row, column), the components in canonical
/// order: what [`components`] returns, without building the objects (for primitives that only
/// need each component's cells or bounding box).
///
/// Everything lives on the stack: the components are labelled by a flood fill in reading
/// order of their first cells, then one row-major pass scatters the cells into one buffer,
/// grouped by label (a counting sort), so each group comes out sorted without sorting.
pub(crate) fn for_each_component(grid: &Grid, conn: Connectivity, mut visit: impl FnMut(&[Cell])) {
    const N: usize = MAX_SIDE * MAX_SIDE;
    let (h, w) = grid.shape();
    if h == 0 {
        return;
    }
    let bg = grid.most_colour();
    let cells = grid.cells();
    // `label[i]` is 1 + the component of cell i, 0 for cells in none (background).
    let mut label = [0u16; N];
    // Positions as (row, column): no division to recover them from an index.
    let mut stack = [(0u8, 0u8); N];
    // `start[k + 1]` counts component k's cells, then becomes where its cells start.
    let mut start = [0u16; N + 1];
    let mut n_labels = 0usize;
    for i0 in 0..h * w {
        let v0 = cells[i0];
        if label[i0] != 0 || (conn.without_bg && v0 == bg) {
            continue;
        }
        n_labels += 1;
        let id = n_labels as u16;
        label[i0] = id;
        stack[0] = ((i0 / w) as u8, (i0 % w) as u8);
        let mut top = 1;
        let mut size = 0u16;
        while top > 0 {
            top -= 1;
            let (r, c) = (usize::from(stack[top].0), usize::from(stack[top].1));
            size += 1;
            let (up, down, left, right) = (r > 0, r + 1 < h, c > 0, c + 1 < w);
            // The same neighbour order as NEIGHBOURS_8 (the order does not change the result).
            let mut try_push = |r: usize, c: usize| {
                let j = r * w + c;
                if label[j] == 0 {
                    let v = cells[j];
                    let joins = if conn.univalued {
                        v == v0
                    } else {
                        !(conn.without_bg && v == bg)
                    };
                    if joins {
                        label[j] = id;
                        stack[top] = (r as u8, c as u8);
                        top += 1;
                    }
                }
            };
            if up {
                try_push(r - 1, c);
            }
            if down {
                try_push(r + 1, c);
            }
            if left {
                try_push(r, c - 1);
            }
            if right {
                try_push(r, c + 1);
            }
            if conn.diagonal {
                if up && left {
                    try_push(r - 1, c - 1);
                }
                if up && right {
                    try_push(r - 1, c + 1);
                }
                if down && left {
                    try_push(r + 1, c - 1);
                }
                if down && right {
                    try_push(r + 1, c + 1);
                }
            }
        }
        start[usize::from(id)] = size;
    }
    if n_labels == 0 {
        return;
    }
    // Prefix sums: component k's cells go to start[k]..start[k + 1].
    for k in 1..=n_labels {
        start[k] += start[k - 1];
    }
    let mut fill = start;
    let mut buf = [Cell {
        r: 0,
        c: 0,
        colour: 0,
    }; N];
    for (r, (labels, row)) in label[..h * w]
        .chunks_exact(w)
        .zip(cells.chunks_exact(w))
        .enumerate()
    {
        for (c, (&l, &colour)) in labels.iter().zip(row).enumerate() {
            if l != 0 {
                let slot = &mut fill[usize::from(l) - 1];
                buf[usize::from(*slot)] = Cell {
                    r: r as u8,
                    c: c as u8,
                    colour,
                };
                *slot += 1;
            }
        }
    }
    for k in 0..n_labels {
        visit(&buf[usize::from(start[k])..usize::from(start[k + 1])]);
    }
}

/// One object per colour present (all its cells), in canonical order; without the background
/// (most frequent colour) when `without_bg`.
pub fn partition(grid: &Grid, without_bg: bool) -> Vec<Object> {
    let bg = grid.most_colour();
    let mut by_colour: Vec<Vec<Cell>> = vec![Vec::new(); COLOURS];
    for r in 0..grid.height() {
        for (c, &colour) in grid.row(r).iter().enumerate() {
            if !(without_bg && colour == bg) {
                by_colour[usize::from(colour)].push(Cell {
                    r: r as u8,
                    c: c as u8,
                    colour,
                });
            }
        }
    }
    let mut out: Vec<Object> = by_colour
        .into_iter()
        .filter(|v| !v.is_empty())
        .map(Object::from_sorted)
        .collect();
    sort_objects(&mut out);
    out
}

/// The eight neighbour offsets, the four orthogonal ones first.
pub const NEIGHBOURS_8: [(i32, i32); 8] = [
    (-1, 0),
    (1, 0),
    (0, -1),
    (0, 1),
    (-1, -1),
    (-1, 1),
    (1, -1),
    (1, 1),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn g(rows: &[&[i64]]) -> Grid {
        Grid::from_rows(rows).unwrap()
    }

    const UNI4: Connectivity = Connectivity {
        univalued: true,
        diagonal: false,
        without_bg: true,
    };

    #[test]
    fn four_and_eight_connectivity_differ_on_diagonals() {
        let grid = g(&[&[1, 0, 0], &[0, 1, 0], &[0, 0, 2]]);
        let four = components(&grid, UNI4);
        assert_eq!(four.len(), 3);
        let eight = components(
            &grid,
            Connectivity {
                diagonal: true,
                ..UNI4
            },
        );
        assert_eq!(eight.len(), 2, "the two 1s join, the 2 stays apart");
        let multi = components(
            &grid,
            Connectivity {
                univalued: false,
                diagonal: true,
                without_bg: true,
            },
        );
        assert_eq!(multi.len(), 1);
        assert_eq!(multi[0].colour_count(), 2);
        let with_bg = components(
            &grid,
            Connectivity {
                without_bg: false,
                ..UNI4
            },
        );
        assert_eq!(with_bg.iter().map(Object::size).sum::<usize>(), 9);
    }

    #[test]
    fn objects_come_in_reading_order_of_their_first_cell() {
        let grid = g(&[&[0, 0, 3], &[2, 0, 0], &[0, 0, 0], &[0, 5, 5]]);
        let objs = components(&grid, UNI4);
        let colours: Vec<u8> = objs.iter().map(Object::colour).collect();
        assert_eq!(colours, [3, 2, 5]);
        assert_eq!(objs[2].bbox(), (3, 1, 3, 2));
        assert_eq!(objs[2].to_grid(0).to_rows(), vec![vec![5u8, 5]]);
    }

    #[test]
    fn object_operations_are_safe_and_canonical() {
        let a = Object::new(vec![
            Cell {
                r: 2,
                c: 2,
                colour: 4,
            },
            Cell {
                r: 1,
                c: 3,
                colour: 4,
            },
            Cell {
                r: 1,
                c: 3,
                colour: 6,
            },
        ]);
        assert_eq!(a.size(), 2, "the later cell at (1, 3) wins");
        assert_eq!(
            a.cells()[0],
            Cell {
                r: 1,
                c: 3,
                colour: 6
            }
        );
        assert!(a.contains(2, 2) && !a.contains(0, 0));
        assert_eq!(a.normalized().bbox(), (0, 0, 1, 1));
        assert_eq!(a.shifted(-5, 0).size(), 0, "shifted off the plane");
        assert_eq!(a.recoloured(1).colour(), 1);
        assert_eq!(Object::empty().to_grid(0), Grid::empty());
        assert_eq!(Object::empty().bbox(), (0, 0, 0, 0));
        assert_eq!(Object::empty().height(), 0);
        let same = Object::new(a.cells().to_vec());
        assert_eq!(a, same);
        assert_eq!(a.hash64(), same.hash64());
    }

    /// The flood fill [`components`] replaced: a stack of positions and a sort per object.
    fn components_by_sorting(grid: &Grid, conn: Connectivity) -> Vec<Object> {
        let (h, w) = grid.shape();
        let bg = grid.most_colour();
        let mut seen = vec![false; h * w];
        let mut out = Vec::new();
        for r0 in 0..h {
            for c0 in 0..w {
                let v0 = grid.at(r0, c0);
                if seen[r0 * w + c0] || (conn.without_bg && v0 == bg) {
                    continue;
                }
                seen[r0 * w + c0] = true;
                let mut stack = vec![(r0, c0)];
                let mut cells = Vec::new();
                while let Some((r, c)) = stack.pop() {
                    cells.push(Cell {
                        r: r as u8,
                        c: c as u8,
                        colour: grid.at(r, c),
                    });
                    for (dr, dc) in NEIGHBOURS_8 {
                        if !conn.diagonal && dr != 0 && dc != 0 {
                            continue;
                        }
                        let (nr, nc) = (r as i32 + dr, c as i32 + dc);
                        if nr < 0 || nc < 0 || nr >= h as i32 || nc >= w as i32 {
                            continue;
                        }
                        let (nr, nc) = (nr as usize, nc as usize);
                        let v = grid.at(nr, nc);
                        let joins = if conn.univalued {
                            v == v0
                        } else {
                            !(conn.without_bg && v == bg)
                        };
                        if joins && !seen[nr * w + nc] {
                            seen[nr * w + nc] = true;
                            stack.push((nr, nc));
                        }
                    }
                }
                out.push(Object::new(cells));
            }
        }
        out
    }

    #[test]
    fn components_agree_with_a_plain_flood_fill_on_random_grids() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut next = |n: u64| rng.random_range(0..n);
        for trial in 0..400 {
            let (h, w) = (1 + next(30) as usize, 1 + next(30) as usize);
            let (colours, density) = (1 + next(9), next(101));
            let cells = (0..h * w)
                .map(|_| {
                    if next(100) < density {
                        next(colours) as u8 + 1
                    } else {
                        0
                    }
                })
                .collect();
            let grid = Grid::from_cells(h, w, cells).unwrap();
            for bits in 0..8 {
                let conn = Connectivity {
                    univalued: bits & 1 != 0,
                    diagonal: bits & 2 != 0,
                    without_bg: bits & 4 != 0,
                };
                assert_eq!(
                    components(&grid, conn),
                    components_by_sorting(&grid, conn),
                    "trial {trial}, {conn:?}"
                );
            }
        }
    }

    #[test]
    fn partition_groups_by_colour() {
        let grid = g(&[&[1, 0, 1], &[0, 2, 0]]);
        assert_eq!(partition(&grid, true).len(), 2);
        assert_eq!(partition(&grid, false).len(), 3);
        assert_eq!(components(&Grid::empty(), UNI4).len(), 0);
    }
}
