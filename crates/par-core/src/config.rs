//! Executor configuration: the mode, the seed, time-outs, retries and progress display.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ExecError;

/// The largest number of tasks one run accepts (indices travel as `u32`-sized counts in reports
/// and as `u64` between processes; beyond this a run would not fit in memory anyway).
pub const MAX_TASKS: usize = u32::MAX as usize;

/// The largest worker count accepted, threads or processes.
pub const MAX_WORKERS: usize = 4096;

/// How tasks are executed. Every mode returns bit-identical results for the same job and seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum Mode {
    /// One task after another on the calling thread.
    Sequential,
    /// A thread pool of `workers` threads owned by the executor (never rayon's global pool).
    Threads {
        /// Number of worker threads.
        workers: usize,
    },
    /// `workers` child processes running the same executable in a worker role; tasks and
    /// results are serialised over pipes. Isolates crashes and hangs; enforces time-outs.
    Processes {
        /// Number of worker processes.
        workers: usize,
    },
    /// Measures the first tasks and applies the break-even rule to choose between
    /// `Sequential` and `Threads { workers }`; the report says what it chose and why.
    Auto {
        /// Worker threads to use if parallelism pays.
        workers: usize,
    },
}

impl Mode {
    /// `Threads` with one worker per available core.
    pub fn threads_all_cores() -> Self {
        Self::Threads {
            workers: crate::budget::available_threads(),
        }
    }

    /// The worker count the mode asks for (1 for `Sequential`).
    pub fn workers(&self) -> usize {
        match *self {
            Self::Sequential => 1,
            Self::Threads { workers } | Self::Processes { workers } | Self::Auto { workers } => {
                workers
            }
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sequential => write!(f, "sequential"),
            Self::Threads { workers } => write!(f, "threads({workers})"),
            Self::Processes { workers } => write!(f, "processes({workers})"),
            Self::Auto { workers } => write!(f, "auto({workers})"),
        }
    }
}

/// Whether to draw a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// Draw on standard error when it is a terminal, stay silent otherwise (the default).
    #[default]
    Auto,
    /// Never draw.
    Hidden,
}

/// The command that starts a worker process for [`Mode::Processes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerCommand {
    /// The program; by default the current executable.
    pub program: PathBuf,
    /// Arguments passed to it.
    pub args: Vec<String>,
}

impl WorkerCommand {
    /// The current executable, with no arguments: its `main` must call
    /// [`crate::process::serve_if_worker`] first.
    pub fn current_exe() -> std::io::Result<Self> {
        Ok(Self {
            program: std::env::current_exe()?,
            args: Vec::new(),
        })
    }

    /// The current test executable, running only the test named `test_name` (a path such as
    /// `tests::worker_entry`), which must call [`crate::process::serve_if_worker`]. This is how
    /// libtest-based test suites use `Processes` mode.
    pub fn libtest(test_name: &str) -> std::io::Result<Self> {
        Ok(Self {
            program: std::env::current_exe()?,
            args: vec![
                test_name.to_string(),
                "--exact".into(),
                "--nocapture".into(),
                "--test-threads=1".into(),
                "--quiet".into(),
            ],
        })
    }
}

/// Everything an [`crate::Executor`] needs. Missing fields take the documented defaults when
/// deserialised; [`ExecConfig::validate`] rejects out-of-range values with a typed error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecConfig {
    /// Execution mode. Default: `Auto` over all available cores.
    pub mode: Mode,
    /// Run seed: task `i` gets `seed::task_rng(seed, i)`. Default: 0.
    pub seed: u64,
    /// Per-task time-out, enforced in `Processes` mode by killing the worker (a thread cannot
    /// be stopped safely, so other modes reject a time-out). Default: none.
    #[serde(with = "opt_secs")]
    pub timeout: Option<Duration>,
    /// How many times a failed task (panic, crash, time-out) is run again. Default: 0.
    pub retries: u32,
    /// Progress bar policy. Default: `Auto`.
    pub progress: Progress,
    /// Label of the progress bar. Default: empty.
    pub label: String,
    /// How to start worker processes. Default: the current executable.
    #[serde(skip)]
    pub worker_command: Option<WorkerCommand>,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Auto {
                workers: crate::budget::available_threads(),
            },
            seed: 0,
            timeout: None,
            retries: 0,
            progress: Progress::Auto,
            label: String::new(),
            worker_command: None,
        }
    }
}

impl ExecConfig {
    /// A default configuration with the given mode.
    pub fn with_mode(mode: Mode) -> Self {
        Self {
            mode,
            ..Self::default()
        }
    }

    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), ExecError> {
        let workers = self.mode.workers();
        if workers == 0 {
            return Err(ExecError::config(
                "mode.workers",
                "must be at least 1, got 0",
            ));
        }
        if workers > MAX_WORKERS {
            return Err(ExecError::config(
                "mode.workers",
                format!("must be at most {MAX_WORKERS}, got {workers}"),
            ));
        }
        if let Some(t) = self.timeout {
            if t.is_zero() {
                return Err(ExecError::config("timeout", "must be positive, got 0"));
            }
            if !matches!(self.mode, Mode::Processes { .. }) {
                return Err(ExecError::config(
                    "timeout",
                    format!(
                        "is enforced only in processes mode (a thread cannot be stopped \
                         safely); mode is {}",
                        self.mode
                    ),
                ));
            }
        }
        if self.retries > 1000 {
            return Err(ExecError::config(
                "retries",
                format!("must be at most 1000, got {}", self.retries),
            ));
        }
        Ok(())
    }
}

/// Serialises `Option<Duration>` as seconds (a float) or null.
mod opt_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let secs = Option::<f64>::deserialize(d)?;
        secs.map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                serde::de::Error::custom(format!(
                    "timeout: {s} is not a non-negative finite number of seconds"
                ))
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_files_with_a_typo_name_the_field() {
        let err = serde_json::from_str::<ExecConfig>(r#"{"sead": 3}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `sead`"), "{err}");
        let err = serde_json::from_str::<Mode>(r#"{"kind": "threads", "worker": 2}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `worker`"), "{err}");
        let err =
            serde_json::from_str::<WorkerCommand>(r#"{"program": "x", "args": [], "env": 1}"#)
                .unwrap_err();
        assert!(err.to_string().contains("unknown field `env`"), "{err}");
        let err = serde_json::from_str::<crate::batcher::BatcherConfig>(
            r#"{"max_batch": 2, "max_wait": {"secs": 0, "nanos": 0}, "max_wiat": 1}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `max_wiat`"),
            "{err}"
        );
        let mode: Mode = serde_json::from_str(r#"{"kind": "threads", "workers": 2}"#).unwrap();
        assert_eq!(mode, Mode::Threads { workers: 2 });
        let ok: ExecConfig = serde_json::from_str(r#"{"seed": 3}"#).unwrap();
        assert_eq!(ok.seed, 3);
    }

    fn field_of(c: &ExecConfig) -> &'static str {
        match c.validate() {
            Err(ExecError::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn bad_configurations_name_the_field() {
        assert_eq!(
            field_of(&ExecConfig::with_mode(Mode::Threads { workers: 0 })),
            "mode.workers"
        );
        assert_eq!(
            field_of(&ExecConfig::with_mode(Mode::Processes { workers: 0 })),
            "mode.workers"
        );
        let zero = ExecConfig {
            mode: Mode::Processes { workers: 1 },
            timeout: Some(Duration::ZERO),
            ..ExecConfig::default()
        };
        assert_eq!(field_of(&zero), "timeout");
        let threads_timeout = ExecConfig {
            mode: Mode::Threads { workers: 2 },
            timeout: Some(Duration::from_secs(1)),
            ..ExecConfig::default()
        };
        assert_eq!(field_of(&threads_timeout), "timeout");
    }

    #[test]
    fn json_fills_defaults_and_rejects_nan_timeouts() {
        let c: ExecConfig = serde_json::from_str(
            r#"{"mode": {"kind": "processes", "workers": 3}, "timeout": 2.5}"#,
        )
        .unwrap();
        assert_eq!(c.mode, Mode::Processes { workers: 3 });
        assert_eq!(c.timeout, Some(Duration::from_millis(2500)));
        assert_eq!(c.retries, 0);
        assert!(serde_json::from_str::<ExecConfig>(r#"{"timeout": -1.0}"#).is_err());
        assert!(serde_json::from_str::<ExecConfig>(r#"{"wrokers": 1}"#).is_err());
    }
}
