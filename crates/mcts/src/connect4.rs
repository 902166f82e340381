//! Connect Four on bitboards, in the layout of Pascal Pons' solver tutorial
//! (<http://blog.gamesolver.org/solving-connect-four/06-bitboard/>).
//!
//! The 7 x 6 board is stored column by column, 7 bits per column (6 cells plus one sentinel
//! bit that stays empty), bit `col * 7 + row` with row 0 at the bottom:
//!
//! ```text
//!   6 13 20 27 34 41 48   <- sentinel row (always 0)
//!   5 12 19 26 33 40 47
//!   4 11 18 25 32 39 46
//!   3 10 17 24 31 38 45
//!   2  9 16 23 30 37 44
//!   1  8 15 22 29 36 43
//!   0  7 14 21 28 35 42   <- bottom row
//! ```
//!
//! A [`Position`] holds two words: `mask` (every stone) and `current` (the stones of the
//! player to move). Playing a column adds the bottom bit of that column to `mask`, which carries
//! up to the first empty cell; four in a row is found with three shift-and steps per direction.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::MctsError;
use crate::game::{Action, Game};

/// Board width (columns).
pub const WIDTH: usize = 7;
/// Board height (rows).
pub const HEIGHT: usize = 6;
/// Number of cells.
pub const CELLS: usize = WIDTH * HEIGHT;

const H1: u32 = HEIGHT as u32 + 1;

const fn bottom(width: usize, height: usize) -> u64 {
    let mut mask = 0u64;
    let mut col = 0;
    while col < width {
        mask |= 1u64 << (col * (height + 1));
        col += 1;
    }
    mask
}

/// One bit at the bottom of every column.
pub const BOTTOM_MASK: u64 = bottom(WIDTH, HEIGHT);
/// Every playable cell.
pub const BOARD_MASK: u64 = BOTTOM_MASK * ((1u64 << HEIGHT) - 1);

/// The bottom cell of column `col`.
#[inline]
pub const fn bottom_mask_col(col: usize) -> u64 {
    1u64 << (col as u32 * H1)
}

/// The top playable cell of column `col`.
#[inline]
pub const fn top_mask_col(col: usize) -> u64 {
    1u64 << (HEIGHT as u32 - 1 + col as u32 * H1)
}

/// Every playable cell of column `col`.
#[inline]
pub const fn column_mask(col: usize) -> u64 {
    ((1u64 << HEIGHT) - 1) << (col as u32 * H1)
}

/// Whether the stones in `pos` contain four in a row (any direction).
#[inline]
pub fn alignment(pos: u64) -> bool {
    // Horizontal, diagonal (/), diagonal (\), vertical.
    for shift in [H1, H1 + 1, H1 - 1, 1] {
        let m = pos & (pos >> shift);
        if m & (m >> (2 * shift)) != 0 {
            return true;
        }
    }
    false
}

/// Every empty cell (in `mask`'s complement) that would complete four in a row for the stones
/// `position`. Pons' `compute_winning_position`.
#[inline]
pub fn winning_cells(position: u64, mask: u64) -> u64 {
    // Vertical.
    let mut r = (position << 1) & (position << 2) & (position << 3);
    for s in [H1, H1 - 1, H1 + 1] {
        let p = (position << s) & (position << (2 * s));
        r |= p & (position << (3 * s));
        r |= p & (position >> s);
        let p = (position >> s) & (position >> (2 * s));
        r |= p & (position << s);
        r |= p & (position >> (3 * s));
    }
    r & (BOARD_MASK ^ mask)
}

/// A Connect Four position: two bitboards and the number of stones played.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Position {
    current: u64,
    mask: u64,
    moves: u8,
}

impl Position {
    /// The empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Plays a sequence of columns given as digits `1`..`7` (1 = leftmost), the notation of
    /// Pons' test sets. Rejects a non-digit, a full column, and any move that ends the game
    /// (the sets only hold positions where the game is still on).
    pub fn from_moves(moves: &str) -> Result<Self, MctsError> {
        let mut p = Self::new();
        for (index, ch) in moves.chars().enumerate() {
            let col = match ch.to_digit(10) {
                Some(d @ 1..=7) => d as usize - 1,
                _ => {
                    return Err(MctsError::BadMove {
                        index,
                        found: ch,
                        reason: "not a column digit 1..7",
                    });
                }
            };
            if !p.can_play(col) {
                return Err(MctsError::BadMove {
                    index,
                    found: ch,
                    reason: "column is full",
                });
            }
            if p.is_winning_move(col) {
                return Err(MctsError::BadMove {
                    index,
                    found: ch,
                    reason: "move wins: the game would already be over",
                });
            }
            p.play_col(col);
        }
        Ok(p)
    }

    /// Stones played so far.
    #[inline]
    pub fn moves(&self) -> usize {
        self.moves as usize
    }

    /// Stones of the player to move.
    #[inline]
    pub fn current(&self) -> u64 {
        self.current
    }

    /// Every stone on the board.
    #[inline]
    pub fn mask(&self) -> u64 {
        self.mask
    }

    /// A unique key of the position (`current + mask`), below 2^49.
    #[inline]
    pub fn key(&self) -> u64 {
        self.current + self.mask
    }

    /// Whether column `col` has room.
    #[inline]
    pub fn can_play(&self, col: usize) -> bool {
        self.mask & top_mask_col(col) == 0
    }

    /// Plays the move given as a one-bit board (from [`Position::possible`]).
    #[inline]
    pub fn play(&mut self, move_bit: u64) {
        self.current ^= self.mask;
        self.mask |= move_bit;
        self.moves += 1;
    }

    /// Plays column `col` (which must have room).
    #[inline]
    pub fn play_col(&mut self, col: usize) {
        self.play((self.mask + bottom_mask_col(col)) & column_mask(col));
    }

    /// Whether playing column `col` (which must have room) makes four in a row.
    #[inline]
    pub fn is_winning_move(&self, col: usize) -> bool {
        self.winning_position() & self.possible() & column_mask(col) != 0
    }

    /// The playable cells, one per non-full column.
    #[inline]
    pub fn possible(&self) -> u64 {
        (self.mask + BOTTOM_MASK) & BOARD_MASK
    }

    /// Empty cells that would complete four for the player to move.
    #[inline]
    pub fn winning_position(&self) -> u64 {
        winning_cells(self.current, self.mask)
    }

    /// Empty cells that would complete four for the opponent.
    #[inline]
    pub fn opponent_winning_position(&self) -> u64 {
        winning_cells(self.current ^ self.mask, self.mask)
    }

    /// Whether the player to move can win at once.
    #[inline]
    pub fn can_win_next(&self) -> bool {
        self.winning_position() & self.possible() != 0
    }

    /// Playable cells that do not hand the opponent an immediate win (Pons'
    /// `possibleNonLosingMoves`); 0 when every move loses at once. Assumes the player to move
    /// cannot win at once.
    #[inline]
    pub fn possible_non_losing_moves(&self) -> u64 {
        let mut possible = self.possible();
        let opponent_win = self.opponent_winning_position();
        let forced = possible & opponent_win;
        if forced != 0 {
            if forced & (forced - 1) != 0 {
                return 0; // two threats: cannot block both
            }
            possible = forced;
        }
        possible & !(opponent_win >> 1)
    }

    /// Pons' move score: how many winning cells the player to move has after playing `move_bit`.
    #[inline]
    pub fn move_score(&self, move_bit: u64) -> u32 {
        winning_cells(self.current | move_bit, self.mask).count_ones()
    }

    /// The stones of player 0 (who moved first) and player 1.
    pub fn stones(&self) -> [u64; 2] {
        let other = self.current ^ self.mask;
        if self.moves.is_multiple_of(2) {
            [self.current, other]
        } else {
            [other, self.current]
        }
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [first, second] = self.stones();
        for row in (0..HEIGHT).rev() {
            for col in 0..WIDTH {
                let bit = 1u64 << (col * (HEIGHT + 1) + row);
                let c = if first & bit != 0 {
                    'X'
                } else if second & bit != 0 {
                    'O'
                } else {
                    '.'
                };
                write!(f, "{c}")?;
            }
            writeln!(f)?;
        }
        write!(f, "1234567")
    }
}

/// Connect Four as a [`Game`]: a [`Position`] plus whether the last move won.
///
/// Actions are columns `0..7`. The winning move is rewarded `+1` to its player; a draw ends
/// with 0. Random rollouts run entirely on the bitboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Connect4 {
    position: Position,
    won: bool,
}

impl Connect4 {
    /// The empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// A game from a position where nobody has won yet.
    pub fn from_position(position: Position) -> Self {
        Self {
            position,
            won: false,
        }
    }

    /// See [`Position::from_moves`].
    pub fn from_moves(moves: &str) -> Result<Self, MctsError> {
        Position::from_moves(moves).map(Self::from_position)
    }

    /// The board.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// Whether the last move made four in a row.
    pub fn last_move_won(&self) -> bool {
        self.won
    }
}

/// Picks the `k`-th set bit of `bits` (k < popcount).
#[inline]
fn nth_bit(mut bits: u64, k: u32) -> u64 {
    for _ in 0..k {
        bits &= bits - 1;
    }
    bits & bits.wrapping_neg()
}

/// Uniform index below `n` from 32 random bits (Lemire's multiply-shift; the bias is below
/// `n / 2^32`, negligible for `n <= 7`).
#[inline]
fn below<R: Rng + ?Sized>(rng: &mut R, n: u32) -> u32 {
    ((u64::from(rng.next_u32()) * u64::from(n)) >> 32) as u32
}

impl Game for Connect4 {
    const NUM_ACTIONS: usize = WIDTH;

    #[inline]
    fn current_player(&self) -> u8 {
        self.position.moves % 2
    }

    #[inline]
    fn is_terminal(&self) -> bool {
        self.won || self.position.moves() == CELLS
    }

    fn legal_actions(&self, out: &mut Vec<Action>) {
        out.clear();
        if self.is_terminal() {
            return;
        }
        for col in 0..WIDTH {
            if self.position.can_play(col) {
                out.push(col as Action);
            }
        }
    }

    #[inline]
    fn apply(&mut self, action: Action) -> f64 {
        let col = action as usize;
        let bit = (self.position.mask + bottom_mask_col(col)) & column_mask(col);
        debug_assert!(bit != 0 && !self.is_terminal(), "illegal Connect Four move");
        self.won = alignment(self.position.current | bit);
        self.position.play(bit);
        if self.won { 1.0 } else { 0.0 }
    }

    fn random_rollout<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if self.is_terminal() {
            return 0.0;
        }
        let mut current = self.position.current;
        let mut mask = self.position.mask;
        // +1 when the player to move at the start wins, -1 when the other does.
        let mut sign = 1.0;
        loop {
            let possible = (mask + BOTTOM_MASK) & BOARD_MASK;
            if possible == 0 {
                return 0.0;
            }
            let bit = nth_bit(possible, below(rng, possible.count_ones()));
            if alignment(current | bit) {
                return sign;
            }
            current ^= mask;
            mask |= bit;
            sign = -sign;
        }
    }

    /// Rollout that takes an immediate win when there is one, otherwise blocks the opponent's
    /// immediate win (one at random if several), otherwise avoids moves that let the opponent win
    /// at once by playing under their winning cell, otherwise plays at random.
    fn heuristic_rollout<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if self.is_terminal() {
            return 0.0;
        }
        let mut current = self.position.current;
        let mut mask = self.position.mask;
        let mut sign = 1.0;
        loop {
            let possible = (mask + BOTTOM_MASK) & BOARD_MASK;
            if possible == 0 {
                return 0.0;
            }
            if winning_cells(current, mask) & possible != 0 {
                return sign;
            }
            let opponent_win = winning_cells(current ^ mask, mask);
            let forced = possible & opponent_win;
            let candidates = if forced != 0 {
                forced
            } else {
                let safe = possible & !(opponent_win >> 1);
                if safe != 0 { safe } else { possible }
            };
            let bit = nth_bit(candidates, below(rng, candidates.count_ones()));
            current ^= mask;
            mask |= bit;
            sign = -sign;
        }
    }
}

impl crate::encode::Encode for Connect4 {
    /// Two planes of 42 cells: the stones of the player to move, then the opponent's, cell
    /// `col * 6 + row` (row 0 at the bottom), 1.0 where a stone is.
    const INPUT_LEN: usize = 2 * CELLS;

    fn encode(&self, out: &mut [f32]) {
        out[..2 * CELLS].fill(0.0);
        let mine = self.position.current;
        let theirs = self.position.current ^ self.position.mask;
        for (plane, bits) in [(0, mine), (CELLS, theirs)] {
            let mut b = bits;
            while b != 0 {
                let bit = b.trailing_zeros() as usize;
                let (col, row) = (bit / (HEIGHT + 1), bit % (HEIGHT + 1));
                out[plane + col * HEIGHT + row] = 1.0;
                b &= b - 1;
            }
        }
    }
}

impl crate::alphazero::Symmetry for Connect4 {
    /// The left-right mirror: column `c` becomes `6 - c` in both planes and in the policy.
    fn mirror(input: &mut [f32], policy: &mut [f32]) -> bool {
        for plane in [0, CELLS] {
            for col in 0..WIDTH / 2 {
                for row in 0..HEIGHT {
                    input.swap(
                        plane + col * HEIGHT + row,
                        plane + (WIDTH - 1 - col) * HEIGHT + row,
                    );
                }
            }
        }
        policy[..WIDTH].reverse();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn masks_have_the_expected_shape() {
        assert_eq!(BOTTOM_MASK.count_ones(), 7);
        assert_eq!(BOARD_MASK.count_ones(), 42);
        assert_eq!(column_mask(6).count_ones(), 6);
        assert_eq!(top_mask_col(0), 1 << 5);
    }

    #[test]
    fn detects_all_four_directions() {
        // Vertical in column 1.
        let p = Position::from_moves("1212121").unwrap_err();
        assert!(matches!(p, MctsError::BadMove { index: 6, .. }));
        // Horizontal along the bottom.
        assert!(Position::from_moves("1122334").is_err());
        // Diagonal /: X at (0,0),(1,1),(2,2),(3,3).
        let mut g = Connect4::from_moves("1223433454").unwrap();
        assert!(!g.is_terminal());
        assert!(g.position().can_win_next());
        assert_eq!(g.apply(3), 1.0);
        assert!(g.is_terminal());
        // Diagonal \.
        let mut g = Connect4::from_moves("7665455434").unwrap();
        assert_eq!(g.apply(3), 1.0);
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        assert!(matches!(
            Position::from_moves("18"),
            Err(MctsError::BadMove {
                index: 1,
                found: '8',
                ..
            })
        ));
        assert!(matches!(
            Position::from_moves("1111111"),
            Err(MctsError::BadMove {
                index: 6,
                reason: "column is full",
                ..
            })
        ));
    }

    #[test]
    fn rollouts_end_in_a_result() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let g = Connect4::new();
        let mut total = 0.0;
        for _ in 0..2000 {
            let r = g.random_rollout(&mut rng);
            assert!(r == 1.0 || r == -1.0 || r == 0.0);
            total += r;
            let h = g.heuristic_rollout(&mut rng);
            assert!(h == 1.0 || h == -1.0 || h == 0.0);
        }
        // The first player has the advantage in random play.
        assert!(total > 0.0);
    }

    #[test]
    fn fast_rollout_agrees_with_generic_rollout_in_distribution() {
        // From a position where the mover wins at once whatever is played next, both return +1.
        let g = Connect4::from_moves("121212").unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        assert_eq!(g.heuristic_rollout(&mut rng), 1.0);
        let generic = crate::game::default_rollout(&g, &mut rng, |_, _, _| 0);
        assert_eq!(generic, 1.0);
    }
}
