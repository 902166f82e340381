//! The Pons benchmark: the mistake rate of a UCT configuration on a Connect Four test set.
//!
//! ```text
//! cargo run -p mcts --release --example pons -- --set ../shared/connect4/Test_L3_R1 \
//!     (--sims 10000 | --ms-per-move 1) [--threads 2] [--limit 200] [--out result.json]
//! ```
//!
//! For every position the search picks a move; the exact outcome of every legal move is
//! computed with the crate's solver, and the move is a mistake if another one has a strictly
//! better outcome. Prints the mistake rate and writes a JSON summary when `--out` is given.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use mcts::test_set::{JudgedPosition, SearchBudget, uct_mistakes};
use mcts::{
    Connect4, FinalMove, ParallelConfig, Rollout, Solver, TreeParallelUct, Uct, UctConfig,
    load_test_set,
};
use par_cli::RunRecord;
use par_cli::numbers::{count_in, float_in, seed};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RolloutArg {
    Random,
    Heuristic,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FinalArg {
    Visits,
    Value,
}

/// Mistake rate of UCT on one of Pascal Pons' Connect Four test sets.
#[derive(Debug, Parser)]
#[command(
    allow_negative_numbers = true,
    after_help = "Prints the mistake rate on standard output and progress on standard error; \
                  with --out, also writes a JSON file {\"run\": {tool, version, provenance, \
                  machine, config, seed, inputs, timings}, \"set\", \"positions\", \
                  \"mistakes\", \"mistake_rate\", \"sims\", \"ms_per_move\", \
                  \"simulations\", \"threads\", \"seconds\", \"total_seconds\", \
                  \"exploration\", \"rollout\", \"final_move\", \"virtual_loss\"}."
)]
struct Args {
    /// Test set file (lines of `<moves> <score>`: the columns played from the empty board,
    /// digits 1-7, and the exact score for the side to move).
    #[arg(long)]
    set: PathBuf,
    /// Simulations per move (give this or --ms-per-move).
    #[arg(
        long,
        required_unless_present = "ms_per_move",
        conflicts_with = "ms_per_move",
        value_parser = count_in(1, 1_000_000_000)
    )]
    sims: Option<usize>,
    /// Wall-clock time per move in milliseconds (> 0, at most one hour), instead of a
    /// simulation count.
    #[arg(long, value_parser = float_in(1e-3, 3.6e6))]
    ms_per_move: Option<f64>,
    /// Search threads (1 = the sequential search; more = tree parallelism; at most 1024).
    #[arg(long, default_value_t = 1, value_parser = count_in(1, 1024))]
    threads: usize,
    /// Evaluate only the first N positions (N >= 1) [default: all].
    #[arg(long, value_parser = count_in(1, usize::MAX))]
    limit: Option<usize>,
    /// Write a JSON summary here (checked writable before the first position).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Base seed (position i uses seed + i).
    #[arg(long, default_value_t = 0, value_parser = seed)]
    seed: u64,
    /// UCB1 exploration constant (0 to 1000).
    #[arg(long, default_value_t = UctConfig::default().exploration,
          value_parser = float_in(0.0, 1000.0))]
    exploration: f64,
    /// Rollout policy.
    #[arg(long, value_enum, default_value_t = RolloutArg::Random)]
    rollout: RolloutArg,
    /// Final move rule.
    #[arg(long, value_enum, default_value_t = FinalArg::Visits)]
    final_move: FinalArg,
    /// Virtual loss weight for tree parallelism (0 = off; at most 1000).
    #[arg(long, default_value_t = ParallelConfig::default().virtual_loss,
          value_parser = float_in(0.0, 1000.0))]
    virtual_loss: f64,
}

fn main() -> ExitCode {
    par_cli::main_with(|| pons(Args::parse()))
}

fn pons(args: Args) -> Result<()> {
    if let Some(out) = &args.out {
        par_cli::output_files::check_writable(out)?;
    }
    let budget = match (args.sims, args.ms_per_move) {
        (Some(sims), _) => SearchBudget::Simulations(sims as u64),
        (None, Some(ms)) => SearchBudget::per_move(Duration::from_secs_f64(ms * 1e-3)),
        (None, None) => bail!("give --sims or --ms-per-move"),
    };
    let mut record = RunRecord::start(
        "mcts pons",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_MANIFEST_DIR"),
    );
    let mut set = load_test_set(&args.set)?;
    record.add_input(&args.set)?;
    if let Some(limit) = args.limit {
        set.truncate(limit);
    }
    if set.is_empty() {
        bail!(
            "the test set {} holds no position: a mistake rate needs at least one",
            args.set.display()
        );
    }
    let base = UctConfig {
        exploration: args.exploration,
        rollout: match args.rollout {
            RolloutArg::Random => Rollout::Random,
            RolloutArg::Heuristic => Rollout::Heuristic,
        },
        final_move: match args.final_move {
            FinalArg::Visits => FinalMove::MostVisits,
            FinalArg::Value => FinalMove::BestValue,
        },
        ..UctConfig::default()
    };
    let parallel = ParallelConfig {
        threads: args.threads,
        virtual_loss: args.virtual_loss,
    };
    let max_sims = match budget {
        SearchBudget::Time {
            max_simulations, ..
        } => max_simulations,
        _ => args.sims.unwrap_or(1) as u64,
    };
    par_cli::memory::ensure_fits(
        &format!("the search tree of {max_sims} simulations per move"),
        if args.threads == 1 {
            Uct::<Connect4>::arena_bytes(&base, max_sims)
        } else {
            TreeParallelUct::<Connect4>::arena_bytes(&base, &parallel, max_sims)
        },
    )?;
    record.seed = Some(args.seed);
    record.set_config(&serde_json::json!({
        "uct": &base, "parallel": &parallel, "sims": args.sims, "ms_per_move": args.ms_per_move,
        "limit": args.limit,
    }));
    let started = Instant::now();
    let judged = JudgedPosition::judge_all(&mut Solver::new(), &set);
    let (mut mistakes, mut search_s, mut simulations) = (0usize, 0.0, 0u64);
    // In chunks of 100 positions for the progress lines; position i has seed `seed + i`.
    for (k, chunk) in judged.chunks(100).enumerate() {
        let config = UctConfig {
            seed: args.seed.wrapping_add((100 * k) as u64),
            ..base.clone()
        };
        let count = uct_mistakes(chunk, &config, &parallel, budget)?;
        mistakes += count.mistakes;
        search_s += count.search_seconds;
        simulations += count.simulations;
        eprintln!(
            "{}/{} positions, {mistakes} mistakes",
            100 * k + chunk.len(),
            judged.len()
        );
    }
    let positions = set.len();
    let rate = mistakes as f64 / positions as f64;
    println!(
        "{}: {mistakes} mistakes in {positions} positions, mistake rate {:.4} ({:.2}%), \
         {}, {:.0} sims per move on average, {} thread(s), search {:.1} s, total {:.1} s",
        args.set.display(),
        rate,
        rate * 100.0,
        match budget {
            SearchBudget::Simulations(sims) => format!("{sims} sims per move"),
            _ => format!("{} ms per move", args.ms_per_move.unwrap_or(0.0)),
        },
        simulations as f64 / positions as f64,
        args.threads,
        search_s,
        started.elapsed().as_secs_f64()
    );
    if let Some(out) = &args.out {
        record.finish();
        let json = serde_json::json!({
            "run": record,
            "set": args.set.display().to_string(),
            "positions": positions,
            "mistakes": mistakes,
            "mistake_rate": rate,
            "sims": args.sims,
            "ms_per_move": args.ms_per_move,
            "simulations": simulations,
            "threads": args.threads,
            "seconds": search_s,
            "total_seconds": started.elapsed().as_secs_f64(),
            "exploration": args.exploration,
            "rollout": format!("{:?}", args.rollout).to_lowercase(),
            "final_move": format!("{:?}", args.final_move).to_lowercase(),
            "virtual_loss": if args.threads > 1 { Some(args.virtual_loss) } else { None },
        });
        par_cli::output_files::write_json(out, &json)
            .with_context(|| format!("writing the summary to {}", out.display()))?;
    }
    Ok(())
}
