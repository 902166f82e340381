//! Scenario `mpc` for `cargo xtask bench`: simulator exactness, segment-level parallelism,
//! batched against per-candidate rollouts, and the MPC controller's cost and time.
//!
//! Runs on the real tinyphysics model and segments when `../shared/tinyphysics` (or
//! `TINYPHYSICS_DIR`) is present, on the fixture model and synthetic segments otherwise.

use std::path::{Path, PathBuf};
use std::time::Instant;

use mpc::cem::{MpcConfig, MpcController};
use mpc::controller::Observation;
use mpc::eval::{ControllerSpec, EvalConfig, evaluate};
use mpc::fixture::{fixture_model_path, reference_dir, reference_segments, synthetic_rows};
use mpc::model::DynamicsModel;
use mpc::{
    Controller, MpcError, OrtModel, OrtOptions, PidController, Segment, SimOptions, Simulator,
    ZeroController,
};
use par_core::bench::{BenchArgs, Better, Metric, Plot, ScenarioReport, Series, Table};
use par_core::{ExecConfig, Mode, Progress};

/// Splits every batch into batch-1 calls: the one-call-per-candidate baseline.
struct PerCall<M>(M);

impl<M: DynamicsModel> DynamicsModel for PerCall<M> {
    fn last_logits(
        &mut self,
        states: &[f32],
        tokens: &[i64],
        batch: usize,
        logits: &mut Vec<f32>,
    ) -> Result<(), MpcError> {
        let mut one = Vec::new();
        logits.clear();
        let (s, t) = (states.len() / batch.max(1), tokens.len() / batch.max(1));
        for b in 0..batch {
            self.0.last_logits(
                &states[b * s..(b + 1) * s],
                &tokens[b * t..(b + 1) * t],
                1,
                &mut one,
            )?;
            logits.extend_from_slice(&one);
        }
        Ok(())
    }
}

/// Plans with the MPC controller for the first `limit` controlled steps, PID afterwards, and
/// records the time spent planning.
struct Limited<C> {
    mpc: C,
    pid: PidController,
    limit: usize,
    planned: usize,
    seconds: f64,
}

impl<C: Controller> Controller for Limited<C> {
    fn update(&mut self, obs: &Observation<'_>) -> Result<f64, MpcError> {
        let pid = self.pid.update(obs)?;
        if obs.step < 100 + self.limit {
            let start = Instant::now();
            let a = self.mpc.update(obs)?;
            if obs.step >= 100 {
                self.seconds += start.elapsed().as_secs_f64();
                self.planned += 1;
                return Ok(a);
            }
        }
        Ok(pid)
    }
}

fn load(path: &Path, options: OrtOptions) -> OrtModel {
    OrtModel::load(path, options).unwrap_or_else(|e| {
        eprintln!("mpc bench: {e}\nrun `cargo xtask setup` first");
        std::process::exit(1)
    })
}

fn main() {
    let args = BenchArgs::from_env().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let mut report = ScenarioReport::new("mpc", !args.full);
    let reference = reference_dir();
    let (model_path, segments): (PathBuf, Vec<Segment>) = match &reference {
        Some(dir) => (
            dir.join("tinyphysics.onnx"),
            reference_segments(dir)
                .iter()
                .map(|p| Segment::load(p).expect("reference segment"))
                .collect(),
        ),
        None => {
            report.notes.push(
                "tinyphysics reference pack absent: fixture model and 8 synthetic segments used; no golden check"
                    .into(),
            );
            (
                fixture_model_path(),
                (0..8)
                    .map(|k| {
                        Segment::from_rows(&synthetic_rows(k, 600), format!("{k:05}.csv")).unwrap()
                    })
                    .collect(),
            )
        }
    };
    report
        .notes
        .push(format!("model: {}", model_path.display()));

    // 1. Exactness against the official simulator's golden costs.
    let mut pid_costs = Vec::new();
    if let Some(dir) = &reference {
        let golden: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("golden_costs.json")).expect("golden_costs.json"),
        )
        .expect("golden json");
        let mut sim = Simulator::new(load(&model_path, OrtOptions::official()));
        let mut worst: f64 = 0.0;
        let start = Instant::now();
        for seg in &segments {
            let stem = seg.file_name().trim_end_matches(".csv").to_owned();
            for name in ["pid", "zero"] {
                let mut c: Box<dyn Controller> = if name == "pid" {
                    Box::new(PidController::default())
                } else {
                    Box::new(ZeroController)
                };
                let r = sim
                    .rollout(seg, &mut c, &SimOptions::default())
                    .expect("rollout");
                if name == "pid" {
                    pid_costs.push(r.costs.total_cost);
                }
                for (key, have) in [
                    ("lataccel_cost", r.costs.lataccel_cost),
                    ("jerk_cost", r.costs.jerk_cost),
                    ("total_cost", r.costs.total_cost),
                ] {
                    let want = golden["files"][&stem][name][key]
                        .as_f64()
                        .expect("golden value");
                    worst = worst.max((have - want).abs() / want.abs());
                }
            }
        }
        let per_rollout = start.elapsed().as_secs_f64() / (2 * segments.len()) as f64;
        report.metrics.push(
            Metric::new("golden_max_rel_err", worst, "ratio", Better::Lower).with_target(1e-6),
        );
        report.metrics.push(Metric::new(
            "sim_seconds_per_segment",
            per_rollout,
            "s",
            Better::Lower,
        ));
    }

    // 2. Segments in parallel: PID on every segment, 1 worker against each worker count.
    let eval = |mode: Mode| {
        let config = EvalConfig {
            model: model_path.clone(),
            controller: ControllerSpec::Pid,
            sim: SimOptions::default(),
            // One intra-op thread at every worker count, so the sequential baseline is one core.
            ort: OrtOptions::official(),
            exec: ExecConfig {
                progress: Progress::Hidden,
                ..ExecConfig::with_mode(mode)
            },
        };
        let start = Instant::now();
        let e = evaluate(&segments, &config).expect("evaluation");
        (start.elapsed().as_secs_f64(), e)
    };
    let (t1, base) = eval(Mode::Sequential);
    let mut speedups = vec![(1.0, 1.0)];
    let mut rows = vec![vec![
        "1".into(),
        format!("{t1:.3}"),
        "1.00".into(),
        "1.00".into(),
    ]];
    for &w in args.workers.iter().filter(|&&w| w > 1) {
        let (tw, e) = eval(Mode::Threads { workers: w });
        assert_eq!(
            base.segments.iter().map(|s| s.costs).collect::<Vec<_>>(),
            e.segments.iter().map(|s| s.costs).collect::<Vec<_>>(),
            "results identical for every worker count"
        );
        let speedup = t1 / tw;
        let efficiency = speedup / w as f64;
        speedups.push((w as f64, speedup));
        rows.push(vec![
            w.to_string(),
            format!("{tw:.3}"),
            format!("{speedup:.2}"),
            format!("{efficiency:.2}"),
        ]);
        if w == 2 {
            report.metrics.push(
                Metric::new(
                    "segments_efficiency_2w",
                    efficiency,
                    "ratio",
                    Better::Higher,
                )
                .with_target(0.9),
            );
        }
    }
    report.tables.push(Table {
        title: format!(
            "PID on {} segments, segments in parallel (par-core Threads)",
            segments.len()
        ),
        header: vec![
            "workers".into(),
            "wall_s".into(),
            "speedup".into(),
            "efficiency".into(),
        ],
        rows,
    });
    report.plots.push(Plot {
        name: "segments_speedup".into(),
        title: "Segment-level speed-up".into(),
        x_label: "workers".into(),
        y_label: "speed-up".into(),
        log_x: false,
        log_y: false,
        series: vec![Series {
            label: "pid evaluation".into(),
            points: speedups,
        }],
    });

    // 3. Batched rollout against one call per candidate, same controller and model.
    let seg = &segments[0];
    let steps = if args.full { 20 } else { 4 };
    let config = MpcConfig {
        horizon: 10,
        samples: 64,
        iterations: 1,
        elites: 8,
        ..MpcConfig::default()
    };
    let mut sim = Simulator::new(load(&model_path, OrtOptions::official()));
    let mut throughput = Vec::new();
    for per_call in [false, true] {
        let planner = load(&model_path, OrtOptions::official());
        let mpc: Box<dyn Controller> = if per_call {
            Box::new(MpcController::new(PerCall(planner), config.clone(), 1).expect("config"))
        } else {
            Box::new(MpcController::new(planner, config.clone(), 1).expect("config"))
        };
        let mut c = Limited {
            mpc,
            pid: PidController::default(),
            limit: steps,
            planned: 0,
            seconds: 0.0,
        };
        sim.rollout(seg, &mut c, &SimOptions::default())
            .expect("rollout");
        let candidate_steps = (c.planned * config.samples_per_step()) as f64;
        throughput.push(candidate_steps / c.seconds);
    }
    report.metrics.push(Metric::new(
        "rollout_candidate_steps_per_s_batched",
        throughput[0],
        "1/s",
        Better::Higher,
    ));
    report.metrics.push(Metric::new(
        "rollout_candidate_steps_per_s_per_call",
        throughput[1],
        "1/s",
        Better::Higher,
    ));
    report.metrics.push(
        Metric::new(
            "rollout_speedup_vs_per_call",
            throughput[0] / throughput[1],
            "ratio",
            Better::Higher,
        )
        .with_target(3.0),
    );
    report.notes.push(format!(
        "rollout throughput: H={} S={} one iteration, {steps} planned steps each, one intra-op thread",
        config.horizon, config.samples
    ));

    // 4. The default MPC configuration: time per planned step (quick) or whole segments (full).
    let default = MpcConfig::default();
    if args.full {
        let config = EvalConfig {
            model: model_path.clone(),
            controller: ControllerSpec::Mpc(default.clone()),
            sim: SimOptions::default(),
            ort: OrtOptions::default(),
            exec: ExecConfig {
                seed: 1,
                progress: Progress::Hidden,
                ..ExecConfig::with_mode(Mode::Threads {
                    workers: *args.workers.iter().max().unwrap_or(&1),
                })
            },
        };
        let e = evaluate(&segments, &config).expect("mpc evaluation");
        let pid = evaluate(
            &segments,
            &EvalConfig {
                controller: ControllerSpec::Pid,
                ..config.clone()
            },
        )
        .expect("pid evaluation");
        let secs = e.segments.iter().map(|s| s.seconds).sum::<f64>() / e.segments.len() as f64;
        report.metrics.push(
            Metric::new(
                "mpc_cost_ratio_vs_pid",
                e.mean.total_cost / pid.mean.total_cost,
                "ratio",
                Better::Lower,
            )
            .with_target(0.7),
        );
        report.metrics.push(
            Metric::new("mpc_seconds_per_segment", secs, "s", Better::Lower).with_target(120.0),
        );
        report.tables.push(Table {
            title: "MPC (default configuration) against PID, whole segments".into(),
            header: vec![
                "file".into(),
                "mpc_total".into(),
                "pid_total".into(),
                "mpc_s".into(),
            ],
            rows: e
                .segments
                .iter()
                .zip(&pid.segments)
                .map(|(m, p)| {
                    vec![
                        m.file.clone(),
                        format!("{:.3}", m.costs.total_cost),
                        format!("{:.3}", p.costs.total_cost),
                        format!("{:.1}", m.seconds),
                    ]
                })
                .collect(),
        });
    } else {
        let planner = load(&model_path, OrtOptions::official());
        let mpc = MpcController::new(planner, default.clone(), 1).expect("config");
        let limit = 10;
        let mut c = Limited {
            mpc,
            pid: PidController::default(),
            limit,
            planned: 0,
            seconds: 0.0,
        };
        sim.rollout(seg, &mut c, &SimOptions::default())
            .expect("rollout");
        let per_step = c.seconds / c.planned as f64;
        report.metrics.push(Metric::new(
            "mpc_seconds_per_planned_step",
            per_step,
            "s",
            Better::Lower,
        ));
        report.metrics.push(Metric::new(
            "mpc_seconds_per_segment_projected",
            per_step * 400.0,
            "s",
            Better::Lower,
        ));
        report.notes.push(format!(
            "quick run: the default MPC configuration ({}) is timed on {limit} planned steps and projected to the 400 planned steps of a segment; `--full` runs whole segments and measures its cost against PID",
            serde_json::to_string(&default).unwrap_or_default()
        ));
    }
    if !pid_costs.is_empty() {
        report.notes.push(format!(
            "PID mean total cost on the reference segments: {:.6}",
            pid_costs.iter().sum::<f64>() / pid_costs.len() as f64
        ));
    }
    let path = report.write(&args.out).expect("write report");
    println!("wrote {}", path.display());
    for m in &report.metrics {
        println!("{:<45} {:>14.6} {}", m.name, m.value, m.unit);
    }
}
