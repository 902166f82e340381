//! AlphaZero part of scenario `mcts`: network evaluations per second against batch size (own
//! loops and the `matrixmultiply` crate), PUCT simulations per second against the leaf batch,
//! self-play with 1 and 2 workers sharing one batched evaluator, and the strength of a trained
//! network (win rate against UCT with 200 simulations, Pons mistake rate along training).
//!
//! The trained network: `--full` trains one from scratch for 30 minutes (the loop of the
//! `az_train` example) and evaluates it over 200 games. The quick run evaluates the checkpoint
//! that `cargo run -p mcts --release --example az_train -- --minutes 30 --out target/az/c4`
//! leaves in `target/az/c4/` (or `MCTS_AZ_DIR`) over 200 games and plots its `log.json`,
//! saying so in a note with the checkpoint's training time; without one it trains for 3
//! minutes and plays 100 games.

use std::error::Error;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcts::alphazero::train::{
    JudgedPosition, MatchConfig, match_vs_uct, policy_mistakes, puct_mistakes,
};
use mcts::alphazero::{
    Checkpoint, Evaluator, Mlp, NetShape, Puct, PuctConfig, SelfPlayConfig, TrainConfig, Trainer,
    self_play,
};
use mcts::{Connect4, Encode, Game, Solver, load_test_set};
use par_core::bench::{Better, Metric, Plot, ScenarioReport, Series, Table};
use rand::{Rng, SeedableRng};

use super::{data_dir, load_average, process_cpu_seconds};

fn az_dir() -> PathBuf {
    std::env::var_os("MCTS_AZ_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/az/c4"))
}

/// Encoded positions from random games (realistic sparsity of the input planes).
fn random_inputs(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut out = vec![0.0f32; n * Connect4::INPUT_LEN];
    let mut actions = Vec::new();
    for k in 0..n {
        let mut s = Connect4::new();
        let depth = rng.random_range(0..30);
        for _ in 0..depth {
            s.legal_actions(&mut actions);
            let next = {
                let mut t = s;
                t.apply(actions[rng.random_range(0..actions.len())]);
                t
            };
            if next.is_terminal() {
                break;
            }
            s = next;
        }
        s.encode(&mut out[k * Connect4::INPUT_LEN..(k + 1) * Connect4::INPUT_LEN]);
    }
    out
}

/// The same forward pass as `Mlp::forward`, with every dense layer as one `matrixmultiply`
/// product.
fn forward_mm(net: &Mlp, inputs: &[f32], batch: usize, policy: &mut [f32], values: &mut [f32]) {
    let shape = net.shape();
    let layers = shape.layers();
    let params = net.params();
    let trunk = shape.hidden.len();
    let mut at = 0;
    let mut x = inputs[..batch * shape.input].to_vec();
    let dense = |x: &[f32], (ni, no): (usize, usize), at: &mut usize| -> Vec<f32> {
        let (w, b) = (
            &params[*at..*at + ni * no],
            &params[*at + ni * no..*at + ni * no + no],
        );
        *at += ni * no + no;
        let mut y = Vec::with_capacity(batch * no);
        for _ in 0..batch {
            y.extend_from_slice(b);
        }
        // SAFETY: x is batch x ni, w is ni x no and y is batch x no, all row-major and as long
        // as the strides below say.
        unsafe {
            matrixmultiply::sgemm(
                batch,
                ni,
                no,
                1.0,
                x.as_ptr(),
                ni as isize,
                1,
                w.as_ptr(),
                no as isize,
                1,
                1.0,
                y.as_mut_ptr(),
                no as isize,
                1,
            );
        }
        y
    };
    for &l in &layers[..trunk] {
        let mut y = dense(&x, l, &mut at);
        for v in &mut y {
            *v = v.max(0.0);
        }
        x = y;
    }
    let mut p = dense(&x, layers[trunk], &mut at);
    for row in p.chunks_exact_mut(shape.actions) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for v in row.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        for v in row.iter_mut() {
            *v /= sum;
        }
    }
    policy[..p.len()].copy_from_slice(&p);
    let v = dense(&x, layers[trunk + 1], &mut at);
    for (o, z) in values.iter_mut().zip(v) {
        *o = z.tanh();
    }
}

/// States per CPU second of `f` on batches of `batch`, best of 3 runs of at least `min_s`.
fn evals_per_cpu_s(batch: usize, min_s: f64, mut f: impl FnMut()) -> f64 {
    let mut best = 0.0f64;
    for _ in 0..3 {
        let c = process_cpu_seconds();
        let mut n = 0u64;
        while process_cpu_seconds() - c < min_s {
            f();
            n += batch as u64;
        }
        best = best.max(n as f64 / (process_cpu_seconds() - c));
    }
    best
}

/// Mistake rates of the first `n` positions of a set, with the solver's verdicts computed once.
fn judged(file: &str, n: usize) -> Result<Vec<JudgedPosition>, Box<dyn Error>> {
    let mut solver = Solver::new();
    Ok(load_test_set(&data_dir().join(file))?
        .iter()
        .take(n)
        .map(|tp| JudgedPosition {
            state: Connect4::from_position(tp.position),
            outcomes: solver.child_outcomes(&tp.position),
        })
        .collect())
}

/// Runs the AlphaZero measurements and adds them to `report`.
pub fn run(report: &mut ScenarioReport, quick: bool) -> Result<(), Box<dyn Error>> {
    let dir = az_dir();
    let ckpt_path = dir.join("checkpoint.bin");
    let shape = NetShape {
        input: Connect4::INPUT_LEN,
        hidden: vec![256, 256],
        actions: 7,
    };
    let existing = if quick && ckpt_path.is_file() {
        Some(Checkpoint::load_for(&ckpt_path, &shape)?)
    } else {
        None
    };
    let from_checkpoint = existing.is_some();
    let speed_net = existing
        .as_ref()
        .map(|c| c.net.clone())
        .unwrap_or(Mlp::new(shape.clone(), 0)?);

    // 1. Network evaluations per CPU second against batch size: own loops and matrixmultiply.
    let min_s = if quick { 0.3 } else { 1.0 };
    let batches = [1usize, 8, 32, 128];
    let inputs = random_inputs(128, 1);
    let mut rows = Vec::new();
    let (mut own_pts, mut mm_pts) = (Vec::new(), Vec::new());
    let (mut policy, mut values) = (vec![0.0f32; 128 * 7], vec![0.0f32; 128]);
    let (mut p2, mut v2) = (vec![0.0f32; 128 * 7], vec![0.0f32; 128]);
    for &b in &batches {
        speed_net.forward(&inputs, &mut policy[..b * 7], &mut values[..b]);
        forward_mm(&speed_net, &inputs, b, &mut p2, &mut v2[..b]);
        let diff = values[..b]
            .iter()
            .zip(&v2[..b])
            .map(|(a, c)| (a - c).abs())
            .fold(0.0f32, f32::max);
        if diff > 1e-3 {
            return Err(format!("matrixmultiply forward differs by {diff}").into());
        }
        let own = evals_per_cpu_s(b, min_s, || {
            speed_net.forward(&inputs, &mut policy[..b * 7], &mut values[..b]);
        });
        let mm = evals_per_cpu_s(b, min_s, || {
            forward_mm(&speed_net, &inputs, b, &mut p2, &mut v2[..b]);
        });
        own_pts.push((b as f64, own));
        mm_pts.push((b as f64, mm));
        if [1, 8, 32].contains(&b) {
            report.metrics.push(Metric::new(
                format!("az_evals_per_sec_batch_{b}"),
                own,
                "1/s",
                Better::Higher,
            ));
        }
        rows.push(vec![
            b.to_string(),
            format!("{own:.0}"),
            format!("{mm:.0}"),
            format!("{:.2}", mm / own),
        ]);
    }

    // 2. PUCT simulations per CPU second against the leaf batch (one thread, virtual loss 1).
    let sims = if quick { 4_000 } else { 20_000 };
    let mut search_pts = Vec::new();
    let mut search_rows = Vec::new();
    for leaf_batch in [1usize, 8, 32] {
        let config = PuctConfig {
            leaf_batch,
            ..PuctConfig::default()
        };
        let c = process_cpu_seconds();
        let mut calls = 0u64;
        let mut total = 0u64;
        for seed in 0..3 {
            let mut s = Puct::new(
                PuctConfig {
                    seed,
                    ..config.clone()
                },
                Connect4::new(),
            )?;
            let counter = CountingEvaluator {
                net: &speed_net,
                calls: std::sync::atomic::AtomicU64::new(0),
            };
            total += s.search(&counter, sims)?.simulations;
            calls += counter.calls.into_inner();
        }
        let rate = total as f64 / (process_cpu_seconds() - c);
        search_pts.push((leaf_batch as f64, rate));
        report.metrics.push(Metric::new(
            format!("az_search_sims_per_sec_leaf_batch_{leaf_batch}"),
            rate,
            "1/s",
            Better::Higher,
        ));
        search_rows.push(vec![
            leaf_batch.to_string(),
            format!("{rate:.0}"),
            format!("{:.1}", total as f64 / calls.max(1) as f64),
        ]);
    }
    report.plots.push(Plot {
        name: "az_leaf_batching".into(),
        title: "Connect Four policy-value MLP (84-256-256-7+1): states per CPU second".into(),
        x_label: "batch size (states per network call)".into(),
        y_label: "states or simulations per CPU second".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series {
                label: "network forward, own loops".into(),
                points: own_pts,
            },
            Series {
                label: "network forward, matrixmultiply".into(),
                points: mm_pts,
            },
            Series {
                label: "PUCT simulations (leaf batch)".into(),
                points: search_pts,
            },
        ],
    });
    report.tables.push(Table {
        title: "Network forward pass: states per CPU second".into(),
        header: [
            "batch",
            "own loops",
            "matrixmultiply",
            "matrixmultiply / own",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    report.tables.push(Table {
        title: "PUCT on Connect Four with the MLP: leaf batching (one thread)".into(),
        header: [
            "leaf batch",
            "simulations per CPU s",
            "states per network call",
        ]
        .map(String::from)
        .to_vec(),
        rows: search_rows,
    });
    report.notes.push(format!(
        "az_evals_per_sec_batch_B: forward passes of the 84-256-256-(7+1) MLP per CPU second \
         on batches of B encoded positions from random games, own loops (input-major weights, \
         four rows per pass, zero inputs skipped), best of 3; the table compares the \
         `matrixmultiply` crate (sgemm with its run-time SIMD detection) on the same layers. \
         az_search_sims_per_sec_leaf_batch_L: PUCT from the empty board ({sims} simulations, 3 \
         searches, virtual loss 1) collecting L leaves per network call. Noisy: measured while \
         other builds ran (load average {}).",
        load_average()
    ));

    // 3. Self-play: 1 and 2 workers sharing one batched evaluator.
    let sp_games = if quick { 32 } else { 128 };
    let net = Arc::new(speed_net.clone());
    let mut sp_rows = Vec::new();
    for workers in [1usize, 2] {
        let config = SelfPlayConfig {
            workers,
            ..SelfPlayConfig::default()
        };
        let (c, t) = (process_cpu_seconds(), Instant::now());
        let (_, st) = self_play(net.clone(), &Connect4::new(), sp_games, &config, 5)?;
        let (cpu, wall) = (process_cpu_seconds() - c, t.elapsed().as_secs_f64());
        report.metrics.push(Metric::new(
            format!("az_selfplay_games_per_sec_{workers}w"),
            sp_games as f64 / wall,
            "1/s",
            Better::Higher,
        ));
        sp_rows.push(vec![
            workers.to_string(),
            sp_games.to_string(),
            format!("{:.2}", sp_games as f64 / wall),
            format!("{:.0}", st.evaluations as f64 / wall),
            format!("{:.1}", st.mean_states_per_call),
            format!("{:.2}", cpu / wall),
        ]);
    }
    report.tables.push(Table {
        title: "Self-play (100 simulations per move, 16 games per worker, leaf batch 8)".into(),
        header: [
            "workers",
            "games",
            "games/s (wall)",
            "network states/s (wall)",
            "states per network call",
            "cores used",
        ]
        .map(String::from)
        .to_vec(),
        rows: sp_rows,
    });

    // 4. Strength: a trained network against UCT-200, and the mistake rate along training.
    let have_sets = ["Test_L3_R1", "Test_L2_R1"]
        .iter()
        .all(|f| data_dir().join(f).is_file());
    let (l3, l2) = if have_sets {
        (judged("Test_L3_R1", 100)?, judged("Test_L2_R1", 100)?)
    } else {
        (Vec::new(), Vec::new())
    };
    let eval_config = PuctConfig::default();
    let mut curve_l3 = Vec::new();
    let mut curve_l2 = Vec::new();
    let mut policy_l3 = Vec::new();
    let mut policy_l2 = Vec::new();
    let (trained, minutes, source) = if let Some(c) = existing {
        // Training curve from the example's log.
        if let Ok(text) = std::fs::read_to_string(dir.join("log.json"))
            && let Ok(log) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(its) = log["iterations"].as_array()
        {
            for it in its {
                let t = it["total_s"].as_f64().unwrap_or(0.0) / 60.0;
                if let Some(r) = it["mistake_rate"].as_f64() {
                    curve_l3.push((t, r));
                }
                if let Some(r) = it["mistake_rate_2"].as_f64() {
                    curve_l2.push((t, r));
                }
                if let Some(r) = it["policy_mistake_rate"].as_f64() {
                    policy_l3.push((t, r));
                }
                if let Some(r) = it["policy_mistake_rate_2"].as_f64() {
                    policy_l2.push((t, r));
                }
            }
        }
        let source = format!(
            "the checkpoint {} of the az_train example ({} iterations, {} self-play games, {:.1} \
             minutes of training)",
            ckpt_path.display(),
            c.iteration,
            c.games,
            c.train_seconds / 60.0
        );
        (c.net, c.train_seconds / 60.0, source)
    } else {
        let budget_min = if quick { 3.0 } else { 30.0 };
        let mut trainer = Trainer::<Connect4>::new(TrainConfig::default())?;
        let rate = |net: &Mlp, set: &[JudgedPosition]| -> Result<f64, mcts::MctsError> {
            if set.is_empty() {
                return Ok(f64::NAN);
            }
            Ok(puct_mistakes(net, set, &eval_config, 200)? as f64 / set.len() as f64)
        };
        let prate = |net: &Mlp, set: &[JudgedPosition]| -> Result<f64, mcts::MctsError> {
            if set.is_empty() {
                return Ok(f64::NAN);
            }
            Ok(policy_mistakes(net, set)? as f64 / set.len() as f64)
        };
        let mut measure = |net: &Mlp, minutes: f64| -> Result<(), mcts::MctsError> {
            curve_l3.push((minutes, rate(net, &l3)?));
            curve_l2.push((minutes, rate(net, &l2)?));
            policy_l3.push((minutes, prate(net, &l3)?));
            policy_l2.push((minutes, prate(net, &l2)?));
            Ok(())
        };
        measure(trainer.net(), 0.0)?;
        let every = if quick { 10 } else { 20 };
        trainer.run_for(Duration::from_secs_f64(budget_min * 60.0), |t, it| {
            if it.iteration % every == 0 {
                measure(t.net(), it.total_s / 60.0)?;
            }
            Ok(())
        })?;
        let net = trainer.net().clone();
        measure(&net, trainer.seconds() / 60.0)?;
        let m = trainer.seconds() / 60.0;
        (
            net,
            m,
            format!(
                "a network trained from scratch inside this bench run ({m:.1} minutes, \
                 default TrainConfig)"
            ),
        )
    };
    let games = if from_checkpoint || !quick { 200 } else { 100 };
    let t = Instant::now();
    let result = match_vs_uct(
        &trained,
        &MatchConfig {
            games,
            seed: 0xBE4C,
            ..MatchConfig::default()
        },
    )?;
    let match_s = t.elapsed().as_secs_f64();
    report.metrics.push(
        Metric::new(
            "az_win_rate_vs_uct_200",
            result.score(),
            "ratio",
            Better::Higher,
        )
        .with_target(0.75),
    );
    report.metrics.push(Metric::new(
        "az_training_minutes",
        minutes,
        "min",
        Better::Lower,
    ));
    for (name, curve) in [
        ("az_mistake_rate_l3r1_100", &curve_l3),
        ("az_mistake_rate_l2r1_100", &curve_l2),
        ("az_policy_mistake_rate_l3r1_100", &policy_l3),
        ("az_policy_mistake_rate_l2r1_100", &policy_l2),
    ] {
        if let (Some(first), Some(last)) = (curve.first(), curve.last()) {
            report.metrics.push(Metric::new(
                format!("{name}_untrained"),
                first.1,
                "ratio",
                Better::Lower,
            ));
            report
                .metrics
                .push(Metric::new(name, last.1, "ratio", Better::Lower));
        }
    }
    let mut plot = Plot {
        name: "az_mistake_rate".into(),
        title: "AlphaZero on Connect Four: Pons mistake rate along training".into(),
        x_label: "training time (minutes)".into(),
        y_label: "mistake rate (first 100 positions)".into(),
        log_x: false,
        log_y: false,
        series: vec![
            Series {
                label: "Test_L3_R1".into(),
                points: curve_l3,
            },
            Series {
                label: "Test_L2_R1".into(),
                points: curve_l2,
            },
            Series {
                label: "Test_L3_R1, network alone".into(),
                points: policy_l3,
            },
            Series {
                label: "Test_L2_R1, network alone".into(),
                points: policy_l2,
            },
        ],
    };
    // A log from before the network-alone rates were logged has none: leave those lines out.
    plot.series.retain(|s| !s.points.is_empty());
    report.plots.push(plot);
    report.notes.push(format!(
        "az_win_rate_vs_uct_200: {source}, with 200 PUCT simulations per move (c_puct 1.5, leaf \
         batch 8, most visits, no noise) against UCT with 200 simulations (random rollouts, \
         c = 1), {games} games, colours alternated, both keeping their trees; score = (wins + \
         draws / 2) / games: {} wins, {} draws, {} losses ({match_s:.0} s). az_mistake_rate_*: \
         mistake rate of the same search on the first 100 positions of each Pons set (judged by \
         the crate's solver), `_untrained` before the first iteration; az_policy_mistake_rate_*: \
         the network alone (legal column of highest prior, no search). The plot follows both \
         along training (200-simulation PUCT, and the network alone).",
        result.wins, result.draws, result.losses
    ));
    Ok(())
}

/// Counts network calls.
struct CountingEvaluator<'a> {
    net: &'a Mlp,
    calls: std::sync::atomic::AtomicU64,
}

impl Evaluator for CountingEvaluator<'_> {
    fn input_len(&self) -> usize {
        self.net.input_len()
    }
    fn num_actions(&self) -> usize {
        self.net.num_actions()
    }
    fn evaluate(
        &self,
        inputs: &[f32],
        policy: &mut [f32],
        values: &mut [f32],
    ) -> Result<(), mcts::MctsError> {
        self.calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.net.evaluate(inputs, policy, values)
    }
}
