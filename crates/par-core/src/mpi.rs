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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_mpi_a_process_is_rank_0_of_1() {
        assert_eq!((rank(), size(), is_root()), (0, 1, true));
        assert!(default_threads_per_rank() >= 1);
    }
}
