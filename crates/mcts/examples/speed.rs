//! Measures UCT simulations per second on Connect Four from the empty board.
//!
//! ```text
//! cargo run -p mcts --release --example speed -- [SIMS] [THREADS] [VIRTUAL_LOSS]
//! ```
//!
//! `THREADS = 0` runs the sequential search; otherwise the tree-parallel one.

use std::time::Instant;

use mcts::{Connect4, ParallelConfig, TreeParallelUct, Uct, UctConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let sims: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(500_000);
    let threads: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let vl: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let config = UctConfig {
        seed: 1,
        ..UctConfig::default()
    };
    let t = Instant::now();
    let nodes = if threads == 0 {
        let mut seq = Uct::new(config, Connect4::new()).expect("valid config");
        seq.search(sims);
        seq.tree_size()
    } else {
        let par = ParallelConfig {
            threads,
            virtual_loss: vl,
        };
        let mut p = TreeParallelUct::new(config, par, Connect4::new()).expect("valid config");
        p.search(sims);
        p.tree_size()
    };
    let s = t.elapsed().as_secs_f64();
    println!(
        "threads {threads} vl {vl}: {:.0} sims/s wall ({nodes} nodes)",
        sims as f64 / s
    );
}
