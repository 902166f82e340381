//! AlphaZero: PUCT back-ups and invariants, the network's gradient and training, checkpoints,
//! the replay buffer, and self-play.

use std::sync::Arc;

use mcts::alphazero::selfplay::SelfPlayJob;
use mcts::alphazero::train::{
    IterationLog, MatchConfig, match_vs_uct, policy_mistakes, puct_mistakes, puct_moves,
};
use mcts::alphazero::{
    Adam, AdamConfig, Checkpoint, Evaluator, Mlp, NetShape, Puct, PuctConfig, ReplayBuffer, Sample,
    SelfPlayConfig, Symmetry, TrainConfig, Trainer, TrainingSession, TrainingState,
    UniformEvaluator, self_play,
};
use mcts::test_set::JudgedPosition;
use mcts::{Action, Connect4, Encode, Game, MctsError, Solver, TicTacToe};
use par_core::{ExecConfig, Executor, Mode, Progress};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Uniform priors and a constant value.
struct ConstEvaluator {
    value: f32,
    input_len: usize,
    num_actions: usize,
}

impl Evaluator for ConstEvaluator {
    fn input_len(&self) -> usize {
        self.input_len
    }
    fn num_actions(&self) -> usize {
        self.num_actions
    }
    fn evaluate(&self, _: &[f32], policy: &mut [f32], values: &mut [f32]) -> Result<(), MctsError> {
        policy.fill(1.0 / self.num_actions as f32);
        values.fill(self.value);
        Ok(())
    }
}

/// All prior on one column, value 0.
struct FixedPolicy {
    column: usize,
}

impl Evaluator for FixedPolicy {
    fn input_len(&self) -> usize {
        Connect4::INPUT_LEN
    }
    fn num_actions(&self) -> usize {
        7
    }
    fn evaluate(&self, _: &[f32], policy: &mut [f32], values: &mut [f32]) -> Result<(), MctsError> {
        for row in policy.chunks_exact_mut(7) {
            row.fill(0.0);
            row[self.column] = 1.0;
        }
        values.fill(0.0);
        Ok(())
    }
}

/// A single-agent chain: three steps, action 0 pays 0.1, action 1 pays 0, discount 0.9.
#[derive(Debug, Clone, Default)]
struct Chain {
    steps: u8,
}

impl Game for Chain {
    const NUM_ACTIONS: usize = 2;
    fn current_player(&self) -> u8 {
        0
    }
    fn is_terminal(&self) -> bool {
        self.steps >= 3
    }
    fn legal_actions(&self, out: &mut Vec<Action>) {
        out.clear();
        if !self.is_terminal() {
            out.extend([0, 1]);
        }
    }
    fn apply(&mut self, action: Action) -> f64 {
        self.steps += 1;
        if action == 0 { 0.1 } else { 0.0 }
    }
    fn discount(&self) -> f64 {
        0.9
    }
}

impl Encode for Chain {
    const INPUT_LEN: usize = 1;
    fn encode(&self, out: &mut [f32]) {
        out[0] = f32::from(self.steps);
    }
}

fn tic_eval() -> UniformEvaluator {
    UniformEvaluator {
        input_len: TicTacToe::INPUT_LEN,
        num_actions: 9,
    }
}

fn one_leaf() -> PuctConfig {
    PuctConfig {
        leaf_batch: 1,
        ..PuctConfig::default()
    }
}

#[test]
fn rewards_and_values_are_backed_up_for_one_agent() {
    let eval = ConstEvaluator {
        value: 0.5,
        input_len: 1,
        num_actions: 2,
    };
    let mut search = Puct::new(one_leaf(), Chain::default()).unwrap();
    // Simulation 1 evaluates the root; simulation 2 goes to action 0 (first of equal scores).
    search.search(&eval, 2).unwrap();
    let children = search.root_children();
    assert_eq!(children[0].visits, 1);
    // Same player moves next: G = r + gamma * V = 0.1 + 0.9 * 0.5.
    assert!((children[0].mean_value - 0.55).abs() < 1e-6, "{children:?}");
    // A full search of the three-step chain: the best path takes action 0 every time.
    let mut search = Puct::new(one_leaf(), Chain::default()).unwrap();
    search.search(&eval, 200).unwrap();
    assert_eq!(search.best_action(), Some(0));
    search.check_invariants().unwrap();
}

#[test]
fn values_flip_sign_between_players() {
    let eval = ConstEvaluator {
        value: 0.3,
        input_len: TicTacToe::INPUT_LEN,
        num_actions: 9,
    };
    let mut search = Puct::new(one_leaf(), TicTacToe::new()).unwrap();
    search.search(&eval, 2).unwrap();
    let c = search.root_children()[0];
    assert_eq!(c.visits, 1);
    // The opponent moves next: G = 0 - 1 * 0.3.
    assert!((c.mean_value + 0.3).abs() < 1e-6, "{c:?}");
}

fn tic(moves: &[Action]) -> TicTacToe {
    let mut s = TicTacToe::new();
    for &m in moves {
        s.apply(m);
    }
    s
}

#[test]
fn finds_wins_and_blocks_with_any_leaf_batch() {
    for leaf_batch in [1, 4, 16] {
        for virtual_loss in [0.0, 1.0, 3.0] {
            let config = PuctConfig {
                leaf_batch,
                virtual_loss,
                ..PuctConfig::default()
            };
            // O (cells 3, 4) threatens 5; X (0, 8) has no win: X must block.
            let mut s = Puct::new(config.clone(), tic(&[0, 3, 8, 4])).unwrap();
            let summary = s.search(&tic_eval(), 600).unwrap();
            assert_eq!(
                summary.best_action,
                Some(5),
                "blocking? {leaf_batch} {virtual_loss}"
            );
            let mut s = Puct::new(config.clone(), tic(&[0, 3, 1, 8])).unwrap();
            // X (0, 1) wins at 2.
            assert_eq!(s.search(&tic_eval(), 600).unwrap().best_action, Some(2));
            assert_eq!(s.root_visits(), 600);
            s.check_invariants().unwrap();
        }
    }
}

#[test]
fn simulation_count_and_invariants_hold_with_leaf_batching_and_reuse() {
    let config = PuctConfig {
        leaf_batch: 8,
        dirichlet_epsilon: 0.25,
        seed: 3,
        ..PuctConfig::default()
    };
    let eval = tic_eval();
    let mut s = Puct::new(config, TicTacToe::new()).unwrap();
    let summary = s.search(&eval, 500).unwrap();
    assert_eq!(summary.simulations, 500);
    assert_eq!(s.root_visits(), 500);
    s.check_invariants().unwrap();
    let priors: f32 = s.root_priors().iter().map(|p| p.1).sum();
    assert!((priors - 1.0).abs() < 1e-5);
    assert!(
        s.root_priors()
            .iter()
            .any(|p| (p.1 - 1.0 / 9.0).abs() > 1e-3),
        "noise is on"
    );
    let visit_sum: f32 = s.visit_distribution().iter().sum();
    assert!((visit_sum - 1.0).abs() < 1e-5);
    // Tree reuse keeps the child's visits.
    let a = s.best_action().unwrap();
    let kept = s
        .root_children()
        .iter()
        .find(|c| c.action == a)
        .unwrap()
        .visits;
    s.advance(a).unwrap();
    assert_eq!(s.root_visits(), kept);
    s.check_invariants().unwrap();
    s.search(&eval, 100).unwrap();
    assert_eq!(s.root_visits(), kept + 100);
    s.check_invariants().unwrap();
    assert!(matches!(s.advance(a), Err(MctsError::IllegalAction { .. })));
}

#[test]
fn temperature_samples_in_proportion_to_visits() {
    let mut s = Puct::new(PuctConfig::default(), TicTacToe::new()).unwrap();
    s.search(&tic_eval(), 300).unwrap();
    assert_eq!(s.select_move(0.0), s.best_action());
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        seen.insert(s.select_move(1.0).unwrap());
    }
    assert!(seen.len() > 1, "temperature 1 draws several moves");
}

#[test]
fn bad_configs_and_evaluators_are_rejected() {
    for c in [
        PuctConfig {
            leaf_batch: 0,
            ..PuctConfig::default()
        },
        PuctConfig {
            c_puct: f64::NAN,
            ..PuctConfig::default()
        },
        PuctConfig {
            dirichlet_epsilon: 1.5,
            ..PuctConfig::default()
        },
    ] {
        assert!(matches!(
            Puct::new(c, TicTacToe::new()),
            Err(MctsError::Config { .. })
        ));
    }
    let wrong = UniformEvaluator {
        input_len: 3,
        num_actions: 9,
    };
    let mut s = Puct::new(PuctConfig::default(), TicTacToe::new()).unwrap();
    assert!(matches!(
        s.search(&wrong, 10),
        Err(MctsError::Config {
            field: "evaluator",
            ..
        })
    ));
}

fn random_batch(
    rng: &mut Xoshiro256PlusPlus,
    shape: &NetShape,
    batch: usize,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let xs: Vec<f32> = (0..batch * shape.input)
        .map(|_| {
            if rng.random::<f32>() < 0.3 {
                0.0
            } else {
                rng.random::<f32>() * 2.0 - 1.0
            }
        })
        .collect();
    let mut ps = Vec::new();
    for _ in 0..batch {
        let row: Vec<f32> = (0..shape.actions).map(|_| rng.random::<f32>()).collect();
        let s: f32 = row.iter().sum();
        ps.extend(row.iter().map(|v| v / s));
    }
    let vs = (0..batch)
        .map(|_| rng.random::<f32>() * 1.6 - 0.8)
        .collect();
    (xs, ps, vs)
}

#[test]
fn gradient_matches_finite_differences() {
    // A tiny net, and one whose widths and batch leave partial tiles in every product of the
    // matrix kernel (its tiles are 8 wide or more).
    for (shape, batch) in [
        (
            NetShape {
                input: 6,
                hidden: vec![5, 4],
                actions: 3,
            },
            4,
        ),
        (
            NetShape {
                input: 13,
                hidden: vec![17, 9],
                actions: 5,
            },
            11,
        ),
    ] {
        let mut net = Mlp::new(shape.clone(), 11).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        // Non-zero biases, so that every parameter matters.
        for p in net.params_mut() {
            *p += (rng.random::<f32>() - 0.5) * 0.2;
        }
        let (xs, ps, vs) = random_batch(&mut rng, &shape, batch);
        let l2 = 0.01;
        let mut grad = vec![0.0f32; net.params().len()];
        net.loss_and_grad(&xs, &ps, &vs, l2, &mut grad);
        let h = 1e-3f32;
        for (k, &g) in grad.iter().enumerate() {
            let orig = net.params()[k];
            net.params_mut()[k] = orig + h;
            let up = net.loss(&xs, &ps, &vs, l2).total();
            net.params_mut()[k] = orig - h;
            let down = net.loss(&xs, &ps, &vs, l2).total();
            net.params_mut()[k] = orig;
            let fd = (up - down) / (2.0 * f64::from(h));
            let err = (fd - f64::from(g)).abs() / (1e-2 + fd.abs());
            assert!(
                err < 0.03,
                "{shape:?}, parameter {k}: finite difference {fd}, gradient {g}"
            );
        }
    }
}

#[test]
fn a_state_gets_the_same_answer_in_any_batch() {
    // Self-play's determinism across worker counts rests on this: the batcher groups states
    // differently for different worker counts.
    let shape = NetShape {
        input: Connect4::INPUT_LEN,
        hidden: vec![64, 40],
        actions: 7,
    };
    let net = Mlp::new(shape.clone(), 3).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
    let n = 45;
    let (xs, _, _) = random_batch(&mut rng, &shape, n);
    let (mut p_all, mut v_all) = (vec![0.0f32; n * 7], vec![0.0f32; n]);
    net.evaluate(&xs, &mut p_all, &mut v_all).unwrap();
    let (mut p, mut v) = (vec![0.0f32; n * 7], vec![0.0f32; n]);
    for (start, len) in [(0, 1), (9, 1), (3, 5), (7, 8), (1, 13), (20, 17), (44, 1)] {
        let rows = start..start + len;
        net.evaluate(
            &xs[rows.start * shape.input..rows.end * shape.input],
            &mut p[..len * 7],
            &mut v[..len],
        )
        .unwrap();
        assert_eq!(
            &p[..len * 7],
            &p_all[rows.start * 7..rows.end * 7],
            "{rows:?}"
        );
        assert_eq!(&v[..len], &v_all[rows.clone()], "{rows:?}");
    }
    for row in p_all.chunks_exact(7) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    assert!(v_all.iter().all(|v| v.abs() <= 1.0));
    // Too few inputs or policy entries for the values asked: a typed error, not a panic.
    assert!(matches!(
        net.evaluate(&xs[..3 * shape.input], &mut p[..4 * 7], &mut v[..4]),
        Err(MctsError::Config {
            field: "evaluate",
            ..
        })
    ));
    assert!(matches!(
        net.evaluate(&xs[..4 * shape.input], &mut p[..3 * 7], &mut v[..4]),
        Err(MctsError::Config {
            field: "evaluate",
            ..
        })
    ));
}

#[test]
fn training_reduces_the_loss_on_a_fixed_data_set() {
    let shape = NetShape {
        input: Connect4::INPUT_LEN,
        hidden: vec![64, 64],
        actions: 7,
    };
    let mut net = Mlp::new(shape.clone(), 1).unwrap();
    let mut adam = Adam::new(AdamConfig::default(), net.params().len()).unwrap();
    // 64 random positions with random targets.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let (mut xs, mut ps, mut vs) = (Vec::new(), Vec::new(), Vec::new());
    let mut actions = Vec::new();
    for _ in 0..64 {
        let mut s = Connect4::new();
        for _ in 0..rng.random_range(0..20) {
            s.legal_actions(&mut actions);
            if actions.is_empty() {
                break;
            }
            let a = actions[rng.random_range(0..actions.len())];
            s.apply(a);
            if s.is_terminal() {
                s = Connect4::new();
            }
        }
        let mut x = vec![0.0; Connect4::INPUT_LEN];
        s.encode(&mut x);
        xs.extend(x);
        let mut p = vec![0.0f32; 7];
        p[rng.random_range(0..7)] = 1.0;
        ps.extend(p);
        vs.push([-1.0, 0.0, 1.0][rng.random_range(0..3)]);
    }
    let before = net.loss(&xs, &ps, &vs, 1e-4);
    let mut grad = vec![0.0; net.params().len()];
    for _ in 0..150 {
        net.loss_and_grad(&xs, &ps, &vs, 1e-4, &mut grad);
        adam.step(net.params_mut(), &grad);
    }
    let after = net.loss(&xs, &ps, &vs, 1e-4);
    assert_eq!(adam.steps(), 150);
    assert!(
        after.policy < 0.5 * before.policy && after.value < 0.5 * before.value,
        "before {before:?}, after {after:?}"
    );
}

#[test]
fn adam_never_leaves_subnormal_weights() {
    // A weight that feeds a dead ReLU unit gets only the L2 gradient `2 l2 w`. Under Adam it
    // shrinks towards zero and, unflushed, settles among the subnormal numbers, where every
    // multiply of the network's products is many times slower on x86.
    let l2 = 1e-4f32;
    let mut adam = Adam::new(AdamConfig::default(), 2).unwrap();
    let mut params = vec![0.01f32, -0.003];
    for step in 0..20_000 {
        let grad: Vec<f32> = params.iter().map(|w| 2.0 * l2 * w).collect();
        adam.step(&mut params, &grad);
        assert!(
            params.iter().all(|w| !w.is_subnormal()),
            "step {step}: {params:?}"
        );
    }
    // Subnormal inputs are flushed at the next step, too.
    let mut params = vec![1e-39f32, 1.0];
    assert!(params[0].is_subnormal());
    adam.step(&mut params, &[0.0, 0.0]);
    assert_eq!(params[0], 0.0);
}

#[test]
fn checkpoints_round_trip_and_bad_files_are_typed_errors() {
    let dir = std::env::temp_dir().join(format!("mcts-az-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shape = NetShape {
        input: 18,
        hidden: vec![8],
        actions: 9,
    };
    let net = Mlp::new(shape.clone(), 4).unwrap();
    let mut adam = Adam::new(AdamConfig::default(), net.params().len()).unwrap();
    let mut net2 = net.clone();
    adam.step(net2.params_mut(), &vec![0.1; net.params().len()]);
    let c = Checkpoint {
        net: net2,
        adam,
        iteration: 3,
        games: 100,
        samples: 900,
        train_seconds: 12.5,
        sessions: vec![TrainingSession::now(
            serde_json::to_string(&TrainConfig::default()).unwrap(),
            0.0,
        )],
    };
    let path = dir.join("ok.bin");
    c.save(&path).unwrap();
    assert_eq!(Checkpoint::load(&path).unwrap(), c);
    assert_eq!(Checkpoint::load_for(&path, &shape).unwrap(), c);
    let said = c.provenance();
    assert!(
        said.contains("0.2 minutes of training, 3 iterations"),
        "{said}"
    );
    assert!(said.contains("TrainConfig {"), "{said}");

    // A file of the first format (no provenance) is still read, its provenance unknown.
    #[derive(serde::Serialize)]
    struct V1<'a> {
        net: &'a Mlp,
        adam: &'a Adam,
        iteration: u64,
        games: u64,
        samples: u64,
        train_seconds: f64,
    }
    let mut bytes = b"MCTSAZ01".to_vec();
    bytes.extend(
        postcard::to_stdvec(&V1 {
            net: &c.net,
            adam: &c.adam,
            iteration: 3,
            games: 100,
            samples: 900,
            train_seconds: 12.5,
        })
        .unwrap(),
    );
    let old = dir.join("v1.bin");
    std::fs::write(&old, bytes).unwrap();
    let read = Checkpoint::load(&old).unwrap();
    assert_eq!(
        read,
        Checkpoint {
            sessions: Vec::new(),
            ..c.clone()
        }
    );
    assert!(read.provenance().contains("provenance unknown"));

    // Wrong shape.
    let other = NetShape {
        hidden: vec![9],
        ..shape
    };
    let e = Checkpoint::load_for(&path, &other).unwrap_err();
    assert!(
        matches!(&e, MctsError::Checkpoint { path: p, .. } if *p == path),
        "{e}"
    );
    // Truncated.
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.join("cut.bin");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = Checkpoint::load(&cut).unwrap_err();
    assert!(
        matches!(&e, MctsError::Checkpoint { path: p, .. } if *p == cut),
        "{e}"
    );
    assert!(e.to_string().contains("cut.bin"));
    // Not a checkpoint; missing.
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, b"hello world, not a network").unwrap();
    assert!(matches!(
        Checkpoint::load(&junk),
        Err(MctsError::Checkpoint { .. })
    ));
    assert!(matches!(
        Checkpoint::load(&dir.join("missing.bin")),
        Err(MctsError::Checkpoint { .. })
    ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn replay_ring_overwrites_the_oldest_and_mirrors_connect_four() {
    let mut r = ReplayBuffer::new(3, 1, 2).unwrap();
    for k in 0..5 {
        r.push(&Sample {
            input: vec![k as f32],
            policy: vec![1.0, 0.0],
            value: 0.0,
        })
        .unwrap();
    }
    assert_eq!(r.len(), 3);
    assert_eq!(r.total_pushed(), 5);
    let held: Vec<f32> = (0..3).map(|k| r.get(k).unwrap().input[0]).collect();
    assert_eq!(held, vec![2.0, 3.0, 4.0]);
    assert!(
        r.push(&Sample {
            input: vec![0.0; 2],
            policy: vec![1.0, 0.0],
            value: 0.0
        })
        .is_err()
    );

    // The mirror of an encoded position is the encoding of the mirrored position.
    let s = Connect4::from_moves("1124573").unwrap();
    let m = Connect4::from_moves("7764315").unwrap();
    let (mut x, mut y) = (vec![0.0; 84], vec![0.0; 84]);
    s.encode(&mut x);
    m.encode(&mut y);
    let mut policy: Vec<f32> = (0..7).map(|k| k as f32).collect();
    assert!(Connect4::mirror(&mut x, &mut policy));
    assert_eq!(x, y);
    assert_eq!(policy, vec![6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0]);
    // Both sides' stones are encoded from the point of view of the player to move.
    assert_eq!(x.iter().sum::<f32>(), 7.0);
}

#[test]
fn self_play_is_the_same_for_any_worker_count() {
    let shape = NetShape {
        input: TicTacToe::INPUT_LEN,
        hidden: vec![16],
        actions: 9,
    };
    let net = Arc::new(Mlp::new(shape, 7).unwrap());
    let mut config = SelfPlayConfig {
        full_sims: 24,
        fast_sims: 8,
        full_search_prob: 0.5,
        games_per_worker: 3,
        // Game results alone as value targets (checked below).
        value_target_search_weight: 0.0,
        ..SelfPlayConfig::default()
    };
    config.workers = 1;
    let (a, sa) = self_play(net.clone(), &TicTacToe::new(), 7, &config, 9).unwrap();
    config.workers = 2;
    config.games_per_worker = 2;
    let (b, sb) = self_play(net.clone(), &TicTacToe::new(), 7, &config, 9).unwrap();
    assert_eq!(a, b);
    // The same through one shared network thread, which merges the workers' batches.
    config.shared_network_thread = true;
    config.workers = 3;
    let (c, sc) = self_play(net, &TicTacToe::new(), 7, &config, 9).unwrap();
    assert_eq!(a, c);
    assert_eq!(sc.evaluations, sa.evaluations);
    assert_eq!(sa.games, 7);
    assert_eq!(sa.samples, sb.samples);
    assert_eq!(sa.outcomes.iter().sum::<usize>(), 7);
    assert!(sa.evaluations > 0 && sa.network_calls > 0);
    for s in a.iter().flatten() {
        assert!([-1.0, 0.0, 1.0].contains(&s.value));
        assert!((s.policy.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    // Playout cap randomisation records only part of the moves.
    assert!(sa.samples < sa.moves);
}

#[test]
fn self_play_as_a_job_plays_the_same_games_in_every_mode() {
    let shape = NetShape {
        input: TicTacToe::INPUT_LEN,
        hidden: vec![16],
        actions: 9,
    };
    let net = Mlp::new(shape, 7).unwrap();
    let config = SelfPlayConfig {
        full_sims: 24,
        fast_sims: 8,
        full_search_prob: 0.5,
        games_per_worker: 3,
        workers: 2,
        ..SelfPlayConfig::default()
    };
    let (want, stats) = self_play(Arc::new(net.clone()), &TicTacToe::new(), 7, &config, 9).unwrap();
    let job = SelfPlayJob::new(net, TicTacToe::new(), 7, config, 9).unwrap();
    assert_eq!(job.tasks(), 3, "7 games in blocks of 3");
    for mode in [Mode::Sequential, Mode::Threads { workers: 2 }] {
        let exec = Executor::new(ExecConfig {
            progress: Progress::Hidden,
            ..ExecConfig::with_mode(mode)
        })
        .unwrap();
        let (games, s) = job.run_on(&exec).unwrap();
        assert_eq!(games, want, "{mode}");
        assert_eq!(
            (s.games, s.samples, s.moves, s.outcomes, s.evaluations),
            (
                stats.games,
                stats.samples,
                stats.moves,
                stats.outcomes,
                stats.evaluations
            ),
            "{mode}"
        );
    }
    // A network that does not fit the game is refused.
    let wrong = Mlp::new(
        NetShape {
            input: 5,
            hidden: vec![4],
            actions: 9,
        },
        1,
    )
    .unwrap();
    let err =
        SelfPlayJob::new(wrong, TicTacToe::new(), 2, SelfPlayConfig::default(), 1).unwrap_err();
    assert!(err.to_string().contains("net"), "{err}");
}

#[test]
fn value_targets_mix_the_game_result_and_the_search_value() {
    let shape = NetShape {
        input: TicTacToe::INPUT_LEN,
        hidden: vec![16],
        actions: 9,
    };
    let net = Arc::new(Mlp::new(shape, 5).unwrap());
    let targets = |w: f64| {
        let config = SelfPlayConfig {
            full_sims: 32,
            workers: 2,
            games_per_worker: 2,
            value_target_search_weight: w,
            ..SelfPlayConfig::default()
        };
        let (games, _) = self_play(net.clone(), &TicTacToe::new(), 6, &config, 3).unwrap();
        games
            .into_iter()
            .flatten()
            .map(|s| (s.input, s.value))
            .collect::<Vec<_>>()
    };
    let (z, q, mix) = (targets(0.0), targets(1.0), targets(0.5));
    // The weight changes the targets only, never the games.
    assert_eq!(z.len(), q.len());
    assert_eq!(z.len(), mix.len());
    for ((a, b), c) in z.iter().zip(&q).zip(&mix) {
        assert_eq!(a.0, b.0);
        assert_eq!(a.0, c.0);
        assert!([-1.0, 0.0, 1.0].contains(&a.1), "z = {}", a.1);
        assert!((-1.0..=1.0).contains(&b.1));
        assert!(
            (c.1 - 0.5 * (a.1 + b.1)).abs() < 1e-6,
            "{} {} {}",
            a.1,
            b.1,
            c.1
        );
    }
    // Search values are estimates, not results: most lie strictly between the outcomes.
    let inside = q
        .iter()
        .filter(|s| ![-1.0, 0.0, 1.0].contains(&s.1))
        .count();
    assert!(inside * 2 > q.len(), "{inside} of {}", q.len());
    let bad = SelfPlayConfig {
        value_target_search_weight: f64::NAN,
        ..SelfPlayConfig::default()
    };
    assert!(matches!(
        bad.validate(),
        Err(MctsError::Config {
            field: "value_target_search_weight",
            ..
        })
    ));
}

#[test]
fn the_loop_trains_checkpoints_and_resumes() {
    let config = TrainConfig {
        hidden: vec![16],
        games_per_iteration: 6,
        batch_size: 32,
        selfplay: SelfPlayConfig {
            full_sims: 16,
            workers: 2,
            ..SelfPlayConfig::default()
        },
        ..TrainConfig::default()
    };
    let mut t = Trainer::<TicTacToe>::new(config.clone()).unwrap();
    let log = t.iterate().unwrap();
    assert_eq!(log.iteration, 1);
    assert_eq!(log.selfplay.games, 6);
    // Mirror augmentation: tic-tac-toe samples that are not symmetric get a mirror image.
    assert!(log.samples_added > log.selfplay.samples);
    assert!(log.losses.total().is_finite() && log.train_steps >= 1);
    let dir = std::env::temp_dir().join(format!("mcts-az-loop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.bin");
    t.checkpoint().save(&path).unwrap();
    let resumed = Trainer::<TicTacToe>::resume(config.clone(), &path).unwrap();
    assert_eq!(resumed.net(), t.net());
    assert_eq!(resumed.iteration(), 1);
    // The checkpoint says which code and settings trained it: one session, then a second
    // once resumed, starting where the first stopped.
    let first = &t.checkpoint().sessions;
    assert_eq!(first.len(), 1);
    let recorded: TrainConfig = serde_json::from_str(&first[0].config).unwrap();
    assert_eq!(recorded, config);
    assert_eq!(first[0].from_seconds, 0.0);
    assert!(first[0].date.ends_with("UTC"));
    let both = resumed.checkpoint().sessions;
    assert_eq!(both.len(), 2);
    assert_eq!(both[0], first[0]);
    assert_eq!(both[1].from_seconds, t.seconds());
    let wrong = TrainConfig {
        hidden: vec![17],
        ..config
    };
    assert!(matches!(
        Trainer::<TicTacToe>::resume(wrong, &path),
        Err(MctsError::Checkpoint { .. })
    ));
    std::fs::remove_dir_all(&dir).ok();
}

/// An iteration's log without its wall times.
fn untimed(mut log: IterationLog) -> IterationLog {
    log.selfplay.seconds = 0.0;
    (log.selfplay_s, log.train_s, log.total_s) = (0.0, 0.0, 0.0);
    log
}

#[test]
fn a_run_resumed_from_its_training_state_is_the_run_that_never_stopped() {
    let config = TrainConfig {
        hidden: vec![16],
        games_per_iteration: 4,
        batch_size: 16,
        // A ring smaller than what four iterations push: resuming must keep its position.
        replay_capacity: 150,
        selfplay: SelfPlayConfig {
            full_sims: 12,
            workers: 2,
            ..SelfPlayConfig::default()
        },
        ..TrainConfig::default()
    };
    let mut straight = Trainer::<TicTacToe>::new(config.clone()).unwrap();
    let mut logs = Vec::new();
    straight
        .run_until(None, Some(4), |_, it| {
            logs.push(untimed(it.clone()));
            Ok::<_, MctsError>(())
        })
        .unwrap();
    assert_eq!(logs.len(), 4);
    assert!(straight.replay().total_pushed() > 150, "the ring wrapped");

    let dir = std::env::temp_dir().join(format!("mcts-az-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.bin");
    let mut first = Trainer::<TicTacToe>::new(config.clone()).unwrap();
    first
        .run_until(None, Some(2), |_, _| Ok::<_, MctsError>(()))
        .unwrap();
    first.save_state(&path, "notes of the caller").unwrap();
    // The same bytes as the state made whole, then saved.
    let whole = dir.join("whole.bin");
    first
        .training_state("notes of the caller".into())
        .save(&whole)
        .unwrap();
    assert_eq!(
        std::fs::read(&whole).unwrap(),
        std::fs::read(&path).unwrap()
    );
    drop(first);
    let state = TrainingState::load(&path).unwrap();
    let (mut resumed, notes) =
        Trainer::<TicTacToe>::from_state(config.clone(), state, &path).unwrap();
    assert_eq!(notes, "notes of the caller");
    assert_eq!(resumed.iteration(), 2);
    let mut rest = Vec::new();
    resumed
        .run_until(
            Some(std::time::Duration::from_secs(600)),
            Some(4),
            |_, it| {
                rest.push(untimed(it.clone()));
                Ok::<_, MctsError>(())
            },
        )
        .unwrap();
    assert_eq!(rest, logs[2..]);
    assert_eq!(resumed.net(), straight.net());
    let (a, b) = (resumed.checkpoint(), straight.checkpoint());
    assert_eq!(
        (a.adam, a.iteration, a.games, a.samples),
        (b.adam, b.iteration, b.games, b.samples)
    );
    assert_eq!(resumed.replay(), straight.replay());
    assert_eq!(a.sessions.len(), 2, "the resume is a second session");

    // A bare checkpoint resumes with an empty replay buffer: not the same run.
    let ckpt = dir.join("c.bin");
    let mut first = Trainer::<TicTacToe>::new(config.clone()).unwrap();
    first
        .run_until(None, Some(2), |_, _| Ok::<_, MctsError>(()))
        .unwrap();
    first.checkpoint().save(&ckpt).unwrap();
    let mut bare = Trainer::<TicTacToe>::resume(config.clone(), &ckpt).unwrap();
    bare.run_until(None, Some(4), |_, _| Ok::<_, MctsError>(()))
        .unwrap();
    assert_ne!(bare.net(), straight.net());

    // Neither bound: refused, not an endless loop.
    assert!(matches!(
        bare.run_until(None, None, |_, _| Ok::<_, MctsError>(())),
        Err(MctsError::Config {
            field: "budget",
            ..
        })
    ));

    // Bad files are typed errors naming the file: truncated, a checkpoint, empty, junk, and a
    // network that does not fit the configuration.
    let bytes = std::fs::read(&path).unwrap();
    for (name, content) in [
        ("cut.bin", bytes[..bytes.len() / 2].to_vec()),
        ("ckpt.bin", std::fs::read(&ckpt).unwrap()),
        ("empty.bin", Vec::new()),
        ("junk.bin", b"MCTSAZS1 and then nothing of use".to_vec()),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        let e = TrainingState::load(&p).unwrap_err();
        assert!(
            matches!(&e, MctsError::Checkpoint { path, .. } if *path == p),
            "{e}"
        );
    }
    let e = Checkpoint::load(&path).unwrap_err();
    assert!(e.to_string().contains("is a training state"), "{e}");
    let wider = TrainConfig {
        hidden: vec![17],
        ..config
    };
    let e = Trainer::<TicTacToe>::from_state(wider, TrainingState::load(&path).unwrap(), &path)
        .unwrap_err();
    assert!(matches!(&e, MctsError::Checkpoint { .. }), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn replay_buffers_round_trip_with_board_planes_as_bits() {
    let fill = |inputs: &dyn Fn(usize) -> Vec<f32>| {
        let mut r = ReplayBuffer::new(5, 4, 2).unwrap();
        for k in 0..7 {
            let sample = Sample {
                input: inputs(k),
                policy: vec![0.25, 0.75],
                value: -0.5,
            };
            r.push(&sample).unwrap();
        }
        r
    };
    let planes = fill(&|k| (0..4).map(|i| ((i + k) % 2) as f32).collect());
    let floats = fill(&|k| (0..4).map(|i| (i * k) as f32 * 0.5).collect());
    let signed_zero = fill(&|k| vec![-0.0, 1.0, 0.0, (k % 2) as f32]);
    for r in [&planes, &floats, &signed_zero] {
        let bytes = postcard::to_stdvec(r).unwrap();
        let back: ReplayBuffer = postcard::from_bytes(&bytes).unwrap();
        back.check().unwrap();
        assert_eq!(&back, r);
        // Bit for bit, -0.0 included.
        for k in 0..r.len() {
            let (a, b) = (r.get(k).unwrap(), back.get(k).unwrap());
            let bits = |s: &Sample| s.input.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&b));
        }
    }
    let size = |r: &ReplayBuffer| postcard::to_stdvec(r).unwrap().len();
    assert!(
        size(&planes) + 5 * 4 * 3 <= size(&floats),
        "{} bytes against {}",
        size(&planes),
        size(&floats)
    );
}

#[test]
fn mistakes_and_matches_are_counted() {
    let shape = NetShape {
        input: Connect4::INPUT_LEN,
        hidden: vec![8],
        actions: 7,
    };
    let net = Mlp::new(shape, 3).unwrap();
    // X to move wins at once in column 1 (index 0): any other column is a mistake.
    let p = Connect4::from_moves("121212").unwrap();
    let judged = [JudgedPosition {
        state: p,
        outcomes: Solver::new().child_outcomes(p.position()),
    }];
    let m = puct_mistakes(&net, &judged, &PuctConfig::default(), 200).unwrap();
    assert_eq!(m, 0, "a 200-simulation search finds a win in one");
    // The network alone: a policy on column 1 is right, one on column 7 is a mistake.
    for (column, mistakes) in [(0, 0), (6, 1)] {
        let fixed = FixedPolicy { column };
        assert_eq!(policy_mistakes(&fixed, &judged).unwrap(), mistakes);
    }
    let config = MatchConfig {
        games: 2,
        az_sims: 16,
        uct_sims: 16,
        seed: 1,
        workers: 2,
        ..MatchConfig::default()
    };
    let r = match_vs_uct(&net, &config).unwrap();
    assert_eq!(r.games, 2);
    assert_eq!(r.wins + r.draws + r.losses, 2);
    assert!((0.0..=1.0).contains(&r.score()));
}

#[test]
fn lockstep_judging_plays_the_moves_of_separate_searches() {
    let shape = NetShape {
        input: Connect4::INPUT_LEN,
        hidden: vec![24],
        actions: 7,
    };
    let net = Mlp::new(shape, 5).unwrap();
    // 70 positions (more than two lockstep groups) from short random games; verdicts are not
    // needed for the moves.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let mut positions = Vec::new();
    let mut actions = Vec::new();
    while positions.len() < 70 {
        let mut s = Connect4::new();
        for _ in 0..rng.random_range(0..12) {
            s.legal_actions(&mut actions);
            let mut t = s;
            t.apply(actions[rng.random_range(0..actions.len())]);
            if t.is_terminal() {
                break;
            }
            s = t;
        }
        positions.push(JudgedPosition {
            state: s,
            outcomes: [None; 7],
        });
    }
    let config = PuctConfig::default();
    let moves = puct_moves(&net, &positions, &config, 40).unwrap();
    assert_eq!(moves.len(), positions.len());
    for (i, (p, &m)) in positions.iter().zip(&moves).enumerate() {
        let mut search = Puct::new(
            PuctConfig {
                seed: i as u64,
                ..config.clone()
            },
            p.state,
        )
        .unwrap();
        assert_eq!(search.search(&net, 40).unwrap().best_action, Some(m), "{i}");
    }
    // A network of the wrong shape is a typed error.
    let tic = Mlp::new(
        NetShape {
            input: TicTacToe::INPUT_LEN,
            hidden: vec![4],
            actions: 9,
        },
        0,
    )
    .unwrap();
    assert!(matches!(
        puct_moves(&tic, &positions, &config, 10),
        Err(MctsError::Config { field: "net", .. })
    ));
}
