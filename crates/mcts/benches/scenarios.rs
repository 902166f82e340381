//! Scenario `mcts` for `cargo xtask bench`: UCT speed, tree-parallel scaling, the Pons mistake
//! rate (at fixed simulation counts and at a fixed wall-clock time per move), and AlphaZero.
//!
//! ```text
//! cargo bench -p mcts --bench scenarios -- [--full] [--workers 1,2,4] [--out DIR]
//! ```
//!
//! Every timing goes through par-core's one helper (`par_core::bench::Interleave`): the
//! compared searches alternate within each repetition, the headline is the median, min and max
//! beside it, and speed-ups and efficiencies are medians of per-repetition paired ratios. The
//! metrics and their targets are declared once, in [`TARGETS`]. Speeds are given per CPU second
//! (process CPU time, all threads) and per wall second: on a shared machine the wall figures
//! also measure the other processes. The Pons metrics need `../shared/connect4` beside the
//! workspace (or `MCTS_CONNECT4_DIR`); without it they are listed as not measured.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use mcts::test_set::{JudgedPosition, SearchBudget, uct_mistakes};
use mcts::{
    Connect4, ParallelConfig, RootParallelUct, Solver, TreeParallelUct, Uct, UctConfig,
    load_test_set,
};
use par_core::bench::{
    Better, Declared, Interleave, Interleaved, Metric, Plot, ScenarioError, ScenarioRun, Series,
    Stats, Table, load_average, process_cpu_seconds, run_scenario, time_with_cpu,
};
use par_core::{ExecConfig, Executor, Mode, Progress};

#[path = "scenarios/az.rs"]
mod az;

/// The metrics this scenario promises, with the targets of the mcts issues.
const TARGETS: &[Declared] = &[
    Declared::new(
        "uct_sims_per_sec_core",
        "1/s",
        Better::Higher,
        "sequential UCT on Connect Four from the empty board, simulations per CPU second",
    )
    .target(1e6),
    Declared::new(
        "uct_sims_per_sec_wall",
        "1/s",
        Better::Higher,
        "the same per wall second",
    ),
    Declared::new(
        "tree_parallel_efficiency_2t",
        "ratio",
        Better::Higher,
        "tree-parallel UCT at 2 threads over 1 thread, virtual loss 1, wall time / 2 (median of \
         per-repetition paired ratios)",
    )
    .target(0.85),
    Declared::new(
        "tree_parallel_speedup_vs_sequential_2t",
        "x",
        Better::Higher,
        "tree-parallel UCT at 2 threads against the sequential search of the same size, wall \
         time (median of paired ratios)",
    ),
    Declared::new(
        "tree_parallel_efficiency_2t_no_vl",
        "ratio",
        Better::Higher,
        "tree_parallel_efficiency_2t with virtual loss 0",
    ),
    Declared::new(
        "tree_parallel_cpu_efficiency_2t",
        "ratio",
        Better::Higher,
        "simulations per CPU second at 2 threads over 1 thread, virtual loss 1: the cost of \
         sharing the tree, apart from the cores other processes take",
    ),
    Declared::new(
        "tree_parallel_cpu_efficiency_2t_no_vl",
        "ratio",
        Better::Higher,
        "the same with virtual loss 0",
    ),
    Declared::new(
        "tree_parallel_1t_vs_sequential",
        "ratio",
        Better::Higher,
        "the one-thread atomic tree against the sequential search, per CPU second",
    ),
    Declared::new(
        "independent_trees_efficiency_2t",
        "ratio",
        Better::Higher,
        "two one-thread tree searches of the full size at once on 2 workers against one alone: \
         the most 2 threads of this machine give at the time, with the memory traffic of two trees",
    ),
    Declared::new(
        "root_parallel_efficiency_2t",
        "ratio",
        Better::Higher,
        "root parallelism (independent half-size trees as par-core tasks), 2 workers over 1",
    ),
    Declared::new(
        "tree_vs_root_parallel_speedup_2t",
        "ratio",
        Better::Higher,
        "per repetition, the tree-parallel speed-up at 2 threads over the root-parallel one \
         measured beside it (median)",
    ),
    Declared::new(
        "pons_mistake_rate_l3r1_10k",
        "ratio",
        Better::Lower,
        "UCT at 10k simulations, mistake rate on Test_L3_R1",
    )
    .target(0.01),
    Declared::new(
        "pons_mistake_rate_l2r1_10k",
        "ratio",
        Better::Lower,
        "UCT at 10k simulations, mistake rate on Test_L2_R1",
    )
    .target(0.02),
    Declared::new(
        "pons_mistake_rate_l3r1_1k",
        "ratio",
        Better::Lower,
        "UCT at 1k simulations on Test_L3_R1",
    ),
    Declared::new(
        "pons_mistake_rate_l2r1_1k",
        "ratio",
        Better::Lower,
        "UCT at 1k simulations on Test_L2_R1",
    ),
    Declared::new(
        "pons_mistake_rate_l3r1_10k_2t",
        "ratio",
        Better::Lower,
        "tree-parallel UCT, 2 threads, 10k simulations, on Test_L3_R1",
    ),
    Declared::new(
        "pons_mistake_rate_l2r1_10k_2t",
        "ratio",
        Better::Lower,
        "tree-parallel UCT, 2 threads, 10k simulations, on Test_L2_R1",
    ),
    Declared::new(
        "pons_mistake_rate_l3r1_1k_2t",
        "ratio",
        Better::Lower,
        "tree-parallel UCT, 2 threads, 1k simulations, on Test_L3_R1",
    ),
    Declared::new(
        "pons_mistake_rate_l2r1_1k_2t",
        "ratio",
        Better::Lower,
        "tree-parallel UCT, 2 threads, 1k simulations, on Test_L2_R1",
    ),
    Declared::new(
        "pons_mistake_rate_l3r1_fixed_time_1t",
        "ratio",
        Better::Lower,
        "sequential UCT at 0.1 ms of wall-clock time per move, on Test_L3_R1",
    ),
    Declared::new(
        "pons_mistake_rate_l3r1_fixed_time_2t",
        "ratio",
        Better::Lower,
        "tree-parallel UCT on 2 threads at the same 0.1 ms per move, on Test_L3_R1: the quality \
         the second core buys",
    ),
    Declared::new(
        "pons_mistake_rate_l2r1_fixed_time_1t",
        "ratio",
        Better::Lower,
        "sequential UCT at 0.1 ms of wall-clock time per move, on Test_L2_R1",
    ),
    Declared::new(
        "pons_mistake_rate_l2r1_fixed_time_2t",
        "ratio",
        Better::Lower,
        "tree-parallel UCT on 2 threads at the same 0.1 ms per move, on Test_L2_R1",
    ),
    Declared::new(
        "az_evals_per_sec_batch_1",
        "1/s",
        Better::Higher,
        "forward passes of the 84-256-256-(7+1) MLP per CPU second, batch 1",
    ),
    Declared::new(
        "az_evals_per_sec_batch_8",
        "1/s",
        Better::Higher,
        "the same, batch 8",
    ),
    Declared::new(
        "az_evals_per_sec_batch_32",
        "1/s",
        Better::Higher,
        "the same, batch 32",
    ),
    Declared::new(
        "az_evals_per_sec_batch_128",
        "1/s",
        Better::Higher,
        "the same, batch 128",
    ),
    Declared::new(
        "az_adam_steps_per_sec_batch_256",
        "1/s",
        Better::Higher,
        "loss, gradient and Adam update on one training batch of 256, per CPU second",
    ),
    Declared::new(
        "az_search_sims_per_sec_leaf_batch_1",
        "1/s",
        Better::Higher,
        "PUCT simulations per CPU second from the empty board, leaf batch 1",
    ),
    Declared::new(
        "az_search_sims_per_sec_leaf_batch_8",
        "1/s",
        Better::Higher,
        "the same, leaf batch 8",
    ),
    Declared::new(
        "az_search_sims_per_sec_leaf_batch_32",
        "1/s",
        Better::Higher,
        "the same, leaf batch 32",
    ),
    Declared::new(
        "az_selfplay_games_per_sec_1w",
        "1/s",
        Better::Higher,
        "self-play games per wall second, 1 worker",
    ),
    Declared::new(
        "az_selfplay_games_per_sec_2w",
        "1/s",
        Better::Higher,
        "self-play games per wall second, 2 workers each running the network",
    ),
    Declared::new(
        "az_selfplay_games_per_sec_2w_shared_thread",
        "1/s",
        Better::Higher,
        "self-play games per wall second, 2 workers sharing one network thread",
    ),
    Declared::new(
        "az_win_rate_vs_uct_200",
        "ratio",
        Better::Higher,
        "score of a trained network (PUCT, 200 simulations) against UCT with 200 simulations",
    )
    .target(0.75),
    Declared::new(
        "az_mistake_rate_l3r1_untrained",
        "ratio",
        Better::Lower,
        "PUCT at 200 simulations with the untrained network, Test_L3_R1",
    ),
    Declared::new(
        "az_mistake_rate_l3r1",
        "ratio",
        Better::Lower,
        "PUCT at 200 simulations with the trained network, Test_L3_R1",
    ),
    Declared::new(
        "az_mistake_rate_l2r1_untrained",
        "ratio",
        Better::Lower,
        "PUCT at 200 simulations with the untrained network, Test_L2_R1",
    ),
    Declared::new(
        "az_mistake_rate_l2r1",
        "ratio",
        Better::Lower,
        "PUCT at 200 simulations with the trained network, Test_L2_R1",
    ),
    Declared::new(
        "az_fast_mistake_rate_l3r1_untrained",
        "ratio",
        Better::Lower,
        "PUCT at 25 simulations with the untrained network, Test_L3_R1",
    ),
    Declared::new(
        "az_fast_mistake_rate_l3r1",
        "ratio",
        Better::Lower,
        "PUCT at 25 simulations with the trained network, Test_L3_R1",
    ),
    Declared::new(
        "az_fast_mistake_rate_l2r1_untrained",
        "ratio",
        Better::Lower,
        "PUCT at 25 simulations with the untrained network, Test_L2_R1",
    ),
    Declared::new(
        "az_fast_mistake_rate_l2r1",
        "ratio",
        Better::Lower,
        "PUCT at 25 simulations with the trained network, Test_L2_R1",
    ),
    Declared::new(
        "az_policy_mistake_rate_l3r1_untrained",
        "ratio",
        Better::Lower,
        "the untrained network alone (legal column of highest prior), Test_L3_R1",
    ),
    Declared::new(
        "az_policy_mistake_rate_l3r1",
        "ratio",
        Better::Lower,
        "the trained network alone, Test_L3_R1",
    ),
    Declared::new(
        "az_policy_mistake_rate_l2r1_untrained",
        "ratio",
        Better::Lower,
        "the untrained network alone, Test_L2_R1",
    ),
    Declared::new(
        "az_policy_mistake_rate_l2r1",
        "ratio",
        Better::Lower,
        "the trained network alone, Test_L2_R1",
    ),
];

fn main() -> ExitCode {
    run_scenario("mcts", TARGETS, |run| {
        sequential_speed(run);
        run.checkpoint();
        tree_parallel(run)?;
        run.checkpoint();
        pons(run)?;
        run.checkpoint();
        az::run(run)
    })
}

/// The CPU time of the process so far (NaN where the platform does not say: the rate is then
/// not measured rather than wrong).
fn cpu_now() -> f64 {
    process_cpu_seconds().unwrap_or(f64::NAN)
}

/// Runs `f` and returns its wall and CPU seconds.
fn wall_and_cpu(f: impl FnOnce()) -> (f64, f64) {
    let ((), wall, cpu) = time_with_cpu(f);
    (wall, cpu)
}

/// A par-core thread pool of `workers` workers with no progress bar.
fn executor(workers: usize) -> Result<Executor, par_core::ExecError> {
    Executor::new(ExecConfig {
        mode: Mode::Threads { workers },
        progress: Progress::Hidden,
        ..ExecConfig::default()
    })
}

/// `searches` searches of `sims` simulations from the empty board, seeds `first_seed..`,
/// sequential (`threads` `None`) or tree-parallel.
fn search_from_empty_board(
    searches: u64,
    sims: u64,
    threads: Option<&ParallelConfig>,
    first_seed: u64,
) {
    for seed in first_seed..first_seed + searches {
        let config = UctConfig {
            seed,
            ..UctConfig::default()
        };
        match threads {
            None => {
                Uct::new(config, Connect4::new())
                    .expect("valid config")
                    .search(sims);
            }
            Some(par) => {
                TreeParallelUct::new(config, par.clone(), Connect4::new())
                    .expect("valid config")
                    .search(sims);
            }
        }
    }
}

/// Part 1: sequential UCT speed on Connect Four from the empty board.
fn sequential_speed(run: &mut ScenarioRun) {
    let quick = run.quick();
    let (searches, sims) = if quick { (10, 100_000) } else { (20, 250_000) };
    let reps = if quick { 5 } else { 7 };
    let total = (searches * sims) as f64;
    let walls = RefCell::new(Vec::new());
    let cpu_rates = Interleave::new(reps)
        .sampled("sequential", || {
            let (wall, cpu) = wall_and_cpu(|| search_from_empty_board(searches, sims, None, 0));
            walls.borrow_mut().push(total / wall);
            total / cpu
        })
        .run();
    let workload = format!("{searches} searches of {sims} simulations from the empty board");
    let core = Stats::from_samples(cpu_rates.samples("sequential"));
    let wall = Stats::from_samples(&walls.borrow());
    let report = &mut run.report;
    for (name, stats) in [
        ("uct_sims_per_sec_core", core),
        ("uct_sims_per_sec_wall", wall),
    ] {
        match stats {
            Some(s) => report
                .push(Metric::from_stats(name, s, "1/s", Better::Higher).with_workload(&workload)),
            None => report.not_measured(name, "the process CPU clock could not be read"),
        }
    }
    report.notes.push(format!(
        "uct_sims_per_sec_core: sequential UCT, random rollouts, {workload}, per second of \
         process CPU time (uct_sims_per_sec_wall: per wall second), median of {reps} \
         repetitions. Load average before the tree-parallel part: {}.",
        load_average()
    ));
}

/// The name of the tree-parallel variant with `threads` threads and virtual loss `vl`.
fn tree(threads: usize, vl: f64) -> String {
    format!("tree_{threads}t_vl{vl}")
}

/// Part 2: tree parallelism against one thread, the sequential search, independent trees and
/// root parallelism, all in interleaved repetitions.
fn tree_parallel(run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let quick = run.quick();
    let mut workers = run.args.workers.clone();
    workers.extend([1, 2]);
    workers.sort_unstable();
    workers.dedup();
    let (searches, sims) = if quick { (4, 200_000) } else { (10, 500_000) };
    let reps = if quick { 7 } else { 9 };
    let exec1 = executor(1)?;
    let exec2 = executor(2)?;
    // CPU seconds of each variant in each repetition, beside the wall times the helper keeps.
    let cpu: RefCell<HashMap<String, Vec<f64>>> = RefCell::new(HashMap::new());
    let record = |name: &str, (wall, c): (f64, f64)| {
        cpu.borrow_mut()
            .entry(name.to_string())
            .or_default()
            .push(c);
        wall
    };
    let root = |exec: &Executor| {
        for seed in 0..searches {
            let config = UctConfig {
                seed,
                ..UctConfig::default()
            };
            RootParallelUct::new(config, 2, Connect4::new())
                .expect("valid config")
                .search(exec, sims / 2)
                .expect("root-parallel search");
        }
    };
    let one_thread = ParallelConfig {
        threads: 1,
        virtual_loss: 1.0,
    };
    let mut measure = Interleave::new(reps)
        .sampled("root_1w", || {
            record("root_1w", wall_and_cpu(|| root(&exec1)))
        })
        .sampled("root_2w", || {
            record("root_2w", wall_and_cpu(|| root(&exec2)))
        })
        .sampled("sequential", || {
            let t = wall_and_cpu(|| search_from_empty_board(searches, sims, None, 0));
            record("sequential", t)
        })
        .sampled("independent_2x1t", || {
            // Two one-thread tree searches of the full size at once, as par-core tasks.
            let t = wall_and_cpu(|| {
                exec2
                    .map(2, |ctx| {
                        let first = 1000 * ctx.index as u64;
                        search_from_empty_board(searches, sims, Some(&one_thread), first);
                    })
                    .expect("independent searches")
                    .into_values()
                    .expect("independent searches");
            });
            record("independent_2x1t", t)
        });
    for vl in [1.0f64, 0.0] {
        for &w in &workers {
            let name = tree(w, vl);
            let par = ParallelConfig {
                threads: w,
                virtual_loss: vl,
            };
            let record = &record;
            measure = measure.sampled(name.clone(), move || {
                let t = wall_and_cpu(|| search_from_empty_board(searches, sims, Some(&par), 0));
                record(&name, t)
            });
        }
    }
    let runs = measure.run();
    let cpu_runs = Interleaved::from_samples(
        runs.names()
            .iter()
            .map(|n| (n.clone(), cpu.borrow()[n].clone()))
            .collect(),
    );
    let workload = format!(
        "{searches} searches of {sims} simulations from the empty board, {reps} interleaved \
         repetitions"
    );
    let (t1, t2) = (tree(1, 1.0), tree(2, 1.0));
    let report = &mut run.report;
    let with = |m: Metric| m.with_workload(&workload);
    report.push(with(Metric::efficiency(
        "tree_parallel_efficiency_2t",
        runs.efficiency(&t1, &t2, 2),
    )));
    report.push(with(Metric::speedup(
        "tree_parallel_speedup_vs_sequential_2t",
        runs.speedup("sequential", &t2),
        2,
    )));
    report.push(with(Metric::efficiency(
        "tree_parallel_efficiency_2t_no_vl",
        runs.efficiency(&tree(1, 0.0), &tree(2, 0.0), 2),
    )));
    // Same simulations: CPU efficiency = CPU time at 1 thread / CPU time at 2 threads.
    report.push(with(Metric::efficiency(
        "tree_parallel_cpu_efficiency_2t",
        cpu_runs.ratio(&t1, &t2),
    )));
    report.push(with(Metric::efficiency(
        "tree_parallel_cpu_efficiency_2t_no_vl",
        cpu_runs.ratio(&tree(1, 0.0), &tree(2, 0.0)),
    )));
    report.push(with(Metric::from_stats(
        "tree_parallel_1t_vs_sequential",
        cpu_runs.ratio("sequential", &t1),
        "ratio",
        Better::Higher,
    )));
    // Twice the simulations on 2 workers: efficiency = t(1 thread) / t(both at once).
    report.push(with(Metric::efficiency(
        "independent_trees_efficiency_2t",
        runs.ratio(&t1, "independent_2x1t"),
    )));
    report.push(with(Metric::efficiency(
        "root_parallel_efficiency_2t",
        runs.efficiency("root_1w", "root_2w", 2),
    )));
    let paired: Vec<f64> = (0..reps)
        .map(|r| {
            let s = |n: &str| runs.samples(n)[r];
            (s(&t1) / s(&t2)) / (s("root_1w") / s("root_2w"))
        })
        .collect();
    if let Some(stats) = Stats::from_samples(&paired) {
        report.push(with(Metric::from_stats(
            "tree_vs_root_parallel_speedup_2t",
            stats,
            "ratio",
            Better::Higher,
        )));
    }

    // The plot and the table: medians of the paired speed-ups and of the rates.
    let mut plot = Plot {
        name: "tree_parallel_speedup".into(),
        title: "Tree-parallel UCT on Connect Four: speed-up over one thread (wall time, median \
                of paired repetitions)"
            .into(),
        x_label: "threads".into(),
        y_label: "speed-up".into(),
        log_x: false,
        log_y: false,
        series: Vec::new(),
    };
    let total = (searches * sims) as f64;
    let mut rows = Vec::new();
    let mut row = |search: String, threads: &str, vl: &str, name: &str, sims: f64| {
        let (wall, c) = (runs.stats(name), cpu_runs.stats(name));
        rows.push(vec![
            search,
            threads.to_string(),
            vl.to_string(),
            format!("{:.0}", sims / wall.median),
            format!("{:.0}", sims / wall.max),
            format!("{:.0}", sims / wall.min),
            format!("{:.0}", sims / c.median),
            format!("{:.2}", c.median / wall.median),
        ]);
    };
    row("sequential".into(), "1", "-", "sequential", total);
    for vl in [1.0f64, 0.0] {
        let mut points = Vec::new();
        for &w in &workers {
            points.push((w as f64, runs.speedup(&tree(1, vl), &tree(w, vl)).median));
            row(
                "tree-parallel".into(),
                &w.to_string(),
                &vl.to_string(),
                &tree(w, vl),
                total,
            );
        }
        plot.series.push(Series {
            label: format!("virtual loss {vl}"),
            points,
        });
    }
    plot.series.push(Series {
        label: "ideal".into(),
        points: workers.iter().map(|&w| (w as f64, w as f64)).collect(),
    });
    row(
        "2 independent 1-thread tree searches at once".into(),
        "2",
        "1",
        "independent_2x1t",
        2.0 * total,
    );
    row("root-parallel, 2 trees".into(), "1", "-", "root_1w", total);
    row("root-parallel, 2 trees".into(), "2", "-", "root_2w", total);
    report.plots.push(plot);
    report.tables.push(Table {
        title: format!(
            "UCT simulations per second on Connect Four (empty board, {searches} searches of \
             {sims} simulations; medians of {reps} interleaved repetitions)"
        ),
        header: [
            "search",
            "threads",
            "virtual loss",
            "sims/s (wall, median)",
            "min",
            "max",
            "sims/s (CPU, median)",
            "cores used",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    report.notes.push(format!(
        "tree_parallel_*: in each of {reps} repetitions every variant ran once, in an order \
         rotated from one repetition to the next ({workload}); each efficiency and speed-up is \
         the median of the per-repetition paired ratios, min and max beside it. \
         tree_parallel_efficiency_2t: wall-time speed-up of 2 threads over 1 thread of the same \
         tree-parallel search, virtual loss 1, over 2 (`_no_vl`: virtual loss 0; `cpu_` \
         variants: per CPU second, which isolates the cost of sharing the tree from the cores \
         other processes take). tree_parallel_speedup_vs_sequential_2t: 2 threads against the \
         sequential search. independent_trees_efficiency_2t: two one-thread searches of the \
         full size at once on 2 worker threads, sharing nothing but the machine: the \
         yardstick of what two threads get on this host at the time. \
         root_parallel_efficiency_2t: root parallelism, 2 trees of half the simulations as \
         par-core tasks on 2 workers against 1. tree_vs_root_parallel_speedup_2t: per \
         repetition the tree-parallel speed-up over the root-parallel one measured in the same \
         repetition (1: sharing the tree costs nothing beyond what the host allows two threads). \
         Load average after: {}.",
        load_average()
    ));
    Ok(())
}

fn data_dir() -> PathBuf {
    std::env::var_os("MCTS_CONNECT4_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/connect4")
        })
}

/// The Pons sets: (short name, file).
const SETS: [(&str, &str); 2] = [("l3r1", "Test_L3_R1"), ("l2r1", "Test_L2_R1")];

/// Wall-clock time per move of the fixed-time mistake rates: short enough that the rates are
/// above their floor (at 1 ms a move gets about 10k simulations, where both thread counts make
/// almost no mistakes and the second core cannot show what it buys).
const FIXED_TIME_PER_MOVE: Duration = Duration::from_micros(100);

/// The times per move of the quality-against-time sweep, in microseconds.
const TIME_SWEEP_US: [u64; 6] = [25, 50, 100, 250, 500, 1000];

/// Part 3: Pons mistake rates at fixed simulation counts (1 and 2 threads) and at a fixed
/// wall-clock time per move (1 and 2 threads).
fn pons(run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let quick = run.quick();
    let dir = data_dir();
    let names = |short: &str| {
        [
            format!("pons_mistake_rate_{short}_10k"),
            format!("pons_mistake_rate_{short}_1k"),
            format!("pons_mistake_rate_{short}_10k_2t"),
            format!("pons_mistake_rate_{short}_1k_2t"),
            format!("pons_mistake_rate_{short}_fixed_time_1t"),
            format!("pons_mistake_rate_{short}_fixed_time_2t"),
        ]
    };
    if let Some((_, missing)) = SETS.iter().find(|(_, f)| !dir.join(f).is_file()) {
        let reason = format!(
            "the Pons test set {} is absent (../shared/connect4 beside the workspace, or \
             MCTS_CONNECT4_DIR)",
            dir.join(missing).display()
        );
        for (short, _) in SETS {
            for name in names(short) {
                run.report.not_measured(&name, &reason);
            }
        }
        return Ok(());
    }
    let mut solver = Solver::new();
    let mut rows = Vec::new();
    let par_sample = if quick { 250 } else { 1000 };
    let ms = FIXED_TIME_PER_MOVE.as_secs_f64() * 1e3;
    for (short, file) in SETS {
        let set = JudgedPosition::judge_all(&mut solver, &load_test_set(&dir.join(file))?);
        let sample = &set[..set.len().min(par_sample)];
        let fixed = SearchBudget::per_move(FIXED_TIME_PER_MOVE);
        let runs: [(&str, SearchBudget, usize, &[JudgedPosition]); 6] = [
            ("10k", SearchBudget::Simulations(10_000), 1, &set),
            ("1k", SearchBudget::Simulations(1_000), 1, &set),
            ("10k_2t", SearchBudget::Simulations(10_000), 2, sample),
            ("1k_2t", SearchBudget::Simulations(1_000), 2, sample),
            ("fixed_time_1t", fixed, 1, &set),
            ("fixed_time_2t", fixed, 2, &set),
        ];
        for (suffix, budget, threads, positions) in runs {
            let parallel = ParallelConfig {
                threads,
                virtual_loss: 1.0,
            };
            let r = uct_mistakes(positions, &UctConfig::default(), &parallel, budget)?;
            let per_move = r.simulations as f64 / r.positions.max(1) as f64;
            let mut m = Metric::new(
                format!("pons_mistake_rate_{short}_{suffix}"),
                r.rate(),
                "ratio",
                Better::Lower,
            );
            if matches!(budget, SearchBudget::Time { .. }) {
                m = m.with_workload(format!(
                    "{} positions at {ms} ms per move ({per_move:.0} simulations per move on \
                     average)",
                    r.positions
                ));
            } else if r.positions < set.len() {
                m = m.with_workload(format!("{} of {} positions", r.positions, set.len()));
            }
            run.report.push(m);
            rows.push(vec![
                file.to_string(),
                match budget {
                    SearchBudget::Simulations(s) => format!("{s} simulations"),
                    _ => format!("{ms} ms"),
                },
                threads.to_string(),
                r.positions.to_string(),
                format!("{per_move:.0}"),
                r.mistakes.to_string(),
                format!("{:.4}", r.rate()),
                format!("{:.2}", r.search_seconds),
            ]);
        }
    }
    // Quality against time per move, 1 and 2 threads: what the second core buys at each budget.
    let mut series = Vec::new();
    let mut sweep_rows = Vec::new();
    for (_, file) in SETS {
        let set = JudgedPosition::judge_all(&mut solver, &load_test_set(&dir.join(file))?);
        let sample = &set[..set.len().min(par_sample)];
        for threads in [1usize, 2] {
            let mut points = Vec::new();
            for us in TIME_SWEEP_US {
                let budget = SearchBudget::per_move(Duration::from_micros(us));
                let parallel = ParallelConfig {
                    threads,
                    virtual_loss: 1.0,
                };
                let r = uct_mistakes(sample, &UctConfig::default(), &parallel, budget)?;
                points.push((us as f64 / 1e3, r.rate()));
                sweep_rows.push(vec![
                    file.to_string(),
                    format!("{}", us as f64 / 1e3),
                    threads.to_string(),
                    format!("{:.0}", r.simulations as f64 / r.positions.max(1) as f64),
                    format!("{:.4}", r.rate()),
                ]);
            }
            series.push(Series {
                label: format!("{file}, {threads} thread(s)"),
                points,
            });
        }
    }
    run.report.plots.push(Plot {
        name: "pons_quality_vs_time".into(),
        title: format!(
            "Pons mistake rate against wall-clock time per move ({par_sample} positions per set)"
        ),
        x_label: "time per move (ms)".into(),
        y_label: "mistake rate".into(),
        log_x: true,
        log_y: false,
        series,
    });
    run.report.tables.push(Table {
        title: format!(
            "Pons mistake rate against wall-clock time per move, 1 and 2 threads (first \
             {par_sample} positions of each set)"
        ),
        header: [
            "set",
            "ms per move",
            "threads",
            "simulations per move",
            "rate",
        ]
        .map(String::from)
        .to_vec(),
        rows: sweep_rows,
    });
    run.report.tables.push(Table {
        title: "Pons mistake rate of pure UCT (random rollouts, c = 1, most visits)".into(),
        header: [
            "set",
            "budget per move",
            "threads",
            "positions",
            "simulations per move",
            "mistakes",
            "rate",
            "search s",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    run.report.notes.push(format!(
        "pons_mistake_rate_*: a move is a mistake if another legal move has a strictly better \
         exact outcome (the crate's solver); position i searched with seed i. Sequential runs \
         use all 1000 positions of each set; the 2-thread runs at fixed simulation counts \
         (`_2t`, virtual loss 1) the first {par_sample}. `_fixed_time_1t` / `_2t`: every \
         position searched for {ms} ms of wall-clock time (sequential UCT, or tree-parallel \
         UCT on 2 threads), all 1000 positions: the quality a user buys with the second core \
         at the same time per move (binomial standard error about sqrt(r (1 - r) / 1000)); the \
         simulations per move reached are in the workload and the table, and depend on what \
         the host gave the process at the time."
    ));
    Ok(())
}
