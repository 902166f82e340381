//! `solve`: search programs for ARC tasks and write a Kaggle submission.
//!
//! ```text
//! cargo run -p arc-batt --release --example solve -- --tasks DIR_OR_FILES \
//!     [--budget-s S] [--workers W] [--out submission.json] [--report results.json]
//! ```
//!
//! Every task is searched within its budget on `W` workers (par-core threads); the submission
//! holds two attempts per test input, the report up to three ranked predictions with the best
//! program and timings. When the task files hold test outputs, the tasks and test outputs
//! solved with 2 and with 3 attempts are printed.

mod cli_io;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use arc_batt::library::Library;
use arc_batt::pipeline::{RunConfig, Tally, TaskResult, solve_all};
use arc_batt::search::SearchConfig;
use arc_batt::task::task_files;
use arc_batt::{Grid, Task};
use clap::Parser;
use par_core::bench::{Machine, Provenance};
use par_core::{ExecConfig, Executor, Mode, Progress};
use serde_json::{Value, json};

use cli_io::{check_writable, float_in, int_in, is_broken_pipe, say, write_atomic};

/// Search programs for ARC tasks; write a Kaggle submission and a per-task report.
///
/// Files written: the submission (--out: {task_id: [{"attempt_1": grid, "attempt_2": grid},
/// ...one per test input]}), the report (--report: tool version and commit, command line,
/// configuration, inputs with sizes, machine, timings, counts and per task: predictions (up to
/// 3 per test input), program, fits_demos, status, seconds) and the learned library (--learn:
/// task<TAB>fingerprint<TAB>program for every task whose best program fits its
/// demonstrations). Each is written atomically and checked writable before the search starts.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Task files (.json) or folders of them, taken in name order.
    #[arg(long, required = true, num_args = 1.., value_name = "DIR_OR_FILES")]
    tasks: Vec<PathBuf>,
    /// Search budget per task, in seconds of nominal work (deterministic; a wall-clock guard
    /// stops a task at 6x).
    #[arg(long, default_value_t = 1.0, value_parser = float_in(0.0, 3600.0, true))]
    budget_s: f64,
    /// Worker threads (tasks run in parallel); default: every available core.
    #[arg(long, value_parser = int_in(1, 256))]
    workers: Option<usize>,
    /// Deepest composition of transforms.
    #[arg(long, default_value_t = 3, value_parser = int_in(1, 4))]
    max_depth: usize,
    /// Memory for all workers together, MB; each task's search may hold memory_mb / workers
    /// and stops with status `memory` beyond it.
    #[arg(long, default_value_t = 2048.0, value_parser = float_in(64.0, 1.0e6, false))]
    memory_mb: f64,
    /// Share the budget that solved tasks leave unspent among the tasks that ran out of it.
    #[arg(long)]
    shared_budget: bool,
    /// A library of stored programs to try on every task (leave-one-out: programs stored
    /// from a task are not used on it).
    #[arg(long, value_name = "FILE")]
    library: Option<PathBuf>,
    /// Write the Kaggle submission here.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write the per-task report here.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Write the programs that fit their task's demonstrations here, as a library.
    #[arg(long, value_name = "FILE")]
    learn: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("solve: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<ExitCode> {
    let started = Instant::now();
    for path in [&args.out, &args.report, &args.learn].into_iter().flatten() {
        check_writable(path)?;
    }
    let library = match &args.library {
        Some(p) => Library::load(p)?,
        None => Library::new(),
    };
    let files = task_files(&args.tasks)?;
    let mut tasks = Vec::new();
    let mut inputs = Vec::new();
    let mut invalid = Vec::new();
    for f in &files {
        let bytes = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        match Task::load(f) {
            Ok(t) => {
                inputs.push(json!({"path": f, "bytes": bytes, "task": t.id}));
                tasks.push(t);
            }
            Err(e) => {
                eprintln!("solve: skipping {e}");
                invalid.push(json!({"path": f, "error": e.to_string()}));
            }
        }
    }
    if tasks.is_empty() {
        bail!("no valid task among the {} file(s) given", files.len());
    }
    let workers = args
        .workers
        .unwrap_or_else(par_core::budget::available_threads);
    let cfg = RunConfig {
        search: SearchConfig {
            budget_s: args.budget_s,
            max_depth: args.max_depth,
            memory_mb: (args.memory_mb / workers as f64).max(16.0),
            ..SearchConfig::default()
        },
        shared_budget: args.shared_budget,
    };
    let mode = if workers == 1 {
        Mode::Sequential
    } else {
        Mode::Threads { workers }
    };
    let exec = Executor::new(ExecConfig {
        progress: if args.quiet {
            Progress::Hidden
        } else {
            Progress::Auto
        },
        label: "arc tasks".into(),
        ..ExecConfig::with_mode(mode)
    })?;
    let run = solve_all(&exec, &tasks, &cfg, &library).context("solving the tasks")?;
    let wall = started.elapsed().as_secs_f64();
    let tally = Tally::count(&tasks, &run.results);
    let failed: Vec<&TaskResult> = run.results.iter().filter(|r| r.error.is_some()).collect();

    if let Some(path) = &args.out {
        write_atomic(
            path,
            &serde_json::to_vec(&submission(&tasks, &run.results))?,
        )?;
    }
    if let Some(path) = &args.learn {
        let mut lib = Library::new();
        for (t, r) in tasks.iter().zip(&run.results) {
            if r.fits_demos
                && let Some(p) = &r.program
                && let Ok(p) = p.parse()
            {
                lib.add(&t.id, t.fingerprint(), p);
            }
        }
        write_atomic(path, lib.to_text().as_bytes())?;
    }
    if let Some(path) = &args.report {
        let prov = Provenance::now();
        let report = json!({
            "tool": {"name": "arc-batt solve", "version": env!("CARGO_PKG_VERSION"),
                     "commit": prov.commit, "dirty": prov.dirty},
            "date": prov.date,
            "command": prov.command,
            "config": {"run": cfg, "workers": workers, "memory_mb_total": args.memory_mb,
                       "library": args.library, "library_programs": library.len()},
            "inputs": inputs,
            "invalid": invalid,
            "machine": Machine::detect(),
            "timings": {"wall_s": wall, "passes": run.reports},
            "summary": tally,
            "tasks": run.results,
        });
        write_atomic(path, &serde_json::to_vec_pretty(&report)?)?;
    }

    for r in &run.reports {
        eprintln!("{r}");
    }
    say(&format!(
        "{} task(s) in {wall:.1} s on {workers} worker(s), budget {} s per task: {} fit their \
         demonstrations, {} ran out of budget, {} failed, {} file(s) invalid",
        tasks.len(),
        args.budget_s,
        tally.fit_demos,
        run.results.iter().filter(|r| r.status == "budget").count(),
        failed.len(),
        invalid.len()
    ))?;
    if tally.tasks > 0 {
        say(&format!(
            "solved with 2 attempts: {} of {} tasks, {} of {} test outputs",
            tally.tasks_top2, tally.tasks, tally.tests_top2, tally.tests
        ))?;
        say(&format!(
            "solved with 3 attempts: {} of {} tasks, {} of {} test outputs",
            tally.tasks_top3, tally.tasks, tally.tests_top3, tally.tests
        ))?;
    }
    for f in &failed {
        eprintln!(
            "solve: task {} failed: {}",
            f.task,
            f.error.as_deref().unwrap_or("?")
        );
    }
    Ok(if failed.is_empty() && invalid.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// The Kaggle format: two attempts per test input, `[[0]]` where there is no prediction.
fn submission(tasks: &[Task], results: &[TaskResult]) -> Value {
    let blank = Grid::filled(1, 1, 0);
    let mut map = serde_json::Map::new();
    for (t, r) in tasks.iter().zip(results) {
        let cases: Vec<Value> = (0..t.test.len())
            .map(|i| {
                let preds = r.predictions.get(i);
                let attempt = |k: usize| preds.and_then(|p| p.get(k)).unwrap_or(&blank).clone();
                json!({"attempt_1": attempt(0), "attempt_2": attempt(1)})
            })
            .collect();
        map.insert(t.id.clone(), Value::Array(cases));
    }
    Value::Object(map)
}
