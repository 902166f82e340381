//! The error type of `par-core`.

use std::path::PathBuf;

use crate::report::TaskFailure;

/// What can go wrong before or around a run. Failures of individual tasks are not errors:
/// they are reported in [`crate::RunOutput`] beside the results that succeeded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// A configuration value is out of range; `field` names it.
    #[error("invalid configuration: `{field}` {reason}")]
    Config {
        /// The offending field, for example `mode.workers` or `timeout`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The mode needs to serialise the job, but the job was given as a closure.
    #[error(
        "mode {mode} ships tasks to other processes and needs a serialisable job: implement \
         `RemoteJob` and call `Executor::run`"
    )]
    NeedsRemoteJob {
        /// The mode that was asked for.
        mode: String,
    },
    /// The thread pool could not be built.
    #[error("could not build the thread pool: {0}")]
    ThreadPool(String),
    /// A worker process could not be started at all.
    #[error("could not start worker process `{program}`: {source}")]
    Spawn {
        /// The program that was started.
        program: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Worker processes started but none could run the job (not registered, wrong binary,
    /// crashed on start-up).
    #[error("no worker process `{program}` could run the job: {message}")]
    WorkerStart {
        /// The program that was started.
        program: PathBuf,
        /// What the last worker said or how it ended.
        message: String,
    },
    /// The job or a result could not be serialised for another process.
    #[error("could not serialise {what}: {message}")]
    Serialise {
        /// What was being serialised.
        what: &'static str,
        /// The serialiser's message.
        message: String,
    },
    /// The mode needs a cargo feature this build was compiled without.
    #[error(
        "mode {mode} needs par-core's `{feature}` feature, which this build lacks: rebuild with \
         `--features {feature}` (for `mpi`, on a machine with an MPI library: \
         `cargo xtask setup --mpi`)"
    )]
    FeatureMissing {
        /// The mode that was asked for.
        mode: String,
        /// The cargo feature it needs.
        feature: &'static str,
    },
    /// MPI could not be used: initialisation failed, or the ranks disagree about a run
    /// (one rank ran another job type than rank 0, say).
    #[error("MPI: {0}")]
    Mpi(String),
    /// An MPI rank died (or stopped answering) during a run: the run ends on every surviving
    /// rank with this error, which names the rank and the tasks it held.
    #[error(
        "MPI rank {rank} was lost during the run ({why}); it held tasks {}; seen from rank \
         {seen_by}",
        fmt_tasks(tasks)
    )]
    RankLost {
        /// The rank that died.
        rank: usize,
        /// The tasks assigned to it and not finished, as far as the reporting rank knows.
        tasks: Vec<usize>,
        /// What showed it: no message within the liveness time-out, or rank 0's notice.
        why: String,
        /// The rank that reports the error.
        seen_by: usize,
    },
    /// Some tasks failed; returned by [`crate::RunOutput::into_values`] only.
    #[error("{} of {n_tasks} tasks failed; first: task {}: {}", failures.len(),
            failures.first().map_or(0, |f| f.index),
            failures.first().map_or("", |f| f.message.as_str()))]
    TasksFailed {
        /// Every failure, in index order.
        failures: Vec<TaskFailure>,
        /// Number of tasks in the run.
        n_tasks: usize,
    },
}

/// `[3, 4, 5, 9]` as `3..=5, 9` (at most a dozen runs, then a count).
fn fmt_tasks(tasks: &[usize]) -> String {
    if tasks.is_empty() {
        return "none known".into();
    }
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &t in tasks {
        match runs.last_mut() {
            Some((_, hi)) if *hi + 1 == t => *hi = t,
            _ => runs.push((t, t)),
        }
    }
    let mut text: Vec<String> = runs
        .iter()
        .take(12)
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}..={hi}")
            }
        })
        .collect();
    if runs.len() > 12 {
        text.push(format!("and {} more ranges", runs.len() - 12));
    }
    text.join(", ")
}

impl ExecError {
    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Config {
            field,
            reason: reason.into(),
        }
    }
}
