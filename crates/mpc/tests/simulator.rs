//! Simulator, model and evaluation tests on the project's own fixtures (always run).

mod common;

use std::path::Path;

use mpc::eval::{ControllerSpec, EvalConfig, PlannerModel, evaluate};
use mpc::fixture::{fixture_model_path, synthetic_rows, wrong_interface_model_path};
use mpc::model::{CONTEXT_LENGTH, DynamicsModel, STATE_DIM};
use mpc::{
    MpcError, OrtModel, OrtOptions, PidController, SeedKey, Segment, SimOptions, Simulator,
    ZeroController,
};
use par_core::{ExecConfig, Mode, Progress};

fn synthetic(k: u64) -> Segment {
    Segment::from_rows(&synthetic_rows(k, 600), Path::new(&format!("{k:05}.csv"))).unwrap()
}

#[test]
fn rollouts_are_deterministic_and_pid_beats_zero() {
    let mut sim = Simulator::new(common::load_model(&fixture_model_path()));
    let mut pid_total = 0.0;
    let mut zero_total = 0.0;
    for k in 0..3 {
        let seg = synthetic(k);
        let a = sim
            .rollout(&seg, &mut PidController::default(), &SimOptions::default())
            .unwrap();
        let b = sim
            .rollout(&seg, &mut PidController::default(), &SimOptions::default())
            .unwrap();
        assert_eq!(a, b, "same segment, same seed key: identical rollouts");
        assert_eq!(
            a.model_calls, 500,
            "the model is skipped during the warm-up"
        );
        assert_eq!(a.current_lataccel.len(), 600);
        assert!(a.costs.total_cost.is_finite());
        pid_total += a.costs.total_cost;
        zero_total += sim
            .rollout(&seg, &mut ZeroController, &SimOptions::default())
            .unwrap()
            .costs
            .total_cost;
    }
    assert!(
        pid_total < zero_total,
        "pid {pid_total} vs zero {zero_total}"
    );
}

#[test]
fn skipping_the_warmup_model_changes_nothing() {
    let mut sim = Simulator::new(common::load_model(&fixture_model_path()));
    let seg = synthetic(5);
    let fast = sim
        .rollout(&seg, &mut PidController::default(), &SimOptions::default())
        .unwrap();
    let full_opts = SimOptions {
        model_during_warmup: true,
        record_trace: true,
        ..SimOptions::default()
    };
    let full = sim
        .rollout(&seg, &mut PidController::default(), &full_opts)
        .unwrap();
    assert_eq!(fast.costs, full.costs);
    assert_eq!(fast.current_lataccel, full.current_lataccel);
    assert_eq!(full.model_calls, 580);
    assert_eq!(full.trace.len(), 580);
    // Before step 100 the current value is the target; from step 100 it is the clipped prediction.
    assert_eq!(full.trace[0].current_lataccel, seg.target_lataccel[20]);
    let t100 = &full.trace[80];
    assert_eq!(t100.step, 100);
    assert_eq!(Some(t100.current_lataccel), t100.pred_clipped);
}

#[test]
fn seed_key_selects_the_draws() {
    let mut sim = Simulator::new(common::load_model(&fixture_model_path()));
    let seg = synthetic(1);
    let official = sim
        .rollout(&seg, &mut PidController::default(), &SimOptions::default())
        .unwrap();
    assert_eq!(official.seed, mpc::seed::seed_from_key("data/00001.csv"));
    let prefixed = SimOptions {
        seed_key: SeedKey::Prefix("data/".into()),
        ..SimOptions::default()
    };
    assert_eq!(
        sim.rollout(&seg, &mut PidController::default(), &prefixed)
            .unwrap(),
        official
    );
    let other = SimOptions {
        seed_key: SeedKey::Custom("./data/00001.csv".into()),
        ..SimOptions::default()
    };
    let r = sim
        .rollout(&seg, &mut PidController::default(), &other)
        .unwrap();
    assert_eq!(r.seed, mpc::seed::seed_from_key("./data/00001.csv"));
    assert_ne!(r.current_lataccel, official.current_lataccel);
}

#[test]
fn batched_logits_equal_single_calls() {
    let mut model = common::load_model(&fixture_model_path());
    let batch = 5;
    let states: Vec<f32> = (0..batch * CONTEXT_LENGTH * STATE_DIM)
        .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
        .collect();
    let tokens: Vec<i64> = (0..batch * CONTEXT_LENGTH)
        .map(|i| 300 + ((i * 53) % 400) as i64)
        .collect();
    let mut all = Vec::new();
    model
        .last_logits(&states, &tokens, batch, &mut all)
        .unwrap();
    assert_eq!(all.len(), batch * 1024);
    let mut one = Vec::new();
    for b in 0..batch {
        let s = &states[b * CONTEXT_LENGTH * STATE_DIM..(b + 1) * CONTEXT_LENGTH * STATE_DIM];
        let t = &tokens[b * CONTEXT_LENGTH..(b + 1) * CONTEXT_LENGTH];
        model.last_logits(s, t, 1, &mut one).unwrap();
        assert_eq!(&all[b * 1024..(b + 1) * 1024], &one[..]);
    }
    let err = model
        .last_logits(&states[1..], &tokens, batch, &mut all)
        .unwrap_err();
    assert!(matches!(err, MpcError::Inference { .. }), "{err}");
}

#[test]
fn model_errors_are_typed() {
    common::load_model(&fixture_model_path()); // makes sure the runtime is there
    let err = OrtModel::load(wrong_interface_model_path(), OrtOptions::official()).unwrap_err();
    assert!(matches!(err, MpcError::ModelInterface { .. }), "{err}");
    assert!(err.to_string().contains("wrong_interface.onnx"), "{err}");
    let err = OrtModel::load("/nonexistent/model.onnx", OrtOptions::official()).unwrap_err();
    assert!(matches!(err, MpcError::ModelLoad { .. }), "{err}");
    let dir = std::env::temp_dir().join(format!("mpc-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.onnx");
    std::fs::write(&garbage, b"not a model").unwrap();
    let err = OrtModel::load(&garbage, OrtOptions::official()).unwrap_err();
    assert!(matches!(err, MpcError::ModelLoad { .. }), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

fn eval_config(controller: ControllerSpec, mode: Mode) -> EvalConfig {
    EvalConfig {
        model: fixture_model_path(),
        controller,
        sim: SimOptions::default(),
        planner: PlannerModel::Auto,
        ort: OrtOptions::default(),
        exec: ExecConfig {
            progress: Progress::Hidden,
            ..ExecConfig::with_mode(mode)
        },
    }
}

#[test]
fn evaluation_is_identical_for_any_worker_count() {
    common::load_model(&fixture_model_path());
    let segments: Vec<Segment> = (0..4).map(synthetic).collect();
    let seq = evaluate(
        &segments,
        &eval_config(ControllerSpec::Pid, Mode::Sequential),
    )
    .unwrap();
    let par = evaluate(
        &segments,
        &eval_config(ControllerSpec::Pid, Mode::Threads { workers: 2 }),
    )
    .unwrap();
    assert_eq!(seq.segments.len(), 4);
    for (a, b) in seq.segments.iter().zip(&par.segments) {
        assert_eq!((&a.file, a.costs), (&b.file, b.costs));
    }
    assert_eq!(seq.mean, par.mean);
    let mut sim = Simulator::new(common::load_model(&fixture_model_path()));
    let direct = sim
        .rollout(
            &segments[2],
            &mut PidController::default(),
            &SimOptions::default(),
        )
        .unwrap();
    assert_eq!(seq.segments[2].costs, direct.costs);
    let json = seq.to_json();
    assert_eq!(json["segments"][0]["file"], "00000.csv");
    assert!(json["mean"]["total_cost"].as_f64().unwrap() > 0.0);
    assert!(seq.table().contains("mean"));
}

#[test]
fn evaluation_errors_name_the_problem() {
    let err = evaluate(&[], &eval_config(ControllerSpec::Zero, Mode::Sequential)).unwrap_err();
    assert!(
        matches!(
            err,
            MpcError::Config {
                field: "segments",
                ..
            }
        ),
        "{err}"
    );
    let mut config = eval_config(ControllerSpec::Zero, Mode::Sequential);
    config.model = "/nonexistent.onnx".into();
    let err = evaluate(&[synthetic(0)], &config).unwrap_err();
    assert!(matches!(err, MpcError::ModelLoad { .. }), "{err}");
}

#[test]
fn mpc_plans_with_batched_calls_and_is_reproducible() {
    use mpc::cem::{MpcConfig, MpcController};
    let seg = synthetic(3);
    let config = MpcConfig {
        horizon: 6,
        samples: 16,
        iterations: 2,
        elites: 4,
        ..MpcConfig::default()
    };
    let mut sim = Simulator::new(common::load_model(&fixture_model_path()));
    let run = |sim: &mut Simulator<OrtModel>| {
        let mut c = MpcController::new(
            common::load_model(&fixture_model_path()),
            config.clone(),
            11,
        )
        .unwrap();
        let r = sim.rollout(&seg, &mut c, &SimOptions::default()).unwrap();
        (r, c.model_calls(), c.model_samples())
    };
    let (a, calls, samples) = run(&mut sim);
    let (b, _, _) = run(&mut sim);
    assert_eq!(a, b, "a seeded controller gives identical rollouts");
    // One call per horizon step and iteration for all candidates, for steps 100..499.
    assert_eq!(calls, 400 * 6 * 2);
    assert_eq!(samples, calls * 16);
    let pid = sim
        .rollout(&seg, &mut PidController::default(), &SimOptions::default())
        .unwrap();
    println!(
        "fixture segment 3: mpc total {:.3}, pid total {:.3}",
        a.costs.total_cost, pid.costs.total_cost
    );
    assert!(a.costs.total_cost.is_finite());
}

#[test]
fn mpc_evaluation_through_the_executor() {
    use mpc::cem::MpcConfig;
    common::load_model(&fixture_model_path());
    let segments: Vec<Segment> = (0..2).map(synthetic).collect();
    let config = MpcConfig {
        horizon: 4,
        samples: 8,
        iterations: 1,
        elites: 2,
        ..MpcConfig::default()
    };
    let seq = evaluate(
        &segments,
        &eval_config(ControllerSpec::Mpc(config.clone()), Mode::Sequential),
    )
    .unwrap();
    let par = evaluate(
        &segments,
        &eval_config(ControllerSpec::Mpc(config), Mode::Threads { workers: 2 }),
    )
    .unwrap();
    for (a, b) in seq.segments.iter().zip(&par.segments) {
        assert_eq!(
            a.costs, b.costs,
            "controller seeds depend on the segment index only"
        );
    }
    let bad = MpcConfig {
        samples: 0,
        ..MpcConfig::default()
    };
    let err = evaluate(
        &segments,
        &eval_config(ControllerSpec::Mpc(bad), Mode::Sequential),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            MpcError::Config {
                field: "samples",
                ..
            }
        ),
        "{err}"
    );
    let spec: ControllerSpec = serde_json::from_str(r#"{"kind": "mpc", "horizon": 5}"#).unwrap();
    assert!(matches!(
        spec,
        ControllerSpec::Mpc(MpcConfig { horizon: 5, .. })
    ));
    for spec in [
        ControllerSpec::Zero,
        ControllerSpec::Pid,
        ControllerSpec::Mpc(MpcConfig::default()),
    ] {
        let text = serde_json::to_string(&spec).unwrap();
        assert_eq!(
            serde_json::from_str::<ControllerSpec>(&text).unwrap(),
            spec,
            "{text}"
        );
    }
    // A typo is an error naming the field, in the MPC's fields and beside a plain controller.
    for (text, field) in [
        (r#"{"kind": "mpc", "horizn": 5}"#, "horizn"),
        (r#"{"kind": "pid", "horizon": 5}"#, "horizon"),
        (r#"{"kind": "zero", "gain": 1}"#, "gain"),
    ] {
        let err = serde_json::from_str::<ControllerSpec>(text).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("unknown field `{field}`")),
            "{text}: {err}"
        );
    }
}
