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
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use mcts::test_set::{JudgedPosition, SearchBudget, uct_mistakes};
use mcts::{FinalMove, ParallelConfig, Rollout, Solver, UctConfig, load_test_set};

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
struct Args {
    /// Test set file (lines of `<moves> <score>`).
    #[arg(long)]
    set: PathBuf,
    /// Simulations per move.
    #[arg(
        long,
        required_unless_present = "ms_per_move",
        conflicts_with = "ms_per_move"
    )]
    sims: Option<u64>,
    /// Wall-clock time per move in milliseconds, instead of a simulation count.
    #[arg(long)]
    ms_per_move: Option<f64>,
    /// Search threads (1 = the sequential search; more = tree parallelism).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Evaluate only the first N positions.
    #[arg(long)]
    limit: Option<usize>,
    /// Write a JSON summary here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Base seed (position i uses seed + i).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// UCB1 exploration constant.
    #[arg(long, default_value_t = UctConfig::default().exploration)]
    exploration: f64,
    /// Rollout policy.
    #[arg(long, value_enum, default_value_t = RolloutArg::Random)]
    rollout: RolloutArg,
    /// Final move rule.
    #[arg(long, value_enum, default_value_t = FinalArg::Visits)]
    final_move: FinalArg,
    /// Virtual loss weight for tree parallelism (0 = off).
    #[arg(long, default_value_t = ParallelConfig::default().virtual_loss)]
    virtual_loss: f64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let budget = match (args.sims, args.ms_per_move) {
        (Some(0), _) => bail!("--sims must be positive"),
        (Some(sims), _) => SearchBudget::Simulations(sims),
        (None, Some(ms)) if ms.is_finite() && ms > 0.0 && ms <= 3.6e6 => {
            SearchBudget::per_move(Duration::from_secs_f64(ms * 1e-3))
        }
        (None, Some(ms)) => bail!("--ms-per-move must be in (0, 3600000], got {ms}"),
        (None, None) => bail!("give --sims or --ms-per-move"),
    };
    let mut set = load_test_set(&args.set)?;
    if let Some(limit) = args.limit {
        set.truncate(limit);
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
    let rate = if positions > 0 {
        mistakes as f64 / positions as f64
    } else {
        0.0
    };
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
        simulations as f64 / positions.max(1) as f64,
        args.threads,
        search_s,
        started.elapsed().as_secs_f64()
    );
    if let Some(out) = &args.out {
        let json = serde_json::json!({
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
        std::fs::write(out, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
