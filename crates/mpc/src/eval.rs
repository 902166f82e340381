//! Evaluation of a controller on many segments, segments in parallel through `par-core`.
//!
//! Each segment is one task: it is independent and large (hundreds of model calls), so this is
//! the level where parallelism pays. Workers keep their ONNX Runtime sessions between segments;
//! sessions built inside a parallel worker get one intra-op thread
//! ([`par_core::budget::inner_threads`]). Results come back in segment order and are identical
//! for every worker count: the simulator's draws depend only on each segment's seed key, and a
//! stochastic controller's seed only on the run seed and the segment's index.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use par_core::bench::thread_cpu_seconds;
use par_core::{ExecConfig, Executor, RunReport, TaskContext};
use rand::RngCore;

use crate::cem::{MpcConfig, MpcController};
use crate::controller::{Controller, PidController, ZeroController};
use crate::cost::Costs;
use crate::error::MpcError;
use crate::model::DynamicsModel;
use crate::native::NativeModel;
use crate::onnx::{OrtModel, OrtOptions};
use crate::segment::Segment;
use crate::simulator::{SimOptions, Simulator};

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
    /// Loads the planner's model from `path`.
    pub fn load(
        self,
        path: &std::path::Path,
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
    /// Simulator options (seed key, warm-up model queries).
    pub sim: SimOptions,
    /// The MPC planner's model implementation (default: native when the architecture allows).
    pub planner: PlannerModel,
    /// ONNX Runtime session options (default: intra-op threads from the thread budget).
    pub ort: OrtOptions,
    /// Executor configuration: mode, workers, run seed (controllers' seeds derive from it),
    /// progress bar.
    pub exec: ExecConfig,
}

/// The costs of one segment.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SegmentResult {
    /// The segment's file name.
    pub file: String,
    /// Its costs.
    #[serde(flatten)]
    pub costs: Costs,
    /// Wall time of its rollout, s.
    #[serde(skip)]
    pub seconds: f64,
    /// CPU time of its rollout on the worker's thread, s (the compute on one core, insensitive
    /// to other processes; equals `seconds` where the platform has no thread clock).
    #[serde(skip)]
    pub cpu_seconds: f64,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Per-segment costs, in the order of the segments given.
    pub segments: Vec<SegmentResult>,
    /// Mean of each cost over the segments.
    pub mean: Costs,
    /// What the executor did and where the time went.
    pub report: RunReport,
}

impl Evaluation {
    /// The JSON summary: `{"segments": [{"file", "lataccel_cost", "jerk_cost", "total_cost"}],
    /// "mean": {"lataccel_cost", "jerk_cost", "total_cost"}}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "segments": self.segments, "mean": self.mean })
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
                "{:<width$}  {:>14.6}  {:>10.6}  {:>11.6}  {:>8.3}  {:>8.3}\n",
                s.file,
                s.costs.lataccel_cost,
                s.costs.jerk_cost,
                s.costs.total_cost,
                s.seconds,
                s.cpu_seconds
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

/// Runs the configured controller on every segment and returns per-segment and mean costs.
///
/// Segments run as tasks of a `par-core` executor built from `config.exec`. A failing segment
/// makes the whole evaluation fail with [`MpcError::Segment`] naming it.
pub fn evaluate(segments: &[Segment], config: &EvalConfig) -> Result<Evaluation, MpcError> {
    if segments.is_empty() {
        return Err(MpcError::Config {
            field: "segments",
            reason: "no segments to evaluate".into(),
        });
    }
    // Fail early, on the calling thread, when the model or the runtime is missing.
    let first = OrtModel::load(&config.model, config.ort)?;
    if let ControllerSpec::Mpc(c) = &config.controller {
        c.validate()?;
        if config.planner == PlannerModel::Native {
            // Fail early on a model the native planner cannot read.
            NativeModel::load(&config.model)?;
        }
    }
    let pool: Mutex<Vec<Worker>> = Mutex::new(vec![Worker {
        sim: Simulator::new(first),
        planner: None,
    }]);
    let exec = Executor::new(config.exec.clone())?;
    let task = |ctx: &mut TaskContext| -> Result<SegmentResult, MpcError> {
        let segment = &segments[ctx.index];
        let popped = pool.lock().map_or(None, |mut p| p.pop());
        let mut worker = match popped {
            Some(w) => w,
            None => Worker {
                sim: Simulator::new(OrtModel::load(&config.model, config.ort)?),
                planner: None,
            },
        };
        let controller_seed = ctx.rng.next_u64();
        let start = Instant::now();
        let cpu_start = thread_cpu_seconds();
        let result = run_one(&mut worker, segment, config, controller_seed);
        let seconds = start.elapsed().as_secs_f64();
        let cpu_seconds = match (cpu_start, thread_cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => seconds,
        };
        if let Ok(mut p) = pool.lock() {
            p.push(worker);
        }
        Ok(SegmentResult {
            file: segment.file_name(),
            costs: result?,
            seconds,
            cpu_seconds,
        })
    };
    let output = exec.map(segments.len(), task)?;
    let report = output.report.clone();
    let mut results = Vec::with_capacity(segments.len());
    for (i, r) in output.results.into_iter().enumerate() {
        let file = segments[i].file_name();
        match r {
            Ok(Ok(s)) => results.push(s),
            Ok(Err(e)) => {
                return Err(MpcError::Segment {
                    file,
                    reason: e.to_string(),
                });
            }
            Err(f) => {
                return Err(MpcError::Segment {
                    file,
                    reason: f.message,
                });
            }
        }
    }
    let mean = Costs::mean(&results.iter().map(|s| s.costs).collect::<Vec<_>>());
    Ok(Evaluation {
        segments: results,
        mean,
        report,
    })
}

fn run_one(
    worker: &mut Worker,
    segment: &Segment,
    config: &EvalConfig,
    controller_seed: u64,
) -> Result<Costs, MpcError> {
    let mut controller: Box<dyn Controller> = match &config.controller {
        ControllerSpec::Zero => Box::new(ZeroController),
        ControllerSpec::Pid => Box::new(PidController::default()),
        ControllerSpec::Mpc(mpc) => {
            let planner = match worker.planner.take() {
                Some(p) => p,
                None => config.planner.load(&config.model, config.ort)?,
            };
            let mut controller = MpcController::new(planner, mpc.clone(), controller_seed)?;
            let rollout = worker.sim.rollout(segment, &mut controller, &config.sim);
            worker.planner = Some(controller.into_model());
            return Ok(rollout?.costs);
        }
    };
    Ok(worker
        .sim
        .rollout(segment, &mut controller, &config.sim)?
        .costs)
}
