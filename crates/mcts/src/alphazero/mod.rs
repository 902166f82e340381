//! AlphaZero: PUCT search guided by a policy-value network, the network and its training in
//! Rust, and self-play in which each worker plays many games and evaluates their leaves in
//! batches.
//!
//! # The pieces
//!
//! - [`puct`]: the PUCT search of AlphaZero, with priors and values from an [`Evaluator`],
//!   leaf batching with virtual loss, Dirichlet noise at the root, a temperature schedule for
//!   the move played, the final move by visits or by value, and tree reuse between moves.
//! - [`net`]: a multilayer perceptron policy-value network (ReLU trunk, softmax policy head,
//!   tanh value head) with hand-written forward and backward passes in `f32` (every matrix
//!   product one `matrixmultiply::sgemm`), the AlphaZero loss and the Adam optimiser.
//! - [`replay`]: a fixed-capacity ring buffer of training samples, with optional mirror
//!   augmentation ([`Symmetry`]).
//! - [`selfplay`]: episode-level parallelism: `W` worker threads each play several games at
//!   once and evaluate their leaves as one batch, each with the shared network or all through
//!   one network thread (par-core's [`Batcher`](par_core::batcher::Batcher)).
//! - [`train`]: one loop iteration (self-play, then training steps on the replay buffer).
//! - [`checkpoint`]: network and optimiser state saved with postcard; a corrupt or
//!   wrong-shape file is a typed error naming it.
//! - [`training_state`]: a checkpoint with the replay buffer and the batch generator, to
//!   resume a training run exactly where it stopped.
//! - [`onnx`]: a network exported elsewhere, evaluated through ONNX Runtime
//!   ([`OnnxEvaluator`]), usable wherever the crate's own network is.
//!
//! # Rewards, values and targets
//!
//! The search is generic over `G: Game + Encode` and follows the return convention of
//! [`crate::game`]: rewards go to the player who acted, and a node's statistics are the returns
//! of the player who took the action into it, backed up with
//! `G = r + gamma * G'` when the same player moves next and `G = r - gamma * G'` when the other
//! does ([`crate::game::backup_step`]). Rewards collected along the path **and** the network's
//! value at the leaf are both backed up, so the search works for single-agent environments with
//! per-step rewards and discounting as well as for board games.
//!
//! The value head is a `tanh`, so its targets must lie in `[-1, 1]`. The value target of a
//! state is the discounted return that followed it in the self-played episode, from the point
//! of view of the player to move there. For a board game with `+1` for the winning move that is
//! the final outcome, `+1`, `0` or `-1`. For an environment whose returns can leave `[-1, 1]`,
//! scale its rewards in its [`Game::apply`](crate::Game::apply) (for instance divide by the
//! largest possible return) so that the returns stay in `[-1, 1]`; the search compares values
//! with the exploration term `c_puct * P * sqrt(N) / (1 + n)`, so that scale also sets how
//! much the search explores.
//!
//! # References
//!
//! - D. Silver et al., "Mastering the game of Go without human knowledge", Nature 550, 2017,
//!   doi:10.1038/nature24270 (AlphaGo Zero: PUCT, self-play, the loss, Dirichlet noise,
//!   temperature).
//! - D. Silver et al., "A general reinforcement learning algorithm that masters chess, shogi,
//!   and Go through self-play", Science 362, 2018, doi:10.1126/science.aar6404 (AlphaZero).
//! - C. Rosin, "Multi-armed bandits with episode context", Annals of Mathematics and
//!   Artificial Intelligence 61, 2011, doi:10.1007/s10472-011-9258-6 (PUCB, the origin of PUCT).
//! - D. Kingma, J. Ba, "Adam: a method for stochastic optimization", ICLR 2015,
//!   arXiv:1412.6980.
//! - D. Wu, "Accelerating self-play learning in Go", 2019, arXiv:1902.10565 (KataGo: playout
//!   cap randomisation, a shared batched evaluator).
//! - J. Bonnet, "AlphaZero.jl", <https://github.com/jonathan-laurent/AlphaZero.jl> (many
//!   games at once feeding one batched network).
//! - G. Chaslot, M. Winands, J. van den Herik, "Parallel Monte-Carlo tree search", Computers
//!   and Games 2008, doi:10.1007/978-3-540-87608-3_6 (virtual loss).
//! - G. Marsaglia, W. Tsang, "A simple method for generating gamma variables", ACM TOMS 26(3),
//!   2000, doi:10.1145/358407.358414 (the method of `rand_distr`'s gamma draws behind the
//!   Dirichlet noise).

pub mod checkpoint;
pub mod net;
pub mod onnx;
pub mod puct;
pub mod replay;
pub mod selfplay;
pub mod train;
pub mod training_state;

pub use checkpoint::{Checkpoint, TrainingSession};
pub use net::{Adam, AdamConfig, Losses, Mlp, NetShape};
pub use onnx::OnnxEvaluator;
pub use puct::{Puct, PuctConfig};
pub use replay::{ReplayBuffer, Sample, Symmetry};
pub use selfplay::{BatchedEvaluator, SelfPlayConfig, SelfPlayStats, self_play};
pub use train::{TrainConfig, Trainer};
pub use training_state::TrainingState;

use crate::error::MctsError;

/// What a search asks of a network: for a batch of encoded states, a probability for every
/// action and a value.
///
/// `inputs` holds `n` states of [`Evaluator::input_len`] values each (as written by
/// [`Encode::encode`](crate::Encode::encode)). The evaluator writes `n` rows of
/// [`Evaluator::num_actions`] probabilities into `policy` (over every action; the search masks
/// them to the legal actions and renormalises) and `n` values in `[-1, 1]` into `values`, each
/// the expected return for the player to move in that state.
pub trait Evaluator: Send + Sync {
    /// Length of one encoded state.
    fn input_len(&self) -> usize;
    /// Number of actions (the policy's width).
    fn num_actions(&self) -> usize;
    /// Evaluates `values.len()` states. Fails only when a shared evaluator has gone away.
    fn evaluate(
        &self,
        inputs: &[f32],
        policy: &mut [f32],
        values: &mut [f32],
    ) -> Result<(), MctsError>;
}

/// An evaluator with no knowledge: uniform priors and value 0. With it, PUCT is a plain
/// best-first search whose only information is the rewards found in the tree (used by tests).
#[derive(Debug, Clone, Copy)]
pub struct UniformEvaluator {
    /// Length of one encoded state.
    pub input_len: usize,
    /// Number of actions.
    pub num_actions: usize,
}

impl Evaluator for UniformEvaluator {
    fn input_len(&self) -> usize {
        self.input_len
    }
    fn num_actions(&self) -> usize {
        self.num_actions
    }
    fn evaluate(
        &self,
        _inputs: &[f32],
        policy: &mut [f32],
        values: &mut [f32],
    ) -> Result<(), MctsError> {
        policy.fill(1.0 / self.num_actions as f32);
        values.fill(0.0);
        Ok(())
    }
}

impl<E: Evaluator + ?Sized> Evaluator for std::sync::Arc<E> {
    fn input_len(&self) -> usize {
        (**self).input_len()
    }
    fn num_actions(&self) -> usize {
        (**self).num_actions()
    }
    fn evaluate(
        &self,
        inputs: &[f32],
        policy: &mut [f32],
        values: &mut [f32],
    ) -> Result<(), MctsError> {
        (**self).evaluate(inputs, policy, values)
    }
}
