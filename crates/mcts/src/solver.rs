//! An exact Connect Four solver: the oracle for tests and benchmarks.
//!
//! It follows Pascal Pons' tutorial "Solving Connect 4: how to build a perfect AI"
//! (<http://blog.gamesolver.org/solving-connect-four/>, code at
//! <https://github.com/PascalPons/connect4>): negamax with alpha-beta pruning on the bitboards
//! of [`crate::connect4`], a transposition table keyed by `current + mask` that stores upper and
//! lower bounds, move ordering by Pons' score (the number of winning cells a move creates)
//! with centre-first tie-breaking, pruning of moves that hand the opponent an immediate win,
//! and iterative null-window deepening (a binary search on the score with windows of width one).
//!
//! Scores follow the tutorial and the test sets: for the side to move, positive means a win,
//! 0 a draw, negative a loss; a win with the winner's last stone being their `k`-th stone
//! scores `22 - k` (a faster win scores higher).

use crate::connect4::{CELLS, Position, WIDTH, column_mask};

/// Lowest possible score.
pub const MIN_SCORE: i32 = -(CELLS as i32) / 2 + 3;
/// Highest possible score.
pub const MAX_SCORE: i32 = (CELLS as i32 + 1) / 2 - 3;

/// Columns from the centre outwards: 3, 2, 4, 1, 5, 0, 6.
const COLUMN_ORDER: [usize; WIDTH] = {
    let mut order = [0; WIDTH];
    let mut i = 0;
    while i < WIDTH {
        let half = (i as i64 + 1) / 2;
        let sign = 1 - 2 * (i as i64 % 2);
        order[i] = (WIDTH as i64 / 2 + sign * half) as usize;
        i += 1;
    }
    order
};

/// A transposition table of a prime number of entries, each storing the low 32 bits of the
/// key and one byte of value (0 = empty). Because the table size is prime and above 2^17,
/// (key mod size, key mod 2^32) identifies a key below 2^49 uniquely (Chinese remainder theorem),
/// so a hit is never a false positive.
#[derive(Debug, Clone)]
struct TranspositionTable {
    keys: Vec<u32>,
    values: Vec<u8>,
}

fn is_prime(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

impl TranspositionTable {
    fn new(log2_size: u32) -> Self {
        let size = (1u64 << log2_size..)
            .find(|&n| is_prime(n))
            .expect("a prime exists");
        Self {
            keys: vec![0; size as usize],
            values: vec![0; size as usize],
        }
    }

    #[inline]
    fn index(&self, key: u64) -> usize {
        (key % self.keys.len() as u64) as usize
    }

    #[inline]
    fn put(&mut self, key: u64, value: u8) {
        let i = self.index(key);
        self.keys[i] = key as u32;
        self.values[i] = value;
    }

    #[inline]
    fn get(&self, key: u64) -> u8 {
        let i = self.index(key);
        if self.keys[i] == key as u32 {
            self.values[i]
        } else {
            0
        }
    }

    fn clear(&mut self) {
        self.keys.fill(0);
        self.values.fill(0);
    }
}

/// Up to [`WIDTH`] moves sorted by score; ties come out in insertion order reversed.
struct MoveSorter {
    entries: [(u64, u32); WIDTH],
    size: usize,
}

impl MoveSorter {
    fn new() -> Self {
        Self {
            entries: [(0, 0); WIDTH],
            size: 0,
        }
    }

    #[inline]
    fn add(&mut self, move_bit: u64, score: u32) {
        let mut pos = self.size;
        self.size += 1;
        while pos > 0 && self.entries[pos - 1].1 > score {
            self.entries[pos] = self.entries[pos - 1];
            pos -= 1;
        }
        self.entries[pos] = (move_bit, score);
    }

    #[inline]
    fn next(&mut self) -> Option<u64> {
        if self.size == 0 {
            return None;
        }
        self.size -= 1;
        Some(self.entries[self.size].0)
    }
}

/// Outcome of a position under perfect play, from the side to move's point of view.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Outcome {
    /// The side to move loses.
    Loss,
    /// Draw.
    Draw,
    /// The side to move wins.
    Win,
}

impl Outcome {
    /// The outcome a score stands for.
    pub fn from_score(score: i32) -> Self {
        match score.signum() {
            1 => Self::Win,
            0 => Self::Draw,
            _ => Self::Loss,
        }
    }

    /// The same result seen by the other player.
    pub fn flip(self) -> Self {
        match self {
            Self::Loss => Self::Win,
            Self::Draw => Self::Draw,
            Self::Win => Self::Loss,
        }
    }
}

/// The solver. Keeps its transposition table between calls (entries are bounds on the true
/// value of a position, valid for every later search), so solving many positions in a row is
/// cheaper than solving each from scratch.
#[derive(Debug, Clone)]
pub struct Solver {
    table: TranspositionTable,
    nodes: u64,
}

impl Default for Solver {
    fn default() -> Self {
        Self::new()
    }
}

impl Solver {
    /// A solver with a transposition table of about 2^23 entries (40 MB).
    pub fn new() -> Self {
        Self::with_table_bits(23)
    }

    /// A solver with a transposition table of the first prime at or above `2^bits` entries
    /// (5 bytes each). `bits` is clamped to `18..=28`.
    pub fn with_table_bits(bits: u32) -> Self {
        Self {
            table: TranspositionTable::new(bits.clamp(18, 28)),
            nodes: 0,
        }
    }

    /// Positions explored since the solver was made or [`Solver::reset`].
    pub fn nodes(&self) -> u64 {
        self.nodes
    }

    /// Empties the transposition table and the node count.
    pub fn reset(&mut self) {
        self.table.clear();
        self.nodes = 0;
    }

    /// Alpha-beta negamax; the position must not have an immediate win for the side to move.
    fn negamax(&mut self, p: &Position, mut alpha: i32, mut beta: i32) -> i32 {
        debug_assert!(alpha < beta && !p.can_win_next());
        self.nodes += 1;
        let moves = p.moves() as i32;
        let cells = CELLS as i32;
        let possible = p.possible_non_losing_moves();
        if possible == 0 {
            return -(cells - moves) / 2; // the opponent wins next move
        }
        if moves >= cells - 2 {
            return 0; // draw: neither side can win in the last two moves
        }
        let min = -(cells - 2 - moves) / 2; // the opponent cannot win next move
        if alpha < min {
            alpha = min;
            if alpha >= beta {
                return alpha;
            }
        }
        let mut max = (cells - 1 - moves) / 2; // we cannot win at once
        let key = p.key();
        let stored = i32::from(self.table.get(key));
        if stored != 0 {
            if stored > MAX_SCORE - MIN_SCORE + 1 {
                let lower = stored + 2 * MIN_SCORE - MAX_SCORE - 2;
                if alpha < lower {
                    alpha = lower;
                    if alpha >= beta {
                        return alpha;
                    }
                }
            } else {
                max = stored + MIN_SCORE - 1;
            }
        }
        if beta > max {
            beta = max;
            if alpha >= beta {
                return beta;
            }
        }
        let mut sorter = MoveSorter::new();
        for &col in COLUMN_ORDER.iter().rev() {
            let m = possible & column_mask(col);
            if m != 0 {
                sorter.add(m, p.move_score(m));
            }
        }
        while let Some(m) = sorter.next() {
            let mut next = *p;
            next.play(m);
            let score = -self.negamax(&next, -beta, -alpha);
            if score >= beta {
                self.table
                    .put(key, (score + MAX_SCORE - 2 * MIN_SCORE + 2) as u8);
                return score;
            }
            if score > alpha {
                alpha = score;
            }
        }
        self.table.put(key, (alpha - MIN_SCORE + 1) as u8);
        alpha
    }

    /// Searches with null windows, narrowing `[min, max]` by bisection (biased towards 0).
    fn search(&mut self, p: &Position, mut min: i32, mut max: i32) -> i32 {
        while min < max {
            let mut med = min + (max - min) / 2;
            if med <= 0 && min / 2 < med {
                med = min / 2;
            } else if med >= 0 && max / 2 > med {
                med = max / 2;
            }
            let r = self.negamax(p, med, med + 1);
            if r <= med {
                max = r;
            } else {
                min = r;
            }
        }
        min
    }

    /// The exact score of a position where nobody has won yet (see the [module docs](self)).
    pub fn solve(&mut self, p: &Position) -> i32 {
        let moves = p.moves() as i32;
        let cells = CELLS as i32;
        if p.can_win_next() {
            return (cells + 1 - moves) / 2;
        }
        if moves == cells {
            return 0;
        }
        self.search(p, -(cells - moves) / 2, (cells + 1 - moves) / 2)
    }

    /// Win, draw or loss for the side to move: a "weak" solve with the window `[-1, 1]`,
    /// much cheaper than the exact score.
    pub fn outcome(&mut self, p: &Position) -> Outcome {
        if p.can_win_next() {
            return Outcome::Win;
        }
        if p.moves() == CELLS {
            return Outcome::Draw;
        }
        Outcome::from_score(self.search(p, -1, 1))
    }

    /// The outcome, for the side to move in `p`, of playing each column: `None` for a full
    /// column. A move that completes four is a win.
    pub fn child_outcomes(&mut self, p: &Position) -> [Option<Outcome>; WIDTH] {
        let mut out = [None; WIDTH];
        for (col, slot) in out.iter_mut().enumerate() {
            if !p.can_play(col) {
                continue;
            }
            *slot = Some(if p.is_winning_move(col) {
                Outcome::Win
            } else {
                let mut next = *p;
                next.play_col(col);
                self.outcome(&next).flip()
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_order_is_centre_first() {
        assert_eq!(COLUMN_ORDER, [3, 2, 4, 1, 5, 0, 6]);
    }

    #[test]
    fn sorter_returns_best_then_latest() {
        let mut s = MoveSorter::new();
        s.add(1, 0);
        s.add(2, 3);
        s.add(4, 0);
        s.add(8, 3);
        assert_eq!(
            [s.next(), s.next(), s.next(), s.next(), s.next()],
            [Some(8), Some(2), Some(4), Some(1), None]
        );
    }

    #[test]
    fn immediate_win_scores_by_stones_left() {
        let p = Position::from_moves("121212").unwrap();
        let mut s = Solver::with_table_bits(18);
        // The winner's 4th stone: 22 - 4 = 18.
        assert_eq!(s.solve(&p), 18);
        assert_eq!(s.outcome(&p), Outcome::Win);
    }

    #[test]
    fn child_outcomes_agree_with_the_score() {
        // Two lines of Pons' Test_L3_R1: a loss and a win for the side to move.
        let mut s = Solver::with_table_bits(18);
        for (moves, score) in [
            ("2252576253462244111563365343671351441", -1),
            ("7422341735647741166133573473242566", 1),
        ] {
            let p = Position::from_moves(moves).unwrap();
            assert_eq!(s.solve(&p), score);
            let best = s.child_outcomes(&p).into_iter().flatten().max().unwrap();
            assert_eq!(best, Outcome::from_score(score));
        }
    }
}
