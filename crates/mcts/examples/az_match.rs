//! Plays a trained AlphaZero network against pure MCTS (UCT) on Connect Four.
//!
//! ```text
//! cargo run -p mcts --release --example az_match -- --checkpoint DIR/checkpoint.bin
//!     [--games 200] [--az-sims 200] [--uct-sims 200] [--leaf-batch 8] [--c-puct 1.5]
//!     [--seed 0]
//! ```
//!
//! Colours alternate; the score counts a draw as half a win. Without `--checkpoint` it plays
//! an untrained network (the baseline).

use std::path::PathBuf;

use clap::Parser;
use mcts::alphazero::train::{MatchConfig, match_vs_uct};
use mcts::alphazero::{Checkpoint, Mlp, NetShape, PuctConfig};
use mcts::{Connect4, Encode};

#[derive(Parser, Debug)]
#[command(about = "AlphaZero against UCT on Connect Four")]
struct Args {
    /// Checkpoint written by `az_train` (none: an untrained 256-256 network).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Games (colours alternated).
    #[arg(long, default_value_t = 200)]
    games: usize,
    /// AlphaZero simulations per move.
    #[arg(long, default_value_t = 200)]
    az_sims: u64,
    /// UCT simulations per move.
    #[arg(long, default_value_t = 200)]
    uct_sims: u64,
    /// Leaves per network call.
    #[arg(long, default_value_t = 8)]
    leaf_batch: usize,
    /// PUCT exploration constant.
    #[arg(long, default_value_t = 1.5)]
    c_puct: f64,
    /// Seed of the UCT searches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let net = match &args.checkpoint {
        Some(path) => {
            let c = Checkpoint::load(path)?;
            println!("checkpoint {}: {}", path.display(), c.provenance());
            c.net
        }
        None => Mlp::new(
            NetShape {
                input: Connect4::INPUT_LEN,
                hidden: vec![256, 256],
                actions: 7,
            },
            0,
        )?,
    };
    let t = std::time::Instant::now();
    let r = match_vs_uct(
        &net,
        &MatchConfig {
            games: args.games,
            az: PuctConfig {
                leaf_batch: args.leaf_batch,
                c_puct: args.c_puct,
                ..PuctConfig::default()
            },
            az_sims: args.az_sims,
            uct_sims: args.uct_sims,
            seed: args.seed,
            ..MatchConfig::default()
        },
    )?;
    println!(
        "AlphaZero {} sims vs UCT {} sims: {} wins, {} draws, {} losses of {} (score {:.3}, a \
         draw counting half; {:.1} s)",
        args.az_sims,
        args.uct_sims,
        r.wins,
        r.draws,
        r.losses,
        r.games,
        r.score(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
