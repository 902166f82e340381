//! A hyperparameter search: random-search trials of an optimiser's settings, each a few seeded
//! runs, in worker processes that keep to par-core's thread budget; each finished trial is
//! appended to the results file, and running the same command again resumes.
//!
//! ```text
//! cargo run -p neuroevo --release --example hyper -- --task double-pole-markov \
//!     --optimiser cmaes --trials 20 --seeds 5 --workers 2 --out target/hyper/trials.jsonl
//! ```

mod support;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, ValueEnum};

use neuroevo::hyper::{HyperConfig, TrialJob, search};
use neuroevo::optimiser::OptimiserKind;
use neuroevo::task::{TaskConfig, TaskKind};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Mode};

use par_cli::exec_args::workers as workers_arg;
use par_cli::main_with;
use par_cli::numbers::{count_in, seed as seed_arg};
use par_cli::output_files::check_writable;
use support::out;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OptArg {
    Ga,
    Cosyne,
    Cmaes,
}

/// Random search over an optimiser's settings, in worker processes, resumable.
#[derive(Parser, Debug)]
#[command(
    version,
    about,
    allow_negative_numbers = true,
    after_help = "Files written: --out FILE, one JSON line per finished trial (index, settings, \
                  runs solved, median evaluations, mean best fitness, seconds, peak threads of \
                  its process). Lines of another search or torn by a kill are skipped; run the \
                  same command again to finish a search."
)]
struct Args {
    /// Task (as for evolve).
    #[arg(long, value_parser = |s: &str| s.parse::<TaskKind>())]
    task: TaskKind,
    /// Optimiser whose settings are searched.
    #[arg(long, value_enum)]
    optimiser: OptArg,
    /// Trials.
    #[arg(long, default_value_t = 16, value_parser = count_in(1, 1_000_000))]
    trials: usize,
    /// Seeded runs per trial.
    #[arg(long, default_value_t = 3, value_parser = count_in(1, 10_000))]
    seeds: usize,
    /// Evaluation budget of each run.
    #[arg(long, default_value_t = 20_000, value_parser = count_in(1, 1_000_000_000_000))]
    max_evals: usize,
    /// Search seed.
    #[arg(long, default_value_t = 0, value_parser = seed_arg)]
    seed: u64,
    /// Worker processes; default: all cores.
    #[arg(long, value_parser = workers_arg)]
    workers: Option<usize>,
    /// Let each trial build its own thread pool (to see what the budget prevents).
    #[arg(long)]
    no_budget: bool,
    /// Results file (JSON lines).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

fn main() -> ExitCode {
    serve_if_worker(&Registry::new().with::<TrialJob>());
    main_with(run)
}

fn run() -> anyhow::Result<()> {
    let a = Args::parse();
    let config = HyperConfig {
        task: TaskConfig::new(a.task),
        optimiser: match a.optimiser {
            OptArg::Ga => OptimiserKind::Ga,
            OptArg::Cosyne => OptimiserKind::Cosyne,
            OptArg::Cmaes => OptimiserKind::Cmaes,
        },
        trials: a.trials,
        seeds: a.seeds,
        max_evals: a.max_evals as u64,
        seed: a.seed,
    };
    config.validate()?;
    check_writable(&a.out).with_context(|| format!("--out {}", a.out.display()))?;
    let workers = a
        .workers
        .unwrap_or_else(par_core::budget::available_threads);
    let exec = Executor::new(ExecConfig {
        label: "trials".into(),
        ..ExecConfig::with_mode(Mode::Processes { workers })
    })?;
    let o = search(&config, &exec, Some(&a.out), !a.no_budget)?;
    if let Some(r) = &o.report {
        eprintln!("{r}");
    }
    out(&format!(
        "{} trials: {} from {}, {} run now, {} failed",
        o.records.len(),
        o.resumed,
        a.out.display(),
        o.computed,
        o.failed.len()
    ))?;
    out(&format!(
        "{:>5} {:>7} {:>12} {:>12} {:>8} {:>7}  settings",
        "trial", "solved", "median evals", "mean best", "seconds", "threads"
    ))?;
    let mut sorted = o.records.clone();
    sorted.sort_by_key(|r| {
        (
            std::cmp::Reverse(r.solved),
            r.median_evals.unwrap_or(u64::MAX),
        )
    });
    for r in &sorted {
        out(&format!(
            "{:>5} {:>3}/{:<3} {:>12} {:>12.4} {:>8.2} {:>7}  {}",
            r.index,
            r.solved,
            r.runs,
            r.median_evals.map_or("-".into(), |m| m.to_string()),
            r.mean_best,
            r.seconds,
            r.peak_threads,
            serde_json::to_string(&r.optimiser)?
        ))?;
    }
    for (i, msg) in &o.failed {
        eprintln!("warning: trial {i} failed: {msg}");
    }
    if !o.failed.is_empty() {
        anyhow::bail!(
            "{} trials failed; run the command again to retry them",
            o.failed.len()
        );
    }
    Ok(())
}
