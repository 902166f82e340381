//! Trains AlphaZero on Connect Four: self-play, training and evaluation as one loop.
//!
//! ```text
//! cargo run -p mcts --release --example az_train -- --minutes 30 --out DIR [--resume]
//!     [--games-per-iter 64] [--full-sims 100] [--fast-sims 25] [--full-prob 1]
//!     [--hidden 256,256] [--eval-sims 200] [--eval-fast-sims 25] [--eval-positions 1000]
//!     [--eval-every 25] [--set FILE] [--set2 FILE] [--match-games 0]
//!     [--temperature-moves 8] [--q-weight 0.5] [--replay 100000] [--workers 0]
//!     [--games-per-worker 16]
//!     [--seed 0]
//! ```
//!
//! After every iteration it writes `DIR/checkpoint.bin` (network and Adam state, and the
//! provenance of the network: the commit and `TrainConfig` of each training session) and
//! `DIR/log.json` with the games, samples, loss terms and wall times. Before the first
//! iteration (the untrained network), every `--eval-every` iterations and after the last, it
//! also judges the current network on the first `--eval-positions` positions of `--set`
//! (default `../shared/connect4/Test_L3_R1`, end-game positions) and of `--set2` (default
//! `Test_L2_R1`, middle-game positions) with the crate's exact solver, by three players:
//! PUCT with `--eval-sims` simulations (`mistake_rate`, `mistake_rate_2` for the second set),
//! PUCT with `--eval-fast-sims` simulations, where the network weighs more
//! (`fast_mistake_rate`, `fast_mistake_rate_2`), and the network alone, the legal column of
//! highest prior (`policy_mistake_rate`, `policy_mistake_rate_2`); `eval_s` is the time this
//! took (spent outside the training clock `total_s` but inside the `--minutes` budget). With
//! 1000 positions a rate near 0.05 has a standard error near 0.007 and one near 0.25 near
//! 0.014.
//!
//! Which of them falls with training: two 30-minute runs of 7 December 2026, side by side on
//! the 2-core bench machine (one self-play worker each, seed 0, all 1000 positions of each
//! set, Test_L3_R1 / Test_L2_R1, untrained network -> mean of the last five evaluations).
//! With the default value target (`--q-weight 0.5`, the game result averaged with the search
//! value) the network alone falls from 0.32 / 0.30 to 0.20 / 0.17, PUCT with 25 simulations
//! from 0.11 / 0.22 to 0.086 / 0.10, and PUCT with 200 simulations from 0.021 / 0.047 to
//! 0.023 / 0.030: it falls on the middle-game set and stays at the untrained level on the
//! end-game set, where 200 simulations with a flat prior and values near 0 already find most
//! forced lines (standard error about 0.005 at these rates). With the game result alone
//! (`--q-weight 0`) the same run ends at 0.22 / 0.22, 0.10 / 0.15 and 0.031 / 0.051: there the
//! 200-simulation search ends worse than with the untrained network on both sets. Their
//! matches against UCT-200: 0.917 and 0.875.
//!
//! `--match-games N` ends with
//! N games against pure MCTS (UCT, 200 simulations, random rollouts) at 200 simulations each,
//! colours alternated, a draw counting half. A progress bar shows on a terminal.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use mcts::alphazero::train::{IterationLog, MatchConfig, MistakeRates, match_vs_uct};
use mcts::alphazero::{Checkpoint, PuctConfig, TrainConfig, Trainer};
use mcts::test_set::JudgedPosition;
use mcts::{Connect4, Solver, load_test_set};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(about = "Train AlphaZero on Connect Four")]
struct Args {
    /// Wall-time budget of this run, in minutes.
    #[arg(long, default_value_t = 30.0)]
    minutes: f64,
    /// Output folder (checkpoint.bin, log.json).
    #[arg(long)]
    out: PathBuf,
    /// Continue from DIR/checkpoint.bin (and append to DIR/log.json).
    #[arg(long)]
    resume: bool,
    /// Self-play games per iteration.
    #[arg(long, default_value_t = 64)]
    games_per_iter: usize,
    /// Simulations of a full self-play search.
    #[arg(long, default_value_t = 100)]
    full_sims: u64,
    /// Simulations of a cheap self-play search (playout cap randomisation).
    #[arg(long, default_value_t = 25)]
    fast_sims: u64,
    /// Probability of a full search per move (1: always).
    #[arg(long, default_value_t = 1.0)]
    full_prob: f64,
    /// Weight of the search's root value in the value target (0: the game result alone).
    #[arg(long, default_value_t = 0.5)]
    q_weight: f64,
    /// Self-play moves played at temperature 1 at the start of each game.
    #[arg(long, default_value_t = 8)]
    temperature_moves: usize,
    /// Replay buffer capacity in samples.
    #[arg(long, default_value_t = 100_000)]
    replay: usize,
    /// Hidden widths, comma separated.
    #[arg(long, default_value = "256,256", value_delimiter = ',')]
    hidden: Vec<usize>,
    /// Simulations of the evaluation searches.
    #[arg(long, default_value_t = 200)]
    eval_sims: u64,
    /// Simulations of the cheaper evaluation searches.
    #[arg(long, default_value_t = 25)]
    eval_fast_sims: u64,
    /// Positions of each test set used for the mistake rates (the first ones; a Pons set has
    /// 1000).
    #[arg(long, default_value_t = 1000)]
    eval_positions: usize,
    /// Iterations between two evaluations (the first and the last are always evaluated; one
    /// evaluation takes about as long as one iteration).
    #[arg(long, default_value_t = 25)]
    eval_every: u64,
    /// Test set (Pons format) of the mistake rate.
    #[arg(long)]
    set: Option<PathBuf>,
    /// A second test set, logged as `mistake_rate_2` (default `Test_L2_R1` beside the first;
    /// `Test_L3_R1`'s end-game positions are nearly solved by 200 simulations of any search).
    #[arg(long)]
    set2: Option<PathBuf>,
    /// Games against UCT at the end.
    #[arg(long, default_value_t = 0)]
    match_games: usize,
    /// Training steps per new sample times batch size.
    #[arg(long, default_value_t = 4.0)]
    sample_reuse: f64,
    /// Adam step size.
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// Self-play worker threads (0: par-core's thread budget).
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Games each self-play worker plays at once.
    #[arg(long, default_value_t = 16)]
    games_per_worker: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Serialize, serde::Deserialize, Default)]
#[serde(default)]
struct Log {
    config: Option<TrainConfig>,
    eval_set: String,
    eval_set_2: String,
    eval_positions: usize,
    eval_sims: u64,
    eval_fast_sims: u64,
    eval_every: u64,
    iterations: Vec<serde_json::Value>,
    final_match: Option<serde_json::Value>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {:?}", args.out))?;
    let set_path = args.set.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/connect4/Test_L3_R1")
    });
    let mut config = TrainConfig {
        hidden: args.hidden.clone(),
        games_per_iteration: args.games_per_iter,
        sample_reuse: args.sample_reuse,
        seed: args.seed,
        ..TrainConfig::default()
    };
    config.adam.learning_rate = args.lr;
    config.selfplay.full_sims = args.full_sims;
    config.selfplay.fast_sims = args.fast_sims;
    config.selfplay.full_search_prob = args.full_prob;
    config.selfplay.temperature_moves = args.temperature_moves;
    config.selfplay.value_target_search_weight = args.q_weight;
    config.replay_capacity = args.replay;
    config.selfplay.workers = args.workers;
    config.selfplay.games_per_worker = args.games_per_worker;

    let set2_path = args
        .set2
        .clone()
        .unwrap_or_else(|| set_path.with_file_name("Test_L2_R1"));
    // Positions judged once by the exact solver.
    let mut solver = Solver::new();
    let mut judge = |path: &PathBuf| -> anyhow::Result<Vec<JudgedPosition>> {
        let set = load_test_set(path)?;
        let take = set.len().min(args.eval_positions);
        Ok(JudgedPosition::judge_all(&mut solver, &set[..take]))
    };
    let judged = judge(&set_path)?;
    let judged2 = judge(&set2_path)?;
    let eval_config = PuctConfig::default();

    let ckpt_path = args.out.join("checkpoint.bin");
    let log_path = args.out.join("log.json");
    let mut trainer = if args.resume {
        Trainer::<Connect4>::resume(config.clone(), &ckpt_path)?
    } else {
        Trainer::<Connect4>::new(config.clone())?
    };
    let mut log: Log = if args.resume && log_path.is_file() {
        serde_json::from_str(&std::fs::read_to_string(&log_path)?)
            .with_context(|| format!("reading {}", log_path.display()))?
    } else {
        Log::default()
    };
    log.config = Some(config.clone());
    log.eval_set = set_path.display().to_string();
    log.eval_set_2 = set2_path.display().to_string();
    log.eval_positions = judged.len();
    log.eval_sims = args.eval_sims;
    log.eval_fast_sims = args.eval_fast_sims;
    log.eval_every = args.eval_every;
    // The three judges on both sets, as log fields.
    let evaluate = |net: &mcts::alphazero::Mlp,
                    v: &mut serde_json::Value|
     -> Result<(f64, f64), mcts::MctsError> {
        let t = std::time::Instant::now();
        let (a, b) = (
            MistakeRates::measure(
                net,
                &judged,
                &eval_config,
                args.eval_sims,
                args.eval_fast_sims,
            )?,
            MistakeRates::measure(
                net,
                &judged2,
                &eval_config,
                args.eval_sims,
                args.eval_fast_sims,
            )?,
        );
        v["mistakes"] = a.search.into();
        v["mistake_rate"] = a.rate(a.search).into();
        v["mistakes_2"] = b.search.into();
        v["mistake_rate_2"] = b.rate(b.search).into();
        v["fast_mistake_rate"] = a.rate(a.fast_search).into();
        v["fast_mistake_rate_2"] = b.rate(b.fast_search).into();
        v["policy_mistake_rate"] = a.rate(a.network).into();
        v["policy_mistake_rate_2"] = b.rate(b.network).into();
        v["eval_s"] = t.elapsed().as_secs_f64().into();
        Ok((a.rate(a.search), b.rate(b.search)))
    };
    if log.iterations.is_empty() {
        let mut v = serde_json::json!({"iteration": 0, "total_s": 0.0, "total_games": 0});
        evaluate(trainer.net(), &mut v)?;
        log.iterations.push(v);
    }
    let save_log = |log: &Log| -> Result<(), mcts::MctsError> {
        let text = serde_json::to_string_pretty(log)
            .map_err(|e| mcts::MctsError::Evaluator(e.to_string()))?;
        std::fs::write(&log_path, text).map_err(|source| mcts::MctsError::Io {
            path: log_path.clone(),
            source,
        })
    };

    let budget = Duration::from_secs_f64(args.minutes * 60.0);
    let bar = indicatif::ProgressBar::new(budget.as_secs());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} {wide_bar} {pos}/{len} s  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = std::time::Instant::now();
    let mut last_rates = (f64::NAN, f64::NAN);
    let result = trainer.run_for(budget, |t, it: &IterationLog| {
        let mut v =
            serde_json::to_value(it).map_err(|e| mcts::MctsError::Evaluator(e.to_string()))?;
        if it.iteration.is_multiple_of(args.eval_every.max(1)) {
            last_rates = evaluate(t.net(), &mut v)?;
        }
        log.iterations.push(v);
        t.checkpoint().save(&ckpt_path)?;
        save_log(&log)?;
        bar.set_position(start.elapsed().as_secs().min(budget.as_secs()));
        let msg = format!(
            "it {} games {} loss p {:.3} v {:.3} mistakes {:.3} / {:.3} ({:.1} st/call)",
            it.iteration,
            it.total_games,
            it.losses.policy,
            it.losses.value,
            last_rates.0,
            last_rates.1,
            it.selfplay.mean_states_per_call
        );
        bar.set_message(msg.clone());
        if !bar.is_hidden() {
            return Ok(());
        }
        eprintln!("[{:>6.0} s] {msg}", start.elapsed().as_secs_f64());
        Ok(())
    });
    bar.finish();
    result?;
    // The last iteration is always judged.
    if let Some(last) = log.iterations.last_mut()
        && last.get("mistake_rate").is_none()
    {
        evaluate(trainer.net(), last)?;
        save_log(&log)?;
    }
    if args.match_games > 0 {
        let r = match_vs_uct(
            trainer.net(),
            &MatchConfig {
                games: args.match_games,
                seed: args.seed ^ 0xA11CE,
                ..MatchConfig::default()
            },
        )?;
        println!(
            "vs UCT-200: {} wins, {} draws, {} losses of {} (score {:.3}, a draw counting half)",
            r.wins,
            r.draws,
            r.losses,
            r.games,
            r.score()
        );
        log.final_match = Some(serde_json::json!({
            "games": r.games, "wins": r.wins, "draws": r.draws, "losses": r.losses,
            "score": r.score(), "az_sims": 200, "uct_sims": 200,
        }));
        std::fs::write(&log_path, serde_json::to_string_pretty(&log)?)?;
    }
    let c = Checkpoint::load(&ckpt_path)?;
    println!(
        "{} iterations, {} games, {:.0} s of training; checkpoint {}, log {}",
        c.iteration,
        c.games,
        c.train_seconds,
        ckpt_path.display(),
        log_path.display()
    );
    Ok(())
}
