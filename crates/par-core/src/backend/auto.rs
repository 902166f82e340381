//! `Auto`: runs the first tasks on the calling thread to measure the task time `T`, measures
//! the pool's dispatch cost `O` once, and applies the break-even rule
//! (parallel pays when `T > O / (N (1 − 1/W))`) to choose `Sequential` or `Threads` for the
//! rest. The report's `mode_reason` carries the numbers.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::threads::{Threads, parallel_logs};
use super::{Backend, WorkerLog, assemble, progress_bar, run_one, sequential};
use crate::ExecError;
use crate::config::ExecConfig;
use crate::executor::{Job, RunOutput, TaskContext};
use crate::progress::TaskBar;

/// Measured costs of dispatching to the pool, used by the rule.
#[derive(Debug, Clone, Copy)]
struct DispatchCost {
    /// Fixed cost of one parallel run (waking the workers and joining them), in seconds.
    fixed_s: f64,
    /// Extra cost per task, in seconds.
    per_task_s: f64,
}

/// The auto backend: a threads backend plus the cached dispatch cost.
#[derive(Debug)]
pub(crate) struct Auto {
    threads: Threads,
    dispatch_cost: Mutex<Option<DispatchCost>>,
}

impl Auto {
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            threads: Threads::new(workers),
            dispatch_cost: Mutex::new(None),
        }
    }

    /// The measured cost of an empty parallel run, cached.
    fn dispatch_cost(&self, pool: &rayon::ThreadPool) -> DispatchCost {
        let mut slot = self.dispatch_cost.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = *slot {
            return c;
        }
        struct Noop;
        impl Job for Noop {
            type Output = ();
            fn run(&self, _: &mut TaskContext) {}
        }
        let bar = TaskBar::hidden();
        // Fixed cost: the best of a few runs of one empty task per worker.
        let fixed_s = (0..5)
            .map(|_| {
                let t = Instant::now();
                let _ = parallel_logs(pool, &Noop, 0, pool.current_num_threads(), 0, 0, &bar);
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        let many = 20_000;
        let t = Instant::now();
        let _ = parallel_logs(pool, &Noop, 0, many, 0, 0, &bar);
        let per_task_s = ((t.elapsed().as_secs_f64() - fixed_s) / many as f64).max(0.0)
            * pool.current_num_threads() as f64;
        let cost = DispatchCost {
            fixed_s,
            per_task_s,
        };
        *slot = Some(cost);
        cost
    }
}

impl Backend for Auto {
    fn run_local<J: Job>(
        &self,
        config: &ExecConfig,
        job: &J,
        n: usize,
    ) -> Result<RunOutput<J::Output>, ExecError> {
        let workers = self.threads.workers;
        if workers == 1 || n < 2 {
            return Ok(sequential::run(
                config,
                job,
                n,
                "auto: one worker or fewer than two tasks",
            ));
        }
        let start = Instant::now();
        let bar = progress_bar(config, n);
        // Probe: run the first tasks here and time them.
        let mut probe = WorkerLog::new();
        let mut k = 0;
        while k < n {
            run_one(job, k, n, config.seed, config.retries, &mut probe);
            bar.inc();
            k += 1;
            if probe.busy >= 2e-3 || k >= 8 {
                break;
            }
        }
        let task_s = probe.busy / k as f64;
        let remaining = n - k;
        if remaining == 0 {
            bar.finish();
            let reason = "auto: every task ran while probing".to_string();
            return Ok(assemble(
                n,
                vec![probe],
                "sequential".into(),
                reason,
                start.elapsed(),
                Duration::ZERO,
            ));
        }
        let (pool, setup) = self.threads.pool.get()?;
        let cost = self.dispatch_cost(&pool);
        let overhead = cost.fixed_s + remaining as f64 * cost.per_task_s;
        let w = workers as f64;
        let threshold = overhead / (remaining as f64 * (1.0 - 1.0 / w));
        let parallel = task_s > threshold;
        let reason = format!(
            "auto: task time T = {} over {k} probe task(s), overhead O = {} for N = {remaining} \
             tasks on W = {workers}; parallel pays when T > O/(N(1-1/W)) = {}: {}",
            crate::report::fmt_secs(task_s),
            crate::report::fmt_secs(overhead),
            crate::report::fmt_secs(threshold),
            if parallel {
                "chose threads"
            } else {
                "chose sequential"
            }
        );
        tracing::debug!("{reason}");
        let (logs, mode) = if parallel {
            let mut logs = parallel_logs(&pool, job, k, n, config.seed, config.retries, &bar);
            // The probe ran on the calling thread: charge it to the first worker's busy time.
            let first = &mut logs[0];
            first.results.extend(probe.results);
            first.task_secs.extend(probe.task_secs);
            first.busy += probe.busy;
            first.retries += probe.retries;
            (logs, format!("threads({workers})"))
        } else {
            for i in k..n {
                run_one(job, i, n, config.seed, config.retries, &mut probe);
                bar.inc();
            }
            (vec![probe], "sequential".into())
        };
        bar.finish();
        Ok(assemble(n, logs, mode, reason, start.elapsed(), setup))
    }
}
