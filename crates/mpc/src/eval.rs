//! Evaluation of a controller on many segments, segments in parallel through `par-core`.
//!
//! Each segment is one task: it is independent and large (hundreds of model calls), so this is
//! the level where parallelism pays. Workers keep their ONNX Runtime sessions between segments;
//! sessions built inside a parallel worker get one intra-op thread
//! ([`par_core::budget::inner_threads`]). Results come back in segment order and are identical
//! for every worker count and every mode, worker processes included: the simulator's draws
//! depend only on each segment's seed key, and a stochastic controller's seed only on the run
//! seed and the segment's index.
//!
//! **Resume.** [`evaluate_resumable`] appends each finished segment's result to a JSON-lines
//! journal ([`par_core::journal::Journal`]) from whichever thread or worker process ran it, as
//! soon as it finishes. A rerun reads the journal back and runs only the segments that have no
//! record made with the same settings ([`settings_key`]: model file, controller, simulator
//! options, planner and seed) for the same segment values ([`Segment::digest`]) at the same
//! position. Costs read back from the journal are bit-identical to computed ones, so a resumed
//! evaluation equals an uninterrupted one.
//!
//! **MPI** (`par_core::Mode::Mpi`, feature `mpi`): [`evaluate`] and [`evaluate_resumable`] are
//! collective (every rank calls them with the same segments and settings) and return the same
//! [`Evaluation`] on every rank. Rank 0 alone reads and writes the journal: it reads it and
//! sends what it kept to every rank ([`par_core::mpi::share_from_root`]), appends the results
//! of its own tasks as they finish, and those of the other ranks as they reach it
//! ([`par_core::RemoteJob::received_on_root`], in batches at most 20 ms old). One process
//! writes the file, so it need only be visible to rank 0 and appends never interleave on any
//! file system; a job killed mid-run loses at most the results still on their way to rank 0.
//! A result that rank 0 cannot append fails its segment on every rank, as in every mode.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use par_core::bench::thread_cpu_seconds;
use par_core::journal::Journal;
use par_core::{ExecConfig, Executor, Job, RemoteJob, RunReport, TaskContext};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::cem::{MpcConfig, MpcController};
use crate::controller::{Controller, PidController, ZeroController};
use crate::cost::Costs;
use crate::error::MpcError;
use crate::model::DynamicsModel;
use crate::native::NativeModel;
use crate::onnx::{OrtModel, OrtOptions};
use crate::segment::Segment;
use crate::simulator::{DEL_T, Rollout, SimOptions, Simulator};

/// Which controller to evaluate: `{"kind": "pid"}`, or `{"kind": "mpc", ...}` with the fields of
/// [`MpcConfig`] beside the tag. An unknown field is an error naming it, beside every kind.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", from = "ControllerSpecFields")]
#[non_exhaustive]
pub enum ControllerSpec {
    /// [`ZeroController`].
    Zero,
    /// The reference [`PidController`].
    #[default]
    Pid,
    /// The batched sampling [`MpcController`], planning with its own session of the
    /// simulator's model.
    Mpc(MpcConfig),
}

/// What [`ControllerSpec`] is read from. serde ignores `deny_unknown_fields` for the unit
/// variants of an internally tagged enum (serde-rs/serde#2123), so `{"kind": "pid", "horizon":
/// 5}` would pass silently; here every kind holds a struct that rejects unknown fields.
#[derive(serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
enum ControllerSpecFields {
    Zero(NoFields),
    Pid(NoFields),
    Mpc(MpcConfig),
}

/// The fields of a controller kind that takes none.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

impl From<ControllerSpecFields> for ControllerSpec {
    fn from(fields: ControllerSpecFields) -> Self {
        match fields {
            ControllerSpecFields::Zero(NoFields {}) => Self::Zero,
            ControllerSpecFields::Pid(NoFields {}) => Self::Pid,
            ControllerSpecFields::Mpc(config) => Self::Mpc(config),
        }
    }
}

impl ControllerSpec {
    /// The name used on the command line and in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Zero => "zero",
            Self::Pid => "pid",
            Self::Mpc(_) => "mpc",
        }
    }
}

/// Which implementation of the model the MPC planner rolls candidates out with (the simulator
/// always uses ONNX Runtime, for the official sampling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannerModel {
    /// [`NativeModel`] when the file is the tinyphysics transformer, ONNX Runtime otherwise.
    #[default]
    Auto,
    /// Always [`NativeModel`] (an error for another architecture).
    Native,
    /// Always an ONNX Runtime session ([`OrtModel`]).
    Ort,
}

impl PlannerModel {
    /// The implementation [`PlannerModel::load`] would choose for the model at `path`:
    /// [`PlannerModel::Native`] or [`PlannerModel::Ort`], never `Auto`.
    ///
    /// # Errors
    /// When `Native` is asked for a model the native implementation cannot evaluate, or the
    /// file cannot be read.
    pub fn resolve(self, path: &Path) -> Result<Self, MpcError> {
        match self {
            Self::Ort => Ok(Self::Ort),
            Self::Native => NativeModel::load(path).map(|_| Self::Native),
            Self::Auto => match NativeModel::load(path) {
                Ok(_) => Ok(Self::Native),
                Err(MpcError::ModelArchitecture { .. }) => Ok(Self::Ort),
                Err(e) => Err(e),
            },
        }
    }

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Native => "native",
            Self::Ort => "ort",
        }
    }

    /// Loads the planner's model from `path`.
    pub fn load(
        self,
        path: &Path,
        ort: OrtOptions,
    ) -> Result<Box<dyn DynamicsModel + Send>, MpcError> {
        match self {
            Self::Ort => Ok(Box::new(OrtModel::load(path, ort)?)),
            Self::Native => Ok(Box::new(NativeModel::load(path)?)),
            Self::Auto => match NativeModel::load(path) {
                Ok(m) => Ok(Box::new(m)),
                Err(MpcError::ModelArchitecture { .. }) => Ok(Box::new(OrtModel::load(path, ort)?)),
                Err(e) => Err(e),
            },
        }
    }
}

/// Everything an evaluation needs besides the segments.
#[derive(Debug, Clone)]
pub struct EvalConfig {
    /// The dynamics model file (the simulator's model).
    pub model: PathBuf,
    /// The controller.
    pub controller: ControllerSpec,
    /// Simulator options (seed key, warm-up model queries, and whether each segment's result
    /// carries its per-step [`TraceRow`]s).
    pub sim: SimOptions,
    /// The MPC planner's model implementation (default: native when the architecture allows).
    pub planner: PlannerModel,
    /// ONNX Runtime session options (default: intra-op threads from the thread budget).
    pub ort: OrtOptions,
    /// Executor configuration: mode (worker processes included), workers, run seed
    /// (controllers' seeds derive from it), progress bar.
    pub exec: ExecConfig,
}

/// One step of a segment's rollout, for plotting a run: the columns of the simulator's trace
/// with the segment's own values beside them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TraceRow {
    /// Step index `t` (the first simulated step is 20).
    pub step: usize,
    /// Time of the step, `t * 0.1` s.
    pub time_s: f64,
    /// Target lateral acceleration of row `t`, m/s^2.
    pub target_lataccel: f64,
    /// Lateral acceleration at the end of step `t` (the logged target before step 100, the
    /// model's prediction from then on), m/s^2.
    pub current_lataccel: f64,
    /// The model's sampled prediction, clipped to the previous value +- 0.5, when the model was
    /// queried (from step 100 on, unless the simulator queries it during the warm-up too).
    pub pred_lataccel: Option<f64>,
    /// Mean of the bin values under the model's distribution, when it was queried.
    pub expected_lataccel: Option<f64>,
    /// Steering action applied at step `t` (the logged steering before step 100).
    pub action: f64,
    /// Road-roll lateral acceleration of row `t`, m/s^2.
    pub roll_lataccel: f64,
    /// Forward speed of row `t`, m/s.
    pub v_ego: f64,
    /// Forward acceleration of row `t`, m/s^2.
    pub a_ego: f64,
    /// The sampled token, when the model was queried.
    pub token: Option<usize>,
    /// The uniform number the simulator drew at this step.
    pub uniform_u: f64,
    /// Whether the step counts in the cost (steps 100 to 499).
    pub in_cost_window: bool,
}

impl TraceRow {
    /// The header of [`trace_csv`].
    pub const CSV_HEADER: &'static str = "step,time_s,target_lataccel,current_lataccel,pred_lataccel,expected_lataccel,action,roll_lataccel,v_ego,a_ego,token,uniform_u,in_cost_window";

    fn rows(rollout: &Rollout, segment: &Segment) -> Vec<Self> {
        use crate::simulator::{CONTROL_START_IDX, COST_END_IDX};
        rollout
            .trace
            .iter()
            .map(|s| Self {
                step: s.step,
                time_s: s.step as f64 * DEL_T,
                target_lataccel: segment.target_lataccel[s.step],
                current_lataccel: s.current_lataccel,
                pred_lataccel: s.pred_clipped,
                expected_lataccel: s.expected_lataccel,
                action: s.action,
                roll_lataccel: segment.roll_lataccel[s.step],
                v_ego: segment.v_ego[s.step],
                a_ego: segment.a_ego[s.step],
                token: s.token,
                uniform_u: s.uniform_u,
                in_cost_window: (CONTROL_START_IDX..COST_END_IDX).contains(&s.step),
            })
            .collect()
    }
}

/// A segment's trace as CSV text: [`TraceRow::CSV_HEADER`], then one line per step, numbers in
/// shortest round-trip form, absent values empty.
pub fn trace_csv(rows: &[TraceRow]) -> String {
    use std::fmt::Write as _;
    fn opt<T: std::fmt::Debug>(v: Option<T>) -> String {
        v.map(|v| format!("{v:?}")).unwrap_or_default()
    }
    let mut out = String::from(TraceRow::CSV_HEADER);
    out.push('\n');
    for r in rows {
        let _ = writeln!(
            out,
            "{},{:?},{:?},{:?},{},{},{:?},{:?},{:?},{:?},{},{:?},{}",
            r.step,
            r.time_s,
            r.target_lataccel,
            r.current_lataccel,
            opt(r.pred_lataccel),
            opt(r.expected_lataccel),
            r.action,
            r.roll_lataccel,
            r.v_ego,
            r.a_ego,
            opt(r.token),
            r.uniform_u,
            u8::from(r.in_cost_window),
        );
    }
    out
}

/// The result of one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentResult {
    /// The segment's position in the evaluation's list.
    pub index: usize,
    /// The segment's file name.
    pub file: String,
    /// Its costs.
    pub costs: Costs,
    /// Wall time of its rollout, s.
    pub seconds: f64,
    /// CPU time of its rollout on the worker's thread, s (the compute on one core, insensitive
    /// to other processes; equals `seconds` where the platform has no thread clock).
    pub cpu_seconds: f64,
    /// Its per-step trace, when [`SimOptions::record_trace`] asked for one.
    pub trace: Option<Vec<TraceRow>>,
    /// Whether the result was read back from the journal of an earlier run rather than
    /// computed by this one.
    #[serde(skip)]
    pub resumed: bool,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Per-segment results, in the order of the segments given.
    pub segments: Vec<SegmentResult>,
    /// Mean of each cost over the segments.
    pub mean: Costs,
    /// What the executor did and where the time went (for the segments computed by this run).
    pub report: RunReport,
    /// How many results were read back from the journal instead of computed.
    pub resumed: usize,
}

impl Evaluation {
    /// The JSON summary: `{"segments": [{"index", "file", "lataccel_cost", "jerk_cost",
    /// "total_cost", "seconds", "cpu_seconds", "resumed"}], "mean": {"lataccel_cost",
    /// "jerk_cost", "total_cost"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let segments: Vec<serde_json::Value> = self
            .segments
            .iter()
            .map(|s| {
                serde_json::json!({
                    "index": s.index,
                    "file": s.file,
                    "lataccel_cost": s.costs.lataccel_cost,
                    "jerk_cost": s.costs.jerk_cost,
                    "total_cost": s.costs.total_cost,
                    "seconds": s.seconds,
                    "cpu_seconds": s.cpu_seconds,
                    "resumed": s.resumed,
                })
            })
            .collect();
        serde_json::json!({ "segments": segments, "mean": self.mean })
    }

    /// A plain-text table of the per-segment costs followed by their means.
    pub fn table(&self) -> String {
        let width = self
            .segments
            .iter()
            .map(|s| s.file.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!(
            "{:<width$}  {:>14}  {:>10}  {:>11}  {:>8}  {:>8}\n",
            "file", "lataccel_cost", "jerk_cost", "total_cost", "time_s", "cpu_s"
        );
        for s in &self.segments {
            out += &format!(
                "{:<width$}  {:>14.6}  {:>10.6}  {:>11.6}  {:>8.3}  {:>8.3}{}\n",
                s.file,
                s.costs.lataccel_cost,
                s.costs.jerk_cost,
                s.costs.total_cost,
                s.seconds,
                s.cpu_seconds,
                if s.resumed { "  (resumed)" } else { "" }
            );
        }
        out += &format!(
            "{:<width$}  {:>14.6}  {:>10.6}  {:>11.6}\n",
            "mean", self.mean.lataccel_cost, self.mean.jerk_cost, self.mean.total_cost
        );
        out
    }
}

/// Per-worker resources kept between segments.
struct Worker {
    sim: Simulator<OrtModel>,
    /// The planner's own model (MPC only), created on first use.
    planner: Option<Box<dyn DynamicsModel + Send>>,
}

/// What identifies the settings of an evaluation in its journal: the MD5 (hexadecimal) of the
/// model file's bytes, the controller with its full configuration, the simulator options that
/// change results (the seed key and warm-up queries; not whether a trace is recorded), the
/// planner implementation the MPC controller will use, and the run seed. Worker counts and
/// modes are not part of it: they do not change results.
///
/// # Errors
/// When the model file cannot be read, or `Native` is asked for a model it cannot evaluate.
pub fn settings_key(config: &EvalConfig) -> Result<String, MpcError> {
    let model = std::fs::read(&config.model).map_err(|source| MpcError::Io {
        path: config.model.clone(),
        source,
    })?;
    let planner = match &config.controller {
        ControllerSpec::Mpc(_) => Some(config.planner.resolve(&config.model)?),
        _ => None,
    };
    let settings = serde_json::json!({
        "model_md5": hex(&crate::seed::md5_digest(&model)),
        "controller": config.controller,
        "seed_key": config.sim.seed_key,
        "model_during_warmup": config.sim.model_during_warmup,
        "planner": planner,
        "seed": config.exec.seed,
    });
    Ok(hex(&crate::seed::md5_digest(
        settings.to_string().as_bytes(),
    )))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One line of an evaluation's journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JournalRecord {
    /// [`settings_key`] of the run that computed it.
    settings: String,
    /// [`Segment::digest`] of the segment.
    segment: String,
    /// The result.
    result: SegmentResult,
}

/// Serialises a value as JSON text inside another format: [`ControllerSpec`] is an internally
/// tagged enum, which the binary format between processes cannot describe.
mod as_json_text {
    use serde::de::{DeserializeOwned, Error as _};
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        serde_json::to_string(v)
            .map_err(S::Error::custom)?
            .serialize(s)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        serde_json::from_str(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// The segments still to evaluate, as a job any executor mode can run (worker processes
/// included: register it with [`par_core::process::serve_if_worker`] in the binary's `main`).
/// Task `i` evaluates the `i`-th segment of its list and, with a journal, appends the result
/// before returning it.
#[derive(Serialize, Deserialize)]
pub struct SegmentsJob {
    /// `(position in the evaluation, segment)` of each task.
    todo: Vec<(usize, Segment)>,
    model: PathBuf,
    #[serde(with = "as_json_text")]
    controller: ControllerSpec,
    sim: SimOptions,
    planner: PlannerModel,
    ort: OrtOptions,
    seed: u64,
    journal: Option<(PathBuf, String)>,
    /// Sessions kept between the segments a worker runs.
    #[serde(skip)]
    pool: Mutex<Vec<Worker>>,
    #[serde(skip)]
    journal_handle: OnceLock<Result<Journal, String>>,
    /// MPI, rank 0: segments (positions) whose results from other ranks could not be
    /// journaled, with why.
    #[serde(skip)]
    unwritten: Mutex<Vec<(usize, String)>>,
}

impl std::fmt::Debug for SegmentsJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentsJob")
            .field("segments", &self.todo.len())
            .field("model", &self.model)
            .field("controller", &self.controller)
            .finish_non_exhaustive()
    }
}

impl SegmentsJob {
    /// The journal's handle: the parent's, or an appender in a worker process (the parent
    /// opened the journal, and mended a torn last line, before any task started; a worker
    /// mending it while others append could split their records).
    fn journal_handle(&self, path: &Path) -> Result<&Journal, MpcError> {
        self.journal_handle
            .get_or_init(|| Ok(Journal::appender(path)))
            .as_ref()
            .map_err(|reason| MpcError::Config {
                field: "journal",
                reason: reason.clone(),
            })
    }

    fn evaluate_one(&self, task: usize) -> Result<SegmentResult, MpcError> {
        let (index, segment) = &self.todo[task];
        let popped = self.pool.lock().map_or(None, |mut p| p.pop());
        let mut worker = match popped {
            Some(w) => w,
            None => Worker {
                sim: Simulator::new(OrtModel::load(&self.model, self.ort)?),
                planner: None,
            },
        };
        // The controller's seed depends on the segment's position only, not on which task
        // of which run computes it: a resumed run seeds it as an uninterrupted one did.
        let controller_seed = par_core::seed::task_rng(self.seed, *index).next_u64();
        let start = Instant::now();
        let cpu_start = thread_cpu_seconds();
        let rollout = self.rollout(&mut worker, segment, controller_seed);
        let seconds = start.elapsed().as_secs_f64();
        let cpu_seconds = match (cpu_start, thread_cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => seconds,
        };
        if let Ok(mut p) = self.pool.lock() {
            p.push(worker);
        }
        let rollout = rollout?;
        let result = SegmentResult {
            index: *index,
            file: segment.file_name(),
            costs: rollout.costs,
            seconds,
            cpu_seconds,
            trace: self
                .sim
                .record_trace
                .then(|| TraceRow::rows(&rollout, segment)),
            resumed: false,
        };
        // Under MPI, rank 0 journals the results of the other ranks (`received_on_root`).
        if par_core::mpi::rank() == 0 {
            self.journal_result(task, &result)?;
        }
        Ok(result)
    }

    /// Appends the result of task `task` to the journal, if the evaluation keeps one.
    fn journal_result(&self, task: usize, result: &SegmentResult) -> Result<(), MpcError> {
        let (Some((path, settings)), Some((_, segment))) = (&self.journal, self.todo.get(task))
        else {
            return Ok(());
        };
        let journal = self.journal_handle(path)?;
        let record = JournalRecord {
            settings: settings.clone(),
            segment: segment.digest(),
            result: result.clone(),
        };
        journal.append(&record).map_err(|source| MpcError::Io {
            path: path.clone(),
            source,
        })
    }

    fn rollout(
        &self,
        worker: &mut Worker,
        segment: &Segment,
        controller_seed: u64,
    ) -> Result<Rollout, MpcError> {
        let mut controller: Box<dyn Controller> = match &self.controller {
            ControllerSpec::Zero => Box::new(ZeroController),
            ControllerSpec::Pid => Box::new(PidController::default()),
            ControllerSpec::Mpc(mpc) => {
                let planner = match worker.planner.take() {
                    Some(p) => p,
                    None => self.planner.load(&self.model, self.ort)?,
                };
                let mut controller = MpcController::new(planner, mpc.clone(), controller_seed)?;
                let rollout = worker.sim.rollout(segment, &mut controller, &self.sim);
                worker.planner = Some(controller.into_model());
                return rollout;
            }
        };
        worker.sim.rollout(segment, &mut controller, &self.sim)
    }
}

impl Job for SegmentsJob {
    /// The result, or why the segment failed.
    type Output = Result<SegmentResult, String>;

    fn run(&self, ctx: &mut TaskContext) -> Self::Output {
        self.evaluate_one(ctx.index).map_err(|e| e.to_string())
    }
}

impl RemoteJob for SegmentsJob {
    const NAME: &'static str = "mpc.eval.segments";

    /// MPI, rank 0: journals a result that another rank computed.
    fn received_on_root(&self, task: usize, output: &Self::Output) {
        let Ok(result) = output else {
            return;
        };
        if let Err(e) = self.journal_result(task, result) {
            self.unwritten
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((result.index, e.to_string()));
        }
    }
}

/// Runs the configured controller on every segment and returns per-segment and mean costs.
///
/// Segments run as tasks of a `par-core` executor built from `config.exec`, in any mode
/// (worker processes need [`SegmentsJob`] registered with
/// [`par_core::process::serve_if_worker`]). Every segment is attempted; when any fails, the
/// error ([`MpcError::SegmentsFailed`]) names each failed segment with its reason.
pub fn evaluate(segments: &[Segment], config: &EvalConfig) -> Result<Evaluation, MpcError> {
    evaluate_with(segments, config, None)
}

/// [`evaluate`], keeping progress in the journal at `journal` (a JSON-lines file, created if
/// needed): each finished segment is appended as it finishes, and the segments the journal
/// already holds for these settings are read back instead of computed (see the
/// [module docs](self)). Failed segments are not journaled, so a rerun attempts them again.
pub fn evaluate_resumable(
    segments: &[Segment],
    config: &EvalConfig,
    journal: &Path,
) -> Result<Evaluation, MpcError> {
    evaluate_with(segments, config, Some(journal))
}

/// Checks what can fail before the first segment, on the calling thread (no segments, a
/// missing model or runtime, an invalid MPC configuration, a model the native planner cannot
/// read), and returns the simulator's first session.
fn prepare(segments: &[Segment], config: &EvalConfig) -> Result<OrtModel, MpcError> {
    if segments.is_empty() {
        return Err(MpcError::Config {
            field: "segments",
            reason: "no segments to evaluate".into(),
        });
    }
    let first = OrtModel::load(&config.model, config.ort)?;
    if let ControllerSpec::Mpc(c) = &config.controller {
        c.validate()?;
        if config.planner == PlannerModel::Native {
            NativeModel::load(&config.model)?;
        }
    }
    Ok(first)
}

impl SegmentsJob {
    /// Every segment as tasks `0..segments.len()`, without a journal: the job to hand an
    /// executor directly (a benchmark does); [`evaluate`] is the one that collects the results
    /// and names failures. Fails as [`evaluate`] does before its first segment.
    pub fn new(segments: &[Segment], config: &EvalConfig) -> Result<Self, MpcError> {
        let first = prepare(segments, config)?;
        let todo = segments.iter().cloned().enumerate().collect();
        Ok(Self::with(todo, config, first, None))
    }

    /// The number of tasks (segments to evaluate).
    pub fn tasks(&self) -> usize {
        self.todo.len()
    }

    fn with(
        todo: Vec<(usize, Segment)>,
        config: &EvalConfig,
        first: OrtModel,
        journal: Option<(PathBuf, String)>,
    ) -> Self {
        Self {
            todo,
            model: config.model.clone(),
            controller: config.controller.clone(),
            sim: config.sim.clone(),
            planner: config.planner,
            ort: config.ort,
            seed: config.exec.seed,
            journal,
            pool: Mutex::new(vec![Worker {
                sim: Simulator::new(first),
                planner: None,
            }]),
            journal_handle: OnceLock::new(),
            unwritten: Mutex::new(Vec::new()),
        }
    }
}

/// Opens the journal at `path` (rank 0 only under MPI), and returns its handle, the settings
/// key of this evaluation and the usable result of each segment it holds.
fn read_journal(
    segments: &[Segment],
    config: &EvalConfig,
    path: &Path,
) -> Result<(Journal, String, Vec<Option<SegmentResult>>), MpcError> {
    let settings = settings_key(config)?;
    let (handle, read) = Journal::open::<JournalRecord>(path).map_err(|source| MpcError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut done: Vec<Option<SegmentResult>> = vec![None; segments.len()];
    for record in read.records {
        let i = record.result.index;
        let usable = record.settings == settings
            && i < segments.len()
            && record.result.file == segments[i].file_name()
            && record.segment == segments[i].digest()
            && (record.result.trace.is_some() || !config.sim.record_trace);
        if usable {
            // The last usable record of a segment wins.
            done[i] = Some(record.result);
        }
    }
    Ok((handle, settings, done))
}

fn evaluate_with(
    segments: &[Segment],
    config: &EvalConfig,
    journal: Option<&Path>,
) -> Result<Evaluation, MpcError> {
    let first = prepare(segments, config)?;
    let exec = Executor::new(config.exec.clone())?;
    // Rank 0 (the only process outside MPI) reads the journal; every rank gets what it kept.
    let mut root_journal = None;
    let mut root_error = None;
    let kept = par_core::mpi::share_from_root(&exec, || {
        let read = journal
            .map(|path| read_journal(segments, config, path))
            .transpose();
        match read {
            Ok(None) => Ok(vec![None; segments.len()]),
            Ok(Some((handle, settings, done))) => {
                root_journal = Some((handle, settings));
                Ok(done)
            }
            Err(e) => {
                let why = e.to_string();
                root_error = Some(e);
                Err(why)
            }
        }
    })?;
    if let Some(e) = root_error {
        return Err(e);
    }
    let mut done: Vec<Option<SegmentResult>> = kept.map_err(|why| MpcError::Config {
        field: "journal",
        reason: format!("rank 0 could not read it: {why}"),
    })?;
    if done.len() != segments.len() {
        return Err(MpcError::Config {
            field: "segments",
            reason: format!(
                "rank 0 evaluates {} segments, this rank {}",
                done.len(),
                segments.len()
            ),
        });
    }
    for d in done.iter_mut().flatten() {
        d.resumed = true;
    }
    let journal_setup = match (&root_journal, journal) {
        (Some((handle, settings)), Some(path)) => {
            Some((handle.clone(), path.to_path_buf(), settings.clone()))
        }
        _ => None,
    };
    let todo: Vec<(usize, Segment)> = done
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_none())
        .map(|(i, _)| (i, segments[i].clone()))
        .collect();
    let job = SegmentsJob::with(
        todo,
        config,
        first,
        journal_setup
            .as_ref()
            .map(|(_, path, settings)| (path.clone(), settings.clone())),
    );
    if let Some((handle, _, _)) = journal_setup {
        let _ = job.journal_handle.set(Ok(handle));
    }
    let output = exec.run(&job, job.todo.len())?;
    // Results of other ranks that rank 0 could not journal (MPI only), known everywhere.
    let unwritten = par_core::mpi::share_from_root(&exec, || {
        std::mem::take(&mut *job.unwritten.lock().unwrap_or_else(|e| e.into_inner()))
    })?;
    let report = output.report.clone();
    let mut failures = Vec::new();
    for ((index, segment), r) in job.todo.iter().zip(output.results) {
        match (r, unwritten.iter().find(|(i, _)| i == index)) {
            (Ok(Ok(_)), Some((_, why))) => failures.push((segment.file_name(), why.clone())),
            (Ok(Ok(s)), None) => done[*index] = Some(s),
            (Ok(Err(reason)), _) => failures.push((segment.file_name(), reason)),
            (Err(f), _) => failures.push((segment.file_name(), f.message)),
        }
    }
    if !failures.is_empty() {
        return Err(MpcError::SegmentsFailed {
            failed: failures.len(),
            total: segments.len(),
            failures,
        });
    }
    let results: Vec<SegmentResult> = done.into_iter().flatten().collect();
    let resumed = results.iter().filter(|s| s.resumed).count();
    let mean = Costs::mean(&results.iter().map(|s| s.costs).collect::<Vec<_>>());
    Ok(Evaluation {
        segments: results,
        mean,
        report,
        resumed,
    })
}
