//! Plays a trained AlphaZero network against pure MCTS (UCT) on Connect Four.
//!
//! ```text
//! cargo run -p mcts --release --example az_match -- --checkpoint DIR/checkpoint.bin
//!     [--games 200] [--az-sims 200] [--uct-sims 200] [--leaf-batch 8] [--c-puct 1.5]
//!     [--seed 0] [--out match.json]
//! ```
//!
//! Colours alternate; the score counts a draw as half a win. Without `--checkpoint` it plays
//! an untrained network (the baseline).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use mcts::alphazero::train::{MatchConfig, match_vs_uct};
use mcts::alphazero::{Checkpoint, Mlp, NetShape, PuctConfig};
use mcts::{Connect4, Encode};
use par_cli::RunRecord;
use par_cli::numbers::{count_in, float_in, seed};

/// AlphaZero against UCT on Connect Four.
#[derive(Parser, Debug)]
#[command(
    allow_negative_numbers = true,
    after_help = "Prints the result on standard output; with --out, also writes a JSON file \
                  {\"run\": {tool, version, provenance, machine, config, seed, inputs, timings}, \
                  \"checkpoint\", \"games\", \"wins\", \"draws\", \"losses\", \"score\", \
                  \"seconds\"}."
)]
struct Args {
    /// Checkpoint written by `az_train` (its checkpoint.bin) [default: an untrained 256-256
    /// network].
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Games (colours alternated).
    #[arg(long, default_value_t = 200, value_parser = count_in(1, 1_000_000))]
    games: usize,
    /// AlphaZero simulations per move.
    #[arg(long, default_value_t = 200, value_parser = count_in(1, 10_000_000))]
    az_sims: usize,
    /// UCT simulations per move.
    #[arg(long, default_value_t = 200, value_parser = count_in(1, 10_000_000))]
    uct_sims: usize,
    /// Leaves per network call.
    #[arg(long, default_value_t = 8, value_parser = count_in(1, 4096))]
    leaf_batch: usize,
    /// PUCT exploration constant (> 0, at most 100).
    #[arg(long, default_value_t = 1.5, value_parser = float_in(1e-9, 100.0))]
    c_puct: f64,
    /// Seed of the searches (game k uses seed + k).
    #[arg(long, default_value_t = 0, value_parser = seed)]
    seed: u64,
    /// Also write the result and the run's description to this JSON file (checked writable
    /// before the first game).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    par_cli::main_with(|| {
        let args = Args::parse();
        if let Some(out) = &args.out {
            par_cli::output_files::check_writable(out)?;
        }
        let mut record = RunRecord::start(
            "mcts az_match",
            env!("CARGO_PKG_VERSION"),
            env!("CARGO_MANIFEST_DIR"),
        );
        let (net, provenance) = match &args.checkpoint {
            Some(path) => {
                let c = Checkpoint::load(path)?;
                record.add_input(path)?;
                let provenance = c.provenance();
                println!("checkpoint {}: {provenance}", path.display());
                (c.net, provenance)
            }
            None => (
                Mlp::new(
                    NetShape {
                        input: Connect4::INPUT_LEN,
                        hidden: vec![256, 256],
                        actions: 7,
                    },
                    0,
                )?,
                "an untrained 256-256 network (seed 0)".to_string(),
            ),
        };
        let config = MatchConfig {
            games: args.games,
            az: PuctConfig {
                leaf_batch: args.leaf_batch,
                c_puct: args.c_puct,
                ..PuctConfig::default()
            },
            az_sims: args.az_sims as u64,
            uct_sims: args.uct_sims as u64,
            seed: args.seed,
            ..MatchConfig::default()
        };
        record.seed = Some(args.seed);
        record.set_config(&config);
        let t = std::time::Instant::now();
        let r = match_vs_uct(&net, &config)?;
        let seconds = t.elapsed().as_secs_f64();
        println!(
            "AlphaZero {} sims vs UCT {} sims: {} wins, {} draws, {} losses of {} (score {:.3}, \
             a draw counting half; {seconds:.1} s)",
            args.az_sims,
            args.uct_sims,
            r.wins,
            r.draws,
            r.losses,
            r.games,
            r.score(),
        );
        if let Some(out) = &args.out {
            record.finish();
            let json = serde_json::json!({
                "run": record, "checkpoint": provenance, "games": r.games, "wins": r.wins,
                "draws": r.draws, "losses": r.losses, "score": r.score(), "seconds": seconds,
            });
            par_cli::output_files::write_json(out, &json)
                .with_context(|| format!("writing the result to {}", out.display()))?;
        }
        Ok(())
    })
}
