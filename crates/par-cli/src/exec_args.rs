//! The execution flags every example shares: `--mode` and `--workers`.
//!
//! ```
//! use clap::Parser;
//! use par_cli::ExecArgs;
//!
//! #[derive(Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     exec: ExecArgs,
//! }
//!
//! let a = Args::try_parse_from(["x", "--mode", "processes", "--workers", "2"]).unwrap();
//! assert_eq!(a.exec.mode(), par_core::Mode::Processes { workers: 2 });
//! let a = Args::try_parse_from(["x", "--mode", "seq"]).unwrap();
//! assert_eq!(a.exec.mode(), par_core::Mode::Sequential);
//! assert!(Args::try_parse_from(["x", "--workers", "0"]).is_err());
//! ```

use par_core::{ExecConfig, Mode};

/// How the tasks of a run are executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// One task after the other on the calling thread.
    #[value(alias = "sequential")]
    Seq,
    /// A pool of worker threads in this process.
    Threads,
    /// Worker processes (copies of this program); isolates crashes and enforces time-outs.
    Processes,
    /// Measure the first tasks and choose sequential or threads by the break-even rule.
    Auto,
}

/// `--mode` and `--workers`, to `#[command(flatten)]` into an example's arguments.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ExecArgs {
    /// How tasks run: seq, threads, processes or auto (results are identical in every mode).
    #[arg(long, value_enum, default_value_t = ModeArg::Threads)]
    pub mode: ModeArg,
    /// Worker threads or processes [default: the machine's cores]; at most 8 per core.
    #[arg(long, value_parser = workers)]
    pub workers: Option<usize>,
}

/// The most workers a run may ask for per core of this machine.
pub const MAX_WORKERS_PER_CORE: usize = 8;

/// Parses a worker count: at least 1, at most [`MAX_WORKERS_PER_CORE`] times the cores.
pub fn workers(text: &str) -> Result<usize, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = MAX_WORKERS_PER_CORE * cores;
    crate::numbers::count_in(1, max)(text).map_err(|e| {
        if e.contains("maximum") {
            format!("{e} ({MAX_WORKERS_PER_CORE} workers per core on this {cores}-core machine)")
        } else {
            e
        }
    })
}

impl ExecArgs {
    /// The worker count: as given, or one per core.
    pub fn worker_count(&self) -> usize {
        self.workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// The execution mode these flags ask for.
    pub fn mode(&self) -> Mode {
        let workers = self.worker_count();
        match self.mode {
            ModeArg::Seq => Mode::Sequential,
            ModeArg::Threads => Mode::Threads { workers },
            ModeArg::Processes => Mode::Processes { workers },
            ModeArg::Auto => Mode::Auto { workers },
        }
    }

    /// An executor configuration with this mode and `seed`, the rest at its defaults.
    pub fn exec_config(&self, seed: u64) -> ExecConfig {
        ExecConfig {
            seed,
            ..ExecConfig::with_mode(self.mode())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_counts_are_bounded_by_the_machine() {
        assert_eq!(workers("1"), Ok(1));
        assert!(workers("0").is_err());
        let err = workers("5000").unwrap_err();
        assert!(err.contains("workers per core"), "{err}");
    }

    #[test]
    fn flags_map_to_modes() {
        let e = ExecArgs {
            mode: ModeArg::Auto,
            workers: Some(3),
        };
        assert_eq!(e.mode(), Mode::Auto { workers: 3 });
        assert_eq!(e.exec_config(9).seed, 9);
        let d = ExecArgs {
            mode: ModeArg::Threads,
            workers: None,
        };
        assert!(d.worker_count() >= 1);
    }
}
