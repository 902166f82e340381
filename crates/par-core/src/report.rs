//! Run reports: where the time went, and what failed.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a task produced no result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum FailureKind {
    /// The task panicked; the message is the panic payload.
    Panic,
    /// The worker process died while running the task (abort, signal, `exit`).
    Crash {
        /// The exit status as the operating system reported it.
        status: String,
    },
    /// The task ran past the configured time-out and its worker process was killed.
    Timeout,
    /// The task's output could not be sent back (serialisation failed).
    Marshal,
    /// No worker could be started to run the task.
    WorkerUnavailable,
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Panic => write!(f, "panic"),
            Self::Crash { status } => write!(f, "crash ({status})"),
            Self::Timeout => write!(f, "timeout"),
            Self::Marshal => write!(f, "marshal"),
            Self::WorkerUnavailable => write!(f, "no worker"),
        }
    }
}

/// One task that produced no result after all its attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFailure {
    /// The task index.
    pub index: usize,
    /// What happened on the last attempt.
    pub kind: FailureKind,
    /// A human-readable message (the panic message, the exit status, the time-out).
    pub message: String,
    /// How many attempts were made (1 + retries used).
    pub attempts: u32,
}

impl fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "task {} failed ({}) after {} attempt(s): {}",
            self.index, self.kind, self.attempts, self.message
        )
    }
}

/// Summary statistics of per-task run times, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskTimes {
    /// Shortest task.
    pub min_s: f64,
    /// Median task (the mean of the two middle ones for an even count).
    pub median_s: f64,
    /// Longest task.
    pub max_s: f64,
    /// Mean task.
    pub mean_s: f64,
}

impl TaskTimes {
    /// Statistics of `times` (seconds); all zero when empty.
    pub fn from_secs(times: &[f64]) -> Self {
        if times.is_empty() {
            return Self::default();
        }
        let mut sorted = times.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        Self {
            min_s: sorted[0],
            median_s: crate::bench::median_of_sorted(&sorted),
            max_s: sorted[n - 1],
            mean_s: sorted.iter().sum::<f64>() / n as f64,
        }
    }
}

/// What a run did and where its time went. Returned beside the results of every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The mode that ran the tasks, for example `threads(2)`.
    pub mode: String,
    /// Why this mode: as configured, nested inside a worker, or the `auto` rule's numbers.
    pub mode_reason: String,
    /// Number of tasks.
    pub tasks: usize,
    /// Number of workers that ran them.
    pub workers: usize,
    /// Wall time of the whole run, set-up included, in seconds.
    pub wall_s: f64,
    /// Set-up time, in seconds: the thread-pool build for threads; for processes, job
    /// serialisation plus the time until the first worker process was ready (later workers
    /// start while the first one computes).
    pub setup_s: f64,
    /// Time spent serialising and deserialising jobs and results, in seconds (processes).
    pub marshal_s: f64,
    /// Per-task time statistics (successful and failed attempts alike).
    pub task_time: TaskTimes,
    /// Busy time of each worker (time inside tasks), in seconds.
    pub busy_s: Vec<f64>,
    /// `sum(busy) / (wall × workers)`: 1 means every worker computed all the time.
    pub efficiency: f64,
    /// `max(busy) / mean(busy) − 1`: 0 means perfectly balanced workers.
    pub imbalance: f64,
    /// Attempts beyond the first, over all tasks.
    pub retries: u32,
    /// Tasks that produced no result, in index order.
    pub failures: Vec<TaskFailure>,
    /// The MPI side of a [`crate::Mode::Mpi`] run (ranks, busy and communication time per rank,
    /// gather and broadcast); `None` in the other modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mpi: Option<MpiReport>,
}

/// What each MPI rank did in a [`crate::Mode::Mpi`] run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankReport {
    /// The rank.
    pub rank: usize,
    /// Tasks it ran.
    pub tasks: usize,
    /// Time its threads spent inside tasks, summed, in seconds.
    pub busy_s: f64,
    /// CPU time of its driver thread, which does nothing but MPI calls and (de)serialising
    /// messages, in seconds (wall time inside those calls where CPU time is unknown).
    pub comm_s: f64,
}

/// The MPI part of a run report: one entry per rank and the cost of moving results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MpiReport {
    /// Number of ranks.
    pub ranks: usize,
    /// Worker threads in each rank.
    pub threads_per_rank: usize,
    /// `dynamic` or `static`.
    pub schedule: String,
    /// The rank that holds this copy of the report.
    pub rank: usize,
    /// One entry per rank, in rank order.
    pub per_rank: Vec<RankReport>,
    /// Rank 0's time receiving and decoding the other ranks' results during the run, seconds.
    pub gather_s: f64,
    /// Time to hand every rank the results, as seen by the rank holding this copy: on rank 0
    /// encoding and broadcasting them, elsewhere waiting for and decoding them, in seconds.
    pub broadcast_s: f64,
    /// Run messages rank 0 received (requests, result batches, completions).
    pub messages: u64,
    /// Chunk requests rank 0 answered (dynamic schedule).
    #[serde(default)]
    pub requests: u64,
    /// Rank 0's time answering chunk requests (taking the chunk, encoding and sending the
    /// answer), in seconds: the serial service the dynamic schedule costs.
    #[serde(default)]
    pub serve_s: f64,
    /// `max(rank busy) / mean(rank busy) − 1`: 0 when the ranks computed equally long.
    pub rank_imbalance: f64,
}

impl RunReport {
    /// Builds a report, deriving efficiency and imbalance from the busy times.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn build(
        mode: String,
        mode_reason: String,
        tasks: usize,
        wall: Duration,
        setup: Duration,
        marshal: Duration,
        task_secs: &[f64],
        busy_s: Vec<f64>,
        retries: u32,
        mut failures: Vec<TaskFailure>,
    ) -> Self {
        failures.sort_by_key(|f| f.index);
        let workers = busy_s.len().max(1);
        let wall_s = wall.as_secs_f64();
        let total_busy: f64 = busy_s.iter().sum();
        let efficiency = if wall_s > 0.0 {
            (total_busy / (wall_s * workers as f64)).min(1.0)
        } else {
            0.0
        };
        let mean_busy = total_busy / workers as f64;
        let max_busy = busy_s.iter().copied().fold(0.0, f64::max);
        let imbalance = if mean_busy > 0.0 {
            max_busy / mean_busy - 1.0
        } else {
            0.0
        };
        Self {
            mode,
            mode_reason,
            tasks,
            workers,
            wall_s,
            setup_s: setup.as_secs_f64(),
            marshal_s: marshal.as_secs_f64(),
            task_time: TaskTimes::from_secs(task_secs),
            busy_s,
            efficiency,
            imbalance,
            retries,
            failures,
            mpi: None,
        }
    }

    /// Sum of the workers' busy time, in seconds.
    pub fn busy_total_s(&self) -> f64 {
        self.busy_s.iter().sum()
    }

    /// Wall time not spent computing, per task, in seconds:
    /// `(wall × workers − busy) / tasks`. The per-task price of the mode on this run.
    pub fn overhead_per_task_s(&self) -> f64 {
        if self.tasks == 0 {
            return 0.0;
        }
        ((self.wall_s * self.workers as f64 - self.busy_total_s()) / self.tasks as f64).max(0.0)
    }
}

pub(crate) fn fmt_secs(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: [(&str, String); 12] = [
            ("mode", format!("{} ({})", self.mode, self.mode_reason)),
            ("tasks", self.tasks.to_string()),
            ("workers", self.workers.to_string()),
            ("wall", fmt_secs(self.wall_s)),
            ("setup", fmt_secs(self.setup_s)),
            ("marshalling", fmt_secs(self.marshal_s)),
            (
                "task time min/median/max",
                format!(
                    "{} / {} / {}",
                    fmt_secs(self.task_time.min_s),
                    fmt_secs(self.task_time.median_s),
                    fmt_secs(self.task_time.max_s)
                ),
            ),
            (
                "busy per worker",
                self.busy_s
                    .iter()
                    .map(|&b| fmt_secs(b))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("efficiency", format!("{:.1} %", 100.0 * self.efficiency)),
            ("imbalance", format!("{:.1} %", 100.0 * self.imbalance)),
            ("retries", self.retries.to_string()),
            ("failures", self.failures.len().to_string()),
        ];
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in rows {
            writeln!(f, "{k:<width$}  {v}")?;
        }
        if let Some(m) = &self.mpi {
            let per = |g: fn(&RankReport) -> f64| {
                m.per_rank
                    .iter()
                    .map(|r| fmt_secs(g(r)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let rows = [
                (
                    "ranks",
                    format!(
                        "{} x {} thread(s), {} schedule (this is rank {})",
                        m.ranks, m.threads_per_rank, m.schedule, m.rank
                    ),
                ),
                ("busy per rank", per(|r| r.busy_s)),
                ("communication per rank", per(|r| r.comm_s)),
                (
                    "gather / broadcast",
                    format!("{} / {}", fmt_secs(m.gather_s), fmt_secs(m.broadcast_s)),
                ),
                (
                    "rank imbalance",
                    format!("{:.1} %", 100.0 * m.rank_imbalance),
                ),
            ];
            for (k, v) in rows {
                writeln!(f, "{k:<width$}  {v}")?;
            }
        }
        for failure in &self.failures {
            writeln!(f, "  {failure}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_times_statistics() {
        let t = TaskTimes::from_secs(&[3.0, 1.0, 2.0, 4.0]);
        assert_eq!(
            (t.min_s, t.median_s, t.max_s, t.mean_s),
            (1.0, 2.5, 4.0, 2.5)
        );
        assert_eq!(TaskTimes::from_secs(&[]), TaskTimes::default());
    }

    #[test]
    fn efficiency_and_imbalance_follow_their_definitions() {
        let r = RunReport::build(
            "threads(2)".into(),
            "configured".into(),
            4,
            Duration::from_secs(2),
            Duration::ZERO,
            Duration::ZERO,
            &[1.0, 1.0, 0.5, 0.5],
            vec![2.0, 1.0],
            0,
            vec![],
        );
        assert!((r.efficiency - 0.75).abs() < 1e-12);
        assert!((r.imbalance - (2.0 / 1.5 - 1.0)).abs() < 1e-12);
        assert!((r.overhead_per_task_s() - 0.25).abs() < 1e-12);
        let text = r.to_string();
        assert!(
            text.contains("efficiency") && text.contains("75.0 %"),
            "{text}"
        );
    }
}
