//! Parameter sweeps: the Cartesian product of parameter lists, solved through `par-core` in
//! any mode (processes included), with a per-run time limit, retries, incremental JSON-lines
//! output and resume.
//!
//! * **Order.** Points are numbered in row-major order of the axes (the last axis varies
//!   fastest); results come back in that order whatever the mode.
//! * **Time limit.** `run_timeout_s` becomes the solver's `max_seconds` for every run, checked
//!   after each Picard iteration in every mode: a run that reaches it ends with
//!   [`Status::TimedOut`]. In `Processes` mode the executor's own `timeout` additionally kills a
//!   worker that hangs, and the point is reported as failed.
//! * **Retries.** Runs that fail (panic, crash, executor time-out) are retried by `par-core`
//!   (`ExecConfig::retries`); a run that fails on every attempt is reported as failed and not
//!   written to the results file, so a later resume runs it again.
//! * **Incremental output and resume.** With a results file, every run appends one JSON line
//!   (one `write` call, `O_APPEND`) as soon as it finishes, from whichever thread or worker
//!   process ran it. [`SweepJob::run_with`] first reads the file, keeps the records whose point
//!   index and parameters match this sweep, and runs only the other points. Lines that do not
//!   parse (a run killed mid-write) are ignored and their points run again.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

use par_core::{Executor, Job, RemoteJob, RunReport, TaskContext};

use crate::config::{CouplingConfig, HamiltonianConfig, MfgConfig, TerminalConfig};
use crate::error::MfgError;
use crate::solver::Status;

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
            if value.fract() == 0.0 && value >= 0.0 && value.is_finite() {
                Ok(value as usize)
            } else {
                Err(MfgError::field(
                    field,
                    format!("must be a whole number, got {value}"),
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

/// One record of the sweep (one JSON line of the results file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRecord {
    /// Point index (row-major).
    pub index: usize,
    /// The parameter values of the point.
    pub params: Vec<(SweepParam, f64)>,
    /// How the solve ended, or `None` when the run failed (see `error`).
    pub status: Option<Status>,
    /// Wall-clock seconds of the solve.
    pub seconds: f64,
    /// The solve's output (absent when the run failed).
    pub output: Option<PointOutput>,
    /// Why the run failed, if it did.
    pub error: Option<String>,
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
    /// The executor's report of the points run now (`None` when nothing was left to run).
    pub report: Option<RunReport>,
    /// The number of values of each axis, in the order of [`SweepConfig::axes`].
    pub shape: Vec<usize>,
}

impl SweepResult {
    /// One output of every point as an array shaped like the sweep: axis `k` is
    /// [`SweepConfig::axes`]`[k]` and index `j` along it is that axis's `j`-th value, so a
    /// 3-axis sweep of 3 values each gives shape `(3, 3, 3)` (row-major: the point index of
    /// [`SweepConfig::point`] is the flat index). Points whose run failed (no output) are NaN;
    /// a point that ran but did not converge keeps its value (see its record's status).
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
            .map(|r| r.output.as_ref().map_or(f64::NAN, &f))
            .collect();
        ArrayD::from_shape_vec(IxDyn(&self.shape), values)
            .expect("one record per point of the product of the axes")
    }
}

/// The sweep as a [`par_core::RemoteJob`]: task `i` solves the `i`-th point still to do.
/// Register it in binaries that use processes mode:
/// `par_core::process::Registry::new().with::<SweepJob>()`.
///
/// On the wire the job travels as JSON text (the configuration's tagged enums need a
/// self-describing format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "Wire", try_from = "Wire")]
pub struct SweepJob {
    config: SweepConfig,
    todo: Vec<usize>,
    results_file: Option<PathBuf>,
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
            results_file: j.results_file,
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
            results_file: d.results_file,
        })
    }
}

impl SweepConfig {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Whether the sweep has no point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The parameter values of point `index`.
    pub fn point(&self, index: usize) -> Vec<(SweepParam, f64)> {
        let mut rest = index;
        let mut out = vec![(SweepParam::Sigma, 0.0); self.axes.len()];
        for (slot, axis) in out.iter_mut().zip(&self.axes).rev() {
            let n = axis.values.len();
            *slot = (axis.param, axis.values[rest % n]);
            rest /= n;
        }
        out
    }

    /// The game of point `index`, validated.
    pub fn config_of(&self, index: usize) -> Result<MfgConfig, MfgError> {
        let mut cfg = self.base.clone();
        for (p, v) in self.point(index) {
            p.apply(&mut cfg, v)?;
        }
        if let Some(t) = self.run_timeout_s {
            cfg.solver.max_seconds = Some(t);
        }
        cfg.build()?;
        Ok(cfg)
    }

    /// Checks every point of the product.
    pub fn validate(&self) -> Result<(), MfgError> {
        for (k, axis) in self.axes.iter().enumerate() {
            if axis.values.is_empty() {
                return Err(MfgError::field(format!("axes[{k}].values"), "is empty"));
            }
        }
        for i in 0..self.len() {
            self.config_of(i)?;
        }
        Ok(())
    }

    /// Solves point `index` on the calling thread.
    pub fn solve_point(&self, index: usize) -> SweepRecord {
        let params = self.point(index);
        let fail = |e: MfgError| SweepRecord {
            index,
            params: params.clone(),
            status: None,
            seconds: 0.0,
            output: None,
            error: Some(e.to_string()),
        };
        let cfg = match self.config_of(index) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let s = match cfg.solver().and_then(|mut s| s.solve(None)) {
            Ok(s) => s,
            Err(e) => return fail(e),
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
        SweepRecord {
            index,
            params,
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
        }
    }
}

fn append_line(path: &Path, record: &SweepRecord) -> std::io::Result<()> {
    let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(line.as_bytes())
}

/// Ends a line cut off by an interrupted run, so that new records start on their own line.
fn terminate_last_line(path: &Path) -> Result<(), MfgError> {
    let io = |source| MfgError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) if bytes.last().is_some_and(|b| *b != b'\n') => {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(io)?;
            f.write_all(b"\n").map_err(io)
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(e)),
    }
}

/// Reads the records of a results file that belong to `config` (matching index and
/// parameters, solved without error), last one winning. A missing file gives none.
pub fn read_results(
    path: &Path,
    config: &SweepConfig,
) -> Result<Vec<Option<SweepRecord>>, MfgError> {
    let mut found = vec![None; config.len()];
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(source) => {
            return Err(MfgError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|source| MfgError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let Ok(rec) = serde_json::from_str::<SweepRecord>(&line) else {
            continue;
        };
        if rec.index < found.len() && rec.error.is_none() && rec.params == config.point(rec.index) {
            let i = rec.index;
            found[i] = Some(rec);
        }
    }
    Ok(found)
}

impl SweepJob {
    /// Runs the sweep through `exec`. With `results_file`, finished points found there are
    /// skipped and every new run appends its record as soon as it finishes.
    pub fn run_with(
        config: &SweepConfig,
        exec: &Executor,
        results_file: Option<&Path>,
    ) -> Result<SweepResult, MfgError> {
        config.validate()?;
        let mut records = match results_file {
            Some(p) => {
                terminate_last_line(p)?;
                read_results(p, config)?
            }
            None => vec![None; config.len()],
        };
        let todo: Vec<usize> = (0..config.len())
            .filter(|&i| records[i].is_none())
            .collect();
        let resumed = config.len() - todo.len();
        let job = SweepJob {
            config: config.clone(),
            todo: todo.clone(),
            results_file: results_file.map(Path::to_path_buf),
        };
        let mut report = None;
        if !todo.is_empty() {
            let out = exec.run(&job, todo.len())?;
            for (slot, res) in todo.iter().zip(out.results) {
                records[*slot] = Some(match res {
                    Ok(r) => r,
                    Err(f) => SweepRecord {
                        index: *slot,
                        params: config.point(*slot),
                        status: None,
                        seconds: 0.0,
                        output: None,
                        error: Some(f.to_string()),
                    },
                });
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
            report,
            shape: config.axes.iter().map(|a| a.values.len()).collect(),
        })
    }
}

impl Job for SweepJob {
    type Output = SweepRecord;
    fn run(&self, ctx: &mut TaskContext) -> SweepRecord {
        let rec = self.config.solve_point(self.todo[ctx.index]);
        if let (Some(path), None) = (&self.results_file, &rec.error)
            && let Err(e) = append_line(path, &rec)
        {
            panic!("cannot append to {}: {e}", path.display());
        }
        rec
    }
}

impl RemoteJob for SweepJob {
    const NAME: &'static str = "mfg.sweep";
}
