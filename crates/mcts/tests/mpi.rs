//! mcts on `Mode::Mpi`, run by every rank under `mpirun` (a `harness = false` program: MPI is
//! initialised once per process). `cargo xtask test` runs it with 1, 2 and 4 ranks:
//!
//! ```text
//! cargo test -p mcts --features mpi --test mpi --no-run
//! mpirun --allow-run-as-root --oversubscribe -np 4 target/debug/deps/mpi-<hash>
//! ```
//!
//! On every rank, for the dynamic schedule with one thread per rank and the static one with
//! two: a root-parallel search of fresh trees gives the merged statistics and move of the
//! in-process `RootParallelUct` (sequential mode); the Pons benchmark on a generated set gives
//! `uct_mistakes`'s moves and count; AlphaZero self-play gives the samples of `self_play`.
//! Each check prints one `ok` line on rank 0; any failure exits non-zero, which fails the
//! `mpirun` job.

use std::process::ExitCode;
use std::sync::Arc;

use mcts::alphazero::selfplay::{SelfPlayConfig, SelfPlayJob, self_play};
use mcts::alphazero::{Mlp, NetShape};
use mcts::root_parallel::RootSearchJob;
use mcts::test_set::{JudgedPosition, PonsJob, SearchBudget, generated_set, uct_mistakes};
use mcts::{Connect4, Encode, ParallelConfig, RootParallelUct, Solver, TicTacToe, UctConfig};
use par_core::{ExecConfig, Executor, Mode, Progress};

type Check = Result<(), String>;

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Check {
    if cond { Ok(()) } else { Err(what()) }
}

fn exec(mode: Mode) -> Result<Executor, String> {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    })
    .map_err(|e| e.to_string())
}

fn root_parallel_is_identical_to_sequential(mode: Mode) -> Check {
    let config = UctConfig {
        seed: 17,
        ..UctConfig::default()
    };
    let root = Connect4::from_moves("4453").map_err(|e| e.to_string())?;
    let mut kept = RootParallelUct::new(config.clone(), 6, root).map_err(|e| e.to_string())?;
    let want = kept
        .search(&exec(Mode::Sequential)?, 400)
        .map_err(|e| e.to_string())?;
    let job = RootSearchJob::new(config, 6, root, 400).map_err(|e| e.to_string())?;
    let got = job.run_on(&exec(mode)?).map_err(|e| e.to_string())?;
    ensure(
        got.summary == want && got.children == kept.root_children(),
        || format!("{mode}: {:?} against sequential {want:?}", got.summary),
    )
}

fn pons_is_identical_to_sequential(mode: Mode) -> Check {
    let set = generated_set(12, 28, 4).map_err(|e| e.to_string())?;
    let base = UctConfig {
        seed: 2,
        ..UctConfig::default()
    };
    let budget = SearchBudget::Simulations(500);
    let parallel = ParallelConfig {
        // one search thread: a tree-parallel search is not reproducible
        threads: 1,
        ..ParallelConfig::default()
    };
    let judged = JudgedPosition::judge_all(&mut Solver::new(), &set);
    let want = uct_mistakes(&judged, &base, &parallel, budget).map_err(|e| e.to_string())?;
    let job = PonsJob::new(&set, base, parallel, budget);
    let (count, verdicts) = job.run_on(&exec(mode)?).map_err(|e| e.to_string())?;
    let (seq, seq_verdicts) = job
        .run_on(&exec(Mode::Sequential)?)
        .map_err(|e| e.to_string())?;
    let moves = |v: &[mcts::test_set::Verdict]| -> Vec<(u16, bool, u64)> {
        v.iter()
            .map(|x| (x.action, x.mistake, x.simulations))
            .collect()
    };
    ensure(
        (count.positions, count.mistakes, count.simulations)
            == (want.positions, want.mistakes, want.simulations)
            && moves(&verdicts) == moves(&seq_verdicts)
            && seq.mistakes == want.mistakes,
        || {
            format!(
                "{mode}: {} mistakes in {} positions, sequential {}",
                count.mistakes, count.positions, want.mistakes
            )
        },
    )
}

fn self_play_is_identical_to_sequential(mode: Mode) -> Check {
    let shape = NetShape {
        input: TicTacToe::INPUT_LEN,
        hidden: vec![16],
        actions: 9,
    };
    let net = Mlp::new(shape, 7).map_err(|e| e.to_string())?;
    let config = SelfPlayConfig {
        full_sims: 24,
        fast_sims: 8,
        full_search_prob: 0.5,
        games_per_worker: 2,
        workers: 1,
        ..SelfPlayConfig::default()
    };
    let (want, stats) = self_play(Arc::new(net.clone()), &TicTacToe::new(), 9, &config, 5)
        .map_err(|e| e.to_string())?;
    let job = SelfPlayJob::new(net, TicTacToe::new(), 9, config, 5).map_err(|e| e.to_string())?;
    let (games, s) = job.run_on(&exec(mode)?).map_err(|e| e.to_string())?;
    ensure(
        games == want
            && (s.samples, s.moves, s.outcomes) == (stats.samples, stats.moves, stats.outcomes),
        || format!("{mode}: the self-play games differ from self_play's"),
    )
}

type CheckFn = fn(Mode) -> Check;

fn main() -> ExitCode {
    let mut tally = par_core::mpi::CheckTally::new();
    for mode in par_core::mpi::check_modes() {
        let checks: [(&str, CheckFn); 3] = [
            (
                "root_parallel_is_identical_to_sequential",
                root_parallel_is_identical_to_sequential,
            ),
            (
                "pons_is_identical_to_sequential",
                pons_is_identical_to_sequential,
            ),
            (
                "self_play_is_identical_to_sequential",
                self_play_is_identical_to_sequential,
            ),
        ];
        for (name, check) in checks {
            tally.record(name, mode, check(mode));
        }
    }
    tally.finish()
}
