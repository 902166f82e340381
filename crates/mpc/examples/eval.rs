//! Evaluates a controller on segments, segments in parallel through par-core.
//!
//! ```text
//! cargo run -p mpc --release --example eval -- --model M --data DIR_OR_FILES \
//!     --controller pid|zero|mpc [--config MPC.json] [--planner auto|native|ort] [--segments N] \
//!     [--mode threads|seq|processes|auto|mpi] [--workers W] [--out FILE.json] [--trace DIR]
//! ```
//!
//! On MPI (build with `--features mpi`), every rank runs the same command and evaluates its
//! share of the segments; rank 0 alone prints, keeps the journal and writes the files:
//!
//! ```text
//! mpirun -np 4 target/release/examples/eval --mode mpi --workers 1 --synthetic 200 \
//!     --out target/eval.json
//! ```
//!
//! Without `--model` it uses the project's fixture model; without `--data` it evaluates
//! synthetic segments from the seeded generator (`--synthetic N`, default 4).
//!
//! Every output is checked writable, every input read and every setting validated before the
//! first segment starts. With `--out FILE.json`, each finished segment is appended to the
//! journal `FILE.json.jsonl` as it finishes; a rerun of the same command (same model,
//! controller, configuration, seed and segments) reads it back and computes only the segments
//! still missing, so a killed run loses no finished segment. The result file is written
//! atomically at the end, with the run's self-description.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use mpc::cem::MpcConfig;
use mpc::eval::{
    ControllerSpec, EvalConfig, PlannerModel, SegmentsJob, evaluate, evaluate_resumable, trace_csv,
};
use mpc::{OrtOptions, SeedKey, Segment, SimOptions};
use par_cli::numbers::{count_in, seed};
use par_cli::output_files::{check_writable_on_root, write_atomic, write_json};
use par_cli::{ExecArgs, RunRecord};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Mode};

/// The most segments one run evaluates (or synthesises).
const MAX_SEGMENTS: usize = 100_000;
/// The most synthetic segments one run generates (each is 600 rows).
const MAX_SYNTHETIC: usize = 10_000;

/// The controller to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ControllerArg {
    /// Always steers 0.
    Zero,
    /// The tinyphysics reference PID controller.
    Pid,
    /// The batched sampling MPC controller (configured by --config).
    Mpc,
}

/// The model implementation the MPC planner rolls candidates out with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlannerArg {
    /// Native when the model is the tinyphysics transformer, ONNX Runtime otherwise.
    Auto,
    /// The built-in transformer with prefix-shared rollouts (an error for another model).
    Native,
    /// ONNX Runtime.
    Ort,
}

impl From<PlannerArg> for PlannerModel {
    fn from(p: PlannerArg) -> Self {
        match p {
            PlannerArg::Auto => Self::Auto,
            PlannerArg::Native => Self::Native,
            PlannerArg::Ort => Self::Ort,
        }
    }
}

/// Evaluate a lateral controller on tinyphysics segments (costs per segment and their mean).
#[derive(Debug, Parser)]
#[command(
    allow_negative_numbers = true,
    after_help = "\
Writes:
  standard output    the per-segment costs, their mean and the executor's report
  --out FILE.json    {\"run\": {tool, version, provenance, machine, config, seed, inputs, timings},
                     \"controller\", \"segments\": [{index, file, lataccel_cost, jerk_cost,
                     total_cost, seconds, cpu_seconds, resumed}], \"mean\": {lataccel_cost,
                     jerk_cost, total_cost}, \"resumed\", \"executor\", \"journal\"}, atomically
  FILE.json.jsonl    the journal: one line per finished segment (with its trace under --trace),
                     appended as it finishes; it stays after the run, and a rerun with the same
                     settings resumes from it (--fresh starts over)
  --trace DIR        DIR/<segment>.trace.csv per segment, atomically, columns: step, time_s,
                     target_lataccel, current_lataccel, pred_lataccel, expected_lataccel,
                     action, roll_lataccel, v_ego, a_ego, token, uniform_u, in_cost_window

--config MPC.json (with --controller mpc) is a JSON object with any of the fields of the MPC
controller, missing ones at their defaults; unknown fields are refused:
  horizon (10, 1..19), samples (24), iterations (2), elites (6, at most samples),
  smoothness (20000), noise_std (0.03), min_std (0.01), noise_correlation (0.9, in [0, 1)),
  warm_start (true), rollout (\"expected\" or \"sampled\"), warmup_steer_gain (2.0)
Example: {\"horizon\": 12, \"samples\": 64}"
)]
struct Args {
    #[command(flatten)]
    exec: ExecArgs,
    /// ONNX dynamics model with the tinyphysics interface [default: the fixture model
    /// fixtures/mpc/tiny_dynamics.onnx].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Segment CSV files, or folders whose *.csv files are taken in name order [default:
    /// synthetic segments, see --synthetic].
    #[arg(long, num_args = 1..)]
    data: Vec<PathBuf>,
    /// The controller.
    #[arg(long, value_enum, default_value_t = ControllerArg::Pid)]
    controller: ControllerArg,
    /// MPC configuration file (a JSON object; fields below); only with --controller mpc.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The MPC planner's model implementation.
    #[arg(long, value_enum, default_value_t = PlannerArg::Auto)]
    planner: PlannerArg,
    /// Evaluate only the first N segments [default: all].
    #[arg(long, value_parser = count_in(1, MAX_SEGMENTS))]
    segments: Option<usize>,
    /// Number of synthetic segments (600 rows each, from the seeded generator) when no --data
    /// is given.
    #[arg(long, default_value_t = 4, value_parser = count_in(1, MAX_SYNTHETIC), conflicts_with = "data")]
    synthetic: usize,
    /// Seed-key prefix put before each file name: a segment's simulator seed is the MD5 rule
    /// applied to it (`data/`, the official rule).
    #[arg(long, default_value = "data/")]
    seed_prefix: String,
    /// Run seed: a stochastic controller's seed for segment i derives from (seed, i).
    #[arg(long, default_value_t = 0, value_parser = seed)]
    seed: u64,
    /// Write the results and the run's description to this JSON file, and keep the journal
    /// <OUT>.jsonl beside it: a rerun of the same command resumes from it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write each segment's per-step trace as CSV into this folder (created if needed).
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Ignore and delete the journal of an earlier run instead of resuming from it.
    #[arg(long, requires = "out")]
    fresh: bool,
}

/// The journal kept beside the result file `out`.
fn journal_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".jsonl");
    PathBuf::from(name)
}

/// The segment files named by `inputs`: files as given, folders' `*.csv` files sorted.
fn collect_files(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("reading the folder {}", input.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "csv"))
                .collect();
            if found.is_empty() {
                bail!(
                    "{}: no segment files (*.csv) in this folder: nothing to evaluate",
                    input.display()
                );
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// The name of a segment's trace file.
fn trace_name(file: &str) -> String {
    let stem = Path::new(file)
        .file_stem()
        .map_or_else(|| file.to_string(), |s| s.to_string_lossy().into_owned());
    format!("{stem}.trace.csv")
}

fn main() -> ExitCode {
    serve_if_worker(&Registry::new().with::<SegmentsJob>());
    par_cli::main_with(run)
}

fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut record = RunRecord::start(
        "mpc eval",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_MANIFEST_DIR"),
    );

    // The executor first: with --mode mpi it starts MPI, and only rank 0 prints and writes.
    let exec_config = ExecConfig {
        label: "segments".into(),
        ..args.exec.exec_config(args.seed)
    };
    let exec = Executor::new(exec_config.clone())?;
    let root = par_core::mpi::is_root();

    // Outputs first: a run must not compute for minutes and then find it cannot write.
    let journal = args.out.as_deref().map(journal_path);
    let files: Vec<PathBuf> = args.out.iter().chain(&journal).cloned().collect();
    let folders: Vec<PathBuf> = args.trace.iter().cloned().collect();
    check_writable_on_root(&exec, &folders, &files)?;

    // Settings.
    let controller = match (args.controller, &args.config) {
        (ControllerArg::Zero | ControllerArg::Pid, Some(_)) => {
            bail!("--config applies to --controller mpc only")
        }
        (ControllerArg::Zero, None) => ControllerSpec::Zero,
        (ControllerArg::Pid, None) => ControllerSpec::Pid,
        (ControllerArg::Mpc, None) => ControllerSpec::Mpc(MpcConfig::default()),
        (ControllerArg::Mpc, Some(path)) => {
            let config: MpcConfig = par_cli::config_file::read_object(path)?;
            config
                .validate()
                .with_context(|| format!("{}: the MPC configuration", path.display()))?;
            record.add_input(path)?;
            ControllerSpec::Mpc(config)
        }
    };
    let model = args.model.clone().unwrap_or_else(|| {
        let fixture = mpc::fixture::fixture_model_path();
        std::fs::canonicalize(&fixture).unwrap_or(fixture)
    });
    record.add_input(&model).context("the model (--model)")?;

    // Inputs.
    let mut segments: Vec<Segment> = if args.data.is_empty() {
        // Each segment holds 600 rows of five columns, and the job a copy of each.
        let bytes = args.synthetic as u128 * 600 * 6 * 8 * 2;
        par_cli::memory::ensure_fits(&format!("{} synthetic segments", args.synthetic), bytes)?;
        (0..args.synthetic)
            .map(|k| {
                let rows = mpc::fixture::synthetic_rows(k as u64, 600);
                Segment::from_rows(&rows, Path::new(&format!("synthetic-{k:05}.csv")))
            })
            .collect::<Result<_, _>>()?
    } else {
        let files = collect_files(&args.data)?;
        let segments = files
            .iter()
            .map(Segment::load)
            .collect::<Result<Vec<_>, _>>()?;
        for input in &args.data {
            record.add_input(input)?;
        }
        segments
    };
    let available = segments.len();
    if let Some(n) = args.segments {
        segments.truncate(n);
    }
    if let Some(dir) = &args.trace {
        let mut seen: HashMap<String, &Path> = HashMap::new();
        for s in &segments {
            if let Some(other) = seen.insert(trace_name(&s.file_name()), &s.path) {
                bail!(
                    "{} and {} would write the same trace file {}: evaluate segments with \
                     distinct file names",
                    other.display(),
                    s.path.display(),
                    dir.join(trace_name(&s.file_name())).display()
                );
            }
        }
    }

    let planner = PlannerModel::from(args.planner);
    let config = EvalConfig {
        model: model.clone(),
        controller,
        sim: SimOptions {
            seed_key: SeedKey::Prefix(args.seed_prefix.clone()),
            record_trace: args.trace.is_some(),
            ..SimOptions::default()
        },
        planner,
        ort: OrtOptions::default(),
        exec: exec_config,
    };
    let planner_used = match &config.controller {
        ControllerSpec::Mpc(_) => Some(planner.resolve(&model)?.name()),
        _ => None,
    };
    record.seed = Some(args.seed);
    record.set_config(&serde_json::json!({
        "model": model,
        "controller": config.controller,
        "sim": config.sim,
        "planner": {"requested": planner.name(), "used": planner_used},
        "ort": config.ort,
        "mode": config.exec.mode.to_string(),
        "segments": {
            "source": if args.data.is_empty() { "synthetic" } else { "files" },
            "available": available,
            "evaluated": segments.len(),
            "files": segments.iter().map(Segment::file_name).collect::<Vec<_>>(),
        },
        "out": args.out,
        "trace": args.trace,
    }));

    if root {
        println!(
            "controller {} on {} of {available} segments, model {}, mode {}",
            config.controller.name(),
            segments.len(),
            model.display(),
            config.exec.mode
        );
        if let ControllerSpec::Mpc(c) = &config.controller {
            println!(
                "mpc configuration: {} (planner {})",
                serde_json::to_string(c)?,
                planner_used.unwrap_or("-")
            );
        }
        if matches!(config.exec.mode, Mode::Processes { .. }) {
            println!("segments run in worker processes (copies of this program)");
        }
    }

    // Under MPI every rank evaluates and gets the same result; rank 0 alone reads and writes
    // the journal.
    let evaluation = match &journal {
        Some(journal) => {
            if root && args.fresh && journal.exists() {
                std::fs::remove_file(journal)
                    .with_context(|| format!("removing the journal {}", journal.display()))?;
            }
            evaluate_resumable(&segments, &config, journal).with_context(|| {
                format!(
                    "finished segments are kept in {}: rerun the same command to resume",
                    journal.display()
                )
            })?
        }
        None => evaluate(&segments, &config)?,
    };
    if !root {
        return Ok(());
    }
    if evaluation.resumed > 0 {
        println!(
            "{} of {} segments read back from {}",
            evaluation.resumed,
            segments.len(),
            journal.as_deref().unwrap_or(Path::new("-")).display()
        );
    }
    print!("{}", evaluation.table());
    println!("\n{}", evaluation.report);

    if let Some(dir) = &args.trace {
        for s in &evaluation.segments {
            let rows = s.trace.as_deref().unwrap_or_default();
            let path = dir.join(trace_name(&s.file));
            write_atomic(&path, trace_csv(rows).as_bytes())
                .with_context(|| format!("writing the trace of {}", s.file))?;
        }
        println!(
            "wrote {} traces into {}",
            evaluation.segments.len(),
            dir.display()
        );
    }
    if let Some(out) = &args.out {
        record.finish();
        let mut result = evaluation.to_json();
        result["run"] = serde_json::to_value(&record)?;
        result["controller"] = config.controller.name().into();
        result["resumed"] = evaluation.resumed.into();
        result["executor"] = serde_json::to_value(&evaluation.report)?;
        result["journal"] = serde_json::to_value(&journal)?;
        write_json(out, &result)
            .with_context(|| format!("writing the result to {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
