//! Monte Carlo tree search with tree-parallel search, on games with an exact oracle.
//!
//! # What is here
//!
//! - [`Game`]: one trait for two-player zero-sum games and single-agent environments with
//!   rewards and discounting (rewards go to the player who acted; returns are backed up with a
//!   sign flip when the player to move changes and a discount otherwise; see [`game`]).
//! - Games: [`TicTacToe`] and [`Connect4`] on bitboards (Pascal Pons' 7 x (6 + 1) layout).
//! - [`Solver`]: an exact Connect Four solver (alpha-beta negamax, transposition table,
//!   score-based move ordering, iterative null-window search, after Pons' tutorial), used as the
//!   oracle of the tests and of the Pons benchmark ([`test_set`]: the sets, and the one
//!   mistake-rate measure every player goes through, [`test_set::count_mistakes`]).
//! - [`Uct`]: sequential UCT with random or heuristic rollouts, an arena of nodes with
//!   contiguous children, the final move by visits or by value, tree reuse between moves, and
//!   a budget of simulations or of wall-clock time per move ([`Uct::search_for`]).
//! - [`TreeParallelUct`]: tree parallelism, several threads on one shared tree with lock-free
//!   atomic statistics, virtual loss of configurable weight, and a compare-and-swap expansion
//!   protocol.
//! - [`alphazero`]: AlphaZero (Silver et al. 2017, 2018): PUCT search with priors and values
//!   from a policy-value network, leaf batching with virtual loss, root Dirichlet noise, a
//!   temperature schedule and tree reuse; an MLP network trained in Rust (Adam); a replay
//!   buffer with mirror augmentation; self-play of many games at once, each worker batching
//!   its games' leaves into one network call or all workers sharing one batched evaluator
//!   thread (par-core's `Batcher`); checkpoints; the training loop (example `az_train`);
//!   networks exported elsewhere evaluated through ONNX Runtime (`OnnxEvaluator`).
//! - [`RootParallelUct`]: root parallelism, independent trees run as par-core tasks and merged
//!   at the root (bit-identical for any worker count).
//!
//! Examples (`cargo run -p mcts --release --example NAME -- ...`):
//!
//! - `pons --set FILE --sims N [--threads T] [--limit N] [--out FILE.json]`: the mistake rate of
//!   a search configuration on one of Pons' test sets, judged by the solver;
//! - `play [--sims N] [--threads T] [--engine-first]`: Connect Four against the engine;
//! - `speed [SIMS] [THREADS] [VIRTUAL_LOSS]`: simulations per second from the empty board;
//! - `az_train -- (--minutes M | --iterations N) --out DIR [--resume]`: the AlphaZero loop on
//!   Connect Four (self-play, training, evaluation) with a progress bar, checkpoints and a
//!   JSON log, all written atomically after every iteration; a killed run resumes from its
//!   last finished iteration as if it had never stopped;
//! - `az_match`: a checkpoint against pure MCTS.
//!
//! Every example answers `--help`, checks its numbers and output paths before it starts, and
//! turns bad input into an error message naming it (never a panic).
//!
//! The benchmark scenario `mcts` (`cargo bench -p mcts --bench scenarios`, run by
//! `cargo xtask bench`) measures UCT speed, tree-parallel scaling with virtual loss on and off,
//! the Pons mistake rates at 1k and 10k simulations and at a fixed wall-clock time per move
//! with 1 and 2 threads, and AlphaZero (network evaluations per
//! second against batch size, leaf batching, self-play workers, the win rate against UCT-200,
//! mistake rates along training).
//!
//! The spacecraft inspection environment that used to live here (relative orbit, voxel sensor,
//! belief, episodes planned with these searches) is its own crate, `inspection`, which depends
//! on this one: its [`Game`] and [`Encode`] implementation is an example of a single-agent
//! environment with rewards and discounting, and its AlphaZero self-play drives
//! [`alphazero::selfplay::drive`].
//!
//! # Parallelism
//!
//! Tree parallelism uses `std::thread::scope` directly rather than par-core's executor: the
//! executor runs independent tasks with ordered results, while the search threads cooperate
//! on one shared tree for the length of a search (see [`tree_parallel`]). Root parallelism,
//! whose trees are independent, runs through par-core's `Executor` (see [`root_parallel`]).
//!
//! # Determinism
//!
//! Every search takes its seed from its config ([`UctConfig::seed`]); nothing reads OS
//! randomness. A sequential search is bit-reproducible. A tree-parallel search with one thread
//! is too; with several threads the interleaving of their updates (and hence the tree) varies
//! from run to run, while every count stays exact (no lost updates).
//!
//! # References
//!
//! - L. Kocsis, C. Szepesvári, "Bandit based Monte-Carlo planning", ECML 2006,
//!   doi:10.1007/11871842_29 (UCT).
//! - C. Browne et al., "A survey of Monte Carlo tree search methods", IEEE TCIAIG 4(1), 2012,
//!   doi:10.1109/TCIAIG.2012.2186810.
//! - G. Chaslot, M. Winands, J. van den Herik, "Parallel Monte-Carlo tree search", Computers
//!   and Games 2008, doi:10.1007/978-3-540-87608-3_6 (tree parallelism, virtual loss).
//! - M. Enzenberger, M. Müller, "A lock-free multithreaded Monte-Carlo tree search algorithm",
//!   Advances in Computer Games 2009, doi:10.1007/978-3-642-12993-3_2.
//! - P. Pons, "Solving Connect 4: how to build a perfect AI",
//!   <http://blog.gamesolver.org/solving-connect-four/>, and its test sets.
//!
//! # Example
//!
//! ```
//! use mcts::{Connect4, Game, Solver, Uct, UctConfig};
//! // X threatens to complete column 1; O must block it.
//! let state = Connect4::from_moves("12121")?;
//! let mut search = Uct::new(UctConfig { seed: 1, ..UctConfig::default() }, state)?;
//! let best = search.search(5_000).best_action;
//! assert_eq!(best, Some(0));
//! # Ok::<(), mcts::MctsError>(())
//! ```

pub mod alphazero;
mod arena;
pub mod connect4;
pub mod encode;
pub mod error;
pub mod game;
pub mod root_parallel;
pub mod solver;
pub mod test_set;
pub mod tictactoe;
pub mod tree_parallel;
pub mod uct;

pub use connect4::{Connect4, Position};
pub use encode::Encode;
pub use error::MctsError;
pub use game::{Action, Game};
pub use root_parallel::RootParallelUct;
pub use solver::{Outcome, Solver};
pub use test_set::{TestPosition, load_test_set};
pub use tictactoe::TicTacToe;
pub use tree_parallel::{ParallelConfig, TreeParallelUct};
pub use uct::{ChildStats, FinalMove, Rollout, Search, SearchSummary, Uct, UctConfig};
