//! The [`Executor`]: run tasks `0..n`, each with its index and its own RNG, and get the
//! results back in index order with a [`RunReport`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::{AnyBackend, Backend, sequential, with_backend};
use crate::config::{ExecConfig, MAX_TASKS};
use crate::report::{RunReport, TaskFailure};
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

    /// [`crate::Mode::Mpi`] only: called on rank 0, on its driver thread, with each result
    /// that another rank computed, as it arrives there (in batches at most 20 ms old, long
    /// before the run ends). Rank 0's own tasks run [`Job::run`] in its process and are not
    /// passed here; failed tasks are not either. The default does nothing.
    ///
    /// This is where a side effect that only one process may have goes, for example
    /// appending each finished result to a journal that rank 0 alone writes (so a job killed
    /// mid-run leaves every result that had reached rank 0, in one file, on any file system):
    /// a task then writes the journal itself only where [`crate::mpi::rank`] is 0, and this
    /// method writes the results of every other rank. Its time counts in rank 0's gather
    /// time ([`crate::MpiReport::gather_s`]), so keep it short.
    fn received_on_root(&self, index: usize, output: &Self::Output) {
        let _ = (index, output);
    }
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
    backend: AnyBackend,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// Validates `config` and returns an executor. Builds no threads yet ([`crate::Mode::Mpi`]
    /// initialises MPI here, once per process). A mode this build lacks (`Mpi` without the
    /// `mpi` feature) is [`ExecError::FeatureMissing`].
    pub fn new(config: ExecConfig) -> Result<Self, ExecError> {
        config.validate()?;
        let backend = AnyBackend::for_mode(config.mode)?;
        Ok(Self { config, backend })
    }

    /// The configuration.
    pub fn config(&self) -> &ExecConfig {
        &self.config
    }

    /// Runs the closure `f` as tasks `0..n` in-process (`Sequential`, `Threads`, `Auto`).
    /// `Processes` and `Mpi` need a serialisable job: use [`Executor::run`] with a
    /// [`RemoteJob`].
    pub fn map<T, F>(&self, n: usize, f: F) -> Result<RunOutput<T>, ExecError>
    where
        T: Send,
        F: Fn(&mut TaskContext) -> T + Sync,
    {
        self.run_local(&FnJob(f), n)
    }

    /// Runs `job` as tasks `0..n` in any in-process mode (not `Processes` or `Mpi`).
    pub fn run_local<J: Job>(&self, job: &J, n: usize) -> Result<RunOutput<J::Output>, ExecError> {
        check_task_count(n)?;
        if budget::in_parallel_worker() {
            return Ok(sequential::run(
                &self.config,
                job,
                n,
                "inline: nested inside a parallel worker",
            ));
        }
        with_backend!(&self.backend, b => b.run_local(&self.config, job, n))
    }

    /// Runs `job` as tasks `0..n` in the configured mode, `Processes` and `Mpi` included.
    ///
    /// In `Mpi` mode the call is collective: every rank calls it with the same job type, and
    /// every rank gets the same [`RunOutput`] (see [`crate::Mode::Mpi`]).
    pub fn run<J: RemoteJob>(&self, job: &J, n: usize) -> Result<RunOutput<J::Output>, ExecError> {
        check_task_count(n)?;
        if budget::in_parallel_worker() {
            return self.run_local(job, n);
        }
        with_backend!(&self.backend, b => b.run_remote(&self.config, job, n))
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
