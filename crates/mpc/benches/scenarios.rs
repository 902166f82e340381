//! Scenario `mpc` for `cargo xtask bench`: simulator exactness, segment-level parallelism,
//! batched against per-candidate rollouts, and the MPC controller's cost and time.
//!
//! Runs on the real tinyphysics model and segments when `../shared/tinyphysics` (or
//! `TINYPHYSICS_DIR`) is present, on the fixture model and synthetic segments otherwise.

use std::path::{Path, PathBuf};
use std::time::Instant;

use mpc::cem::{MpcConfig, MpcController};
use mpc::controller::Observation;
use mpc::eval::{ControllerSpec, EvalConfig, Evaluation, PlannerModel, evaluate};
use mpc::fixture::{
    fixture_model_path, reference_dir, reference_segments, synthetic_rows, transformer_fixture_path,
};
use mpc::model::DynamicsModel;
use mpc::{
    Controller, MpcError, NativeModel, OrtModel, OrtOptions, PidController, Segment, SimOptions,
    Simulator, ZeroController,
};
use par_core::bench::{
    BenchArgs, Better, Metric, Plot, ScenarioReport, Series, Table, thread_cpu_seconds,
};
use par_core::{ExecConfig, Executor, Mode, Progress, TaskContext};

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
/// records the time spent planning (wall, and CPU time of the thread).
struct Limited<C> {
    mpc: C,
    pid: PidController,
    limit: usize,
    planned: usize,
    seconds: f64,
    cpu: f64,
}

fn cpu_now() -> f64 {
    thread_cpu_seconds().unwrap_or(0.0)
}

impl<C: Controller> Controller for Limited<C> {
    fn update(&mut self, obs: &Observation<'_>) -> Result<f64, MpcError> {
        let pid = self.pid.update(obs)?;
        if obs.step < 100 + self.limit {
            let start = Instant::now();
            let cpu = cpu_now();
            let a = self.mpc.update(obs)?;
            if obs.step >= 100 {
                self.seconds += start.elapsed().as_secs_f64();
                self.cpu += cpu_now() - cpu;
                self.planned += 1;
                return Ok(a);
            }
        }
        Ok(pid)
    }
}

/// The model the native rollout uses: the simulator's model when it is the tinyphysics
/// transformer, else the fixture transformer (the stand-in `tiny_dynamics.onnx` is not one).
fn native_model_path(model_path: &Path) -> PathBuf {
    if NativeModel::load(model_path).is_ok() {
        model_path.to_path_buf()
    } else {
        transformer_fixture_path()
    }
}

/// A naive row-major GEMM (`i-k-j` loops, the inner loop vectorisable), for comparison.
fn naive_gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    c.iter_mut().for_each(|x| *x = 0.0);
    for i in 0..m {
        let ci = &mut c[i * n..(i + 1) * n];
        for (p, &aip) in a[i * k..(i + 1) * k].iter().enumerate() {
            for (cij, &bpj) in ci.iter_mut().zip(&b[p * n..(p + 1) * n]) {
                *cij += aip * bpj;
            }
        }
    }
}

/// GFLOP/s of the native model's GEMM (`mpc::native::gemm`, over `matrixmultiply::sgemm`) against
/// naive loops at the native model's shapes.
fn gemm_table() -> Table {
    let shapes = [
        (64, 128, 384),
        (640, 128, 384),
        (640, 128, 512),
        (640, 512, 128),
        (64, 128, 1024),
    ];
    let mut rows = Vec::new();
    for (m, k, n) in shapes {
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7919) % 1000) as f32 * 1e-3)
            .collect();
        let b: Vec<f32> = (0..k * n)
            .map(|i| ((i * 104_729) % 1000) as f32 * 1e-3)
            .collect();
        let mut c = vec![0.0f32; m * n];
        let flop = 2.0 * (m * k * n) as f64;
        let reps = (2e8 / flop).ceil() as usize;
        let start = cpu_now();
        for _ in 0..reps {
            mpc::native::gemm(m, k, n, &a, k, &b, n, &mut c, n, false);
        }
        let mm = flop * reps as f64 / (cpu_now() - start) / 1e9;
        let check = c.clone();
        let start = cpu_now();
        for _ in 0..reps {
            naive_gemm(m, k, n, &a, &b, &mut c);
        }
        let naive = flop * reps as f64 / (cpu_now() - start) / 1e9;
        let err = c
            .iter()
            .zip(&check)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-2, "the two GEMMs disagree by {err}");
        rows.push(vec![
            format!("{m}x{k} @ {k}x{n}"),
            format!("{mm:.1}"),
            format!("{naive:.1}"),
        ]);
    }
    Table {
        title:
            "f32 GEMM on one core, GFLOP/s per CPU second (the native model uses matrixmultiply)"
                .into(),
        header: vec![
            "shape".into(),
            "matrixmultiply".into(),
            "naive_loops".into(),
        ],
        rows,
    }
}

/// The design table that motivated the crate: four configurations with 3 iterations, time per
/// segment sequential and with 2 workers, and the total cost in `--full` mode.
fn design_table(
    model_path: &Path,
    segments: &[Segment],
    full: bool,
    notes: &mut Vec<String>,
) -> Table {
    let designs = [
        ("Baseline", 12, 150, 1000.0, 0.15),
        ("Speed-opt", 15, 100, 5000.0, 0.08),
        ("Parallel-bad", 12, 80, 6000.0, 0.08),
        ("Parallel-good", 15, 120, 8000.0, 0.06),
    ];
    let pair = &segments[..2.min(segments.len())];
    let steps = 3;
    let mut rows = Vec::new();
    for (name, horizon, samples, smoothness, noise_std) in designs {
        let config = MpcConfig {
            horizon,
            samples,
            iterations: 3,
            elites: samples / 10,
            smoothness,
            noise_std,
            ..MpcConfig::default()
        };
        let par_cpu;
        let (seq, par, cost) = if full {
            let eval = |workers: usize, segs: &[Segment]| {
                let mode = if workers > 1 {
                    Mode::Threads { workers }
                } else {
                    Mode::Sequential
                };
                evaluate(
                    segs,
                    &EvalConfig {
                        model: model_path.to_path_buf(),
                        controller: ControllerSpec::Mpc(config.clone()),
                        sim: SimOptions::default(),
                        planner: PlannerModel::Auto,
                        ort: OrtOptions::official(),
                        exec: ExecConfig {
                            seed: 1,
                            progress: Progress::Hidden,
                            ..ExecConfig::with_mode(mode)
                        },
                    },
                )
                .expect("design evaluation")
            };
            let start = Instant::now();
            eval(1, &pair[..1]);
            let seq = start.elapsed().as_secs_f64();
            let start = Instant::now();
            let two = eval(2, pair);
            let par = start.elapsed().as_secs_f64() / pair.len() as f64;
            par_cpu =
                two.segments.iter().map(|x| x.cpu_seconds).sum::<f64>() / two.segments.len() as f64;
            (seq, par, format!("{:.3}", two.mean.total_cost))
        } else {
            // A fixed number of planned steps per segment, projected to the 400 of a segment.
            let plan = |seg: &Segment| {
                let planner = PlannerModel::Auto
                    .load(model_path, OrtOptions::official())
                    .expect("planner");
                let mut sim = Simulator::new(load(model_path, OrtOptions::official()));
                let mut c = Limited {
                    mpc: MpcController::new(planner, config.clone(), 1).expect("config"),
                    pid: PidController::default(),
                    limit: steps,
                    planned: 0,
                    seconds: 0.0,
                    cpu: 0.0,
                };
                sim.rollout(seg, &mut c, &SimOptions::default())
                    .expect("rollout");
                (c.cpu / c.planned as f64, c.seconds / c.planned as f64)
            };
            let seq = plan(&pair[0]).0 * 400.0;
            let exec = Executor::new(ExecConfig {
                progress: Progress::Hidden,
                ..ExecConfig::with_mode(Mode::Threads { workers: 2 })
            })
            .expect("executor");
            let out = exec
                .map(pair.len(), |ctx: &mut TaskContext| plan(&pair[ctx.index]))
                .expect("parallel planning");
            let per_step: Vec<(f64, f64)> =
                out.results.into_iter().map(|r| r.expect("task")).collect();
            let n = per_step.len() as f64;
            // Two segments at once: the wall time per segment is half each one's time.
            let par = per_step.iter().map(|p| p.1).sum::<f64>() / n * 400.0 / n;
            par_cpu = per_step.iter().map(|p| p.0).sum::<f64>() / n * 400.0;
            (seq, par, "(--full)".to_owned())
        };
        rows.push(vec![
            name.into(),
            format!("H={horizon} S={samples} W={smoothness} std={noise_std}"),
            (horizon * samples * 3).to_string(),
            format!("{seq:.1}"),
            format!("{par_cpu:.1}"),
            format!("{par:.1}"),
            format!("{:.2}", seq / par),
            cost,
        ]);
    }
    notes.push(if full {
        format!(
            "design table: whole segments; sequential time on {}, 2-worker wall time per segment and mean total cost on {} segments; 3 iterations, elites = samples/10, native planner",
            pair[0].file_name(),
            pair.len()
        )
    } else {
        format!(
            "design table (quick): each configuration plans {steps} control steps on {} segments (PID elsewhere) and the planning time is projected to the 400 planned steps of a segment (1 worker: CPU time of the thread; 2 workers: each thread's CPU time, and the wall time while both segments plan at once, halved; wall times are disturbed by other processes on this machine); costs need `--full` (whole segments); 3 iterations, elites = samples/10, native planner",
            pair.len()
        )
    });
    Table {
        title: "Design table: time per segment, 1 and 2 workers".into(),
        header: vec![
            "design".into(),
            "config".into(),
            "samples_per_step".into(),
            "s_per_segment_1w".into(),
            "cpu_s_per_segment_2w".into(),
            "wall_s_per_segment_2w".into(),
            "speedup_2w".into(),
            "mean_total".into(),
        ],
        rows,
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
            planner: PlannerModel::Auto,
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
    // Repetitions interleave the worker counts and keep the best wall time of each, so that a
    // burst of load from other processes hits one repetition rather than one worker count.
    let reps = if args.full { 5 } else { 3 };
    let parallel: Vec<usize> = args.workers.iter().copied().filter(|&w| w > 1).collect();
    let mut best_t1 = f64::INFINITY;
    let mut best_tw = vec![f64::INFINITY; parallel.len()];
    for _ in 0..reps {
        let (t1, e1) = eval(Mode::Sequential);
        best_t1 = best_t1.min(t1);
        for (k, &w) in parallel.iter().enumerate() {
            let (tw, e) = eval(Mode::Threads { workers: w });
            assert_eq!(
                e1.segments.iter().map(|s| s.costs).collect::<Vec<_>>(),
                e.segments.iter().map(|s| s.costs).collect::<Vec<_>>(),
                "results identical for every worker count"
            );
            best_tw[k] = best_tw[k].min(tw);
        }
    }
    let t1 = best_t1;
    let mut speedups = vec![(1.0, 1.0)];
    let mut rows = vec![vec![
        "1".into(),
        format!("{t1:.3}"),
        "1.00".into(),
        "1.00".into(),
    ]];
    for (&w, &tw) in parallel.iter().zip(&best_tw) {
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
            "PID on {} segments, segments in parallel (par-core Threads; best wall time of {reps} interleaved repetitions)",
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

    // 3. Rollout throughput: the native prefix-shared batched rollout, the batched ONNX Runtime
    //    rollout and one ONNX Runtime call per candidate; same controller, model and machine.
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
    let native_path = native_model_path(&model_path);
    let mut throughput = Vec::new();
    let variants = [
        "native, prefix-shared batch",
        "onnx runtime, one batched call per horizon step",
        "onnx runtime, one call per candidate",
    ];
    for variant in 0..3 {
        let mpc: Box<dyn Controller> = match variant {
            0 => Box::new(
                MpcController::new(
                    NativeModel::load(&native_path).expect("native model"),
                    config.clone(),
                    1,
                )
                .expect("config"),
            ),
            1 => Box::new(
                MpcController::new(load(&model_path, OrtOptions::official()), config.clone(), 1)
                    .expect("config"),
            ),
            _ => Box::new(
                MpcController::new(
                    PerCall(load(&model_path, OrtOptions::official())),
                    config.clone(),
                    1,
                )
                .expect("config"),
            ),
        };
        let mut c = Limited {
            mpc,
            pid: PidController::default(),
            limit: steps,
            planned: 0,
            seconds: 0.0,
            cpu: 0.0,
        };
        sim.rollout(seg, &mut c, &SimOptions::default())
            .expect("rollout");
        let candidate_steps = (c.planned * config.samples_per_step()) as f64;
        throughput.push(candidate_steps / c.cpu);
    }
    report.metrics.push(Metric::new(
        "rollout_candidate_steps_per_s_native",
        throughput[0],
        "1/s",
        Better::Higher,
    ));
    report.metrics.push(Metric::new(
        "rollout_candidate_steps_per_s_ort_batched",
        throughput[1],
        "1/s",
        Better::Higher,
    ));
    report.metrics.push(Metric::new(
        "rollout_candidate_steps_per_s_per_call",
        throughput[2],
        "1/s",
        Better::Higher,
    ));
    report.metrics.push(
        Metric::new(
            "rollout_speedup_vs_per_call",
            throughput[0] / throughput[2],
            "ratio",
            Better::Higher,
        )
        .with_target(3.0),
    );
    report.tables.push(Table {
        title: format!(
            "Rollout throughput, H={} S={} one iteration, {steps} planned steps, one core",
            config.horizon, config.samples
        ),
        header: vec![
            "rollout".into(),
            "candidate_steps_per_s".into(),
            "vs_per_call".into(),
        ],
        rows: variants
            .iter()
            .zip(&throughput)
            .map(|(v, t)| {
                vec![
                    (*v).into(),
                    format!("{t:.0}"),
                    format!("{:.2}", t / throughput[2]),
                ]
            })
            .collect(),
    });
    report.notes.push(format!(
        "rollout throughput: H={} S={} one iteration, {steps} planned steps each, one thread, CPU time of the planning thread; native model from {}",
        config.horizon,
        config.samples,
        native_path.display()
    ));
    report.tables.push(gemm_table());

    // 4. Whole segments: the default MPC configuration against PID and zero.
    let whole: Vec<Segment> = if args.full {
        segments.clone()
    } else {
        segments[..2.min(segments.len())].to_vec()
    };
    let run = |controller: ControllerSpec, segs: &[Segment], workers: usize| {
        let config = EvalConfig {
            model: model_path.clone(),
            controller,
            sim: SimOptions::default(),
            planner: PlannerModel::Auto,
            // Budget: one intra-op thread inside each parallel worker.
            ort: OrtOptions::default(),
            exec: ExecConfig {
                seed: 1,
                progress: Progress::Hidden,
                ..ExecConfig::with_mode(if workers > 1 {
                    Mode::Threads { workers }
                } else {
                    Mode::Sequential
                })
            },
        };
        evaluate(segs, &config).expect("evaluation")
    };
    let mean_seconds = |e: &Evaluation| {
        e.segments.iter().map(|s| s.cpu_seconds).sum::<f64>() / e.segments.len() as f64
    };
    let mean_wall = |e: &Evaluation| {
        e.segments.iter().map(|s| s.seconds).sum::<f64>() / e.segments.len() as f64
    };
    let pid = run(ControllerSpec::Pid, &whole, 2);
    let zero = run(ControllerSpec::Zero, &whole, 2);
    let default = MpcConfig::default();
    let e = run(ControllerSpec::Mpc(default.clone()), &whole, 2);
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
        Metric::new(
            "mpc_seconds_per_segment",
            mean_seconds(&e),
            "s",
            Better::Lower,
        )
        .with_target(120.0),
    );
    report.metrics.push(Metric::new(
        "mpc_wall_seconds_per_segment",
        mean_wall(&e),
        "s",
        Better::Lower,
    ));
    report.notes.push(format!(
        "mpc_cost_ratio_vs_pid and mpc_seconds_per_segment: the default configuration ({}) on whole segments, {} of {}{}, 2 workers (one core each), native planner when the model allows; mpc_seconds_per_segment is the CPU time of each segment's rollout on its worker thread (one core; the simulator's ONNX Runtime calls included), mpc_wall_seconds_per_segment its wall time (noisy: other builds shared this 2-core machine)",
        serde_json::to_string(&default).unwrap_or_default(),
        whole.len(),
        segments.len(),
        if args.full { "" } else { " (quick mode: a subset; `--full` uses all)" }
    ));
    report.tables.push(Table {
        title: "MPC (default configuration) against PID, whole segments".into(),
        header: vec![
            "file".into(),
            "mpc_total".into(),
            "pid_total".into(),
            "zero_total".into(),
            "mpc_cpu_s".into(),
        ],
        rows: e
            .segments
            .iter()
            .zip(&pid.segments)
            .zip(&zero.segments)
            .map(|((m, p), z)| {
                vec![
                    m.file.clone(),
                    format!("{:.3}", m.costs.total_cost),
                    format!("{:.3}", p.costs.total_cost),
                    format!("{:.3}", z.costs.total_cost),
                    format!("{:.1}", m.cpu_seconds),
                ]
            })
            .collect(),
    });

    // 5. Cost against compute: the default configuration's family at several budgets.
    let budgets: &[(usize, usize)] = if args.full {
        &[(8, 1), (16, 2), (24, 2), (48, 2), (48, 3)]
    } else {
        &[(8, 1), (16, 1), (24, 2)]
    };
    let mut points = Vec::new();
    let mut rows = Vec::new();
    for &(samples, iterations) in budgets {
        let config = MpcConfig {
            samples,
            iterations,
            elites: (samples / 4).max(2),
            ..MpcConfig::default()
        };
        let e = if config == default {
            e.clone()
        } else {
            run(ControllerSpec::Mpc(config.clone()), &whole, 2)
        };
        let per_step = config.samples_per_step() as f64;
        points.push((per_step, e.mean.total_cost));
        rows.push(vec![
            samples.to_string(),
            iterations.to_string(),
            format!("{per_step:.0}"),
            format!("{:.3}", e.mean.total_cost),
            format!("{:.3}", e.mean.total_cost / pid.mean.total_cost),
            format!("{:.1}", mean_seconds(&e)),
        ]);
    }
    let flat = |v: f64| vec![(points[0].0, v), (points[points.len() - 1].0, v)];
    report.plots.push(Plot {
        name: "cost_vs_compute".into(),
        title: format!(
            "Mean total cost against compute, {} segments (H={}, elites = samples/4)",
            whole.len(),
            default.horizon
        ),
        x_label: "model samples per planned step (H x S x iterations)".into(),
        y_label: "mean total cost".into(),
        log_x: true,
        log_y: false,
        series: vec![
            Series {
                label: "mpc".into(),
                points: points.clone(),
            },
            Series {
                label: "pid".into(),
                points: flat(pid.mean.total_cost),
            },
            Series {
                label: "zero".into(),
                points: flat(zero.mean.total_cost),
            },
        ],
    });
    report.tables.push(Table {
        title: format!(
            "Cost against compute, {} whole segments, 2 workers",
            whole.len()
        ),
        header: vec![
            "samples".into(),
            "iterations".into(),
            "samples_per_step".into(),
            "mean_total".into(),
            "ratio_vs_pid".into(),
            "cpu_s_per_segment".into(),
        ],
        rows,
    });

    // 6. The design table: four configurations, time per segment with 1 and 2 workers.
    report.tables.push(design_table(
        &model_path,
        &segments,
        args.full,
        &mut report.notes,
    ));

    if !pid_costs.is_empty() {
        report.notes.push(format!(
            "PID mean total cost on the reference segments: {:.6}",
            pid_costs.iter().sum::<f64>() / pid_costs.len() as f64
        ));
    }
    let path = report.write(&args.out).expect("write report");
    println!("wrote {}", path.display());
    for m in &report.metrics {
        println!("{:<45} {:>14.6?} {}", m.name, m.value, m.unit);
    }
}
