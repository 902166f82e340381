//! Trains AlphaZero on Connect Four: self-play, training and evaluation as one loop.
//!
//! ```text
//! cargo run -p mcts --release --example az_train -- --minutes 30 --out DIR [--resume]
//!     [--games-per-iter 64] [--full-sims 100] [--fast-sims 25] [--full-prob 1]
//!     [--hidden 256,256] [--eval-sims 200] [--eval-positions 100] [--set FILE]
//!     [--match-games 0] [--temperature-moves 8] [--replay 100000] [--seed 0]
//! ```
//!
//! After every iteration it writes `DIR/checkpoint.bin` (network and Adam state) and
//! `DIR/log.json`: per iteration the games, samples, loss terms, wall times and the Pons
//! mistake rate of the current network with `--eval-sims` PUCT simulations on the first
//! `--eval-positions` positions of `--set` (default `../shared/connect4/Test_L3_R1`), judged by
//! the crate's exact solver (iteration 0 is the untrained network), and the same on the first
//! positions of `--set2` (default `Test_L2_R1`, middle-game positions) as `mistake_rate_2`;
//! `policy_mistake_rate` and `policy_mistake_rate_2` judge the network alone (the legal
//! column of highest prior, no search). `--match-games N` ends with
//! N games against pure MCTS (UCT, 200 simulations, random rollouts) at 200 simulations each,
//! colours alternated, a draw counting half. A progress bar shows on a terminal.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use mcts::alphazero::train::{
    IterationLog, JudgedPosition, MatchConfig, match_vs_uct, policy_mistakes, puct_mistakes,
};
use mcts::alphazero::{Checkpoint, PuctConfig, TrainConfig, Trainer};
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
    /// Positions of the test set used for the mistake rate.
    #[arg(long, default_value_t = 100)]
    eval_positions: usize,
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
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Serialize, serde::Deserialize, Default)]
struct Log {
    config: Option<TrainConfig>,
    eval_set: String,
    eval_set_2: String,
    eval_positions: usize,
    eval_sims: u64,
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
    config.replay_capacity = args.replay;

    let set2_path = args
        .set2
        .clone()
        .unwrap_or_else(|| set_path.with_file_name("Test_L2_R1"));
    // Positions judged once by the exact solver.
    let mut solver = Solver::new();
    let mut judge = |path: &PathBuf| -> anyhow::Result<Vec<JudgedPosition>> {
        Ok(load_test_set(path)?
            .iter()
            .take(args.eval_positions)
            .map(|tp| JudgedPosition {
                state: Connect4::from_position(tp.position),
                outcomes: solver.child_outcomes(&tp.position),
            })
            .collect())
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
    if log.iterations.is_empty() {
        let m = puct_mistakes(trainer.net(), &judged, &eval_config, args.eval_sims)?;
        let m2 = puct_mistakes(trainer.net(), &judged2, &eval_config, args.eval_sims)?;
        let (q, q2) = (
            policy_mistakes(trainer.net(), &judged)?,
            policy_mistakes(trainer.net(), &judged2)?,
        );
        log.iterations.push(serde_json::json!({
            "policy_mistake_rate": q as f64 / judged.len().max(1) as f64,
            "policy_mistake_rate_2": q2 as f64 / judged2.len().max(1) as f64,
            "iteration": 0, "total_s": 0.0, "total_games": 0,
            "mistakes": m, "mistake_rate": m as f64 / judged.len().max(1) as f64,
            "mistakes_2": m2, "mistake_rate_2": m2 as f64 / judged2.len().max(1) as f64,
        }));
    }

    let budget = Duration::from_secs_f64(args.minutes * 60.0);
    let bar = indicatif::ProgressBar::new(budget.as_secs());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} {wide_bar} {pos}/{len} s  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = std::time::Instant::now();
    let result = trainer.run_for(budget, |t, it: &IterationLog| {
        let m = puct_mistakes(t.net(), &judged, &eval_config, args.eval_sims)?;
        let rate = m as f64 / judged.len().max(1) as f64;
        let m2 = puct_mistakes(t.net(), &judged2, &eval_config, args.eval_sims)?;
        let rate2 = m2 as f64 / judged2.len().max(1) as f64;
        let mut v =
            serde_json::to_value(it).map_err(|e| mcts::MctsError::Evaluator(e.to_string()))?;
        v["mistakes"] = m.into();
        v["mistake_rate"] = rate.into();
        v["mistakes_2"] = m2.into();
        v["mistake_rate_2"] = rate2.into();
        let (q, q2) = (
            policy_mistakes(t.net(), &judged)?,
            policy_mistakes(t.net(), &judged2)?,
        );
        v["policy_mistake_rate"] = (q as f64 / judged.len().max(1) as f64).into();
        v["policy_mistake_rate_2"] = (q2 as f64 / judged2.len().max(1) as f64).into();
        log.iterations.push(v);
        t.checkpoint().save(&ckpt_path)?;
        let text = serde_json::to_string_pretty(&log)
            .map_err(|e| mcts::MctsError::Evaluator(e.to_string()))?;
        std::fs::write(&log_path, text).map_err(|source| mcts::MctsError::Io {
            path: log_path.clone(),
            source,
        })?;
        bar.set_position(start.elapsed().as_secs().min(budget.as_secs()));
        let msg = format!(
            "it {} games {} loss p {:.3} v {:.3} mistakes {:.2} / {:.2} ({:.1} st/call)",
            it.iteration,
            it.total_games,
            it.losses.policy,
            it.losses.value,
            rate,
            rate2,
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
