//! Scenario `neuroevo-mpi` (`cargo xtask bench --mpi`): an islands model on MPI ranks against
//! the same islands in one process on threads, at 1, 2 and 4 ranks (as many worker threads),
//! with the time the migration exchanges take. See `par_core::bench::mpi` for the two phases
//! (rows measured under `mpirun`, then assembled).
//!
//! Two workloads of 4 islands each, so that the work is the same at every rank count:
//!
//! - `creature`: the soft-body creature (900 steps an evaluation), a GA of 16 per island,
//!   epochs of 2 generations: evaluation dominates, as in the runs users make;
//! - `rastrigin-30`: 30-dimensional Rastrigin, a GA of 50 per island, epochs of 5
//!   generations: evaluations take microseconds, so the exchanges show.
//!
//! Each repetition runs the islands in one process (`Archipelago::new` on `Threads` with as
//! many workers as ranks; rank 0 alone, while the other ranks wait at the start of the MPI
//! run) and on the ranks (`neuroevo::mpi::start`, one thread per rank), interleaved. Before the
//! timed repetitions one untimed run on the ranks is collected on rank 0 and compared with the
//! in-process run: the row says whether they are identical (they must be).

use std::process::ExitCode;

use neuroevo::islands::{Archipelago, IslandsConfig, MigrationConfig};
use neuroevo::mpi::{MigrationStats, collect_on_root, start};
use neuroevo::optimiser::{GaConfig, OptimiserConfig};
use neuroevo::task::{Task, TaskConfig, TaskKind};
use neuroevo::{NeuroError, RunConfig};
use par_core::bench::mpi::{ranks_cell, read_part_rows, run_mpi_parts, spread};
use par_core::bench::{
    Better, Declared, Interleave, Machine, Metric, ScenarioError, ScenarioRun, Stats, Table,
};
use par_core::{ExecConfig, Executor, Mode, Progress};
use serde::{Deserialize, Serialize};

const TARGETS: &[Declared] = &[
    Declared::new(
        "islands_mpi_generations_per_sec_creature_2r",
        "1/s",
        Better::Higher,
        "island-generations per second of 4 creature islands on 2 MPI ranks (1 thread each)",
    ),
    Declared::new(
        "islands_threads_generations_per_sec_creature_2w",
        "1/s",
        Better::Higher,
        "island-generations per second of the same 4 creature islands in one process, 2 threads",
    ),
    Declared::new(
        "islands_mpi_over_threads_creature_2r",
        "x",
        Better::Lower,
        "paired wall time of the creature islands on 2 ranks over 2 threads (1: as fast)",
    ),
    Declared::new(
        "islands_mpi_over_threads_rastrigin_2r",
        "x",
        Better::Lower,
        "paired wall time of the Rastrigin islands on 2 ranks over 2 threads",
    ),
    Declared::new(
        "islands_migration_ms_per_epoch_rastrigin_2r",
        "ms",
        Better::Lower,
        "rank 0's time in one epoch's exchange (migrants out, statuses, migrants in; waits \
         included), Rastrigin islands on 2 ranks",
    ),
    Declared::new(
        "islands_mpi_identical",
        "ratio",
        Better::Higher,
        "share of rows whose run on the ranks gave the in-process islands' results exactly",
    )
    .target(1.0),
];

/// One workload at one rank count.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IslandsRow {
    workload: String,
    ranks: usize,
    cores: usize,
    islands: usize,
    /// Island-generations per run (an island's budget, population x `generations` of the
    /// workload, lasts a little longer than `generations` where elites are not re-evaluated).
    generations: u64,
    /// Epochs per run.
    epochs: u64,
    evaluations: u64,
    /// Wall time in one process, `Threads { workers: ranks }`, seconds.
    threads_s: Stats,
    /// Wall time on the ranks, one thread each, seconds.
    mpi_s: Stats,
    /// Paired `mpi / threads`.
    mpi_over_threads: Stats,
    /// Island-generations per second.
    threads_generations_per_s: Stats,
    mpi_generations_per_s: Stats,
    /// Rank 0's time in one epoch's exchange, seconds (median over repetitions).
    exchange_per_epoch_s: f64,
    /// Messages and bytes rank 0 sent per run (migrants to other ranks).
    messages: u64,
    bytes: u64,
    /// Whether the run on the ranks gave the in-process results exactly.
    identical: bool,
}

struct Workload {
    name: &'static str,
    task: TaskConfig,
    population: usize,
    every: u64,
    /// Each island's budget is `population x generations` evaluations.
    generations: u64,
}

const ISLANDS: usize = 4;

fn workloads(full: bool) -> Vec<Workload> {
    let mut rastrigin = TaskConfig::new(TaskKind::Rastrigin);
    rastrigin.dim = 30;
    rastrigin.target = Some(-1.0);
    vec![
        Workload {
            name: "creature",
            task: TaskConfig::new(TaskKind::Creature),
            population: 16,
            every: 2,
            generations: if full { 12 } else { 4 },
        },
        Workload {
            name: "rastrigin-30",
            task: rastrigin,
            population: 50,
            every: 5,
            generations: if full { 200 } else { 60 },
        },
    ]
}

fn executor(mode: Mode) -> Result<Executor, NeuroError> {
    Ok(Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    })?)
}

fn setup(w: &Workload) -> (OptimiserConfig, RunConfig, IslandsConfig) {
    let optimiser = OptimiserConfig::Ga(GaConfig {
        population: w.population,
        ..GaConfig::default()
    });
    let run = RunConfig {
        seed: 3,
        max_evals: ISLANDS as u64 * w.population as u64 * w.generations,
        ..RunConfig::default()
    };
    let islands = IslandsConfig {
        islands: ISLANDS,
        migration: MigrationConfig {
            every: w.every,
            migrants: 3,
            ..MigrationConfig::default()
        },
    };
    (optimiser, run, islands)
}

/// The islands in one process: the final checkpoint as JSON, the evaluations and the
/// island-generations.
fn in_process(
    task: &dyn Task,
    w: &Workload,
    exec: &Executor,
) -> Result<(String, u64, u64), NeuroError> {
    let (optimiser, run, config) = setup(w);
    let mut a = Archipelago::new(task, &optimiser, &run, config)?;
    a.run(exec)?;
    let generations = a.with_islands(|_, e| e.state().generation).iter().sum();
    Ok((json(&a.checkpoint()), a.evaluations(), generations))
}

/// The islands on the ranks (collective): rank 0's final checkpoint as JSON when `collect`,
/// rank 0's migration statistics, the epochs run.
fn on_ranks(
    task: &dyn Task,
    w: &Workload,
    exec: &Executor,
    collect: bool,
) -> Result<(Option<String>, MigrationStats, u64), NeuroError> {
    let (optimiser, run, config) = setup(w);
    let mut islands = start(task, &optimiser, &run, config, None)?;
    let mut epochs = 0;
    while !islands.finished() {
        islands.step_epoch(exec)?;
        epochs += 1;
    }
    let cp = if collect {
        collect_on_root(&mut islands, Vec::new())?.map(|c| json(&c.checkpoint))
    } else {
        None
    };
    Ok((cp, islands.transport().stats(), epochs))
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn measure(args: &par_core::bench::BenchArgs) -> Result<Vec<IslandsRow>, ScenarioError> {
    let (_, ranks) = par_core::mpi::init()?;
    let root = par_core::mpi::is_root();
    let reps = if args.full { 7 } else { 3 };
    let one = executor(Mode::Threads { workers: 1 })?;
    let threads = executor(Mode::Threads { workers: ranks })?;
    let mut rows = Vec::new();
    for w in workloads(args.full) {
        let task = w.task.build()?;
        // The check: the same results on the ranks as in one process.
        let (cp, _, epochs) = on_ranks(task.as_ref(), &w, &one, true)?;
        let (identical, evaluations, generations) = if root {
            let (want, evaluations, generations) = in_process(task.as_ref(), &w, &threads)?;
            (
                cp.as_deref() == Some(want.as_str()),
                evaluations,
                generations,
            )
        } else {
            (false, 0, 0)
        };
        let failure: std::cell::RefCell<Option<NeuroError>> = Default::default();
        let stats: std::cell::RefCell<Vec<MigrationStats>> = Default::default();
        let runs = Interleave::new(reps)
            .warmup(1)
            .timed("threads", || {
                if root
                    && failure.borrow().is_none()
                    && let Err(e) = in_process(task.as_ref(), &w, &threads)
                {
                    *failure.borrow_mut() = Some(e);
                }
            })
            .timed("mpi", || {
                if failure.borrow().is_some() {
                    return;
                }
                match on_ranks(task.as_ref(), &w, &one, false) {
                    Ok((_, s, _)) => stats.borrow_mut().push(s),
                    Err(e) => *failure.borrow_mut() = Some(e),
                }
            })
            .run();
        if let Some(e) = failure.into_inner() {
            return Err(e.into());
        }
        if !root {
            continue;
        }
        // The warm-up's statistics are the first; the timed repetitions' follow.
        let stats = stats.into_inner();
        let timed = &stats[stats.len().saturating_sub(reps)..];
        let median = |f: &dyn Fn(&MigrationStats) -> f64| {
            let v: Vec<f64> = timed.iter().map(f).collect();
            Stats::from_samples(&v).map_or(0.0, |s| s.median)
        };
        let per_s = |name: &str| {
            let v: Vec<f64> = runs
                .samples(name)
                .iter()
                .map(|s| generations as f64 / s)
                .collect();
            Stats::from_samples(&v).unwrap_or(Stats {
                median: 0.0,
                min: 0.0,
                max: 0.0,
                reps: 0,
            })
        };
        rows.push(IslandsRow {
            workload: format!(
                "{} ({ISLANDS} islands of {}, {} evaluations each, epochs of {} generations)",
                w.name,
                w.population,
                w.population as u64 * w.generations,
                w.every
            ),
            ranks,
            cores: Machine::detect().cores,
            islands: ISLANDS,
            generations,
            epochs,
            evaluations,
            threads_s: runs.stats("threads"),
            mpi_s: runs.stats("mpi"),
            mpi_over_threads: runs.ratio("mpi", "threads"),
            threads_generations_per_s: per_s("threads"),
            mpi_generations_per_s: per_s("mpi"),
            exchange_per_epoch_s: median(&|s| s.exchange_s / s.epochs.max(1) as f64),
            messages: median(&|s| s.messages as f64) as u64,
            bytes: median(&|s| s.bytes as f64) as u64,
            identical,
        });
    }
    Ok(rows)
}

fn assemble(dir: &std::path::Path, run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let mut rows: Vec<IslandsRow> = read_part_rows(dir)?;
    if rows.is_empty() {
        return Err(format!("no rows in {}", dir.display()).into());
    }
    rows.sort_by(|a, b| a.workload.cmp(&b.workload).then(a.ranks.cmp(&b.ranks)));
    let reps = rows.first().map_or(0, |r| r.threads_s.reps);
    let report = &mut run.report;
    report.tables.push(Table {
        title: format!(
            "Islands on MPI ranks (one thread each) against the same islands in one process \
             (as many threads as ranks): wall time and island-generations per second, median \
             (min – max) of {reps} interleaved repetitions; MPI / threads: median of paired \
             ratios; exchange: rank 0's time in one epoch's migration (waits for the slowest \
             rank included); messages and bytes: rank 0's migrant messages per run; identical: \
             the run on the ranks gave the in-process results exactly"
        ),
        header: [
            "workload",
            "ranks = threads",
            "threads (ms)",
            "MPI (ms)",
            "MPI / threads",
            "threads gen/s",
            "MPI gen/s",
            "exchange per epoch (ms)",
            "messages",
            "bytes",
            "identical",
        ]
        .map(String::from)
        .to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.workload.clone(),
                    ranks_cell(r.ranks, r.cores),
                    spread(r.threads_s, 1e3, 1),
                    spread(r.mpi_s, 1e3, 1),
                    spread(r.mpi_over_threads, 1.0, 2),
                    spread(r.threads_generations_per_s, 1.0, 0),
                    spread(r.mpi_generations_per_s, 1.0, 0),
                    format!("{:.3}", r.exchange_per_epoch_s * 1e3),
                    r.messages.to_string(),
                    r.bytes.to_string(),
                    if r.identical { "yes" } else { "NO" }.to_string(),
                ]
            })
            .collect(),
    });
    if rows.iter().any(|r| r.ranks > r.cores) {
        report.notes.push(format!(
            "This machine has {} cores: 4 ranks over-subscribe it, so that row times the \
             sharing of cores as much as the exchanges.",
            rows[0].cores
        ));
    }
    let find = |prefix: &str, ranks: usize| {
        rows.iter()
            .find(|r| r.workload.starts_with(prefix) && r.ranks == ranks)
    };
    let workload = |r: &IslandsRow| format!("{}, {} ranks", r.workload, r.ranks);
    match find("creature", 2) {
        Some(r) => {
            report.push(
                Metric::from_stats(
                    "islands_mpi_generations_per_sec_creature_2r",
                    r.mpi_generations_per_s,
                    "1/s",
                    Better::Higher,
                )
                .with_workload(workload(r)),
            );
            report.push(
                Metric::from_stats(
                    "islands_threads_generations_per_sec_creature_2w",
                    r.threads_generations_per_s,
                    "1/s",
                    Better::Higher,
                )
                .with_workload(workload(r)),
            );
            report.push(
                Metric::from_stats(
                    "islands_mpi_over_threads_creature_2r",
                    r.mpi_over_threads,
                    "x",
                    Better::Lower,
                )
                .with_workload(workload(r)),
            );
        }
        None => {
            for name in [
                "islands_mpi_generations_per_sec_creature_2r",
                "islands_threads_generations_per_sec_creature_2w",
                "islands_mpi_over_threads_creature_2r",
            ] {
                report.not_measured(name, "no 2-rank creature row among the parts");
            }
        }
    }
    match find("rastrigin", 2) {
        Some(r) => {
            report.push(
                Metric::from_stats(
                    "islands_mpi_over_threads_rastrigin_2r",
                    r.mpi_over_threads,
                    "x",
                    Better::Lower,
                )
                .with_workload(workload(r)),
            );
            report.push(
                Metric::new(
                    "islands_migration_ms_per_epoch_rastrigin_2r",
                    r.exchange_per_epoch_s * 1e3,
                    "ms",
                    Better::Lower,
                )
                .with_workload(workload(r)),
            );
        }
        None => {
            for name in [
                "islands_mpi_over_threads_rastrigin_2r",
                "islands_migration_ms_per_epoch_rastrigin_2r",
            ] {
                report.not_measured(name, "no 2-rank Rastrigin row among the parts");
            }
        }
    }
    let identical = rows.iter().filter(|r| r.identical).count() as f64 / rows.len() as f64;
    report.push(
        Metric::new("islands_mpi_identical", identical, "ratio", Better::Higher)
            .with_workload(format!("{} rows", rows.len())),
    );
    Ok(())
}

fn main() -> ExitCode {
    run_mpi_parts("neuroevo-mpi", TARGETS, measure, assemble)
}
