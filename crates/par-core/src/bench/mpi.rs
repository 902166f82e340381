//! The MPI measurements of `cargo xtask bench --mpi`: one row per workload and rank count,
//! and the scaling model that extrapolates the rows to 64 and 1,024 ranks.
//!
//! An MPI bench program (par-core's is `benches/mpi.rs`) hands its body to
//! [`run_mpi_scenario`]. `xtask` runs it twice over:
//!
//! 1. under `mpirun -np R` for each R of 1, 2, 4, with `--mpi-part DIR`: every rank calls the
//!    program's `measure` function, which calls [`measure_row`] once per workload (a collective
//!    call); rank 0 writes the rows to `DIR/ranks-R.json`;
//! 2. once without `mpirun`, with `--mpi-assemble DIR`: the rows of every part are read back
//!    and turned into the scenario's report (tables, plots, the model) by [`report_rows`], and
//!    the program's `metrics` function turns them into its declared metrics.
//!
//! # A row
//!
//! [`measure_row`] runs `Sequential` and `Threads { workers: R }` on rank 0 and
//! `Mpi { threads_per_rank: 1 }` with both schedules on every rank, as variants of one
//! [`Interleave`] (the other ranks wait while rank 0 runs the in-process variants), so the
//! MPI and thread figures come from the same repetitions: efficiencies are medians of paired
//! per-repetition ratios `sequential / (variant × workers)`.
//!
//! # Adding a crate's workload
//!
//! (A workload that is not one executor run, with rows of its own type, uses
//! [`run_mpi_parts`] and [`read_part_rows`] instead: the same two phases, its own tables.)
//!
//! A crate that runs on MPI adds `benches/mpi.rs` (`harness = false`, `required-features =
//! ["mpi"]`) whose `main` is `run_mpi_scenario("<crate>-mpi", TARGETS, measure, metrics)`:
//! `measure` builds its job (mfg K = 40, mpc segments, mcts self-play) and calls
//! [`measure_row`] for each; `metrics` pushes the crate's declared metrics from the rows with
//! [`push_row_metric`] (for example `mpi_vs_threads_efficiency_gap_mfg`, an
//! [`efficiency_gap_points`]); then it adds its line to `MPI_REGISTRY` in
//! `xtask/src/bench.rs`.
//!
//! # The scaling model
//!
//! From the row at the largest measured rank count `Rm` that does not over-subscribe the
//! machine (one thread per rank; the largest there is otherwise): mean task time `T`, longest
//! task `Tmax`, per-task communication on the ranks other than 0 `o` (the CPU time of their
//! driver thread, which does nothing but MPI calls and (de)serialisation, per task; it includes
//! the driver's polling, so it is an upper bound), rank 0's serial cost per gathered task `g`
//! (receiving and decoding a result), its time answering one chunk request `s`, and the
//! broadcast of the results `b(Rm)`. For `N` tasks on `R` ranks with the dynamic schedule:
//!
//! ```text
//! wall(N, R) = N (T + o) / R      the work, shared
//!            + Tmax               the last task started ends the run
//!            + N g (R − 1) / R    rank 0 decodes every other rank's results, one by one
//!            + chunks(N, R) s     rank 0 answers every chunk request, one by one
//!            + b(Rm) log2 R / log2 Rm    a tree broadcast of the results
//! chunks(N, R) ≈ 2R (1 + ln(N / 2R))   (guided chunks: remaining / 2R)
//! efficiency(N, R) = N T / (R wall(N, R))
//! ```
//!
//! Rank 0's serial decoding caps the efficiency at `T / (T + o + (R − 1) g)` however many
//! tasks there are. A workload *stops paying* at `R` ranks below the task count where the modelled
//! efficiency falls under 50 %; the report gives that count for 64 and 1,024 ranks, or says
//! that rank 0's serial share keeps it under 50 % at any count. The model is a projection:
//! it never becomes a metric with a target.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{
    BenchArgs, Better, Declared, Interleave, Machine, Metric, Plot, ScenarioError, ScenarioReport,
    ScenarioRun, Series, Stats, Table,
};
use crate::{ExecConfig, ExecError, Executor, Mode, MpiSchedule, Progress, RemoteJob, RunReport};

/// One workload at one rank count: the MPI schedules beside `Threads` with as many workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MpiRow {
    /// What ran, for example `synthetic uneven (200 tasks, 1 ms median)`.
    pub workload: String,
    /// MPI ranks (one thread each); `Threads` ran with as many workers.
    pub ranks: usize,
    /// Cores of the machine (ranks beyond it over-subscribe it).
    pub cores: usize,
    /// Tasks per run.
    pub tasks: usize,
    /// Wall time of `Sequential`, seconds.
    pub sequential_s: Stats,
    /// Wall time of `Threads { workers: ranks }`, seconds.
    pub threads_s: Stats,
    /// Wall time of `Mpi` with the dynamic schedule, seconds.
    pub dynamic_s: Stats,
    /// Wall time of `Mpi` with the static schedule, seconds.
    pub static_s: Stats,
    /// Efficiency of `Threads`: paired `sequential / (threads × ranks)`.
    pub threads_efficiency: Stats,
    /// Efficiency of the dynamic schedule.
    pub dynamic_efficiency: Stats,
    /// Efficiency of the static schedule.
    pub static_efficiency: Stats,
    /// Paired `static / dynamic` wall time: above 1 when the dynamic schedule is faster.
    pub dynamic_over_static: Stats,
    /// Dynamic schedule: `(wall × ranks − busy) / tasks`, seconds (median over repetitions).
    pub overhead_per_task_s: f64,
    /// Dynamic schedule: communication time of the ranks other than 0 per task they ran,
    /// seconds (median); 0 with one rank.
    pub comm_per_task_s: f64,
    /// Dynamic schedule: rank 0's time receiving and decoding per task gathered, seconds.
    pub gather_per_task_s: f64,
    /// Dynamic schedule: rank 0's time answering one chunk request, seconds (median).
    pub per_message_s: f64,
    /// Dynamic schedule: encoding and broadcasting the results on rank 0, seconds (median).
    pub broadcast_s: f64,
    /// Mean task time, seconds.
    pub task_mean_s: f64,
    /// Longest task, seconds.
    pub task_max_s: f64,
}

/// The rows of `rows` for `workload`, by rank count.
pub fn find_row<'a>(rows: &'a [MpiRow], workload: &str, ranks: usize) -> Option<&'a MpiRow> {
    rows.iter()
        .find(|r| r.workload == workload && r.ranks == ranks)
}

fn config(mode: Mode) -> ExecConfig {
    ExecConfig {
        seed: 7,
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    }
}

/// Measures one row: collective (every rank calls it with the same arguments); returns the
/// row on rank 0 and `None` elsewhere.
pub fn measure_row<J: RemoteJob>(
    workload: &str,
    job: &J,
    n: usize,
    reps: usize,
) -> Result<Option<MpiRow>, ExecError> {
    // The MPI executors first: the first one initialises MPI, which tells the rank count.
    let dynamic = Executor::new(config(Mode::Mpi {
        threads_per_rank: 1,
        schedule: MpiSchedule::Dynamic,
    }))?;
    let stat = Executor::new(config(Mode::Mpi {
        threads_per_rank: 1,
        schedule: MpiSchedule::Static,
    }))?;
    let ranks = crate::mpi::size();
    let root = crate::mpi::is_root();
    let seq = Executor::new(config(Mode::Sequential))?;
    let threads = Executor::new(config(Mode::Threads { workers: ranks }))?;
    let failure: RefCell<Option<ExecError>> = RefCell::new(None);
    let reports: RefCell<Vec<RunReport>> = RefCell::new(Vec::new());
    let run = |exec: &Executor, keep: bool| {
        if failure.borrow().is_some() {
            return;
        }
        match exec.run(job, n).and_then(|o| {
            let report = o.report.clone();
            o.into_values().map(|_| report)
        }) {
            Ok(report) if keep => reports.borrow_mut().push(report),
            Ok(_) => {}
            Err(e) => *failure.borrow_mut() = Some(e),
        }
    };
    let runs = Interleave::new(reps)
        .warmup(1)
        .timed("sequential", || {
            if root {
                run(&seq, false);
            }
        })
        .timed("threads", || {
            if root {
                run(&threads, false);
            }
        })
        .timed("dynamic", || run(&dynamic, true))
        .timed("static", || run(&stat, false))
        .run();
    if let Some(e) = failure.into_inner() {
        return Err(e);
    }
    if !root {
        return Ok(None);
    }
    let reports = reports.into_inner();
    let median = |f: &dyn Fn(&RunReport) -> f64| {
        let v: Vec<f64> = reports.iter().map(f).collect();
        Stats::from_samples(&v).map_or(0.0, |s| s.median)
    };
    let mpi = |r: &RunReport| r.mpi.clone().expect("an MPI run has an MPI report");
    let others = |r: &RunReport| -> (usize, f64) {
        let m = mpi(r);
        m.per_rank
            .iter()
            .skip(1)
            .fold((0, 0.0), |(t, c), x| (t + x.tasks, c + x.comm_s))
    };
    Ok(Some(MpiRow {
        workload: workload.to_string(),
        ranks,
        cores: Machine::detect().cores,
        tasks: n,
        sequential_s: runs.stats("sequential"),
        threads_s: runs.stats("threads"),
        dynamic_s: runs.stats("dynamic"),
        static_s: runs.stats("static"),
        threads_efficiency: runs.efficiency("sequential", "threads", ranks),
        dynamic_efficiency: runs.efficiency("sequential", "dynamic", ranks),
        static_efficiency: runs.efficiency("sequential", "static", ranks),
        dynamic_over_static: runs.ratio("static", "dynamic"),
        overhead_per_task_s: median(&|r| r.overhead_per_task_s()),
        comm_per_task_s: median(&|r| {
            let (tasks, comm) = others(r);
            if tasks == 0 { 0.0 } else { comm / tasks as f64 }
        }),
        gather_per_task_s: median(&|r| {
            let (tasks, _) = others(r);
            if tasks == 0 {
                0.0
            } else {
                mpi(r).gather_s / tasks as f64
            }
        }),
        per_message_s: median(&|r| {
            let m = mpi(r);
            if m.requests == 0 {
                0.0
            } else {
                m.serve_s / m.requests as f64
            }
        }),
        broadcast_s: median(&|r| mpi(r).broadcast_s),
        task_mean_s: median(&|r| r.task_time.mean_s),
        task_max_s: median(&|r| r.task_time.max_s),
    }))
}

/// A table cell `median (min – max)` of `s` times `scale`, with `digits` decimals.
pub fn spread(s: Stats, scale: f64, digits: usize) -> String {
    format!(
        "{:.digits$} ({:.digits$} – {:.digits$})",
        s.median * scale,
        s.min * scale,
        s.max * scale
    )
}

/// A table cell for a rank count, marked when it over-subscribes a machine of `cores` cores.
pub fn ranks_cell(ranks: usize, cores: usize) -> String {
    if ranks > cores {
        format!("{ranks} (over-subscribed)")
    } else {
        ranks.to_string()
    }
}

/// Threads efficiency minus MPI (dynamic schedule) efficiency of `row`, in points (the
/// medians of the paired per-repetition efficiencies): positive when MPI is the less
/// efficient. A target "MPI within N points of Threads" is `gap <= N` ([`Better::Lower`]); an
/// MPI run more efficient than the threads gives a negative gap, which meets it.
pub fn efficiency_gap_points(row: &MpiRow) -> f64 {
    100.0 * (row.threads_efficiency.median - row.dynamic_efficiency.median)
}

/// A figure of one row, for a crate's declared metrics ([`push_row_metric`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowMetric {
    /// [`efficiency_gap_points`] (points, lower is better).
    EfficiencyGap,
    /// The MPI (dynamic) efficiency (ratio).
    MpiEfficiency,
    /// The threads efficiency at as many workers (ratio).
    ThreadsEfficiency,
    /// [`MpiRow::overhead_per_task_s`] in microseconds.
    OverheadPerTaskUs,
    /// [`MpiRow::comm_per_task_s`] in microseconds.
    CommPerTaskUs,
    /// [`MpiRow::gather_per_task_s`] in microseconds.
    GatherPerTaskUs,
}

/// Pushes the declared metric `name`: `what` of the row of `workload` at `ranks` ranks, with
/// the workload and rank count recorded beside it, or the metric marked not measured when no
/// such row was measured (a part missing, or a failed run).
///
/// # Panics
/// When no row matches and `name` is not declared in `report` (a bug in the scenario).
pub fn push_row_metric(
    report: &mut ScenarioReport,
    name: &str,
    what: RowMetric,
    rows: &[MpiRow],
    workload: &str,
    ranks: usize,
) {
    let Some(r) = find_row(rows, workload, ranks) else {
        report.not_measured(
            name,
            format!("no row of `{workload}` at {ranks} rank(s) among the parts"),
        );
        return;
    };
    let metric = match what {
        RowMetric::EfficiencyGap => {
            Metric::new(name, efficiency_gap_points(r), "points", Better::Lower)
        }
        RowMetric::MpiEfficiency => Metric::efficiency(name, r.dynamic_efficiency),
        RowMetric::ThreadsEfficiency => Metric::efficiency(name, r.threads_efficiency),
        RowMetric::OverheadPerTaskUs => {
            Metric::new(name, r.overhead_per_task_s * 1e6, "us", Better::Lower)
        }
        RowMetric::CommPerTaskUs => Metric::new(name, r.comm_per_task_s * 1e6, "us", Better::Lower),
        RowMetric::GatherPerTaskUs => {
            Metric::new(name, r.gather_per_task_s * 1e6, "us", Better::Lower)
        }
    };
    let over = if r.ranks > r.cores {
        format!(", over-subscribed: {} cores", r.cores)
    } else {
        String::new()
    };
    report.push(metric.with_workload(format!(
        "{workload}, {ranks} rank(s) against {ranks} thread(s){over}"
    )));
}

/// The modelled efficiency of `N` tasks on `R` ranks from a measured row (see the module
/// documentation for the formula).
pub fn model_efficiency(row: &MpiRow, n: f64, ranks: f64) -> f64 {
    let t = row.task_mean_s;
    if t <= 0.0 || n <= 0.0 || ranks < 1.0 {
        return 0.0;
    }
    let chunks = if n > 2.0 * ranks {
        2.0 * ranks * (1.0 + (n / (2.0 * ranks)).ln())
    } else {
        n
    };
    let measured_log = (row.ranks.max(2) as f64).log2();
    let wall = n * (t + row.comm_per_task_s) / ranks
        + row.task_max_s
        + n * row.gather_per_task_s * (ranks - 1.0) / ranks
        + chunks * row.per_message_s
        + row.broadcast_s * ranks.log2() / measured_log;
    (n * t / (ranks * wall)).min(1.0)
}

/// The smallest task count (a power of two up to 2^40) at which the model reaches 50 %
/// efficiency on `ranks` ranks, or `None` when it never does.
pub fn paying_task_count(row: &MpiRow, ranks: f64) -> Option<f64> {
    (0..=40)
        .map(|k| f64::powi(2.0, k))
        .find(|&n| model_efficiency(row, n, ranks) >= 0.5)
}

/// Adds the MPI tables, plots and model of `rows` to `report` (rank counts ascending).
pub fn report_rows(rows: &[MpiRow], report: &mut ScenarioReport) {
    let mut table = Vec::new();
    for r in rows {
        let gap = 100.0 * (r.threads_efficiency.median - r.dynamic_efficiency.median);
        table.push(vec![
            r.workload.clone(),
            ranks_cell(r.ranks, r.cores),
            spread(r.sequential_s, 1e3, 1),
            spread(r.threads_s, 1e3, 1),
            spread(r.dynamic_s, 1e3, 1),
            spread(r.static_s, 1e3, 1),
            format!("{:.1} %", 100.0 * r.threads_efficiency.median),
            format!("{:.1} %", 100.0 * r.dynamic_efficiency.median),
            format!("{:.1} %", 100.0 * r.static_efficiency.median),
            format!("{gap:+.1}"),
            format!("{:.1}", r.overhead_per_task_s * 1e6),
            format!("{:.1}", r.comm_per_task_s * 1e6),
            format!("{:.2}", r.gather_per_task_s * 1e6),
            format!("{:.3}", r.broadcast_s * 1e3),
        ]);
    }
    let reps = rows.first().map_or(0, |r| r.sequential_s.reps);
    report.tables.push(Table {
        title: format!(
            "MPI against threads at the same worker count (one thread per rank; wall: median \
             (min – max) of {reps} interleaved repetitions, efficiency: median of paired \
             sequential / (variant × workers); gap = threads − MPI dynamic, in points; \
             overhead = (wall × ranks − busy) / tasks; communication: ranks other than 0 per \
             task; gather: rank 0 per task received; broadcast: rank 0 sending every result)"
        ),
        header: [
            "workload",
            "ranks = threads",
            "sequential (ms)",
            "threads (ms)",
            "MPI dynamic (ms)",
            "MPI static (ms)",
            "threads eff.",
            "dynamic eff.",
            "static eff.",
            "gap (points)",
            "overhead per task (µs)",
            "communication per task (µs)",
            "gather per task (µs)",
            "broadcast (ms)",
        ]
        .map(String::from)
        .to_vec(),
        rows: table,
    });
    report.tables.push(Table {
        title: "Schedules: static blocks against dynamic chunks from rank 0 (paired static / \
                dynamic wall time, median (min – max); above 1: dynamic is faster)"
            .into(),
        header: ["workload", "ranks", "static / dynamic"]
            .map(String::from)
            .to_vec(),
        rows: rows
            .iter()
            .filter(|r| r.ranks > 1)
            .map(|r| {
                vec![
                    r.workload.clone(),
                    r.ranks.to_string(),
                    spread(r.dynamic_over_static, 1.0, 2),
                ]
            })
            .collect(),
    });
    // The model, from each workload's row at its largest rank count.
    let mut model_rows = Vec::new();
    let mut series = Vec::new();
    let mut workloads: Vec<&str> = rows.iter().map(|r| r.workload.as_str()).collect();
    workloads.dedup();
    for w in workloads {
        let Some(row) = model_row(rows, w) else {
            continue;
        };
        let n = row.tasks as f64;
        let pays = |ranks: f64| match paying_task_count(row, ranks) {
            Some(n) => format!("{n:.0}"),
            None => format!(
                "never (rank 0's serial share caps it near {:.0} %)",
                100.0 * model_efficiency(row, 1e12, ranks)
            ),
        };
        model_rows.push(vec![
            w.to_string(),
            row.ranks.to_string(),
            format!("{:.1}", row.task_mean_s * 1e3),
            format!("{:.1}", row.task_max_s * 1e3),
            format!("{:.1}", row.comm_per_task_s * 1e6),
            format!("{:.2}", row.gather_per_task_s * 1e6),
            format!("{:.1}", row.per_message_s * 1e6),
            format!("{:.0} %", 100.0 * model_efficiency(row, n, 64.0)),
            format!("{:.0} %", 100.0 * model_efficiency(row, n, 1024.0)),
            pays(64.0),
            pays(1024.0),
        ]);
        series.push(Series {
            label: format!("{w}, N = {}", row.tasks),
            points: [1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0]
                .iter()
                .map(|&r| (r, model_efficiency(row, n, r)))
                .collect(),
        });
    }
    report.tables.push(Table {
        title: "Scaling model (a projection from the measured row at the largest rank count \
                that does not over-subscribe the machine, one thread per rank): efficiency at \
                the measured task count on 64 and 1,024 ranks, and the task count below which a workload stops paying (modelled \
                efficiency under 50 %)"
            .into(),
        header: [
            "workload",
            "from ranks",
            "T mean (ms)",
            "T max (ms)",
            "o: comm per task (µs)",
            "g: gather per task (µs)",
            "s: per chunk request on rank 0 (µs)",
            "eff. at 64 ranks",
            "eff. at 1,024 ranks",
            "pays from N (64 ranks)",
            "pays from N (1,024 ranks)",
        ]
        .map(String::from)
        .to_vec(),
        rows: model_rows,
    });
    report.plots.push(Plot {
        name: "mpi_model".into(),
        title: "Modelled MPI efficiency against ranks (at the measured task count)".into(),
        x_label: "ranks".into(),
        y_label: "efficiency".into(),
        log_x: true,
        log_y: false,
        series,
    });
    report.notes.push(
        "Model: wall(N, R) = N (T + o) / R + Tmax + N g (R − 1) / R + chunks(N, R) s + \
         b log2 R / log2 Rm, efficiency = N T / (R wall); see par_core::bench::mpi. It is a \
         projection from this machine's figures, not a measurement."
            .into(),
    );
    if rows.iter().any(|r| r.ranks > r.cores) {
        report.notes.push(format!(
            "This machine has {} cores: runs with more ranks than cores over-subscribe it, so \
             their efficiency is bounded by the core count.",
            rows[0].cores
        ));
    }
}

/// The row the model of `workload` starts from: the largest rank count that does not
/// over-subscribe the machine (an over-subscribed run times the sharing of cores, not the
/// communication), or the largest there is.
pub fn model_row<'a>(rows: &'a [MpiRow], workload: &str) -> Option<&'a MpiRow> {
    let of = || rows.iter().filter(move |r| r.workload == workload);
    of().filter(|r| r.ranks <= r.cores && r.ranks > 1)
        .max_by_key(|r| r.ranks)
        .or_else(|| of().max_by_key(|r| r.ranks))
}

/// The part file of `ranks` ranks in `dir`.
pub fn part_path(dir: &Path, ranks: usize) -> PathBuf {
    dir.join(format!("ranks-{ranks}.json"))
}

/// Reads the rows of every part in `dir`, parts in rank-count order: for a crate whose rows
/// are its own type (see [`run_mpi_parts`]).
pub fn read_part_rows<R: DeserializeOwned>(dir: &Path) -> Result<Vec<R>, ScenarioError> {
    let mut files: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let ranks = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("ranks-")?.strip_suffix(".json"))
                .and_then(|r| r.parse::<usize>().ok())?;
            Some((ranks, p))
        })
        .collect();
    files.sort();
    let mut rows: Vec<R> = Vec::new();
    for (_, f) in files {
        let text =
            std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let part: Vec<R> =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        rows.extend(part);
    }
    Ok(rows)
}

/// Reads every part in `dir`, rows ordered by workload (as first seen) and rank count.
pub fn read_parts(dir: &Path) -> Result<Vec<MpiRow>, ScenarioError> {
    let mut rows: Vec<MpiRow> = read_part_rows(dir)?;
    let mut order: Vec<String> = Vec::new();
    for r in &rows {
        if !order.contains(&r.workload) {
            order.push(r.workload.clone());
        }
    }
    rows.sort_by_key(|r| {
        (
            order.iter().position(|w| *w == r.workload).unwrap_or(0),
            r.ranks,
        )
    });
    Ok(rows)
}

/// The `main` of an MPI bench program. With `--mpi-part DIR` (under `mpirun`) every rank runs
/// `measure` and rank 0 writes the rows to `DIR/ranks-R.json`; with `--mpi-assemble DIR` (one
/// process) the parts become scenario `name`'s report, with `metrics` pushing its declared
/// metrics from the rows.
pub fn run_mpi_scenario(
    name: &str,
    declared: &[Declared],
    measure: impl FnOnce(&BenchArgs) -> Result<Vec<MpiRow>, ScenarioError>,
    metrics: impl FnOnce(&[MpiRow], &mut ScenarioRun) -> Result<(), ScenarioError>,
) -> ExitCode {
    run_mpi_parts(name, declared, measure, |dir, run| {
        let rows = read_parts(dir)?;
        if rows.is_empty() {
            return Err(format!("no rows in {}", dir.display()).into());
        }
        report_rows(&rows, &mut run.report);
        metrics(&rows, run)
    })
}

/// The two-phase `main` of [`run_mpi_scenario`] for rows of any type: a workload that is not
/// one [`crate::Executor::run`] (islands that migrate between ranks, say) measures rows of its
/// own. With `--mpi-part DIR` every rank runs `measure` and rank 0 writes what it returns to
/// `DIR/ranks-R.json`; with `--mpi-assemble DIR`, `assemble` reads the parts (with
/// [`read_part_rows`]) and fills the scenario's report.
pub fn run_mpi_parts<R: Serialize>(
    name: &str,
    declared: &[Declared],
    measure: impl FnOnce(&BenchArgs) -> Result<Vec<R>, ScenarioError>,
    assemble: impl FnOnce(&Path, &mut ScenarioRun) -> Result<(), ScenarioError>,
) -> ExitCode {
    let args = match BenchArgs::from_env() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = args.mpi_part.clone() {
        let rows = match measure(&args) {
            Ok(rows) => rows,
            Err(e) => {
                eprintln!("{name}: rank {}: {e}", crate::mpi::rank());
                return ExitCode::FAILURE;
            }
        };
        if !crate::mpi::is_root() {
            return ExitCode::SUCCESS;
        }
        let path = part_path(&dir, crate::mpi::size());
        let written = std::fs::create_dir_all(&dir)
            .map_err(|e| e.to_string())
            .and_then(|()| serde_json::to_string_pretty(&rows).map_err(|e| e.to_string()))
            .and_then(|text| std::fs::write(&path, text).map_err(|e| e.to_string()));
        return match written {
            Ok(()) => {
                println!("{name}: wrote {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{name}: cannot write {}: {e}", path.display());
                ExitCode::FAILURE
            }
        };
    }
    let Some(dir) = args.mpi_assemble.clone() else {
        eprintln!(
            "{name}: an MPI bench program runs with --mpi-part DIR under mpirun, then with \
             --mpi-assemble DIR (cargo xtask bench --mpi does both)"
        );
        return ExitCode::from(2);
    };
    super::scenario::run_with(name, declared, args, |run| assemble(&dir, run))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ranks: usize) -> MpiRow {
        let s = |v: f64| Stats {
            median: v,
            min: v,
            max: v,
            reps: 3,
        };
        MpiRow {
            workload: "w".into(),
            ranks,
            cores: 2,
            tasks: 1000,
            sequential_s: s(1.0),
            threads_s: s(0.5),
            dynamic_s: s(0.5),
            static_s: s(0.6),
            threads_efficiency: s(0.95),
            dynamic_efficiency: s(0.9),
            static_efficiency: s(0.8),
            dynamic_over_static: s(1.2),
            overhead_per_task_s: 10e-6,
            comm_per_task_s: 5e-6,
            gather_per_task_s: 1e-6,
            per_message_s: 5e-6,
            broadcast_s: 1e-4,
            task_mean_s: 1e-3,
            task_max_s: 4e-3,
        }
    }

    #[test]
    fn the_model_falls_with_ranks_and_rises_with_tasks() {
        let r = row(4);
        let e64 = model_efficiency(&r, 1000.0, 64.0);
        let e1024 = model_efficiency(&r, 1000.0, 1024.0);
        assert!(e64 > e1024 && e64 < 1.0, "{e64} {e1024}");
        assert!(model_efficiency(&r, 1e6, 64.0) > e64);
        // One rank: nothing but the tail and the broadcast-free work.
        let one = model_efficiency(&r, 1000.0, 1.0);
        assert!(one > 0.99 * (1e-3 / (1e-3 + 5e-6)) - 0.01, "{one}");
        // Rank 0's serial decoding caps the efficiency at T / (T + o + (R − 1) g).
        let cap = model_efficiency(&r, 1e12, 1024.0);
        let bound = 1e-3 / (1e-3 + 5e-6 + 1023.0 * 1e-6);
        assert!((cap - bound).abs() < 0.01, "{cap} against {bound}");
        assert_eq!(paying_task_count(&r, 2048.0), None);
        let n64 = paying_task_count(&r, 64.0).expect("pays at 64 ranks");
        assert!(model_efficiency(&r, n64, 64.0) >= 0.5);
        assert!(model_efficiency(&r, n64 / 2.0, 64.0) < 0.5);
    }

    #[test]
    fn rows_become_tables_a_plot_and_notes() {
        let mut report = ScenarioReport::new("mpi", true);
        report_rows(&[row(1), row(2), row(4)], &mut report);
        assert_eq!(report.tables.len(), 3);
        assert_eq!(report.tables[0].rows.len(), 3);
        assert!(report.tables[0].rows[2][1].contains("over-subscribed"));
        assert_eq!(report.tables[1].rows.len(), 2);
        assert_eq!(report.tables[2].rows.len(), 1);
        // The 4-rank row over-subscribes the 2 cores: the model starts from 2 ranks.
        assert_eq!(report.tables[2].rows[0][1], "2");
        let only_over = [row(4)];
        assert_eq!(model_row(&only_over, "w").map(|r| r.ranks), Some(4));
        assert_eq!(report.plots[0].series[0].points.len(), 8);
        assert!(report.notes.iter().any(|n| n.contains("over-subscribe")));
    }

    #[test]
    fn row_metrics_name_their_workload_or_say_why_they_are_missing() {
        let declared = [
            Declared::new("gap", "points", Better::Lower, "gap").target(5.0),
            Declared::new("eff", "ratio", Better::Higher, "efficiency"),
            Declared::new("gone", "us", Better::Lower, "no such row"),
        ];
        let mut report = ScenarioReport::new("mpi", true).with_declared(&declared);
        let rows = [row(2), row(4)];
        push_row_metric(&mut report, "gap", RowMetric::EfficiencyGap, &rows, "w", 2);
        push_row_metric(&mut report, "eff", RowMetric::MpiEfficiency, &rows, "w", 4);
        push_row_metric(&mut report, "gone", RowMetric::CommPerTaskUs, &rows, "w", 8);
        let gap = report.metric("gap").expect("pushed");
        assert!((gap.value.expect("measured") - 5.0).abs() < 1e-9, "{gap:?}");
        assert_eq!(gap.better, Better::Lower);
        assert!(
            gap.workload
                .as_deref()
                .is_some_and(|w| w.contains("2 rank(s)"))
        );
        let eff = report.metric("eff").expect("pushed");
        assert_eq!(eff.value, Some(0.9));
        assert!(
            eff.workload
                .as_deref()
                .is_some_and(|w| w.contains("over-subscribed"))
        );
        let gone = report.metric("gone").expect("pushed");
        assert!(gone.value.is_none() && gone.not_measured.is_some());
    }

    #[test]
    fn parts_are_read_back_in_workload_and_rank_order() {
        let dir = std::env::temp_dir().join(format!("par-core-mpi-parts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut b = row(2);
        b.workload = "b".into();
        std::fs::write(
            part_path(&dir, 2),
            serde_json::to_string(&[row(2), b]).unwrap(),
        )
        .unwrap();
        std::fs::write(
            part_path(&dir, 1),
            serde_json::to_string(&[row(1)]).unwrap(),
        )
        .unwrap();
        let rows = read_parts(&dir).unwrap();
        let keys: Vec<(&str, usize)> = rows
            .iter()
            .map(|r| (r.workload.as_str(), r.ranks))
            .collect();
        assert_eq!(keys, [("w", 1), ("w", 2), ("b", 2)]);
        assert!(find_row(&rows, "b", 2).is_some());
        assert!(find_row(&rows, "b", 4).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
