//! Scenario `mfg-mpi` (`cargo xtask bench --mpi`): the common-noise run at K = 40 paths and a
//! parameter sweep on `Mode::Mpi` against `Threads` at the same worker count, at 1, 2 and 4
//! ranks, with the scaling model to 64 and 1,024 ranks. See `par_core::bench::mpi` for the
//! two-phase run (rows measured under `mpirun`, then assembled) and the model.
//!
//! Workloads: `common noise` (the `common_noise` example's LQ game with an Ornstein-Uhlenbeck
//! target, K = 40 antithetic paths: 40 tasks, one conditional solve each, on a 201 x 201 grid
//! (401 x 401 in a full run): at the example's default 51 x 51 a path takes half a
//! millisecond and a whole run 20 ms, less than MPI's fixed costs; each path returns its `u`
//! and `m` fields, so the result grows with the grid as the work does)
//! and `sweep` (the `sweep` example's 3 x 3 x 3 sweep over sigma, eps and c on a finer grid,
//! 27 tasks whose solve times differ by the point). The gap metrics are threads efficiency
//! minus MPI (dynamic) efficiency at 2 ranks against 2 threads, in points: positive when MPI is
//! the less efficient, so "within 5 points" is a gap of at most 5.

use std::process::ExitCode;

use mfg::MfgConfig;
use mfg::closed_form::LqGame;
use mfg::common_noise::{CommonNoiseJob, NoiseConfig};
use mfg::noise::{NoiseProcess, Sampling};
use mfg::sweep::{SweepConfig, SweepJob};
use par_core::bench::mpi::{MpiRow, RowMetric, measure_row, push_row_metric, run_mpi_scenario};
use par_core::bench::{BenchArgs, Better, Declared, ScenarioError, ScenarioRun};

const TARGETS: &[Declared] = &[
    Declared::new(
        "mpi_vs_threads_efficiency_gap_mfg",
        "points",
        Better::Lower,
        "Threads efficiency at 2 workers minus MPI (dynamic, 1 thread per rank) efficiency at 2 \
         ranks, common noise K = 40: at most 5 means MPI within 5 points of Threads",
    )
    .target(5.0),
    Declared::new(
        "mpi_efficiency_mfg_common_noise_2r",
        "ratio",
        Better::Higher,
        "efficiency of MPI (dynamic, 1 thread per rank) at 2 ranks, common noise K = 40",
    ),
    Declared::new(
        "mpi_comm_per_task_us_mfg_common_noise_2r",
        "us",
        Better::Lower,
        "communication time of the ranks other than 0 per task, common noise K = 40, 2 ranks",
    ),
    Declared::new(
        "mpi_gather_per_task_us_mfg_common_noise_2r",
        "us",
        Better::Lower,
        "rank 0's time receiving and decoding per result gathered, common noise K = 40, 2 ranks",
    ),
    Declared::new(
        "mpi_vs_threads_efficiency_gap_mfg_sweep",
        "points",
        Better::Lower,
        "Threads efficiency at 2 workers minus MPI (dynamic) efficiency at 2 ranks, the sweep",
    ),
    Declared::new(
        "mpi_efficiency_mfg_sweep_2r",
        "ratio",
        Better::Higher,
        "efficiency of MPI (dynamic, 1 thread per rank) at 2 ranks, the sweep",
    ),
];

/// The `common_noise` example's job at K paths on an n x n grid.
fn common_noise(paths: usize, n: usize) -> Result<CommonNoiseJob, ScenarioError> {
    let lq = LqGame {
        eps: 1.0,
        c: 1.0,
        sigma: 0.5,
        horizon: 1.0,
    };
    Ok(CommonNoiseJob::new(
        lq.path_target_config([-2.5, 2.5], 0.3, 0.4, n, n),
        NoiseConfig {
            paths,
            seed: 1,
            process: NoiseProcess::OrnsteinUhlenbeck {
                kappa: 1.0,
                mean: 0.0,
                sigma: 0.5,
                x0: 0.4,
            },
            sampling: Sampling::Antithetic,
            level: 0.95,
        },
    )?)
}

/// The `sweep` example's built-in 3 x 3 x 3 sweep on an n x n grid.
fn sweep(n: usize) -> SweepConfig {
    SweepConfig::sigma_eps_c_27(MfgConfig {
        nx: n,
        nt: n,
        ..MfgConfig::default()
    })
}

fn noise_label(n: usize) -> String {
    format!("common noise (K = 40 antithetic paths, {n} x {n} grid)")
}

/// The common-noise grid: finer in a full run.
fn noise_n(args: &BenchArgs) -> usize {
    if args.full { 401 } else { 201 }
}

fn sweep_label(n: usize) -> String {
    format!("sweep (3 x 3 x 3 points, {n} x {n} grid)")
}

/// The sweep's grid: finer in a full run.
fn sweep_n(args: &BenchArgs) -> usize {
    if args.full { 201 } else { 101 }
}

fn measure(args: &BenchArgs) -> Result<Vec<MpiRow>, ScenarioError> {
    par_core::mpi::init()?;
    let reps = if args.full { 9 } else { 5 };
    let mut rows = Vec::new();
    let n = noise_n(args);
    let noise = common_noise(40, n)?;
    if let Some(row) = measure_row(&noise_label(n), &noise, 40, reps)? {
        rows.push(row);
    }
    let n = sweep_n(args);
    let job = SweepJob::new(&sweep(n))?;
    if let Some(row) = measure_row(&sweep_label(n), &job, job.tasks(), reps)? {
        rows.push(row);
    }
    Ok(rows)
}

fn metrics(rows: &[MpiRow], run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let (noise, sweep) = (
        noise_label(noise_n(&run.args)),
        sweep_label(sweep_n(&run.args)),
    );
    let report = &mut run.report;
    for (name, what, workload) in [
        (
            "mpi_vs_threads_efficiency_gap_mfg",
            RowMetric::EfficiencyGap,
            &noise,
        ),
        (
            "mpi_efficiency_mfg_common_noise_2r",
            RowMetric::MpiEfficiency,
            &noise,
        ),
        (
            "mpi_comm_per_task_us_mfg_common_noise_2r",
            RowMetric::CommPerTaskUs,
            &noise,
        ),
        (
            "mpi_gather_per_task_us_mfg_common_noise_2r",
            RowMetric::GatherPerTaskUs,
            &noise,
        ),
        (
            "mpi_vs_threads_efficiency_gap_mfg_sweep",
            RowMetric::EfficiencyGap,
            &sweep,
        ),
        (
            "mpi_efficiency_mfg_sweep_2r",
            RowMetric::MpiEfficiency,
            &sweep,
        ),
    ] {
        push_row_metric(report, name, what, rows, workload, 2);
    }
    Ok(())
}

fn main() -> ExitCode {
    run_mpi_scenario("mfg-mpi", TARGETS, measure, metrics)
}
