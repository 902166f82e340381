//! `par-core`: the one place parallelism lives in this workspace.
//!
//! A caller writes its work once as "task `i` of `n`" — a closure or a [`Job`] — and picks the
//! execution [`Mode`] at run time:
//!
//! | mode | where tasks run | for |
//! |---|---|---|
//! | [`Mode::Sequential`] | the calling thread | baselines, tiny runs |
//! | [`Mode::Threads`] | a thread pool the executor owns (never rayon's global pool) | CPU-bound tasks of 10 µs and up |
//! | [`Mode::Processes`] | worker processes of the same binary, tasks over pipes | isolation from crashes and hangs, time-outs |
//! | [`Mode::Auto`] | measures the first tasks, then applies the break-even rule | when task size is unknown |
//! | [`Mode::Mpi`] | the ranks of an MPI job, threads inside each (feature `mpi`) | clusters, many nodes |
//!
//! Inside, each mode is one implementation of one crate-private backend interface (one file
//! per mode under `src/backend/`), so that the conformance suite runs over every mode
//! unchanged and a new mode is one file.
//!
//! # Determinism contract
//!
//! Task `i` gets its own generator seeded from `(run seed, i)` ([`seed::task_rng`]), results
//! come back in index order whatever the completion order, and floating-point sums use a fixed
//! chunking ([`Executor::sum_f64`]). A run's output is therefore **bit-identical for every
//! mode and every worker count**; a retried task sees the same generator and computes the
//! same result.
//!
//! # Run reports
//!
//! Every run returns a [`RunReport`] beside its results: wall time, set-up, marshalling,
//! per-task min/median/max, busy time per worker, efficiency = busy / (wall × workers), load
//! imbalance, retries and failures. Failed tasks (panic, crash, time-out) are reported with
//! their index; every other result is kept.
//!
//! # The break-even rule
//!
//! With `N` tasks of time `T`, `W` workers and a parallel overhead `O`, the parallel run takes
//! about `N T / W + O` against `N T` sequentially, so parallelism pays when
//! `T > O / (N (1 − 1/W))`. [`Mode::Auto`] measures `T` on the first tasks and `O` on the pool,
//! and records its numbers and choice in [`RunReport::mode_reason`].
//!
//! # MPI
//!
//! With the feature `mpi`, [`Mode::Mpi`] runs the tasks over the ranks of an MPI job (started
//! with `mpirun` or `srun`); [`mpi`](mod@mpi) says how a binary uses it. Every rank calls
//! [`Executor::run`] collectively and gets the same [`RunOutput`] (results gathered on rank 0
//! in index order, then broadcast), bit-identical to `Sequential`. A task that panics is
//! reported with its index; a rank that dies ends the run on every survivor with
//! [`ExecError::RankLost`] naming it and its tasks. The default schedule is
//! [`MpiSchedule::Dynamic`] (chunks handed out by rank 0): it loses one round trip per chunk,
//! where [`MpiSchedule::Static`] blocks lose the gap between the slowest block and the mean,
//! which dominates when task cost follows the index; `cargo xtask bench --mpi` measures both
//! (its `ramp`, `uneven` and `even` workloads) beside `Threads`.
//!
//! # Features
//!
//! - `mpi`: [`Mode::Mpi`] on rsmpi and the system's MPI library (Open MPI:
//!   `cargo xtask setup --mpi`). Without it, `Mode::Mpi` still exists and
//!   [`Executor::new`] returns [`ExecError::FeatureMissing`].
//!
//! # Also here
//!
//! - [`budget`]: one level of parallelism per process; nested calls run inline.
//! - [`batcher`]: many threads submit single requests, one evaluator runs them as batches.
//! - [`bench`](mod@bench): the benchmark result schema that `cargo xtask bench` reads.
//! - [`journal`]: JSON-lines results that a killed run resumes from.
//! - [`mpi`](mod@mpi): this process's rank, the rank count, `is_root`, threads per rank, and
//!   rank 0's value on every rank ([`mpi::share_from_root`]).
//! - [`progress`]: progress bars on a terminal, silence elsewhere.
//!
//! # Logging
//!
//! par-core reports through [`tracing`](https://docs.rs/tracing) at `debug` level: the numbers
//! behind each [`Mode::Auto`] decision and every lost worker process. A binary that wants to
//! see them installs a subscriber of its choice (for example `tracing-subscriber`'s `fmt` with
//! an `EnvFilter` read from `RUST_LOG`); without one they cost nothing. The workspace's examples
//! print what a user needs on standard error and install none.
//!
//! # Example
//!
//! ```
//! use par_core::{ExecConfig, Executor, Mode};
//! use rand::Rng;
//!
//! # fn main() -> Result<(), par_core::ExecError> {
//! let exec = Executor::new(ExecConfig { seed: 1, ..ExecConfig::with_mode(Mode::Threads { workers: 2 }) })?;
//! let out = exec.map(1000, |ctx| {
//!     // A Monte Carlo estimate of pi from 100 points per task.
//!     (0..100).filter(|_| {
//!         let (x, y): (f64, f64) = (ctx.rng.random(), ctx.rng.random());
//!         x * x + y * y < 1.0
//!     }).count()
//! })?;
//! eprintln!("{}", out.report);
//! let hits: usize = out.into_values()?.into_iter().sum();
//! let pi = 4.0 * hits as f64 / 100_000.0;
//! assert!((pi - std::f64::consts::PI).abs() < 0.05);
//! # Ok(())
//! # }
//! ```

mod backend;
pub mod batcher;
pub mod bench;
pub mod budget;
pub mod config;
mod error;
mod executor;
pub mod journal;
pub mod mpi;
pub mod process;
pub mod progress;
pub mod provenance;
pub mod reduce;
pub mod report;
pub mod seed;

pub use config::{ExecConfig, Mode, MpiSchedule, Progress, WorkerCommand};
pub use error::ExecError;
pub use executor::{Executor, Job, RemoteJob, RunOutput, TaskContext};
pub use report::{FailureKind, MpiReport, RankReport, RunReport, TaskFailure};
pub use seed::TaskRng;
