//! Scenario `par-core-mpi` (`cargo xtask bench --mpi`): `Mode::Mpi` against `Threads` at the
//! same worker count on synthetic CPU-bound workloads, at 1, 2 and 4 ranks, and the scaling
//! model to 64 and 1,024 ranks. See `par_core::bench::mpi` for the two-phase run (rows
//! measured under `mpirun`, then assembled) and the model.
//!
//! Workloads: `uneven` (one task in eight is eight times longer than the others, placed by a
//! hash of the index), `ramp` (task cost growing along the index, as in a sweep whose later
//! points converge more slowly: contiguous blocks differ most) and `even` (every task the
//! same). Tasks are
//! xorshift loops calibrated on rank 0 (its job is the one every rank runs).

use std::hint::black_box;
use std::process::ExitCode;

use par_core::bench::mpi::{MpiRow, find_row, measure_row, run_mpi_scenario};
use par_core::bench::{Better, Declared, Interleave, Metric, ScenarioError, ScenarioRun};
use par_core::seed::splitmix64;
use par_core::{Job, RemoteJob, TaskContext};
use serde::{Deserialize, Serialize};

const TARGETS: &[Declared] = &[
    Declared::new(
        "mpi_vs_threads_efficiency_gap_synthetic_2r",
        "points",
        Better::Lower,
        "Threads efficiency minus MPI (dynamic) efficiency at 2 workers, uneven synthetic tasks",
    )
    .target(5.0),
    Declared::new(
        "mpi_efficiency_2r",
        "ratio",
        Better::Higher,
        "efficiency of Mpi (dynamic, 1 thread per rank) at 2 ranks, uneven synthetic tasks",
    ),
    Declared::new(
        "mpi_overhead_per_task_us_2r",
        "us",
        Better::Lower,
        "(wall x ranks - busy) / tasks of Mpi (dynamic) at 2 ranks, uneven synthetic tasks",
    ),
    Declared::new(
        "mpi_gather_per_task_us_2r",
        "us",
        Better::Lower,
        "rank 0's time receiving and decoding per result gathered, 2 ranks",
    ),
    Declared::new(
        "mpi_dynamic_over_static_2r",
        "x",
        Better::Higher,
        "paired static / dynamic wall time at 2 ranks, uneven tasks (above 1: dynamic faster)",
    ),
    Declared::new(
        "mpi_dynamic_over_static_4r",
        "x",
        Better::Higher,
        "paired static / dynamic wall time at 4 ranks, uneven tasks (above 1: dynamic faster)",
    ),
    Declared::new(
        "mpi_dynamic_over_static_ramp_2r",
        "x",
        Better::Higher,
        "paired static / dynamic wall time at 2 ranks, cost growing along the index",
    ),
];

/// Task `i` spins `iters` xorshift steps, times `slow` for one index in eight; with `ramp`,
/// times `0.25 + 1.5 i / n` (a cost that grows with the index, mean 1).
#[derive(Serialize, Deserialize)]
struct Spin {
    iters: u64,
    slow: u64,
    ramp: bool,
}

impl Job for Spin {
    type Output = u64;
    fn run(&self, ctx: &mut TaskContext) -> u64 {
        let mut steps = if splitmix64(ctx.index as u64).is_multiple_of(8) {
            self.iters * self.slow
        } else {
            self.iters
        };
        if self.ramp {
            let share = ctx.index as f64 / ctx.n_tasks.max(1) as f64;
            steps = (steps as f64 * (0.25 + 1.5 * share)) as u64;
        }
        let mut x = ctx.index as u64 | 1;
        for _ in 0..steps {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        black_box(x)
    }
}

impl RemoteJob for Spin {
    const NAME: &'static str = "par-core.bench.mpi.spin";
}

/// Xorshift steps per microsecond on this rank.
fn calibrate() -> f64 {
    let iters = 2_000_000u64;
    let job = Spin {
        iters,
        slow: 1,
        ramp: false,
    };
    let runs = Interleave::new(5)
        .timed("spin", || {
            black_box(job.run(&mut TaskContext::new(0, 1, 2, 0)));
        })
        .run();
    iters as f64 / (runs.stats("spin").median * 1e6)
}

const UNEVEN: &str = "uneven";
const RAMP: &str = "ramp";
const EVEN: &str = "even";

fn measure(args: &par_core::bench::BenchArgs) -> Result<Vec<MpiRow>, ScenarioError> {
    // Rank 0's job is the one every rank runs: only rank 0 calibrates (the others would
    // compete with it for the cores).
    par_core::mpi::init()?;
    let per_us = if par_core::mpi::is_root() {
        calibrate()
    } else {
        1.0
    };
    let (task_ms, n, reps) = if args.full {
        (2.0, 2000, 9)
    } else {
        (0.5, 400, 5)
    };
    let iters = (task_ms * 1e3 * per_us).round() as u64;
    let mut rows = Vec::new();
    for (name, slow, ramp, shape) in [
        (UNEVEN, 8, false, ", 1 in 8 is 8x"),
        (RAMP, 1, true, " on average, 0.25x to 1.75x along the index"),
        (EVEN, 1, false, ""),
    ] {
        let job = Spin { iters, slow, ramp };
        let label = format!("{name} ({n} tasks of {task_ms} ms{shape})");
        if let Some(row) = measure_row(&label, &job, n, reps)? {
            rows.push(row);
        }
    }
    Ok(rows)
}

fn metrics(rows: &[MpiRow], run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let uneven = |ranks| {
        rows.iter()
            .find(|r| r.workload.starts_with(UNEVEN) && r.ranks == ranks)
            .map(|r| r.workload.clone())
            .and_then(|w| find_row(rows, &w, ranks))
    };
    let report = &mut run.report;
    match uneven(2) {
        Some(r) => {
            let workload = format!("{} tasks, 2 ranks", r.tasks);
            let gap = 100.0 * (r.threads_efficiency.median - r.dynamic_efficiency.median);
            report.push(
                Metric::new(
                    "mpi_vs_threads_efficiency_gap_synthetic_2r",
                    gap,
                    "points",
                    Better::Lower,
                )
                .with_workload(&workload),
            );
            report.push(
                Metric::efficiency("mpi_efficiency_2r", r.dynamic_efficiency)
                    .with_workload(&workload),
            );
            report.push(
                Metric::new(
                    "mpi_overhead_per_task_us_2r",
                    r.overhead_per_task_s * 1e6,
                    "us",
                    Better::Lower,
                )
                .with_workload(&workload),
            );
            report.push(
                Metric::new(
                    "mpi_gather_per_task_us_2r",
                    r.gather_per_task_s * 1e6,
                    "us",
                    Better::Lower,
                )
                .with_workload(&workload),
            );
            report.push(
                Metric::from_stats(
                    "mpi_dynamic_over_static_2r",
                    r.dynamic_over_static,
                    "x",
                    Better::Higher,
                )
                .with_workload(&workload),
            );
        }
        None => {
            for name in [
                "mpi_vs_threads_efficiency_gap_synthetic_2r",
                "mpi_efficiency_2r",
                "mpi_overhead_per_task_us_2r",
                "mpi_gather_per_task_us_2r",
                "mpi_dynamic_over_static_2r",
            ] {
                report.not_measured(name, "no 2-rank run among the parts");
            }
        }
    }
    let ramp = rows
        .iter()
        .find(|r| r.workload.starts_with(RAMP) && r.ranks == 2);
    match ramp {
        Some(r) => report.push(
            Metric::from_stats(
                "mpi_dynamic_over_static_ramp_2r",
                r.dynamic_over_static,
                "x",
                Better::Higher,
            )
            .with_workload(format!("{} tasks, 2 ranks", r.tasks)),
        ),
        None => report.not_measured(
            "mpi_dynamic_over_static_ramp_2r",
            "no 2-rank run among the parts",
        ),
    }
    match uneven(4) {
        Some(r) => report.push(
            Metric::from_stats(
                "mpi_dynamic_over_static_4r",
                r.dynamic_over_static,
                "x",
                Better::Higher,
            )
            .with_workload(format!("{} tasks, 4 ranks on {} cores", r.tasks, r.cores)),
        ),
        None => report.not_measured(
            "mpi_dynamic_over_static_4r",
            "no 4-rank run among the parts",
        ),
    }
    Ok(())
}

fn main() -> ExitCode {
    run_mpi_scenario("par-core-mpi", TARGETS, measure, metrics)
}
