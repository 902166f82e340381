//! [`Encode`]: how a policy-value network reads a state.
//!
//! AlphaZero-style search evaluates states with a network whose input is a fixed-length vector
//! of `f32`. A game or environment that implements [`Encode`] says how long that vector is and
//! fills it for a state. The encoding is from the point of view of the player to move (for a
//! two-player game, "my stones" and "their stones" rather than "first" and "second" player), so
//! that one network serves both sides.

use crate::game::Game;

/// A game or environment whose states a policy-value network can read.
pub trait Encode: Game {
    /// Length of the input vector written by [`Encode::encode`].
    const INPUT_LEN: usize;

    /// Writes the features of this state, from the point of view of the player to move, into
    /// `out`, whose length is [`Encode::INPUT_LEN`]; every entry is overwritten.
    fn encode(&self, out: &mut [f32]);
}
