//! Measures UCT simulations per second on Connect Four from the empty board.
//!
//! ```text
//! cargo run -p mcts --release --example speed -- [SIMS] [THREADS] [VIRTUAL_LOSS]
//! ```
//!
//! `THREADS = 0` runs the sequential search; otherwise the tree-parallel one.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use mcts::{Connect4, ParallelConfig, TreeParallelUct, Uct, UctConfig};
use par_cli::numbers::{count_in, float_in};

/// The most search threads the tree-parallel search takes.
const MAX_THREADS: usize = 1024;

/// UCT simulations per second on Connect Four from the empty board (seed 1).
#[derive(Debug, Parser)]
#[command(
    allow_negative_numbers = true,
    after_help = "Prints one line on standard output: threads, virtual loss, simulations per \
                  second of wall time and the tree's size. Writes no file."
)]
struct Args {
    /// Simulations of the search.
    #[arg(default_value_t = 500_000, value_parser = count_in(1, 1_000_000_000))]
    sims: usize,
    /// Search threads: 0 runs the sequential search, 1 or more the tree-parallel one (at most
    /// 1024).
    #[arg(default_value_t = 0, value_parser = count_in(0, MAX_THREADS))]
    threads: usize,
    /// Virtual loss weight of the tree-parallel search (0 turns it off; at most 1000).
    #[arg(default_value_t = 1.0, value_parser = float_in(0.0, 1000.0))]
    virtual_loss: f64,
}

fn main() -> ExitCode {
    par_cli::main_with(|| {
        let Args {
            sims,
            threads,
            virtual_loss: vl,
        } = Args::parse();
        let sims = sims as u64;
        let config = UctConfig {
            seed: 1,
            ..UctConfig::default()
        };
        let parallel = ParallelConfig {
            threads: threads.max(1),
            virtual_loss: vl,
        };
        let bytes = if threads == 0 {
            Uct::<Connect4>::arena_bytes(&config, sims)
        } else {
            TreeParallelUct::<Connect4>::arena_bytes(&config, &parallel, sims)
        };
        par_cli::memory::ensure_fits(&format!("the search tree of {sims} simulations"), bytes)?;
        let t = Instant::now();
        let nodes = if threads == 0 {
            let mut seq = Uct::new(config, Connect4::new())?;
            seq.search(sims);
            seq.tree_size()
        } else {
            let mut p = TreeParallelUct::new(config, parallel, Connect4::new())?;
            p.search(sims);
            p.tree_size()
        };
        let s = t.elapsed().as_secs_f64();
        println!(
            "threads {threads} vl {vl}: {:.0} sims/s wall ({nodes} nodes)",
            sims as f64 / s
        );
        Ok(())
    })
}
