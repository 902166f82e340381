//! AlphaZero networks exported elsewhere: ONNX Runtime against the crate's own network on the
//! same weights, search and self-play through the ONNX evaluator, and typed errors for bad
//! model files. The fixture comes from `crates/mcts/scripts/make_onnx_fixture.py`.

use std::path::PathBuf;
use std::sync::Arc;

use mcts::alphazero::{
    Evaluator, Mlp, NetShape, OnnxEvaluator, Puct, PuctConfig, SelfPlayConfig, self_play,
};
use mcts::{Connect4, Encode, Game, MctsError};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn onnx_net() -> OnnxEvaluator {
    OnnxEvaluator::load(fixtures().join("mcts/az_mlp.onnx"), 84, 7, 1).unwrap()
}

/// The fixture's weights in the crate's own network.
fn native_net() -> Mlp {
    let bytes = std::fs::read(fixtures().join("mcts/az_mlp.params.f32")).unwrap();
    let params = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let shape = NetShape {
        input: Connect4::INPUT_LEN,
        hidden: vec![32, 32],
        actions: Connect4::NUM_ACTIONS,
    };
    Mlp::from_params(shape, params).unwrap()
}

/// Encodings of positions reached by random play, so that inputs look like the real ones.
fn random_positions(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut inputs = vec![0.0; n * Connect4::INPUT_LEN];
    let mut actions = Vec::new();
    for row in inputs.chunks_exact_mut(Connect4::INPUT_LEN) {
        let mut g = Connect4::new();
        for _ in 0..rng.random_range(0..20) {
            g.legal_actions(&mut actions);
            if g.is_terminal() || actions.is_empty() {
                break;
            }
            g.apply(actions[rng.random_range(0..actions.len())]);
        }
        g.encode(row);
    }
    inputs
}

#[test]
fn onnx_runtime_and_the_native_network_agree_on_the_same_weights() {
    let (onnx, native) = (onnx_net(), native_net());
    for batch in [1, 5, 33] {
        let inputs = random_positions(batch, batch as u64);
        let (mut p1, mut v1) = (vec![0.0; batch * 7], vec![0.0; batch]);
        let (mut p2, mut v2) = (vec![0.0; batch * 7], vec![0.0; batch]);
        onnx.evaluate(&inputs, &mut p1, &mut v1).unwrap();
        native.evaluate(&inputs, &mut p2, &mut v2).unwrap();
        let diff = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max)
        };
        assert!(
            diff(&p1, &p2) < 1e-5,
            "policy differs by {}",
            diff(&p1, &p2)
        );
        assert!(diff(&v1, &v2) < 1e-5, "value differs by {}", diff(&v1, &v2));
        for row in p1.chunks_exact(7) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        // Not a degenerate network: the values and priors vary between positions.
        if batch > 1 {
            assert!(v1.iter().any(|&v| (v - v1[0]).abs() > 1e-3));
        }
    }
}

#[test]
fn an_onnx_network_drives_search_and_self_play() {
    let net = Arc::new(onnx_net());
    let mut search = Puct::new(PuctConfig::default(), Connect4::new()).unwrap();
    let summary = search.search(&*net, 200).unwrap();
    search.check_invariants().unwrap();
    let best = summary.best_action.unwrap();
    assert!(best < 7);
    let config = SelfPlayConfig {
        full_sims: 16,
        fast_sims: 4,
        workers: 2,
        games_per_worker: 2,
        ..SelfPlayConfig::default()
    };
    let (games, stats) = self_play(net, &Connect4::new(), 4, &config, 3).unwrap();
    assert_eq!(games.len(), 4);
    assert!(
        games.iter().all(|g| g.len() >= 7),
        "a game has at least 7 moves"
    );
    assert!(stats.evaluations > 0);
}

#[test]
fn bad_model_files_are_typed_errors_naming_the_file() {
    let expect = |path: PathBuf, input_len: usize, needle: &str| {
        let err = OnnxEvaluator::load(&path, input_len, 7, 1).unwrap_err();
        let MctsError::Onnx { path: named, .. } = &err else {
            panic!("not an ONNX error: {err}");
        };
        assert_eq!(named, &path);
        let message = err.to_string();
        assert!(message.contains(needle), "{message}");
    };
    expect(fixtures().join("mcts/missing.onnx"), 84, "no such file");
    // Wrong input width.
    expect(fixtures().join("mcts/az_mlp.onnx"), 85, "expected 85");
    // Another model's interface (the mpc crate's transformer fixture).
    expect(
        fixtures().join("mpc/tiny_transformer.onnx"),
        84,
        "one input",
    );
    // Not ONNX at all.
    let junk = std::env::temp_dir().join(format!("mcts-junk-{}.onnx", std::process::id()));
    std::fs::write(&junk, b"this is not a protobuf").unwrap();
    expect(junk.clone(), 84, &junk.display().to_string());
    std::fs::remove_file(&junk).ok();
}
