//! The [`Executor`]: run tasks `0..n`, each with its index and its own RNG, and get the
//! results back in index order with a [`RunReport`].

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{ExecConfig, MAX_TASKS, Mode};
use crate::progress::TaskBar;
use crate::report::{FailureKind, RunReport, TaskFailure};
use crate::seed::{TaskRng, task_rng};
use crate::{ExecError, budget};

/// What a task receives: its index, the task count, which attempt this is, and its own RNG.
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// Index of the task, `0..n_tasks`.
    pub index: usize,
    /// Number of tasks in the run.
    pub n_tasks: usize,
    /// 0 on the first attempt, 1 on the first retry, and so on. The RNG is the same on every
    /// attempt, so a retried task computes the same result.
    pub attempt: u32,
    /// The task's generator, seeded from `(run seed, index)`.
    pub rng: TaskRng,
}

impl TaskContext {
    /// The context of task `index` of `n_tasks` in a run seeded with `seed`.
    pub fn new(seed: u64, index: usize, n_tasks: usize, attempt: u32) -> Self {
        Self {
            index,
            n_tasks,
            attempt,
            rng: task_rng(seed, index),
        }
    }
}

/// A unit of parallel work: "task `i` of `n`". The job itself holds the inputs shared by all
/// tasks; each task computes one output from its [`TaskContext`].
pub trait Job: Sync {
    /// What one task returns.
    type Output: Send;
    /// Runs one task. A panic is caught and reported as that task's failure.
    fn run(&self, ctx: &mut TaskContext) -> Self::Output;
}

/// A [`Job`] that can be shipped to worker processes: the job is serialised once per worker,
/// each output once per task (with `postcard`, so types must not rely on
/// `deserialize_any`, as untagged enums and `serde_json::Value` do).
///
/// The binary that runs it must call [`crate::process::serve_if_worker`] with a registry that
/// contains the job's type, first thing in `main`.
///
/// ```no_run
/// use par_core::process::{Registry, serve_if_worker};
/// use par_core::{ExecConfig, Executor, Job, Mode, RemoteJob, TaskContext};
/// use serde::{Deserialize, Serialize};
///
/// /// Shared inputs travel once to each worker process; task `i` computes one output.
/// #[derive(Serialize, Deserialize)]
/// struct Squares {
///     offset: u64,
/// }
///
/// impl Job for Squares {
///     type Output = u64;
///     fn run(&self, ctx: &mut TaskContext) -> u64 {
///         (ctx.index as u64 + self.offset).pow(2)
///     }
/// }
///
/// impl RemoteJob for Squares {
///     const NAME: &'static str = "example.squares";
/// }
///
/// fn main() -> Result<(), par_core::ExecError> {
///     // In a worker process this serves tasks and exits; otherwise it returns at once.
///     serve_if_worker(&Registry::new().with::<Squares>());
///     let exec = Executor::new(ExecConfig {
///         timeout: Some(std::time::Duration::from_secs(10)),
///         retries: 1,
///         ..ExecConfig::with_mode(Mode::Processes { workers: 2 })
///     })?;
///     let out = exec.run(&Squares { offset: 1 }, 8)?;
///     for failure in &out.report.failures {
///         eprintln!("{failure}"); // crashed, timed-out or panicked tasks, by index
///     }
///     assert_eq!(out.into_values()?, vec![1, 4, 9, 16, 25, 36, 49, 64]);
///     Ok(())
/// }
/// ```
pub trait RemoteJob:
    Job<Output: Serialize + DeserializeOwned> + Serialize + DeserializeOwned
{
    /// A name unique among the jobs registered in one binary, for example `"mfg.sweep"`.
    const NAME: &'static str;
}

/// The results of a run, in index order, with its report. Failed tasks are `Err` entries;
/// every other result is kept.
#[derive(Debug)]
#[must_use = "a run's failures are in its output: check `report.failures` or call `into_values`"]
pub struct RunOutput<T> {
    /// One entry per task, in index order.
    pub results: Vec<Result<T, TaskFailure>>,
    /// What the run did and where its time went.
    pub report: RunReport,
}

impl<T> RunOutput<T> {
    /// Whether every task produced a result.
    pub fn is_complete(&self) -> bool {
        self.report.failures.is_empty()
    }

    /// The outputs in index order, or [`ExecError::TasksFailed`] listing every failure.
    pub fn into_values(self) -> Result<Vec<T>, ExecError> {
        if !self.is_complete() {
            return Err(ExecError::TasksFailed {
                failures: self.report.failures,
                n_tasks: self.results.len(),
            });
        }
        Ok(self
            .results
            .into_iter()
            .map(|r| r.expect("complete run"))
            .collect())
    }

    /// The successful outputs with their indices.
    pub fn successes(&self) -> impl Iterator<Item = (usize, &T)> {
        self.results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().ok().map(|v| (i, v)))
    }
}

/// A closure as a [`Job`] (for the in-process modes).
struct FnJob<F>(F);

impl<T: Send, F: Fn(&mut TaskContext) -> T + Sync> Job for FnJob<F> {
    type Output = T;
    fn run(&self, ctx: &mut TaskContext) -> T {
        (self.0)(ctx)
    }
}

/// What one worker (thread) did.
struct WorkerLog<T> {
    results: Vec<(usize, Result<T, TaskFailure>)>,
    task_secs: Vec<f64>,
    busy: f64,
    retries: u32,
}

impl<T> WorkerLog<T> {
    fn new() -> Self {
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
fn run_one<J: Job>(
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

/// Measured costs of dispatching to the pool, used by the `auto` rule.
#[derive(Debug, Clone, Copy)]
struct DispatchCost {
    /// Fixed cost of one parallel run (waking the workers and joining them), in seconds.
    fixed_s: f64,
    /// Extra cost per task, in seconds.
    per_task_s: f64,
}

/// Runs tasks `0..n` in the configured mode. Build once and reuse: the thread pool is built
/// on the first parallel run and kept.
///
/// ```
/// use par_core::{ExecConfig, Executor, Mode};
/// use rand::Rng;
///
/// # fn main() -> Result<(), par_core::ExecError> {
/// let exec = Executor::new(ExecConfig { seed: 7, ..ExecConfig::with_mode(Mode::Threads { workers: 2 }) })?;
/// let out = exec.map(100, |ctx| ctx.index as f64 + ctx.rng.random::<f64>())?;
/// println!("{}", out.report);
/// let values = out.into_values()?;
/// assert_eq!(values.len(), 100);
/// // The same seed gives bit-identical results in every mode and for any worker count.
/// let seq = Executor::new(ExecConfig { seed: 7, ..ExecConfig::with_mode(Mode::Sequential) })?;
/// assert_eq!(seq.map(100, |ctx| ctx.index as f64 + ctx.rng.random::<f64>())?.into_values()?, values);
/// # Ok(())
/// # }
/// ```
pub struct Executor {
    config: ExecConfig,
    pool: Mutex<Option<Arc<rayon::ThreadPool>>>,
    dispatch_cost: Mutex<Option<DispatchCost>>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// Validates `config` and returns an executor. Builds no threads yet.
    pub fn new(config: ExecConfig) -> Result<Self, ExecError> {
        config.validate()?;
        Ok(Self {
            config,
            pool: Mutex::new(None),
            dispatch_cost: Mutex::new(None),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ExecConfig {
        &self.config
    }

    /// Runs the closure `f` as tasks `0..n` in-process (`Sequential`, `Threads`, `Auto`).
    /// `Processes` mode needs a serialisable job: use [`Executor::run`] with a [`RemoteJob`].
    pub fn map<T, F>(&self, n: usize, f: F) -> Result<RunOutput<T>, ExecError>
    where
        T: Send,
        F: Fn(&mut TaskContext) -> T + Sync,
    {
        self.run_local(&FnJob(f), n)
    }

    /// Runs `job` as tasks `0..n` in any in-process mode (not `Processes`).
    pub fn run_local<J: Job>(&self, job: &J, n: usize) -> Result<RunOutput<J::Output>, ExecError> {
        check_task_count(n)?;
        if budget::in_parallel_worker() {
            return Ok(self.run_sequential(job, n, "inline: nested inside a parallel worker"));
        }
        match self.config.mode {
            Mode::Sequential => Ok(self.run_sequential(job, n, "configured")),
            Mode::Threads { workers } => self.run_threads(job, n, workers, "configured".into()),
            Mode::Auto { workers } => self.run_auto(job, n, workers),
            mode @ Mode::Processes { .. } => Err(ExecError::NeedsRemoteJob {
                mode: mode.to_string(),
            }),
        }
    }

    /// Runs `job` as tasks `0..n` in the configured mode, `Processes` included.
    pub fn run<J: RemoteJob>(&self, job: &J, n: usize) -> Result<RunOutput<J::Output>, ExecError> {
        check_task_count(n)?;
        match self.config.mode {
            Mode::Processes { workers } if !budget::in_parallel_worker() => {
                crate::process::run(&self.config, job, n, workers)
            }
            _ => self.run_local(job, n),
        }
    }

    /// Sums `f(0) + … + f(n−1)` in chunks of `chunk_len` consecutive terms, each chunk summed
    /// in order and the chunk sums added in order. Because the chunking does not depend on the
    /// worker count, the result is bit-identical in every mode and for any worker count.
    ///
    /// ```
    /// # use par_core::{Executor, ExecConfig, Mode};
    /// let exec = Executor::new(ExecConfig::with_mode(Mode::Threads { workers: 3 })).unwrap();
    /// let s = exec.sum_f64(1000, 64, |i| 1.0 / (1.0 + i as f64)).unwrap();
    /// let seq = Executor::new(ExecConfig::with_mode(Mode::Sequential)).unwrap();
    /// assert_eq!(s.to_bits(), seq.sum_f64(1000, 64, |i| 1.0 / (1.0 + i as f64)).unwrap().to_bits());
    /// ```
    pub fn sum_f64<F>(&self, n: usize, chunk_len: usize, f: F) -> Result<f64, ExecError>
    where
        F: Fn(usize) -> f64 + Sync,
    {
        if chunk_len == 0 {
            return Err(ExecError::config("chunk_len", "must be at least 1, got 0"));
        }
        let chunks = n.div_ceil(chunk_len);
        let sums = self
            .map(chunks, |ctx| {
                let lo = ctx.index * chunk_len;
                let hi = (lo + chunk_len).min(n);
                (lo..hi).map(&f).sum::<f64>()
            })?
            .into_values()?;
        Ok(crate::reduce::ordered_sum(&sums))
    }

    fn progress_bar(&self, n: usize) -> TaskBar {
        TaskBar::new(self.config.progress, n, &self.config.label)
    }

    fn run_sequential<J: Job>(&self, job: &J, n: usize, reason: &str) -> RunOutput<J::Output> {
        let start = Instant::now();
        let bar = self.progress_bar(n);
        let mut log = WorkerLog::new();
        for i in 0..n {
            run_one(job, i, n, self.config.seed, self.config.retries, &mut log);
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

    /// The pool, built on first use; returns it and the time spent building it now.
    fn pool(&self, workers: usize) -> Result<(Arc<rayon::ThreadPool>, Duration), ExecError> {
        let mut slot = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = slot.as_ref() {
            return Ok((Arc::clone(pool), Duration::ZERO));
        }
        let start = Instant::now();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("par-core-{i}"))
            .start_handler(|_| budget::mark_thread_as_worker())
            .build()
            .map_err(|e| ExecError::ThreadPool(e.to_string()))?;
        let pool = Arc::new(pool);
        *slot = Some(Arc::clone(&pool));
        Ok((pool, start.elapsed()))
    }

    fn run_threads<J: Job>(
        &self,
        job: &J,
        n: usize,
        workers: usize,
        reason: String,
    ) -> Result<RunOutput<J::Output>, ExecError> {
        let start = Instant::now();
        let (pool, setup) = self.pool(workers)?;
        let bar = self.progress_bar(n);
        let logs = parallel_logs(
            &pool,
            job,
            0,
            n,
            self.config.seed,
            self.config.retries,
            &bar,
        );
        bar.finish();
        Ok(assemble(
            n,
            logs,
            format!("threads({workers})"),
            reason,
            start.elapsed(),
            setup,
        ))
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

    fn run_auto<J: Job>(
        &self,
        job: &J,
        n: usize,
        workers: usize,
    ) -> Result<RunOutput<J::Output>, ExecError> {
        if workers == 1 || n < 2 {
            return Ok(self.run_sequential(job, n, "auto: one worker or fewer than two tasks"));
        }
        let start = Instant::now();
        let bar = self.progress_bar(n);
        // Probe: run the first tasks here and time them.
        let mut probe = WorkerLog::new();
        let mut k = 0;
        while k < n {
            run_one(job, k, n, self.config.seed, self.config.retries, &mut probe);
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
        let (pool, setup) = self.pool(workers)?;
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
            let mut logs = parallel_logs(
                &pool,
                job,
                k,
                n,
                self.config.seed,
                self.config.retries,
                &bar,
            );
            // The probe ran on the calling thread: charge it to the first worker's busy time.
            let first = &mut logs[0];
            first.results.extend(probe.results);
            first.task_secs.extend(probe.task_secs);
            first.busy += probe.busy;
            first.retries += probe.retries;
            (logs, format!("threads({workers})"))
        } else {
            for i in k..n {
                run_one(job, i, n, self.config.seed, self.config.retries, &mut probe);
                bar.inc();
            }
            (vec![probe], "sequential".into())
        };
        bar.finish();
        Ok(assemble(n, logs, mode, reason, start.elapsed(), setup))
    }
}

/// Runs tasks `from..n` on every thread of `pool`, each thread taking the next index from a
/// shared counter (dynamic scheduling), and returns each thread's log.
fn parallel_logs<J: Job>(
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

fn check_task_count(n: usize) -> Result<(), ExecError> {
    if n > MAX_TASKS {
        return Err(ExecError::config(
            "n_tasks",
            format!("must be at most {MAX_TASKS}, got {n}"),
        ));
    }
    Ok(())
}

/// Puts the workers' results in index order and builds the report.
fn assemble<T>(
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
