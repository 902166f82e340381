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
//!
//! Positions are the tasks of a par-core run (`mcts::test_set::PonsJob`): `--mode` and
//! `--workers` choose how many are searched at once and where (threads, worker processes, the
//! ranks of an MPI job); `--threads` is the tree-parallel search of each one. With a
//! simulation budget and `--threads 1` the moves, and so the mistake rate, are the same in
//! every mode. On MPI (build with `--features mpi`; rank 0 alone prints and writes):
//!
//! ```text
//! mpirun -np 4 target/release/examples/pons --mode mpi --workers 1 \
//!     --set ../shared/connect4/Test_L2_R1 --sims 10000 --out pons.json
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use mcts::test_set::{PonsJob, SearchBudget};
use mcts::{
    Connect4, FinalMove, ParallelConfig, Rollout, TreeParallelUct, Uct, UctConfig, load_test_set,
};
use par_cli::numbers::{count_in, float_in, seed};
use par_cli::output_files::check_writable_on_root;
use par_cli::{ExecArgs, RunRecord};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor};

/// The memory of one exact solver (its transposition table).
const SOLVER_BYTES: u128 = 45 << 20;

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
                  \"simulations\", \"threads\", \"mode\", \"seconds\", \"total_seconds\", \
                  \"exploration\", \"rollout\", \"final_move\", \"virtual_loss\"}."
)]
struct Args {
    #[command(flatten)]
    exec: ExecArgs,
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
    serve_if_worker(&Registry::new().with::<PonsJob>());
    par_cli::main_with(|| pons(Args::parse()))
}

fn pons(args: Args) -> Result<()> {
    // The executor first: with --mode mpi it starts MPI, and only rank 0 prints and writes.
    let exec = Executor::new(ExecConfig {
        label: "positions".into(),
        ..args.exec.exec_config(args.seed)
    })?;
    let root = par_core::mpi::is_root();
    let outputs: Vec<PathBuf> = args.out.iter().cloned().collect();
    check_writable_on_root(&exec, &[], &outputs)?;
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
    // One search tree per position searched at once, and one solver (40 MB) per worker.
    let at_once = exec.config().mode.workers().min(set.len()) as u128;
    let tree = if args.threads == 1 {
        Uct::<Connect4>::arena_bytes(&base, max_sims)
    } else {
        TreeParallelUct::<Connect4>::arena_bytes(&base, &parallel, max_sims)
    };
    par_cli::memory::ensure_fits(
        &format!("{at_once} search tree(s) of {max_sims} simulations per move and their solvers"),
        tree.saturating_add(SOLVER_BYTES).saturating_mul(at_once),
    )?;
    record.seed = Some(args.seed);
    record.set_config(&serde_json::json!({
        "uct": &base, "parallel": &parallel, "sims": args.sims, "ms_per_move": args.ms_per_move,
        "limit": args.limit, "mode": exec.config().mode.to_string(),
    }));
    let started = Instant::now();
    // Position i is searched with seed `seed + i` and judged by the solver, as a task.
    let base = UctConfig {
        seed: args.seed,
        ..base
    };
    let (count, _) = PonsJob::new(&set, base, parallel, budget).run_on(&exec)?;
    let (mistakes, search_s, simulations) =
        (count.mistakes, count.search_seconds, count.simulations);
    if !root {
        return Ok(());
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
            "mode": exec.config().mode.to_string(),
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
