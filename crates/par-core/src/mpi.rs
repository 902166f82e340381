//! Running under MPI: which rank this process is, and how a binary uses [`crate::Mode::Mpi`].
//!
//! These functions exist in every build; without the `mpi` feature, or before MPI is
//! initialised, a process is rank 0 of 1, so code written for MPI runs unchanged without it.
//!
//! # A binary under `mpirun` or `srun`
//!
//! MPI is initialised once per process, by the first [`crate::Executor`] built with
//! [`crate::Mode::Mpi`] (or by `init`), with `MPI_THREAD_MULTIPLE` requested, and finalised
//! when the process exits. Every rank runs the whole program; each [`crate::Executor::run`] is
//! collective and returns the same output on every rank, so only side effects need a guard:
//!
//! ```no_run
//! # #[cfg(feature = "mpi")]
//! # fn main() -> Result<(), par_core::ExecError> {
//! use par_core::{ExecConfig, Executor, Mode};
//! # use par_core::{Job, RemoteJob, TaskContext};
//! # #[derive(serde::Serialize, serde::Deserialize)] struct Squares;
//! # impl Job for Squares { type Output = u64; fn run(&self, c: &mut TaskContext) -> u64 { (c.index * c.index) as u64 } }
//! # impl RemoteJob for Squares { const NAME: &'static str = "doc.squares"; }
//! let threads = par_core::mpi::default_threads_per_rank();
//! let exec = Executor::new(ExecConfig::with_mode(Mode::mpi(threads)))?;
//! let out = exec.run(&Squares, 1000)?; // every rank calls it
//! if par_core::mpi::is_root() {
//!     println!("{}", out.report); // covers every rank
//! }
//! let total: u64 = out.into_values()?.iter().sum(); // the same on every rank
//! # let _ = total;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "mpi"))]
//! # fn main() {}
//! ```
//!
//! Two tools for state that only rank 0 may touch, such as a journal of finished results that
//! a killed job resumes from: [`share_from_root`] gives every rank rank 0's copy of a value
//! (what the journal held), and [`crate::RemoteJob::received_on_root`] hands rank 0 each result
//! of the other ranks as it arrives (to append it), so that one process writes the file.
//!
//! `mpirun -np 4 ./target/release/examples/pi --mode mpi` starts it on four ranks;
//! `PAR_CORE_MPI_LIVENESS_S` sets how long a silent rank is waited for before the run ends
//! with [`crate::ExecError::RankLost`] (5 s by default).

/// This process's rank in `MPI_COMM_WORLD`, or 0 when MPI is not initialised.
pub fn rank() -> usize {
    #[cfg(feature = "mpi")]
    if let Some(rt) = crate::backend::mpi::initialised() {
        return rt.rank;
    }
    0
}

/// The number of ranks in `MPI_COMM_WORLD`, or 1 when MPI is not initialised.
pub fn size() -> usize {
    #[cfg(feature = "mpi")]
    if let Some(rt) = crate::backend::mpi::initialised() {
        return rt.size;
    }
    1
}

/// Whether this process is rank 0 (always true without MPI): the one that prints and writes
/// files after a collective run.
pub fn is_root() -> bool {
    rank() == 0
}

/// The two MPI modes a crate's MPI test binary checks its jobs under: one thread per rank with
/// dynamic chunks from rank 0, and two threads per rank with static blocks (together they
/// cover both schedules and hybrid MPI + threads).
#[cfg(feature = "mpi")]
pub fn check_modes() -> [crate::Mode; 2] {
    use crate::{Mode, MpiSchedule};
    [
        Mode::Mpi {
            threads_per_rank: 1,
            schedule: MpiSchedule::Dynamic,
        },
        Mode::Mpi {
            threads_per_rank: 2,
            schedule: MpiSchedule::Static,
        },
    ]
}

/// The tally of a test binary that runs its checks on every rank (`harness = false`, started
/// by `mpirun`, as the MPI tests of `cargo xtask test` are): rank 0 prints each passing check,
/// any rank prints its own failures with its rank, and [`CheckTally::finish`] gives the exit
/// status, so that the launcher fails the job when any rank failed a check.
#[derive(Debug, Default)]
pub struct CheckTally {
    passed: usize,
    failed: usize,
}

impl CheckTally {
    /// An empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records check `name`, run under `mode` (any label), with its outcome.
    pub fn record(
        &mut self,
        name: &str,
        mode: impl std::fmt::Display,
        outcome: Result<(), String>,
    ) {
        match outcome {
            Ok(()) => {
                self.passed += 1;
                if is_root() {
                    println!("test {name} [{mode}] ... ok");
                }
            }
            Err(why) => {
                self.failed += 1;
                println!("test {name} [{mode}] ... FAILED on rank {}: {why}", rank());
            }
        }
    }

    /// Checks failed so far on this rank.
    pub fn failed(&self) -> usize {
        self.failed
    }

    /// Prints this rank's counts (rank 0 always, other ranks when they failed a check) and
    /// returns success when no check failed on this rank.
    pub fn finish(self) -> std::process::ExitCode {
        if is_root() || self.failed > 0 {
            println!(
                "rank {} of {}: {} passed, {} failed",
                rank(),
                size(),
                self.passed,
                self.failed
            );
        }
        if self.failed == 0 {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        }
    }
}

/// Ranks of this job on this node, from the launcher's environment (Open MPI's
/// `OMPI_COMM_WORLD_LOCAL_SIZE`, MPICH's `MPI_LOCALNRANKS`, Slurm's `SLURM_NTASKS_PER_NODE`),
/// 1 when none is set.
pub fn local_ranks() -> usize {
    [
        "OMPI_COMM_WORLD_LOCAL_SIZE",
        "MPI_LOCALNRANKS",
        "SLURM_NTASKS_PER_NODE",
    ]
    .iter()
    .find_map(|k| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.split(['(', ',']).next()?.trim().parse::<usize>().ok())
    })
    .filter(|&n| n > 0)
    .unwrap_or(1)
}

/// Threads per rank that fill this node without over-subscribing it: the thread budget
/// ([`crate::budget::available_threads`]) divided by [`local_ranks`], at least 1.
pub fn default_threads_per_rank() -> usize {
    (crate::budget::available_threads() / local_ranks()).max(1)
}

/// Point-to-point messages between ranks outside a run, with a run's liveness guarantee (a
/// lost rank is an [`crate::ExecError::RankLost`] on every survivor, never a hang): for
/// programs whose ranks exchange data along a pattern of their own, such as islands that
/// migrate along a ring.
#[cfg(feature = "mpi")]
pub use crate::backend::mpi::Peers;

/// Initialises MPI now (otherwise the first `Mode::Mpi` executor does), and returns this
/// process's rank and the number of ranks. Idempotent.
#[cfg(feature = "mpi")]
pub fn init() -> Result<(usize, usize), crate::ExecError> {
    let rt = crate::backend::mpi::runtime()?;
    Ok((rt.rank, rt.size))
}

/// Rank 0's value on every rank: a collective call when `exec` runs in [`crate::Mode::Mpi`]
/// (every rank calls it at the same point of the program), where `value` is called on rank 0
/// only and what it returns reaches every rank; in any other mode `value` is simply called.
///
/// For the state a run starts from that only rank 0 may read (a journal of finished results,
/// for example): rank 0 reads it, every rank gets the same copy, and the code after the run
/// stays the same on every rank. `T` travels with postcard, like a job; a type that needs a
/// self-describing format (internally tagged enums) travels as its JSON text. Costs one run of
/// one task (a few milliseconds, plus sending `T` to every rank twice: with the job, and in
/// the broadcast of the results).
///
/// ```
/// # fn main() -> Result<(), par_core::ExecError> {
/// use par_core::{ExecConfig, Executor, Mode};
/// let exec = Executor::new(ExecConfig::with_mode(Mode::Threads { workers: 2 }))?;
/// // Under Mode::Mpi only rank 0 would read the file; here the closure just runs.
/// let done: Vec<usize> = par_core::mpi::share_from_root(&exec, || vec![0, 2, 5])?;
/// assert_eq!(done, [0, 2, 5]);
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// What [`crate::Executor::run`] returns in `Mpi` mode (a lost rank, for example).
pub fn share_from_root<T>(
    exec: &crate::Executor,
    value: impl FnOnce() -> T,
) -> Result<T, crate::ExecError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync,
{
    if !matches!(exec.config().mode, crate::Mode::Mpi { .. }) {
        return Ok(value());
    }
    let job = RootValue(is_root().then(value));
    let mut values = exec.run(&job, 1)?.into_values()?;
    values
        .pop()
        .ok_or_else(|| crate::ExecError::Mpi("rank 0's value did not arrive".into()))
}

/// The job of [`share_from_root`]: rank 0's value (the one every rank decodes), returned by
/// its one task.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(bound = "T: serde::Serialize + serde::de::DeserializeOwned")]
struct RootValue<T>(Option<T>);

impl<T: Clone + Send + Sync> crate::Job for RootValue<T> {
    type Output = T;
    fn run(&self, _: &mut crate::TaskContext) -> T {
        // Every rank runs rank 0's job, which holds the value.
        self.0.clone().expect("rank 0's job carries the value")
    }
}

impl<T> crate::RemoteJob for RootValue<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync,
{
    const NAME: &'static str = "par-core.mpi.share-from-root";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_mpi_the_value_is_computed_in_place() {
        let exec = crate::Executor::new(crate::ExecConfig::with_mode(crate::Mode::Sequential))
            .expect("sequential");
        let mut called = 0;
        let v = share_from_root(&exec, || {
            called += 1;
            (7u32, "seven".to_string())
        })
        .expect("no run");
        assert_eq!((v, called), ((7, "seven".to_string()), 1));
    }

    #[test]
    fn without_mpi_a_process_is_rank_0_of_1() {
        assert_eq!((rank(), size(), is_root()), (0, 1, true));
        assert!(default_threads_per_rank() >= 1);
    }
}
