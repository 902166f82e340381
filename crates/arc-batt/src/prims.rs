//! The DSL's primitive operations as plain typed functions.
//!
//! Each function is total: on any input of its types it returns a value, the safe empty
//! result (the 0 × 0 grid, the empty object or list, 0) when there is nothing sensible to
//! return (a result larger than 30 × 30, shapes that do not match, an empty selection).
//! "Background" (`bg`) is the grid's most frequent colour where a function says so, and
//! colour 0 ("black", transparent when painting grids over grids) elsewhere, as each
//! function's documentation states. [`crate::dsl`] wraps these functions into the typed
//! primitive table the programs use.

use std::collections::HashMap;

use crate::grid::{COLOURS, Grid, GridBuf, MAX_SIDE};
use crate::object::{
    Cell, Connectivity, Object, components, for_each_component, partition, sort_objects,
};

mod blocks;
pub use blocks::{count_nonzero, dedup, downscale_fg, halves, symmetries, top_left, unrepeat};

/// A key function on objects, for [`argmax`], [`argmin`] and [`filter_eq`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjKey {
    /// Number of cells.
    Size,
    /// Bounding-box height.
    Height,
    /// Bounding-box width.
    Width,
    /// Bounding-box area.
    Area,
    /// Most frequent colour.
    Colour,
    /// Number of distinct colours.
    Colours,
    /// Top row.
    Top,
    /// Left column.
    Left,
    /// Bounding-box cells not in the object (holes and concavities).
    Gaps,
}

impl ObjKey {
    /// Every key, in a fixed order.
    pub const ALL: [Self; 9] = [
        Self::Size,
        Self::Height,
        Self::Width,
        Self::Area,
        Self::Colour,
        Self::Colours,
        Self::Top,
        Self::Left,
        Self::Gaps,
    ];

    /// The key's name in program text.
    pub fn name(self) -> &'static str {
        match self {
            Self::Size => "size",
            Self::Height => "height",
            Self::Width => "width",
            Self::Area => "area",
            Self::Colour => "colour",
            Self::Colours => "colours",
            Self::Top => "top",
            Self::Left => "left",
            Self::Gaps => "gaps",
        }
    }

    /// The key named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The key's value on `o`.
    pub fn of(self, o: &Object) -> i32 {
        let v = match self {
            Self::Size => o.size(),
            Self::Height => o.height(),
            Self::Width => o.width(),
            Self::Area => o.height() * o.width(),
            Self::Colour => usize::from(o.colour()),
            Self::Colours => o.colour_count(),
            Self::Top => o.bbox().0,
            Self::Left => o.bbox().1,
            Self::Gaps => o.height() * o.width() - o.size(),
        };
        v as i32
    }
}

/// A key function on grids, for [`pick_max`] and [`pick_min`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GridKey {
    /// Number of cells.
    Area,
    /// Number of non-zero cells.
    NonZero,
    /// Number of distinct colours.
    Colours,
    /// Number of cells of the grid's least frequent colour.
    Rarest,
    /// Number of symmetries that leave the grid unchanged ([`symmetries`]).
    Symmetries,
}

impl GridKey {
    /// Every key, in a fixed order.
    pub const ALL: [Self; 5] = [
        Self::Area,
        Self::NonZero,
        Self::Colours,
        Self::Rarest,
        Self::Symmetries,
    ];

    /// The key's name in program text.
    pub fn name(self) -> &'static str {
        match self {
            Self::Area => "area",
            Self::NonZero => "nonzero",
            Self::Colours => "colours",
            Self::Rarest => "rarest",
            Self::Symmetries => "symmetries",
        }
    }

    /// The key named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The key's value on `g`.
    pub fn of(self, g: &Grid) -> i32 {
        let v = match self {
            Self::Area => g.area(),
            Self::NonZero => g.cells().iter().filter(|&&c| c != 0).count(),
            Self::Colours => g.colour_mask().count_ones() as usize,
            Self::Rarest => g
                .histogram()
                .iter()
                .filter(|&&n| n > 0)
                .min()
                .map_or(0, |&n| usize::from(n)),
            Self::Symmetries => return symmetries(g),
        };
        v as i32
    }
}

/// A colour substitution: `map[c]` replaces colour `c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColourMap(pub [u8; COLOURS]);

impl ColourMap {
    /// The identity map.
    pub const IDENTITY: Self = Self([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    /// The map's text form, `{1:2,3:4}` (identity entries omitted).
    pub fn text(&self) -> String {
        let parts: Vec<String> = (0..COLOURS)
            .filter(|&c| usize::from(self.0[c]) != c)
            .map(|c| format!("{c}:{}", self.0[c]))
            .collect();
        format!("{{{}}}", parts.join(","))
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Option<Self> {
        let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
        let mut m = Self::IDENTITY;
        for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = part.split_once(':')?;
            let (a, b): (u8, u8) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            if a > 9 || b > 9 {
                return None;
            }
            m.0[usize::from(a)] = b;
        }
        Some(m)
    }
}

fn build(h: usize, w: usize, f: impl Fn(usize, usize) -> u8) -> Grid {
    if h == 0 || w == 0 || h > MAX_SIDE || w > MAX_SIDE {
        return Grid::empty();
    }
    // Built on the stack, then copied once into the grid's shared buffer.
    let mut cells = [0u8; MAX_SIDE * MAX_SIDE];
    for (r, row) in cells[..h * w].chunks_exact_mut(w).enumerate() {
        for (c, out) in row.iter_mut().enumerate() {
            *out = f(r, c);
        }
    }
    Grid::from_slice(h, w, &cells[..h * w])
}

/// The `h × w` grid whose cell `(r, c)` is `g`'s cell `(row(r), col(c))` (empty beyond
/// 30 × 30): [`build`] for index maps, which are evaluated once per row and per column
/// instead of once per cell (scaling and tiling divide by the factor). The maps must stay
/// inside `g`.
fn gather(
    g: &Grid,
    h: usize,
    w: usize,
    row: impl Fn(usize) -> usize,
    col: impl Fn(usize) -> usize,
) -> Grid {
    if h == 0 || w == 0 || h > MAX_SIDE || w > MAX_SIDE {
        return Grid::empty();
    }
    let cols: [usize; MAX_SIDE] = std::array::from_fn(|c| if c < w { col(c) } else { 0 });
    let mut cells = [0u8; MAX_SIDE * MAX_SIDE];
    for (r, out) in cells[..h * w].chunks_exact_mut(w).enumerate() {
        let src = g.row(row(r));
        for (o, &c) in out.iter_mut().zip(&cols) {
            *o = src[c];
        }
    }
    Grid::from_slice(h, w, &cells[..h * w])
}

// ---------------------------------------------------------------- geometry

/// Rotates a quarter turn clockwise.
pub fn rot90(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    build(w, h, |r, c| g.at(h - 1 - c, r))
}

/// Rotates a half turn.
pub fn rot180(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    build(h, w, |r, c| g.at(h - 1 - r, w - 1 - c))
}

/// Rotates a quarter turn anticlockwise.
pub fn rot270(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    build(w, h, |r, c| g.at(c, w - 1 - r))
}

/// Mirrors left to right (each row reversed).
pub fn flip_h(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    build(h, w, |r, c| g.at(r, w - 1 - c))
}

/// Mirrors top to bottom (the rows reversed).
pub fn flip_v(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    build(h, w, |r, c| g.at(h - 1 - r, c))
}

/// Mirrors along the main diagonal.
pub fn transpose(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    build(w, h, |r, c| g.at(c, r))
}

/// Mirrors along the anti-diagonal.
pub fn antitranspose(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    build(w, h, |r, c| g.at(h - 1 - c, w - 1 - r))
}

// ---------------------------------------------------------------- cropping

/// The part of `g` from row `top`, column `left`, `h` × `w` cells (clipped to the grid; empty
/// when nothing is left).
pub fn crop(g: &Grid, top: usize, left: usize, h: usize, w: usize) -> Grid {
    let (gh, gw) = g.shape();
    if top >= gh || left >= gw {
        return Grid::empty();
    }
    let (h, w) = (h.min(gh - top), w.min(gw - left));
    build(h, w, |r, c| g.at(top + r, left + c))
}

fn bbox_where(g: &Grid, keep: impl Fn(u8) -> bool) -> Option<(usize, usize, usize, usize)> {
    let (h, w) = g.shape();
    let (mut t, mut l, mut b, mut rr) = (usize::MAX, usize::MAX, 0, 0);
    for r in 0..h {
        for c in 0..w {
            if keep(g.at(r, c)) {
                t = t.min(r);
                b = b.max(r);
                l = l.min(c);
                rr = rr.max(c);
            }
        }
    }
    (t != usize::MAX).then_some((t, l, b, rr))
}

/// Crops to the bounding box of the cells that are not the background (most frequent
/// colour); empty when every cell is background.
pub fn trim(g: &Grid) -> Grid {
    let bg = g.most_colour();
    match bbox_where(g, |c| c != bg) {
        Some((t, l, b, r)) => crop(g, t, l, b - t + 1, r - l + 1),
        None => Grid::empty(),
    }
}

/// Crops to the bounding box of the non-zero cells; empty when every cell is 0.
pub fn crop_nonzero(g: &Grid) -> Grid {
    match bbox_where(g, |c| c != 0) {
        Some((t, l, b, r)) => crop(g, t, l, b - t + 1, r - l + 1),
        None => Grid::empty(),
    }
}

/// Crops to the bounding box of the cells of `colour`; empty when there are none.
pub fn crop_colour(g: &Grid, colour: u8) -> Grid {
    match bbox_where(g, |c| c == colour) {
        Some((t, l, b, r)) => crop(g, t, l, b - t + 1, r - l + 1),
        None => Grid::empty(),
    }
}

/// Removes every row and every column that is a single colour throughout (Hodel's
/// `compress`); empty when nothing is left.
pub fn compress(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    let rows: Vec<usize> = (0..h)
        .filter(|&r| g.row(r).iter().any(|&c| c != g.at(r, 0)))
        .collect();
    let cols: Vec<usize> = (0..w)
        .filter(|&c| (0..h).any(|r| g.at(r, c) != g.at(0, c)))
        .collect();
    build(rows.len(), cols.len(), |r, c| g.at(rows[r], cols[c]))
}

/// The top half (`h / 2` rows; the middle row of an odd height is left out).
pub fn top_half(g: &Grid) -> Grid {
    crop(g, 0, 0, g.height() / 2, g.width())
}

/// The bottom half (`h / 2` rows).
pub fn bottom_half(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    crop(g, h - h / 2, 0, h / 2, w)
}

/// The left half (`w / 2` columns).
pub fn left_half(g: &Grid) -> Grid {
    crop(g, 0, 0, g.height(), g.width() / 2)
}

/// The right half (`w / 2` columns).
pub fn right_half(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    crop(g, 0, w - w / 2, h, w / 2)
}

/// Removes a one-cell frame from every side.
pub fn shrink(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    if h < 3 || w < 3 {
        return Grid::empty();
    }
    crop(g, 1, 1, h - 2, w - 2)
}

/// Adds a one-cell frame of `colour` around the grid.
pub fn pad(g: &Grid, colour: u8) -> Grid {
    let (h, w) = g.shape();
    if h == 0 {
        return Grid::empty();
    }
    build(h + 2, w + 2, |r, c| {
        if r == 0 || c == 0 || r == h + 1 || c == w + 1 {
            colour
        } else {
            g.at(r - 1, c - 1)
        }
    })
}

// ---------------------------------------------------------------- scaling and tiling

fn factor(k: i32) -> Option<usize> {
    (1..=MAX_SIDE as i32).contains(&k).then_some(k as usize)
}

/// Each cell becomes a `k × k` block.
pub fn upscale(g: &Grid, k: i32) -> Grid {
    let Some(k) = factor(k) else {
        return Grid::empty();
    };
    let (h, w) = g.shape();
    gather(g, h * k, w * k, |r| r / k, |c| c / k)
}

/// Each cell becomes `k` cells side by side.
pub fn hupscale(g: &Grid, k: i32) -> Grid {
    let Some(k) = factor(k) else {
        return Grid::empty();
    };
    let (h, w) = g.shape();
    gather(g, h, w * k, |r| r, |c| c / k)
}

/// Each cell becomes `k` cells stacked.
pub fn vupscale(g: &Grid, k: i32) -> Grid {
    let Some(k) = factor(k) else {
        return Grid::empty();
    };
    let (h, w) = g.shape();
    gather(g, h * k, w, |r| r / k, |c| c)
}

/// Keeps the top-left cell of every `k × k` block (the inverse of [`upscale`]); empty when
/// the sides are not multiples of `k`.
pub fn downscale(g: &Grid, k: i32) -> Grid {
    let Some(k) = factor(k) else {
        return Grid::empty();
    };
    let (h, w) = g.shape();
    if !h.is_multiple_of(k) || !w.is_multiple_of(k) {
        return Grid::empty();
    }
    gather(g, h / k, w / k, |r| r * k, |c| c * k)
}

/// `rows × cols` copies of the grid.
pub fn tile(g: &Grid, rows: i32, cols: i32) -> Grid {
    let (Some(a), Some(b)) = (factor(rows), factor(cols)) else {
        return Grid::empty();
    };
    let (h, w) = g.shape();
    gather(g, h * a, w * b, |r| r % h, |c| c % w)
}

/// `a` and `b` side by side; empty when their heights differ.
pub fn hconcat(a: &Grid, b: &Grid) -> Grid {
    if a.height() != b.height() || a.is_empty() {
        return Grid::empty();
    }
    let wa = a.width();
    build(a.height(), wa + b.width(), |r, c| {
        if c < wa { a.at(r, c) } else { b.at(r, c - wa) }
    })
}

/// `a` above `b`; empty when their widths differ.
pub fn vconcat(a: &Grid, b: &Grid) -> Grid {
    if a.width() != b.width() || a.is_empty() {
        return Grid::empty();
    }
    let ha = a.height();
    build(ha + b.height(), a.width(), |r, c| {
        if r < ha { a.at(r, c) } else { b.at(r - ha, c) }
    })
}

/// A grid of `colour`, `h × w` (empty outside 1–30).
pub fn canvas(colour: u8, h: i32, w: i32) -> Grid {
    match (factor(h), factor(w)) {
        (Some(h), Some(w)) => Grid::filled(h, w, colour),
        _ => Grid::empty(),
    }
}

// ---------------------------------------------------------------- colours

/// Keeps the cells of `colour`; every other cell becomes 0.
pub fn filter_colour(g: &Grid, colour: u8) -> Grid {
    map_cells(g, |c| if c == colour { c } else { 0 })
}

/// Cells of `colour` become 0.
pub fn erase_colour(g: &Grid, colour: u8) -> Grid {
    map_cells(g, |c| if c == colour { 0 } else { c })
}

/// Every non-zero cell becomes `colour`.
pub fn colour_all(g: &Grid, colour: u8) -> Grid {
    map_cells(g, |c| if c != 0 { colour } else { 0 })
}

/// Cells of `from` become `to`.
pub fn replace(g: &Grid, from: u8, to: u8) -> Grid {
    map_cells(g, |c| if c == from { to } else { c })
}

/// Exchanges colours `a` and `b`.
pub fn swap(g: &Grid, a: u8, b: u8) -> Grid {
    map_cells(g, |c| {
        if c == a {
            b
        } else if c == b {
            a
        } else {
            c
        }
    })
}

/// Applies a colour substitution to every cell.
pub fn remap(g: &Grid, m: &ColourMap) -> Grid {
    map_cells(g, |c| m.0[usize::from(c)])
}

fn map_cells(g: &Grid, f: impl Fn(u8) -> u8) -> Grid {
    let mut cells = [0u8; MAX_SIDE * MAX_SIDE];
    for (out, &c) in cells.iter_mut().zip(g.cells()) {
        *out = f(c).min(9);
    }
    Grid::from_slice(g.height(), g.width(), &cells[..g.area()])
}

/// The most frequent colour (ties to the smallest).
pub fn most_colour(g: &Grid) -> u8 {
    g.most_colour()
}

/// The least frequent colour present (ties to the smallest); 0 for the empty grid.
pub fn least_colour(g: &Grid) -> u8 {
    let h = g.histogram();
    (0..COLOURS)
        .filter(|&c| h[c] > 0)
        .min_by_key(|&c| h[c])
        .map_or(0, |c| c as u8)
}

/// The most frequent colour other than the background (most frequent) one; the background
/// when the grid has one colour.
pub fn main_colour(g: &Grid) -> u8 {
    let h = g.histogram();
    let bg = usize::from(g.most_colour());
    (0..COLOURS)
        .filter(|&c| c != bg && h[c] > 0)
        .max_by_key(|&c| (h[c], std::cmp::Reverse(c)))
        .map_or(bg as u8, |c| c as u8)
}

/// Number of distinct colours.
pub fn colour_count(g: &Grid) -> i32 {
    g.colour_mask().count_ones() as i32
}

/// Number of cells of `colour`.
pub fn count_colour(g: &Grid, colour: u8) -> i32 {
    g.cells().iter().filter(|&&c| c == colour).count() as i32
}

// ---------------------------------------------------------------- physics and filling

/// Moves every non-background cell (bg = most frequent colour) as far as it goes in
/// direction `dir` (0 down, 1 up, 2 left, 3 right), keeping the order along each line; other
/// directions leave the grid unchanged.
pub fn gravity(g: &Grid, dir: i32) -> Grid {
    let (h, w) = g.shape();
    if !(0..4).contains(&dir) || h == 0 {
        return g.clone();
    }
    let bg = g.most_colour();
    let mut b = GridBuf::new(h, w, bg);
    let vertical = dir < 2;
    let (lines, len) = if vertical { (w, h) } else { (h, w) };
    for line in 0..lines {
        let at = |i: usize| if vertical { (i, line) } else { (line, i) };
        let vals: Vec<u8> = (0..len)
            .map(|i| {
                let (r, c) = at(i);
                g.at(r, c)
            })
            .filter(|&v| v != bg)
            .collect();
        let toward_end = dir == 0 || dir == 3;
        for (k, &v) in vals.iter().enumerate() {
            let i = if toward_end { len - vals.len() + k } else { k };
            let (r, c) = at(i);
            b.set(r, c, v);
        }
    }
    b.freeze()
}

/// Background cells (most frequent colour) that cannot reach the border through background
/// cells (4-connected) become `colour`.
pub fn fill_enclosed(g: &Grid, colour: u8) -> Grid {
    let (h, w) = g.shape();
    if h == 0 {
        return Grid::empty();
    }
    let bg = g.most_colour();
    let outside = reach_from_border(g, |c| c == bg);
    let mut b = g.to_buf();
    for r in 0..h {
        for c in 0..w {
            if g.at(r, c) == bg && !outside[r * w + c] {
                b.set(r, c, colour);
            }
        }
    }
    b.freeze()
}

fn reach_from_border(g: &Grid, pass: impl Fn(u8) -> bool) -> [bool; MAX_SIDE * MAX_SIDE] {
    let (h, w) = g.shape();
    let cells = g.cells();
    // Each cell is pushed at most once: the stack never holds more than h w indices.
    let mut seen = [false; MAX_SIDE * MAX_SIDE];
    let mut stack = [0u16; MAX_SIDE * MAX_SIDE];
    let mut top = 0;
    for r in 0..h {
        for c in 0..w {
            if (r == 0 || c == 0 || r == h - 1 || c == w - 1) && pass(cells[r * w + c]) {
                seen[r * w + c] = true;
                stack[top] = (r * w + c) as u16;
                top += 1;
            }
        }
    }
    while top > 0 {
        top -= 1;
        let i = usize::from(stack[top]);
        let (r, c) = (i / w, i % w);
        let mut visit = |j: usize| {
            if !seen[j] && pass(cells[j]) {
                seen[j] = true;
                stack[top] = j as u16;
                top += 1;
            }
        };
        if r > 0 {
            visit(i - w);
        }
        if r + 1 < h {
            visit(i + w);
        }
        if c > 0 {
            visit(i - 1);
        }
        if c + 1 < w {
            visit(i + 1);
        }
    }
    seen
}

/// Background cells (most frequent colour) next to a non-background cell become `colour`;
/// `diagonal` counts the 8 neighbours, otherwise the 4 orthogonal ones.
pub fn outline(g: &Grid, colour: u8, diagonal: bool) -> Grid {
    let (h, w) = g.shape();
    let bg = g.most_colour();
    let mut b = g.to_buf();
    // Neighbours from a padded copy: its frame (10) is neither a colour nor the background.
    let p = Padded::new(g);
    let bg64 = u64::from(bg);
    for r in 0..h {
        for c in 0..w {
            if g.at(r, c) != bg {
                continue;
            }
            let n = p.neighbours(r, c);
            let k = if diagonal { 8 } else { 4 };
            let touches = n[..k].iter().any(|&v| v != 10 && v != bg64);
            if touches {
                b.set(r, c, colour);
            }
        }
    }
    b.freeze()
}

/// Inside each object (multi-coloured, 8-connected, without background), background cells
/// of its bounding box become `colour`.
pub fn fill_bbox(g: &Grid, colour: u8) -> Grid {
    let bg = g.most_colour();
    let mut b = g.to_buf();
    // Only the components' bounding boxes matter: no objects are built.
    let mut boxes = Vec::new();
    for_each_component(g, MULTI8, |cells| boxes.push(crate::object::bbox_of(cells)));
    for (t, l, bo, r) in boxes {
        for rr in t..=bo {
            for cc in l..=r {
                if g.at(rr, cc) == bg {
                    b.set(rr, cc, colour);
                }
            }
        }
    }
    b.freeze()
}

/// Extends every non-background cell's colour over background cells (bg = most frequent
/// colour) in direction `dir` until the next non-background cell: 0 right, 1 left, 2 down,
/// 3 up, 4 both horizontal ways, 5 both vertical ways, 6 all four. Other values leave the grid
/// unchanged.
pub fn smear(g: &Grid, dir: i32) -> Grid {
    let (h, w) = g.shape();
    if h == 0 || !(0..7).contains(&dir) {
        return g.clone();
    }
    let bg = g.most_colour();
    let mut b = g.to_buf();
    let pass = |b: &mut GridBuf, d: i32| {
        let vertical = d >= 2;
        let reverse = d == 1 || d == 3;
        let (lines, len) = if vertical { (w, h) } else { (h, w) };
        for line in 0..lines {
            let mut carry = None;
            for k in 0..len {
                let i = if reverse { len - 1 - k } else { k };
                let (r, c) = if vertical { (i, line) } else { (line, i) };
                let v = g.at(r, c);
                if v != bg {
                    carry = Some(v);
                } else if let Some(cv) = carry
                    && b.get(r, c) == Some(bg)
                {
                    b.set(r, c, cv);
                }
            }
        }
    };
    match dir {
        0..=3 => pass(&mut b, dir),
        4 => {
            pass(&mut b, 0);
            pass(&mut b, 1);
        }
        5 => {
            pass(&mut b, 2);
            pass(&mut b, 3);
        }
        _ => {
            for d in 0..4 {
                pass(&mut b, d);
            }
        }
    }
    b.freeze()
}

/// Fills the background cells (bg = most frequent colour) between two cells of the same
/// colour on one row or one column with that colour.
pub fn connect(g: &Grid) -> Grid {
    let (h, w) = g.shape();
    let bg = g.most_colour();
    let mut b = g.to_buf();
    for r in 0..h {
        let mut last: Option<(usize, u8)> = None;
        for c in 0..w {
            let v = g.at(r, c);
            if v == bg {
                continue;
            }
            if let Some((lc, lv)) = last
                && lv == v
            {
                for k in lc + 1..c {
                    b.set(r, k, v);
                }
            }
            last = Some((c, v));
        }
    }
    for c in 0..w {
        let mut last: Option<(usize, u8)> = None;
        for r in 0..h {
            let v = g.at(r, c);
            if v == bg {
                continue;
            }
            if let Some((lr, lv)) = last
                && lv == v
            {
                for k in lr + 1..r {
                    if g.at(k, c) == bg {
                        b.set(k, c, v);
                    }
                }
            }
            last = Some((r, v));
        }
    }
    b.freeze()
}

/// The grid's images under the symmetries `kind` selects, laid over its background cells
/// (most frequent colour): 0 left-right, 1 top-bottom, 2 half turn, 3 both mirrors and the
/// half turn, 4 the main diagonal (square grids). Other values leave the grid unchanged.
pub fn symmetrize(g: &Grid, kind: i32) -> Grid {
    let (h, w) = g.shape();
    let images: Vec<Grid> = match kind {
        0 => vec![flip_h(g)],
        1 => vec![flip_v(g)],
        2 => vec![rot180(g)],
        3 => vec![flip_h(g), flip_v(g), rot180(g)],
        4 if h == w => vec![transpose(g)],
        _ => return g.clone(),
    };
    let bg = g.most_colour();
    let mut b = g.to_buf();
    for r in 0..h {
        for c in 0..w {
            if g.at(r, c) == bg
                && let Some(v) = images.iter().map(|im| im.at(r, c)).find(|&v| v != bg)
            {
                b.set(r, c, v);
            }
        }
    }
    b.freeze()
}

/// Treats the cells of `hole` as unknown and fills each from its images under the grid's
/// symmetries (mirrors, half turn, diagonals of square grids) that agree on every known cell.
/// Cells no symmetry determines keep `hole`.
pub fn fill_sym(g: &Grid, hole: u8) -> Grid {
    let (h, w) = g.shape();
    if h == 0 {
        return Grid::empty();
    }
    if !g.cells().contains(&hole) {
        // Nothing to fill: the result equals the grid whichever symmetries hold.
        return g.clone();
    }
    type Map = fn(usize, usize, usize, usize) -> (usize, usize);
    let mut maps: Vec<Map> = vec![
        |r, c, _h, w| (r, w - 1 - c),
        |r, c, h, _w| (h - 1 - r, c),
        |r, c, h, w| (h - 1 - r, w - 1 - c),
    ];
    if h == w {
        maps.push(|r, c, _h, _w| (c, r));
        maps.push(|r, c, h, w| (w - 1 - c, h - 1 - r));
    }
    let consistent: Vec<Map> = maps
        .into_iter()
        .filter(|m| {
            (0..h).all(|r| {
                (0..w).all(|c| {
                    let (a, b) = (g.at(r, c), {
                        let (rr, cc) = m(r, c, h, w);
                        g.at(rr, cc)
                    });
                    a == hole || b == hole || a == b
                })
            })
        })
        .collect();
    if consistent.is_empty() {
        return g.clone();
    }
    let mut b = g.to_buf();
    // Propagate until nothing changes (two symmetries may be needed in turn).
    for _ in 0..4 {
        let mut changed = false;
        for r in 0..h {
            for c in 0..w {
                if b.get(r, c) != Some(hole) {
                    continue;
                }
                for m in &consistent {
                    let (rr, cc) = m(r, c, h, w);
                    if let Some(v) = b.get(rr, cc)
                        && v != hole
                    {
                        b.set(r, c, v);
                        changed = true;
                        break;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    b.freeze()
}

/// Objects (single-coloured, 4-connected, without background) of at most `k` cells become
/// background (most frequent colour).
pub fn denoise(g: &Grid, k: i32) -> Grid {
    let bg = g.most_colour();
    let mut b = g.to_buf();
    for_each_component(g, UNI4, |cells| {
        if cells.len() as i32 <= k {
            for x in cells {
                b.set(usize::from(x.r), usize::from(x.c), bg);
            }
        }
    });
    b.freeze()
}

/// A frame of `colour` drawn on the outermost cells.
pub fn frame(g: &Grid, colour: u8) -> Grid {
    let (h, w) = g.shape();
    build(h, w, |r, c| {
        if r == 0 || c == 0 || r == h - 1 || c == w - 1 {
            colour
        } else {
            g.at(r, c)
        }
    })
}

// ---------------------------------------------------------------- grids over grids

/// `b`'s non-zero cells painted over `a`; empty when the shapes differ.
pub fn overlay(a: &Grid, b: &Grid) -> Grid {
    if a.shape() != b.shape() {
        return Grid::empty();
    }
    let cells = a
        .cells()
        .iter()
        .zip(b.cells())
        .map(|(&x, &y)| if y != 0 { y } else { x })
        .collect();
    Grid::from_parts(a.height(), a.width(), cells)
}

fn cellwise(a: &Grid, b: &Grid, colour: u8, f: impl Fn(bool, bool) -> bool) -> Grid {
    if a.shape() != b.shape() {
        return Grid::empty();
    }
    let cells = a
        .cells()
        .iter()
        .zip(b.cells())
        .map(|(&x, &y)| if f(x != 0, y != 0) { colour } else { 0 })
        .collect();
    Grid::from_parts(a.height(), a.width(), cells)
}

/// `colour` where both grids are non-zero, 0 elsewhere; empty when the shapes differ.
pub fn cell_and(a: &Grid, b: &Grid, colour: u8) -> Grid {
    cellwise(a, b, colour, |x, y| x && y)
}

/// `colour` where either grid is non-zero.
pub fn cell_or(a: &Grid, b: &Grid, colour: u8) -> Grid {
    cellwise(a, b, colour, |x, y| x || y)
}

/// `colour` where exactly one grid is non-zero.
pub fn cell_xor(a: &Grid, b: &Grid, colour: u8) -> Grid {
    cellwise(a, b, colour, |x, y| x != y)
}

/// `colour` where both grids are zero.
pub fn cell_nor(a: &Grid, b: &Grid, colour: u8) -> Grid {
    cellwise(a, b, colour, |x, y| !x && !y)
}

/// `colour` where `a` is non-zero and `b` is zero.
pub fn cell_diff(a: &Grid, b: &Grid, colour: u8) -> Grid {
    cellwise(a, b, colour, |x, y| x && !y)
}

// ---------------------------------------------------------------- objects

/// The connectivity of [`components`] used by several grid functions: multi-coloured,
/// 8-connected, without background.
pub const MULTI8: Connectivity = Connectivity {
    univalued: false,
    diagonal: true,
    without_bg: true,
};

/// Single-coloured, 4-connected, without background.
pub const UNI4: Connectivity = Connectivity {
    univalued: true,
    diagonal: false,
    without_bg: true,
};

/// The grid's objects (Hodel's `objects`): connected components of cells, single-coloured when
/// `univalued`, 8-connected when `diagonal`, background (most frequent colour) excluded when
/// `without_bg`; in canonical order.
pub fn objects(g: &Grid, univalued: bool, diagonal: bool, without_bg: bool) -> Vec<Object> {
    components(
        g,
        Connectivity {
            univalued,
            diagonal,
            without_bg,
        },
    )
}

/// One object per non-background colour (all cells of that colour).
pub fn fg_partition(g: &Grid) -> Vec<Object> {
    partition(g, true)
}

/// The cells of `colour` as one object.
pub fn colour_cells(g: &Grid, colour: u8) -> Object {
    let mut cells = Vec::new();
    for r in 0..g.height() {
        for (c, &v) in g.row(r).iter().enumerate() {
            if v == colour {
                cells.push(Cell {
                    r: r as u8,
                    c: c as u8,
                    colour: v,
                });
            }
        }
    }
    Object::new(cells)
}

/// The first item (in the given order) whose key is strictly better than every earlier one's.
fn extreme<T>(items: &[T], key: impl Fn(&T) -> i32, better: fn(i32, i32) -> bool) -> Option<&T> {
    let mut best: Option<(&T, i32)> = None;
    for x in items {
        let k = key(x);
        if best.is_none_or(|(_, bk)| better(k, bk)) {
            best = Some((x, k));
        }
    }
    best.map(|(x, _)| x)
}

/// The object with the largest key (the first in canonical order on ties); empty for no
/// objects.
pub fn argmax(objs: &[Object], key: ObjKey) -> Object {
    extreme(objs, |o| key.of(o), |a, b| a > b).map_or_else(Object::empty, Object::clone)
}

/// The object with the smallest key (the first in canonical order on ties).
pub fn argmin(objs: &[Object], key: ObjKey) -> Object {
    extreme(objs, |o| key.of(o), |a, b| a < b).map_or_else(Object::empty, Object::clone)
}

/// The objects whose key equals `value`.
pub fn filter_eq(objs: &[Object], key: ObjKey, value: i32) -> Vec<Object> {
    objs.iter()
        .filter(|o| key.of(o) == value)
        .cloned()
        .collect()
}

/// The objects whose key differs from `value`.
pub fn filter_ne(objs: &[Object], key: ObjKey, value: i32) -> Vec<Object> {
    objs.iter()
        .filter(|o| key.of(o) != value)
        .cloned()
        .collect()
}

/// The objects whose key value is shared by no other object (for example the one object of
/// a unique colour or size).
pub fn unique_by(objs: &[Object], key: ObjKey) -> Vec<Object> {
    let keys: Vec<i32> = objs.iter().map(|o| key.of(o)).collect();
    objs.iter()
        .zip(&keys)
        .filter(|&(_, k)| keys.iter().filter(|&&x| x == *k).count() == 1)
        .map(|(o, _)| o.clone())
        .collect()
}

/// Every object but `o`.
pub fn remove(objs: &[Object], o: &Object) -> Vec<Object> {
    objs.iter().filter(|x| *x != o).cloned().collect()
}

/// All the objects' cells as one object (later objects win shared positions).
pub fn merge(objs: &[Object]) -> Object {
    Object::new(
        objs.iter()
            .flat_map(|o| o.cells().iter().copied())
            .collect(),
    )
}

/// The first object in canonical order, or the empty object.
pub fn first(objs: &[Object]) -> Object {
    objs.first().cloned().unwrap_or_else(Object::empty)
}

/// The last object in canonical order, or the empty object.
pub fn last(objs: &[Object]) -> Object {
    objs.last().cloned().unwrap_or_else(Object::empty)
}

/// Every object recoloured to `colour`.
pub fn recolour_objs(objs: &[Object], colour: u8) -> Vec<Object> {
    let mut v: Vec<Object> = objs.iter().map(|o| o.recoloured(colour)).collect();
    sort_objects(&mut v);
    v
}

/// The object's cells drawn on `g` (cells outside the grid are skipped).
pub fn paint(g: &Grid, o: &Object) -> Grid {
    let mut b = g.to_buf();
    for x in o.cells() {
        b.set(usize::from(x.r), usize::from(x.c), x.colour);
    }
    b.freeze()
}

/// Every object drawn on `g`, in canonical order.
pub fn paint_all(g: &Grid, objs: &[Object]) -> Grid {
    let mut b = g.to_buf();
    for o in objs {
        for x in o.cells() {
            b.set(usize::from(x.r), usize::from(x.c), x.colour);
        }
    }
    b.freeze()
}

/// The object's cells set to the background (most frequent colour of `g`).
pub fn cover(g: &Grid, o: &Object) -> Grid {
    let bg = g.most_colour();
    let mut b = g.to_buf();
    for x in o.cells() {
        b.set(usize::from(x.r), usize::from(x.c), bg);
    }
    b.freeze()
}

/// The part of `g` under the object's bounding box (empty for the empty object).
pub fn subgrid(o: &Object, g: &Grid) -> Grid {
    if o.is_empty() {
        return Grid::empty();
    }
    let (t, l, _, _) = o.bbox();
    crop(g, t, l, o.height(), o.width())
}

/// The object alone on a 0 canvas the size of its bounding box.
pub fn obj_grid(o: &Object) -> Grid {
    o.to_grid(0)
}

/// Background cells of the object's bounding box in `g` become `colour`.
pub fn fill_obj_bbox(g: &Grid, o: &Object, colour: u8) -> Grid {
    if o.is_empty() {
        return g.clone();
    }
    let bg = g.most_colour();
    let (t, l, bo, r) = o.bbox();
    let mut b = g.to_buf();
    for rr in t..=bo {
        for cc in l..=r {
            if g.get(rr, cc) == Some(bg) {
                b.set(rr, cc, colour);
            }
        }
    }
    b.freeze()
}

/// The object moved by `(dr, dc)` cells.
pub fn shift(o: &Object, dr: i32, dc: i32) -> Object {
    o.shifted(dr.clamp(-30, 30), dc.clamp(-30, 30))
}

/// Each object moved in direction `dir` (0 down, 1 up, 2 left, 3 right) until it touches the
/// grid's edge or a non-background cell of another object, the objects moved in order of
/// nearness to that edge.
pub fn slide_objs(g: &Grid, dir: i32) -> Grid {
    if !(0..4).contains(&dir) || g.is_empty() {
        return g.clone();
    }
    let (dr, dc) = [(1, 0), (-1, 0), (0, -1), (0, 1)][dir as usize];
    let bg = g.most_colour();
    let mut objs = components(g, MULTI8);
    objs.sort_by_key(|o| {
        let (t, l, b, r) = o.bbox();
        match dir {
            0 => -(b as i32),
            1 => t as i32,
            2 => l as i32,
            _ => -(r as i32),
        }
    });
    let mut b = GridBuf::new(g.height(), g.width(), bg);
    // The position of cell `x` after `k` steps, if it is still on the grid (a step that takes
    // a cell off the grid or the 30 x 30 plane, or onto a cell already drawn, is blocked).
    let moved = |x: &Cell, k: i32| {
        let (r, c) = (i32::from(x.r) + k * dr, i32::from(x.c) + k * dc);
        (r >= 0 && c >= 0).then_some((r as usize, c as usize))
    };
    for o in objs {
        let mut k = 0;
        while o.cells().iter().all(|x| {
            moved(x, k + 1)
                .is_some_and(|(r, c)| r < MAX_SIDE && c < MAX_SIDE && b.get(r, c) == Some(bg))
        }) {
            k += 1;
        }
        for x in o.cells() {
            if let Some((r, c)) = moved(x, k) {
                b.set(r, c, x.colour);
            }
        }
    }
    b.freeze()
}

// ---------------------------------------------------------------- lists of grids

/// Splits the grid along full rows and columns of one separator colour (the colour that
/// fills the most complete rows and columns, when it is not the only colour); the pieces in
/// reading order. Empty when there is no separator.
pub fn split_lines(g: &Grid) -> Vec<Grid> {
    let (h, w) = g.shape();
    if h == 0 {
        return Vec::new();
    }
    let full_row = |r: usize, c0: u8| g.row(r).iter().all(|&v| v == c0);
    let full_col = |c: usize, c0: u8| (0..h).all(|r| g.at(r, c) == c0);
    let mut counts = [0usize; COLOURS];
    for r in 0..h {
        if full_row(r, g.at(r, 0)) {
            counts[usize::from(g.at(r, 0))] += 1;
        }
    }
    for c in 0..w {
        if full_col(c, g.at(0, c)) {
            counts[usize::from(g.at(0, c))] += 1;
        }
    }
    let Some(sep) = (0..COLOURS)
        .filter(|&c| counts[c] > 0)
        .max_by_key(|&c| counts[c])
    else {
        return Vec::new();
    };
    let sep = sep as u8;
    if g.colour_mask() == 1 << sep {
        return Vec::new();
    }
    let bands = |n: usize, is_sep: &dyn Fn(usize) -> bool| {
        let mut out = Vec::new();
        let mut start = None;
        for i in 0..=n {
            if i == n || is_sep(i) {
                if let Some(s) = start.take() {
                    out.push((s, i - s));
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        out
    };
    let rows = bands(h, &|r| full_row(r, sep));
    let cols = bands(w, &|c| full_col(c, sep));
    if rows.len() * cols.len() <= 1 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for &(r0, rh) in &rows {
        for &(c0, cw) in &cols {
            out.push(crop(g, r0, c0, rh, cw));
        }
    }
    out
}

/// `n` equal parts side by side (with or without one-cell separators between them); empty
/// when the width does not divide.
pub fn hsplit(g: &Grid, n: i32) -> Vec<Grid> {
    split_even(g, n, false)
}

/// `n` equal parts stacked (with or without one-cell separators between them).
pub fn vsplit(g: &Grid, n: i32) -> Vec<Grid> {
    split_even(g, n, true)
}

fn split_even(g: &Grid, n: i32, vertical: bool) -> Vec<Grid> {
    let (h, w) = g.shape();
    let len = if vertical { h } else { w };
    if !(2..=MAX_SIDE as i32).contains(&n) || len == 0 {
        return Vec::new();
    }
    let n = n as usize;
    let (part, gap) = if len.is_multiple_of(n) {
        (len / n, 0)
    } else if len >= n - 1 && (len - (n - 1)).is_multiple_of(n) {
        ((len - (n - 1)) / n, 1)
    } else {
        return Vec::new();
    };
    if part == 0 {
        return Vec::new();
    }
    (0..n)
        .map(|i| {
            let s = i * (part + gap);
            if vertical {
                crop(g, s, 0, part, w)
            } else {
                crop(g, 0, s, h, part)
            }
        })
        .collect()
}

/// Each object's part of `g` (its bounding box).
pub fn obj_grids(objs: &[Object], g: &Grid) -> Vec<Grid> {
    objs.iter().map(|o| subgrid(o, g)).collect()
}

/// Each object alone on a 0 canvas the size of its bounding box.
pub fn obj_shapes(objs: &[Object]) -> Vec<Grid> {
    objs.iter().map(Object::to_grid_zero).collect()
}

/// The grid with the largest key (the first on ties); empty for no grids.
pub fn pick_max(gs: &[Grid], key: GridKey) -> Grid {
    extreme(gs, |g| key.of(g), |a, b| a > b).map_or_else(Grid::empty, Grid::clone)
}

/// The grid with the smallest key (the first on ties).
pub fn pick_min(gs: &[Grid], key: GridKey) -> Grid {
    extreme(gs, |g| key.of(g), |a, b| a < b).map_or_else(Grid::empty, Grid::clone)
}

/// The odd one out: the only grid whose value, else whose non-zero pattern, else whose
/// colour set, occurs once while the others repeat; empty when none is unique.
pub fn pick_unique(gs: &[Grid]) -> Grid {
    fn unique_by<K: Eq + std::hash::Hash>(gs: &[Grid], key: impl Fn(&Grid) -> K) -> Option<Grid> {
        if gs.len() < 3 {
            return None;
        }
        let keys: Vec<K> = gs.iter().map(&key).collect();
        let mut counts: HashMap<&K, usize> = HashMap::new();
        for k in &keys {
            *counts.entry(k).or_default() += 1;
        }
        let singles: Vec<usize> = (0..gs.len()).filter(|&i| counts[&keys[i]] == 1).collect();
        (singles.len() == 1).then(|| gs[singles[0]].clone())
    }
    unique_by(gs, Grid::clone)
        .or_else(|| {
            unique_by(gs, |g| {
                (
                    g.shape(),
                    g.cells().iter().map(|&c| c != 0).collect::<Vec<bool>>(),
                )
            })
        })
        .or_else(|| unique_by(gs, Grid::colour_mask))
        .unwrap_or_else(Grid::empty)
}

/// The grid value that occurs most often (the first on ties); empty for no grids.
pub fn pick_common(gs: &[Grid]) -> Grid {
    let mut best: Option<(&Grid, usize)> = None;
    for g in gs {
        let n = gs.iter().filter(|x| *x == g).count();
        if best.is_none_or(|(_, bn)| n > bn) {
            best = Some((g, n));
        }
    }
    best.map_or_else(Grid::empty, |(g, _)| g.clone())
}

/// Grid `i` (counted from 0; negative counts from the end); empty outside.
pub fn nth(gs: &[Grid], i: i32) -> Grid {
    let n = gs.len() as i32;
    let k = if i < 0 { n + i } else { i };
    if (0..n).contains(&k) {
        gs[k as usize].clone()
    } else {
        Grid::empty()
    }
}

/// The grids painted over each other in order (non-zero cells win); empty unless all have
/// one shape.
pub fn overlay_all(gs: &[Grid]) -> Grid {
    let Some(first) = gs.first() else {
        return Grid::empty();
    };
    let mut acc = first.clone();
    for g in &gs[1..] {
        acc = overlay(&acc, g);
        if acc.is_empty() {
            return acc;
        }
    }
    acc
}

/// The cell-wise most frequent colour over grids of one shape (ties to the smallest); empty
/// unless all have one shape.
pub fn majority(gs: &[Grid]) -> Grid {
    let Some(first) = gs.first() else {
        return Grid::empty();
    };
    if gs.iter().any(|g| g.shape() != first.shape()) {
        return Grid::empty();
    }
    let cells = (0..first.area())
        .map(|i| {
            let mut h = [0u16; COLOURS];
            for g in gs {
                h[usize::from(g.cells()[i])] += 1;
            }
            (0..COLOURS)
                .max_by_key(|&c| (h[c], std::cmp::Reverse(c)))
                .unwrap_or(0) as u8
        })
        .collect();
    Grid::from_parts(first.height(), first.width(), cells)
}

/// The grids side by side (empty unless all have one height).
pub fn stack_h(gs: &[Grid]) -> Grid {
    let Some(first) = gs.first() else {
        return Grid::empty();
    };
    gs[1..]
        .iter()
        .fold(first.clone(), |acc, g| hconcat(&acc, g))
}

/// The grids stacked (empty unless all have one width).
pub fn stack_v(gs: &[Grid]) -> Grid {
    let Some(first) = gs.first() else {
        return Grid::empty();
    };
    gs[1..]
        .iter()
        .fold(first.clone(), |acc, g| vconcat(&acc, g))
}

impl Object {
    /// The object on a 0 canvas the size of its bounding box.
    pub fn to_grid_zero(&self) -> Grid {
        self.to_grid(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(rows: &[&[i64]]) -> Grid {
        Grid::from_rows(rows).unwrap()
    }

    #[test]
    fn rigid_transforms_compose_like_the_dihedral_group() {
        let a = g(&[&[1, 2, 3], &[4, 5, 6]]);
        assert_eq!(
            rot90(&a).to_rows(),
            vec![vec![4u8, 1], vec![5, 2], vec![6, 3]]
        );
        assert_eq!(rot90(&rot90(&a)), rot180(&a));
        assert_eq!(rot90(&rot180(&a)), rot270(&a));
        assert_eq!(flip_h(&a).to_rows()[0], vec![3u8, 2, 1]);
        assert_eq!(flip_v(&a).to_rows()[0], vec![4u8, 5, 6]);
        assert_eq!(transpose(&transpose(&a)), a);
        assert_eq!(antitranspose(&a), rot180(&transpose(&a)));
        assert_eq!(rot90(&Grid::empty()), Grid::empty());
    }

    #[test]
    fn crops_and_halves() {
        let a = g(&[&[0, 0, 0, 0], &[0, 3, 0, 0], &[0, 0, 4, 0]]);
        assert_eq!(trim(&a).to_rows(), vec![vec![3u8, 0], vec![0, 4]]);
        assert_eq!(crop_nonzero(&a), trim(&a));
        assert_eq!(crop_colour(&a, 4).to_rows(), vec![vec![4u8]]);
        assert_eq!(crop_colour(&a, 7), Grid::empty());
        assert_eq!(trim(&Grid::filled(2, 2, 5)), Grid::empty());
        assert_eq!(compress(&a).to_rows(), vec![vec![3u8, 0], vec![0, 4]]);
        assert_eq!(top_half(&a).shape(), (1, 4));
        assert_eq!(bottom_half(&a).to_rows(), vec![vec![0u8, 0, 4, 0]]);
        assert_eq!(left_half(&a).shape(), (3, 2));
        assert_eq!(right_half(&a).at(2, 0), 4);
        assert_eq!(shrink(&a).shape(), (1, 2));
        assert_eq!(pad(&a, 9).shape(), (5, 6));
        assert_eq!(crop(&a, 5, 0, 1, 1), Grid::empty());
    }

    #[test]
    fn scaling_tiling_and_concatenation() {
        let a = g(&[&[1, 2]]);
        assert_eq!(
            upscale(&a, 2).to_rows(),
            vec![vec![1u8, 1, 2, 2], vec![1, 1, 2, 2]]
        );
        assert_eq!(downscale(&upscale(&a, 3), 3), a);
        assert_eq!(downscale(&a, 2), Grid::empty());
        assert_eq!(hupscale(&a, 2).shape(), (1, 4));
        assert_eq!(vupscale(&a, 2).shape(), (2, 2));
        assert_eq!(tile(&a, 2, 2).to_rows()[1], vec![1u8, 2, 1, 2]);
        assert_eq!(upscale(&a, 16), Grid::empty(), "32 columns exceed 30");
        assert_eq!(upscale(&a, -1), Grid::empty());
        assert_eq!(hconcat(&a, &a).shape(), (1, 4));
        assert_eq!(vconcat(&a, &a).shape(), (2, 2));
        assert_eq!(hconcat(&a, &g(&[&[1], &[2]])), Grid::empty());
        assert_eq!(canvas(3, 2, 1).to_rows(), vec![vec![3u8], vec![3]]);
        assert_eq!(canvas(3, 0, 1), Grid::empty());
    }

    #[test]
    fn colour_operations() {
        let a = g(&[&[1, 2, 0], &[2, 2, 0]]);
        assert_eq!(filter_colour(&a, 2).cells(), &[0, 2, 0, 2, 2, 0]);
        assert_eq!(erase_colour(&a, 2).cells(), &[1, 0, 0, 0, 0, 0]);
        assert_eq!(colour_all(&a, 5).cells(), &[5, 5, 0, 5, 5, 0]);
        assert_eq!(replace(&a, 2, 7).cells(), &[1, 7, 0, 7, 7, 0]);
        assert_eq!(swap(&a, 1, 2).cells(), &[2, 1, 0, 1, 1, 0]);
        let m = ColourMap::parse("{1:3, 2:4}").unwrap();
        assert_eq!(m.text(), "{1:3,2:4}");
        assert_eq!(remap(&a, &m).cells(), &[3, 4, 0, 4, 4, 0]);
        assert!(ColourMap::parse("{1:12}").is_none());
        assert_eq!(most_colour(&a), 2);
        assert_eq!(least_colour(&a), 1);
        assert_eq!(
            main_colour(&a),
            0,
            "after the background 2, 0 has two cells"
        );
        assert_eq!(colour_count(&a), 3);
        assert_eq!(count_colour(&a, 2), 3);
    }

    #[test]
    fn gravity_fill_outline_and_smear() {
        let a = g(&[&[1, 0, 0], &[0, 0, 2], &[0, 0, 0]]);
        assert_eq!(
            gravity(&a, 0).to_rows(),
            vec![vec![0u8, 0, 0], vec![0, 0, 0], vec![1, 0, 2]]
        );
        assert_eq!(gravity(&a, 3).to_rows()[0], vec![0u8, 0, 1]);
        assert_eq!(gravity(&a, 9), a);
        let ring = g(&[&[1, 1, 1, 0], &[1, 0, 1, 0], &[1, 1, 1, 0], &[0, 0, 0, 0]]);
        assert_eq!(fill_enclosed(&ring, 4).at(1, 1), 4);
        assert_eq!(fill_enclosed(&ring, 4).at(3, 3), 0);
        let dot = g(&[&[0, 0, 0], &[0, 5, 0], &[0, 0, 0]]);
        assert_eq!(
            outline(&dot, 3, true)
                .cells()
                .iter()
                .filter(|&&c| c == 3)
                .count(),
            8
        );
        assert_eq!(
            outline(&dot, 3, false)
                .cells()
                .iter()
                .filter(|&&c| c == 3)
                .count(),
            4
        );
        assert_eq!(smear(&dot, 0).to_rows()[1], vec![0u8, 5, 5]);
        assert_eq!(
            smear(&dot, 6).cells().iter().filter(|&&c| c == 5).count(),
            5
        );
        let two = g(&[&[3, 0, 0, 3], &[0, 0, 0, 0], &[3, 0, 0, 0]]);
        let joined = connect(&two);
        assert_eq!(joined.to_rows()[0], vec![3u8, 3, 3, 3]);
        assert_eq!(joined.at(1, 0), 3);
        let boxy = g(&[&[0, 0, 0, 0], &[0, 2, 0, 0], &[0, 0, 2, 0], &[0, 0, 0, 0]]);
        assert_eq!(fill_bbox(&boxy, 8).at(1, 2), 8);
    }

    #[test]
    fn symmetry_completion_uses_only_consistent_symmetries() {
        let a = g(&[&[1, 2, 2, 1], &[3, 9, 4, 3]]);
        let filled = fill_sym(&a, 9);
        assert_eq!(filled.to_rows()[1], vec![3u8, 4, 4, 3]);
        let half = g(&[&[1, 0, 0], &[2, 0, 0]]);
        assert_eq!(symmetrize(&half, 0).to_rows()[1], vec![2u8, 0, 2]);
        assert_eq!(symmetrize(&half, 4), half, "not square: unchanged");
    }

    #[test]
    fn cellwise_logic_and_overlay() {
        let a = g(&[&[1, 0], &[1, 0]]);
        let b = g(&[&[2, 2], &[0, 0]]);
        assert_eq!(cell_and(&a, &b, 6).cells(), &[6, 0, 0, 0]);
        assert_eq!(cell_or(&a, &b, 6).cells(), &[6, 6, 6, 0]);
        assert_eq!(cell_xor(&a, &b, 6).cells(), &[0, 6, 6, 0]);
        assert_eq!(cell_nor(&a, &b, 6).cells(), &[0, 0, 0, 6]);
        assert_eq!(cell_diff(&a, &b, 6).cells(), &[0, 0, 6, 0]);
        assert_eq!(overlay(&a, &b).cells(), &[2, 2, 1, 0]);
        assert_eq!(overlay(&a, &Grid::filled(1, 1, 1)), Grid::empty());
    }

    #[test]
    fn object_selection_and_painting() {
        let a = g(&[&[1, 1, 0, 2], &[0, 0, 0, 0], &[3, 3, 3, 0]]);
        let objs = objects(&a, true, false, true);
        assert_eq!(objs.len(), 3);
        assert_eq!(argmax(&objs, ObjKey::Size).colour(), 3);
        assert_eq!(argmin(&objs, ObjKey::Size).colour(), 2);
        assert_eq!(argmax(&[], ObjKey::Size), Object::empty());
        assert_eq!(filter_eq(&objs, ObjKey::Size, 2).len(), 1);
        assert_eq!(filter_ne(&objs, ObjKey::Size, 2).len(), 2);
        assert_eq!(
            unique_by(&objs, ObjKey::Top).len(),
            1,
            "only the 3s start on row 2"
        );
        assert_eq!(remove(&objs, &objs[0]).len(), 2);
        assert_eq!(merge(&objs).size(), 6);
        assert_eq!(first(&objs).colour(), 1);
        assert_eq!(last(&objs).colour(), 3);
        let big = argmax(&objs, ObjKey::Size);
        assert_eq!(subgrid(&big, &a).to_rows(), vec![vec![3u8, 3, 3]]);
        assert_eq!(obj_grid(&objs[1]).shape(), (1, 1));
        let painted = paint(&Grid::filled(3, 4, 0), &big.recoloured(5));
        assert_eq!(painted.to_rows()[2], vec![5u8, 5, 5, 0]);
        assert_eq!(cover(&a, &big).to_rows()[2], vec![0u8, 0, 0, 0]);
        assert_eq!(paint_all(&Grid::filled(3, 4, 0), &objs), a);
        assert_eq!(recolour_objs(&objs, 4).len(), 3);
        assert_eq!(colour_cells(&a, 3).size(), 3);
        assert_eq!(fg_partition(&a).len(), 3);
        assert_eq!(shift(&objs[0], 1, 1).bbox(), (1, 1, 1, 2));
        assert_eq!(fill_obj_bbox(&a, &merge(&objs), 7).at(1, 1), 7);
        assert_eq!(denoise(&a, 1).at(0, 3), 0);
        let slid = slide_objs(&g(&[&[4, 0, 0], &[0, 0, 0], &[0, 0, 0]]), 0);
        assert_eq!(slid.at(2, 0), 4);
    }

    #[test]
    fn grid_lists_split_select_and_combine() {
        let a = g(&[&[1, 5, 2], &[1, 5, 2]]);
        let parts = split_lines(&a);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].cells(), &[2, 2]);
        assert!(split_lines(&Grid::filled(2, 2, 0)).is_empty());
        assert_eq!(hsplit(&a, 3).len(), 3);
        assert_eq!(
            hsplit(&g(&[&[1, 5, 2, 5, 3]]), 3).len(),
            3,
            "with separators"
        );
        assert!(vsplit(&a, 3).is_empty());
        let gs = vec![g(&[&[1, 1]]), g(&[&[2, 0]]), g(&[&[1, 1]]), g(&[&[1, 1]])];
        assert_eq!(pick_unique(&gs).cells(), &[2, 0]);
        assert_eq!(pick_common(&gs).cells(), &[1, 1]);
        assert_eq!(pick_max(&gs, GridKey::NonZero).cells(), &[1, 1]);
        assert_eq!(pick_min(&gs, GridKey::NonZero).cells(), &[2, 0]);
        assert_eq!(nth(&gs, -3).cells(), &[2, 0]);
        assert_eq!(nth(&gs, 9), Grid::empty());
        assert_eq!(overlay_all(&gs).cells(), &[1, 1]);
        assert_eq!(majority(&gs).cells(), &[1, 1]);
        assert_eq!(stack_h(&gs).shape(), (1, 8));
        assert_eq!(stack_v(&gs).shape(), (4, 2));
        assert_eq!(pick_unique(&[]), Grid::empty());
        let objs = objects(&a, true, false, true);
        assert_eq!(obj_grids(&objs, &a).len(), objs.len());
        assert_eq!(obj_shapes(&objs).len(), objs.len());
    }
}

// ---------------------------------------------------------------- patterns

/// The Kronecker product: each cell of `a` becomes a copy of `b` where it is non-zero and a
/// block of 0 where it is zero (icecuber's outer product); empty beyond 30 × 30.
pub fn kronecker(a: &Grid, b: &Grid) -> Grid {
    let (bh, bw) = b.shape();
    if bh == 0 {
        return Grid::empty();
    }
    let (h, w) = (a.height() * bh, a.width() * bw);
    if h == 0 || w == 0 || h > MAX_SIDE || w > MAX_SIDE {
        return Grid::empty();
    }
    // Which cell of `a` and of `b` each column reads, computed once per column.
    let cols: [(usize, usize); MAX_SIDE] = std::array::from_fn(|c| (c / bw, c % bw));
    build(h, w, |r, c| {
        let (ac, bc) = cols[c];
        if a.at(r / bh, ac) != 0 {
            b.at(r % bh, bc)
        } else {
            0
        }
    })
}

/// Fills the cells of colour `hole` from the smallest periodic pattern that agrees with every
/// other cell: first the diagonal periods (colour fixed along `(r + c) mod k` or
/// `(r - c) mod k`, k = 2..6), then rectangular tilings (`r mod a`, `c mod b`, a, b ≤ 8, or up to 15 where the period repeats at least twice), each
/// period class holding at least one known cell. The grid unchanged when no period fits.
pub fn complete_pattern(g: &Grid, hole: u8) -> Grid {
    let (h, w) = g.shape();
    if h == 0 || !g.cells().contains(&hole) {
        return g.clone();
    }
    // Classes from per-row and per-column remainders, `mods[k][i] = i % k` for k = 1 to 15,
    // counted up once (no division per cell or per period).
    let mut mods = [[0usize; MAX_SIDE]; 16];
    for (k, m) in mods.iter_mut().enumerate().skip(1) {
        for i in 1..MAX_SIDE {
            m[i] = if m[i - 1] + 1 == k { 0 } else { m[i - 1] + 1 };
        }
    }
    for (k, m) in mods.iter().enumerate().take(7).skip(2) {
        // (r + c) % k
        if let Some(out) = try_period(g, hole, k, |r, c| {
            let s = m[r] + m[c];
            if s >= k { s - k } else { s }
        }) {
            return out;
        }
        // (r + 30 k - c) % k
        if let Some(out) = try_period(g, hole, k, |r, c| {
            let s = m[r] + k - m[c];
            if s >= k { s - k } else { s }
        }) {
            return out;
        }
    }
    // A period up to 8, or up to 15 where it repeats at least twice; smallest area first.
    let side_ok = |p: usize, n: usize| (p <= 8 && p <= n) || (p <= 15 && 2 * p <= n);
    for area in 2..=225usize {
        for a in 1..=15usize {
            if area % a != 0 {
                continue;
            }
            let b = area / a;
            if !side_ok(a, h) || !side_ok(b, w) {
                continue;
            }
            let (ma, mb) = (&mods[a], &mods[b]);
            // (r % a) * b + c % b
            if let Some(out) = try_period(g, hole, a * b, |r, c| ma[r] * b + mb[c]) {
                return out;
            }
        }
    }
    g.clone()
}

/// [`complete_pattern`]'s test of one period: cells fall into `classes` (at most 225) classes by
/// `class`; when every class holds one colour (holes aside), the grid with every cell in its
/// class's colour. Generic over `class`, so that each period's class function is inlined.
fn try_period(
    g: &Grid,
    hole: u8,
    classes: usize,
    class: impl Fn(usize, usize) -> usize,
) -> Option<Grid> {
    let (h, w) = g.shape();
    let mut colour = [u8::MAX; 225];
    let colour = colour.get_mut(..classes)?;
    for r in 0..h {
        for (c, &v) in g.row(r).iter().enumerate() {
            if v == hole {
                continue;
            }
            let k = class(r, c);
            if colour[k] == u8::MAX {
                colour[k] = v;
            } else if colour[k] != v {
                return None;
            }
        }
    }
    if colour.contains(&u8::MAX) {
        return None;
    }
    Some(build(h, w, |r, c| colour[class(r, c)]))
}

#[cfg(test)]
mod pattern_tests {
    use super::*;

    #[test]
    fn kronecker_and_pattern_completion() {
        let a = Grid::from_rows(&[vec![1, 0], vec![0, 2]]).unwrap();
        let k = kronecker(&a, &a);
        assert_eq!(k.shape(), (4, 4));
        assert_eq!(k.row(0), &[1, 0, 0, 0]);
        assert_eq!(k.row(3), &[0, 0, 0, 2]);
        assert_eq!(
            kronecker(&Grid::filled(16, 16, 1), &Grid::filled(2, 2, 1)),
            Grid::empty()
        );
        let diag =
            Grid::from_rows(&[vec![1, 2, 3, 1], vec![2, 3, 0, 0], vec![0, 0, 0, 0]]).unwrap();
        let done = complete_pattern(&diag, 0);
        assert_eq!(done.row(2), &[3, 1, 2, 3]);
        let tiles =
            Grid::from_rows(&[vec![4, 5, 4, 5], vec![6, 7, 0, 0], vec![4, 0, 4, 5]]).unwrap();
        assert_eq!(complete_pattern(&tiles, 0).row(1), &[6, 7, 6, 7]);
        let clash = Grid::from_rows(&[vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 0]]).unwrap();
        assert_eq!(
            complete_pattern(&clash, 0),
            clash,
            "period 9 is beyond the periods tried"
        );
    }
}

// ---------------------------------------------------------------- learned local rules

/// A cell-wise rule learned from demonstrations: each cell's new colour is looked up from a
/// key made of the cell's colour and its surroundings (the feature `kind`). Cells whose key is
/// not in the table keep their colour.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalRule {
    /// Feature kind: 0 the four neighbours, 1 the first colour met along each of the four
    /// rays, 2 counts of non-zero and same-coloured neighbours, 3 the eight neighbours, 4 and 5
    /// the size of the cell's component, 6 to 19 neighbour colour sets and object features
    /// (see [`rule_keys`]), 20 and 21 a learned subset of the neighbours or of the rays
    /// ([`SUBSET_KIND`], [`RAY_SUBSET_KIND`]), 22 the neighbour subset with colours relative
    /// to the cell's ([`RELATIVE_SUBSET_KIND`]), 23 stamps painted around cells
    /// ([`STAMP_KIND`]).
    pub kind: u8,
    /// `(key, colour)`, sorted by key.
    pub table: Vec<(u64, u8)>,
}

/// Number of feature kinds of [`LocalRule`].
pub const RULE_KINDS: u8 = 24;

/// The kind whose key is the cell's colour and the colours of a chosen subset of its eight
/// neighbours (the subset learned: the smallest that explains the demonstrations). Its keys
/// carry the subset's bit mask above bit 40 and 15 in the nibbles of neighbours left out.
pub const SUBSET_KIND: u8 = 20;

/// [`SUBSET_KIND`] over rays instead of neighbours: the key holds, for a chosen subset of the
/// eight directions, the first non-zero colour met along the ray from the cell (11 at the
/// border).
pub const RAY_SUBSET_KIND: u8 = 21;

/// [`SUBSET_KIND`] with colours relative to the cell's own: the cell is background (0) or
/// not (15, any colour), each neighbour background, the cell's colour, another colour or the
/// border (0 to 3), so that a rule learned on shapes of some colours applies to others.
pub const RELATIVE_SUBSET_KIND: u8 = 22;

/// The stamp kind: every non-zero cell of colour `c` paints a learned pattern of colours
/// around itself (offsets up to two cells away) on cells that are 0 in the input, the
/// first stamp in reading order winning where two overlap. Its table maps `c << 8 | offset`
/// (the offset's index in the 5 x 5 square, row-major, centre left out) to the colour painted.
pub const STAMP_KIND: u8 = 23;

/// How far a stamp reaches from its cell.
const STAMP_RADIUS: i32 = 2;

/// The stamp offsets with their indices (the 5 x 5 square without its centre, row-major).
fn stamp_offsets() -> impl Iterator<Item = (u64, i32, i32)> {
    (-STAMP_RADIUS..=STAMP_RADIUS)
        .flat_map(|dr| (-STAMP_RADIUS..=STAMP_RADIUS).map(move |dc| (dr, dc)))
        .filter(|&d| d != (0, 0))
        .enumerate()
        .map(|(k, (dr, dc))| (k as u64, dr, dc))
}

/// The cell `(r + dr, c + dc)` when it is inside the grid.
fn offset_cell(g: &Grid, r: usize, c: usize, dr: i32, dc: i32) -> Option<(usize, usize)> {
    let (rr, cc) = (r as i32 + dr, c as i32 + dc);
    (rr >= 0 && cc >= 0 && (rr as usize) < g.height() && (cc as usize) < g.width())
        .then_some((rr as usize, cc as usize))
}

/// The stamp table the demonstrations agree on: for each source colour and offset, the
/// colour every such 0 cell of the input became (entries whose cells stayed 0 or disagree
/// are left out).
fn stamp_table(srcs: &[&Grid], outs: &[&Grid]) -> Vec<(u64, u8)> {
    const CONFLICT: u8 = u8::MAX;
    let mut table: rustc_hash::FxHashMap<u64, u8> = rustc_hash::FxHashMap::default();
    for (s, o) in srcs.iter().zip(outs) {
        for r in 0..s.height() {
            for c in 0..s.width() {
                let v = s.at(r, c);
                if v == 0 {
                    continue;
                }
                for (k, dr, dc) in stamp_offsets() {
                    let Some((rr, cc)) = offset_cell(s, r, c, dr, dc) else {
                        continue;
                    };
                    if s.at(rr, cc) != 0 {
                        continue;
                    }
                    let t = o.at(rr, cc);
                    let e = table.entry(u64::from(v) << 8 | k).or_insert(t);
                    if *e != t {
                        *e = CONFLICT;
                    }
                }
            }
        }
    }
    let mut table: Vec<(u64, u8)> = table
        .into_iter()
        .filter(|&(_, t)| t != CONFLICT && t != 0)
        .collect();
    table.sort_unstable();
    table
}

/// Paints the stamps of `table` (see [`STAMP_KIND`]).
fn apply_stamps(g: &Grid, table: &[(u64, u8)]) -> Grid {
    let mut b = g.to_buf();
    for r in 0..g.height() {
        for c in 0..g.width() {
            let v = g.at(r, c);
            if v == 0 {
                continue;
            }
            for (k, dr, dc) in stamp_offsets() {
                let Ok(i) = table.binary_search_by_key(&(u64::from(v) << 8 | k), |e| e.0) else {
                    continue;
                };
                if let Some((rr, cc)) = offset_cell(g, r, c, dr, dc)
                    && g.at(rr, cc) == 0
                    && b.get(rr, cc) == Some(0)
                {
                    b.set(rr, cc, table[i].1);
                }
            }
        }
    }
    b.freeze()
}

/// Whether `kind` is one of the learned-subset kinds.
fn is_subset_kind(kind: u8) -> bool {
    matches!(kind, SUBSET_KIND | RAY_SUBSET_KIND | RELATIVE_SUBSET_KIND)
}

/// The eight-direction keys a subset kind chooses from: the neighbours (kind 3) or the rays.
fn full_keys(g: &Grid, kind: u8) -> Vec<u64> {
    let (h, w) = g.shape();
    if kind == RELATIVE_SUBSET_KIND {
        let mut out = Vec::with_capacity(h * w);
        for r in 0..h {
            for c in 0..w {
                let own = g.at(r, c);
                let mut key = if own == 0 { 0 } else { ANY_COLOUR };
                for (k, (dr, dc)) in crate::object::NEIGHBOURS_8.into_iter().enumerate() {
                    let rel = match g.get((r as i32 + dr) as usize, (c as i32 + dc) as usize) {
                        None => 3,
                        Some(0) => 0,
                        Some(v) if v == own => 1,
                        Some(_) => 2,
                    };
                    key |= rel << (4 + 4 * k);
                }
                out.push(key);
            }
        }
        return out;
    }
    if kind != RAY_SUBSET_KIND {
        return rule_keys(g, 3);
    }
    let mut out = Vec::with_capacity(h * w);
    for r in 0..h {
        for c in 0..w {
            let mut key = u64::from(g.at(r, c));
            for (k, (dr, dc)) in crate::object::NEIGHBOURS_8.into_iter().enumerate() {
                let found = first_colour_along(g, r, c, dr, dc);
                key |= found << (4 + 4 * k);
            }
            out.push(key);
        }
    }
    out
}

/// The largest neighbour subset [`SUBSET_KIND`] learning tries.
const SUBSET_MAX: u32 = 4;

/// Keys of [`SUBSET_KIND`] for the neighbour subset `mask` (bit `k`: neighbour `k` of
/// `NEIGHBOURS_8`), from the full eight-neighbour keys (kind 3).
fn subset_keys(full: &[u64], mask: u8) -> Vec<u64> {
    let mut blank = 0u64;
    for k in 0..8 {
        if mask & (1 << k) == 0 {
            blank |= 15 << (4 + 4 * k);
        }
    }
    let keep = !(blank | 0xFFFF_u64 << 40);
    full.iter()
        .map(|&key| (key & keep) | blank | u64::from(mask) << 40)
        .collect()
}

/// The low bits of a colour-free key (kinds 13–19): the cell belongs to an object, whatever
/// its colour.
const ANY_COLOUR: u64 = 15;

/// Per-cell features of the multi-coloured 8-connected objects of `g` (0 for background
/// cells, otherwise 1 plus the object's feature): 7 its shape (positions in its bounding box,
/// colours aside, hashed to 32 bits), 8 whether it encloses background, 9 its size's rank from
/// the largest (equal sizes share a rank; 3 and above count as 3), 10 the same from the
/// smallest, 11 its bounding box's height and width (above 15 count as 15), 12 whether it
/// touches the grid's border.
fn object_features(g: &Grid, kind: u8) -> Vec<u64> {
    let (h, w) = g.shape();
    let objs = components(g, MULTI8);
    let mut sizes: Vec<usize> = objs.iter().map(Object::size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut feat = vec![0u64; h * w];
    for o in &objs {
        let (top, left, bottom, right) = o.bbox();
        let f = match kind {
            7 => {
                use std::hash::Hasher;
                let mut s = rustc_hash::FxHasher::default();
                for x in o.cells() {
                    s.write_u8(x.r - top as u8);
                    s.write_u8(x.c - left as u8);
                }
                s.finish() & 0xffff_ffff
            }
            8 => u64::from(encloses_background(o)),
            9 => {
                let larger = sizes.iter().filter(|&&n| n > o.size()).count();
                larger.min(3) as u64
            }
            10 => {
                let smaller = sizes.iter().filter(|&&n| n < o.size()).count();
                smaller.min(3) as u64
            }
            11 => (o.height().min(15) << 4 | o.width().min(15)) as u64,
            _ => u64::from(top == 0 || left == 0 || bottom + 1 == h || right + 1 == w),
        };
        for x in o.cells() {
            feat[usize::from(x.r) * w + usize::from(x.c)] = f + 1;
        }
    }
    feat
}

/// Whether some cell of the object's bounding box outside the object cannot reach the box's
/// edge through such cells (4-connected): a hole.
fn encloses_background(o: &Object) -> bool {
    let (top, left, _, _) = o.bbox();
    let (h, w) = (o.height(), o.width());
    let mut inside = vec![false; h * w];
    for x in o.cells() {
        inside[(usize::from(x.r) - top) * w + usize::from(x.c) - left] = true;
    }
    let mut reached = vec![false; h * w];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for r in 0..h {
        for c in 0..w {
            if (r == 0 || c == 0 || r + 1 == h || c + 1 == w) && !inside[r * w + c] {
                reached[r * w + c] = true;
                stack.push((r, c));
            }
        }
    }
    while let Some((r, c)) = stack.pop() {
        for (dr, dc) in [(-1i32, 0i32), (1, 0), (0, -1), (0, 1)] {
            let (nr, nc) = (r as i32 + dr, c as i32 + dc);
            if nr < 0 || nc < 0 || nr >= h as i32 || nc >= w as i32 {
                continue;
            }
            let i = nr as usize * w + nc as usize;
            if !inside[i] && !reached[i] {
                reached[i] = true;
                stack.push((nr as usize, nc as usize));
            }
        }
    }
    inside.iter().zip(&reached).any(|(&i, &r)| !i && !r)
}

/// The keys of every cell of `g` under feature `kind`, row-major: kinds 0–3 as
/// [`rule_key`]; 4 the cell's colour and the size of its single-coloured 4-connected
/// component (sizes above 15 count as 15); 5 the colour and the size of its multi-coloured
/// 8-connected non-background component (0 for background); 6 the colour and the sets of
/// colours among its orthogonal and among its diagonal neighbours; 7 to 12 the colour and a
/// feature of the object the cell belongs to (see `object_features`); 13 to 19 the same
/// features as 7 to 12 and 5 without the colour of object cells (so that a rule learned on
/// objects of some colours applies to objects of others; background cells keep their colour
/// in the key).
pub fn rule_keys(g: &Grid, kind: u8) -> Vec<u64> {
    let (h, w) = g.shape();
    if kind == STAMP_KIND {
        return g.cells().iter().map(|&v| u64::from(v)).collect();
    }
    if is_subset_kind(kind) {
        return subset_keys(&full_keys(g, kind), u8::MAX);
    }
    if kind >= 13 {
        let base = if kind == 19 { 5 } else { kind - 6 };
        return rule_keys(g, base)
            .into_iter()
            .map(|k| {
                if k >> 4 == 0 {
                    k
                } else {
                    ANY_COLOUR | (k >> 4) << 4
                }
            })
            .collect();
    }
    if kind >= 7 {
        return g
            .cells()
            .iter()
            .zip(object_features(g, kind))
            .map(|(&v, f)| u64::from(v) | f << 4)
            .collect();
    }
    if kind == 6 {
        let p = Padded::new(g);
        let mut out = Vec::with_capacity(h * w);
        for r in 0..h {
            for c in 0..w {
                let n = p.neighbours(r, c);
                let bits = |vs: &[u64]| {
                    vs.iter()
                        .filter(|&&v| v != 10)
                        .fold(0u64, |m, &v| m | 1 << v)
                };
                out.push(u64::from(g.at(r, c)) | bits(&n[..4]) << 4 | bits(&n[4..]) << 14);
            }
        }
        return out;
    }
    if kind == 1 {
        return ray_keys(g);
    }
    if kind < 4 {
        // `rule_key` for every cell, its neighbours read from a padded copy (no bounds tests).
        let p = Padded::new(g);
        let mut out = Vec::with_capacity(h * w);
        for r in 0..h {
            for c in 0..w {
                let own = u64::from(g.at(r, c));
                let n = p.neighbours(r, c);
                out.push(match kind {
                    0 => own | n[0] << 4 | n[1] << 8 | n[2] << 12 | n[3] << 16,
                    2 => {
                        let nz = n.iter().filter(|&&v| v != 0 && v != 10).count() as u64;
                        let same = n.iter().filter(|&&v| v == own).count() as u64;
                        own | nz << 4 | same << 8
                    }
                    _ => (0..8).fold(own, |key, k| key | n[k] << (4 + 4 * k)),
                });
            }
        }
        return out;
    }
    let conn = if kind == 4 {
        Connectivity {
            univalued: true,
            diagonal: false,
            without_bg: false,
        }
    } else {
        MULTI8
    };
    let mut size = vec![0u64; h * w];
    for o in components(g, conn) {
        let n = o.size().min(15) as u64;
        for x in o.cells() {
            size[usize::from(x.r) * w + usize::from(x.c)] = n;
        }
    }
    g.cells()
        .iter()
        .zip(size)
        .map(|(&v, n)| u64::from(v) | n << 4)
        .collect()
}

/// A grid with a one-cell frame of 10 (the value [`rule_key`] gives positions outside), so
/// that neighbours are read without bounds tests.
struct Padded {
    w: usize,
    cells: [u8; (MAX_SIDE + 2) * (MAX_SIDE + 2)],
}

impl Padded {
    fn new(g: &Grid) -> Self {
        let (h, w) = g.shape();
        let mut cells = [10u8; (MAX_SIDE + 2) * (MAX_SIDE + 2)];
        for r in 0..h {
            cells[(r + 1) * (w + 2) + 1..(r + 1) * (w + 2) + 1 + w].copy_from_slice(g.row(r));
        }
        Self { w: w + 2, cells }
    }

    /// The eight neighbours of `(r, c)` in [`crate::object::NEIGHBOURS_8`] order (10 outside).
    #[inline]
    fn neighbours(&self, r: usize, c: usize) -> [u64; 8] {
        let i = (r + 1) * self.w + c + 1;
        let w = self.w;
        [
            self.cells[i - w],
            self.cells[i + w],
            self.cells[i - 1],
            self.cells[i + 1],
            self.cells[i - w - 1],
            self.cells[i - w + 1],
            self.cells[i + w - 1],
            self.cells[i + w + 1],
        ]
        .map(u64::from)
    }
}

/// [`rule_key`] of kind 1 for every cell: the first non-zero colour up, down, left and right
/// (11 when there is none), found by one sweep per direction instead of a walk per cell.
fn ray_keys(g: &Grid) -> Vec<u64> {
    let (h, w) = g.shape();
    // `up[i]` is the first non-zero colour above cell i (11 for none), and so on.
    let (mut up, mut down) = ([11u8; MAX_SIDE * MAX_SIDE], [11u8; MAX_SIDE * MAX_SIDE]);
    let (mut left, mut right) = ([11u8; MAX_SIDE * MAX_SIDE], [11u8; MAX_SIDE * MAX_SIDE]);
    let cells = g.cells();
    let seen = |v: u8, before: u8| if v != 0 { v } else { before };
    for r in 1..h {
        for c in 0..w {
            up[r * w + c] = seen(cells[(r - 1) * w + c], up[(r - 1) * w + c]);
        }
    }
    for r in (0..h.saturating_sub(1)).rev() {
        for c in 0..w {
            down[r * w + c] = seen(cells[(r + 1) * w + c], down[(r + 1) * w + c]);
        }
    }
    for r in 0..h {
        for c in 1..w {
            left[r * w + c] = seen(cells[r * w + c - 1], left[r * w + c - 1]);
        }
        for c in (0..w.saturating_sub(1)).rev() {
            right[r * w + c] = seen(cells[r * w + c + 1], right[r * w + c + 1]);
        }
    }
    (0..h * w)
        .map(|i| {
            u64::from(cells[i])
                | u64::from(up[i]) << 4
                | u64::from(down[i]) << 8
                | u64::from(left[i]) << 12
                | u64::from(right[i]) << 16
        })
        .collect()
}

/// The first non-zero colour met walking from `(r, c)` in the direction `(dr, dc)`, or 11
/// when the walk reaches the border first.
fn first_colour_along(g: &Grid, r: usize, c: usize, dr: i32, dc: i32) -> u64 {
    let (h, w) = (g.height() as i32, g.width() as i32);
    let (mut rr, mut cc) = (r as i32 + dr, c as i32 + dc);
    while rr >= 0 && cc >= 0 && rr < h && cc < w {
        let v = g.at(rr as usize, cc as usize);
        if v != 0 {
            return u64::from(v);
        }
        rr += dr;
        cc += dc;
    }
    11
}

/// The key of cell `(r, c)` of `g` under feature `kind`.
pub fn rule_key(g: &Grid, r: usize, c: usize, kind: u8) -> u64 {
    let (h, w) = g.shape();
    let at = |dr: i32, dc: i32| -> u64 {
        let (rr, cc) = (r as i32 + dr, c as i32 + dc);
        if rr < 0 || cc < 0 || rr >= h as i32 || cc >= w as i32 {
            10
        } else {
            u64::from(g.at(rr as usize, cc as usize))
        }
    };
    let own = u64::from(g.at(r, c));
    match kind {
        0 => own | at(-1, 0) << 4 | at(1, 0) << 8 | at(0, -1) << 12 | at(0, 1) << 16,
        1 => {
            let mut key = own;
            for (k, (dr, dc)) in [(-1i32, 0i32), (1, 0), (0, -1), (0, 1)]
                .into_iter()
                .enumerate()
            {
                let found = first_colour_along(g, r, c, dr, dc);
                key |= found << (4 + 4 * k);
            }
            key
        }
        2 => {
            let (mut nz, mut same) = (0u64, 0u64);
            for (dr, dc) in crate::object::NEIGHBOURS_8 {
                let v = at(dr, dc);
                nz += u64::from(v != 0 && v != 10);
                same += u64::from(v == own);
            }
            own | nz << 4 | same << 8
        }
        _ => {
            let mut key = own;
            for (k, (dr, dc)) in crate::object::NEIGHBOURS_8.into_iter().enumerate() {
                key |= at(dr, dc) << (4 + 4 * k);
            }
            key
        }
    }
}

/// What the demonstrations say about the cells of one key: they all keep their colour, they
/// all end in one colour (some may have had it already), or both (every one had that colour
/// and kept it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Keep,
    Colour(u8),
    KeepOrColour(u8),
}

impl Target {
    /// Adds a cell that was `was` and becomes `v`; false when the key's cells disagree.
    fn merge_into(table: &mut rustc_hash::FxHashMap<u64, Target>, k: u64, was: u8, v: u8) -> bool {
        let cell = if v == was {
            Target::KeepOrColour(v)
        } else {
            Target::Colour(v)
        };
        let Some(t) = table.get_mut(&k) else {
            table.insert(k, cell);
            return true;
        };
        let merged = match (*t, cell) {
            (Target::KeepOrColour(c), Target::KeepOrColour(d)) if c == d => Target::KeepOrColour(c),
            (Target::KeepOrColour(_) | Target::Keep, Target::KeepOrColour(_)) => Target::Keep,
            (
                Target::KeepOrColour(c) | Target::Colour(c),
                Target::Colour(d) | Target::KeepOrColour(d),
            ) if c == d => Target::Colour(c),
            _ => return false,
        };
        *t = merged;
        true
    }

    /// The colour the key's cells become, or `None` when they keep theirs.
    fn colour(self) -> Option<u8> {
        match self {
            Target::Colour(c) => Some(c),
            Target::Keep | Target::KeepOrColour(_) => None,
        }
    }
}

impl LocalRule {
    /// Learns the rule of feature `kind` that maps every `srcs[i]` onto `outs[i]` (same
    /// shapes), when one exists and its table covers every key of the `tests` grids (or, see
    /// [`LocalRule::learn_validated`], the rule cross-validates); identity rules (every key
    /// keeps its colour) are not rules.
    pub fn learn(srcs: &[&Grid], outs: &[&Grid], tests: &[&Grid], kind: u8) -> Option<Self> {
        Self::learn_validated(srcs, outs, tests, kind).map(|(rule, _)| rule)
    }

    /// [`LocalRule::learn`], and whether the rule is cross-validated: for every demonstration,
    /// the rule learned from the others alone reproduces it (a rule that only memorises each
    /// demonstration's own cells fails this, one that generalises passes). A single
    /// demonstration cannot be cross-validated. A cross-validated rule is returned even when
    /// some test key is not in its table (such cells keep their colour, as the held-out
    /// demonstrations' unseen keys did when it was validated).
    pub fn learn_validated(
        srcs: &[&Grid],
        outs: &[&Grid],
        tests: &[&Grid],
        kind: u8,
    ) -> Option<(Self, bool)> {
        if srcs
            .iter()
            .zip(outs)
            .any(|(s, o)| s.shape() != o.shape() || s.is_empty())
        {
            return None;
        }
        if is_subset_kind(kind) {
            return Self::learn_subset(srcs, outs, tests, kind);
        }
        if kind == STAMP_KIND {
            return Self::learn_stamps(srcs, outs);
        }
        let keys: Vec<Vec<u64>> = srcs.iter().map(|s| rule_keys(s, kind)).collect();
        let test_keys: Vec<Vec<u64>> = tests.iter().map(|t| rule_keys(t, kind)).collect();
        let (table, validated) = fit_table(srcs, outs, &keys, &test_keys)?;
        Some((Self { kind, table }, validated))
    }

    /// [`STAMP_KIND`]: the stamp table the demonstrations agree on, when it reproduces every
    /// one of them; cross-validated when each demonstration is reproduced by the table the
    /// others alone give.
    fn learn_stamps(srcs: &[&Grid], outs: &[&Grid]) -> Option<(Self, bool)> {
        let table = stamp_table(srcs, outs);
        let fits = |table: &[(u64, u8)], d: usize| apply_stamps(srcs[d], table) == *outs[d];
        if table.is_empty() || !(0..srcs.len()).all(|d| fits(&table, d)) {
            return None;
        }
        let validated = srcs.len() >= 2
            && (0..srcs.len()).all(|d| {
                let (s_rest, o_rest): (Vec<&Grid>, Vec<&Grid>) = srcs
                    .iter()
                    .zip(outs)
                    .enumerate()
                    .filter(|&(e, _)| e != d)
                    .map(|(_, (s, o))| (*s, *o))
                    .unzip();
                fits(&stamp_table(&s_rest, &o_rest), d)
            });
        Some((
            Self {
                kind: STAMP_KIND,
                table,
            },
            validated,
        ))
    }

    /// The subset kinds ([`SUBSET_KIND`], [`RAY_SUBSET_KIND`], [`RELATIVE_SUBSET_KIND`]): the
    /// smallest subset of directions (up to
    /// [`SUBSET_MAX`], in order of size then mask) whose table is consistent and
    /// cross-validates; failing that, the smallest consistent one whose table covers the
    /// tests, not validated.
    fn learn_subset(
        srcs: &[&Grid],
        outs: &[&Grid],
        tests: &[&Grid],
        kind: u8,
    ) -> Option<(Self, bool)> {
        let full: Vec<Vec<u64>> = srcs.iter().map(|s| full_keys(s, kind)).collect();
        let full_tests: Vec<Vec<u64>> = tests.iter().map(|t| full_keys(t, kind)).collect();
        let mut masks: Vec<u8> = (1..=255u8)
            .filter(|m| m.count_ones() <= SUBSET_MAX)
            .collect();
        masks.sort_by_key(|m| (m.count_ones(), *m));
        let mut fallback = None;
        for mask in masks {
            let keys: Vec<Vec<u64>> = full.iter().map(|k| subset_keys(k, mask)).collect();
            let test_keys: Vec<Vec<u64>> =
                full_tests.iter().map(|k| subset_keys(k, mask)).collect();
            if let Some((table, validated)) = fit_table(srcs, outs, &keys, &test_keys) {
                let rule = Self { kind, table };
                if validated {
                    return Some((rule, true));
                }
                fallback.get_or_insert((rule, false));
            }
        }
        fallback
    }
}

/// The table mapping every demonstration's cell keys (`keys[d]`, row-major) onto its output,
/// when it is consistent, changes some cell, and either covers every test key or
/// cross-validates (see [`LocalRule::learn_validated`]); with whether it cross-validates.
fn fit_table(
    srcs: &[&Grid],
    outs: &[&Grid],
    keys: &[Vec<u64>],
    test_keys: &[Vec<u64>],
) -> Option<(Vec<(u64, u8)>, bool)> {
    let mut table: rustc_hash::FxHashMap<u64, Target> = rustc_hash::FxHashMap::default();
    let mut changes = false;
    for ((s, o), k) in srcs.iter().zip(outs).zip(keys) {
        for ((&k, &v), &was) in k.iter().zip(o.cells()).zip(s.cells()) {
            changes |= v != was;
            if !Target::merge_into(&mut table, k, was, v) {
                return None;
            }
        }
    }
    if !changes {
        return None;
    }
    let covered = test_keys
        .iter()
        .all(|t| t.iter().all(|k| table.contains_key(k)));
    let validated = srcs.len() >= 2
        && (0..srcs.len()).all(|d| {
            // The others' table (consistent: a part of a consistent table).
            let mut part: rustc_hash::FxHashMap<u64, Target> = rustc_hash::FxHashMap::default();
            for (e, ((k, s), o)) in keys.iter().zip(srcs).zip(outs).enumerate() {
                if e != d {
                    for ((&k, &was), &v) in k.iter().zip(s.cells()).zip(o.cells()) {
                        Target::merge_into(&mut part, k, was, v);
                    }
                }
            }
            keys[d]
                .iter()
                .zip(srcs[d].cells())
                .zip(outs[d].cells())
                .all(|((k, &was), &want)| {
                    part.get(k).and_then(|t| t.colour()).unwrap_or(was) == want
                })
        });
    // A test cell whose key no demonstration shows keeps its colour: accepted only when
    // cross-validation has checked exactly that behaviour on the demonstrations.
    if !covered && !validated {
        return None;
    }
    let mut table: Vec<(u64, u8)> = table
        .into_iter()
        .filter_map(|(k, t)| t.colour().map(|c| (k, c)))
        .filter(|&(k, v)| (k & 15) as u8 != v)
        .collect();
    table.sort_unstable();
    Some((table, validated))
}

impl LocalRule {
    /// The text form `<kind:key=colour,...>` (keys in hexadecimal).
    pub fn text(&self) -> String {
        let parts: Vec<String> = self
            .table
            .iter()
            .map(|(k, v)| format!("{k:x}={v}"))
            .collect();
        format!("<{}:{}>", self.kind, parts.join(","))
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Option<Self> {
        let inner = text.trim().strip_prefix('<')?.strip_suffix('>')?;
        let (kind, rest) = inner.split_once(':')?;
        let kind: u8 = kind.parse().ok().filter(|&k| k < RULE_KINDS)?;
        let mut table = Vec::new();
        for part in rest.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=')?;
            let v: u8 = v.parse().ok().filter(|&v| v <= 9)?;
            table.push((u64::from_str_radix(k, 16).ok()?, v));
        }
        table.sort_unstable();
        Some(Self { kind, table })
    }
}

/// Applies a learned local rule to every cell (keys not in the table keep their colour).
pub fn apply_rule(g: &Grid, rule: &LocalRule) -> Grid {
    if rule.kind == STAMP_KIND {
        return apply_stamps(g, &rule.table);
    }
    let keys = if is_subset_kind(rule.kind) {
        let mask = rule.table.first().map_or(0, |&(k, _)| (k >> 40) as u8);
        subset_keys(&full_keys(g, rule.kind), mask)
    } else {
        rule_keys(g, rule.kind)
    };
    let cells = keys
        .into_iter()
        .zip(g.cells())
        .map(
            |(k, &was)| match rule.table.binary_search_by_key(&k, |e| e.0) {
                Ok(i) => rule.table[i].1,
                Err(_) => was,
            },
        )
        .collect();
    Grid::from_parts(g.height(), g.width(), cells)
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    /// Learns a rule of `kind`, checks that it cross-validates and round-trips through its
    /// text form, and that it maps `test` onto `want`.
    fn check_learned(srcs: &[&Grid], outs: &[&Grid], test: &Grid, kind: u8, want: &Grid) {
        let (rule, ok) = LocalRule::learn_validated(srcs, outs, &[test], kind).unwrap();
        assert!(ok, "{rule:?}");
        assert_eq!(LocalRule::parse(&rule.text()), Some(rule.clone()));
        assert_eq!(apply_rule(test, &rule), *want);
    }

    /// The whole-grid keys (padded reads, direction sweeps) equal the per-cell definition.
    #[test]
    fn rule_keys_agree_with_rule_key_on_random_grids() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(13);
        let mut next = |n: u64| rng.random_range(0..n);
        for _ in 0..200 {
            let (h, w) = (1 + next(30) as usize, 1 + next(30) as usize);
            let sparse = next(2) == 0;
            let cells = (0..h * w)
                .map(|_| {
                    if sparse && next(3) > 0 {
                        0
                    } else {
                        next(10) as u8
                    }
                })
                .collect();
            let g = Grid::from_cells(h, w, cells).unwrap();
            for kind in 0..4 {
                let keys = rule_keys(&g, kind);
                for r in 0..h {
                    for c in 0..w {
                        assert_eq!(keys[r * w + c], rule_key(&g, r, c, kind), "kind {kind}");
                    }
                }
            }
            let keys = rule_keys(&g, 6);
            for r in 0..h {
                for c in 0..w {
                    let (mut ortho, mut diag) = (0u64, 0u64);
                    for (k, (dr, dc)) in crate::object::NEIGHBOURS_8.into_iter().enumerate() {
                        if let Some(v) = g.get((r as i32 + dr) as usize, (c as i32 + dc) as usize) {
                            if k < 4 {
                                ortho |= 1 << v;
                            } else {
                                diag |= 1 << v;
                            }
                        }
                    }
                    assert_eq!(
                        keys[r * w + c],
                        u64::from(g.at(r, c)) | ortho << 4 | diag << 14
                    );
                }
            }
        }
    }

    #[test]
    fn a_rule_is_learned_applied_and_round_trips() {
        // Cells next to a 1 (left or right) become 2.
        let src = Grid::from_rows(&[vec![0, 1, 0, 0], vec![0, 0, 0, 1]]).unwrap();
        let out = Grid::from_rows(&[vec![2, 1, 2, 0], vec![0, 0, 2, 1]]).unwrap();
        let test = Grid::from_rows(&[vec![0, 0, 1, 0], vec![1, 0, 0, 0]]).unwrap();
        let rule = LocalRule::learn(&[&src], &[&out], &[&src], 0).unwrap();
        assert_eq!(apply_rule(&src, &rule), out);
        assert_eq!(LocalRule::parse(&rule.text()), Some(rule.clone()));
        assert!(
            LocalRule::learn(&[&src], &[&out], &[&test], 3).is_none(),
            "unseen neighbourhoods"
        );
        assert!(
            LocalRule::learn(&[&src], &[&src], &[&src], 0).is_none(),
            "identity"
        );
        assert!(LocalRule::parse("<99:1=2>").is_none());
        // Objects recoloured by size: singletons become 3, pairs 4.
        let src = Grid::from_rows(&[vec![1, 0, 1, 1], vec![0, 0, 0, 0]]).unwrap();
        let out = Grid::from_rows(&[vec![3, 0, 4, 4], vec![0, 0, 0, 0]]).unwrap();
        let test = Grid::from_rows(&[vec![1, 1, 0, 1], vec![0, 0, 0, 0]]).unwrap();
        let rule = LocalRule::learn(&[&src], &[&out], &[&test], 5).unwrap();
        assert_eq!(apply_rule(&test, &rule).row(0), &[4, 4, 0, 3]);
    }

    #[test]
    fn rules_are_cross_validated_on_the_demonstrations() {
        let g = |rows: &[&[i64]]| Grid::from_rows(rows).unwrap();
        // Objects with a hole become 2, in both demonstrations: validated.
        let a = g(&[
            &[1, 1, 1, 0, 1],
            &[1, 0, 1, 0, 0],
            &[1, 1, 1, 0, 0],
            &[0, 0, 0, 0, 0],
        ]);
        let a_out = g(&[
            &[2, 2, 2, 0, 1],
            &[2, 0, 2, 0, 0],
            &[2, 2, 2, 0, 0],
            &[0, 0, 0, 0, 0],
        ]);
        let b = g(&[
            &[1, 0, 0, 0, 0],
            &[0, 0, 1, 1, 1],
            &[0, 0, 1, 0, 1],
            &[0, 0, 1, 1, 1],
        ]);
        let b_out = g(&[
            &[1, 0, 0, 0, 0],
            &[0, 0, 2, 2, 2],
            &[0, 0, 2, 0, 2],
            &[0, 0, 2, 2, 2],
        ]);
        let (rule, ok) =
            LocalRule::learn_validated(&[&a, &b], &[&a_out, &b_out], &[&b], 8).unwrap();
        assert!(ok, "{rule:?}");
        assert_eq!(LocalRule::parse(&rule.text()), Some(rule.clone()));
        // A rule that only memorises: each demonstration's change is seen in it alone.
        let c = g(&[&[3, 0], &[0, 0]]);
        let c_out = g(&[&[3, 5], &[0, 0]]);
        let d = g(&[&[0, 0], &[0, 4]]);
        let d_out = g(&[&[0, 0], &[6, 4]]);
        let (_, ok) = LocalRule::learn_validated(&[&c, &d], &[&c_out, &d_out], &[], 0).unwrap();
        assert!(!ok);
        let (_, ok) = LocalRule::learn_validated(&[&a], &[&a_out], &[], 8).unwrap();
        assert!(!ok, "one demonstration cannot validate");
        // Colour-free: objects with a hole become 2, whatever their colour (3 and 4 in the
        // demonstrations, 6 in the test); a rule keyed on the colour cannot say so.
        let a = g(&[
            &[3, 3, 3, 0, 4],
            &[3, 0, 3, 0, 0],
            &[3, 3, 3, 0, 0],
            &[0, 0, 0, 0, 0],
        ]);
        let a_out = g(&[
            &[2, 2, 2, 0, 4],
            &[2, 0, 2, 0, 0],
            &[2, 2, 2, 0, 0],
            &[0, 0, 0, 0, 0],
        ]);
        let b = g(&[
            &[3, 0, 0, 0, 0],
            &[0, 0, 4, 4, 4],
            &[0, 0, 4, 0, 4],
            &[0, 0, 4, 4, 4],
        ]);
        let b_out = g(&[
            &[3, 0, 0, 0, 0],
            &[0, 0, 2, 2, 2],
            &[0, 0, 2, 0, 2],
            &[0, 0, 2, 2, 2],
        ]);
        let test = g(&[
            &[6, 6, 6, 0, 0],
            &[6, 0, 6, 0, 6],
            &[6, 6, 6, 0, 0],
            &[0, 0, 0, 0, 0],
        ]);
        assert!(LocalRule::learn(&[&a, &b], &[&a_out, &b_out], &[&test], 8).is_none());
        let (rule, ok) =
            LocalRule::learn_validated(&[&a, &b], &[&a_out, &b_out], &[&test], 14).unwrap();
        assert!(ok, "{rule:?}");
        let want = g(&[
            &[2, 2, 2, 0, 0],
            &[2, 0, 2, 0, 6],
            &[2, 2, 2, 0, 0],
            &[0, 0, 0, 0, 0],
        ]);
        assert_eq!(apply_rule(&test, &rule), want);
        for kind in 7..RULE_KINDS {
            assert_eq!(rule_keys(&a, kind).len(), 20, "kind {kind}");
            assert_eq!(rule_keys(&Grid::empty(), kind), Vec::<u64>::new());
        }
    }

    #[test]
    fn a_neighbour_subset_rule_ignores_the_neighbours_that_do_not_matter() {
        // A 0 between two 1s on a row becomes 2, whatever lies above and below it.
        let g = |rows: &[&[i64]]| Grid::from_rows(rows).unwrap();
        let a = g(&[&[1, 0, 1, 0, 0], &[0, 0, 0, 0, 3], &[0, 3, 0, 0, 0]]);
        let a_out = g(&[&[1, 2, 1, 0, 0], &[0, 0, 0, 0, 3], &[0, 3, 0, 0, 0]]);
        let b = g(&[&[0, 0, 3, 0, 0], &[0, 1, 0, 1, 0], &[0, 0, 0, 0, 0]]);
        let b_out = g(&[&[0, 0, 3, 0, 0], &[0, 1, 2, 1, 0], &[0, 0, 0, 0, 0]]);
        let test = g(&[&[0, 0, 0, 0, 0], &[0, 0, 1, 0, 1], &[0, 0, 0, 7, 0]]);
        let want = g(&[&[0, 0, 0, 0, 0], &[0, 0, 1, 2, 1], &[0, 0, 0, 7, 0]]);
        check_learned(&[&a, &b], &[&a_out, &b_out], &test, SUBSET_KIND, &want);
        // The full eight-neighbour rule cannot say what to do under the 7.
        assert!(
            LocalRule::learn_validated(&[&a, &b], &[&a_out, &b_out], &[&test], 3)
                .is_none_or(|(r, _)| apply_rule(&test, &r) != want)
        );
    }

    #[test]
    fn a_relative_subset_rule_hollows_shapes_of_a_new_colour() {
        // Cells of a filled rectangle whose four side neighbours share its colour become 0.
        let g = |rows: &[&[i64]]| Grid::from_rows(rows).unwrap();
        let a = g(&[&[2, 2, 2, 0], &[2, 2, 2, 0], &[2, 2, 2, 0], &[0, 0, 0, 0]]);
        let a_out = g(&[&[2, 2, 2, 0], &[2, 0, 2, 0], &[2, 2, 2, 0], &[0, 0, 0, 0]]);
        let b = g(&[
            &[0, 3, 3, 3, 3],
            &[0, 3, 3, 3, 3],
            &[0, 3, 3, 3, 3],
            &[0, 0, 0, 0, 0],
        ]);
        let b_out = g(&[
            &[0, 3, 3, 3, 3],
            &[0, 3, 0, 0, 3],
            &[0, 3, 3, 3, 3],
            &[0, 0, 0, 0, 0],
        ]);
        let test = g(&[&[0, 0, 0, 0], &[5, 5, 5, 0], &[5, 5, 5, 0], &[5, 5, 5, 0]]);
        let want = g(&[&[0, 0, 0, 0], &[5, 5, 5, 0], &[5, 0, 5, 0], &[5, 5, 5, 0]]);
        check_learned(
            &[&a, &b],
            &[&a_out, &b_out],
            &test,
            RELATIVE_SUBSET_KIND,
            &want,
        );
    }

    #[test]
    fn stamps_are_learned_around_each_colour_and_cross_validated() {
        // A 1 gets 7 above and below it; a 2 gets 4 on its diagonals.
        let g = |rows: &[&[i64]]| Grid::from_rows(rows).unwrap();
        let a = g(&[&[0, 0, 0, 0], &[0, 1, 0, 0], &[0, 0, 0, 0], &[0, 0, 0, 0]]);
        let a_out = g(&[&[0, 7, 0, 0], &[0, 1, 0, 0], &[0, 7, 0, 0], &[0, 0, 0, 0]]);
        let b = g(&[&[0, 0, 0, 0], &[0, 0, 2, 0], &[0, 0, 0, 0], &[0, 0, 0, 0]]);
        let b_out = g(&[&[0, 4, 0, 4], &[0, 0, 2, 0], &[0, 4, 0, 4], &[0, 0, 0, 0]]);
        let c = g(&[
            &[0, 0, 0, 0, 0, 0],
            &[0, 0, 0, 0, 0, 0],
            &[1, 0, 0, 0, 2, 0],
            &[0, 0, 0, 0, 0, 0],
        ]);
        let c_out = g(&[
            &[0, 0, 0, 0, 0, 0],
            &[7, 0, 0, 4, 0, 4],
            &[1, 0, 0, 0, 2, 0],
            &[7, 0, 0, 4, 0, 4],
        ]);
        let test = g(&[&[0, 0, 0, 0], &[0, 0, 0, 1], &[0, 2, 0, 0], &[0, 0, 0, 0]]);
        let want = g(&[&[0, 0, 0, 7], &[4, 0, 4, 1], &[0, 2, 0, 7], &[4, 0, 4, 0]]);
        check_learned(
            &[&a, &b, &c],
            &[&a_out, &b_out, &c_out],
            &test,
            STAMP_KIND,
            &want,
        );
        // One demonstration alone cannot be cross-validated.
        let (_, ok) = LocalRule::learn_validated(&[&a], &[&a_out], &[&test], STAMP_KIND).unwrap();
        assert!(!ok);
    }

    #[test]
    fn a_ray_subset_rule_draws_between_marks_at_any_distance() {
        // A 0 with a 4 somewhere to its left and to its right on the row becomes 8.
        let g = |rows: &[&[i64]]| Grid::from_rows(rows).unwrap();
        let a = g(&[&[4, 0, 0, 4, 0], &[0, 0, 0, 0, 0], &[0, 4, 0, 0, 0]]);
        let a_out = g(&[&[4, 8, 8, 4, 0], &[0, 0, 0, 0, 0], &[0, 4, 0, 0, 0]]);
        let b = g(&[&[0, 0, 0, 0, 0], &[0, 4, 0, 4, 0], &[4, 0, 0, 0, 0]]);
        let b_out = g(&[&[0, 0, 0, 0, 0], &[0, 4, 8, 4, 0], &[4, 0, 0, 0, 0]]);
        let test = g(&[&[4, 0, 0, 0, 4], &[0, 0, 0, 0, 0], &[0, 0, 0, 0, 4]]);
        let want = g(&[&[4, 8, 8, 8, 4], &[0, 0, 0, 0, 0], &[0, 0, 0, 0, 4]]);
        check_learned(&[&a, &b], &[&a_out, &b_out], &test, RAY_SUBSET_KIND, &want);
    }
}
