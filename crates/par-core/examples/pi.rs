//! Estimates π by Monte Carlo in any execution mode and prints the run report.
//!
//! ```text
//! cargo run -p par-core --release --example pi -- [sequential|threads|processes|auto] [WORKERS] [TASKS]
//! ```
//!
//! The estimate is bit-identical whatever the mode and worker count; the report shows what the
//! parallelism cost and bought. Long runs show a progress bar on a terminal.

use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Job, Mode, RemoteJob, TaskContext};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Each task throws `points` darts at the unit square and counts those inside the circle.
#[derive(Serialize, Deserialize)]
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    serve_if_worker(&Registry::new().with::<Darts>());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workers: usize = args.get(1).map(|w| w.parse()).transpose()?.unwrap_or(2);
    let tasks: usize = args.get(2).map(|t| t.parse()).transpose()?.unwrap_or(400);
    let mode = match args.first().map(String::as_str).unwrap_or("threads") {
        "sequential" => Mode::Sequential,
        "threads" => Mode::Threads { workers },
        "processes" => Mode::Processes { workers },
        "auto" => Mode::Auto { workers },
        other => return Err(format!("unknown mode `{other}`").into()),
    };
    let exec = Executor::new(ExecConfig {
        seed: 2026,
        label: "darts".into(),
        ..ExecConfig::with_mode(mode)
    })?;
    let job = Darts { points: 200_000 };
    let out = exec.run(&job, tasks)?;
    println!("{}", out.report);
    let hits: u64 = out.into_values()?.iter().sum();
    let pi = 4.0 * hits as f64 / (tasks as f64 * job.points as f64);
    println!(
        "pi ≈ {pi:.8} (error {:.2e})",
        (pi - std::f64::consts::PI).abs()
    );
    Ok(())
}
