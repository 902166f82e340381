//! The execution backends: one implementation of [`Backend`] per [`Mode`], each in its own
//! file, so that a new mode is one file plus one line in [`AnyBackend::for_mode`].
//!
//! | file | mode |
//! |---|---|
//! | `sequential.rs` | [`Mode::Sequential`], and every run nested inside a parallel worker |
//! | `threads.rs` | [`Mode::Threads`]: a rayon pool the executor owns |
//! | `auto.rs` | [`Mode::Auto`]: probe the first tasks, then sequential or threads |
//! | `processes/` | [`Mode::Processes`]: `wire.rs` (protocol), `worker.rs` (child side), `scheduler.rs` (parent side) |
//! | `mpi/` | [`Mode::Mpi`] (feature `mpi`): ranks of an MPI job, threads inside each |
//!
//! What every backend shares lives here: running one task with retries and panic capture
//! ([`run_one`]), the per-worker log and the assembly of logs into an ordered
//! [`RunOutput`] with its [`crate::RunReport`] ([`assemble`]).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crate::ExecError;
use crate::config::{ExecConfig, Mode};
use crate::executor::{Job, RemoteJob, RunOutput, TaskContext};
use crate::progress::TaskBar;
use crate::report::{FailureKind, RunReport, TaskFailure};

pub(crate) mod auto;
#[cfg(feature = "mpi")]
pub(crate) mod mpi;
pub(crate) mod processes;
pub(crate) mod sequential;
pub(crate) mod threads;

/// One execution mode. `run_local` takes any [`Job`] (closures included) and by default
/// refuses it, for the modes that ship tasks elsewhere; `run_remote` takes a serialisable
/// [`RemoteJob`] and defaults to `run_local`, for the modes that keep tasks in this process.
/// A mode implements at least one of the two.
pub(crate) trait Backend: Send + Sync {
    /// Runs tasks `0..n` of `job`; the task count is already checked.
    fn run_local<J: Job>(
        &self,
        config: &ExecConfig,
        _job: &J,
        _n: usize,
    ) -> Result<RunOutput<J::Output>, ExecError> {
        Err(ExecError::NeedsRemoteJob {
            mode: config.mode.to_string(),
        })
    }

    /// Runs tasks `0..n` of a job that may leave this process.
    fn run_remote<J: RemoteJob>(
        &self,
        config: &ExecConfig,
        job: &J,
        n: usize,
    ) -> Result<RunOutput<J::Output>, ExecError> {
        self.run_local(config, job, n)
    }
}

/// The backend of each mode (static dispatch: the trait's methods are generic over the job).
#[derive(Debug)]
pub(crate) enum AnyBackend {
    Sequential(sequential::Sequential),
    Threads(threads::Threads),
    Auto(auto::Auto),
    Processes(processes::Processes),
    #[cfg(feature = "mpi")]
    Mpi(mpi::Mpi),
}

impl AnyBackend {
    /// The backend that runs `mode`; a mode this build cannot run is a typed error.
    pub(crate) fn for_mode(mode: Mode) -> Result<Self, ExecError> {
        Ok(match mode {
            Mode::Sequential => Self::Sequential(sequential::Sequential),
            Mode::Threads { workers } => Self::Threads(threads::Threads::new(workers)),
            Mode::Auto { workers } => Self::Auto(auto::Auto::new(workers)),
            Mode::Processes { workers } => Self::Processes(processes::Processes::new(workers)),
            #[cfg(feature = "mpi")]
            Mode::Mpi {
                threads_per_rank,
                schedule,
            } => Self::Mpi(mpi::Mpi::new(threads_per_rank, schedule)?),
            #[cfg(not(feature = "mpi"))]
            Mode::Mpi { .. } => {
                return Err(ExecError::FeatureMissing {
                    mode: mode.to_string(),
                    feature: "mpi",
                });
            }
        })
    }
}

/// Calls `$body` with `$b` bound to the concrete backend inside `$any`.
macro_rules! with_backend {
    ($any:expr, $b:ident => $body:expr) => {
        match $any {
            $crate::backend::AnyBackend::Sequential($b) => $body,
            $crate::backend::AnyBackend::Threads($b) => $body,
            $crate::backend::AnyBackend::Auto($b) => $body,
            $crate::backend::AnyBackend::Processes($b) => $body,
            #[cfg(feature = "mpi")]
            $crate::backend::AnyBackend::Mpi($b) => $body,
        }
    };
}
pub(crate) use with_backend;

/// What one worker (thread) did.
pub(crate) struct WorkerLog<T> {
    pub(crate) results: Vec<(usize, Result<T, TaskFailure>)>,
    pub(crate) task_secs: Vec<f64>,
    pub(crate) busy: f64,
    pub(crate) retries: u32,
}

impl<T> WorkerLog<T> {
    pub(crate) fn new() -> Self {
        Self {
            results: Vec::new(),
            task_secs: Vec::new(),
            busy: 0.0,
            retries: 0,
        }
    }
}

/// Text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

/// Runs one task with retries, catching panics; logs its attempts' times into `log`.
pub(crate) fn run_one<J: Job>(
    job: &J,
    index: usize,
    n: usize,
    seed: u64,
    retries: u32,
    log: &mut WorkerLog<J::Output>,
) {
    let mut attempt = 0;
    let result = loop {
        let mut ctx = TaskContext::new(seed, index, n, attempt);
        let start = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| job.run(&mut ctx)));
        let secs = start.elapsed().as_secs_f64();
        log.task_secs.push(secs);
        log.busy += secs;
        match outcome {
            Ok(v) => break Ok(v),
            Err(_) if attempt < retries => {
                attempt += 1;
                log.retries += 1;
            }
            Err(payload) => {
                break Err(TaskFailure {
                    index,
                    kind: FailureKind::Panic,
                    message: panic_message(payload.as_ref()),
                    attempts: attempt + 1,
                });
            }
        }
    };
    log.results.push((index, result));
}

/// The progress bar of a run of `n` tasks under `config`.
pub(crate) fn progress_bar(config: &ExecConfig, n: usize) -> TaskBar {
    TaskBar::new(config.progress, n, &config.label)
}

/// Puts the workers' results in index order and builds the report.
pub(crate) fn assemble<T>(
    n: usize,
    logs: Vec<WorkerLog<T>>,
    mode: String,
    reason: String,
    wall: Duration,
    setup: Duration,
) -> RunOutput<T> {
    let mut slots: Vec<Option<Result<T, TaskFailure>>> = (0..n).map(|_| None).collect();
    let mut task_secs = Vec::with_capacity(n);
    let mut busy = Vec::with_capacity(logs.len());
    let mut retries = 0;
    let mut failures = Vec::new();
    for log in logs {
        task_secs.extend(log.task_secs);
        busy.push(log.busy);
        retries += log.retries;
        for (i, r) in log.results {
            if let Err(f) = &r {
                failures.push(f.clone());
            }
            slots[i] = Some(r);
        }
    }
    let results = slots
        .into_iter()
        .map(|s| s.expect("every task index is run exactly once"))
        .collect();
    let report = RunReport::build(
        mode,
        reason,
        n,
        wall,
        setup,
        Duration::ZERO,
        &task_secs,
        busy,
        retries,
        failures,
    );
    RunOutput { results, report }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(feature = "mpi"))]
    #[test]
    fn mpi_without_the_feature_is_a_typed_error() {
        let err = crate::Executor::new(ExecConfig::with_mode(Mode::mpi(2))).unwrap_err();
        match &err {
            ExecError::FeatureMissing { feature, .. } => assert_eq!(*feature, "mpi"),
            other => panic!("expected FeatureMissing, got {other:?}"),
        }
        assert!(err.to_string().contains("--features mpi"), "{err}");
    }

    #[test]
    fn every_in_process_mode_has_a_backend() {
        for mode in [
            Mode::Sequential,
            Mode::Threads { workers: 2 },
            Mode::Auto { workers: 2 },
            Mode::Processes { workers: 2 },
        ] {
            assert!(AnyBackend::for_mode(mode).is_ok(), "{mode}");
        }
    }
}
