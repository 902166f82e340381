//! The run loop: ask, evaluate through par-core, tell, record; budgets, solutions and
//! checkpoints. The optimisers state *what* to try ([`crate::optimiser::AskTell`]); this module
//! owns *how long* and *where*.
//!
//! # Determinism
//!
//! Generation `g` asks with the generator `task_rng(ask seed, g)` and tells with
//! `task_rng(tell seed, g)` (both derived from the run seed), and individual `i` of generation
//! `g` is evaluated with the seed `task_seed(generation seed, i)`. The evaluations of a
//! generation run as par-core tasks of `chunk` individuals each and come back in index order.
//! So a run's history, best genome and evaluation counts are **bit-identical for any worker
//! count, any chunk size and any execution mode**, and a run resumed from a checkpoint (which
//! holds the optimiser's whole state and no generator) continues exactly as if never stopped.
//!
//! # Counting evaluations
//!
//! Every genome an optimiser asks for is one evaluation (elites and unchanged CoSyNE rows are
//! not re-evaluated). A run that is solved inside a generation counts the evaluations up to and
//! including the first solving individual in index order, as a sequential run would; a
//! non-Markov solution, found by verifying the generation's best candidate after the whole
//! generation, counts the whole generation. Verification episodes (the 100,000-step test and
//! the 625 generalisation starts) are not counted, as in the literature.
//!
//! # Choosing the chunk size
//!
//! One task per individual balances best when evaluation times vary (pole balancing: a failed
//! controller takes microseconds, a solution 100,000 steps), and per-task overhead in threads
//! mode is about a microsecond (par-core's bench), far below any evaluation here. The bench
//! scenario measures both on the creature population; the default is one per task
//! ([`DEFAULT_CHUNK`]).

use serde::{Deserialize, Serialize};

use std::sync::OnceLock;

use par_core::seed::{splitmix64, task_rng, task_seed};
use par_core::{Executor, Job, RemoteJob, RunReport, TaskContext};

use crate::NeuroError;
use crate::optimiser::{AskTell, Optimiser, OptimiserConfig};
use crate::task::{Evaluation, Task, TaskConfig};

/// Individuals per par-core task by default (see the module docs).
pub const DEFAULT_CHUNK: usize = 1;

/// Settings of a run beside the optimiser's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Run seed. Default: 0.
    pub seed: u64,
    /// Stop after the generation in which this many evaluations were reached. Default: 100,000.
    pub max_evals: u64,
    /// Individuals per par-core task. Default: [`DEFAULT_CHUNK`].
    pub chunk: usize,
    /// Stop at the first solution. Default: true.
    pub stop_when_solved: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            max_evals: 100_000,
            chunk: DEFAULT_CHUNK,
            stop_when_solved: true,
        }
    }
}

impl RunConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), NeuroError> {
        if self.max_evals == 0 {
            return Err(NeuroError::field(
                "run.max_evals",
                "must be at least 1, got 0",
            ));
        }
        crate::error::count_in("run.chunk", self.chunk, 1, 1 << 20)?;
        Ok(())
    }
}

/// A solution of the task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Solution {
    /// Generation in which it was found (0-based).
    pub generation: u64,
    /// Evaluations spent up to it (see the module docs).
    pub evaluations: u64,
    /// Its genome.
    pub genome: Vec<f64>,
    /// Its fitness.
    pub fitness: f64,
    /// Start states balanced of the 625 (non-Markov double pole).
    pub generalisation: Option<u32>,
}

/// What a run has done so far (everything a checkpoint needs beside the optimiser).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Generations completed.
    pub generation: u64,
    /// Evaluations spent.
    pub evaluations: u64,
    /// Best genome evaluated so far.
    pub best_genome: Vec<f64>,
    /// Its fitness (`None` before the first generation).
    pub best_fitness: Option<f64>,
    /// The first solution, once found.
    pub solution: Option<Solution>,
    /// Candidates verified (non-Markov double pole), and the generalisation score of the last.
    pub verified: u64,
    /// Generalisation of the last verified candidate that passed the long test.
    pub last_generalisation: Option<u32>,
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Neither solved nor out of budget.
    Running,
    /// A solution was found (and the run stops at solutions).
    Solved,
    /// The evaluation budget is spent.
    BudgetSpent,
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationRecord {
    /// Generation (0-based).
    pub generation: u64,
    /// Evaluations spent after it.
    pub evaluations: u64,
    /// Best fitness of the generation's evaluations.
    pub best: f64,
    /// Mean fitness of the generation's evaluations.
    pub mean: f64,
    /// Diversity: the mean over genes of the population's standard deviation.
    pub diversity: f64,
    /// Best fitness so far.
    pub best_so_far: f64,
}

impl GenerationRecord {
    /// The CSV header of [`GenerationRecord::csv`].
    pub const CSV_HEADER: &'static str = "generation,evaluations,best,mean,diversity,best_so_far";

    /// One CSV line (shortest round-trip formatting of the floats).
    pub fn csv(&self) -> String {
        format!(
            "{},{},{},{},{},{}",
            self.generation,
            self.evaluations,
            self.best,
            self.mean,
            self.diversity,
            self.best_so_far
        )
    }
}

/// Everything needed to continue a run exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Run settings.
    pub run: RunConfig,
    /// The optimiser's configuration.
    pub optimiser_config: OptimiserConfig,
    /// The optimiser's whole state.
    pub optimiser: Optimiser,
    /// Progress.
    pub state: RunState,
}

/// An evolutionary run of one optimiser on one task.
pub struct Evolution<'t> {
    task: &'t dyn Task,
    run: RunConfig,
    optimiser_config: OptimiserConfig,
    optimiser: Optimiser,
    state: RunState,
    last_report: Option<RunReport>,
    remote: Option<TaskConfig>,
}

impl std::fmt::Debug for Evolution<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evolution")
            .field("task", &self.task.kind())
            .field("run", &self.run)
            .field("state.generation", &self.state.generation)
            .finish_non_exhaustive()
    }
}

const ASK_SALT: u64 = 0x6173_6b00;
const TELL_SALT: u64 = 0x7465_6c6c;
const EVAL_SALT: u64 = 0x6576_616c;

/// Sanitises a fitness: NaN and -inf become the lowest finite value, +inf the highest (so
/// checkpoints, which are JSON, stay exact).
fn finite_fitness(f: f64) -> f64 {
    if f.is_nan() || f == f64::NEG_INFINITY {
        f64::MIN
    } else if f == f64::INFINITY {
        f64::MAX
    } else {
        f
    }
}

impl<'t> Evolution<'t> {
    /// A fresh run of the optimiser configured by `optimiser` on `task`.
    pub fn new(
        task: &'t dyn Task,
        optimiser: OptimiserConfig,
        run: RunConfig,
    ) -> Result<Self, NeuroError> {
        run.validate()?;
        let opt = optimiser.build(task.genome_len(), task.init_range())?;
        Ok(Self {
            task,
            run,
            optimiser_config: optimiser,
            optimiser: opt,
            state: RunState {
                generation: 0,
                evaluations: 0,
                best_genome: Vec::new(),
                best_fitness: None,
                solution: None,
                verified: 0,
                last_generalisation: None,
            },
            last_report: None,
            remote: None,
        })
    }

    /// A run continued from `checkpoint`.
    pub fn resume(task: &'t dyn Task, checkpoint: Checkpoint) -> Result<Self, NeuroError> {
        checkpoint.run.validate()?;
        if checkpoint.optimiser.dim() != task.genome_len() {
            return Err(NeuroError::GenomeLength {
                expected: task.genome_len(),
                got: checkpoint.optimiser.dim(),
            });
        }
        Ok(Self {
            task,
            run: checkpoint.run,
            optimiser_config: checkpoint.optimiser_config,
            optimiser: checkpoint.optimiser,
            state: checkpoint.state,
            last_report: None,
            remote: None,
        })
    }

    /// The state to save for [`Evolution::resume`].
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            run: self.run.clone(),
            optimiser_config: self.optimiser_config.clone(),
            optimiser: self.optimiser.clone(),
            state: self.state.clone(),
        }
    }

    /// Progress so far.
    pub fn state(&self) -> &RunState {
        &self.state
    }

    /// Run settings.
    pub fn run_config(&self) -> &RunConfig {
        &self.run
    }

    /// The optimiser.
    pub fn optimiser(&self) -> &Optimiser {
        &self.optimiser
    }

    /// The optimiser, mutably (for migration).
    pub fn optimiser_mut(&mut self) -> &mut Optimiser {
        &mut self.optimiser
    }

    /// The task.
    pub fn task(&self) -> &'t dyn Task {
        self.task
    }

    /// The par-core report of the last generation's evaluation.
    pub fn last_report(&self) -> Option<&RunReport> {
        self.last_report.as_ref()
    }

    /// Where the run stands.
    pub fn status(&self) -> Status {
        if self.state.solution.is_some() && self.run.stop_when_solved {
            Status::Solved
        } else if self.state.evaluations >= self.run.max_evals {
            Status::BudgetSpent
        } else {
            Status::Running
        }
    }

    /// A generator for migration at `epoch` on island `island` (shared by every transport).
    pub fn migration_rng(&self, epoch: u64, island: usize) -> par_core::TaskRng {
        task_rng(splitmix64(self.run.seed ^ 0x6d69_6772) ^ epoch, island)
    }

    /// Evaluates `genomes` (row-major) on `exec`; results in index order.
    pub fn evaluate(
        task: &dyn Task,
        exec: &Executor,
        genomes: &[f64],
        chunk: usize,
        generation_seed: u64,
    ) -> Result<(Vec<Evaluation>, RunReport), NeuroError> {
        let d = task.genome_len();
        let n = genomes.len() / d;
        let chunk = chunk.max(1);
        let n_tasks = n.div_ceil(chunk);
        let out = exec.map(n_tasks, |ctx| {
            let lo = ctx.index * chunk;
            let hi = (lo + chunk).min(n);
            (lo..hi)
                .map(|i| {
                    task.evaluate(
                        &genomes[i * d..(i + 1) * d],
                        task_seed(generation_seed, i as u64),
                    )
                })
                .collect::<Vec<_>>()
        })?;
        let report = out.report.clone();
        let evals = out.into_values()?.into_iter().flatten().collect();
        Ok((evals, report))
    }

    /// Evaluates generations as a [`GenerationJob`] of `task` (the configuration this run's
    /// task was built from), so that an executor in `Processes` mode can run them in worker
    /// processes (which must serve [`GenerationJob`]); `None` evaluates in-process closures.
    /// The results are the same either way.
    pub fn evaluate_remotely(&mut self, task: Option<TaskConfig>) {
        self.remote = task;
    }

    /// Runs one generation, evaluating through `exec`.
    pub fn step(&mut self, exec: &Executor) -> Result<GenerationRecord, NeuroError> {
        let (task, chunk) = (self.task, self.run.chunk);
        let remote = self.remote.clone();
        let mut report = None;
        let rec = self.step_with(|genomes, gen_seed| {
            let (evals, r) = match remote {
                None => Self::evaluate(task, exec, genomes, chunk, gen_seed)?,
                Some(config) => {
                    let job = GenerationJob {
                        task: config,
                        genomes: genomes.to_vec(),
                        chunk,
                        generation_seed: gen_seed,
                        built: OnceLock::new(),
                    };
                    let n_tasks = (genomes.len() / task.genome_len()).div_ceil(chunk.max(1));
                    let out = exec.run(&job, n_tasks)?;
                    let report = out.report.clone();
                    let mut evals = Vec::with_capacity(genomes.len() / task.genome_len());
                    for r in out.into_values()? {
                        evals.extend(r.map_err(|e| NeuroError::field("task", e))?);
                    }
                    (evals, report)
                }
            };
            report = Some(r);
            Ok(evals)
        })?;
        self.last_report = report;
        Ok(rec)
    }

    /// Runs one generation with a caller-supplied evaluator: `evaluate(genomes, generation
    /// seed)` must return [`Task::evaluate`] of each genome (row-major), individual `i` with
    /// the seed `task_seed(generation seed, i)`, in order. (The hyperparameter search uses it
    /// to evaluate on a thread pool of its own when it demonstrates running without a budget.)
    pub fn step_with(
        &mut self,
        evaluate: impl FnOnce(&[f64], u64) -> Result<Vec<Evaluation>, NeuroError>,
    ) -> Result<GenerationRecord, NeuroError> {
        let g = self.state.generation;
        let seed = self.run.seed;
        let mut ask_rng = task_rng(splitmix64(seed ^ ASK_SALT), g as usize);
        let batch = self.optimiser.ask(&mut ask_rng).to_vec();
        let d = self.task.genome_len();
        let n = batch.len() / d;
        let gen_seed = task_seed(splitmix64(seed ^ EVAL_SALT), g);
        let evals = evaluate(&batch, gen_seed)?;
        if evals.len() != n {
            return Err(NeuroError::FitnessCount {
                expected: n,
                got: evals.len(),
            });
        }
        let fitness: Vec<f64> = evals.iter().map(|e| finite_fitness(e.fitness)).collect();
        let before = self.state.evaluations;
        self.state.evaluations += n as u64;
        let best_i = crate::optimiser::ranking(&fitness).first().copied();
        if self.state.solution.is_none() {
            if let Some(i) = evals.iter().position(|e| e.solved) {
                self.state.solution = Some(Solution {
                    generation: g,
                    evaluations: before + i as u64 + 1,
                    genome: batch[i * d..(i + 1) * d].to_vec(),
                    fitness: fitness[i],
                    generalisation: None,
                });
            } else if let Some(c) = (0..n)
                .filter(|&i| evals[i].candidate)
                .max_by(|&a, &b| fitness[a].total_cmp(&fitness[b]).then(b.cmp(&a)))
            {
                let genome = &batch[c * d..(c + 1) * d];
                if let Some(v) = self.task.verify(genome) {
                    self.state.verified += 1;
                    if v.generalisation.is_some() {
                        self.state.last_generalisation = v.generalisation;
                    }
                    if v.solved {
                        self.state.solution = Some(Solution {
                            generation: g,
                            evaluations: self.state.evaluations,
                            genome: genome.to_vec(),
                            fitness: fitness[c],
                            generalisation: v.generalisation,
                        });
                    }
                }
            }
        }
        let mut tell_rng = task_rng(splitmix64(seed ^ TELL_SALT), g as usize);
        self.optimiser.tell(&fitness, &mut tell_rng)?;
        let (best, mean) = match best_i {
            Some(i) => (fitness[i], fitness.iter().sum::<f64>() / n as f64),
            None => (f64::MIN, f64::MIN),
        };
        if let Some(i) = best_i
            && self.state.best_fitness.is_none_or(|b| fitness[i] > b)
        {
            self.state.best_fitness = Some(fitness[i]);
            self.state.best_genome = batch[i * d..(i + 1) * d].to_vec();
        }
        self.state.generation += 1;
        Ok(GenerationRecord {
            generation: g,
            evaluations: self.state.evaluations,
            best,
            mean,
            diversity: diversity(self.optimiser.population().0, d),
            best_so_far: self.state.best_fitness.unwrap_or(best),
        })
    }

    /// Runs generations until solved or out of budget, calling `observe` after each.
    pub fn run<E>(
        &mut self,
        exec: &Executor,
        mut observe: impl FnMut(&Self, &GenerationRecord) -> Result<(), E>,
    ) -> Result<Status, E>
    where
        E: From<NeuroError>,
    {
        while self.status() == Status::Running {
            let rec = self.step(exec)?;
            observe(self, &rec)?;
        }
        Ok(self.status())
    }
}

/// One generation's evaluations as a par-core job that can travel to worker processes: task
/// `t` evaluates individuals `t * chunk ..` of `genomes` exactly as
/// [`Evolution::evaluate`] does (same seeds, same order).
#[derive(Serialize, Deserialize)]
pub struct GenerationJob {
    /// The task, rebuilt in each worker.
    pub task: TaskConfig,
    /// The genomes, row-major.
    pub genomes: Vec<f64>,
    /// Individuals per task.
    pub chunk: usize,
    /// The generation's evaluation seed.
    pub generation_seed: u64,
    #[serde(skip)]
    built: OnceLock<Result<Box<dyn Task>, String>>,
}

impl std::fmt::Debug for GenerationJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenerationJob")
            .field("task", &self.task)
            .field("genomes", &self.genomes.len())
            .field("chunk", &self.chunk)
            .finish_non_exhaustive()
    }
}

impl Job for GenerationJob {
    type Output = Result<Vec<Evaluation>, String>;
    fn run(&self, ctx: &mut TaskContext) -> Self::Output {
        let task = self
            .built
            .get_or_init(|| self.task.build().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)?;
        let d = task.genome_len();
        let n = self.genomes.len() / d;
        let chunk = self.chunk.max(1);
        let lo = ctx.index * chunk;
        let hi = (lo + chunk).min(n);
        Ok((lo..hi)
            .map(|i| {
                task.evaluate(
                    &self.genomes[i * d..(i + 1) * d],
                    task_seed(self.generation_seed, i as u64),
                )
            })
            .collect())
    }
}

impl RemoteJob for GenerationJob {
    const NAME: &'static str = "neuroevo.generation";
}

/// Mean over genes of the population's standard deviation (0 for fewer than two genomes).
pub fn diversity(genomes: &[f64], dim: usize) -> f64 {
    let n = genomes.len() / dim.max(1);
    if n < 2 {
        return 0.0;
    }
    let mut total = 0.0;
    for j in 0..dim {
        let mean = (0..n).map(|i| genomes[i * dim + j]).sum::<f64>() / n as f64;
        let var = (0..n)
            .map(|i| (genomes[i * dim + j] - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        total += var.sqrt();
    }
    total / dim as f64
}
