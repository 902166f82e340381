//! Benchmark scenarios: the timing helper, the declared targets and the result schema shared by
//! every crate's scenarios and by `cargo xtask bench`.
//!
//! A scenario is a `harness = false` bench target (for example `crates/par-core/benches/scenarios.rs`)
//! whose `main` hands its body to [`run_scenario`] together with the crate's table of
//! [`Declared`] metrics. The body measures through the one timing helper ([`Interleave`]:
//! interleaved repetitions, medians with min and max, paired ratios) and pushes [`Metric`]s into
//! the [`ScenarioReport`]; the harness writes `<out>/<scenario>.json` (at the start, at each
//! [`ScenarioRun::checkpoint`] and at the end, atomically), so that a scenario that fails half-way
//! still leaves what it measured. `xtask bench` runs every registered scenario, reads those
//! files back, renders the [`Plot`]s as SVG and writes `report.md`.
//!
//! # Rules of the timing helper
//!
//! 1. **Interleave.** The variants being compared run in turn within each repetition, with the
//!    order rotated from one repetition to the next, so that a slow spell of the host hits every
//!    variant alike.
//! 2. **Median, with min and max beside it.** The headline of repeated measurements is their
//!    median; the spread is reported, never hidden. No best-of statistic is a headline anywhere.
//! 3. **Ratios are paired.** A speed-up or an efficiency is the median of the per-repetition
//!    ratios, not a ratio of two separately chosen statistics ([`Interleaved::speedup`]).
//!
//! # Rules the schema enforces
//!
//! - **Every declared metric is listed.** A declared metric that was not measured (reference
//!   data absent, the scenario failed or was killed first) appears with `"value": null` and the
//!   reason in `not_measured`; it counts as not met.
//! - **Targets live in the declaration table**, one per crate, never beside the measuring code.
//! - **A metric measures what its name says.** A quick run that measures a smaller workload than
//!   the name suggests says so in `workload`; a projection is never a metric with a target.
//! - **Physical bounds.** A speed-up above its worker count or an efficiency above 1 carries a
//!   `bound` and is flagged by [`Metric::artefact`] as a measurement artefact.
//!
//! # JSON schema
//!
//! ```json
//! {"scenario": "par-core", "quick": true, "machine": {"cores": 2, "cpu": "..."},
//!  "provenance": {"commit": "5cc69b3a1b2c", "dirty": false, "date": "2026-12-07 17:00 UTC",
//!                 "command": ["scenarios", "--workers", "1,2,4"], "wall_s": 93.2},
//!  "metrics": [{"name": "threads_efficiency_2w_1ms", "value": 0.96, "unit": "ratio",
//!               "better": "higher", "target": 0.95,
//!               "stats": {"median": 0.96, "min": 0.93, "max": 0.98, "reps": 5},
//!               "bound": 1.0, "workload": "400 tasks of 1 ms",
//!               "about": "..."},
//!              {"name": "golden_max_rel_err", "value": null, "unit": "ratio",
//!               "better": "lower", "target": 1e-6,
//!               "not_measured": "../shared/tinyphysics is absent"}],
//!  "plots": [...], "tables": [...], "notes": [...]}
//! ```
//!
//! Metric names are snake_case and stable.

pub mod mpi;
mod scenario;
mod timing;

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::provenance::{Provenance, utc_timestamp};
pub use scenario::{ScenarioError, ScenarioRun, run_scenario};
pub(crate) use timing::median_of_sorted;
pub use timing::{
    Interleave, Interleaved, Stats, load_average, process_cpu_seconds, repeat, thread_cpu_seconds,
    time, time_with_cpu,
};

/// Which direction of a metric is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Smaller values are better (times, overheads, errors).
    Lower,
    /// Larger values are better (throughput, efficiency, speed-up).
    Higher,
}

/// One metric a scenario promises, with its target: a row of the crate's declaration table.
///
/// ```
/// use par_core::bench::{Better, Declared};
///
/// const TARGETS: &[Declared] = &[
///     Declared::new("threads_dispatch_us", "us", Better::Lower, "worker time per no-op task")
///         .target(10.0),
///     Declared::new("processes_setup_ms", "ms", Better::Lower, "spawning the worker processes"),
/// ];
/// assert_eq!(TARGETS[0].target, Some(10.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Declared {
    /// Stable snake_case name.
    pub name: &'static str,
    /// Unit, for example `us`, `ms`, `s`, `ratio`, `x`, `1/s`.
    pub unit: &'static str,
    /// Which direction is better.
    pub better: Better,
    /// The target an issue names, if any.
    pub target: Option<f64>,
    /// What the metric measures, in a sentence.
    pub about: &'static str,
}

impl Declared {
    /// A declared metric without a target.
    pub const fn new(
        name: &'static str,
        unit: &'static str,
        better: Better,
        about: &'static str,
    ) -> Self {
        Self {
            name,
            unit,
            better,
            target: None,
            about,
        }
    }

    /// The same declaration with a target.
    #[must_use]
    pub const fn target(mut self, target: f64) -> Self {
        self.target = Some(target);
        self
    }

    /// A not-measured metric of this declaration, with the reason.
    pub fn not_measured(&self, reason: impl Into<String>) -> Metric {
        let mut m = Metric::not_measured(self.name, self.unit, self.better, reason);
        m.target = self.target;
        m.about = Some(self.about.to_string());
        m
    }
}

/// One measured (or not measured) number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Stable snake_case name, for example `threads_dispatch_us`.
    pub name: String,
    /// The headline value (the median when it comes from repetitions); `None` when the metric
    /// could not be measured ([`Metric::not_measured`] says why).
    pub value: Option<f64>,
    /// Unit, for example `us`, `ms`, `s`, `ratio`, `x`, `1/s`.
    pub unit: String,
    /// Which direction is better.
    pub better: Better,
    /// The target from the declaration table, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// Median, min, max and repetition count, when the value comes from repetitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
    /// The workload actually measured, when it is smaller than the name suggests (a quick run:
    /// "2 of 20 segments", "300 of 3000 simulations per step").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// The largest value the quantity can physically take (the worker count for a speed-up,
    /// 1 for an efficiency); a value above it is a measurement artefact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound: Option<f64>,
    /// Why the metric has no value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_measured: Option<String>,
    /// What the metric measures (from the declaration table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
}

impl Metric {
    /// A metric measured once (or summarised elsewhere). A value that is not finite makes a
    /// not-measured metric that says so.
    pub fn new(
        name: impl Into<String>,
        value: f64,
        unit: impl Into<String>,
        better: Better,
    ) -> Self {
        let mut m = Self {
            name: name.into(),
            value: Some(value),
            unit: unit.into(),
            better,
            target: None,
            stats: None,
            workload: None,
            bound: None,
            not_measured: None,
            about: None,
        };
        if !value.is_finite() {
            m.value = None;
            m.not_measured = Some(format!("the measurement gave {value}, not a number"));
        }
        m
    }

    /// A metric from repeated measurements: the median is the value, min, max and count beside it.
    pub fn from_stats(
        name: impl Into<String>,
        stats: Stats,
        unit: impl Into<String>,
        better: Better,
    ) -> Self {
        let mut m = Self::new(name, stats.median, unit, better);
        m.stats = Some(stats);
        m
    }

    /// A speed-up on `workers` workers (unit `x`, higher is better, bounded by `workers`).
    pub fn speedup(name: impl Into<String>, stats: Stats, workers: usize) -> Self {
        Self::from_stats(name, stats, "x", Better::Higher).with_bound(workers as f64)
    }

    /// A parallel efficiency (unit `ratio`, higher is better, bounded by 1).
    pub fn efficiency(name: impl Into<String>, stats: Stats) -> Self {
        Self::from_stats(name, stats, "ratio", Better::Higher).with_bound(1.0)
    }

    /// A metric that could not be measured, with the reason (it counts as not met).
    pub fn not_measured(
        name: impl Into<String>,
        unit: impl Into<String>,
        better: Better,
        reason: impl Into<String>,
    ) -> Self {
        let mut m = Self::new(name, 0.0, unit, better);
        m.value = None;
        m.not_measured = Some(reason.into());
        m
    }

    /// The same metric with a target (tests and ad-hoc reports; scenarios take targets from
    /// their declaration table).
    #[must_use]
    pub fn with_target(mut self, target: f64) -> Self {
        self.target = Some(target);
        self
    }

    /// The same metric with the workload it measured.
    #[must_use]
    pub fn with_workload(mut self, workload: impl Into<String>) -> Self {
        self.workload = Some(workload.into());
        self
    }

    /// The same metric with a physical upper bound.
    #[must_use]
    pub fn with_bound(mut self, bound: f64) -> Self {
        self.bound = Some(bound);
        self
    }

    /// Whether the target is met: `None` when there is no target; `Some(false)` when the
    /// metric was not measured.
    pub fn target_met(&self) -> Option<bool> {
        let target = self.target?;
        let Some(value) = self.value else {
            return Some(false);
        };
        Some(match self.better {
            Better::Lower => value <= target,
            Better::Higher => value >= target,
        })
    }

    /// Why this value cannot be taken at face value: a speed-up above its worker count or an
    /// efficiency above 1 (or any value above its [`Metric::bound`]).
    pub fn artefact(&self) -> Option<String> {
        let (value, bound) = (self.value?, self.bound?);
        (value > bound * (1.0 + 1e-9)).then(|| {
            format!(
                "{value:.3} exceeds {bound}, the most this quantity can physically reach: a \
                 measurement artefact (timer resolution, caches warmed by an earlier variant, \
                 or a host that slowed the baseline), not a result"
            )
        })
    }
}

/// The machine a scenario ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Logical cores available to the process.
    pub cores: usize,
    /// CPU model name (from `/proc/cpuinfo` on Linux), or `unknown`.
    pub cpu: String,
}

impl Machine {
    /// Reads the current machine's description.
    pub fn detect() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        Self { cores, cpu }
    }
}

/// One line of a [`Plot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// `(x, y)` points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// A line plot that `xtask bench` renders as `<scenario>-<name>.svg`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plot {
    /// File-name stem, snake_case, unique within the scenario.
    pub name: String,
    /// Title drawn above the plot.
    pub title: String,
    /// X-axis label.
    pub x_label: String,
    /// Y-axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    #[serde(default)]
    pub log_x: bool,
    /// Logarithmic y axis.
    #[serde(default)]
    pub log_y: bool,
    /// The lines.
    pub series: Vec<Series>,
}

/// A table that `xtask bench` writes into `report.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Heading above the table.
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells, each as long as `header`.
    pub rows: Vec<Vec<String>>,
}

/// Everything one scenario measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// Scenario name, equal to the registry name in `xtask` (for example `par-core`).
    pub scenario: String,
    /// Whether this was the quick run (the default) rather than `--full`.
    pub quick: bool,
    /// Where it ran.
    pub machine: Machine,
    /// Which code, when and how.
    #[serde(default)]
    pub provenance: Provenance,
    /// The headline numbers: every declared metric (measured or not), then any others.
    pub metrics: Vec<Metric>,
    /// Plots to render.
    #[serde(default)]
    pub plots: Vec<Plot>,
    /// Tables for the report.
    #[serde(default)]
    pub tables: Vec<Table>,
    /// Free-text remarks (what was measured, what was scaled down in the quick run).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The crate's declaration table (not serialised: after [`ScenarioReport::finalized`] every
    /// declared metric is in `metrics`).
    #[serde(skip)]
    declared: Vec<Declared>,
}

impl ScenarioReport {
    /// An empty report for `scenario` on this machine, without declared metrics.
    pub fn new(scenario: impl Into<String>, quick: bool) -> Self {
        Self {
            scenario: scenario.into(),
            quick,
            machine: Machine::detect(),
            provenance: Provenance::default(),
            metrics: Vec::new(),
            plots: Vec::new(),
            tables: Vec::new(),
            notes: Vec::new(),
            declared: Vec::new(),
        }
    }

    /// The same report with the crate's declaration table: every metric in it will be listed.
    ///
    /// # Panics
    /// When a name is declared twice (a bug in the table).
    #[must_use]
    pub fn with_declared(mut self, table: &[Declared]) -> Self {
        for (i, d) in table.iter().enumerate() {
            assert!(
                table[..i].iter().all(|e| e.name != d.name),
                "metric `{}` declared twice",
                d.name
            );
        }
        self.declared = table.to_vec();
        self
    }

    /// The declaration of metric `name`, if it is declared.
    pub fn declaration(&self, name: &str) -> Option<&Declared> {
        self.declared.iter().find(|d| d.name == name)
    }

    /// Adds a metric. A declared metric takes its target and description from the table (a
    /// unit or direction that disagrees with the table is recorded in the notes); an undeclared
    /// metric carries no target (one given here is dropped, with a note). A second metric of the
    /// same name replaces the first.
    pub fn push(&mut self, mut metric: Metric) {
        match self.declaration(&metric.name).copied() {
            Some(d) => {
                if d.unit != metric.unit || d.better != metric.better {
                    self.notes.push(format!(
                        "`{}` was measured in {} ({:?} is better) but is declared in {} ({:?} is better)",
                        metric.name, metric.unit, metric.better, d.unit, d.better
                    ));
                }
                metric.target = d.target;
                metric.about = Some(d.about.to_string());
            }
            None if metric.target.is_some() && !self.declared.is_empty() => {
                self.notes.push(format!(
                    "`{}` carried a target but is not in the declaration table: target dropped",
                    metric.name
                ));
                metric.target = None;
            }
            None => {}
        }
        match self.metrics.iter_mut().find(|m| m.name == metric.name) {
            Some(old) => *old = metric,
            None => self.metrics.push(metric),
        }
    }

    /// Records that declared metric `name` could not be measured, and why.
    ///
    /// # Panics
    /// When `name` is not declared (a bug in the scenario).
    pub fn not_measured(&mut self, name: &str, reason: impl Into<String>) {
        let d = *self
            .declaration(name)
            .unwrap_or_else(|| panic!("`{name}` is not a declared metric"));
        self.push(d.not_measured(reason));
    }

    /// The metric called `name`, if pushed.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// This report with every declared metric present, in table order (then the undeclared
    /// ones in the order pushed); a declared metric never pushed is not measured for `reason`.
    pub fn finalized(&self, reason: &str) -> Self {
        let mut out = self.clone();
        out.metrics = self
            .declared
            .iter()
            .map(|d| {
                self.metric(d.name)
                    .cloned()
                    .unwrap_or_else(|| d.not_measured(reason))
            })
            .chain(
                self.metrics
                    .iter()
                    .filter(|m| self.declaration(&m.name).is_none())
                    .cloned(),
            )
            .collect();
        out
    }

    /// Writes `<dir>/<scenario>.json` atomically (a temporary file in `dir`, then a rename;
    /// `dir` is created) and returns the path.
    pub fn write(&self, dir: &Path) -> io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.json", self.scenario));
        let tmp = dir.join(format!(
            ".{}.json.tmp-{}",
            self.scenario,
            std::process::id()
        ));
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }

    /// Reads a report written by [`ScenarioReport::write`].
    pub fn read(path: &Path) -> io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        serde_json::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })
    }
}

/// The command line every scenario binary accepts, as `xtask bench` passes it:
/// `[--full] [--workers 1,2,4] [--out DIR]` (cargo's own `--bench` flag is ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchArgs {
    /// Run the seed-scale workloads instead of the quick ones.
    pub full: bool,
    /// Worker counts to measure (default `1,2,4`).
    pub workers: Vec<usize>,
    /// Output folder (default `target/bench` under the workspace root).
    pub out: PathBuf,
    /// MPI bench programs under `mpirun`: the folder where rank 0 writes this rank count's
    /// rows (`--mpi-part DIR`; see [`mpi`](mod@mpi)).
    pub mpi_part: Option<PathBuf>,
    /// MPI bench programs: the folder of parts to assemble into the scenario's report
    /// (`--mpi-assemble DIR`).
    pub mpi_assemble: Option<PathBuf>,
}

impl BenchArgs {
    /// Parses `std::env::args()`, returning a message naming the bad argument on error.
    pub fn from_env() -> Result<Self, String> {
        Self::parse(std::env::args().skip(1))
    }

    /// Parses an argument list (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut out = Self {
            full: false,
            workers: vec![1, 2, 4],
            out: default_out_dir(),
            mpi_part: None,
            mpi_assemble: None,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--full" => out.full = true,
                "--quick" => out.full = false,
                "--bench" => {}
                "--workers" => {
                    let list = args.next().ok_or("--workers needs a list such as 1,2,4")?;
                    out.workers = parse_workers(&list).map_err(|e| format!("--workers: {e}"))?;
                }
                "--out" => out.out = PathBuf::from(args.next().ok_or("--out needs a folder")?),
                "--mpi-part" => {
                    out.mpi_part = Some(PathBuf::from(
                        args.next().ok_or("--mpi-part needs a folder")?,
                    ));
                }
                "--mpi-assemble" => {
                    out.mpi_assemble = Some(PathBuf::from(
                        args.next().ok_or("--mpi-assemble needs a folder")?,
                    ));
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(out)
    }
}

/// Parses a worker list such as `1,2,4`: every entry a positive integer, at least one.
///
/// ```
/// assert_eq!(par_core::bench::parse_workers("1, 2,4"), Ok(vec![1, 2, 4]));
/// assert!(par_core::bench::parse_workers("0").is_err());
/// ```
pub fn parse_workers(list: &str) -> Result<Vec<usize>, String> {
    list.split(',')
        .map(|w| match w.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "`{w}` is not a positive integer (expected a list such as 1,2,4)"
            )),
        })
        .collect()
}

/// `target/bench` under the current directory unless `PAR_BENCH_OUT` is set (`xtask bench`
/// always passes `--out`).
fn default_out_dir() -> PathBuf {
    std::env::var_os("PAR_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Declared] = &[
        Declared::new("a_ms", "ms", Better::Lower, "time of a").target(2.0),
        Declared::new("b_eff", "ratio", Better::Higher, "efficiency of b").target(0.9),
        Declared::new("c", "1/s", Better::Higher, "rate of c"),
    ];

    #[test]
    fn metric_targets_respect_direction_and_missing_values() {
        let lower = Metric::new("t", 5.0, "us", Better::Lower).with_target(10.0);
        assert_eq!(lower.target_met(), Some(true));
        let higher = Metric::new("e", 0.9, "ratio", Better::Higher).with_target(0.95);
        assert_eq!(higher.target_met(), Some(false));
        assert_eq!(Metric::new("x", 1.0, "s", Better::Lower).target_met(), None);
        let nan = Metric::new("n", f64::NAN, "s", Better::Lower).with_target(1.0);
        assert_eq!(nan.value, None);
        assert!(nan.not_measured.as_deref().unwrap().contains("NaN"));
        assert_eq!(nan.target_met(), Some(false));
        let absent = Metric::not_measured("g", "ratio", Better::Lower, "no data").with_target(1.0);
        assert_eq!(absent.target_met(), Some(false));
    }

    #[test]
    fn speedups_above_the_worker_count_are_flagged() {
        let s = |median| Stats {
            median,
            min: median,
            max: median,
            reps: 3,
        };
        assert!(Metric::speedup("s", s(1.9), 2).artefact().is_none());
        let flagged = Metric::speedup("s", s(2.10), 2).artefact().unwrap();
        assert!(flagged.contains("2.100 exceeds 2"), "{flagged}");
        assert!(Metric::efficiency("e", s(1.02)).artefact().is_some());
        assert!(Metric::efficiency("e", s(1.0)).artefact().is_none());
        assert!(
            Metric::new("t", 9.0, "s", Better::Lower)
                .artefact()
                .is_none()
        );
    }

    #[test]
    fn declared_metrics_are_always_listed_and_take_their_targets_from_the_table() {
        let mut r = ScenarioReport::new("demo", true).with_declared(TABLE);
        r.push(Metric::new("b_eff", 0.95, "ratio", Better::Higher));
        r.push(Metric::new("extra", 1.0, "s", Better::Lower).with_target(3.0));
        r.not_measured("c", "reference data absent");
        let done = r.finalized("the scenario stopped first");
        let names: Vec<&str> = done.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a_ms", "b_eff", "c", "extra"]);
        let a = &done.metrics[0];
        assert_eq!(a.value, None);
        assert_eq!(a.target, Some(2.0));
        assert_eq!(
            a.not_measured.as_deref(),
            Some("the scenario stopped first")
        );
        assert_eq!(a.target_met(), Some(false));
        assert_eq!(done.metrics[1].target, Some(0.9));
        assert_eq!(done.metrics[1].target_met(), Some(true));
        assert_eq!(done.metrics[1].about.as_deref(), Some("efficiency of b"));
        assert_eq!(
            done.metrics[2].not_measured.as_deref(),
            Some("reference data absent")
        );
        assert_eq!(
            done.metrics[3].target, None,
            "undeclared targets are dropped"
        );
        assert!(
            done.notes
                .iter()
                .any(|n| n.contains("`extra` carried a target"))
        );
    }

    #[test]
    fn pushing_a_unit_that_disagrees_with_the_table_is_noted() {
        let mut r = ScenarioReport::new("demo", true).with_declared(TABLE);
        r.push(Metric::new("a_ms", 0.001, "s", Better::Lower));
        assert!(r.notes[0].contains("declared in ms"), "{:?}", r.notes);
        r.push(Metric::new("a_ms", 1.0, "ms", Better::Lower));
        assert_eq!(r.metrics.len(), 1, "a second push replaces the first");
    }

    #[test]
    #[should_panic(expected = "declared twice")]
    fn a_name_declared_twice_is_a_bug() {
        let _ = ScenarioReport::new("d", true).with_declared(&[TABLE[0], TABLE[0]]);
    }

    #[test]
    fn report_json_has_the_stable_schema_and_round_trips() {
        let mut r = ScenarioReport::new("demo", true).with_declared(TABLE);
        r.provenance = Provenance::now();
        let stats = Stats {
            median: 1.5,
            min: 1.0,
            max: 2.0,
            reps: 5,
        };
        r.push(Metric::from_stats("a_ms", stats, "ms", Better::Lower).with_workload("half"));
        let r = r.finalized("not reached");
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(v["scenario"], "demo");
        assert_eq!(v["quick"], true);
        assert!(v["machine"]["cores"].as_u64().unwrap() >= 1);
        assert_eq!(v["metrics"][0]["better"], "lower");
        assert_eq!(v["metrics"][0]["target"], 2.0);
        assert_eq!(v["metrics"][0]["stats"]["reps"], 5);
        assert_eq!(v["metrics"][0]["workload"], "half");
        assert!(v["metrics"][1]["value"].is_null());
        assert_eq!(v["metrics"][1]["not_measured"], "not reached");
        assert!(v["metrics"][2].get("target").is_none());
        assert!(!v["provenance"]["date"].as_str().unwrap().is_empty());
        let back: ScenarioReport = serde_json::from_value(v).unwrap();
        assert_eq!(back.metrics, r.metrics);
    }

    #[test]
    fn reports_are_written_atomically_and_read_back() {
        let dir = std::env::temp_dir().join(format!("par-core-bench-{}", std::process::id()));
        let r = ScenarioReport::new("demo", false);
        let path = r.write(&dir).unwrap();
        assert_eq!(ScenarioReport::read(&path).unwrap().scenario, "demo");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
            .collect();
        assert!(leftovers.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bench_args_parse_and_reject() {
        let a =
            BenchArgs::parse(["--bench", "--full", "--workers", "1,3"].map(String::from)).unwrap();
        assert!(a.full);
        assert_eq!(a.workers, vec![1, 3]);
        assert!(BenchArgs::parse(["--workers", "0"].map(String::from)).is_err());
        assert!(BenchArgs::parse(["--workers", "1,,2"].map(String::from)).is_err());
        assert!(BenchArgs::parse(["--nope"].map(String::from)).is_err());
    }
}
