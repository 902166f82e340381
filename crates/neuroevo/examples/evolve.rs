//! Evolve a controller (or a point of a benchmark function) with a GA, CoSyNE or CMA-ES, alone,
//! as in-process islands, or as one island of a multi-process run that migrates through a
//! shared folder. A killed run resumes when run again with the same options. A generation is
//! evaluated by par-core in the mode `--mode` asks (threads by default; `processes` sends it to
//! worker processes of this program); the results are the same in every mode and for any
//! `--workers`.
//!
//! ```text
//! cargo run -p neuroevo --release --example evolve -- --task double-pole-markov \
//!     --optimiser cmaes --seed 1 --out target/evolve/dpm
//! # four islands in one process
//! cargo run -p neuroevo --release --example evolve -- --task rastrigin --optimiser ga \
//!     --islands 4 --migrate-every 10 --migrants 5 --out target/evolve/ras
//! # island 0 of 4 separate processes (start the other three with --island 1, 2, 3)
//! cargo run -p neuroevo --release --example evolve -- --task rastrigin --optimiser ga \
//!     --island 0 --islands 4 --migration-dir target/evolve/mig --out target/evolve/island0
//! ```

mod support;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use neuroevo::evolution::{Checkpoint, Evolution, GenerationRecord, RunConfig, Status};
use neuroevo::files;
use neuroevo::islands::{
    Archipelago, ArchipelagoCheckpoint, DirectoryTransport, EmigrantPolicy, IslandEvent,
    IslandProgress, IslandsConfig, MigrationConfig, Topology, island_seed, run_island,
};
use neuroevo::optimiser::{OptimiserConfig, OptimiserKind, ReplacePolicy};
use neuroevo::task::{TaskConfig, TaskKind};
use par_core::{ExecConfig, Executor, Progress};

use par_cli::numbers::{count_in, seconds, seed as seed_arg};
use par_cli::output_files::{check_writable_dir, write_atomic, write_json};
use par_cli::{ExecArgs, ModeArg, RunRecord, main_with};
use support::{Line, out};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OptArg {
    Ga,
    Cosyne,
    Cmaes,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TopologyArg {
    Ring,
    Random,
    Complete,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PolicyArg {
    Best,
    Random,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ReplaceArg {
    Worst,
    Random,
}

const AFTER_HELP: &str = "\
Files written in --out DIR:
  history.csv       one line per generation (island, generation, evaluations, best, mean,
                    diversity, best_so_far), appended as the run goes
  fitness.svg       best fitness so far against evaluations, one line per island
  best_genome.json  the best genome so far (task, network, fitness, genome)
  summary.json      task, optimiser, seed, solved, evaluations, best_fitness, generalisation,
                    status, the full resolved configuration, tool version and git commit,
                    command line, machine and timings
  checkpoint.json   everything needed to resume; run the same command again to continue
All are written atomically (temporary file + rename) or appended line by line.

--config FILE holds the chosen optimiser's settings as a JSON object (unknown fields are
errors), for example {\"population\": 50, \"mutation_scale\": 0.5} for the GA. Fields:
  ga:     population, selection ({\"tournament\": {\"size\": 3}} | {\"rank\": {\"pressure\": 1.8}} |
          {\"truncation\": {\"fraction\": 0.3}}), crossover (\"none\" | {\"sbx\": {\"eta\": 2}} |
          {\"blend\": {\"alpha\": 0.3}}), crossover_rate, mutation_rate, mutation_scale, elites
  cosyne: population, elite_fraction, offspring, mutation_rate, mutation_scale
  cmaes:  population (lambda), sigma_fraction, covariance (\"full\" | \"separable\"), random_mean
Without --config the settings tuned for the task are used (see OptimiserKind::default_for).
--task-config FILE holds task settings: {\"dim\": 30, \"target\": 1.0, \"rotation_seed\": 1,
\"network\": {\"hidden\": [8], \"recurrent\": false}}.";

/// Evolve a controller or a benchmark-function point; resumable, with islands.
#[derive(Parser, Debug)]
#[command(version, about, after_help = AFTER_HELP, allow_negative_numbers = true)]
struct Args {
    /// Task: cart-pole, double-pole-markov, double-pole-nonmarkov, creature, rastrigin,
    /// rastrigin-rotated, rosenbrock, ackley, schwefel.
    #[arg(long, value_parser = |s: &str| s.parse::<TaskKind>())]
    task: TaskKind,
    /// Optimiser.
    #[arg(long, value_enum)]
    optimiser: OptArg,
    /// Run seed.
    #[arg(long, default_value_t = 0, value_parser = seed_arg)]
    seed: u64,
    /// Evaluation budget (over all islands); default: 20,000 for the Markov poles, 100,000 for
    /// the non-Markov double pole and the functions, 20,000 for the creature.
    #[arg(long, value_parser = count_in(1, 1_000_000_000_000))]
    max_evals: Option<usize>,
    /// How a generation is evaluated: seq, threads, processes (worker processes of this program)
    /// or auto; in-process islands run as threads. Results are identical in every mode.
    #[command(flatten)]
    exec: ExecArgs,
    /// Individuals per par-core task.
    #[arg(long, default_value_t = neuroevo::evolution::DEFAULT_CHUNK, value_parser = count_in(1, 1 << 20))]
    chunk: usize,
    /// Dimension of a function task (shortcut for --task-config's dim).
    #[arg(long, value_parser = count_in(1, neuroevo::task::MAX_DIM))]
    dim: Option<usize>,
    /// Optimiser settings (JSON object, see below).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Task settings (JSON object, see below).
    #[arg(long, value_name = "FILE")]
    task_config: Option<PathBuf>,
    /// Number of islands (1: a single population).
    #[arg(long, default_value_t = 1, value_parser = count_in(1, neuroevo::islands::MAX_ISLANDS))]
    islands: usize,
    /// Run only island I of --islands as this process, migrating through --migration-dir.
    #[arg(long, value_name = "I", requires = "migration_dir")]
    island: Option<usize>,
    /// Folder shared by the island processes.
    #[arg(long, value_name = "DIR", requires = "island")]
    migration_dir: Option<PathBuf>,
    /// Generations between migrations.
    #[arg(long, default_value_t = 10, value_parser = count_in(1, 1_000_000))]
    migrate_every: usize,
    /// Migrants sent to each neighbour (0: islands evolve apart).
    #[arg(long, default_value_t = 5, value_parser = count_in(0, 1_000_000))]
    migrants: usize,
    /// Who sends to whom.
    #[arg(long, value_enum, default_value_t = TopologyArg::Ring)]
    topology: TopologyArg,
    /// Which individuals emigrate.
    #[arg(long, value_enum, default_value_t = PolicyArg::Best)]
    emigrants: PolicyArg,
    /// Which individuals immigrants replace.
    #[arg(long, value_enum, default_value_t = ReplaceArg::Worst)]
    replace: ReplaceArg,
    /// Seconds an island process waits for a neighbour's migrants or status before skipping it.
    #[arg(long, default_value_t = 600.0, value_parser = seconds)]
    migration_timeout: f64,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Discard a run already in --out instead of resuming it.
    #[arg(long)]
    fresh: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Everything that decides a run's results (the worker count does not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Resolved {
    task: TaskConfig,
    optimiser: OptimiserConfig,
    run: RunConfig,
    islands: Option<IslandsConfig>,
    island: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Saved {
    Single(Checkpoint),
    Archipelago(ArchipelagoCheckpoint),
    Island {
        run: Checkpoint,
        progress: IslandProgress,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CliCheckpoint {
    resolved: Resolved,
    history_lines: u64,
    seconds: f64,
    saved: Saved,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskFile {
    #[serde(default)]
    dim: Option<usize>,
    #[serde(default)]
    network: Option<neuroevo::network::NetworkConfig>,
    #[serde(default)]
    target: Option<f64>,
    #[serde(default)]
    rotation_seed: Option<u64>,
}

fn main() -> ExitCode {
    par_core::process::serve_if_worker(
        &par_core::process::Registry::new().with::<neuroevo::evolution::GenerationJob>(),
    );
    main_with(run)
}

fn resolve(a: &Args) -> anyhow::Result<Resolved> {
    let mut task = TaskConfig::new(a.task);
    if let Some(p) = &a.task_config {
        let f: TaskFile = par_cli::config_file::read_object(p)?;
        if let Some(d) = f.dim {
            task.dim = d;
        }
        task.network = f.network;
        task.target = f.target;
        if let Some(s) = f.rotation_seed {
            task.rotation_seed = s;
        }
    }
    if let Some(d) = a.dim {
        task.dim = d;
    }
    if task.network.is_none() && a.task.uses_network() {
        task.network = Some(a.task.default_network());
    }
    let kind = match a.optimiser {
        OptArg::Ga => OptimiserKind::Ga,
        OptArg::Cosyne => OptimiserKind::Cosyne,
        OptArg::Cmaes => OptimiserKind::Cmaes,
    };
    let optimiser = match &a.config {
        None => kind.default_for(a.task),
        Some(p) => match kind {
            OptimiserKind::Ga => OptimiserConfig::Ga(par_cli::config_file::read_object(p)?),
            OptimiserKind::Cosyne => OptimiserConfig::Cosyne(par_cli::config_file::read_object(p)?),
            OptimiserKind::Cmaes => OptimiserConfig::Cmaes(par_cli::config_file::read_object(p)?),
        },
    };
    let max_evals = a.max_evals.map(|m| m as u64).unwrap_or(match a.task {
        TaskKind::CartPole | TaskKind::DoublePoleMarkov | TaskKind::Creature => 20_000,
        _ => 100_000,
    });
    let islands = (a.islands > 1).then_some(IslandsConfig {
        islands: a.islands,
        migration: MigrationConfig {
            every: a.migrate_every as u64,
            migrants: a.migrants,
            topology: match a.topology {
                TopologyArg::Ring => Topology::Ring,
                TopologyArg::Random => Topology::Random,
                TopologyArg::Complete => Topology::Complete,
            },
            emigrants: match a.emigrants {
                PolicyArg::Best => EmigrantPolicy::Best,
                PolicyArg::Random => EmigrantPolicy::Random,
            },
            replace: match a.replace {
                ReplaceArg::Worst => ReplacePolicy::Worst,
                ReplaceArg::Random => ReplacePolicy::Random,
            },
        },
    });
    if let Some(i) = a.island {
        if a.islands < 2 {
            bail!("--island needs --islands of at least 2, got {}", a.islands);
        }
        if i >= a.islands {
            bail!(
                "--island {i} is out of range: must be below --islands {}",
                a.islands
            );
        }
    }
    let r = Resolved {
        task,
        optimiser,
        run: RunConfig {
            seed: a.seed,
            max_evals,
            chunk: a.chunk,
            stop_when_solved: true,
        },
        islands,
        island: a.island,
    };
    // Validate everything before any work.
    let t = r.task.build()?;
    r.run.validate()?;
    r.optimiser.build(t.genome_len(), t.init_range())?;
    if let Some(i) = &r.islands {
        i.migration.validate()?;
    }
    Ok(r)
}

/// The run's files in --out.
struct RunFiles {
    dir: PathBuf,
}

impl RunFiles {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn record(&self, island: usize, rec: &GenerationRecord) -> anyhow::Result<()> {
        files::append_line(
            &self.path("history.csv"),
            &format!("{island},{}", rec.csv()),
        )?;
        Ok(())
    }
}

struct Bar(ProgressBar);

impl Bar {
    fn new(quiet: bool, total: u64) -> Self {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        if let Ok(style) =
            ProgressStyle::with_template("{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} evals")
        {
            bar.set_style(style);
        }
        Self(bar)
    }
    fn update(&self, evals: u64, gen_: u64, best: f64) {
        self.0.set_position(evals);
        self.0.set_message(format!("gen {gen_} best {best:.6}"));
    }
}

fn run() -> anyhow::Result<()> {
    let a = Args::parse();
    let mut record = RunRecord::start(
        "neuroevo evolve",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_MANIFEST_DIR"),
    );
    let resolved = resolve(&a)?;
    check_writable_dir(&a.out).with_context(|| format!("--out {}", a.out.display()))?;
    record.set_config(&resolved);
    record.seed = Some(resolved.run.seed);
    for p in a.config.iter().chain(&a.task_config) {
        record.add_input(p)?;
    }
    let rf = RunFiles { dir: a.out.clone() };
    let task = resolved.task.build()?;
    let workers = a.exec.worker_count();
    let processes = a.exec.mode == ModeArg::Processes;
    if processes && resolved.islands.is_some() && resolved.island.is_none() {
        bail!(
            "--mode processes evaluates one population's generations in worker processes; \
             islands in one process run as threads (--mode threads), or run each island as a \
             process of its own with --island I --migration-dir DIR"
        );
    }
    let exec = Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..a.exec.exec_config(resolved.run.seed)
    })?;
    // In processes mode generations travel to the workers as a job that rebuilds the task.
    let remote = processes.then(|| resolved.task.clone());
    let mut transport = match (&a.migration_dir, a.island) {
        (Some(d), Some(_)) => Some(
            DirectoryTransport::new(d, Duration::from_secs_f64(a.migration_timeout))
                .with_context(|| format!("--migration-dir {}", d.display()))?,
        ),
        _ => None,
    };

    // Resume or start.
    let cp_path = rf.path("checkpoint.json");
    let previous: Option<CliCheckpoint> = if cp_path.exists() && !a.fresh {
        let cp: CliCheckpoint = files::read_json(&cp_path).with_context(|| {
            format!(
                "{} cannot be resumed (use --fresh to start over)",
                cp_path.display()
            )
        })?;
        if cp.resolved != resolved {
            bail!(
                "{} holds a run with other settings:\n  saved: {}\n  asked: {}\nrun with the same options to resume, or --fresh to start over",
                rf.dir.display(),
                serde_json::to_string(&cp.resolved)?,
                serde_json::to_string(&resolved)?
            );
        }
        Some(cp)
    } else {
        None
    };
    let (history_lines, seconds_before) = match &previous {
        Some(cp) => {
            files::truncate_lines(&rf.path("history.csv"), 1 + cp.history_lines as usize)
                .context("history.csv does not match the checkpoint")?;
            eprintln!(
                "resuming {} at {} history lines",
                rf.dir.display(),
                cp.history_lines
            );
            (cp.history_lines, cp.seconds)
        }
        None => {
            write_atomic(
                &rf.path("history.csv"),
                format!("island,{}\n", GenerationRecord::CSV_HEADER).as_bytes(),
            )?;
            for stale in ["summary.json", "best_genome.json", "fitness.svg"] {
                let _ = std::fs::remove_file(rf.path(stale));
            }
            (0, 0.0)
        }
    };
    let start = Instant::now();
    let mut lines = history_lines;
    let bar = Bar::new(a.quiet, resolved.run.max_evals);
    let save = |saved: Saved, lines: u64| -> anyhow::Result<()> {
        let cp = CliCheckpoint {
            resolved: resolved.clone(),
            history_lines: lines,
            seconds: seconds_before + start.elapsed().as_secs_f64(),
            saved,
        };
        write_json(&cp_path, &cp)?;
        Ok(())
    };
    let save_best = |genome: &[f64], fitness: Option<f64>| -> anyhow::Result<()> {
        write_json(
            &rf.path("best_genome.json"),
            &serde_json::json!({
                "task": resolved.task.task,
                "network": resolved.task.network,
                "fitness": fitness,
                "genome": genome,
            }),
        )?;
        Ok(())
    };

    let outcome: Outcome = match (&resolved.islands, resolved.island) {
        (None, _) => {
            let mut evo = match previous.map(|p| p.saved) {
                Some(Saved::Single(cp)) => Evolution::resume(task.as_ref(), cp)?,
                Some(_) => bail!("{} holds another kind of run", cp_path.display()),
                None => Evolution::new(
                    task.as_ref(),
                    resolved.optimiser.clone(),
                    resolved.run.clone(),
                )?,
            };
            evo.evaluate_remotely(remote.clone());
            let mut best_seen = evo.state().best_fitness;
            evo.run::<anyhow::Error>(&exec, |e, rec| {
                rf.record(0, rec)?;
                lines += 1;
                if e.state().best_fitness != best_seen {
                    best_seen = e.state().best_fitness;
                    save_best(&e.state().best_genome, best_seen)?;
                }
                save(Saved::Single(e.checkpoint()), lines)?;
                bar.update(rec.evaluations, rec.generation, rec.best_so_far);
                Ok(())
            })?;
            save_best(&evo.state().best_genome, evo.state().best_fitness)?;
            Outcome::from_runs(&[evo.checkpoint()], evo.status())
        }
        (Some(ic), None) => {
            let mut arch = match previous.map(|p| p.saved) {
                Some(Saved::Archipelago(cp)) => Archipelago::resume(task.as_ref(), cp)?,
                Some(_) => bail!("{} holds another kind of run", cp_path.display()),
                None => Archipelago::new(
                    task.as_ref(),
                    &resolved.optimiser,
                    &resolved.run,
                    ic.clone(),
                )?,
            };
            while !arch.finished() {
                for (i, rec) in arch.step_epoch(&exec)? {
                    rf.record(i, &rec)?;
                    lines += 1;
                }
                let cp = arch.checkpoint();
                save(Saved::Archipelago(cp.clone()), lines)?;
                let best = cp.islands.iter().max_by(|x, y| {
                    x.state
                        .best_fitness
                        .unwrap_or(f64::MIN)
                        .total_cmp(&y.state.best_fitness.unwrap_or(f64::MIN))
                });
                if let Some(b) = best {
                    save_best(&b.state.best_genome, b.state.best_fitness)?;
                }
                bar.update(
                    arch.evaluations(),
                    arch.epoch() * ic.migration.every,
                    arch.best_fitness().unwrap_or(f64::NAN),
                );
            }
            let cp = arch.checkpoint();
            let status = if cp.solved {
                Status::Solved
            } else {
                Status::BudgetSpent
            };
            Outcome::from_runs(&cp.islands, status)
        }
        (Some(ic), Some(island)) => {
            let n = ic.islands;
            let transport = transport
                .as_mut()
                .expect("checked: --island requires --migration-dir");
            let (mut evo, mut progress) = match previous.map(|p| p.saved) {
                Some(Saved::Island { run, progress }) => {
                    (Evolution::resume(task.as_ref(), run)?, progress)
                }
                Some(_) => bail!("{} holds another kind of run", cp_path.display()),
                None => {
                    let run = RunConfig {
                        seed: island_seed(resolved.run.seed, island),
                        max_evals: (resolved.run.max_evals / n as u64).max(1),
                        ..resolved.run.clone()
                    };
                    (
                        Evolution::new(task.as_ref(), resolved.optimiser.clone(), run)?,
                        IslandProgress::new(n),
                    )
                }
            };
            evo.evaluate_remotely(remote.clone());
            run_island::<anyhow::Error>(
                &mut evo,
                island,
                n,
                resolved.run.seed,
                &ic.migration,
                &mut progress,
                transport,
                &exec,
                |e, p, ev| {
                    if let IslandEvent::Generation(rec) = &ev {
                        rf.record(island, rec)?;
                        lines += 1;
                        bar.update(rec.evaluations, rec.generation, rec.best_so_far);
                    }
                    if let IslandEvent::Warning(w) = &ev {
                        bar.0.suspend(|| eprintln!("warning: {w}"));
                        return Ok(());
                    }
                    save(
                        Saved::Island {
                            run: e.checkpoint(),
                            progress: p.clone(),
                        },
                        lines,
                    )?;
                    if matches!(ev, IslandEvent::Migrated { .. }) {
                        save_best(&e.state().best_genome, e.state().best_fitness)?;
                    }
                    Ok(())
                },
            )?;
            save_best(&evo.state().best_genome, evo.state().best_fitness)?;
            let status = if progress.solved_somewhere && evo.status() != Status::Solved {
                Status::BudgetSpent
            } else {
                evo.status()
            };
            let mut o = Outcome::from_runs(&[evo.checkpoint()], status);
            o.solved_elsewhere = progress.solved_somewhere && evo.status() != Status::Solved;
            o.migrants_received = Some(progress.received);
            o
        }
    };
    bar.0.finish_and_clear();

    // The plot, from the whole history file (resumed runs included).
    let history = files::read_lines(&rf.path("history.csv"))?;
    let mut per_island: std::collections::BTreeMap<usize, Vec<(f64, f64)>> = Default::default();
    for l in history.complete.iter().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        if let (Some(i), Some(e), Some(b)) = (f.first(), f.get(2), f.get(6))
            && let (Ok(i), Ok(e), Ok(b)) = (i.parse::<usize>(), e.parse::<f64>(), b.parse::<f64>())
        {
            per_island.entry(i).or_default().push((e, b));
        }
    }
    let plot_lines: Vec<Line> = per_island
        .into_iter()
        .map(|(i, points)| Line {
            label: if resolved.islands.is_some() {
                format!("island {i}: best so far")
            } else {
                "best so far".into()
            },
            points,
        })
        .collect();
    support::plot_fitness(
        &rf.path("fitness.svg"),
        &format!("{} with {}", resolved.task.task, resolved.optimiser.kind()),
        &plot_lines,
    )?;

    let wall = start.elapsed().as_secs_f64();
    record.finish();
    let summary = serde_json::json!({
        "task": resolved.task.task,
        "optimiser": resolved.optimiser.kind(),
        "seed": resolved.run.seed,
        "solved": outcome.solved,
        "evaluations": outcome.evaluations,
        "evaluations_spent": outcome.spent,
        "best_fitness": outcome.best_fitness,
        "generalisation": outcome.generalisation,
        "status": outcome.status,
        "solved_by_another_island": outcome.solved_elsewhere,
        "generations": outcome.generations,
        "migrants_received": outcome.migrants_received,
        "config": resolved,
        "mode": format!("{}", exec.config().mode),
        "workers": workers,
        "record": record,
        "timings": {
            "wall_s_this_invocation": wall,
            "wall_s_total": seconds_before + wall,
            "resumed": history_lines > 0,
        },
        "files": ["history.csv", "fitness.svg", "best_genome.json", "summary.json", "checkpoint.json"],
    });
    write_json(&rf.path("summary.json"), &summary)?;
    out(&format!(
        "{} {} seed {}: {} after {} evaluations, best fitness {}{} ({})",
        resolved.task.task,
        resolved.optimiser.kind(),
        resolved.run.seed,
        if outcome.solved {
            "solved"
        } else {
            "not solved"
        },
        outcome.evaluations,
        outcome
            .best_fitness
            .map_or("none".into(), |b| format!("{b}")),
        outcome
            .generalisation
            .map_or(String::new(), |g| format!(", generalisation {g}/625")),
        rf.dir.display()
    ))?;
    Ok(())
}

/// What a run ended with.
struct Outcome {
    solved: bool,
    /// Evaluations to the solution, or spent when unsolved.
    evaluations: u64,
    spent: u64,
    best_fitness: Option<f64>,
    generalisation: Option<u32>,
    status: Status,
    solved_elsewhere: bool,
    generations: Vec<u64>,
    migrants_received: Option<u64>,
}

impl Outcome {
    fn from_runs(runs: &[Checkpoint], status: Status) -> Self {
        let spent: u64 = runs.iter().map(|r| r.state.evaluations).sum();
        let solution = runs
            .iter()
            .filter_map(|r| r.state.solution.as_ref())
            .min_by_key(|s| s.evaluations);
        let best = runs
            .iter()
            .filter_map(|r| r.state.best_fitness)
            .max_by(f64::total_cmp);
        Self {
            solved: solution.is_some(),
            // With islands the count to the solution is every island's spending when the
            // solving epoch ended (they evolve in lock-step); alone, the first solving individual.
            evaluations: match solution {
                Some(s) if runs.len() == 1 => s.evaluations,
                _ => spent,
            },
            spent,
            best_fitness: best,
            generalisation: solution.and_then(|s| s.generalisation),
            status,
            solved_elsewhere: false,
            generations: runs.iter().map(|r| r.state.generation).collect(),
            migrants_received: None,
        }
    }
}
