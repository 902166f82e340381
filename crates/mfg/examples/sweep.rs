//! A parameter sweep with results appended to a JSON-lines file as they finish; run it again to
//! resume. By default the 3 x 3 x 3 sweep of the LQ mean-target game over `sigma`, `eps` and
//! `c`; `--config FILE` runs any sweep (a JSON object, see `--help`).
//!
//! Statuses are not results: a point that timed out, reached its iteration limit, went
//! non-finite or failed has no value in the arrays (NaN), and a rerun runs it again when the new
//! settings could change its outcome (a larger `--timeout` for a timed-out point; see
//! `mfg::sweep`). A run in which no point converged exits with status 1 and a summary.
//!
//! Files, beside `--out OUT.jsonl` (the results file, one record per finished run):
//! `OUT.summary.json` (the run's self-description, counts by outcome, the points rerun and why,
//! the executor's report, and the final record of every point), NumPy arrays shaped like the
//! sweep (one axis per sweep axis, in order; NaN where a point has no usable result)
//! `OUT.mean_t.npy`, `OUT.variance_t.npy`, `OUT.u0_at_mean.npy`, `OUT.iterations.npy` (see
//! `mfg::sweep::SweepResult::output_array`), and `OUT.axes.json` with the axis values.
//!
//! ```text
//! cargo run -p mfg --release --example sweep -- --mode processes --workers 2 \
//!     --out target/sweep.jsonl --timeout 10
//! ```
//!
//! On MPI (build with `--features mpi`; every rank runs the same command, rank 0 alone prints
//! and writes the files, and resumes from them as in every mode):
//!
//! ```text
//! mpirun -np 4 target/release/examples/sweep --mode mpi --workers 1 --out target/sweep.jsonl
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use mfg::MfgConfig;
use mfg::sweep::{Outcome, PointOutput, SweepConfig, SweepJob, SweepResult};
use par_cli::numbers::{count_in, seconds};
use par_cli::output_files::{check_writable_on_root, write_atomic, write_json};
use par_cli::{ExecArgs, RunRecord};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor};

/// Most points whose table rows are printed; larger sweeps are summarised.
const TABLE_ROWS: usize = 100;

/// Runs a parameter sweep of a mean-field game, appending each point's record as it finishes
/// and resuming from the records already there.
#[derive(Debug, Parser)]
#[command(
    allow_negative_numbers = true,
    after_help = "Writes, beside --out OUT.jsonl: OUT.jsonl (one JSON record per finished run: \
index, params, config, status, seconds, output, error; appended as runs finish, read back on \
the next run), OUT.summary.json ({\"run\": {tool, version, provenance, machine, config, seed, \
inputs, timings}, \"summary\", \"resumed\", \"computed\", \"rerun\", \"skipped_lines\", \
\"report\", \"records\"}), OUT.mean_t.npy, OUT.variance_t.npy, OUT.u0_at_mean.npy, \
OUT.iterations.npy (one axis per sweep axis; NaN where a point did not converge) and \
OUT.axes.json.

--config FILE: a JSON object {\"base\": GAME, \"axes\": [{\"param\": P, \"values\": [..]}, ..], \
\"run_timeout_s\": seconds (optional)}. P is one of sigma, horizon, nx, nt, coupling_eps, \
congestion_strength, terminal_c, lambda, damping_m. GAME has the fields of mfg::MfgConfig, each \
optional: domain [a, b], boundary (reflecting|periodic), nx, nt, horizon, sigma, hamiltonian \
{kind: quadratic, lambda}, coupling {kind: none|quadratic_target|log_congestion, ..}, terminal \
{kind: none|quadratic_target, ..}, m0 {kind: gaussian|uniform|values, ..}, solver \
{max_iterations, damping_u, damping_m, tol_abs, tol_rel, newton_tol, newton_max_iterations, \
max_seconds, anderson_depth}. Unknown fields are errors.

Rerun rules: converged and non-finite points are final; failed points always run again; \
timed-out points run again under a larger time limit (or none); points at the iteration limit \
run again under a larger solver.max_iterations; records of another game (other base settings) \
are replaced. Exit status 1 when no point converged."
)]
struct Args {
    #[command(flatten)]
    exec: ExecArgs,
    /// Results file (JSON lines): finished points found there are kept, the others run.
    #[arg(long, default_value = "target/sweep.jsonl")]
    out: PathBuf,
    /// The sweep to run, a JSON object (fields under --help) [default: the built-in 3 x 3 x 3
    /// sweep over sigma, coupling_eps and terminal_c].
    #[arg(long)]
    config: Option<PathBuf>,
    /// Per-run time limit in seconds, replacing the config's run_timeout_s: a run that reaches
    /// it ends as timed out; in processes mode its worker is also killed after twice this long
    /// [default: the config's, none for the built-in sweep].
    #[arg(long, value_parser = seconds)]
    timeout: Option<f64>,
    /// Retries of runs that fail (panic, crash, executor time-out).
    #[arg(long, default_value_t = 1, value_parser = count_in(0, 100))]
    retries: usize,
}

/// The built-in sweep: the LQ mean-target game over sigma, eps and c.
fn built_in() -> SweepConfig {
    SweepConfig::sigma_eps_c_27(MfgConfig::default())
}

/// `OUT.jsonl` -> `OUT.<suffix>`.
fn beside(out: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}.{suffix}", out.with_extension("").display()))
}

type Output = fn(&PointOutput) -> f64;
const ARRAYS: [(&str, Output); 4] = [
    ("mean_t", |o| o.mean_t),
    ("variance_t", |o| o.variance_t),
    ("u0_at_mean", |o| o.u0_at_mean),
    ("iterations", |o| o.iterations as f64),
];

fn main() -> ExitCode {
    serve_if_worker(&Registry::new().with::<SweepJob>());
    par_cli::main_with(|| {
        let args = Args::parse();
        let mut record = RunRecord::start(
            "mfg sweep",
            env!("CARGO_PKG_VERSION"),
            env!("CARGO_MANIFEST_DIR"),
        );
        let mut config = match &args.config {
            Some(path) => {
                record.add_input(path)?;
                par_cli::config_file::read_object::<SweepConfig>(path)?
            }
            None => built_in(),
        };
        if args.timeout.is_some() {
            config.run_timeout_s = args.timeout;
        }
        let what = args
            .config
            .as_ref()
            .map_or_else(|| "the built-in sweep".into(), |p| p.display().to_string());
        config.check_shape().with_context(|| what.clone())?;
        // In processes mode the executor kills a worker stuck in one run after twice the limit.
        let hard_timeout = match (args.exec.mode, config.run_timeout_s) {
            (par_cli::exec_args::ModeArg::Processes, Some(t)) => {
                Duration::try_from_secs_f64(2.0 * t).ok()
            }
            _ => None,
        };
        // Built first: with --mode mpi it starts MPI, and only rank 0 writes files and prints.
        let exec = Executor::new(ExecConfig {
            timeout: hard_timeout,
            retries: args.retries as u32,
            label: "sweep".into(),
            ..args.exec.exec_config(0)
        })?;
        let root = par_core::mpi::is_root();
        // Every output is proven writable, and every size proven to fit, before any work.
        let outputs: Vec<PathBuf> = std::iter::once(args.out.clone())
            .chain(["summary.json", "axes.json"].map(|s| beside(&args.out, s)))
            .chain(ARRAYS.map(|(name, _)| beside(&args.out, &format!("{name}.npy"))))
            .collect();
        check_writable_on_root(&exec, &[], &outputs)?;
        let concurrent = exec.config().mode.workers().min(config.len()) as u128;
        let largest = config.largest_solve_bytes().with_context(|| what.clone())?;
        par_cli::memory::ensure_fits(
            &format!("{concurrent} concurrent solve(s) of the sweep's largest game"),
            largest.saturating_mul(concurrent),
        )?;
        config.validate().with_context(|| what.clone())?;
        record.set_config(&serde_json::json!({
            "sweep": config,
            "mode": exec.config().mode.to_string(),
            "retries": args.retries,
            "worker_kill_timeout_s": hard_timeout.map(|d| d.as_secs_f64()),
            "out": args.out,
        }));
        // Under MPI every rank runs the sweep and gets the same result; rank 0 alone reads and
        // writes the results file.
        let r = SweepJob::run_with(&config, &exec, Some(&args.out))?;
        let summary = r.summary();
        if root {
            if let Some(report) = &r.report {
                eprintln!("{report}");
            }
            print_table(&r, &args.out);
            write_outputs(&r, &config, &args.out, record)?;
            println!("{summary}");
        }
        if summary.converged == 0 {
            bail!(
                "no point produced a usable result ({summary}){}",
                hints(&r, &args.out)
            );
        }
        if root && summary.unusable() > 0 {
            eprintln!(
                "warning: {} of {} points have no usable result (NaN in the arrays){}",
                summary.unusable(),
                summary.points,
                hints(&r, &args.out)
            );
        }
        Ok(())
    })
}

/// What to do about the points without a usable result.
fn hints(r: &SweepResult, out: &Path) -> String {
    let s = r.summary();
    let mut h = Vec::new();
    if s.timed_out > 0 {
        h.push(format!(
            "{} timed out: rerun with a larger --timeout to run them again",
            s.timed_out
        ));
    }
    if s.max_iterations > 0 {
        h.push(format!(
            "{} reached the iteration limit: raise base.solver.max_iterations (or the damping) in --config",
            s.max_iterations
        ));
    }
    if s.non_finite > 0 {
        h.push(format!(
            "{} went non-finite: damp the iteration (base.solver.damping_m) or refine the grid",
            s.non_finite
        ));
    }
    if s.failed > 0 {
        let first = r
            .records
            .iter()
            .find(|rec| rec.outcome() == Outcome::Failed)
            .and_then(|rec| rec.error.clone())
            .unwrap_or_default();
        h.push(format!(
            "{} failed (the first: {first}); failed points run again on every rerun",
            s.failed
        ));
    }
    h.push(format!(
        "the records are in {} and {}",
        out.display(),
        beside(out, "summary.json").display()
    ));
    format!(":\n  {}", h.join("\n  "))
}

fn print_table(r: &SweepResult, out: &Path) {
    println!(
        "{} points: {} from {}, {} run now{}",
        r.records.len(),
        r.resumed,
        out.display(),
        r.computed,
        if r.rerun.is_empty() {
            String::new()
        } else {
            format!(" ({} of them again)", r.rerun.len())
        }
    );
    for (index, why) in r.rerun.iter().take(TABLE_ROWS) {
        println!("point {index} runs again: {why}");
    }
    if r.skipped_lines > 0 {
        println!(
            "{} line(s) of {} did not parse (a run killed mid-write) and were skipped",
            r.skipped_lines,
            out.display()
        );
    }
    if r.records.len() > TABLE_ROWS {
        println!(
            "(the table of {} points is left out; see {})",
            r.records.len(),
            beside(out, "summary.json").display()
        );
        return;
    }
    println!(
        "{:>5} {:>15} {:>10} {:>10} {:>9}  parameters",
        "point", "status", "mean(T)", "var(T)", "ms"
    );
    for rec in &r.records {
        let params: Vec<String> = rec
            .params
            .iter()
            .map(|(p, v)| {
                let name = serde_json::to_value(p)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                format!("{name}={v}")
            })
            .collect();
        let (mean, var) = rec
            .output
            .as_ref()
            .map_or((f64::NAN, f64::NAN), |o| (o.mean_t, o.variance_t));
        println!(
            "{:>5} {:>15} {:>10.5} {:>10.5} {:>9.3}  {}",
            rec.index,
            rec.outcome().to_string(),
            mean,
            var,
            1e3 * rec.seconds,
            params.join(" ")
        );
    }
}

fn write_outputs(
    r: &SweepResult,
    config: &SweepConfig,
    out: &Path,
    mut record: RunRecord,
) -> anyhow::Result<()> {
    for (name, f) in ARRAYS {
        let path = beside(out, &format!("{name}.npy"));
        let mut bytes = Vec::new();
        ndarray_npy::WriteNpyExt::write_npy(&r.output_array(f), &mut bytes)
            .with_context(|| format!("encoding {}", path.display()))?;
        write_atomic(&path, &bytes)?;
    }
    write_json(&beside(out, "axes.json"), &config.axes)?;
    record.finish();
    write_json(
        &beside(out, "summary.json"),
        &serde_json::json!({
            "run": record,
            "summary": r.summary(),
            "resumed": r.resumed,
            "computed": r.computed,
            "rerun": r.rerun,
            "skipped_lines": r.skipped_lines,
            "report": r.report,
            "records": r.records,
        }),
    )?;
    println!("wrote {}.*", out.with_extension("").display());
    Ok(())
}
