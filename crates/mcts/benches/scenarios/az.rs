//! AlphaZero part of scenario `mcts`: network evaluations per second against batch size and
//! Adam steps per second, PUCT simulations per second against the leaf batch,
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

use mcts::alphazero::train::{MatchConfig, MistakeRates, match_vs_uct};
use mcts::alphazero::{
    Checkpoint, Evaluator, Mlp, NetShape, Puct, PuctConfig, SelfPlayConfig, TrainConfig, Trainer,
    self_play,
};
use mcts::test_set::JudgedPosition;
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
    let set = load_test_set(&data_dir().join(file))?;
    Ok(JudgedPosition::judge_all(
        &mut Solver::new(),
        &set[..set.len().min(n)],
    ))
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

    // 1. Network evaluations per CPU second against batch size (every product one sgemm).
    let min_s = if quick { 0.3 } else { 1.0 };
    let batches = [1usize, 8, 32, 128, 256];
    let inputs = random_inputs(256, 1);
    let mut rows = Vec::new();
    let mut net_pts = Vec::new();
    let (mut policy, mut values) = (vec![0.0f32; 256 * 7], vec![0.0f32; 256]);
    for &b in &batches {
        let rate = evals_per_cpu_s(b, min_s, || {
            speed_net.forward(&inputs, &mut policy[..b * 7], &mut values[..b]);
        });
        net_pts.push((b as f64, rate));
        if [1, 8, 32, 128].contains(&b) {
            report.metrics.push(Metric::new(
                format!("az_evals_per_sec_batch_{b}"),
                rate,
                "1/s",
                Better::Higher,
            ));
        }
        rows.push(vec![
            b.to_string(),
            format!("{rate:.0}"),
            format!(
                "{:.1}",
                rate * speed_net.shape().flops_per_eval() as f64 * 2.0 * 1e-9
            ),
        ]);
    }
    // Adam steps (loss, gradient and update) per CPU second at the training batch size.
    let train_batch = TrainConfig::default().batch_size;
    let train_inputs = random_inputs(train_batch, 2);
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
    let mut targets = Vec::with_capacity(train_batch * 7);
    for _ in 0..train_batch {
        let row: Vec<f32> = (0..7).map(|_| rng.random::<f32>()).collect();
        let sum: f32 = row.iter().sum();
        targets.extend(row.iter().map(|v| v / sum));
    }
    let value_targets: Vec<f32> = (0..train_batch)
        .map(|_| rng.random::<f32>() * 2.0 - 1.0)
        .collect();
    let mut train_net = speed_net.clone();
    let mut adam = mcts::alphazero::Adam::new(Default::default(), train_net.params().len())?;
    let mut grad = vec![0.0f32; train_net.params().len()];
    let adam_rate = evals_per_cpu_s(1, min_s * 2.0, || {
        train_net.loss_and_grad(&train_inputs, &targets, &value_targets, 1e-4, &mut grad);
        adam.step(train_net.params_mut(), &grad);
    });
    report.metrics.push(Metric::new(
        format!("az_adam_steps_per_sec_batch_{train_batch}"),
        adam_rate,
        "1/s",
        Better::Higher,
    ));

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
                label: "network forward (sgemm)".into(),
                points: net_pts,
            },
            Series {
                label: "PUCT simulations (leaf batch)".into(),
                points: search_pts,
            },
        ],
    });
    report.tables.push(Table {
        title: "Network forward pass (every layer one sgemm): states per CPU second".into(),
        header: ["batch", "states per CPU s", "GFLOP/s"]
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
         on batches of B encoded positions from random games, best of 3; every product is one \
         `matrixmultiply::sgemm` call, which packs the weights on every call, so batch 1 pays \
         the packing for a single row. az_adam_steps_per_sec_batch_{train_batch}: loss, \
         gradient and Adam update on one training batch, per CPU second. \
         az_search_sims_per_sec_leaf_batch_L: PUCT from the empty board ({sims} simulations, 3 \
         searches, virtual loss 1) collecting L leaves per network call. Noisy: measured while \
         other builds ran (load average {}).",
        load_average()
    ));

    // 3. Self-play: 1 and 2 workers, each evaluating its own batches (the default), and 2
    // sending them to one shared network thread.
    let sp_games = if quick { 32 } else { 128 };
    let net = Arc::new(speed_net.clone());
    let mut sp_rows = Vec::new();
    for (workers, shared) in [(1usize, false), (2, false), (2, true)] {
        let config = SelfPlayConfig {
            workers,
            shared_network_thread: shared,
            ..SelfPlayConfig::default()
        };
        let (c, t) = (process_cpu_seconds(), Instant::now());
        let (_, st) = self_play(net.clone(), &Connect4::new(), sp_games, &config, 5)?;
        let (cpu, wall) = (process_cpu_seconds() - c, t.elapsed().as_secs_f64());
        let suffix = if shared { "_shared_thread" } else { "" };
        report.metrics.push(Metric::new(
            format!("az_selfplay_games_per_sec_{workers}w{suffix}"),
            sp_games as f64 / wall,
            "1/s",
            Better::Higher,
        ));
        sp_rows.push(vec![
            workers.to_string(),
            if shared {
                "one shared thread"
            } else {
                "in each worker"
            }
            .to_string(),
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
            "network runs",
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

    // 4. Strength: a trained network against UCT-200, and the mistake rates along training.
    let have_sets = ["Test_L3_R1", "Test_L2_R1"]
        .iter()
        .all(|f| data_dir().join(f).is_file());
    // Judged only when this run trains (a checkpoint brings its log).
    let (l3, l2) = if have_sets && existing.is_none() {
        (judged("Test_L3_R1", 1000)?, judged("Test_L2_R1", 1000)?)
    } else {
        (Vec::new(), Vec::new())
    };
    let eval_config = PuctConfig::default();
    // The six measures of the az_train log: (log field, metric name).
    let fields = [
        ("mistake_rate", "az_mistake_rate_l3r1"),
        ("mistake_rate_2", "az_mistake_rate_l2r1"),
        ("fast_mistake_rate", "az_fast_mistake_rate_l3r1"),
        ("fast_mistake_rate_2", "az_fast_mistake_rate_l2r1"),
        ("policy_mistake_rate", "az_policy_mistake_rate_l3r1"),
        ("policy_mistake_rate_2", "az_policy_mistake_rate_l2r1"),
    ];
    let mut curves: Vec<Vec<(f64, f64)>> = vec![Vec::new(); fields.len()];
    // (positions per set, simulations, cheaper simulations) behind the curves.
    let (mut eval_positions, mut eval_sims, mut eval_fast_sims) = (l3.len(), 200u64, 25u64);
    let (trained, minutes, source) = if let Some(c) = existing {
        // Training curves from the example's log (only its evaluated iterations).
        if let Ok(text) = std::fs::read_to_string(dir.join("log.json"))
            && let Ok(log) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(its) = log["iterations"].as_array()
        {
            eval_positions = log["eval_positions"].as_u64().unwrap_or(0) as usize;
            eval_sims = log["eval_sims"].as_u64().unwrap_or(0);
            eval_fast_sims = log["eval_fast_sims"].as_u64().unwrap_or(0);
            for it in its {
                let t = it["total_s"].as_f64().unwrap_or(0.0) / 60.0;
                for (curve, (field, _)) in curves.iter_mut().zip(&fields) {
                    if let Some(r) = it[*field].as_f64() {
                        curve.push((t, r));
                    }
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
        let mut measure = |net: &Mlp, minutes: f64| -> Result<(), mcts::MctsError> {
            if l3.is_empty() {
                return Ok(());
            }
            let a = MistakeRates::measure(net, &l3, &eval_config, eval_sims, eval_fast_sims)?;
            let b = MistakeRates::measure(net, &l2, &eval_config, eval_sims, eval_fast_sims)?;
            let rates = [
                a.rate(a.search),
                b.rate(b.search),
                a.rate(a.fast_search),
                b.rate(b.fast_search),
                a.rate(a.network),
                b.rate(b.network),
            ];
            for (curve, r) in curves.iter_mut().zip(rates) {
                curve.push((minutes, r));
            }
            Ok(())
        };
        measure(trainer.net(), 0.0)?;
        let every = 10;
        trainer.run_for(Duration::from_secs_f64(budget_min * 60.0), |t, it| {
            if it.iteration.is_multiple_of(every) {
                measure(t.net(), it.total_s / 60.0)?;
            }
            Ok(())
        })?;
        let net = trainer.net().clone();
        if !trainer.iteration().is_multiple_of(every) {
            measure(&net, trainer.seconds() / 60.0)?;
        }
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
    // Rates before and after training, each with its binomial standard error.
    let mut finals = Vec::new();
    for (curve, (_, name)) in curves.iter().zip(&fields) {
        if let (Some(first), Some(last)) = (curve.first(), curve.last()) {
            report.metrics.push(Metric::new(
                format!("{name}_untrained"),
                first.1,
                "ratio",
                Better::Lower,
            ));
            report
                .metrics
                .push(Metric::new(*name, last.1, "ratio", Better::Lower));
            let se = |r: f64| (r * (1.0 - r) / eval_positions.max(1) as f64).sqrt();
            finals.push(format!(
                "{name} {:.3} +- {:.3} -> {:.3} +- {:.3}",
                first.1,
                se(first.1),
                last.1,
                se(last.1)
            ));
        }
    }
    let labels = [
        format!("Test_L3_R1, PUCT {eval_sims} simulations"),
        format!("Test_L2_R1, PUCT {eval_sims} simulations"),
        format!("Test_L3_R1, PUCT {eval_fast_sims} simulations"),
        format!("Test_L2_R1, PUCT {eval_fast_sims} simulations"),
        "Test_L3_R1, network alone".to_string(),
        "Test_L2_R1, network alone".to_string(),
    ];
    let mut plot = Plot {
        name: "az_mistake_rate".into(),
        title: "AlphaZero on Connect Four: Pons mistake rate along training".into(),
        x_label: "training time (minutes)".into(),
        y_label: format!("mistake rate (first {eval_positions} positions of each set)"),
        log_x: false,
        log_y: false,
        series: curves
            .into_iter()
            .zip(labels)
            .map(|(points, label)| Series { label, points })
            .collect(),
    };
    // A log from before some measures were logged has none: leave those lines out.
    plot.series.retain(|s| !s.points.is_empty());
    report.plots.push(plot);
    report.notes.push(format!(
        "az_win_rate_vs_uct_200: {source}, with 200 PUCT simulations per move (c_puct 1.5, leaf \
         batch 8, most visits, no noise) against UCT with 200 simulations (random rollouts, \
         c = 1), {games} games, colours alternated, both keeping their trees; score = (wins + \
         draws / 2) / games: {} wins, {} draws, {} losses ({match_s:.0} s). Mistake rates on \
         the first {eval_positions} positions of each Pons set (judged by the crate's exact \
         solver), `_untrained` before the first iteration, the other at the end: \
         az_mistake_rate_* of the same search with {eval_sims} simulations, \
         az_fast_mistake_rate_* with {} simulations (the network weighs more), \
         az_policy_mistake_rate_* of the network alone (legal column of highest prior, no \
         search); with binomial standard errors: {}. The plot follows them along training \
         (a log from before some measures were logged lacks them). On the checkpoints of \
         three 30-minute runs the network alone and the 25-simulation search on Test_L2_R1 \
         fell with training while the 200-simulation searches did not (az_train's docs).",
        result.wins,
        result.draws,
        result.losses,
        if eval_fast_sims > 0 {
            eval_fast_sims.to_string()
        } else {
            "fewer (not in this log)".to_string()
        },
        finals.join("; ")
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
