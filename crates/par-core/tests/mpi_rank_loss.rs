//! A rank that dies ends the run on every surviving rank with an error naming the rank and
//! its tasks, within 10 s: run by every rank under `mpirun` with 2 or more ranks (with one
//! rank there is no survivor and the program says it skipped).
//!
//! The last rank kills itself (SIGKILL) in its first task. The launcher must let the others
//! live on (Open MPI: `--mca orte_abort_on_non_zero_status 0`, `cargo xtask test` passes
//! it; Slurm's `srun` does by default): each survivor checks that its run returned
//! `ExecError::RankLost` naming that rank within 10 s, prints `rank-loss ok`, and exits 0.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use par_core::{ExecConfig, ExecError, Executor, Job, Mode, Progress, RemoteJob, TaskContext};
use serde::{Deserialize, Serialize};

/// The longest a survivor may take to learn of the loss.
const LIMIT: Duration = Duration::from_secs(10);

/// Tasks of 20 ms; the `victim` rank dies in its first one.
#[derive(Serialize, Deserialize)]
struct Victim {
    victim: usize,
}

impl Job for Victim {
    type Output = usize;
    fn run(&self, ctx: &mut TaskContext) -> usize {
        if par_core::mpi::rank() == self.victim {
            // SAFETY: dying abruptly is the point of this test.
            unsafe {
                libc::raise(libc::SIGKILL);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
        ctx.index
    }
}

impl RemoteJob for Victim {
    const NAME: &'static str = "mpi-rank-loss.victim";
}

fn main() -> ExitCode {
    let exec = match Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(Mode::mpi(1))
    }) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot start MPI: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (rank, size) = (par_core::mpi::rank(), par_core::mpi::size());
    if size < 2 {
        println!("mpi_rank_loss: skipped with 1 rank (no rank would survive the loss)");
        return ExitCode::SUCCESS;
    }
    // The last rank by default; `MPI_RANK_LOSS_VICTIM=0` checks the loss of rank 0 instead.
    let victim = std::env::var("MPI_RANK_LOSS_VICTIM")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&v| v < size)
        .unwrap_or(size - 1);
    let start = Instant::now();
    let outcome = exec.run(&Victim { victim }, 40 * size);
    let took = start.elapsed();
    match outcome {
        Err(ExecError::RankLost {
            rank: lost,
            seen_by,
            ref tasks,
            ..
        }) if lost == victim && seen_by == rank && took < LIMIT => {
            println!(
                "rank {rank}: rank-loss ok: rank {lost} reported lost after {:.1} s (tasks {tasks:?})",
                took.as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        other => {
            println!(
                "rank {rank}: rank-loss FAILED after {:.1} s: {:?}",
                took.as_secs_f64(),
                other.map(|o| o.report)
            );
            ExitCode::FAILURE
        }
    }
}
