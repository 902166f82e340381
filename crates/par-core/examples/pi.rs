//! Estimates π by Monte Carlo in any execution mode and prints the run report.
//!
//! ```text
//! cargo run -p par-core --release --example pi -- --mode processes --workers 2 --tasks 400
//! ```
//!
//! The estimate is bit-identical whatever the mode and worker count; the report shows what the
//! parallelism cost and bought. Long runs show a progress bar on a terminal. With `--out FILE`
//! the estimate is also written as JSON with the run's self-description (commit, command
//! line, configuration, machine, timings).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use par_cli::numbers::{count_in, seed};
use par_cli::{ExecArgs, RunRecord};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Job, RemoteJob, TaskContext};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Each task throws `points` darts at the unit square and counts those inside the circle.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Darts {
    points: u64,
}

impl Job for Darts {
    type Output = u64;
    fn run(&self, ctx: &mut TaskContext) -> u64 {
        (0..self.points)
            .filter(|_| {
                let (x, y): (f64, f64) = (ctx.rng.random(), ctx.rng.random());
                x * x + y * y < 1.0
            })
            .count() as u64
    }
}

impl RemoteJob for Darts {
    const NAME: &'static str = "par-core.example.darts";
}

/// Estimates π by throwing darts in parallel tasks; the estimate is the same in every mode.
#[derive(Debug, Parser)]
#[command(
    allow_negative_numbers = true,
    after_help = "Writes: the run report and the estimate on standard output; with --out, a JSON \
                  file {\"run\": {tool, version, provenance, machine, config, seed, inputs, \
                  timings}, \"pi\", \"error\", \"darts\", \"hits\"}."
)]
struct Args {
    #[command(flatten)]
    exec: ExecArgs,
    /// Number of tasks.
    #[arg(long, default_value_t = 400, value_parser = count_in(1, 10_000_000))]
    tasks: usize,
    /// Darts per task.
    #[arg(long, default_value_t = 200_000, value_parser = count_in(1, 1_000_000_000))]
    points: usize,
    /// Seed of the run (task i draws from a generator seeded with (seed, i)).
    #[arg(long, default_value_t = 2026, value_parser = seed)]
    seed: u64,
    /// Also write the estimate and the run's description to this JSON file.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    serve_if_worker(&Registry::new().with::<Darts>());
    par_cli::main_with(|| {
        let args = Args::parse();
        if let Some(out) = &args.out {
            par_cli::output_files::check_writable(out)?;
        }
        let mut record =
            RunRecord::start("pi", env!("CARGO_PKG_VERSION"), env!("CARGO_MANIFEST_DIR"));
        let exec = Executor::new(ExecConfig {
            label: "darts".into(),
            ..args.exec.exec_config(args.seed)
        })?;
        let job = Darts {
            points: args.points as u64,
        };
        record.seed = Some(args.seed);
        record.set_config(&serde_json::json!({
            "mode": exec.config().mode.to_string(),
            "tasks": args.tasks,
            "points": args.points,
        }));
        let out = exec.run(&job, args.tasks)?;
        println!("{}", out.report);
        let hits: u64 = out.into_values()?.iter().sum();
        let darts = args.tasks as f64 * job.points as f64;
        let pi = 4.0 * hits as f64 / darts;
        let error = (pi - std::f64::consts::PI).abs();
        println!("pi ≈ {pi:.8} (error {error:.2e})");
        if let Some(path) = &args.out {
            record.finish();
            let result = serde_json::json!({
                "run": record, "pi": pi, "error": error, "darts": darts, "hits": hits,
            });
            par_cli::output_files::write_json(path, &result)
                .with_context(|| format!("writing the result to {}", path.display()))?;
        }
        Ok(())
    })
}
