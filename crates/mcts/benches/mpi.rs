//! Scenario `mcts-mpi` (`cargo xtask bench --mpi`): AlphaZero self-play on Connect Four
//! (`SelfPlayJob`: tasks of `games_per_worker` games, each task batching its games' leaves
//! into one network call per round) on `Mode::Mpi` against `Threads` at the same worker
//! count, at 1, 2 and 4 ranks, with the scaling model to 64 and 1,024 ranks. See
//! `par_core::bench::mpi` for the two-phase run (rows measured under `mpirun`, then
//! assembled) and the model.
//!
//! The network is an untrained 84-64-64 MLP (its weights seeded): a game's length and so a
//! task's time vary with the moves drawn, which is the unevenness self-play has. The gap
//! metric is threads efficiency minus MPI (dynamic) efficiency at 2 ranks against 2 threads,
//! in points: positive when MPI is the less efficient.

use std::process::ExitCode;

use mcts::alphazero::selfplay::{SelfPlayConfig, SelfPlayJob};
use mcts::alphazero::{Mlp, NetShape};
use mcts::{Connect4, Encode};
use par_core::bench::mpi::{MpiRow, RowMetric, measure_row, push_row_metric, run_mpi_scenario};
use par_core::bench::{BenchArgs, Better, Declared, ScenarioError, ScenarioRun};

const TARGETS: &[Declared] = &[
    Declared::new(
        "mpi_vs_threads_efficiency_gap_mcts_selfplay",
        "points",
        Better::Lower,
        "Threads efficiency at 2 workers minus MPI (dynamic, 1 thread per rank) efficiency at 2 \
         ranks, Connect Four self-play",
    ),
    Declared::new(
        "mpi_efficiency_mcts_selfplay_2r",
        "ratio",
        Better::Higher,
        "efficiency of MPI (dynamic, 1 thread per rank) at 2 ranks, Connect Four self-play",
    ),
    Declared::new(
        "mpi_comm_per_task_us_mcts_selfplay_2r",
        "us",
        Better::Lower,
        "communication time of the ranks other than 0 per task (a block of games), 2 ranks",
    ),
];

/// Games per run, games per task and simulations per move.
fn games(args: &BenchArgs) -> (usize, usize, u64) {
    if args.full {
        (256, 8, 200)
    } else {
        (64, 4, 100)
    }
}

fn label(args: &BenchArgs) -> String {
    let (games, per_task, sims) = games(args);
    format!(
        "Connect Four self-play ({games} games in tasks of {per_task}, {sims} simulations per \
         move, 84-64-64 MLP)"
    )
}

fn measure(args: &BenchArgs) -> Result<Vec<MpiRow>, ScenarioError> {
    par_core::mpi::init()?;
    let reps = if args.full { 7 } else { 3 };
    let (games, per_task, sims) = games(args);
    let shape = NetShape {
        input: Connect4::INPUT_LEN,
        hidden: vec![64, 64],
        actions: 7,
    };
    let config = SelfPlayConfig {
        full_sims: sims,
        games_per_worker: per_task,
        workers: 1,
        ..SelfPlayConfig::default()
    };
    let job = SelfPlayJob::new(Mlp::new(shape, 3)?, Connect4::new(), games, config, 11)?;
    Ok(measure_row(&label(args), &job, job.tasks(), reps)?
        .into_iter()
        .collect())
}

fn metrics(rows: &[MpiRow], run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let workload = label(&run.args);
    for (name, what) in [
        (
            "mpi_vs_threads_efficiency_gap_mcts_selfplay",
            RowMetric::EfficiencyGap,
        ),
        ("mpi_efficiency_mcts_selfplay_2r", RowMetric::MpiEfficiency),
        (
            "mpi_comm_per_task_us_mcts_selfplay_2r",
            RowMetric::CommPerTaskUs,
        ),
    ] {
        push_row_metric(&mut run.report, name, what, rows, &workload, 2);
    }
    Ok(())
}

fn main() -> ExitCode {
    run_mpi_scenario("mcts-mpi", TARGETS, measure, metrics)
}
