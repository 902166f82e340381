//! `Sequential`: one task after another on the calling thread. Also the inline path of every
//! run nested inside a parallel worker, and `Auto`'s choice when parallelism does not pay.

use std::time::{Duration, Instant};

use super::{Backend, WorkerLog, assemble, progress_bar, run_one};
use crate::ExecError;
use crate::config::ExecConfig;
use crate::executor::{Job, RunOutput};

/// The sequential backend (no state).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sequential;

impl Backend for Sequential {
    fn run_local<J: Job>(
        &self,
        config: &ExecConfig,
        job: &J,
        n: usize,
    ) -> Result<RunOutput<J::Output>, ExecError> {
        Ok(run(config, job, n, "configured"))
    }
}

/// Runs tasks `0..n` on the calling thread; `reason` goes into the report.
pub(crate) fn run<J: Job>(
    config: &ExecConfig,
    job: &J,
    n: usize,
    reason: &str,
) -> RunOutput<J::Output> {
    let start = Instant::now();
    let bar = progress_bar(config, n);
    let mut log = WorkerLog::new();
    for i in 0..n {
        run_one(job, i, n, config.seed, config.retries, &mut log);
        bar.inc();
    }
    bar.finish();
    assemble(
        n,
        vec![log],
        "sequential".into(),
        reason.into(),
        start.elapsed(),
        Duration::ZERO,
    )
}
