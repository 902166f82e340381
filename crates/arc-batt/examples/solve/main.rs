//! `solve`: search programs for ARC tasks and write a Kaggle submission.
//!
//! ```text
//! cargo run -p arc-batt --release --example solve -- --tasks DIR_OR_FILES \
//!     [--budget-s S] [--mode threads|seq|processes|auto] [--workers W] \
//!     [--out submission.json] [--report results.json] [--learn library.tsv]
//! ```
//!
//! Every task is searched within its budget on `W` workers (par-core); the submission holds
//! two attempts per test input, the report up to three ranked predictions with the best
//! program and timings. When the task files hold test outputs, the tasks and test outputs
//! solved with 2 and with 3 attempts are printed.
//!
//! Every output is checked writable and every option validated before the first task starts.
//! Each finished task is appended to a journal (`--journal`, by default beside the first
//! output: `<report>.jsonl`); a rerun of the same command reads it back and searches only the
//! tasks still missing, so a killed run loses no finished task, and because budgets count
//! work units, not seconds, the resumed outputs equal an uninterrupted run's.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use arc_batt::library::Library;
use arc_batt::pipeline::{
    RunConfig, RunResults, SolveJob, Tally, TaskResult, solve_all, solve_all_resumable,
};
use arc_batt::search::SearchConfig;
use arc_batt::task::task_files;
use arc_batt::{Grid, Task};
use clap::Parser;
use par_cli::numbers::{count_in, float_in};
use par_cli::output_files::{check_writable, write_atomic, write_json};
use par_cli::{ExecArgs, RunRecord};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Progress};
use serde_json::{Value, json};

/// The search allocates many small values (grids, objects, nodes) and frees them at the end
/// of each task: with mimalloc a pass takes 7 to 12 % less process CPU time (20 training
/// tasks, 0.5 s budget, one worker).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The default memory for all workers together, MB (lowered to what the machine has free).
const DEFAULT_MEMORY_MB: f64 = 2048.0;

/// Search programs for ARC tasks; write a Kaggle submission and a per-task report.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    allow_negative_numbers = true,
    after_help = "\
Writes (each checked writable before the first task, each written atomically):
  --out FILE       the Kaggle submission: {task_id: [{\"attempt_1\": grid, \"attempt_2\": grid},
                   ...one per test input]} ([[0]] where there is no prediction)
  --report FILE    {\"run\": {tool, version, provenance, machine, config, seed, inputs,
                   timings}, \"summary\": {tasks, tests, tasks_top2, tasks_top3, tests_top2,
                   tests_top3, fit_demos}, \"resumed\", \"passes\", \"invalid\": [{path, error}],
                   \"tasks\": [{task, predictions (up to 3 per test input), program, programs,
                   fits_demos, from_library, status, seconds, cpu_s, work, ops, nodes,
                   peak_mb, error}]}
  --learn FILE     a library: task<TAB>fingerprint<TAB>program for every task whose best
                   program fits its demonstrations (read it back with --library)
  journal          one JSON line per finished task, appended as it finishes (--journal FILE,
                   by default <report>.jsonl, else <out>.jsonl, else <learn>.jsonl); it stays
                   after the run, and a rerun of the same executable with the same tasks,
                   settings and library reads it back instead of searching again (--fresh
                   starts over)
Standard output: the counts solved with 2 and 3 attempts (when the tasks hold test outputs).
Exit status 1 when a task file is invalid or a task's search failed (after every other task
is solved and written)."
)]
struct Args {
    #[command(flatten)]
    exec: ExecArgs,
    /// Task files (.json) or folders of them, taken in name order.
    #[arg(long, required = true, num_args = 1.., value_name = "DIR_OR_FILES")]
    tasks: Vec<PathBuf>,
    /// Search budget per task, in seconds of nominal work (deterministic: counted in work
    /// units; a wall-clock guard stops a task at 6 times it).
    #[arg(long, default_value_t = 1.0, value_parser = float_in(0.001, 3600.0))]
    budget_s: f64,
    /// The wall-clock guard: a task's search stops after this many times its budget in wall
    /// seconds (a search stopped by it is searched again on a rerun). Raise it on a loaded
    /// machine to let the work budget alone decide (results then equal on any machine).
    #[arg(long, default_value_t = 6.0, value_parser = float_in(1.0, 1.0e6))]
    wall_factor: f64,
    /// Deepest composition of transforms.
    #[arg(long, default_value_t = 3, value_parser = count_in(1, 4))]
    max_depth: usize,
    /// Memory for all workers together, MB; each task's search may hold memory_mb / workers
    /// and stops with status `memory` beyond it [default: 2048, or 80 % of the free memory
    /// when less].
    #[arg(long, value_parser = float_in(64.0, 1.0e6))]
    memory_mb: Option<f64>,
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
    /// Keep the journal of finished tasks here [default: beside the first output].
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Delete the journal of an earlier run and search every task again.
    #[arg(long)]
    fresh: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

impl Args {
    /// The journal: as given, or beside the first output; none without any output.
    fn journal_path(&self) -> Option<PathBuf> {
        self.journal.clone().or_else(|| {
            [&self.report, &self.out, &self.learn]
                .into_iter()
                .flatten()
                .next()
                .map(|p| {
                    let mut name = p.as_os_str().to_owned();
                    name.push(".jsonl");
                    PathBuf::from(name)
                })
        })
    }
}

fn main() -> std::process::ExitCode {
    serve_if_worker(&Registry::new().with::<SolveJob>());
    par_cli::main_with(|| run(&Args::parse()))
}

/// Memory for all workers together, MB: as given (refused beyond what the machine has), or
/// the default lowered to what the machine has free.
fn memory_mb(args: &Args) -> Result<f64> {
    match args.memory_mb {
        Some(mb) => {
            par_cli::memory::ensure_fits("--memory-mb", (mb * 1e6) as u128)?;
            Ok(mb)
        }
        None => Ok(
            par_cli::memory::available_bytes().map_or(DEFAULT_MEMORY_MB, |b| {
                DEFAULT_MEMORY_MB.min(b as f64 * par_cli::memory::SHARE_OF_AVAILABLE / 1e6)
            }),
        ),
    }
}

fn run(args: &Args) -> Result<()> {
    let started = Instant::now();
    let journal = args.journal_path();
    for path in [&args.out, &args.report, &args.learn, &journal]
        .into_iter()
        .flatten()
    {
        check_writable(path)?;
    }
    let memory_mb = memory_mb(args)?;
    let mut record = RunRecord::start(
        "arc-batt solve",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_MANIFEST_DIR"),
    );
    let library = match &args.library {
        Some(p) => {
            record.add_input(p)?;
            Library::load(p).context("reading the library")?
        }
        None => Library::new(),
    };
    let files = task_files(&args.tasks)?;
    for p in &args.tasks {
        record.add_input(p)?;
    }
    let mut tasks = Vec::new();
    let mut invalid = Vec::new();
    for f in &files {
        match Task::load(f) {
            Ok(t) => tasks.push(t),
            Err(e) => {
                eprintln!("solve: skipping {e}");
                invalid.push((f.clone(), e.to_string()));
            }
        }
    }
    if tasks.is_empty() {
        bail!(
            "no valid task among the {} file(s) given: {}",
            files.len(),
            invalid
                .iter()
                .map(|(_, e)| e.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let workers = args.exec.worker_count();
    let cfg = RunConfig {
        search: SearchConfig {
            budget_s: args.budget_s,
            max_depth: args.max_depth,
            memory_mb: (memory_mb / workers as f64).max(16.0),
            wall_factor: args.wall_factor,
            ..SearchConfig::default()
        },
        shared_budget: args.shared_budget,
    };
    let exec = Executor::new(ExecConfig {
        progress: if args.quiet {
            Progress::Hidden
        } else {
            Progress::Auto
        },
        label: "arc tasks".into(),
        ..args.exec.exec_config(0)
    })?;
    record.set_config(&json!({
        "run": cfg,
        "mode": exec.config().mode.to_string(),
        "workers": workers,
        "memory_mb_total": memory_mb,
        "library": args.library,
        "library_programs": library.len(),
        "library_digest": format!("{:016x}", library.digest()),
        "tasks": args.tasks,
        "task_files": files.len(),
        "out": args.out,
        "report": args.report,
        "learn": args.learn,
        "journal": journal,
    }));

    let run = match &journal {
        Some(path) => {
            if args.fresh && path.exists() {
                std::fs::remove_file(path)
                    .with_context(|| format!("removing the journal {}", path.display()))?;
            }
            solve_all_resumable(&exec, &tasks, &cfg, &library, path, &code_identity()?)
        }
        None => solve_all(&exec, &tasks, &cfg, &library),
    }
    .context("solving the tasks")?;
    let tally = Tally::count(&tasks, &run.results);

    if let Some(path) = &args.out {
        write_json(path, &submission(&tasks, &run.results))?;
    }
    if let Some(path) = &args.learn {
        write_atomic(path, learned(&tasks, &run.results).to_text().as_bytes())?;
    }
    if let Some(path) = &args.report {
        record.finish();
        let report = json!({
            "run": record,
            "summary": tally,
            "resumed": run.resumed,
            "journal_skipped_lines": run.journal_skipped,
            "passes": run.reports,
            "invalid": invalid.iter().map(|(p, e)| json!({"path": p, "error": e})).collect::<Vec<_>>(),
            "tasks": run.results,
        });
        write_json(path, &report)?;
    }
    summarise(args, &tasks, &run, &tally, started, workers)?;

    let failed: Vec<&TaskResult> = run.results.iter().filter(|r| r.error.is_some()).collect();
    let mut problems = Vec::new();
    if !invalid.is_empty() {
        problems.push(format!(
            "{} invalid task file(s): {}",
            invalid.len(),
            invalid
                .iter()
                .map(|(_, e)| e.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if !failed.is_empty() {
        problems.push(format!(
            "{} task search(es) failed: {}",
            failed.len(),
            failed
                .iter()
                .map(|f| format!("{}: {}", f.task, f.error.as_deref().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if !run.journal_errors.is_empty() {
        problems.push(format!(
            "the journal could not keep {} result(s) (a rerun searches them again): {}",
            run.journal_errors.len(),
            run.journal_errors.join("; ")
        ));
    }
    if !problems.is_empty() {
        bail!(
            "{} (the other tasks were solved and written)",
            problems.join("; ")
        );
    }
    Ok(())
}

/// The identity of this program's code for the journal: the SHA-256 of its executable, so
/// that a rebuilt program never reuses results an older one computed.
fn code_identity() -> Result<String> {
    let exe = std::env::current_exe().context("finding this program's executable")?;
    Ok(par_cli::InputFile::describe(&exe)?.sha256)
}

/// Prints the run reports on standard error and the counts on standard output.
fn summarise(
    args: &Args,
    tasks: &[Task],
    run: &RunResults,
    tally: &Tally,
    started: Instant,
    workers: usize,
) -> Result<()> {
    use std::io::Write;
    for r in &run.reports {
        eprintln!("{r}");
    }
    let wall = started.elapsed().as_secs_f64();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} task(s) in {wall:.1} s on {workers} worker(s), budget {} s per task: {} fit their \
         demonstrations, {} ran out of budget, {} read back from the journal",
        tasks.len(),
        args.budget_s,
        tally.fit_demos,
        run.results.iter().filter(|r| r.status == "budget").count(),
        run.resumed,
    )?;
    if tally.tasks > 0 {
        writeln!(
            out,
            "solved with 2 attempts: {} of {} tasks, {} of {} test outputs",
            tally.tasks_top2, tally.tasks, tally.tests_top2, tally.tests
        )?;
        writeln!(
            out,
            "solved with 3 attempts: {} of {} tasks, {} of {} test outputs",
            tally.tasks_top3, tally.tasks, tally.tests_top3, tally.tests
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The programs that fit their task's demonstrations, as a library.
fn learned(tasks: &[Task], results: &[TaskResult]) -> Library {
    let mut lib = Library::new();
    for (t, r) in tasks.iter().zip(results) {
        if r.fits_demos
            && let Some(p) = &r.program
            && let Ok(p) = p.parse()
        {
            lib.add(&t.id, t.fingerprint(), p);
        }
    }
    lib
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
