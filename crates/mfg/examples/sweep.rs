//! A 3 x 3 x 3 sweep of the LQ mean-target game over `sigma`, `eps` and `c`, with results
//! appended to a JSON-lines file as they finish; run it again to resume (finished points are
//! skipped).
//!
//! Beside the results file `OUT.jsonl` it writes NumPy arrays of shape `(3, 3, 3)` (axes
//! `sigma`, `eps`, `c` in that order, NaN where a run failed): `OUT.mean_t.npy`,
//! `OUT.variance_t.npy`, `OUT.u0_at_mean.npy` and `OUT.iterations.npy` (see
//! `mfg::sweep::SweepResult::output_array`), and `OUT.axes.json` with the axis values.
//!
//! ```text
//! cargo run -p mfg --release --example sweep -- --mode processes --workers 2 \
//!     --out target/sweep.jsonl --timeout 10
//! ```

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use mfg::MfgConfig;
use mfg::sweep::{Axis, PointOutput, SweepConfig, SweepJob, SweepParam};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Mode};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModeArg {
    Sequential,
    Threads,
    Processes,
}

#[derive(Parser, Debug)]
#[command(about = "Parameter sweep with incremental output and resume")]
struct Args {
    /// Execution mode.
    #[arg(long, value_enum, default_value_t = ModeArg::Threads)]
    mode: ModeArg,
    /// Workers.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Results file (JSON lines); existing finished points are skipped.
    #[arg(long, default_value = "target/sweep.jsonl")]
    out: PathBuf,
    /// Per-run time limit in seconds (solver status `timed_out`; in processes mode the worker is
    /// also killed after twice this long).
    #[arg(long)]
    timeout: Option<f64>,
    /// Retries of runs that fail (panic, crash, executor time-out).
    #[arg(long, default_value_t = 1)]
    retries: u32,
}

fn main() -> anyhow::Result<()> {
    serve_if_worker(&Registry::new().with::<SweepJob>());
    let a = Args::parse();
    let mode = match a.mode {
        ModeArg::Sequential => Mode::Sequential,
        ModeArg::Threads => Mode::Threads { workers: a.workers },
        ModeArg::Processes => Mode::Processes { workers: a.workers },
    };
    let hard_timeout = match (a.mode, a.timeout) {
        (ModeArg::Processes, Some(t)) => Some(Duration::from_secs_f64(2.0 * t)),
        _ => None,
    };
    let exec = Executor::new(ExecConfig {
        timeout: hard_timeout,
        retries: a.retries,
        label: "sweep".into(),
        ..ExecConfig::with_mode(mode)
    })?;
    let config = SweepConfig {
        base: MfgConfig::default(),
        axes: vec![
            Axis {
                param: SweepParam::Sigma,
                values: vec![0.3, 0.5, 0.8],
            },
            Axis {
                param: SweepParam::CouplingEps,
                values: vec![0.5, 1.0, 2.0],
            },
            Axis {
                param: SweepParam::TerminalC,
                values: vec![0.0, 1.0, 4.0],
            },
        ],
        run_timeout_s: a.timeout,
    };
    if let Some(dir) = a.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let r = SweepJob::run_with(&config, &exec, Some(&a.out))?;
    if let Some(report) = &r.report {
        eprintln!("{report}");
    }
    println!(
        "{} points: {} from {}, {} run now",
        r.records.len(),
        r.resumed,
        a.out.display(),
        r.computed
    );
    println!(
        "{:>5} {:>6} {:>6} {:>6} {:>10} {:>10} {:>10} {:>9}",
        "point", "sigma", "eps", "c", "status", "mean(T)", "var(T)", "ms"
    );
    for rec in &r.records {
        let p: Vec<f64> = rec.params.iter().map(|(_, v)| *v).collect();
        let status = rec
            .status
            .map_or_else(|| "failed".to_string(), |s| format!("{s:?}"));
        let (mean, var) = rec
            .output
            .as_ref()
            .map_or((f64::NAN, f64::NAN), |o| (o.mean_t, o.variance_t));
        println!(
            "{:>5} {:>6} {:>6} {:>6} {:>10} {:>10.5} {:>10.5} {:>9.3}",
            rec.index,
            p[0],
            p[1],
            p[2],
            status,
            mean,
            var,
            1e3 * rec.seconds
        );
    }
    let stem = a.out.with_extension("");
    let beside = |suffix: &str| PathBuf::from(format!("{}.{suffix}", stem.display()));
    type Output = fn(&PointOutput) -> f64;
    let outputs: [(&str, Output); 4] = [
        ("mean_t", |o| o.mean_t),
        ("variance_t", |o| o.variance_t),
        ("u0_at_mean", |o| o.u0_at_mean),
        ("iterations", |o| o.iterations as f64),
    ];
    for (name, f) in outputs {
        let path = beside(&format!("{name}.npy"));
        ndarray_npy::write_npy(&path, &r.output_array(f))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let axes = beside("axes.json");
    std::fs::write(&axes, serde_json::to_string_pretty(&config.axes)?)
        .with_context(|| format!("writing {}", axes.display()))?;
    println!("wrote {}.*.npy", stem.display());
    Ok(())
}
