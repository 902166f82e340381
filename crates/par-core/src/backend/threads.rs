//! `Threads`: a rayon pool of `workers` threads that the executor builds on its first run and
//! keeps (never rayon's global pool). Threads take the next index from a shared counter
//! (dynamic scheduling), so uneven task times balance themselves.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Backend, WorkerLog, assemble, progress_bar, run_one};
use crate::config::ExecConfig;
use crate::executor::{Job, RunOutput};
use crate::progress::TaskBar;
use crate::{ExecError, budget};

/// A thread pool built on first use and kept; its threads are marked as parallel workers.
#[derive(Debug)]
pub(crate) struct Pool {
    threads: usize,
    pool: Mutex<Option<Arc<rayon::ThreadPool>>>,
}

impl Pool {
    pub(crate) fn new(threads: usize) -> Self {
        Self {
            threads,
            pool: Mutex::new(None),
        }
    }

    /// The pool, built on first use; returns it and the time spent building it now.
    pub(crate) fn get(&self) -> Result<(Arc<rayon::ThreadPool>, Duration), ExecError> {
        let mut slot = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = slot.as_ref() {
            return Ok((Arc::clone(pool), Duration::ZERO));
        }
        let start = Instant::now();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .thread_name(|i| format!("par-core-{i}"))
            .start_handler(|_| budget::mark_thread_as_worker())
            .build()
            .map_err(|e| ExecError::ThreadPool(e.to_string()))?;
        let pool = Arc::new(pool);
        *slot = Some(Arc::clone(&pool));
        Ok((pool, start.elapsed()))
    }
}

/// The threads backend.
#[derive(Debug)]
pub(crate) struct Threads {
    pub(crate) workers: usize,
    pub(crate) pool: Pool,
}

impl Threads {
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            workers,
            pool: Pool::new(workers),
        }
    }

    /// Runs tasks `0..n` on the pool; `reason` goes into the report.
    pub(crate) fn run<J: Job>(
        &self,
        config: &ExecConfig,
        job: &J,
        n: usize,
        reason: String,
    ) -> Result<RunOutput<J::Output>, ExecError> {
        let start = Instant::now();
        let (pool, setup) = self.pool.get()?;
        let bar = progress_bar(config, n);
        let logs = parallel_logs(&pool, job, 0, n, config.seed, config.retries, &bar);
        bar.finish();
        Ok(assemble(
            n,
            logs,
            format!("threads({})", self.workers),
            reason,
            start.elapsed(),
            setup,
        ))
    }
}

impl Backend for Threads {
    fn run_local<J: Job>(
        &self,
        config: &ExecConfig,
        job: &J,
        n: usize,
    ) -> Result<RunOutput<J::Output>, ExecError> {
        self.run(config, job, n, "configured".into())
    }
}

/// Runs tasks `from..n` on every thread of `pool`, each thread taking the next index from a
/// shared counter (dynamic scheduling), and returns each thread's log.
pub(crate) fn parallel_logs<J: Job>(
    pool: &rayon::ThreadPool,
    job: &J,
    from: usize,
    n: usize,
    seed: u64,
    retries: u32,
    bar: &TaskBar,
) -> Vec<WorkerLog<J::Output>> {
    let next = AtomicUsize::new(from);
    pool.broadcast(|_| {
        let mut log = WorkerLog::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            run_one(job, i, n, seed, retries, &mut log);
            bar.inc();
        }
        log
    })
}
