//! Hyperparameter search: trials of optimiser settings, each a few seeded runs, as separate
//! worker processes through par-core's `Processes` mode, with results appended to a file as
//! they finish and reruns that resume.
//!
//! # Sampling
//!
//! Random search (Bergstra and Bengio 2012): trial `i` draws its settings from a generator of
//! `(search seed, i)` ([`sample_config`]), so a trial's settings do not depend on which worker
//! runs it or on which trials already ran. No model-based sampler is offered: none has been
//! measured here to beat random search on these budgets.
//!
//! # The thread budget
//!
//! A trial runs in a par-core worker process, where par-core's budget
//! ([`par_core::budget`]) makes every nested parallel call run inline: the trial's own
//! executor evaluates on the worker's one thread, so a search with `W` worker processes keeps
//! `W` busy threads on `W` cores whatever the trials do inside. [`TrialJob::budgeted`] set to
//! `false` shows what that prevents: each trial then builds its own thread pool with one thread
//! per core (as a library that ignores the budget would, and as the nested pools of "Evolution
//! Lab" did), so `W` processes run `W x cores` threads. Each record holds the most threads its
//! process had alive while the trial ran ([`par_core::budget::live_threads`]).
//!
//! # Results file and resume
//!
//! Each finished trial appends one JSON line ([`TrialRecord`]) from the worker that ran it,
//! through par-core's [`Journal`] (one `write` call on an `O_APPEND` file, so lines never
//! interleave; a line torn by a kill is ended and skipped). [`search`] first reads the file,
//! keeps the records whose search key (the search settings as JSON) matches, and runs only the
//! missing trials.

use std::path::{Path, PathBuf};

use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use par_core::journal::Journal;
use par_core::seed::{task_rng, task_seed};
use par_core::{ExecConfig, Executor, Job, Mode, Progress, RemoteJob, RunReport, TaskContext};

use crate::NeuroError;
use crate::evolution::{Evolution, RunConfig, Status};
use crate::optimiser::{
    CmaesConfig, CosyneConfig, GaConfig, OptimiserConfig, OptimiserKind, Selection,
};
use crate::task::TaskConfig;

/// What a search explores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HyperConfig {
    /// The task every trial runs on.
    pub task: TaskConfig,
    /// The optimiser whose settings are searched.
    pub optimiser: OptimiserKind,
    /// Number of trials.
    pub trials: usize,
    /// Seeded runs per trial.
    pub seeds: usize,
    /// Evaluation budget of each run.
    pub max_evals: u64,
    /// Search seed.
    pub seed: u64,
}

impl HyperConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), NeuroError> {
        crate::error::count_in("hyper.trials", self.trials, 1, 1_000_000)?;
        crate::error::count_in("hyper.seeds", self.seeds, 1, 10_000)?;
        if self.max_evals == 0 {
            return Err(NeuroError::field(
                "hyper.max_evals",
                "must be at least 1, got 0",
            ));
        }
        self.task.build().map(|_| ())
    }

    /// The key that ties a results line to these settings.
    pub fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Random-search draw of trial `index`'s settings: log-uniform population sizes and scales,
/// uniform rates and operator choices, over ranges that cover the defaults.
pub fn sample_config(kind: OptimiserKind, seed: u64, index: usize) -> OptimiserConfig {
    let mut rng = task_rng(task_seed(seed, 0x6879_7065), index);
    let log_uniform =
        |rng: &mut par_core::TaskRng, lo: f64, hi: f64| (rng.random_range(lo.ln()..hi.ln())).exp();
    match kind {
        OptimiserKind::Ga => {
            let population = log_uniform(&mut rng, 10.0, 120.0).round() as usize;
            let selection = match rng.random_range(0..3) {
                0 => Selection::Tournament {
                    size: rng.random_range(2..=5),
                },
                1 => Selection::Rank {
                    pressure: rng.random_range(1.2..2.0),
                },
                _ => Selection::Truncation {
                    fraction: rng.random_range(0.1..0.5),
                },
            };
            OptimiserConfig::Ga(GaConfig {
                population,
                selection,
                mutation_rate: rng.random_range(0.05..0.5),
                mutation_scale: log_uniform(&mut rng, 0.1, 2.0),
                elites: rng.random_range(1..=3),
                ..GaConfig::default()
            })
        }
        OptimiserKind::Cosyne => {
            let population = log_uniform(&mut rng, 12.0, 100.0).round() as usize;
            OptimiserConfig::Cosyne(CosyneConfig {
                population,
                offspring: (population / 4).max(1),
                mutation_rate: rng.random_range(0.1..0.6),
                mutation_scale: log_uniform(&mut rng, 0.1, 2.0),
                ..CosyneConfig::default()
            })
        }
        OptimiserKind::Cmaes => OptimiserConfig::Cmaes(CmaesConfig {
            population: Some(log_uniform(&mut rng, 6.0, 48.0).round() as usize),
            sigma_fraction: log_uniform(&mut rng, 0.1, 1.5),
            ..CmaesConfig::default()
        }),
    }
}

/// One finished trial (a line of the results file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// Trial index.
    pub index: usize,
    /// [`HyperConfig::key`] of its search.
    pub key: String,
    /// The settings tried.
    pub optimiser: OptimiserConfig,
    /// Runs that solved the task.
    pub solved: usize,
    /// Runs.
    pub runs: usize,
    /// Median evaluations to solve over the runs (unsolved runs count as above every solved
    /// one; `None` when at most half solved).
    pub median_evals: Option<u64>,
    /// Mean over runs of the best fitness reached.
    pub mean_best: f64,
    /// Wall time of the trial (s).
    pub seconds: f64,
    /// Most threads alive in the trial's process while it ran (0 where unknown).
    pub peak_threads: usize,
    /// Whether the trial ran under the thread budget.
    pub budgeted: bool,
}

/// The trials of a search as a par-core job (see the module docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrialJob {
    /// The search.
    pub config: HyperConfig,
    /// Trial indices to run: task `i` of the job runs trial `todo[i]`.
    pub todo: Vec<usize>,
    /// Whether trials keep to the thread budget (the default) or build their own pools.
    pub budgeted: bool,
    /// Results file each finished trial appends to.
    pub results: Option<PathBuf>,
}

impl TrialJob {
    /// Runs trial `index`.
    pub fn run_trial(&self, index: usize) -> Result<TrialRecord, NeuroError> {
        let start = std::time::Instant::now();
        let c = &self.config;
        let task = c.task.build()?;
        let optimiser = sample_config(c.optimiser, c.seed, index);
        let pool = if self.budgeted {
            None
        } else {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .map_err(|e| NeuroError::field("hyper.pool", e.to_string()))?,
            )
        };
        let exec = Executor::new(ExecConfig {
            progress: Progress::Hidden,
            ..ExecConfig::with_mode(Mode::Threads {
                workers: par_core::budget::inner_threads(),
            })
        })?;
        let mut peak = par_core::budget::live_threads().unwrap_or(0);
        let mut evals = Vec::with_capacity(c.seeds);
        let mut best_sum = 0.0;
        let mut solved = 0;
        for s in 0..c.seeds {
            let run = RunConfig {
                seed: task_seed(c.seed ^ index as u64, s as u64),
                max_evals: c.max_evals,
                ..RunConfig::default()
            };
            let mut evo = Evolution::new(task.as_ref(), optimiser.clone(), run)?;
            while evo.status() == Status::Running {
                match &pool {
                    None => {
                        evo.step(&exec)?;
                    }
                    Some(pool) => {
                        let t = task.as_ref();
                        evo.step_with(|genomes, gen_seed| {
                            let d = t.genome_len();
                            Ok(pool.install(|| {
                                genomes
                                    .par_chunks(d)
                                    .enumerate()
                                    .map(|(i, g)| t.evaluate(g, task_seed(gen_seed, i as u64)))
                                    .collect()
                            }))
                        })?;
                    }
                }
                peak = peak.max(par_core::budget::live_threads().unwrap_or(0));
            }
            best_sum += evo.state().best_fitness.unwrap_or(f64::MIN);
            match &evo.state().solution {
                Some(sol) => {
                    solved += 1;
                    evals.push(sol.evaluations);
                }
                None => evals.push(u64::MAX),
            }
        }
        evals.sort_unstable();
        let median = evals[evals.len() / 2];
        let record = TrialRecord {
            index,
            key: c.key(),
            optimiser,
            solved,
            runs: c.seeds,
            median_evals: (median != u64::MAX && 2 * solved > c.seeds).then_some(median),
            mean_best: best_sum / c.seeds as f64,
            seconds: start.elapsed().as_secs_f64(),
            peak_threads: peak,
            budgeted: self.budgeted,
        };
        if let Some(path) = &self.results {
            // An appender: a worker never mends the file while others append (search() mended
            // a torn line before any trial started).
            Journal::appender(path)
                .append(&record)
                .map_err(|e| NeuroError::io(path, e))?;
        }
        Ok(record)
    }
}

impl Job for TrialJob {
    type Output = Result<TrialRecord, String>;
    fn run(&self, ctx: &mut TaskContext) -> Self::Output {
        self.run_trial(self.todo[ctx.index])
            .map_err(|e| e.to_string())
    }
}

impl RemoteJob for TrialJob {
    const NAME: &'static str = "neuroevo.hyper.trial";
}

/// What [`search`] returns.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// Every trial of the search that has a record, by index.
    pub records: Vec<TrialRecord>,
    /// Records read back from the results file.
    pub resumed: usize,
    /// Trials run now.
    pub computed: usize,
    /// Trials that failed now (index and message); they run again on the next resume.
    pub failed: Vec<(usize, String)>,
    /// The executor's report of the trials run now.
    pub report: Option<RunReport>,
}

/// Reads the records of `config` from `path` (torn and foreign lines skipped).
pub fn read_records(path: &Path, config: &HyperConfig) -> Result<Vec<TrialRecord>, NeuroError> {
    let key = config.key();
    let read = Journal::read::<TrialRecord>(path).map_err(|e| NeuroError::io(path, e))?;
    let mut out: Vec<TrialRecord> = read
        .last_by_key(|r| (r.key.clone(), r.index))
        .into_iter()
        .filter(|r| r.key == key && r.index < config.trials)
        .collect();
    out.sort_by_key(|r| r.index);
    Ok(out)
}

/// Runs the trials of `config` that `results` does not hold yet on `exec` (any mode; in
/// `Processes` mode the binary must serve [`TrialJob`]), appending each as it finishes.
pub fn search(
    config: &HyperConfig,
    exec: &Executor,
    results: Option<&Path>,
    budgeted: bool,
) -> Result<SearchOutcome, NeuroError> {
    config.validate()?;
    let done = match results {
        Some(p) => {
            // Opening the journal ends a line torn by a kill, so that the next record starts
            // a line of its own.
            Journal::open::<serde_json::Value>(p).map_err(|e| NeuroError::io(p, e))?;
            read_records(p, config)?
        }
        None => Vec::new(),
    };
    let resumed = done.len();
    let todo: Vec<usize> = (0..config.trials)
        .filter(|i| !done.iter().any(|r| r.index == *i))
        .collect();
    let mut records = done;
    let mut failed = Vec::new();
    let mut report = None;
    let computed = todo.len();
    if !todo.is_empty() {
        let job = TrialJob {
            config: config.clone(),
            todo: todo.clone(),
            budgeted,
            results: results.map(Path::to_path_buf),
        };
        let out = exec.run(&job, todo.len())?;
        for (i, r) in out.results.into_iter().enumerate() {
            match r {
                Ok(Ok(rec)) => records.push(rec),
                Ok(Err(msg)) => failed.push((todo[i], msg)),
                Err(f) => failed.push((todo[i], f.to_string())),
            }
        }
        report = Some(out.report);
    }
    records.sort_by_key(|r| r.index);
    Ok(SearchOutcome {
        records,
        resumed,
        computed,
        failed,
        report,
    })
}
