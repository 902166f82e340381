//! Play Connect Four against the UCT engine in the terminal.
//!
//! ```text
//! cargo run -p mcts --release --example play -- [--sims 100000] [--threads 2] [--engine-first]
//! ```
//!
//! Type a column (1-7) and Enter. The engine keeps its tree between moves (tree reuse) and
//! says how many simulations it ran and how it rates the position.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use mcts::{Connect4, Game, ParallelConfig, TreeParallelUct, UctConfig};
use par_cli::numbers::{count_in, seed};

/// Connect Four against pure MCTS: type a column (1-7) and Enter.
#[derive(Debug, Parser)]
#[command(
    allow_negative_numbers = true,
    after_help = "Reads your moves from standard input (a closed input abandons the game) and \
                  prints the board and the engine's moves on standard output. Writes no file."
)]
struct Args {
    /// Simulations per engine move.
    #[arg(long, default_value_t = 100_000, value_parser = count_in(1, 1_000_000_000))]
    sims: usize,
    /// Search threads (tree parallelism with virtual loss 1; at most 1024).
    #[arg(long, default_value_t = 1, value_parser = count_in(1, 1024))]
    threads: usize,
    /// Let the engine play the first stone.
    #[arg(long)]
    engine_first: bool,
    /// Seed of the engine.
    #[arg(long, default_value_t = 0, value_parser = seed)]
    seed: u64,
}

fn main() -> ExitCode {
    par_cli::main_with(|| play(Args::parse()))
}

fn play(args: Args) -> Result<()> {
    let config = UctConfig {
        seed: args.seed,
        ..UctConfig::default()
    };
    let parallel = ParallelConfig {
        threads: args.threads,
        virtual_loss: 1.0,
    };
    let sims = args.sims as u64;
    par_cli::memory::ensure_fits(
        &format!("the search tree of {sims} simulations per move (--sims)"),
        TreeParallelUct::<Connect4>::arena_bytes(&config, &parallel, sims),
    )?;
    let mut engine = TreeParallelUct::new(config, parallel, Connect4::new())?;
    let engine_player = if args.engine_first { 0 } else { 1 };
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        let state = *engine.root_state();
        println!("\n{}\n", state.position());
        if state.is_terminal() {
            if state.last_move_won() {
                let winner = 1 - state.current_player();
                println!(
                    "{} wins.",
                    if winner == engine_player {
                        "The engine"
                    } else {
                        "You"
                    }
                );
            } else {
                println!("Draw.");
            }
            return Ok(());
        }
        let action = if state.current_player() == engine_player {
            let summary = engine.search(sims);
            let action = summary.best_action.context("engine found no move")?;
            let value = engine
                .root_children()
                .iter()
                .find(|c| c.action == action)
                .map_or(0.0, |c| c.mean_value);
            println!(
                "engine plays {} after {} simulations (tree {} nodes, value {value:+.2})",
                action + 1,
                engine.root_visits(),
                summary.nodes
            );
            action
        } else {
            print!("your move (1-7): ");
            std::io::stdout().flush()?;
            let Some(line) = lines.next() else {
                println!("\ninput closed, game abandoned");
                return Ok(());
            };
            let line = line?;
            match line.trim().parse::<u16>() {
                Ok(col @ 1..=7) if state.position().can_play(col as usize - 1) => col - 1,
                _ => {
                    println!("`{}` is not a playable column", line.trim());
                    continue;
                }
            }
        };
        engine.advance(action)?;
    }
}
