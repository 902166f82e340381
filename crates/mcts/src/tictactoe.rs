//! Tic-tac-toe on two 9-bit boards: a small game whose value (a draw) the tests can check.

use serde::{Deserialize, Serialize};

use crate::game::{Action, Game};

const LINES: [u16; 8] = [
    0b000_000_111,
    0b000_111_000,
    0b111_000_000,
    0b001_001_001,
    0b010_010_010,
    0b100_100_100,
    0b100_010_001,
    0b001_010_100,
];

/// Tic-tac-toe. Actions are cells `0..9`, row by row from the top left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TicTacToe {
    boards: [u16; 2],
    to_move: u8,
    won: bool,
}

impl TicTacToe {
    /// The empty board, player 0 (X) to move.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stones of player 0 and player 1 as 9-bit masks.
    pub fn boards(&self) -> [u16; 2] {
        self.boards
    }

    /// Whether the last move made three in a row.
    pub fn last_move_won(&self) -> bool {
        self.won
    }

    fn occupied(&self) -> u16 {
        self.boards[0] | self.boards[1]
    }
}

impl Game for TicTacToe {
    const NUM_ACTIONS: usize = 9;

    fn current_player(&self) -> u8 {
        self.to_move
    }

    fn is_terminal(&self) -> bool {
        self.won || self.occupied() == 0x1ff
    }

    fn legal_actions(&self, out: &mut Vec<Action>) {
        out.clear();
        if self.is_terminal() {
            return;
        }
        let free = !self.occupied() & 0x1ff;
        out.extend((0..9).filter(|i| free & (1 << i) != 0));
    }

    fn apply(&mut self, action: Action) -> f64 {
        debug_assert!(action < 9 && self.occupied() & (1 << action) == 0 && !self.is_terminal());
        let me = self.to_move as usize;
        self.boards[me] |= 1 << action;
        self.won = LINES.iter().any(|&l| self.boards[me] & l == l);
        self.to_move ^= 1;
        if self.won { 1.0 } else { 0.0 }
    }
}

/// The exact value of a tic-tac-toe state for the player to move (+1 win, 0 draw, -1 loss), by
/// plain negamax: the reference for the search tests.
pub fn negamax(state: &TicTacToe) -> i32 {
    if state.is_terminal() {
        return 0; // the reward of the last move was already counted by the caller
    }
    let mut actions = Vec::with_capacity(9);
    state.legal_actions(&mut actions);
    let mut best = i32::MIN;
    for a in actions {
        let mut next = *state;
        let value = if next.apply(a) > 0.0 {
            1
        } else {
            -negamax(&next)
        };
        best = best.max(value);
    }
    best
}

impl crate::encode::Encode for TicTacToe {
    /// Two planes of 9 cells: the marks of the player to move, then the opponent's.
    const INPUT_LEN: usize = 18;

    fn encode(&self, out: &mut [f32]) {
        let me = self.to_move as usize & 1;
        for cell in 0..9 {
            out[cell] = f32::from(self.boards[me] >> cell & 1);
            out[9 + cell] = f32::from(self.boards[1 - me] >> cell & 1);
        }
    }
}

impl crate::alphazero::Symmetry for TicTacToe {
    /// The left-right mirror: cell `(r, c)` becomes `(r, 2 - c)`.
    fn mirror(input: &mut [f32], policy: &mut [f32]) -> bool {
        for r in 0..3 {
            for plane in [0, 9] {
                input.swap(plane + r * 3, plane + r * 3 + 2);
            }
            policy.swap(r * 3, r * 3 + 2);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_board_is_a_draw() {
        assert_eq!(negamax(&TicTacToe::new()), 0);
    }

    #[test]
    fn a_row_wins() {
        let mut g = TicTacToe::new();
        for a in [0, 3, 1, 4] {
            assert_eq!(g.apply(a), 0.0);
        }
        assert_eq!(negamax(&g), 1);
        assert_eq!(g.apply(2), 1.0);
        assert!(g.is_terminal());
    }
}
