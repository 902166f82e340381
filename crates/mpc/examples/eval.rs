//! Evaluates a controller on segments, segments in parallel through par-core.
//!
//! ```text
//! cargo run -p mpc --release --example eval -- --model M --data DIR_OR_FILES \
//!     --controller pid|zero|mpc [--config MPC.json] [--planner auto|native|ort] [--segments N] \
//!     [--workers W] [--out FILE.json]
//! ```
//!
//! Without `--model` it uses the project's fixture model; without `--data` it evaluates
//! synthetic segments from the seeded generator (`--synthetic N`, default 4).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Parser;
use mpc::eval::{ControllerSpec, EvalConfig, PlannerModel, evaluate};
use mpc::{MpcConfig, OrtOptions, SeedKey, Segment, SimOptions};
use par_core::{ExecConfig, Mode};

#[derive(Parser, Debug)]
#[command(about = "Evaluate a lateral controller on tinyphysics segments")]
struct Args {
    /// ONNX dynamics model (default: the fixture model fixtures/mpc/tiny_dynamics.onnx).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Segment CSV files or folders of them (sorted by name); default: synthetic segments.
    #[arg(long, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Controller: zero, pid or mpc.
    #[arg(long, default_value = "pid")]
    controller: String,
    /// MPC configuration (JSON object with any fields of `mpc::MpcConfig`, for example
    /// `{"horizon": 12, "samples": 64}`); only with `--controller mpc`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The MPC planner's model: native (the built-in transformer, prefix-shared rollouts), ort
    /// (ONNX Runtime), or auto (native when the file is the tinyphysics transformer).
    #[arg(long, default_value = "auto")]
    planner: String,
    /// Evaluate only the first N segments.
    #[arg(long)]
    segments: Option<usize>,
    /// Worker threads (segments in parallel); 1 runs sequentially.
    #[arg(long, default_value_t = par_core::budget::available_threads())]
    workers: usize,
    /// Number of synthetic segments when no `--data` is given.
    #[arg(long, default_value_t = 4)]
    synthetic: usize,
    /// Seed-key prefix put before each file name (default `data/`, the official rule).
    #[arg(long, default_value = "data/")]
    seed_prefix: String,
    /// Run seed (controllers' own generators derive from it).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the costs as JSON here.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn collect_files(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("reading {}", input.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "csv"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mpc_config: MpcConfig = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => MpcConfig::default(),
    };
    let controller = match args.controller.as_str() {
        "zero" | "pid" if args.config.is_some() => {
            bail!("--config applies to --controller mpc only")
        }
        "zero" => ControllerSpec::Zero,
        "pid" => ControllerSpec::Pid,
        "mpc" => ControllerSpec::Mpc(mpc_config),
        other => bail!("unknown controller `{other}` (zero, pid, mpc)"),
    };
    let planner = match args.planner.as_str() {
        "auto" => PlannerModel::Auto,
        "native" => PlannerModel::Native,
        "ort" => PlannerModel::Ort,
        other => bail!("unknown planner model `{other}` (auto, native, ort)"),
    };
    let mut segments: Vec<Segment> = if args.data.is_empty() {
        (0..args.synthetic)
            .map(|k| {
                let rows = mpc::fixture::synthetic_rows(k as u64, 600);
                Segment::from_rows(&rows, Path::new(&format!("synthetic-{k:05}.csv")))
            })
            .collect::<Result<_, _>>()?
    } else {
        collect_files(&args.data)?
            .iter()
            .map(Segment::load)
            .collect::<Result<_, _>>()?
    };
    if let Some(n) = args.segments {
        segments.truncate(n);
    }
    let model = args
        .model
        .clone()
        .unwrap_or_else(mpc::fixture::fixture_model_path);
    let mode = if args.workers <= 1 {
        Mode::Sequential
    } else {
        Mode::Threads {
            workers: args.workers,
        }
    };
    let config = EvalConfig {
        model: model.clone(),
        controller,
        sim: SimOptions {
            seed_key: SeedKey::Prefix(args.seed_prefix.clone()),
            ..SimOptions::default()
        },
        planner,
        ort: OrtOptions::default(),
        exec: ExecConfig {
            seed: args.seed,
            label: "segments".into(),
            ..ExecConfig::with_mode(mode)
        },
    };
    let evaluation = evaluate(&segments, &config)?;
    println!(
        "controller {} on {} segments, model {}",
        config.controller.name(),
        segments.len(),
        model.display()
    );
    if let ControllerSpec::Mpc(c) = &config.controller {
        println!("mpc configuration: {}", serde_json::to_string(c)?);
    }
    print!("{}", evaluation.table());
    println!("\n{}", evaluation.report);
    if let Some(out) = &args.out {
        std::fs::write(
            out,
            serde_json::to_string_pretty(&evaluation.to_json())? + "\n",
        )
        .with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
