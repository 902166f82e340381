//! Neuroevolution: evolve the weights of fixed-topology neural-network controllers (and points
//! of benchmark functions) with a GA, CoSyNE or CMA-ES, alone or as an islands model that
//! really migrates, with every generation evaluated through `par-core`.
//!
//! # Pieces
//!
//! | module | what |
//! |---|---|
//! | [`network`] | fixed-topology MLPs (tanh; optional Elman recurrence), evaluated without allocation |
//! | [`optimiser`] | one ask/tell interface ([`optimiser::AskTell`]) over a GA, CoSyNE and CMA-ES, each with a validated serde config |
//! | [`task`] | one [`task::Task`] trait over cart-pole and double-pole balancing (Markov and non-Markov), the soft-body creature and benchmark functions |
//! | [`evolution`] | the run loop: budgets, solutions, history, checkpoints, deterministic seeding |
//! | [`islands`] | islands with ring, random and complete topologies, best or random emigrants, worst or random replacement; in one process or across processes |
//! | [`hyper`] | hyperparameter search as par-core worker processes under the thread budget, appended results, resume |
//! | [`files`] | atomic writes and line-appended logs with torn-line recovery |
//!
//! # Methods and references
//!
//! * **GA**: generational, tournament / linear-rank (Baker 1985) / truncation selection,
//!   simulated binary crossover (Deb and Agrawal, Complex Systems 9, 1995), blend crossover
//!   BLX-alpha (Eshelman and Schaffer 1993), Gaussian mutation, elitism.
//! * **CoSyNE**: Gomez, Schmidhuber and Miikkulainen, "Accelerated neural evolution through
//!   cooperatively coevolved synapses", JMLR 9:937-965, 2008.
//! * **CMA-ES**: Hansen, "The CMA evolution strategy: a tutorial", arXiv:1604.00772; sep-CMA-ES:
//!   Ros and Hansen, PPSN X, 2008; injection of migrants: Hansen, "Injecting external solutions
//!   into CMA-ES", arXiv:1110.4181, 2011.
//! * **Pole balancing**: Wieland, "Evolving neural network controllers for unstable systems",
//!   IJCNN 1991; damping fitness and generalisation test: Gruau, Whitley and Pyeatt, GP 1996;
//!   figures compared in the bench: Stanley and Miikkulainen, Evolutionary Computation 10(2),
//!   2002 (NEAT, ESP), and Gomez et al. 2008.
//! * **Islands**: Cantú-Paz, "Migration policies, selection pressure, and parallel evolutionary
//!   algorithms", Journal of Heuristics 7, 2001.
//!
//! # What parallelism changes
//!
//! Nothing in the numbers. A generation's evaluations are par-core tasks whose inputs are a pure
//! function of `(run seed, generation, individual)`; results come back in index order; the
//! optimisers' generators are derived from `(run seed, generation)`. A run's history, best
//! genome and evaluation counts are bit-identical for any worker count, chunk size and
//! execution mode, islands in one process give the same results on any worker count, and
//! islands in separate processes give those same results whenever every migrant arrives (the
//! tests check all three).
//!
//! # Islands across processes and on a cluster
//!
//! Migration is written once against [`islands::Transport`]: [`islands::MemoryTransport`] for
//! islands in one process and [`islands::DirectoryTransport`] for processes sharing a folder.
//! Migration over MPI (messages along the topology) is planned as one more implementation of
//! that trait once par-core has its `Mpi` mode; it is not here yet.
//!
//! # Examples
//!
//! `examples/evolve.rs` is the command line (`--help` lists everything); `examples/hyper.rs`
//! runs a hyperparameter search. In code:
//!
//! ```
//! use neuroevo::optimiser::{CmaesConfig, OptimiserConfig};
//! use neuroevo::task::{TaskConfig, TaskKind};
//! use neuroevo::{Evolution, NeuroError, RunConfig, Status};
//! use par_core::{ExecConfig, Executor, Mode};
//!
//! # fn main() -> Result<(), NeuroError> {
//! let task = TaskConfig { dim: 5, target: Some(1e-6), ..TaskConfig::new(TaskKind::Rosenbrock) }.build()?;
//! let exec = Executor::new(ExecConfig::with_mode(Mode::Threads { workers: 2 }))?;
//! let run = RunConfig { seed: 1, max_evals: 20_000, ..RunConfig::default() };
//! let mut evo = Evolution::new(task.as_ref(), OptimiserConfig::Cmaes(CmaesConfig::default()), run)?;
//! let status = evo.run::<NeuroError>(&exec, |_, record| {
//!     // record.generation, record.evaluations, record.best, record.mean, record.diversity
//!     Ok(())
//! })?;
//! assert_eq!(status, Status::Solved);
//! assert!(evo.state().solution.as_ref().unwrap().evaluations <= 20_000);
//! # Ok(())
//! # }
//! ```

pub mod error;
pub mod evolution;
pub mod files;
pub mod hyper;
pub mod islands;
pub mod network;
pub mod optimiser;
pub mod task;

pub use error::NeuroError;
pub use evolution::{
    Checkpoint, Evolution, GenerationRecord, RunConfig, RunState, Solution, Status,
};
