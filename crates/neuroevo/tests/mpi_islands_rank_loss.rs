//! A rank that dies during an islands run on MPI ranks ends the run on every surviving rank
//! with an error naming that rank, never a hang: run by every rank under `mpirun` with 2 or
//! more ranks (with one rank there is no survivor and the program says it skipped).
//!
//! The last rank (or the one `MPI_RANK_LOSS_VICTIM` names) kills itself with SIGKILL before
//! its third epoch. The launcher must let the others live on (Open MPI: `--mca
//! orte_abort_on_non_zero_status 0`, which `cargo xtask test` passes; Slurm's `srun` does by
//! default): each survivor checks that its run returned `ExecError::RankLost` naming that
//! rank within `LIMIT` of the loss, prints `islands rank-loss ok`, and exits 0.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use neuroevo::NeuroError;
use neuroevo::RunConfig;
use neuroevo::islands::{IslandsConfig, MigrationConfig};
use neuroevo::optimiser::{GaConfig, OptimiserConfig};
use neuroevo::task::{TaskConfig, TaskKind};
use par_core::{ExecConfig, ExecError, Executor, Mode, Progress};

/// The longest a survivor may take, from the start of the epoch in which the victim died, to
/// learn of the loss: the liveness time-out (5 s) plus an epoch plus the notice.
const LIMIT: Duration = Duration::from_secs(15);

fn main() -> ExitCode {
    let exec = match Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(Mode::Threads { workers: 1 })
    }) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot build an executor: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (rank, size) = match par_core::mpi::init() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start MPI: {e}");
            return ExitCode::FAILURE;
        }
    };
    if size < 2 {
        println!("mpi_islands_rank_loss: skipped with 1 rank (no rank would survive the loss)");
        return ExitCode::SUCCESS;
    }
    let victim = std::env::var("MPI_RANK_LOSS_VICTIM")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&v| v < size)
        .unwrap_or(size - 1);
    let mut c = TaskConfig::new(TaskKind::Rastrigin);
    c.dim = 8;
    c.target = Some(-1.0);
    let task = c.build().expect("a valid task");
    let optimiser = OptimiserConfig::Ga(GaConfig {
        population: 20,
        ..GaConfig::default()
    });
    let run = RunConfig {
        seed: 5,
        max_evals: 1_000_000_000,
        ..RunConfig::default()
    };
    let config = IslandsConfig {
        islands: 2 * size,
        migration: MigrationConfig {
            every: 2,
            ..MigrationConfig::default()
        },
    };
    let outcome = (|| -> Result<u64, NeuroError> {
        let mut islands = neuroevo::mpi::start(task.as_ref(), &optimiser, &run, config, None)?;
        loop {
            if islands.epoch() == 2 && rank == victim {
                // SAFETY: dying abruptly is the point of this test.
                unsafe {
                    libc::raise(libc::SIGKILL);
                }
            }
            let started = Instant::now();
            if let Err(e) = islands.step_epoch(&exec) {
                let took = started.elapsed();
                println!(
                    "rank {rank}: epoch {} ended after {:.1} s: {e}",
                    islands.epoch(),
                    took.as_secs_f64()
                );
                return if took < LIMIT {
                    Err(e)
                } else {
                    Ok(islands.epoch())
                };
            }
            if islands.epoch() > 1000 {
                return Ok(islands.epoch());
            }
        }
    })();
    let code = match outcome {
        Err(NeuroError::Exec(ExecError::RankLost {
            rank: lost,
            seen_by,
            ..
        })) if lost == victim && seen_by == rank => {
            println!("rank {rank}: islands rank-loss ok: rank {lost} reported lost");
            ExitCode::SUCCESS
        }
        other => {
            println!(
                "rank {rank}: islands rank-loss FAILED: {:?}",
                other.map_err(|e| e.to_string())
            );
            ExitCode::FAILURE
        }
    };
    // The launcher ends the whole job as soon as one rank exits without MPI_Finalize (which a
    // rank that lost another must skip): linger, so that every survivor's line is printed.
    std::thread::sleep(Duration::from_secs(1));
    code
}
