//! Parameter sweeps: the Cartesian product of parameter lists, solved through `par-core` in
//! any mode (processes included), with a per-run time limit, retries, results appended to a
//! JSON-lines file as they finish, and resume.
//!
//! * **Order.** Points are numbered in row-major order of the axes (the last axis varies
//!   fastest); results come back in that order whatever the mode.
//! * **Time limit.** `run_timeout_s` becomes the solver's `max_seconds` for every run, checked
//!   after each Picard iteration in every mode: a run that reaches it ends with
//!   [`Status::TimedOut`]. In `Processes` mode the executor's own `timeout` additionally kills a
//!   worker that hangs, and the point is reported as failed.
//! * **Retries.** Runs that fail (panic, crash, executor time-out) are retried by `par-core`
//!   (`ExecConfig::retries`); a run that fails on every attempt is reported as failed.
//! * **Statuses are not results.** Every record says how its run ended ([`Outcome`]) and keeps
//!   the settings that produced it: the point's whole resolved game ([`SweepRecord::config`]),
//!   time limit (`solver.max_seconds`) and iteration limit (`solver.max_iterations`) included.
//!   Only a converged point is a usable result ([`SweepRecord::is_usable`],
//!   [`SweepSummary`]); [`SweepResult::output_array`] is NaN everywhere else.
//! * **Incremental output.** With a results file (a [`par_core::journal::Journal`]), every run
//!   appends its record as soon as it finishes, as one JSON line written in one `write` call,
//!   from whichever thread or worker process ran it; runs that failed are appended by the
//!   parent when the executor returns. A run killed mid-write leaves a torn last line, which the
//!   next run ends and skips ([`SweepResult::skipped_lines`]).
//! * **MPI: one writer.** Under `par_core::Mode::Mpi` (feature `mpi`) rank 0 alone opens,
//!   reads and writes the results file: its own tasks append as above; every record computed on
//!   another rank is appended by rank 0 as it arrives there
//!   ([`par_core::RemoteJob::received_on_root`], in batches at most 20 ms old), and what rank 0
//!   read from the file reaches every rank ([`par_core::mpi::share_from_root`]), so every rank
//!   returns the same [`SweepResult`]. The file need only be visible to rank 0, and the one
//!   writer holds on any file system (on NFS, appends from several hosts may interleave); a
//!   job killed mid-run loses at most the records still on their way to rank 0, whose points
//!   run again on the next start, on any number of ranks or in any other mode. A record that
//!   rank 0 cannot append makes its point [`Outcome::Failed`] on every rank, as in every mode.
//! * **Resume.** [`SweepJob::run_with`] first reads the file and keeps, for each point, the
//!   last record whose index and parameters match this sweep; it runs the other points, and
//!   runs a kept record's point again when the present settings could change its outcome
//!   ([`SweepRecord::rerun_reason`], listed in [`SweepResult::rerun`]):
//!
//!   | outcome in the file | run again when |
//!   | --- | --- |
//!   | any | the point's game differs from the record's in anything but the time and iteration limits (the base game, tolerances, damping, grid...): the record belongs to another sweep |
//!   | failed (panic, crash, executor time-out, unwritable results file) | always: a failure says nothing about the point's problem, and a crash or a kill may not recur |
//!   | timed out | the time limit is now larger than the one it timed out under, or there is none |
//!   | iteration limit reached | the iteration limit is now larger |
//!   | converged | never (the solve is deterministic: the same game gives the same result) |
//!   | non-finite | never (the blow-up happens at the same iteration whatever the limits) |
//!
//!   A timed-out point is not rerun under the same or a smaller limit: it would time out again
//!   (pass a larger limit). The last record of a point wins, so a rerun's record supersedes
//!   the old one.
//!
//! ```no_run
//! use mfg::MfgConfig;
//! use mfg::sweep::{Axis, SweepConfig, SweepJob, SweepParam};
//! use par_core::{ExecConfig, Executor, Mode};
//!
//! let config = SweepConfig {
//!     base: MfgConfig::default(),
//!     axes: vec![Axis { param: SweepParam::Sigma, values: vec![0.3, 0.5, 0.8] }],
//!     run_timeout_s: Some(10.0),
//! };
//! let exec = Executor::new(ExecConfig::with_mode(Mode::Threads { workers: 2 }))?;
//! let r = SweepJob::run_with(&config, &exec, Some("sweep.jsonl".as_ref()))?;
//! let summary = r.summary();
//! println!("{summary}"); // "3 points: 3 converged"
//! if summary.converged == 0 {
//!     eprintln!("no usable result");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

use par_core::journal::{Journal, JournalRead};
use par_core::{Executor, Job, RemoteJob, RunReport, TaskContext};

use crate::config::{CouplingConfig, HamiltonianConfig, MfgConfig, TerminalConfig};
use crate::error::{MfgError, positive};
use crate::solver::Status;

/// The most points a sweep may have (1,000,000): every point is validated before the first
/// run and keeps a record in memory.
pub const MAX_POINTS: usize = 1_000_000;

/// The largest value a whole-number parameter (`nx`, `nt`) may take in an axis (2^53, the
/// largest whole number every `f64` up to it represents exactly).
pub const MAX_WHOLE: f64 = 9_007_199_254_740_992.0;

/// A parameter a sweep can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepParam {
    /// `sigma`.
    Sigma,
    /// `horizon`.
    Horizon,
    /// `nx` (values must be whole numbers >= 3).
    Nx,
    /// `nt` (values must be whole numbers >= 1).
    Nt,
    /// The running coupling's `eps` (needs a quadratic-target coupling).
    CouplingEps,
    /// The log-congestion `strength` (needs a log-congestion coupling).
    CongestionStrength,
    /// The terminal cost's `c` (needs a quadratic-target terminal cost).
    TerminalC,
    /// The Hamiltonian's `lambda`.
    Lambda,
    /// The solver's `damping_m`.
    DampingM,
}

impl SweepParam {
    /// Sets this parameter of `cfg` to `value`, or names the field that cannot take it.
    pub fn apply(self, cfg: &mut MfgConfig, value: f64) -> Result<(), MfgError> {
        let whole = |field: &str| -> Result<usize, MfgError> {
            if value.is_finite() && value.fract() == 0.0 && (0.0..=MAX_WHOLE).contains(&value) {
                Ok(value as usize)
            } else {
                Err(MfgError::field(
                    field,
                    format!("must be a whole number from 0 to 2^53, got {value}"),
                ))
            }
        };
        match self {
            Self::Sigma => cfg.sigma = value,
            Self::Horizon => cfg.horizon = value,
            Self::Nx => cfg.nx = whole("nx")?,
            Self::Nt => cfg.nt = whole("nt")?,
            Self::CouplingEps => match &mut cfg.coupling {
                CouplingConfig::QuadraticTarget { eps, .. } => *eps = value,
                _ => return Err(MfgError::field("coupling.eps", "the coupling has no eps")),
            },
            Self::CongestionStrength => match &mut cfg.coupling {
                CouplingConfig::LogCongestion { strength, .. } => *strength = value,
                _ => {
                    return Err(MfgError::field(
                        "coupling.strength",
                        "the coupling has no strength",
                    ));
                }
            },
            Self::TerminalC => match &mut cfg.terminal {
                TerminalConfig::QuadraticTarget { c, .. } => *c = value,
                TerminalConfig::None => {
                    return Err(MfgError::field("terminal.c", "the terminal cost has no c"));
                }
            },
            Self::Lambda => match &mut cfg.hamiltonian {
                HamiltonianConfig::Quadratic { lambda } => *lambda = value,
            },
            Self::DampingM => cfg.solver.damping_m = value,
        }
        Ok(())
    }
}

/// One axis of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// The parameter.
    pub param: SweepParam,
    /// Its values, in order.
    pub values: Vec<f64>,
}

/// A sweep: a base game and the axes of the product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// The game every point starts from.
    pub base: MfgConfig,
    /// The axes (row-major, last fastest).
    pub axes: Vec<Axis>,
    /// Per-run wall-clock limit in seconds (default none).
    #[serde(default)]
    pub run_timeout_s: Option<f64>,
}

/// What one point's solve produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointOutput {
    /// Picard iterations.
    pub iterations: usize,
    /// First moment of `m(T)`.
    pub mean_t: f64,
    /// Variance of `m(T)`.
    pub variance_t: f64,
    /// `u(0, x)` at the cell nearest the initial mean.
    pub u0_at_mean: f64,
    /// Mass drift.
    pub mass_drift: f64,
    /// Smallest density value.
    pub min_density: f64,
}

/// How a point's run ended. Only [`Outcome::Converged`] is a usable result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The solve met its tolerances.
    Converged,
    /// The solve reached its Picard iteration limit first.
    MaxIterations,
    /// The solve reached its time limit first.
    TimedOut,
    /// A non-finite value appeared in the solve.
    NonFinite,
    /// The run produced no solve: a panic, a crashed or killed worker, an executor time-out, a
    /// result that could not be written to the results file.
    Failed,
}

impl Outcome {
    /// The outcome of a solve that ended with `status`.
    pub fn of(status: Status) -> Self {
        match status {
            Status::Converged => Self::Converged,
            Status::MaxIterations => Self::MaxIterations,
            Status::TimedOut => Self::TimedOut,
            Status::NonFinite => Self::NonFinite,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Converged => "converged",
            Self::MaxIterations => "iteration limit",
            Self::TimedOut => "timed out",
            Self::NonFinite => "non-finite",
            Self::Failed => "failed",
        })
    }
}

/// Why a point that has a record in the results file is run again (see the table in the
/// [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RerunReason {
    /// The record was produced by another game: the point's settings differ in something other
    /// than the time and iteration limits.
    OtherSettings,
    /// The record's run failed.
    Failed,
    /// The run timed out under `was` seconds and the limit is now `now` (`None`: no limit).
    LongerTimeLimit {
        /// The limit the record timed out under.
        was: Option<f64>,
        /// The limit now.
        now: Option<f64>,
    },
    /// The run reached `was` Picard iterations and the limit is now `now`.
    MoreIterations {
        /// The limit the record reached.
        was: usize,
        /// The limit now.
        now: usize,
    },
}

impl fmt::Display for RerunReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = |s: &Option<f64>| s.map_or_else(|| "none".to_string(), |s| format!("{s:?} s"));
        match self {
            Self::OtherSettings => f.write_str("its record was computed with other settings"),
            Self::Failed => f.write_str("its run failed"),
            Self::LongerTimeLimit { was, now } => write!(
                f,
                "it timed out under a limit of {}, the limit is now {}",
                secs(was),
                secs(now)
            ),
            Self::MoreIterations { was, now } => write!(
                f,
                "it reached the iteration limit {was}, the limit is now {now}"
            ),
        }
    }
}

/// One record of the sweep (one JSON line of the results file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRecord {
    /// Point index (row-major).
    pub index: usize,
    /// The parameter values of the point.
    pub params: Vec<(SweepParam, f64)>,
    /// The settings that produced this record: the point's whole resolved game, with the time
    /// limit (`solver.max_seconds`) and the iteration limit (`solver.max_iterations`) it ran
    /// under.
    pub config: MfgConfig,
    /// How the solve ended, or `None` when the run failed (see `error`).
    pub status: Option<Status>,
    /// Wall-clock seconds of the solve.
    pub seconds: f64,
    /// The solve's output (absent when the run failed).
    pub output: Option<PointOutput>,
    /// Why the run failed, if it did.
    pub error: Option<String>,
}

impl SweepRecord {
    /// A record of a run of point `index` that produced no solve.
    pub fn failed(
        index: usize,
        params: Vec<(SweepParam, f64)>,
        config: MfgConfig,
        why: String,
    ) -> Self {
        Self {
            index,
            params,
            config,
            status: None,
            seconds: 0.0,
            output: None,
            error: Some(why),
        }
    }

    /// How the run ended.
    pub fn outcome(&self) -> Outcome {
        match (&self.error, self.status) {
            (None, Some(status)) => Outcome::of(status),
            _ => Outcome::Failed,
        }
    }

    /// Whether the record is a usable result (the solve converged).
    pub fn is_usable(&self) -> bool {
        self.outcome() == Outcome::Converged
    }

    /// Why this record, found in a results file, does not stand for a run of its point under
    /// the settings `now` (the point's resolved game as the present sweep would solve it), or
    /// `None` when it does and the point need not run again. See the table in the
    /// [module docs](self).
    pub fn rerun_reason(&self, now: &MfgConfig) -> Option<RerunReason> {
        let without_limits = |c: &MfgConfig| {
            let mut c = c.clone();
            c.solver.max_seconds = None;
            c.solver.max_iterations = 0;
            c
        };
        if without_limits(&self.config) != without_limits(now) {
            return Some(RerunReason::OtherSettings);
        }
        match self.outcome() {
            Outcome::Converged | Outcome::NonFinite => None,
            Outcome::Failed => Some(RerunReason::Failed),
            Outcome::TimedOut => {
                let (was, limit) = (self.config.solver.max_seconds, now.solver.max_seconds);
                let longer = match limit {
                    None => true,
                    Some(limit) => limit > was.unwrap_or(0.0),
                };
                longer.then_some(RerunReason::LongerTimeLimit { was, now: limit })
            }
            Outcome::MaxIterations => {
                let (was, limit) = (self.config.solver.max_iterations, now.solver.max_iterations);
                (limit > was).then_some(RerunReason::MoreIterations { was, now: limit })
            }
        }
    }
}

/// How many points of a sweep ended how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// Points of the sweep.
    pub points: usize,
    /// Converged: the usable results.
    pub converged: usize,
    /// Reached the iteration limit.
    pub max_iterations: usize,
    /// Reached the time limit.
    pub timed_out: usize,
    /// Ended with non-finite values.
    pub non_finite: usize,
    /// Failed to run.
    pub failed: usize,
}

impl SweepSummary {
    /// Counts the outcomes of `records`.
    pub fn of(records: &[SweepRecord]) -> Self {
        let mut s = Self {
            points: records.len(),
            ..Self::default()
        };
        for r in records {
            *match r.outcome() {
                Outcome::Converged => &mut s.converged,
                Outcome::MaxIterations => &mut s.max_iterations,
                Outcome::TimedOut => &mut s.timed_out,
                Outcome::NonFinite => &mut s.non_finite,
                Outcome::Failed => &mut s.failed,
            } += 1;
        }
        s
    }

    /// Points without a usable result.
    pub fn unusable(&self) -> usize {
        self.points - self.converged
    }
}

impl fmt::Display for SweepSummary {
    /// `27 points: 20 converged, 5 timed out, 2 failed` (outcomes with no point are left out).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} points: {} converged", self.points, self.converged)?;
        for (n, what) in [
            (self.timed_out, "timed out"),
            (self.max_iterations, "reached the iteration limit"),
            (self.non_finite, "non-finite"),
            (self.failed, "failed"),
        ] {
            if n > 0 {
                write!(f, ", {n} {what}")?;
            }
        }
        Ok(())
    }
}

/// The result of a sweep.
#[derive(Debug, Clone)]
pub struct SweepResult {
    /// One record per point, in point order.
    pub records: Vec<SweepRecord>,
    /// Points taken from the results file instead of being run.
    pub resumed: usize,
    /// Points run now.
    pub computed: usize,
    /// Points that had a record in the results file and were run again, with the reason.
    pub rerun: Vec<(usize, RerunReason)>,
    /// Lines of the results file that did not parse (a line torn by a killed run, or a record
    /// of an older format), skipped; their points ran again.
    pub skipped_lines: usize,
    /// The executor's report of the points run now (`None` when nothing was left to run).
    pub report: Option<RunReport>,
    /// The number of values of each axis, in the order of [`SweepConfig::axes`].
    pub shape: Vec<usize>,
}

impl SweepResult {
    /// How many points ended how.
    pub fn summary(&self) -> SweepSummary {
        SweepSummary::of(&self.records)
    }

    /// One output of every point as an array shaped like the sweep: axis `k` is
    /// [`SweepConfig::axes`]`[k]` and index `j` along it is that axis's `j`-th value, so a
    /// 3-axis sweep of 3 values each gives shape `(3, 3, 3)` (row-major: the point index of
    /// [`SweepConfig::point`] is the flat index). Only converged points have a value: a point
    /// that failed, timed out, reached its iteration limit or went non-finite is NaN (its
    /// record still holds what its run produced).
    ///
    /// ```
    /// # use mfg::sweep::SweepResult;
    /// # fn plot(r: &SweepResult) {
    /// let mean_t = r.output_array(|o| o.mean_t); // e.g. shape (3, 3, 3)
    /// # }
    /// ```
    pub fn output_array(&self, f: impl Fn(&PointOutput) -> f64) -> ArrayD<f64> {
        let values: Vec<f64> = self
            .records
            .iter()
            .map(|r| match (&r.output, r.is_usable()) {
                (Some(o), true) => f(o),
                _ => f64::NAN,
            })
            .collect();
        ArrayD::from_shape_vec(IxDyn(&self.shape), values)
            .expect("one record per point of the product of the axes")
    }
}

/// The sweep as a [`par_core::RemoteJob`]: task `i` solves the `i`-th point still to do and
/// appends its record to the results file. Register it in binaries that use processes mode:
/// `par_core::process::Registry::new().with::<SweepJob>()`.
///
/// On the wire the job travels as JSON text (the configuration's tagged enums need a
/// self-describing format).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "Wire", try_from = "Wire")]
pub struct SweepJob {
    config: SweepConfig,
    todo: Vec<usize>,
    journal: Option<Journal>,
    /// MPI, rank 0: points whose records from other ranks could not be appended, with why.
    unwritten: Arc<Mutex<Vec<(usize, String)>>>,
}

impl PartialEq for SweepJob {
    fn eq(&self, other: &Self) -> bool {
        (&self.config, &self.todo, &self.journal) == (&other.config, &other.todo, &other.journal)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    json: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Data {
    config: SweepConfig,
    todo: Vec<usize>,
    results_file: Option<PathBuf>,
}

impl From<SweepJob> for Wire {
    fn from(j: SweepJob) -> Self {
        let d = Data {
            config: j.config,
            todo: j.todo,
            results_file: j.journal.map(|j| j.path().to_path_buf()),
        };
        Self {
            json: serde_json::to_string(&d).expect("configs serialise"),
        }
    }
}

impl TryFrom<Wire> for SweepJob {
    type Error = String;
    fn try_from(w: Wire) -> Result<Self, String> {
        let d: Data = serde_json::from_str(&w.json).map_err(|e| e.to_string())?;
        Ok(Self {
            config: d.config,
            todo: d.todo,
            // The parent opened the journal (and mended a torn line) before any task started;
            // a worker only appends.
            journal: d.results_file.as_deref().map(Journal::appender),
            unwritten: Arc::default(),
        })
    }
}

impl SweepConfig {
    /// The 3 x 3 x 3 sweep over sigma (0.3, 0.5, 0.8), the coupling eps (0.5, 1, 2) and the
    /// terminal weight c (0, 1, 4) from `base`: the `sweep` example's built-in sweep, which the
    /// MPI bench measures too.
    pub fn sigma_eps_c_27(base: MfgConfig) -> Self {
        let axis = |param, values: [f64; 3]| Axis {
            param,
            values: values.to_vec(),
        };
        Self {
            base,
            axes: vec![
                axis(SweepParam::Sigma, [0.3, 0.5, 0.8]),
                axis(SweepParam::CouplingEps, [0.5, 1.0, 2.0]),
                axis(SweepParam::TerminalC, [0.0, 1.0, 4.0]),
            ],
            run_timeout_s: None,
        }
    }

    /// Number of points (saturating at `usize::MAX`; [`SweepConfig::validate`] refuses more than
    /// [`MAX_POINTS`]).
    pub fn len(&self) -> usize {
        self.axes
            .iter()
            .fold(1usize, |n, a| n.saturating_mul(a.values.len()))
    }

    /// Whether the sweep has no point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of values of each axis.
    pub fn shape(&self) -> Vec<usize> {
        self.axes.iter().map(|a| a.values.len()).collect()
    }

    /// The parameter values of point `index`.
    ///
    /// # Panics
    /// When `index` is not below [`SweepConfig::len`] (as slice indexing does).
    pub fn point(&self, index: usize) -> Vec<(SweepParam, f64)> {
        assert!(
            index < self.len(),
            "point {index} of a sweep of {}",
            self.len()
        );
        let mut rest = index;
        let mut out = vec![(SweepParam::Sigma, 0.0); self.axes.len()];
        for (slot, axis) in out.iter_mut().zip(&self.axes).rev() {
            let n = axis.values.len();
            *slot = (axis.param, axis.values[rest % n]);
            rest /= n;
        }
        out
    }

    /// Checks what can be checked without building any game: every axis has values, the
    /// product has between 1 and [`MAX_POINTS`] points, and the time limit is finite and
    /// positive.
    pub fn check_shape(&self) -> Result<(), MfgError> {
        for (k, axis) in self.axes.iter().enumerate() {
            if axis.values.is_empty() {
                return Err(MfgError::field(
                    format!("axes[{k}].values"),
                    "is empty: a sweep needs at least one point",
                ));
            }
        }
        if self.len() > MAX_POINTS {
            return Err(MfgError::field(
                "axes",
                format!(
                    "the product of the axes has {} points, more than the {MAX_POINTS} a sweep may have",
                    self.shape()
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(" x ")
                ),
            ));
        }
        if let Some(t) = self.run_timeout_s {
            positive("run_timeout_s", t)?;
        }
        Ok(())
    }

    /// The game of point `index` with its parameters applied and the sweep's time limit set,
    /// not yet validated (nothing is allocated).
    pub fn point_config(&self, index: usize) -> Result<MfgConfig, MfgError> {
        if index >= self.len() {
            return Err(MfgError::field(
                "index",
                format!("point {index} of a sweep of {} points", self.len()),
            ));
        }
        let mut cfg = self.base.clone();
        for (p, v) in self.point(index) {
            p.apply(&mut cfg, v)?;
        }
        if let Some(t) = self.run_timeout_s {
            cfg.solver.max_seconds = Some(t);
        }
        Ok(cfg)
    }

    /// The game of point `index`, validated.
    pub fn config_of(&self, index: usize) -> Result<MfgConfig, MfgError> {
        let cfg = self.point_config(index)?;
        cfg.build()?;
        Ok(cfg)
    }

    /// The memory of the largest single solve of the sweep ([`MfgConfig::solve_bytes`]), found
    /// without allocating any game: check it against the memory available before
    /// [`SweepConfig::validate`] builds the points.
    pub fn largest_solve_bytes(&self) -> Result<u128, MfgError> {
        self.check_shape()?;
        let mut most = 0;
        for i in 0..self.len() {
            most = most.max(self.point_config(i)?.solve_bytes());
        }
        Ok(most)
    }

    /// Checks the shape ([`SweepConfig::check_shape`]) and every point of the product.
    pub fn validate(&self) -> Result<(), MfgError> {
        self.check_shape()?;
        for i in 0..self.len() {
            self.config_of(i)
                .map_err(|e| in_point(i, &self.point(i), e))?;
        }
        Ok(())
    }

    /// Solves point `index` on the calling thread. Fails only when the point's game is
    /// invalid; every outcome of the solve is in the record.
    pub fn solve_point(&self, index: usize) -> Result<SweepRecord, MfgError> {
        let cfg = self.config_of(index)?;
        let params = self.point(index);
        let s = match cfg.solver().and_then(|mut s| s.solve(None)) {
            Ok(s) => s,
            Err(e) => return Ok(SweepRecord::failed(index, params, cfg, e.to_string())),
        };
        let mean0 = s.mean(0);
        let i0 = (0..s.grid.nx())
            .min_by(|&a, &b| {
                (s.grid.x(a) - mean0)
                    .abs()
                    .total_cmp(&(s.grid.x(b) - mean0).abs())
            })
            .unwrap_or(0);
        let nt = s.grid.nt();
        Ok(SweepRecord {
            index,
            params,
            config: cfg,
            status: Some(s.status),
            seconds: s.seconds,
            output: Some(PointOutput {
                iterations: s.iterations,
                mean_t: s.mean(nt),
                variance_t: s.variance(nt),
                u0_at_mean: s.u_level(0)[i0],
                mass_drift: s.mass_drift(),
                min_density: s.min_density(),
            }),
            error: None,
        })
    }
}

/// Names the point whose game is invalid.
fn in_point(index: usize, params: &[(SweepParam, f64)], e: MfgError) -> MfgError {
    match e {
        MfgError::InvalidField { field, reason } => {
            let at: Vec<String> = params
                .iter()
                .map(|(p, v)| {
                    format!(
                        "{} = {v}",
                        serde_json::to_string(p)
                            .unwrap_or_default()
                            .trim_matches('"')
                    )
                })
                .collect();
            MfgError::InvalidField {
                field,
                reason: format!("{reason} (at point {index}: {})", at.join(", ")),
            }
        }
        other => other,
    }
}

/// What a results file holds for a sweep, judged against the sweep's present settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    /// For each point, the record kept (`None`: the point runs).
    pub kept: Vec<Option<SweepRecord>>,
    /// Points with a record in the file that run again, with the reason.
    pub rerun: Vec<(usize, RerunReason)>,
    /// Lines that did not parse, skipped.
    pub skipped_lines: usize,
}

impl Resume {
    /// Judges the records read from a results file (in file order; the last record of a point
    /// wins) against `config`, which must have passed [`SweepConfig::validate`].
    pub fn judge(config: &SweepConfig, read: JournalRead<SweepRecord>) -> Result<Self, MfgError> {
        let n = config.len();
        let mut last: Vec<Option<SweepRecord>> = vec![None; n];
        for rec in read.records {
            if rec.index < n {
                let i = rec.index;
                last[i] = Some(rec);
            }
        }
        let mut kept = vec![None; n];
        let mut rerun = Vec::new();
        for (i, rec) in last.into_iter().enumerate() {
            let Some(rec) = rec else { continue };
            let reason = if rec.params == config.point(i) {
                rec.rerun_reason(&config.point_config(i)?)
            } else {
                Some(RerunReason::OtherSettings)
            };
            match reason {
                None => kept[i] = Some(rec),
                Some(why) => rerun.push((i, why)),
            }
        }
        Ok(Self {
            kept,
            rerun,
            skipped_lines: read.skipped,
        })
    }
}

/// How every line of a results file begins (records are written as compact JSON).
const RECORD_START: &[u8] = b"{\"index\":";

/// Refuses a file that exists, is not empty and does not begin as a results file does, so that
/// a sweep never appends its records to some other file given by mistake. (A first record
/// torn by a killed run still begins as one.)
fn check_is_results_file(path: &Path) -> Result<(), MfgError> {
    use std::io::Read;
    let mut start = Vec::with_capacity(RECORD_START.len());
    match std::fs::File::open(path) {
        Ok(f) => f
            .take(RECORD_START.len() as u64)
            .read_to_end(&mut start)
            .map_err(|source| MfgError::Io {
                path: path.to_path_buf(),
                source,
            })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(MfgError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let n = start.len();
    if n == 0 || start[..] == RECORD_START[..n] {
        Ok(())
    } else {
        Err(MfgError::Parse {
            path: path.to_path_buf(),
            line: 1,
            reason: "this is not a sweep results file (JSON lines of sweep records); choose another file, or remove this one".into(),
        })
    }
}

/// Reads a results file and judges its records against `config` ([`Resume::judge`]), without
/// writing to it. A missing file holds no record; a file that does not begin as a results file
/// is refused ([`MfgError::Parse`]).
pub fn read_results(path: &Path, config: &SweepConfig) -> Result<Resume, MfgError> {
    check_is_results_file(path)?;
    let read = Journal::read::<SweepRecord>(path).map_err(|source| MfgError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Resume::judge(config, read)
}

impl SweepJob {
    /// Every point of `config` as tasks `0..config.len()`, without a results file: the job to
    /// hand an executor directly (a benchmark does); [`SweepJob::run_with`] is the one that
    /// keeps records and resumes. Validates every point first.
    pub fn new(config: &SweepConfig) -> Result<Self, MfgError> {
        config.validate()?;
        Ok(Self {
            config: config.clone(),
            todo: (0..config.len()).collect(),
            journal: None,
            unwritten: Arc::default(),
        })
    }

    /// The number of tasks (points to run).
    pub fn tasks(&self) -> usize {
        self.todo.len()
    }

    /// Runs the sweep through `exec`. With `results_file`, points whose records there stand
    /// under the present settings are kept, the others run (see the [module docs](self)), and
    /// every run appends its record as soon as it finishes. A `results_file` that exists and
    /// does not begin as a results file is refused before anything runs.
    ///
    /// In `Mode::Mpi` the call is collective (every rank calls it with the same sweep) and
    /// every rank returns the same result; rank 0 alone reads and writes `results_file`.
    pub fn run_with(
        config: &SweepConfig,
        exec: &Executor,
        results_file: Option<&Path>,
    ) -> Result<SweepResult, MfgError> {
        config.validate()?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| MfgError::Io { path, source }
        };
        // Rank 0 (the only process outside MPI) reads the file; every rank gets its reading.
        let mut root_error = None;
        let shared = par_core::mpi::share_from_root(exec, || {
            let resume = match results_file {
                Some(p) => check_is_results_file(p)
                    .and_then(|()| Journal::open::<SweepRecord>(p).map_err(io(p)))
                    .and_then(|(_, read)| Resume::judge(config, read)),
                None => Ok(Resume {
                    kept: vec![None; config.len()],
                    rerun: Vec::new(),
                    skipped_lines: 0,
                }),
            };
            AsJson(resume.map_err(|e| {
                let why = e.to_string();
                root_error = Some(e);
                why
            }))
        })?;
        if let Some(e) = root_error {
            return Err(e);
        }
        let resume = shared
            .0
            .map_err(|why| on_rank_0("could not read the results file", why))?;
        if resume.kept.len() != config.len() {
            return Err(on_rank_0(
                "runs another sweep",
                format!("{} points, here {}", resume.kept.len(), config.len()),
            ));
        }
        let journal = results_file.map(Journal::appender);
        let mut records = resume.kept;
        let todo: Vec<usize> = (0..config.len())
            .filter(|&i| records[i].is_none())
            .collect();
        let resumed = config.len() - todo.len();
        let job = SweepJob {
            config: config.clone(),
            todo: todo.clone(),
            journal: journal.clone(),
            unwritten: Arc::default(),
        };
        let mut report = None;
        if !todo.is_empty() {
            let out = exec.run(&job, todo.len())?;
            // Records of other ranks that rank 0 could not append (MPI only), known everywhere.
            let unwritten = par_core::mpi::share_from_root(exec, || {
                job.unwritten
                    .lock()
                    .map(|u| u.clone())
                    .unwrap_or_else(|e| e.into_inner().clone())
            })?;
            for (slot, res) in todo.iter().zip(out.results) {
                let decoded = match res {
                    Ok(encoded) => encoded
                        .decode()
                        .map_err(|e| format!("the record of the run could not be decoded: {e}")),
                    Err(f) => Err(f.to_string()),
                };
                let rec = match decoded {
                    Ok(rec) => match unwritten.iter().find(|(i, _)| i == slot) {
                        Some((_, why)) => {
                            SweepRecord::failed(rec.index, rec.params, rec.config, why.clone())
                        }
                        None => rec,
                    },
                    Err(why) => {
                        let rec = SweepRecord::failed(
                            *slot,
                            config.point(*slot),
                            config.point_config(*slot)?,
                            why,
                        );
                        if let Some(j) = journal.as_ref().filter(|_| par_core::mpi::is_root()) {
                            j.append(&rec).map_err(io(j.path()))?;
                        }
                        rec
                    }
                };
                records[*slot] = Some(rec);
            }
            report = Some(out.report);
        }
        Ok(SweepResult {
            records: records
                .into_iter()
                .map(|r| r.expect("every point filled"))
                .collect(),
            resumed,
            computed: todo.len(),
            rerun: resume.rerun,
            skipped_lines: resume.skipped_lines,
            report,
            shape: config.shape(),
        })
    }
}

/// A value that travels between the ranks of an MPI job as its JSON text: the game's
/// internally tagged enums need a self-describing format.
#[derive(Debug, Clone)]
struct AsJson<T>(T);

impl<T: Serialize> Serialize for AsJson<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        serde_json::to_string(&self.0)
            .map_err(S::Error::custom)?
            .serialize(s)
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for AsJson<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        serde_json::from_str(&String::deserialize(d)?)
            .map(AsJson)
            .map_err(D::Error::custom)
    }
}

/// An error that rank 0 met, as the other ranks of an MPI job report it.
fn on_rank_0(what: &str, why: String) -> MfgError {
    MfgError::Exec(par_core::ExecError::Mpi(format!("rank 0 {what}: {why}")))
}

/// A [`SweepRecord`] as a task returns it: its JSON text, because the record's game holds
/// internally tagged enums, which the compact format between worker processes cannot carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodedRecord {
    json: String,
}

impl EncodedRecord {
    fn new(record: &SweepRecord) -> Self {
        Self {
            json: serde_json::to_string(record).expect("records serialise"),
        }
    }

    /// The record.
    pub fn decode(&self) -> Result<SweepRecord, serde_json::Error> {
        serde_json::from_str(&self.json)
    }
}

impl SweepJob {
    fn solve(&self, index: usize) -> SweepRecord {
        let rec = match self.config.solve_point(index) {
            Ok(rec) => rec,
            // `run_with` validated every point before the first task: not reached.
            Err(e) => SweepRecord::failed(
                index,
                self.config.point(index),
                self.config.base.clone(),
                e.to_string(),
            ),
        };
        // Under MPI, rank 0 appends the records of the other ranks (`received_on_root`).
        match self.journal.as_ref().filter(|_| par_core::mpi::rank() == 0) {
            Some(journal) => match journal.append(&rec) {
                Ok(()) => rec,
                Err(e) => SweepRecord::failed(
                    index,
                    rec.params,
                    rec.config,
                    format!(
                        "solved, but the record could not be appended to the results file: {e}"
                    ),
                ),
            },
            None => rec,
        }
    }
}

impl Job for SweepJob {
    type Output = EncodedRecord;
    fn run(&self, ctx: &mut TaskContext) -> EncodedRecord {
        EncodedRecord::new(&self.solve(self.todo[ctx.index]))
    }
}

impl RemoteJob for SweepJob {
    const NAME: &'static str = "mfg.sweep";

    /// MPI, rank 0: appends the record of a point that another rank solved.
    fn received_on_root(&self, index: usize, output: &EncodedRecord) {
        let Some(journal) = &self.journal else {
            return;
        };
        let appended = output
            .decode()
            .map_err(|e| format!("the record of the run could not be decoded: {e}"))
            .and_then(|rec| {
                journal.append(&rec).map_err(|e| {
                    format!("solved, but the record could not be appended to the results file: {e}")
                })
            });
        if let Err(why) = appended {
            let point = self.todo.get(index).copied().unwrap_or(index);
            self.unwritten
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((point, why));
        }
    }
}
