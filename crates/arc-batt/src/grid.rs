//! The compact grid: at most 30 × 30 cells, colours 0–9, immutable, cheap to clone and hash.
//!
//! A [`Grid`] holds its cells row-major in a shared buffer (`Arc<[u8]>`, one byte a cell, only
//! `height × width` bytes) with its hash computed once when it is built: cloning is a
//! reference-count increment, equality first compares hashes, and hashing a grid into a map
//! costs one `u64`. Grids are built through [`GridBuf`] (a mutable buffer) or the checked
//! constructors; every constructor keeps the invariants (dimensions ≤ [`MAX_SIDE`], colours
//! ≤ 9). The 0 × 0 grid is the DSL's safe empty result.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest height or width of an ARC grid.
pub const MAX_SIDE: usize = 30;
/// The number of colours (0–9).
pub const COLOURS: usize = 10;

/// What is wrong with a grid read from a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GridError {
    /// The grid has no rows or a row has no cells.
    #[error("the grid is empty (ARC grids have at least 1 x 1 cells)")]
    Empty,
    /// More than 30 rows or columns.
    #[error("the grid is {height} x {width}, larger than the {MAX_SIDE} x {MAX_SIDE} limit")]
    TooLarge {
        /// Rows.
        height: usize,
        /// Columns of the widest row.
        width: usize,
    },
    /// Rows of different lengths.
    #[error("row {row} has {len} cells but row 0 has {expected} (a ragged grid)")]
    Ragged {
        /// The first row whose length differs.
        row: usize,
        /// Its length.
        len: usize,
        /// The length of row 0.
        expected: usize,
    },
    /// A cell outside 0–9.
    #[error("cell ({row}, {col}) holds {value}, not a colour 0-9")]
    Colour {
        /// Row of the cell.
        row: usize,
        /// Column of the cell.
        col: usize,
        /// The value found.
        value: i64,
    },
}

/// An immutable ARC grid (see the [module docs](self)).
pub struct Grid {
    h: u8,
    w: u8,
    /// The most frequent colour once computed ([`UNKNOWN`] before): primitives ask for the
    /// background of the same grid again and again.
    most: AtomicU8,
    hash: u64,
    cells: Arc<[u8]>,
}

/// [`Grid::most`] not yet computed.
const UNKNOWN: u8 = u8::MAX;

impl Clone for Grid {
    fn clone(&self) -> Self {
        Self {
            h: self.h,
            w: self.w,
            most: AtomicU8::new(self.most.load(Ordering::Relaxed)),
            hash: self.hash,
            cells: Arc::clone(&self.cells),
        }
    }
}

fn hash_cells(h: u8, w: u8, cells: &[u8]) -> u64 {
    let mut s = rustc_hash::FxHasher::default();
    s.write_u8(h);
    s.write_u8(w);
    s.write(cells);
    s.finish()
}

impl Grid {
    /// The 0 × 0 grid: the safe result of an operation that has nothing to return.
    pub fn empty() -> Self {
        Self::from_parts(0, 0, Vec::new())
    }

    /// A `height × width` grid filled with `colour`; the empty grid when a side is 0 or above
    /// [`MAX_SIDE`] or the colour is not 0–9.
    pub fn filled(height: usize, width: usize, colour: u8) -> Self {
        if height == 0 || width == 0 || height > MAX_SIDE || width > MAX_SIDE || colour > 9 {
            return Self::empty();
        }
        Self::from_parts(height, width, vec![colour; height * width])
    }

    /// Builds a grid from row-major cells, checking sizes and colours.
    pub fn from_cells(height: usize, width: usize, cells: Vec<u8>) -> Result<Self, GridError> {
        if height == 0 || width == 0 {
            return Err(GridError::Empty);
        }
        if height > MAX_SIDE || width > MAX_SIDE {
            return Err(GridError::TooLarge { height, width });
        }
        if cells.len() != height * width {
            return Err(GridError::Ragged {
                row: cells.len() / width,
                len: cells.len() % width,
                expected: width,
            });
        }
        if let Some(i) = cells.iter().position(|&c| c > 9) {
            return Err(GridError::Colour {
                row: i / width,
                col: i % width,
                value: i64::from(cells[i]),
            });
        }
        Ok(Self::from_parts(height, width, cells))
    }

    /// Builds a grid from rows of integers as read from JSON, checking every rule.
    pub fn from_rows<R: AsRef<[i64]>>(rows: &[R]) -> Result<Self, GridError> {
        let height = rows.len();
        let width = rows.first().map_or(0, |r| r.as_ref().len());
        let widest = rows.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
        if height == 0 || width == 0 {
            return Err(GridError::Empty);
        }
        if height > MAX_SIDE || widest > MAX_SIDE {
            return Err(GridError::TooLarge {
                height,
                width: widest,
            });
        }
        let mut cells = Vec::with_capacity(height * width);
        for (r, row) in rows.iter().enumerate() {
            let row = row.as_ref();
            if row.len() != width {
                return Err(GridError::Ragged {
                    row: r,
                    len: row.len(),
                    expected: width,
                });
            }
            for (c, &v) in row.iter().enumerate() {
                if !(0..=9).contains(&v) {
                    return Err(GridError::Colour {
                        row: r,
                        col: c,
                        value: v,
                    });
                }
                cells.push(v as u8);
            }
        }
        Ok(Self::from_parts(height, width, cells))
    }

    /// A grid from parts already known to be valid (sides ≤ 30, `cells.len() == h w`, colours
    /// ≤ 9); anything else gives the empty grid.
    pub(crate) fn from_parts(height: usize, width: usize, cells: Vec<u8>) -> Self {
        Self::from_slice(height, width, &cells)
    }

    /// [`Grid::from_parts`] from borrowed cells (a buffer on the stack, say): the one
    /// allocation is the shared buffer the cells are copied into.
    pub(crate) fn from_slice(height: usize, width: usize, cells: &[u8]) -> Self {
        if height > MAX_SIDE
            || width > MAX_SIDE
            || cells.len() != height * width
            || height * width == 0
        {
            let (h, w) = (0, 0);
            return Self {
                h,
                w,
                most: AtomicU8::new(UNKNOWN),
                hash: hash_cells(h, w, &[]),
                cells: Arc::from(Vec::new()),
            };
        }
        debug_assert!(cells.iter().all(|&c| c <= 9));
        let (h, w) = (height as u8, width as u8);
        Self {
            h,
            w,
            most: AtomicU8::new(UNKNOWN),
            hash: hash_cells(h, w, cells),
            cells: Arc::from(cells),
        }
    }

    /// Number of rows.
    #[inline]
    pub fn height(&self) -> usize {
        usize::from(self.h)
    }

    /// Number of columns.
    #[inline]
    pub fn width(&self) -> usize {
        usize::from(self.w)
    }

    /// `(height, width)`.
    #[inline]
    pub fn shape(&self) -> (usize, usize) {
        (self.height(), self.width())
    }

    /// Number of cells.
    #[inline]
    pub fn area(&self) -> usize {
        self.cells.len()
    }

    /// Whether this is the 0 × 0 grid.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The cells, row-major.
    #[inline]
    pub fn cells(&self) -> &[u8] {
        &self.cells
    }

    /// The colour at `(row, col)`, or `None` outside the grid.
    #[inline]
    pub fn get(&self, row: usize, col: usize) -> Option<u8> {
        (row < self.height() && col < self.width()).then(|| self.cells[row * self.width() + col])
    }

    /// The colour at `(row, col)`; the caller guarantees the position is inside.
    #[inline]
    pub(crate) fn at(&self, row: usize, col: usize) -> u8 {
        self.cells[row * self.width() + col]
    }

    /// Row `r` as a slice (empty outside the grid).
    pub fn row(&self, r: usize) -> &[u8] {
        if r >= self.height() {
            return &[];
        }
        let w = self.width();
        &self.cells[r * w..(r + 1) * w]
    }

    /// The rows as vectors (the JSON form).
    pub fn to_rows(&self) -> Vec<Vec<u8>> {
        (0..self.height()).map(|r| self.row(r).to_vec()).collect()
    }

    /// The precomputed 64-bit hash.
    #[inline]
    pub fn hash64(&self) -> u64 {
        self.hash
    }

    /// How many cells hold each colour.
    pub fn histogram(&self) -> [u16; COLOURS] {
        // Four partial histograms (16 slots each, so that no index needs a bounds test) break
        // the chain of dependent increments when neighbouring cells share a colour.
        let mut part = [[0u16; 16]; 4];
        let mut quads = self.cells.chunks_exact(4);
        for q in &mut quads {
            part[0][usize::from(q[0] & 15)] += 1;
            part[1][usize::from(q[1] & 15)] += 1;
            part[2][usize::from(q[2] & 15)] += 1;
            part[3][usize::from(q[3] & 15)] += 1;
        }
        for &c in quads.remainder() {
            part[0][usize::from(c & 15)] += 1;
        }
        std::array::from_fn(|c| part[0][c] + part[1][c] + part[2][c] + part[3][c])
    }

    /// The most frequent colour (ties go to the smallest colour); 0 for the empty grid.
    pub fn most_colour(&self) -> u8 {
        let known = self.most.load(Ordering::Relaxed);
        if known != UNKNOWN {
            return known;
        }
        let h = self.histogram();
        let mut best = 0;
        for c in 1..COLOURS {
            if h[c] > h[best] {
                best = c;
            }
        }
        self.most.store(best as u8, Ordering::Relaxed);
        best as u8
    }

    /// The set of colours present, as a bit mask (bit `c` for colour `c`).
    pub fn colour_mask(&self) -> u16 {
        self.cells.iter().fold(0u16, |m, &c| m | (1 << c))
    }

    /// A mutable copy.
    pub fn to_buf(&self) -> GridBuf {
        let mut cells = [0; MAX_SIDE * MAX_SIDE];
        cells[..self.area()].copy_from_slice(&self.cells);
        GridBuf {
            h: self.height(),
            w: self.width(),
            cells,
        }
    }
}

impl PartialEq for Grid {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
            && self.h == other.h
            && self.w == other.w
            && (Arc::ptr_eq(&self.cells, &other.cells) || self.cells == other.cells)
    }
}

impl Eq for Grid {}

impl Hash for Grid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl fmt::Debug for Grid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Grid {}x{} [", self.h, self.w)?;
        for r in 0..self.height() {
            if r > 0 {
                f.write_str("|")?;
            }
            for &c in self.row(r) {
                write!(f, "{c}")?;
            }
        }
        f.write_str("]")
    }
}

/// Rows of integers, as in task files; written with the type it is read with, so that
/// formats that are not self-describing (postcard, for worker processes) read it back too.
impl Serialize for Grid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut rows = s.serialize_seq(Some(self.height()))?;
        for r in 0..self.height() {
            let row: Vec<i64> = self.row(r).iter().map(|&c| i64::from(c)).collect();
            rows.serialize_element(&row)?;
        }
        rows.end()
    }
}

impl<'de> Deserialize<'de> for Grid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rows = Vec::<Vec<i64>>::deserialize(d)?;
        Self::from_rows(&rows).map_err(serde::de::Error::custom)
    }
}

/// A mutable grid buffer, frozen into a [`Grid`] with [`GridBuf::freeze`].
///
/// The cells live inline (the largest grid's 900 bytes, row-major in the first
/// `height × width`, the rest 0): a primitive that edits a copy of its input allocates only
/// the frozen grid.
#[derive(Clone, PartialEq, Eq)]
pub struct GridBuf {
    h: usize,
    w: usize,
    cells: [u8; MAX_SIDE * MAX_SIDE],
}

impl GridBuf {
    /// A `height × width` buffer filled with `colour` (sides above 30 give an empty buffer).
    pub fn new(height: usize, width: usize, colour: u8) -> Self {
        let mut cells = [0; MAX_SIDE * MAX_SIDE];
        if height > MAX_SIDE || width > MAX_SIDE || height * width == 0 {
            return Self { h: 0, w: 0, cells };
        }
        cells[..height * width].fill(colour.min(9));
        Self {
            h: height,
            w: width,
            cells,
        }
    }

    /// Number of rows.
    #[inline]
    pub fn height(&self) -> usize {
        self.h
    }

    /// Number of columns.
    #[inline]
    pub fn width(&self) -> usize {
        self.w
    }

    /// The colour at `(row, col)`, or `None` outside.
    #[inline]
    pub fn get(&self, row: usize, col: usize) -> Option<u8> {
        (row < self.h && col < self.w).then(|| self.cells[row * self.w + col])
    }

    /// Sets `(row, col)` to `colour`; positions outside and colours above 9 are ignored.
    #[inline]
    pub fn set(&mut self, row: usize, col: usize, colour: u8) {
        if row < self.h && col < self.w && colour <= 9 {
            self.cells[row * self.w + col] = colour;
        }
    }

    /// Sets `(row, col)` given as signed coordinates; positions outside are ignored.
    #[inline]
    pub fn set_i(&mut self, row: i32, col: i32, colour: u8) {
        if row >= 0 && col >= 0 {
            self.set(row as usize, col as usize, colour);
        }
    }

    /// The cells, row-major.
    pub fn cells_mut(&mut self) -> &mut [u8] {
        &mut self.cells[..self.h * self.w]
    }

    /// The immutable grid.
    pub fn freeze(self) -> Grid {
        Grid::from_slice(self.h, self.w, &self.cells[..self.h * self.w])
    }
}

impl fmt::Debug for GridBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GridBuf")
            .field("h", &self.h)
            .field("w", &self.w)
            .field("cells", &&self.cells[..self.h * self.w])
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_hash_with_equality() {
        let g = Grid::from_rows(&[vec![1, 2, 3], vec![4, 5, 6]]).unwrap();
        assert_eq!(g.shape(), (2, 3));
        assert_eq!(g.get(1, 2), Some(6));
        assert_eq!(g.get(2, 0), None);
        assert_eq!(
            g.to_rows(),
            vec![vec![1u8, 2, 3], vec![4, 5, 6]],
            "rows come back as given"
        );
        let same = Grid::from_cells(2, 3, vec![1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(g, same);
        assert_eq!(g.hash64(), same.hash64());
        let transposed_shape = Grid::from_cells(3, 2, vec![1, 2, 3, 4, 5, 6]).unwrap();
        assert_ne!(g, transposed_shape, "same cells, other shape");
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(json, "[[1,2,3],[4,5,6]]");
        assert_eq!(serde_json::from_str::<Grid>(&json).unwrap(), g);
    }

    #[test]
    fn bad_grids_are_typed_errors() {
        assert_eq!(Grid::from_rows::<Vec<i64>>(&[]), Err(GridError::Empty));
        assert_eq!(Grid::from_rows(&[Vec::<i64>::new()]), Err(GridError::Empty));
        assert!(matches!(
            Grid::from_rows(&[vec![1, 2], vec![3]]),
            Err(GridError::Ragged {
                row: 1,
                len: 1,
                expected: 2
            })
        ));
        assert!(matches!(
            Grid::from_rows(&[vec![1, 10]]),
            Err(GridError::Colour {
                row: 0,
                col: 1,
                value: 10
            })
        ));
        assert!(matches!(
            Grid::from_rows(&[vec![-1]]),
            Err(GridError::Colour { value: -1, .. })
        ));
        let big = vec![vec![0i64; 31]; 2];
        assert!(matches!(
            Grid::from_rows(&big),
            Err(GridError::TooLarge { width: 31, .. })
        ));
        assert!(serde_json::from_str::<Grid>("[[1,2],[3]]").is_err());
    }

    #[test]
    fn histogram_and_most_colour_break_ties_towards_small_colours() {
        let g = Grid::from_rows(&[vec![3, 3, 1], vec![1, 0, 0]]).unwrap();
        assert_eq!(g.histogram()[3], 2);
        assert_eq!(g.most_colour(), 0, "0, 1 and 3 tie at two cells");
        assert_eq!(g.colour_mask(), 0b1011);
        assert_eq!(Grid::empty().most_colour(), 0);
        assert!(Grid::filled(31, 1, 0).is_empty());
    }

    #[test]
    fn buffers_ignore_writes_outside() {
        let mut b = GridBuf::new(2, 2, 0);
        b.set(5, 5, 3);
        b.set_i(-1, 0, 3);
        b.set(0, 1, 12);
        b.set(1, 1, 7);
        let g = b.freeze();
        assert_eq!(g.cells(), &[0, 0, 0, 7]);
    }
}
