//! Scenario `mpc` for `cargo xtask bench`: simulator exactness, segment-level parallelism,
//! batched against per-candidate rollouts, and the MPC controller's cost and time.
//!
//! Runs on the real tinyphysics model and segments when `../shared/tinyphysics` (or
//! `TINYPHYSICS_DIR`) is present, on the fixture models and synthetic segments otherwise. Every
//! metric's `workload` names what it ran on. Without the pack, every metric except
//! `segments_efficiency_2w` is reported as not measured, with the reason: `golden_max_rel_err`
//! needs the official golden costs, and the costs, times and rollout speed-ups of the project's
//! small fixture models are not the figures those names and targets promise (they still appear
//! in the tables, for a user to see that the code runs).
//!
//! Every comparison of timings goes through `par_core::bench::Interleave`: the compared variants
//! alternate within each repetition, the median is the headline with min and max beside it, and
//! speed-ups and efficiencies are medians of per-repetition paired ratios. The metrics this
//! scenario promises, and their targets, are the table [`TARGETS`].

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
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
    Simulator,
};
use par_core::bench::{
    Better, Declared, Interleave, Metric, Plot, ScenarioError, ScenarioReport, ScenarioRun, Series,
    Stats, Table, run_scenario, thread_cpu_seconds, time,
};
use par_core::{ExecConfig, Executor, Mode, Progress, TaskContext};

/// The metrics this scenario promises, with the targets of the mpc issue.
const TARGETS: &[Declared] = &[
    Declared::new(
        "golden_max_rel_err",
        "ratio",
        Better::Lower,
        "largest relative error of the PID and zero controllers' lataccel, jerk and total costs \
         against the official simulator's golden costs, on every segment of the tinyphysics \
         reference pack",
    )
    .target(1e-6),
    Declared::new(
        "sim_seconds_per_segment",
        "s",
        Better::Lower,
        "CPU time of one closed-loop PID rollout (ONNX Runtime, one intra-op thread): mean over \
         the segments of one sequential evaluation, median over the repetitions",
    ),
    Declared::new(
        "segments_efficiency_2w",
        "ratio",
        Better::Higher,
        "PID evaluation of every segment on 2 worker threads against 1 (wall times): median of \
         the per-repetition paired efficiencies",
    )
    .target(0.9),
    Declared::new(
        "rollout_speedup_vs_per_call",
        "x",
        Better::Higher,
        "the headline: candidate-steps per CPU second of the MPC planner's default rollout (the \
         native prefix-shared batched evaluator) over one ONNX Runtime call per candidate, same \
         model file, one core; median of per-repetition paired ratios (in each repetition the \
         product of the two ratios below)",
    )
    .target(3.0),
    Declared::new(
        "rollout_speedup_ort_batched_vs_per_call",
        "x",
        Better::Higher,
        "batching alone: ONNX Runtime with one batched call per horizon step over one call per \
         candidate, same model file, one core; median of per-repetition paired ratios",
    ),
    Declared::new(
        "rollout_speedup_native_vs_ort_batched",
        "x",
        Better::Higher,
        "what the native prefix-shared evaluator adds over batched ONNX Runtime, same model \
         file, one core; median of per-repetition paired ratios",
    ),
    Declared::new(
        "rollout_candidate_steps_per_s_native",
        "1/s",
        Better::Higher,
        "planner throughput with the native prefix-shared evaluator, one core",
    ),
    Declared::new(
        "rollout_candidate_steps_per_s_ort_batched",
        "1/s",
        Better::Higher,
        "planner throughput with ONNX Runtime, one batched call per horizon step, one core",
    ),
    Declared::new(
        "rollout_candidate_steps_per_s_per_call",
        "1/s",
        Better::Higher,
        "planner throughput with ONNX Runtime, one call per candidate, one core",
    ),
    Declared::new(
        "mpc_cost_ratio_vs_pid",
        "ratio",
        Better::Lower,
        "mean total cost of the default MPC configuration over PID's on the same whole segments",
    )
    .target(0.7),
    Declared::new(
        "mpc_seconds_per_segment",
        "s",
        Better::Lower,
        "CPU time of one whole-segment rollout with the default MPC configuration on its worker \
         thread (one core; the simulator's ONNX Runtime calls included), mean over the segments",
    )
    .target(120.0),
    Declared::new(
        "mpc_wall_seconds_per_segment",
        "s",
        Better::Lower,
        "wall time of the same rollouts, mean over the segments (2 workers on 2 cores)",
    ),
];

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

impl<C> Limited<C> {
    fn new(mpc: C, limit: usize) -> Self {
        Self {
            mpc,
            pid: PidController::default(),
            limit,
            planned: 0,
            seconds: 0.0,
            cpu: 0.0,
        }
    }
}

fn cpu_now() -> f64 {
    thread_cpu_seconds().unwrap_or(f64::NAN)
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

/// The model and segments the scenario runs on.
struct Data {
    /// The simulator's model file.
    model: PathBuf,
    segments: Vec<Segment>,
    /// The tinyphysics reference pack, when present.
    reference: Option<PathBuf>,
    /// "tinyphysics.onnx, real segments" or the fixture's equivalent, for workload fields.
    label: &'static str,
}

impl Data {
    fn load() -> Result<Self, ScenarioError> {
        Ok(match reference_dir() {
            Some(dir) => Self {
                model: dir.join("tinyphysics.onnx"),
                segments: reference_segments(&dir)
                    .iter()
                    .map(Segment::load)
                    .collect::<Result<_, _>>()?,
                reference: Some(dir),
                label: "tinyphysics.onnx, real segments",
            },
            None => Self {
                model: fixture_model_path(),
                segments: (0..8)
                    .map(|k| Segment::from_rows(&synthetic_rows(k, 600), format!("{k:05}.csv")))
                    .collect::<Result<_, _>>()?,
                reference: None,
                label: "fixture model tiny_dynamics.onnx, synthetic segments (no reference pack)",
            },
        })
    }

    /// "`k` of `n` segments (label)".
    fn workload(&self, k: usize) -> String {
        format!("{k} of {} segments, {}", self.segments.len(), self.label)
    }

    /// Pushes `metric`, a figure of the tinyphysics model, when the run is on that model;
    /// otherwise records it as not measured, with the reason.
    fn push_model_metric(&self, report: &mut ScenarioReport, metric: Metric) {
        if self.reference.is_some() {
            report.push(metric);
        } else {
            report.not_measured(
                &metric.name,
                "needs the tinyphysics model and segments (../shared/tinyphysics or \
                 TINYPHYSICS_DIR), which are absent: a figure of the project's small fixture \
                 models is not the one this metric promises (the tables show the fixture run)",
            );
        }
    }
}

fn mode(workers: usize) -> Mode {
    if workers > 1 {
        Mode::Threads { workers }
    } else {
        Mode::Sequential
    }
}

fn eval_config(
    model: &Path,
    controller: ControllerSpec,
    workers: usize,
    ort: OrtOptions,
) -> EvalConfig {
    EvalConfig {
        model: model.to_path_buf(),
        controller,
        sim: SimOptions::default(),
        planner: PlannerModel::Auto,
        ort,
        exec: ExecConfig {
            seed: 1,
            progress: Progress::Hidden,
            ..ExecConfig::with_mode(mode(workers))
        },
    }
}

fn mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n as f64
}

/// `median [min-max]` of a statistic, with `digits` decimals.
fn spread(s: Stats, digits: usize) -> String {
    format!(
        "{:.digits$} [{:.digits$}-{:.digits$}]",
        s.median, s.min, s.max
    )
}

/// The model the rollout comparison runs on, for all three variants and the simulator: the
/// simulator's model when it is the tinyphysics transformer, else the fixture transformer (the
/// stand-in `tiny_dynamics.onnx` is not a transformer, so the native evaluator cannot run it).
fn rollout_model_path(model_path: &Path) -> PathBuf {
    if NativeModel::load(model_path).is_ok() {
        model_path.to_path_buf()
    } else {
        transformer_fixture_path()
    }
}

fn main() -> ExitCode {
    run_scenario("mpc", TARGETS, measure)
}

fn measure(run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let data = Data::load()?;
    if data.reference.is_none() {
        run.report.notes.push(
            "tinyphysics reference pack absent (../shared/tinyphysics or TINYPHYSICS_DIR): the \
             fixture models and 8 synthetic segments are used, the golden check is not run, and \
             every metric but segments_efficiency_2w is not measured (the tables show the \
             fixture figures)"
                .into(),
        );
    }
    run.report
        .notes
        .push(format!("model: {}", data.model.display()));
    let pid = segments_in_parallel(run, &data)?;
    run.checkpoint();
    let zero = evaluate(
        &data.segments,
        &eval_config(&data.model, ControllerSpec::Zero, 2, OrtOptions::official()),
    )?;
    golden_check(run, &data, &pid, &zero)?;
    run.checkpoint();
    rollout_throughput(run, &data)?;
    run.report.tables.push(gemm_table(run.quick()));
    run.checkpoint();
    whole_segments(run, &data, &pid, &zero)?;
    run.checkpoint();
    let table = design_table(&data, run.quick(), &mut run.report.notes)?;
    run.report.tables.push(table);
    Ok(())
}

/// Section 1: PID on every segment, sequentially and on each worker count of `--workers`, the
/// counts interleaved within each repetition. Returns the sequential evaluation (its costs are
/// those of every worker count: checked).
fn segments_in_parallel(run: &mut ScenarioRun, data: &Data) -> Result<Evaluation, ScenarioError> {
    let reps = if run.quick() { 3 } else { 7 };
    let parallel: Vec<usize> = run
        .args
        .workers
        .iter()
        .copied()
        .filter(|&w| w > 1)
        .collect();
    let evaluations: RefCell<Vec<(usize, Evaluation)>> = RefCell::new(Vec::new());
    let eval_pid = |workers: usize| {
        // One intra-op thread at every worker count, so that the sequential baseline is one core.
        let config = eval_config(
            &data.model,
            ControllerSpec::Pid,
            workers,
            OrtOptions::official(),
        );
        let (e, wall) = time(|| evaluate(&data.segments, &config));
        evaluations
            .borrow_mut()
            .push((workers, e.expect("PID evaluation")));
        wall
    };
    let eval_pid = &eval_pid;
    let name = |w: usize| format!("{w} worker{}", if w == 1 { "" } else { "s" });
    let mut bench = Interleave::new(reps).sampled(name(1), move || eval_pid(1));
    for &w in &parallel {
        bench = bench.sampled(name(w), move || eval_pid(w));
    }
    let runs = bench.run();
    let evaluations = evaluations.into_inner();
    let costs = |e: &Evaluation| e.segments.iter().map(|s| s.costs).collect::<Vec<_>>();
    let sequential = evaluations
        .iter()
        .find(|(w, _)| *w == 1)
        .map(|(_, e)| e.clone())
        .ok_or("no sequential evaluation")?;
    for (w, e) in &evaluations {
        if costs(e) != costs(&sequential) {
            return Err(format!("PID costs on {w} workers differ from the sequential ones").into());
        }
    }
    let workload = format!("PID on {}", data.workload(data.segments.len()));

    // The simulator's CPU time per rollout, from the sequential runs.
    let per_segment: Vec<f64> = evaluations
        .iter()
        .filter(|(w, _)| *w == 1)
        .map(|(_, e)| mean(e.segments.iter().map(|s| s.cpu_seconds)))
        .collect();
    if let Some(stats) = Stats::from_samples(&per_segment) {
        data.push_model_metric(
            &mut run.report,
            Metric::from_stats("sim_seconds_per_segment", stats, "s", Better::Lower)
                .with_workload(&workload),
        );
    }

    let one = runs.stats(&name(1));
    let mut rows = vec![vec![
        "1".into(),
        spread(one, 3),
        "1.00".into(),
        "1.00".into(),
    ]];
    let mut points = vec![(1.0, 1.0)];
    for &w in &parallel {
        let speedup = runs.speedup(&name(1), &name(w));
        let efficiency = runs.efficiency(&name(1), &name(w), w);
        points.push((w as f64, speedup.median));
        rows.push(vec![
            w.to_string(),
            spread(runs.stats(&name(w)), 3),
            spread(speedup, 2),
            spread(efficiency, 2),
        ]);
        if w == 2 {
            run.report.push(
                Metric::efficiency("segments_efficiency_2w", efficiency).with_workload(&workload),
            );
        }
    }
    if !parallel.contains(&2) {
        run.report
            .not_measured("segments_efficiency_2w", "--workers does not include 2");
    }
    run.report.tables.push(Table {
        title: format!(
            "{workload}, segments in parallel (par-core Threads): median [min-max] of {reps} \
             interleaved repetitions; speed-up and efficiency paired per repetition"
        ),
        header: vec![
            "workers".into(),
            "wall_s".into(),
            "speedup".into(),
            "efficiency".into(),
        ],
        rows,
    });
    run.report.plots.push(Plot {
        name: "segments_speedup".into(),
        title: "Segment-level speed-up (median of paired repetitions)".into(),
        x_label: "workers".into(),
        y_label: "speed-up".into(),
        log_x: false,
        log_y: false,
        series: vec![Series {
            label: "pid evaluation".into(),
            points,
        }],
    });
    Ok(sequential)
}

/// Section 2: the PID and zero costs against the official simulator's golden costs.
fn golden_check(
    run: &mut ScenarioRun,
    data: &Data,
    pid: &Evaluation,
    zero: &Evaluation,
) -> Result<(), ScenarioError> {
    let Some(dir) = &data.reference else {
        run.report.not_measured(
            "golden_max_rel_err",
            "needs the official golden costs of the tinyphysics reference pack \
             (../shared/tinyphysics or TINYPHYSICS_DIR), which is absent",
        );
        return Ok(());
    };
    let path = dir.join("golden_costs.json");
    let golden: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let mut worst: f64 = 0.0;
    for (name, e) in [("pid", pid), ("zero", zero)] {
        for s in &e.segments {
            let stem = s.file.trim_end_matches(".csv");
            for (key, have) in [
                ("lataccel_cost", s.costs.lataccel_cost),
                ("jerk_cost", s.costs.jerk_cost),
                ("total_cost", s.costs.total_cost),
            ] {
                let want = golden["files"][stem][name][key]
                    .as_f64()
                    .ok_or_else(|| format!("{}: no files.{stem}.{name}.{key}", path.display()))?;
                worst = worst.max((have - want).abs() / want.abs().max(1e-12));
            }
        }
    }
    run.report.push(
        Metric::new("golden_max_rel_err", worst, "ratio", Better::Lower).with_workload(format!(
            "PID and zero on {}",
            data.workload(data.segments.len())
        )),
    );
    run.report.notes.push(format!(
        "PID mean total cost on the reference segments: {:.6}",
        pid.mean.total_cost
    ));
    Ok(())
}

/// Candidate-steps per CPU second of an MPC controller planning `steps` control steps of `seg`
/// (PID elsewhere), on the planning thread.
fn planning_rate<M: DynamicsModel>(
    sim: &mut Simulator<OrtModel>,
    seg: &Segment,
    model: M,
    config: &MpcConfig,
    steps: usize,
) -> f64 {
    let mpc = MpcController::new(model, config.clone(), 1).expect("valid MPC configuration");
    let mut c = Limited::new(mpc, steps);
    sim.rollout(seg, &mut c, &SimOptions::default())
        .expect("rollout");
    (c.planned * config.samples_per_step()) as f64 / c.cpu
}

/// Section 3: rollout throughput of the native prefix-shared batched evaluator, batched ONNX
/// Runtime and one ONNX Runtime call per candidate, on one model file, interleaved.
fn rollout_throughput(run: &mut ScenarioRun, data: &Data) -> Result<(), ScenarioError> {
    let quick = run.quick();
    let (steps, reps) = if quick { (4, 5) } else { (20, 9) };
    let config = MpcConfig {
        horizon: 10,
        samples: 64,
        iterations: 1,
        elites: 8,
        ..MpcConfig::default()
    };
    let seg = &data.segments[0];
    let model = rollout_model_path(&data.model);
    let ort = || OrtModel::load(&model, OrtOptions::official());
    let (mut native, mut batched, mut per_call) =
        (NativeModel::load(&model)?, ort()?, PerCall(ort()?));
    let mut sims = [
        Simulator::new(ort()?),
        Simulator::new(ort()?),
        Simulator::new(ort()?),
    ];
    let [sim_native, sim_batched, sim_per_call] = &mut sims;
    let runs = Interleave::new(reps)
        .sampled("native", || {
            planning_rate(sim_native, seg, &mut native, &config, steps)
        })
        .sampled("ort_batched", || {
            planning_rate(sim_batched, seg, &mut batched, &config, steps)
        })
        .sampled("per_call", || {
            planning_rate(sim_per_call, seg, &mut per_call, &config, steps)
        })
        .run();
    let file = model.file_name().map_or_else(
        || model.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    let workload = format!(
        "{file} for every variant and the simulator; H={} S={} one iteration, {steps} planned \
         steps of {} per repetition, one core",
        config.horizon,
        config.samples,
        seg.file_name()
    );
    for (name, variant) in [
        ("rollout_candidate_steps_per_s_native", "native"),
        ("rollout_candidate_steps_per_s_ort_batched", "ort_batched"),
        ("rollout_candidate_steps_per_s_per_call", "per_call"),
    ] {
        data.push_model_metric(
            &mut run.report,
            Metric::from_stats(name, runs.stats(variant), "1/s", Better::Higher)
                .with_workload(&workload),
        );
    }
    for (name, numerator, denominator) in [
        ("rollout_speedup_vs_per_call", "native", "per_call"),
        (
            "rollout_speedup_ort_batched_vs_per_call",
            "ort_batched",
            "per_call",
        ),
        (
            "rollout_speedup_native_vs_ort_batched",
            "native",
            "ort_batched",
        ),
    ] {
        data.push_model_metric(
            &mut run.report,
            Metric::from_stats(
                name,
                runs.ratio(numerator, denominator),
                "x",
                Better::Higher,
            )
            .with_workload(&workload),
        );
    }
    let variants = [
        ("native, prefix-shared batch", "native"),
        (
            "onnx runtime, one batched call per horizon step",
            "ort_batched",
        ),
        ("onnx runtime, one call per candidate", "per_call"),
    ];
    run.report.tables.push(Table {
        title: format!(
            "Rollout throughput ({workload}): median [min-max] of {reps} interleaved \
             repetitions, ratios paired per repetition"
        ),
        header: vec![
            "rollout".into(),
            "candidate_steps_per_cpu_s".into(),
            "vs_per_call".into(),
        ],
        rows: variants
            .iter()
            .map(|(label, v)| {
                vec![
                    (*label).into(),
                    spread(runs.stats(v), 0),
                    spread(runs.ratio(v, "per_call"), 2),
                ]
            })
            .collect(),
    });
    Ok(())
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
/// naive loops at the native model's shapes, per CPU second of the thread, interleaved.
fn gemm_table(quick: bool) -> Table {
    let reps = if quick { 3 } else { 7 };
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
        let (mut c_mm, mut c_naive) = (vec![0.0f32; m * n], vec![0.0f32; m * n]);
        let flop = 2.0 * (m * k * n) as f64;
        let calls = (1e8 / flop).ceil() as usize;
        let gflops = |f: &mut dyn FnMut()| {
            let start = cpu_now();
            for _ in 0..calls {
                f();
            }
            flop * calls as f64 / (cpu_now() - start) / 1e9
        };
        let runs = Interleave::new(reps)
            .sampled("gemm", || {
                gflops(&mut || mpc::native::gemm(m, k, n, &a, k, &b, n, &mut c_mm, n, false))
            })
            .sampled("naive", || {
                gflops(&mut || naive_gemm(m, k, n, &a, &b, &mut c_naive))
            })
            .run();
        let err = c_mm
            .iter()
            .zip(&c_naive)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-2, "the two GEMMs disagree by {err}");
        rows.push(vec![
            format!("{m}x{k} @ {k}x{n}"),
            spread(runs.stats("gemm"), 1),
            spread(runs.stats("naive"), 1),
        ]);
    }
    Table {
        title: format!(
            "f32 GEMM on one core, GFLOP/s per CPU second, median [min-max] of {reps} \
             interleaved repetitions (the native model uses mpc::native::gemm)"
        ),
        header: vec!["shape".into(), "native_gemm".into(), "naive_loops".into()],
        rows,
    }
}

/// Sections 4 and 5: whole segments with the default MPC configuration against PID and zero
/// (on the first two segments in the quick run), then cost against compute.
fn whole_segments(
    run: &mut ScenarioRun,
    data: &Data,
    pid: &Evaluation,
    zero: &Evaluation,
) -> Result<(), ScenarioError> {
    let n = if run.quick() {
        2.min(data.segments.len())
    } else {
        data.segments.len()
    };
    let whole = &data.segments[..n];
    let mpc = |config: &MpcConfig| {
        evaluate(
            whole,
            // Budget: one intra-op thread inside each parallel worker.
            &eval_config(
                &data.model,
                ControllerSpec::Mpc(config.clone()),
                2,
                OrtOptions::default(),
            ),
        )
    };
    let pid_mean = mean(pid.segments[..n].iter().map(|s| s.costs.total_cost));
    let zero_mean = mean(zero.segments[..n].iter().map(|s| s.costs.total_cost));
    let default = MpcConfig::default();
    let e = mpc(&default)?;
    let workload = format!(
        "default configuration, whole segments: {}; 2 workers",
        data.workload(n)
    );
    data.push_model_metric(
        &mut run.report,
        Metric::new(
            "mpc_cost_ratio_vs_pid",
            e.mean.total_cost / pid_mean,
            "ratio",
            Better::Lower,
        )
        .with_workload(&workload),
    );
    data.push_model_metric(
        &mut run.report,
        Metric::new(
            "mpc_seconds_per_segment",
            mean(e.segments.iter().map(|s| s.cpu_seconds)),
            "s",
            Better::Lower,
        )
        .with_workload(&workload),
    );
    data.push_model_metric(
        &mut run.report,
        Metric::new(
            "mpc_wall_seconds_per_segment",
            mean(e.segments.iter().map(|s| s.seconds)),
            "s",
            Better::Lower,
        )
        .with_workload(&workload),
    );
    run.report.notes.push(format!(
        "mpc_*: the default configuration ({}) on whole segments, {n} of {}, 2 workers (one \
         core each), native planner when the model allows; mpc_seconds_per_segment is the CPU \
         time of each segment's rollout on its worker thread (the simulator's ONNX Runtime calls \
         included), mpc_wall_seconds_per_segment its wall time (sensitive to other processes)",
        serde_json::to_string(&default).unwrap_or_default(),
        data.segments.len(),
    ));
    run.report.tables.push(Table {
        title: format!("MPC (default configuration) against PID and zero: {workload}"),
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
    run.checkpoint();

    // Cost against compute: the default configuration's family at several budgets.
    let budgets: &[(usize, usize)] = if run.quick() {
        &[(8, 1), (16, 1), (24, 2)]
    } else {
        &[(8, 1), (16, 2), (24, 2), (48, 2), (48, 3)]
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
            mpc(&config)?
        };
        let per_step = config.samples_per_step() as f64;
        points.push((per_step, e.mean.total_cost));
        rows.push(vec![
            samples.to_string(),
            iterations.to_string(),
            format!("{per_step:.0}"),
            format!("{:.3}", e.mean.total_cost),
            format!("{:.3}", e.mean.total_cost / pid_mean),
            format!("{:.1}", mean(e.segments.iter().map(|s| s.cpu_seconds))),
        ]);
    }
    let flat = |v: f64| vec![(points[0].0, v), (points[points.len() - 1].0, v)];
    run.report.plots.push(Plot {
        name: "cost_vs_compute".into(),
        title: format!(
            "Mean total cost against compute, {n} segments (H={}, elites = samples/4)",
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
                points: flat(pid_mean),
            },
            Series {
                label: "zero".into(),
                points: flat(zero_mean),
            },
        ],
    });
    run.report.tables.push(Table {
        title: format!(
            "Cost against compute: whole segments, {}; 2 workers",
            data.workload(n)
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
    Ok(())
}

/// Section 6, the design table that motivated the crate: four configurations with 3
/// iterations, 1 worker on one segment against 2 workers on two at once. `--full` runs whole
/// segments (seconds per segment, and the mean total cost); the quick run plans 3 control steps
/// per segment (PID elsewhere) and reports milliseconds per planned step, as measured.
fn design_table(data: &Data, quick: bool, notes: &mut Vec<String>) -> Result<Table, ScenarioError> {
    let designs = [
        ("Baseline", 12, 150, 1000.0, 0.15),
        ("Speed-opt", 15, 100, 5000.0, 0.08),
        ("Parallel-bad", 12, 80, 6000.0, 0.08),
        ("Parallel-good", 15, 120, 8000.0, 0.06),
    ];
    let pair = &data.segments[..2.min(data.segments.len())];
    let steps = 3;
    let model = &data.model;
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
        // Quick: planning `steps` steps of one segment; (CPU s, wall s) per planned step.
        let plan = |seg: &Segment| -> (f64, f64) {
            let planner = PlannerModel::Auto
                .load(model, OrtOptions::official())
                .expect("planner model");
            let sim_model = OrtModel::load(model, OrtOptions::official()).expect("model");
            let mpc = MpcController::new(planner, config.clone(), 1).expect("configuration");
            let mut c = Limited::new(mpc, steps);
            Simulator::new(sim_model)
                .rollout(seg, &mut c, &SimOptions::default())
                .expect("rollout");
            (c.cpu / c.planned as f64, c.seconds / c.planned as f64)
        };
        let full_eval = |workers: usize, segs: &[Segment]| {
            let config = eval_config(
                model,
                ControllerSpec::Mpc(config.clone()),
                workers,
                OrtOptions::official(),
            );
            time(|| evaluate(segs, &config).expect("design evaluation"))
        };
        // Per repetition: the 1-worker time of a segment, and the 2-worker time per segment
        // (two segments at once: half the wall time); the side values for the table.
        let side = RefCell::new((0.0, String::from("(--full)")));
        let runs = Interleave::new(1)
            .sampled("1 worker", || {
                if quick {
                    plan(&pair[0]).1
                } else {
                    full_eval(1, &pair[..1]).1
                }
            })
            .sampled("2 workers", || {
                if quick {
                    let exec = Executor::new(ExecConfig {
                        progress: Progress::Hidden,
                        ..ExecConfig::with_mode(mode(2))
                    })
                    .expect("executor");
                    let out = exec
                        .map(pair.len(), |ctx: &mut TaskContext| plan(&pair[ctx.index]))
                        .expect("parallel planning");
                    let per_step: Vec<(f64, f64)> =
                        out.results.into_iter().map(|r| r.expect("task")).collect();
                    side.borrow_mut().0 = mean(per_step.iter().map(|p| p.0));
                    mean(per_step.iter().map(|p| p.1)) / pair.len() as f64
                } else {
                    let (two, wall) = full_eval(2, pair);
                    *side.borrow_mut() = (
                        mean(two.segments.iter().map(|s| s.cpu_seconds)),
                        format!("{:.3}", two.mean.total_cost),
                    );
                    wall / pair.len() as f64
                }
            })
            .run();
        let (cpu_2w, cost) = side.into_inner();
        let unit = if quick { 1e3 } else { 1.0 };
        rows.push(vec![
            name.into(),
            format!("H={horizon} S={samples} W={smoothness} std={noise_std}"),
            (horizon * samples * 3).to_string(),
            format!("{:.1}", runs.stats("1 worker").median * unit),
            format!("{:.1}", cpu_2w * unit),
            format!("{:.1}", runs.stats("2 workers").median * unit),
            format!("{:.2}", runs.speedup("1 worker", "2 workers").median),
            cost,
        ]);
    }
    notes.push(if quick {
        format!(
            "design table (quick): each configuration plans {steps} control steps (PID \
             elsewhere) of {} alone, then of {} segments at once on 2 workers; milliseconds of \
             wall time per planned step (2 workers: per segment, i.e. half the wall time of \
             the two at once), and each thread's CPU time; one repetition; costs need `--full`; \
             3 iterations, elites = samples/10, native planner when the model allows",
            pair[0].file_name(),
            pair.len()
        )
    } else {
        format!(
            "design table: whole segments; 1 worker on {}, 2 workers on {} segments at once \
             (wall time per segment: half the wall time of the two), CPU time per segment and \
             mean total cost of the 2-worker run; one repetition; 3 iterations, elites = \
             samples/10, native planner when the model allows",
            pair[0].file_name(),
            pair.len()
        )
    });
    let (u, what) = if quick {
        ("ms", "per_planned_step")
    } else {
        ("s", "per_segment")
    };
    Ok(Table {
        title: format!(
            "Design table: {} with 1 and 2 workers (one repetition)",
            if quick {
                "planning time per planned step"
            } else {
                "time per whole segment"
            }
        ),
        header: vec![
            "design".into(),
            "config".into(),
            "samples_per_step".into(),
            format!("wall_{u}_{what}_1w"),
            format!("cpu_{u}_{what}_2w"),
            format!("wall_{u}_{what}_2w"),
            "speedup_2w".into(),
            "mean_total".into(),
        ],
        rows,
    })
}
