//! AlphaZero part of scenario `mcts`: network evaluations per second against batch size and
//! Adam steps per second, PUCT simulations per second against the leaf batch, self-play with 1
//! and 2 workers, and the strength of a trained network (win rate against UCT with 200
//! simulations, Pons mistake rates before and after training).
//!
//! The trained network: `--full` trains one from scratch for 30 minutes inside the run (the
//! loop of the `az_train` example), measures its mistake rates along the training and plays it
//! over 200 games. The quick run plays the checkpoint that
//! `cargo run -p mcts --release --example az_train -- --minutes 30 --out target/az/c4` leaves
//! in `target/az/c4/` (or `MCTS_AZ_DIR`) over 200 games, and the metric's workload names that
//! checkpoint (the commit and settings that trained it, its minutes of training, from the
//! checkpoint file); the mistake rates in the checkpoint's training log are shown as a table
//! and a plot of that earlier run, never as metrics of this one. Without a checkpoint the quick
//! run trains a network for one minute and plays 100 games, and says so in the workload.

use std::cell::{Cell, RefCell};
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
use par_core::bench::{
    Better, Interleave, Metric, Plot, ScenarioError, ScenarioRun, Series, Stats, Table,
    load_average,
};
use rand::{Rng, SeedableRng};

use super::{SETS, cpu_now, data_dir, wall_and_cpu};

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

/// Items per CPU second of `f`, each call handling `per_call` items, called until `min_s` CPU
/// seconds have passed: one sample of an [`Interleave`] variant.
fn per_cpu_second(per_call: usize, min_s: f64, mut f: impl FnMut()) -> f64 {
    let c = cpu_now();
    let mut n = 0u64;
    while cpu_now() - c < min_s {
        f();
        n += per_call as u64;
    }
    n as f64 / (cpu_now() - c)
}

/// The first `n` positions of a Pons set, with the solver's verdicts.
fn judged(file: &str, n: usize) -> Result<Vec<JudgedPosition>, ScenarioError> {
    let set = load_test_set(&data_dir().join(file))?;
    Ok(JudgedPosition::judge_all(
        &mut Solver::new(),
        &set[..set.len().min(n)],
    ))
}

/// Pushes `stats` as metric `name` (1/s, higher is better), or says why it was not measured.
fn push_rate(run: &mut ScenarioRun, name: &str, stats: Option<Stats>) {
    match stats {
        Some(s) => run
            .report
            .push(Metric::from_stats(name, s, "1/s", Better::Higher)),
        None => run
            .report
            .not_measured(name, "the process CPU clock could not be read"),
    }
}

/// Runs the AlphaZero measurements and adds them to the report.
pub fn run(run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let quick = run.quick();
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
    let speed_net = existing
        .as_ref()
        .map(|c| c.net.clone())
        .unwrap_or(Mlp::new(shape.clone(), 0)?);
    let reps = if quick { 3 } else { 5 };

    // 1. Network evaluations per CPU second against batch size (every product one sgemm).
    let min_s = if quick { 0.2 } else { 0.5 };
    let batches = [1usize, 8, 32, 128, 256];
    let inputs = random_inputs(256, 1);
    let (policy, values) = (
        RefCell::new(vec![0.0f32; 256 * 7]),
        RefCell::new(vec![0.0f32; 256]),
    );
    let mut evals = Interleave::new(reps);
    for &b in &batches {
        let (net, inputs, policy, values) = (&speed_net, &inputs, &policy, &values);
        evals = evals.sampled(format!("batch_{b}"), move || {
            let (mut p, mut v) = (policy.borrow_mut(), values.borrow_mut());
            per_cpu_second(b, min_s, || {
                net.forward(
                    &inputs[..b * Connect4::INPUT_LEN],
                    &mut p[..b * 7],
                    &mut v[..b],
                );
            })
        });
    }
    let evals = evals.run();
    let mut rows = Vec::new();
    let mut net_pts = Vec::new();
    for &b in &batches {
        let stats = Stats::from_samples(evals.samples(&format!("batch_{b}")));
        if let Some(s) = stats {
            net_pts.push((b as f64, s.median));
            rows.push(vec![
                b.to_string(),
                format!("{:.0}", s.median),
                format!("{:.0}", s.min),
                format!("{:.0}", s.max),
                format!(
                    "{:.1}",
                    s.median * speed_net.shape().flops_per_eval() as f64 * 2.0 * 1e-9
                ),
            ]);
        }
        if b != 256 {
            push_rate(run, &format!("az_evals_per_sec_batch_{b}"), stats);
        }
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
    let adam_runs = Interleave::new(reps)
        .sampled("adam", || {
            per_cpu_second(1, min_s * 2.0, || {
                train_net.loss_and_grad(&train_inputs, &targets, &value_targets, 1e-4, &mut grad);
                adam.step(train_net.params_mut(), &grad);
            })
        })
        .run();
    push_rate(
        run,
        &format!("az_adam_steps_per_sec_batch_{train_batch}"),
        Stats::from_samples(adam_runs.samples("adam")),
    );

    // 2. PUCT simulations per CPU second against the leaf batch (one thread, virtual loss 1):
    // one search from the empty board per sample, a new seed each repetition.
    let sims = if quick { 4_000 } else { 20_000 };
    let leaf_batches = [1usize, 8, 32];
    let states_per_call: RefCell<Vec<Vec<f64>>> = RefCell::new(vec![Vec::new(); 3]);
    let mut searches = Interleave::new(reps);
    for (k, &leaf_batch) in leaf_batches.iter().enumerate() {
        let (net, states_per_call) = (&speed_net, &states_per_call);
        let seed = Cell::new(0u64);
        searches = searches.sampled(format!("leaf_batch_{leaf_batch}"), move || {
            let config = PuctConfig {
                leaf_batch,
                seed: seed.replace(seed.get() + 1),
                ..PuctConfig::default()
            };
            let counter = CountingEvaluator {
                net,
                calls: std::sync::atomic::AtomicU64::new(0),
            };
            let mut s = Puct::new(config, Connect4::new()).expect("valid config");
            let c = cpu_now();
            let done = s.search(&counter, sims).expect("search").simulations;
            let cpu = cpu_now() - c;
            states_per_call.borrow_mut()[k]
                .push(done as f64 / counter.calls.into_inner().max(1) as f64);
            done as f64 / cpu
        });
    }
    let searches = searches.run();
    let mut search_pts = Vec::new();
    let mut search_rows = Vec::new();
    for (k, &leaf_batch) in leaf_batches.iter().enumerate() {
        let stats = Stats::from_samples(searches.samples(&format!("leaf_batch_{leaf_batch}")));
        if let Some(s) = stats {
            search_pts.push((leaf_batch as f64, s.median));
            search_rows.push(vec![
                leaf_batch.to_string(),
                format!("{:.0}", s.median),
                format!("{:.0}", s.min),
                format!("{:.0}", s.max),
                format!(
                    "{:.1}",
                    Stats::from_samples(&states_per_call.borrow()[k]).map_or(0.0, |s| s.median)
                ),
            ]);
        }
        push_rate(
            run,
            &format!("az_search_sims_per_sec_leaf_batch_{leaf_batch}"),
            stats,
        );
    }
    let report = &mut run.report;
    report.plots.push(Plot {
        name: "az_leaf_batching".into(),
        title: "Connect Four policy-value MLP (84-256-256-7+1): states per CPU second (medians)"
            .into(),
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
        title: format!(
            "Network forward pass (every layer one sgemm): states per CPU second, {reps} \
             interleaved repetitions"
        ),
        header: ["batch", "median", "min", "max", "GFLOP/s (median)"]
            .map(String::from)
            .to_vec(),
        rows,
    });
    report.tables.push(Table {
        title: format!(
            "PUCT on Connect Four with the MLP: leaf batching (one thread, {sims} simulations \
             per search, {reps} interleaved repetitions)"
        ),
        header: [
            "leaf batch",
            "simulations per CPU s (median)",
            "min",
            "max",
            "states per network call",
        ]
        .map(String::from)
        .to_vec(),
        rows: search_rows,
    });
    report.notes.push(format!(
        "az_evals_per_sec_batch_B: forward passes of the 84-256-256-(7+1) MLP per CPU second \
         on batches of B encoded positions from random games (each sample at least {min_s} CPU \
         s), median of {reps} interleaved repetitions; every product is one \
         `matrixmultiply::sgemm` call, which packs the weights on every call, so batch 1 pays \
         the packing for a single row. az_adam_steps_per_sec_batch_{train_batch}: loss, \
         gradient and Adam update on one training batch, per CPU second. \
         az_search_sims_per_sec_leaf_batch_L: PUCT from the empty board ({sims} simulations per \
         search, a new seed each repetition, virtual loss 1) collecting L leaves per network \
         call. Load average: {}.",
        load_average()
    ));
    run.checkpoint();

    // 3. Self-play: 1 and 2 workers, each evaluating its own batches (the default), and 2
    // sending them to one shared network thread.
    let sp_games = if quick { 16 } else { 64 };
    let net = Arc::new(speed_net.clone());
    let variants = [(1usize, false), (2, false), (2, true)];
    let name = |(w, shared): (usize, bool)| {
        format!(
            "az_selfplay_games_per_sec_{w}w{}",
            if shared { "_shared_thread" } else { "" }
        )
    };
    // Per variant and repetition: network states per wall second, states per call, cores used.
    let extra: RefCell<Vec<Vec<[f64; 3]>>> = RefCell::new(vec![Vec::new(); variants.len()]);
    let mut selfplay = Interleave::new(reps);
    for (k, &(workers, shared)) in variants.iter().enumerate() {
        let (net, extra) = (&net, &extra);
        let seed = Cell::new(5u64);
        selfplay = selfplay.sampled(name((workers, shared)), move || {
            let config = SelfPlayConfig {
                workers,
                shared_network_thread: shared,
                ..SelfPlayConfig::default()
            };
            let mut stats = None;
            let (wall, cpu) = wall_and_cpu(|| {
                let s = seed.replace(seed.get() + 1);
                stats = Some(
                    self_play(net.clone(), &Connect4::new(), sp_games, &config, s)
                        .expect("self-play")
                        .1,
                );
            });
            let st = stats.expect("ran");
            extra.borrow_mut()[k].push([
                st.evaluations as f64 / wall,
                st.mean_states_per_call,
                cpu / wall,
            ]);
            sp_games as f64 / wall
        });
    }
    let selfplay = selfplay.run();
    let mut sp_rows = Vec::new();
    for (k, &v) in variants.iter().enumerate() {
        let stats = Stats::from_samples(selfplay.samples(&name(v)));
        let column = |j: usize| {
            let xs: Vec<f64> = extra.borrow()[k].iter().map(|e| e[j]).collect();
            Stats::from_samples(&xs).map_or(f64::NAN, |s| s.median)
        };
        sp_rows.push(vec![
            v.0.to_string(),
            if v.1 {
                "one shared thread"
            } else {
                "in each worker"
            }
            .to_string(),
            sp_games.to_string(),
            stats.map_or("-".into(), |s| format!("{:.2}", s.median)),
            stats.map_or("-".into(), |s| format!("{:.2} - {:.2}", s.min, s.max)),
            format!("{:.0}", column(0)),
            format!("{:.1}", column(1)),
            format!("{:.2}", column(2)),
        ]);
        match stats {
            Some(s) => run.report.push(
                Metric::from_stats(name(v), s, "1/s", Better::Higher)
                    .with_workload(format!("{sp_games} games per repetition")),
            ),
            None => run
                .report
                .not_measured(&name(v), "a repetition gave no finite rate"),
        }
    }
    run.report.tables.push(Table {
        title: format!(
            "Self-play (100 simulations per move, 16 games per worker, leaf batch 8): {sp_games} \
             games per repetition, medians of {reps} interleaved repetitions"
        ),
        header: [
            "workers",
            "network runs",
            "games",
            "games/s (wall)",
            "min - max",
            "network states/s (wall)",
            "states per network call",
            "cores used",
        ]
        .map(String::from)
        .to_vec(),
        rows: sp_rows,
    });
    run.checkpoint();

    // 4. Strength: a trained network against UCT-200, and the mistake rates.
    strength(run, existing, &ckpt_path, &dir)
}

/// The six mistake-rate measures: (field of the az_train log, metric name).
const MEASURES: [(&str, &str); 6] = [
    ("mistake_rate", "az_mistake_rate_l3r1"),
    ("mistake_rate_2", "az_mistake_rate_l2r1"),
    ("fast_mistake_rate", "az_fast_mistake_rate_l3r1"),
    ("fast_mistake_rate_2", "az_fast_mistake_rate_l2r1"),
    ("policy_mistake_rate", "az_policy_mistake_rate_l3r1"),
    ("policy_mistake_rate_2", "az_policy_mistake_rate_l2r1"),
];

/// The network's strength: the match against UCT-200, and the mistake rates before and after
/// training (measured in this run only when this run trains the network).
fn strength(
    run: &mut ScenarioRun,
    existing: Option<Checkpoint>,
    ckpt_path: &std::path::Path,
    dir: &std::path::Path,
) -> Result<(), ScenarioError> {
    let quick = run.quick();
    let have_sets = SETS.iter().all(|(_, f)| data_dir().join(f).is_file());
    let eval_config = PuctConfig::default();
    let (eval_sims, eval_fast_sims) = (200u64, 25u64);
    let mut curves: Vec<Vec<(f64, f64)>> = vec![Vec::new(); MEASURES.len()];
    let (trained, games, workload, eval_positions, measured_here) = match existing {
        Some(c) => {
            // Curves from the checkpoint's training log: an earlier run, shown as such.
            if let Ok(text) = std::fs::read_to_string(dir.join("log.json"))
                && let Ok(log) = serde_json::from_str::<serde_json::Value>(&text)
                && let Some(its) = log["iterations"].as_array()
            {
                for it in its {
                    let t = it["total_s"].as_f64().unwrap_or(0.0) / 60.0;
                    for (curve, (field, _)) in curves.iter_mut().zip(&MEASURES) {
                        if let Some(r) = it[*field].as_f64() {
                            curve.push((t, r));
                        }
                    }
                }
            }
            let workload = format!(
                "the checkpoint {} (quick run; --full trains one in the run): {}; 200 games",
                ckpt_path.display(),
                c.provenance()
            );
            (c.net, 200, workload, 0, false)
        }
        None => {
            let (minutes, positions, games) = if quick {
                (1.0, 200, 100)
            } else {
                (30.0, 1000, 200)
            };
            let (l3, l2) = if have_sets {
                (judged(SETS[0].1, positions)?, judged(SETS[1].1, positions)?)
            } else {
                (Vec::new(), Vec::new())
            };
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
            // The quick run measures before and after; the full run every 10 iterations too.
            let every = if quick { u64::MAX } else { 10 };
            trainer.run_for(Duration::from_secs_f64(minutes * 60.0), |t, it| {
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
            let workload = format!(
                "a network trained {m:.1} minutes inside this run (default TrainConfig{}); \
                 {games} games",
                if quick {
                    ", quick run without a checkpoint in target/az/c4: --full trains 30 minutes \
                     and plays 200 games"
                } else {
                    ""
                }
            );
            (net, games, workload, l3.len(), true)
        }
    };
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
    run.report.push(
        Metric::new(
            "az_win_rate_vs_uct_200",
            result.score(),
            "ratio",
            Better::Higher,
        )
        .with_workload(&workload),
    );
    let labels = [
        format!("Test_L3_R1, PUCT {eval_sims} simulations"),
        format!("Test_L2_R1, PUCT {eval_sims} simulations"),
        format!("Test_L3_R1, PUCT {eval_fast_sims} simulations"),
        format!("Test_L2_R1, PUCT {eval_fast_sims} simulations"),
        "Test_L3_R1, network alone".to_string(),
        "Test_L2_R1, network alone".to_string(),
    ];
    let mut finals = Vec::new();
    let mut log_rows = Vec::new();
    for ((curve, (_, name)), label) in curves.iter().zip(&MEASURES).zip(&labels) {
        let untrained = format!("{name}_untrained");
        match (measured_here, curve.first(), curve.last()) {
            (true, Some(first), Some(last)) => {
                let se = |r: f64| (r * (1.0 - r) / eval_positions.max(1) as f64).sqrt();
                let positions = format!("{eval_positions} of 1000 positions");
                for (n, v) in [(untrained.as_str(), first.1), (*name, last.1)] {
                    let mut m = Metric::new(n, v, "ratio", Better::Lower);
                    if eval_positions < 1000 {
                        m = m.with_workload(&positions);
                    }
                    run.report.push(m);
                }
                finals.push(format!(
                    "{name} {:.3} +- {:.3} -> {:.3} +- {:.3}",
                    first.1,
                    se(first.1),
                    last.1,
                    se(last.1)
                ));
            }
            (true, _, _) => {
                let reason = "the Pons test sets are absent (../shared/connect4)";
                run.report.not_measured(&untrained, reason);
                run.report.not_measured(name, reason);
            }
            (false, first, last) => {
                let reason = "quick run on a checkpoint trained earlier: this run does not \
                              measure its mistake rates (the checkpoint's training log is \
                              shown as a table of that earlier run)";
                run.report.not_measured(&untrained, reason);
                run.report.not_measured(name, reason);
                if let (Some(first), Some(last)) = (first, last) {
                    log_rows.push(vec![
                        label.clone(),
                        format!("{:.3}", first.1),
                        format!("{:.3}", last.1),
                        format!("{:.1}", last.0),
                    ]);
                }
            }
        }
    }
    let earlier = if measured_here {
        String::new()
    } else {
        format!(
            " (from {}: an earlier run's training log, not measured in this run)",
            dir.join("log.json").display()
        )
    };
    if !log_rows.is_empty() {
        run.report.tables.push(Table {
            title: format!("AlphaZero mistake rates along the checkpoint's training{earlier}"),
            header: ["measure", "untrained", "at the end", "minutes"]
                .map(String::from)
                .to_vec(),
            rows: log_rows,
        });
    }
    let mut plot = Plot {
        name: "az_mistake_rate".into(),
        title: format!("AlphaZero on Connect Four: Pons mistake rate along training{earlier}"),
        x_label: "training time (minutes)".into(),
        y_label: "mistake rate".into(),
        log_x: false,
        log_y: false,
        series: curves
            .into_iter()
            .zip(labels)
            .map(|(points, label)| Series { label, points })
            .collect(),
    };
    plot.series.retain(|s| !s.points.is_empty());
    if !plot.series.is_empty() {
        run.report.plots.push(plot);
    }
    run.report.notes.push(format!(
        "az_win_rate_vs_uct_200: {workload}; PUCT with 200 simulations per move (c_puct 1.5, \
         leaf batch 8, most visits, no noise) against UCT with 200 simulations (random \
         rollouts, c = 1), colours alternated, both keeping their trees; score = (wins + draws \
         / 2) / games: {} wins, {} draws, {} losses ({match_s:.0} s). {}",
        result.wins,
        result.draws,
        result.losses,
        if measured_here {
            format!(
                "Mistake rates measured in this run on the first {eval_positions} positions of \
                 each Pons set (judged by the crate's exact solver), `_untrained` before the \
                 first iteration, the other after training: az_mistake_rate_* of the same \
                 search with {eval_sims} simulations, az_fast_mistake_rate_* with \
                 {eval_fast_sims}, az_policy_mistake_rate_* of the network alone (legal \
                 column of highest prior); with binomial standard errors: {}.",
                finals.join("; ")
            )
        } else {
            format!(
                "The mistake rates are not measured in this run: the table and the plot of \
                 them come from the checkpoint's training log{earlier}."
            )
        }
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
