//! Scenario `mpc-mpi` (`cargo xtask bench --mpi`): the segment evaluation (the PID controller,
//! one closed-loop rollout per segment) on `Mode::Mpi` against `Threads` at the same worker
//! count, at 1, 2 and 4 ranks, with the scaling model to 64 and 1,024 ranks. See
//! `par_core::bench::mpi` for the two-phase run (rows measured under `mpirun`, then
//! assembled) and the model.
//!
//! On the tinyphysics model and its first segments when `../shared/tinyphysics` (or
//! `TINYPHYSICS_DIR`) is present, on the fixture model and synthetic segments otherwise; the
//! workload name says which. Each rank's ONNX Runtime sessions use one intra-op thread, so
//! that one task is one core. The gap metric is threads efficiency minus MPI (dynamic)
//! efficiency at 2 ranks against 2 threads, in points: positive when MPI is the less
//! efficient, so "within 5 points" is a gap of at most 5.

use std::path::PathBuf;
use std::process::ExitCode;

use mpc::eval::{ControllerSpec, EvalConfig, PlannerModel, SegmentsJob};
use mpc::fixture::{fixture_model_path, reference_dir, reference_segments, synthetic_rows};
use mpc::{OrtOptions, Segment, SimOptions};
use par_core::bench::mpi::{MpiRow, RowMetric, measure_row, push_row_metric, run_mpi_scenario};
use par_core::bench::{BenchArgs, Better, Declared, ScenarioError, ScenarioRun};
use par_core::{ExecConfig, Mode, Progress};

const TARGETS: &[Declared] = &[
    Declared::new(
        "mpi_vs_threads_efficiency_gap_mpc",
        "points",
        Better::Lower,
        "Threads efficiency at 2 workers minus MPI (dynamic, 1 thread per rank) efficiency at 2 \
         ranks, PID segment evaluation: at most 5 means MPI within 5 points of Threads",
    )
    .target(5.0),
    Declared::new(
        "mpi_efficiency_mpc_2r",
        "ratio",
        Better::Higher,
        "efficiency of MPI (dynamic, 1 thread per rank) at 2 ranks, PID segment evaluation",
    ),
    Declared::new(
        "mpi_comm_per_task_us_mpc_2r",
        "us",
        Better::Lower,
        "communication time of the ranks other than 0 per segment, 2 ranks",
    ),
    Declared::new(
        "mpi_gather_per_task_us_mpc_2r",
        "us",
        Better::Lower,
        "rank 0's time receiving and decoding per segment result gathered, 2 ranks",
    ),
];

/// The model, the segments and a label saying which.
fn data(count: usize) -> Result<(PathBuf, Vec<Segment>, String), ScenarioError> {
    Ok(match reference_dir() {
        Some(dir) => {
            let files = reference_segments(&dir);
            let segments = files
                .iter()
                .take(count)
                .map(Segment::load)
                .collect::<Result<Vec<_>, _>>()?;
            let label = format!("PID on {} tinyphysics segments", segments.len());
            (dir.join("tinyphysics.onnx"), segments, label)
        }
        None => {
            let segments = (0..count as u64)
                .map(|k| Segment::from_rows(&synthetic_rows(k, 600), format!("{k:05}.csv")))
                .collect::<Result<Vec<_>, _>>()?;
            let label =
                format!("PID on {count} synthetic segments, fixture model (no tinyphysics pack)");
            (fixture_model_path(), segments, label)
        }
    })
}

/// Segments per run: a quick run takes 8 (about half a second each on the tinyphysics model),
/// a full one 200 (the reference pack has 20: all of them).
fn segment_count(args: &BenchArgs) -> usize {
    if args.full { 200 } else { 8 }
}

fn measure(args: &BenchArgs) -> Result<Vec<MpiRow>, ScenarioError> {
    par_core::mpi::init()?;
    let reps = if args.full { 7 } else { 3 };
    let (model, segments, label) = data(segment_count(args))?;
    let config = EvalConfig {
        model,
        controller: ControllerSpec::Pid,
        sim: SimOptions::default(),
        planner: PlannerModel::Auto,
        ort: OrtOptions::official(),
        exec: ExecConfig {
            progress: Progress::Hidden,
            ..ExecConfig::with_mode(Mode::Sequential)
        },
    };
    let job = SegmentsJob::new(&segments, &config)?;
    Ok(measure_row(&label, &job, job.tasks(), reps)?
        .into_iter()
        .collect())
}

fn metrics(rows: &[MpiRow], run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let Some(workload) = rows.first().map(|r| r.workload.clone()) else {
        return Err("no rows".into());
    };
    for (name, what) in [
        (
            "mpi_vs_threads_efficiency_gap_mpc",
            RowMetric::EfficiencyGap,
        ),
        ("mpi_efficiency_mpc_2r", RowMetric::MpiEfficiency),
        ("mpi_comm_per_task_us_mpc_2r", RowMetric::CommPerTaskUs),
        ("mpi_gather_per_task_us_mpc_2r", RowMetric::GatherPerTaskUs),
    ] {
        push_row_metric(&mut run.report, name, what, rows, &workload, 2);
    }
    Ok(())
}

fn main() -> ExitCode {
    run_mpi_scenario("mpc-mpi", TARGETS, measure, metrics)
}
