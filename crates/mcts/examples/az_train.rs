//! Trains AlphaZero on Connect Four: self-play, training and evaluation as one loop.
//!
//! ```text
//! cargo run -p mcts --release --example az_train -- --minutes 30 --out DIR [--resume]
//!     [--iterations N] [--games-per-iter 64] [--full-sims 100] [--fast-sims 25]
//!     [--full-prob 1] [--hidden 256,256] [--eval-sims 200] [--eval-fast-sims 25]
//!     [--eval-positions 1000] [--eval-every 25] [--set FILE] [--set2 FILE] [--match-games 0]
//!     [--temperature-moves 8] [--q-weight 0.5] [--replay 100000] [--workers N]
//!     [--games-per-worker 16] [--seed 0]
//! ```
//!
//! After every iteration it writes, each file atomically (a temporary file, then a rename: a
//! killed run never leaves half a file), `DIR/train_state.bin` (everything needed to go on
//! exactly where it stopped: the network, the Adam state, the replay buffer, the batch
//! generator and the log), `DIR/checkpoint.bin` (the network and Adam state, and the
//! provenance of the network: the commit and `TrainConfig` of each training session; what
//! `az_match` reads) and `DIR/log.json` (the run's description, `run`, and the games, samples,
//! loss terms and wall times of every iteration). A run killed at any moment, rerun with
//! `--resume`, goes on from the last iteration it finished; with `--iterations` as the
//! stopping rule the resumed run's log (timings aside) and network are those of a run that was
//! never stopped (self-play and training are deterministic for a given `--seed`, for any
//! `--workers`). `--minutes` is wall-clock time, so where a timed run stops is not.
//!
//! Before the first iteration (the untrained network), every `--eval-every` iterations and
//! after the last, it also judges the current network on the first `--eval-positions`
//! positions of `--set` (default `../shared/connect4/Test_L3_R1`, end-game positions) and of
//! `--set2` (default `Test_L2_R1`, middle-game positions) with the crate's exact solver, by
//! three players: PUCT with `--eval-sims` simulations (`mistake_rate`, `mistake_rate_2` for
//! the second set), PUCT with `--eval-fast-sims` simulations, where the network weighs more
//! (`fast_mistake_rate`, `fast_mistake_rate_2`), and the network alone, the legal column of
//! highest prior (`policy_mistake_rate`, `policy_mistake_rate_2`); `eval_s` is the time this
//! took (spent outside the training clock `total_s` but inside the `--minutes` budget, as is
//! the writing of the three files: tens of milliseconds with a full buffer of 100 000
//! samples, stored one bit per board cell). With
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

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use mcts::alphazero::train::{IterationLog, MatchConfig, MistakeRates, match_vs_uct};
use mcts::alphazero::{Mlp, PuctConfig, TrainConfig, Trainer, TrainingState};
use mcts::test_set::JudgedPosition;
use mcts::{Connect4, Encode, Solver, load_test_set};
use par_cli::RunRecord;
use par_cli::numbers::{count_in, float_in, fraction, positive, seed};
use serde::{Deserialize, Serialize};

/// The file that holds everything a resumed run needs.
const STATE_FILE: &str = "train_state.bin";
/// The network, for `az_match` and other users.
const CHECKPOINT_FILE: &str = "checkpoint.bin";
/// The run's description and history.
const LOG_FILE: &str = "log.json";
/// The default wall-time budget when no `--iterations` is given.
const DEFAULT_MINUTES: f64 = 30.0;

/// A wall-time budget in minutes: finite, greater than 0, at most what `numbers::seconds`
/// allows.
fn minutes(text: &str) -> Result<f64, String> {
    let m = positive(text)?;
    let max = par_cli::numbers::MAX_SECONDS / 60.0;
    if m > max {
        Err(format!("`{text}` minutes is above the maximum {max:.0}"))
    } else {
        Ok(m)
    }
}

/// A probability greater than 0 (at most 1).
fn open_fraction(text: &str) -> Result<f64, String> {
    let p = fraction(text)?;
    if p > 0.0 {
        Ok(p)
    } else {
        Err(format!("`{text}` must be greater than 0"))
    }
}

/// Self-play worker threads: 0 for par-core's thread budget, or a worker count.
fn workers(text: &str) -> Result<usize, String> {
    if text.trim() == "0" {
        Ok(0)
    } else {
        par_cli::exec_args::workers(text)
    }
}

/// Train AlphaZero on Connect Four: self-play, training and evaluation in one loop, resumable
/// after any interruption.
#[derive(Parser, Debug)]
#[command(
    allow_negative_numbers = true,
    after_help = "Writes into --out, each file atomically after every iteration:\n  \
        train_state.bin  everything --resume needs (network, Adam state, replay buffer, batch \
        generator, log)\n  \
        checkpoint.bin   the network, Adam state and provenance (what az_match reads)\n  \
        log.json         {\"run\": {tool, version, provenance, machine, config, seed, inputs, \
        timings}, \"config\", \"eval_set\", \"eval_set_2\", \"iterations\": [one entry per \
        iteration, with mistake rates where judged], \"final_match\"}\n\
        Without --iterations or --minutes it trains for 30 minutes."
)]
struct Args {
    /// Wall-time budget of this run, in minutes (> 0) [default: 30, or none with --iterations].
    #[arg(long, value_parser = minutes)]
    minutes: Option<f64>,
    /// Stop once the network has this many iterations in all (a resumed run counts the earlier
    /// ones): the stopping rule whose result does not depend on the machine's speed.
    #[arg(long, value_parser = count_in(1, 100_000_000))]
    iterations: Option<usize>,
    /// Output folder (train_state.bin, checkpoint.bin, log.json); checked writable before any
    /// work.
    #[arg(long)]
    out: PathBuf,
    /// Continue the run in --out from its last finished iteration (a new run when --out holds
    /// none yet). Without it, an --out that already holds a run is refused.
    #[arg(long)]
    resume: bool,
    /// Self-play games per iteration.
    #[arg(long, default_value_t = 64, value_parser = count_in(1, 1_000_000))]
    games_per_iter: usize,
    /// Simulations of a full self-play search.
    #[arg(long, default_value_t = 100, value_parser = count_in(1, 10_000_000))]
    full_sims: usize,
    /// Simulations of a cheap self-play search (playout cap randomisation; at least 1 when
    /// --full-prob is below 1).
    #[arg(long, default_value_t = 25, value_parser = count_in(0, 10_000_000))]
    fast_sims: usize,
    /// Probability of a full search per move, in (0, 1] (1: always).
    #[arg(long, default_value_t = 1.0, value_parser = open_fraction)]
    full_prob: f64,
    /// Weight of the search's root value in the value target, in [0, 1] (0: the game result
    /// alone).
    #[arg(long, default_value_t = 0.5, value_parser = fraction)]
    q_weight: f64,
    /// Self-play moves played at temperature 1 at the start of each game.
    #[arg(long, default_value_t = 8, value_parser = count_in(0, 42))]
    temperature_moves: usize,
    /// Replay buffer capacity in samples (at most 2^26, and what memory allows).
    #[arg(long, default_value_t = 100_000, value_parser = count_in(1, 1 << 26))]
    replay: usize,
    /// Hidden widths, comma separated (each 1 to 4096).
    #[arg(long, default_value = "256,256", value_delimiter = ',', value_parser = count_in(1, 4096))]
    hidden: Vec<usize>,
    /// Simulations of the evaluation searches.
    #[arg(long, default_value_t = 200, value_parser = count_in(1, 10_000_000))]
    eval_sims: usize,
    /// Simulations of the cheaper evaluation searches.
    #[arg(long, default_value_t = 25, value_parser = count_in(1, 10_000_000))]
    eval_fast_sims: usize,
    /// Positions of each test set used for the mistake rates (the first ones; a Pons set has
    /// 1000).
    #[arg(long, default_value_t = 1000, value_parser = count_in(1, 10_000_000))]
    eval_positions: usize,
    /// Iterations between two evaluations (the first and the last are always evaluated; one
    /// evaluation takes about as long as one iteration).
    #[arg(long, default_value_t = 25, value_parser = count_in(1, 100_000_000))]
    eval_every: usize,
    /// Test set (Pons format: lines of `<moves> <score>`) of the mistake rate [default:
    /// ../shared/connect4/Test_L3_R1 beside the workspace].
    #[arg(long)]
    set: Option<PathBuf>,
    /// A second test set, logged as `mistake_rate_2` [default: Test_L2_R1 beside the first;
    /// Test_L3_R1's end-game positions are nearly solved by 200 simulations of any search].
    #[arg(long)]
    set2: Option<PathBuf>,
    /// Games against UCT at the end (0: none).
    #[arg(long, default_value_t = 0, value_parser = count_in(0, 1_000_000))]
    match_games: usize,
    /// Training steps per new sample times batch size (> 0, at most 1000).
    #[arg(long, default_value_t = 4.0, value_parser = float_in(1e-6, 1000.0))]
    sample_reuse: f64,
    /// Adam step size (at least 1e-9, at most 1).
    #[arg(long, default_value_t = 1e-3, value_parser = float_in(1e-9, 1.0))]
    lr: f64,
    /// Self-play worker threads (0: par-core's thread budget; at most 8 per core). The games
    /// are the same for any count.
    #[arg(long, default_value_t = 0, value_parser = workers)]
    workers: usize,
    /// Games each self-play worker plays at once.
    #[arg(long, default_value_t = 16, value_parser = count_in(1, 4096))]
    games_per_worker: usize,
    /// Seed of the network's initialisation, the self-play games and the batches.
    #[arg(long, default_value_t = 0, value_parser = seed)]
    seed: u64,
}

/// `log.json`: the run's description and every iteration.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct Log {
    /// The latest session's self-description (a resumed run replaces it; the checkpoint's
    /// sessions list them all).
    run: Option<RunRecord>,
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

/// The three files of a run folder.
struct Files {
    state: PathBuf,
    checkpoint: PathBuf,
    log: PathBuf,
}

impl Files {
    fn in_folder(out: &Path) -> Self {
        Self {
            state: out.join(STATE_FILE),
            checkpoint: out.join(CHECKPOINT_FILE),
            log: out.join(LOG_FILE),
        }
    }

    /// Removes the temporary files of atomic writes that a killed run left behind (named
    /// `.FILE.tmp-PID`; never read).
    fn remove_stale_temporaries(&self) {
        let Some(dir) = self.state.parent() else {
            return;
        };
        let prefixes = [STATE_FILE, CHECKPOINT_FILE, LOG_FILE].map(|f| format!(".{f}.tmp-"));
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if prefixes.iter().any(|p| name.starts_with(p.as_str())) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Writes the training state (with the log in it), then the checkpoint and the log, each
    /// atomically. The state comes first: it is what a resumed run reads, and the two others
    /// are rewritten from it on resume when a kill fell between the writes.
    fn save(
        &self,
        trainer: &Trainer<Connect4>,
        log: &mut Log,
        record: &mut RunRecord,
    ) -> anyhow::Result<()> {
        record.finish();
        log.run = Some(record.clone());
        let notes = serde_json::to_string(log).context("encoding the log")?;
        trainer.save_state(&self.state, &notes)?;
        trainer.checkpoint().save(&self.checkpoint)?;
        par_cli::output_files::write_json(&self.log, log)?;
        Ok(())
    }
}

fn main() -> ExitCode {
    par_cli::main_with(|| train(Args::parse()))
}

fn train(args: Args) -> anyhow::Result<()> {
    par_cli::output_files::check_writable_dir(&args.out)?;
    let files = Files::in_folder(&args.out);
    files.remove_stale_temporaries();
    let mut config = TrainConfig {
        hidden: args.hidden.clone(),
        games_per_iteration: args.games_per_iter,
        sample_reuse: args.sample_reuse,
        seed: args.seed,
        ..TrainConfig::default()
    };
    config.adam.learning_rate = args.lr as f32;
    config.selfplay.full_sims = args.full_sims as u64;
    config.selfplay.fast_sims = args.fast_sims as u64;
    config.selfplay.full_search_prob = args.full_prob;
    config.selfplay.temperature_moves = args.temperature_moves;
    config.selfplay.value_target_search_weight = args.q_weight;
    config.replay_capacity = args.replay;
    config.selfplay.workers = args.workers;
    config.selfplay.games_per_worker = args.games_per_worker;
    config
        .validate()
        .context("the training options (--fast-sims must be at least 1 below --full-prob 1)")?;
    let sample_bytes = (Connect4::INPUT_LEN + 7 + 1) * std::mem::size_of::<f32>();
    par_cli::memory::ensure_fits(
        &format!("a replay buffer of {} samples (--replay)", args.replay),
        // The buffer, and its copy in the training state written after each iteration.
        2 * (args.replay * sample_bytes) as u128,
    )?;
    let budget = match (args.minutes, args.iterations) {
        (Some(m), _) => Some(Duration::from_secs_f64(m * 60.0)),
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs_f64(DEFAULT_MINUTES * 60.0)),
    };
    let iterations = args.iterations.map(|n| n as u64);

    let set_path = args.set.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/connect4/Test_L3_R1")
    });
    let set2_path = args
        .set2
        .clone()
        .unwrap_or_else(|| set_path.with_file_name("Test_L2_R1"));
    let mut record = RunRecord::start(
        "mcts az_train",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_MANIFEST_DIR"),
    );
    record.seed = Some(args.seed);
    record.set_config(&serde_json::json!({
        "train": &config,
        "minutes": args.minutes,
        "iterations": args.iterations,
        "default_minutes": budget.is_some() && args.minutes.is_none(),
        "eval_sims": args.eval_sims,
        "eval_fast_sims": args.eval_fast_sims,
        "eval_positions": args.eval_positions,
        "eval_every": args.eval_every,
        "match_games": args.match_games,
        "out": &args.out,
        "resume": args.resume,
    }));
    for set in [&set_path, &set2_path] {
        record
            .add_input(set)
            .with_context(|| format!("the test set {}", set.display()))?;
    }

    // The run to continue, or a new one; refused when it would overwrite a run unasked.
    let has_state = files.state.is_file();
    let has_checkpoint = files.checkpoint.is_file();
    if !args.resume && (has_state || has_checkpoint) {
        bail!(
            "{} already holds a training run ({}): pass --resume to continue it, or choose \
             another --out",
            args.out.display(),
            if has_state {
                STATE_FILE
            } else {
                CHECKPOINT_FILE
            }
        );
    }
    let (mut trainer, mut log) = if has_state {
        let state = TrainingState::load(&files.state)?;
        let (trainer, notes) =
            Trainer::<Connect4>::from_state(config.clone(), state, &files.state)?;
        let log: Log = serde_json::from_str(&notes)
            .with_context(|| format!("the log kept in {}", files.state.display()))?;
        eprintln!(
            "resuming {} at iteration {}",
            args.out.display(),
            trainer.iteration()
        );
        (trainer, log)
    } else if has_checkpoint {
        // A run of an earlier version, which wrote no training state.
        let trainer = Trainer::<Connect4>::resume(config.clone(), &files.checkpoint)?;
        eprintln!(
            "{} has no {STATE_FILE} (a run of an earlier version): resuming from {} at iteration \
             {} with an empty replay buffer (the run will not be the one that never stopped)",
            args.out.display(),
            files.checkpoint.display(),
            trainer.iteration()
        );
        let log = match std::fs::read_to_string(&files.log)
            .map_err(anyhow::Error::from)
            .and_then(|text| Ok(serde_json::from_str::<Log>(&text)?))
        {
            Ok(mut log) => {
                log.iterations.retain(|it| {
                    it["iteration"]
                        .as_u64()
                        .is_some_and(|k| k <= trainer.iteration())
                });
                log
            }
            Err(e) => {
                eprintln!(
                    "warning: {} cannot be read ({e}): its history is lost, a new log starts",
                    files.log.display()
                );
                Log::default()
            }
        };
        (trainer, log)
    } else {
        if args.resume {
            eprintln!(
                "nothing to resume in {}: starting a new run",
                args.out.display()
            );
        }
        (Trainer::<Connect4>::new(config.clone())?, Log::default())
    };

    // Positions judged once by the exact solver.
    let mut solver = Solver::new();
    let mut judge = |path: &Path| -> anyhow::Result<Vec<JudgedPosition>> {
        let set = load_test_set(path)?;
        if set.is_empty() {
            bail!(
                "the test set {} holds no position: a mistake rate needs at least one",
                path.display()
            );
        }
        let take = set.len().min(args.eval_positions);
        Ok(JudgedPosition::judge_all(&mut solver, &set[..take]))
    };
    let judged = judge(&set_path)?;
    let judged2 = judge(&set2_path)?;
    let eval_config = PuctConfig::default();

    log.config = Some(config.clone());
    log.eval_set = set_path.display().to_string();
    log.eval_set_2 = set2_path.display().to_string();
    log.eval_positions = judged.len();
    log.eval_sims = args.eval_sims as u64;
    log.eval_fast_sims = args.eval_fast_sims as u64;
    log.eval_every = args.eval_every as u64;
    // The three judges on both sets, as log fields.
    let evaluate = |net: &Mlp, v: &mut serde_json::Value| -> anyhow::Result<(f64, f64)> {
        let t = Instant::now();
        let measure = |set: &[JudgedPosition]| {
            MistakeRates::measure(
                net,
                set,
                &eval_config,
                args.eval_sims as u64,
                args.eval_fast_sims as u64,
            )
        };
        let (a, b) = (measure(&judged)?, measure(&judged2)?);
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
        let mut v = serde_json::json!({"iteration": trainer.iteration(), "total_s": trainer.seconds(),
            "total_games": 0});
        evaluate(trainer.net(), &mut v)?;
        log.iterations.push(v);
    }
    // Written at once: a resumed run also rewrites the checkpoint and log that a kill may
    // have left one iteration behind the state.
    files.save(&trainer, &mut log, &mut record)?;

    let bar = match iterations {
        Some(n) => indicatif::ProgressBar::new(n).with_position(trainer.iteration().min(n)),
        None => indicatif::ProgressBar::new(budget.map_or(0, |b| b.as_secs())),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(if iterations.is_some() {
            "{elapsed_precise} {wide_bar} {pos}/{len} iterations  {msg}"
        } else {
            "{elapsed_precise} {wide_bar} {pos}/{len} s  {msg}"
        })
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    // The rates of the latest evaluation, for the progress line.
    let mut last_rates = log
        .iterations
        .iter()
        .rev()
        .find_map(|v| Some((v["mistake_rate"].as_f64()?, v["mistake_rate_2"].as_f64()?)))
        .unwrap_or((f64::NAN, f64::NAN));
    let result = trainer.run_until(budget, iterations, |t, it: &IterationLog| {
        let mut v = serde_json::to_value(it).context("encoding an iteration's log")?;
        if it.iteration.is_multiple_of(args.eval_every as u64) {
            last_rates = evaluate(t.net(), &mut v)?;
        }
        log.iterations.push(v);
        files.save(t, &mut log, &mut record)?;
        match (iterations, budget) {
            (Some(_), _) => bar.set_position(it.iteration),
            (None, Some(b)) => bar.set_position(start.elapsed().as_secs().min(b.as_secs())),
            (None, None) => {}
        }
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
        if bar.is_hidden() {
            eprintln!("[{:>6.0} s] {msg}", start.elapsed().as_secs_f64());
        }
        Ok::<_, anyhow::Error>(())
    });
    bar.finish();
    result?;
    // The last iteration is always judged.
    if let Some(last) = log.iterations.last_mut()
        && last.get("mistake_rate").is_none()
    {
        evaluate(trainer.net(), last)?;
        files.save(&trainer, &mut log, &mut record)?;
    }
    if args.match_games > 0 {
        let seed = args.seed ^ 0xA11CE;
        let done = log.final_match.as_ref().is_some_and(|m| {
            m["iteration"] == trainer.iteration()
                && m["games"] == args.match_games
                && m["seed"] == seed
        });
        if !done {
            let r = match_vs_uct(
                trainer.net(),
                &MatchConfig {
                    games: args.match_games,
                    seed,
                    ..MatchConfig::default()
                },
            )?;
            log.final_match = Some(serde_json::json!({
                "iteration": trainer.iteration(), "games": r.games, "wins": r.wins,
                "draws": r.draws, "losses": r.losses, "score": r.score(), "az_sims": 200,
                "uct_sims": 200, "seed": seed,
            }));
            files.save(&trainer, &mut log, &mut record)?;
        }
        if let Some(m) = &log.final_match {
            println!(
                "vs UCT-200: {} wins, {} draws, {} losses of {} (score {:.3}, a draw counting half)",
                m["wins"],
                m["draws"],
                m["losses"],
                m["games"],
                m["score"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
    let c = trainer.checkpoint();
    println!(
        "{} iterations, {} games, {:.0} s of training; checkpoint {}, log {}, training state {}",
        c.iteration,
        c.games,
        c.train_seconds,
        files.checkpoint.display(),
        files.log.display(),
        files.state.display()
    );
    Ok(())
}
