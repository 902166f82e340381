//! The native transformer against ONNX Runtime (the fixture transformer always; the real model
//! in tests that need the reference pack and are ignored without `--include-ignored`), prefix
//! sharing against full windows, and loader errors.

mod common;

use std::path::Path;

use mpc::fixture::{fixture_model_path, transformer_fixture_path};
use mpc::model::{CONTEXT_LENGTH, DynamicsModel, STATE_DIM};
use mpc::tokenizer::VOCAB_SIZE;
use mpc::{MpcError, NativeModel};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Random but plausible windows: actions in [-1, 1], roll lateral acceleration within ±1,
/// speeds 5..35 m/s, accelerations within ±1, tokens around the middle bins.
fn windows(batch: usize, seed: u64) -> (Vec<f32>, Vec<i64>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut states = Vec::with_capacity(batch * CONTEXT_LENGTH * STATE_DIM);
    let mut tokens = Vec::with_capacity(batch * CONTEXT_LENGTH);
    for _ in 0..batch * CONTEXT_LENGTH {
        states.extend_from_slice(&[
            rng.random_range(-1.0..1.0),
            rng.random_range(-1.0..1.0),
            rng.random_range(5.0..35.0),
            rng.random_range(-1.0..1.0),
        ]);
        tokens.push(rng.random_range(300..724));
    }
    (states, tokens)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Native and ONNX Runtime logits of the same windows; returns the largest difference and the
/// largest logit magnitude.
fn compare_with_ort(path: &Path, batch: usize) -> (f32, f32) {
    let mut native = NativeModel::load(path).unwrap();
    let mut ort = common::load_model(path);
    let (states, tokens) = windows(batch, 7);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    native.last_logits(&states, &tokens, batch, &mut a).unwrap();
    ort.last_logits(&states, &tokens, batch, &mut b).unwrap();
    assert_eq!(a.len(), batch * VOCAB_SIZE);
    let scale = b.iter().map(|x| x.abs()).fold(0.0, f32::max);
    (max_abs_diff(&a, &b), scale)
}

#[test]
fn native_matches_ort_on_the_fixture_transformer() {
    let native = NativeModel::load(transformer_fixture_path()).unwrap();
    assert_eq!(
        (native.width(), native.heads(), native.blocks()),
        (16, 2, 2)
    );
    let (diff, scale) = compare_with_ort(&transformer_fixture_path(), 5);
    println!("fixture transformer: max |native - ort| = {diff:e} (max |logit| {scale})");
    assert!(scale > 1.0, "the fixture's logits are not trivial");
    assert!(diff < 1e-4, "max abs difference {diff}");
}

#[test]
#[ignore = "needs ../shared/tinyphysics (run by cargo xtask test when present)"]
fn native_matches_ort_on_the_real_model() {
    let dir = common::reference_dir();
    let path = dir.join("tinyphysics.onnx");
    let native = NativeModel::load(&path).unwrap();
    assert_eq!(
        (native.width(), native.heads(), native.blocks()),
        (128, 4, 4)
    );
    let (diff, scale) = compare_with_ort(&path, 4);
    println!("real model: max |native - ort| = {diff:e} (max |logit| {scale})");
    assert!(diff < 1e-3, "max abs difference {diff}");
}

/// The prefix-shared evaluation equals the full-window evaluation of the same windows.
fn check_prefix_sharing(path: &Path) {
    let mut model = NativeModel::load(path).unwrap();
    let samples = 6;
    for k in [1, 2, 7, 19, 20] {
        let plen = CONTEXT_LENGTH - k;
        let (prefix_states, prefix_tokens) = windows(1, 100 + k as u64);
        let (own_states, own_tokens) = windows(samples, 200 + k as u64);
        let prefix_states = &prefix_states[..plen * STATE_DIM];
        let prefix_tokens = &prefix_tokens[..plen];
        let mut suffix_states = Vec::new();
        let mut suffix_tokens = Vec::new();
        let mut full_states = Vec::new();
        let mut full_tokens = Vec::new();
        for c in 0..samples {
            let s = &own_states[c * CONTEXT_LENGTH * STATE_DIM..][..k * STATE_DIM];
            let t = &own_tokens[c * CONTEXT_LENGTH..][..k];
            suffix_states.extend_from_slice(s);
            suffix_tokens.extend_from_slice(t);
            full_states.extend_from_slice(prefix_states);
            full_states.extend_from_slice(s);
            full_tokens.extend_from_slice(prefix_tokens);
            full_tokens.extend_from_slice(t);
        }
        let (mut shared, mut full, mut again) = (Vec::new(), Vec::new(), Vec::new());
        model
            .shared_prefix_logits(
                prefix_states,
                prefix_tokens,
                &suffix_states,
                &suffix_tokens,
                samples,
                &mut shared,
            )
            .unwrap();
        // A second call hits the prefix cache and must give the same answer.
        model
            .shared_prefix_logits(
                prefix_states,
                prefix_tokens,
                &suffix_states,
                &suffix_tokens,
                samples,
                &mut again,
            )
            .unwrap();
        model
            .last_logits(&full_states, &full_tokens, samples, &mut full)
            .unwrap();
        let scale = full.iter().map(|x| x.abs()).fold(0.0, f32::max);
        let diff = max_abs_diff(&shared, &full);
        assert!(
            diff <= 1e-5 * scale.max(1.0),
            "k = {k}: shared-prefix logits differ from full windows by {diff}"
        );
        assert_eq!(
            shared, again,
            "k = {k}: the cached prefix changed the result"
        );
        // The samples differ, so their logits do too (the test would catch a mixed-up batch).
        assert!(max_abs_diff(&shared[..VOCAB_SIZE], &shared[VOCAB_SIZE..2 * VOCAB_SIZE]) > 1e-3);
    }
}

#[test]
fn prefix_sharing_equals_full_windows_on_the_fixture() {
    check_prefix_sharing(&transformer_fixture_path());
}

#[test]
#[ignore = "needs ../shared/tinyphysics (run by cargo xtask test when present)"]
fn prefix_sharing_equals_full_windows_on_the_real_model() {
    check_prefix_sharing(&common::reference_dir().join("tinyphysics.onnx"));
}

#[test]
fn the_default_shared_prefix_path_matches_the_native_one() {
    // ONNX Runtime uses the trait's default (full windows); the native model its prefix cache.
    let path = transformer_fixture_path();
    let mut native = NativeModel::load(&path).unwrap();
    let mut ort = common::load_model(&path);
    let (states, tokens) = windows(3, 11);
    let k = 4;
    let plen = CONTEXT_LENGTH - k;
    let (own_states, own_tokens) = windows(3, 12);
    let suffix_states: Vec<f32> = (0..3)
        .flat_map(|c| own_states[c * 80..c * 80 + k * STATE_DIM].to_vec())
        .collect();
    let suffix_tokens: Vec<i64> = (0..3)
        .flat_map(|c| own_tokens[c * 20..c * 20 + k].to_vec())
        .collect();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let args = (
        &states[..plen * STATE_DIM],
        &tokens[..plen],
        &suffix_states[..],
        &suffix_tokens[..],
    );
    native
        .shared_prefix_logits(args.0, args.1, args.2, args.3, 3, &mut a)
        .unwrap();
    ort.shared_prefix_logits(args.0, args.1, args.2, args.3, 3, &mut b)
        .unwrap();
    assert!(max_abs_diff(&a, &b) < 1e-4);
    // Inconsistent lengths are typed errors.
    assert!(matches!(
        native.shared_prefix_logits(args.0, args.1, args.2, &args.3[1..], 3, &mut a),
        Err(MpcError::Inference { .. })
    ));
    assert!(matches!(
        ort.shared_prefix_logits(&states[..80], &tokens[..20], &[], &[], 0, &mut b),
        Err(MpcError::Inference { .. })
    ));
}

#[test]
fn a_non_transformer_model_is_a_typed_error() {
    let err = NativeModel::load(fixture_model_path()).unwrap_err();
    match &err {
        MpcError::ModelArchitecture { path, problem } => {
            assert!(path.ends_with("tiny_dynamics.onnx"));
            assert!(problem.contains("/wt_embedding/MatMul"), "{problem}");
        }
        other => panic!("expected ModelArchitecture, got {other:?}"),
    }
    assert!(err.to_string().contains("tiny_dynamics.onnx"));
    // Not an ONNX file at all, and a missing file.
    let dir = std::env::temp_dir().join(format!("mpc-native-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.onnx");
    std::fs::write(&junk, b"definitely not protobuf \xff\xff\xff").unwrap();
    assert!(matches!(
        NativeModel::load(&junk),
        Err(MpcError::ModelArchitecture { .. })
    ));
    assert!(matches!(
        NativeModel::load(dir.join("missing.onnx")),
        Err(MpcError::Io { .. })
    ));
    // A truncated transformer.
    let bytes = std::fs::read(transformer_fixture_path()).unwrap();
    let cut = dir.join("cut.onnx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        NativeModel::load(&cut),
        Err(MpcError::ModelArchitecture { .. })
    ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_native_planner_drives_the_mpc_controller() {
    use mpc::eval::{ControllerSpec, EvalConfig, PlannerModel, evaluate};
    use mpc::fixture::synthetic_rows;
    use mpc::{MpcConfig, OrtOptions, Segment, SimOptions};
    use par_core::{ExecConfig, Mode, Progress};
    let segments =
        vec![Segment::from_rows(&synthetic_rows(3, 600), Path::new("00003.csv")).unwrap()];
    let mpc = MpcConfig {
        horizon: 4,
        samples: 8,
        iterations: 1,
        elites: 2,
        ..MpcConfig::default()
    };
    let config = |model: std::path::PathBuf, planner: PlannerModel| EvalConfig {
        model,
        controller: ControllerSpec::Mpc(mpc.clone()),
        sim: SimOptions::default(),
        planner,
        ort: OrtOptions::official(),
        exec: ExecConfig {
            progress: Progress::Hidden,
            ..ExecConfig::with_mode(Mode::Sequential)
        },
    };
    let e = evaluate(
        &segments,
        &config(transformer_fixture_path(), PlannerModel::Native),
    )
    .unwrap();
    assert!(e.segments[0].costs.total_cost.is_finite());
    // The native planner on a model that is not the transformer: a typed error up front.
    assert!(matches!(
        evaluate(
            &segments,
            &config(fixture_model_path(), PlannerModel::Native)
        ),
        Err(MpcError::ModelArchitecture { .. })
    ));
}
