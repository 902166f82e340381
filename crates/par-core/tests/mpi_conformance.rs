//! The conformance suite over `Mode::Mpi`, run by every rank under `mpirun` (a `harness =
//! false` program: MPI is initialised once per process). `cargo xtask test` runs it with 1, 2
//! and 4 ranks when `mpirun` is installed:
//!
//! ```text
//! cargo test -p par-core --features mpi --test mpi_conformance --no-run
//! mpirun --allow-run-as-root --oversubscribe -np 4 target/debug/deps/mpi_conformance-<hash>
//! ```
//!
//! On every rank, for both schedules and 1 and 2 threads per rank: outputs bit-identical to
//! `Sequential` and in index order, empty and one-task runs, a panic reported with its index
//! while the other results are kept, retries with the same seed, a report that covers every
//! rank, a closure refused with a typed error, `RemoteJob::received_on_root` called on rank 0
//! with exactly the results of the other ranks, and `mpi::share_from_root`. Each check prints one `ok` line on rank 0;
//! any failure exits non-zero, which fails the `mpirun` job.

use std::process::ExitCode;
use std::time::Duration;

use par_core::{
    ExecConfig, ExecError, Executor, FailureKind, Job, Mode, MpiSchedule, Progress, RemoteJob,
    TaskContext,
};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Output depends on the index and the task's generator; uneven task times.
#[derive(Serialize, Deserialize)]
struct Draws {
    scale: f64,
}

impl Job for Draws {
    type Output = (usize, u64, f64);
    fn run(&self, ctx: &mut TaskContext) -> Self::Output {
        let draws: f64 = (0..50 + 40 * (ctx.index % 7))
            .map(|_| ctx.rng.random::<f64>())
            .sum();
        if ctx.index.is_multiple_of(11) {
            std::thread::sleep(Duration::from_millis(2));
        }
        (
            ctx.index,
            ctx.rng.random(),
            self.scale * draws / (1.0 + ctx.index as f64),
        )
    }
}

impl RemoteJob for Draws {
    const NAME: &'static str = "mpi-conformance.draws";
}

/// Panics at the listed indices (on the first attempt only when `flaky`).
#[derive(Serialize, Deserialize)]
struct Panics {
    at: Vec<usize>,
    flaky: bool,
}

impl Job for Panics {
    type Output = usize;
    fn run(&self, ctx: &mut TaskContext) -> usize {
        if self.at.contains(&ctx.index) && (!self.flaky || ctx.attempt == 0) {
            panic!("task {} panics on purpose", ctx.index);
        }
        ctx.index * 10
    }
}

impl RemoteJob for Panics {
    const NAME: &'static str = "mpi-conformance.panics";
}

fn config(mode: Mode, retries: u32) -> ExecConfig {
    ExecConfig {
        seed: 2024,
        retries,
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    }
}

type Check = Result<(), String>;
type CheckFn = fn(Mode) -> Check;

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Check {
    if cond { Ok(()) } else { Err(what()) }
}

fn bits(v: &[(usize, u64, f64)]) -> Vec<(usize, u64, u64)> {
    v.iter().map(|t| (t.0, t.1, t.2.to_bits())).collect()
}

fn identical_to_sequential(mode: Mode) -> Check {
    let job = Draws { scale: 1.5 };
    let seq = Executor::new(config(Mode::Sequential, 0)).map_err(|e| e.to_string())?;
    let exec = Executor::new(config(mode, 0)).map_err(|e| e.to_string())?;
    for n in [0, 1, 57, 203] {
        let reference = seq.run(&job, n).and_then(|o| o.into_values());
        let out = exec
            .run(&job, n)
            .map_err(|e| format!("{mode} n={n}: {e}"))?;
        let report = out.report.clone();
        let values = out.into_values().map_err(|e| e.to_string())?;
        let reference = reference.map_err(|e| e.to_string())?;
        ensure(bits(&values) == bits(&reference), || {
            format!("{mode} n={n}: outputs differ from sequential")
        })?;
        ensure(values.iter().enumerate().all(|(i, v)| v.0 == i), || {
            format!("{mode} n={n}: not in index order")
        })?;
        let mpi = report.mpi.as_ref().ok_or("no MPI section in the report")?;
        ensure(mpi.ranks == par_core::mpi::size(), || {
            format!("report says {} ranks", mpi.ranks)
        })?;
        ensure(mpi.rank == par_core::mpi::rank(), || {
            format!("report copy says rank {}", mpi.rank)
        })?;
        ensure(mpi.per_rank.len() == mpi.ranks, || "per-rank rows".into())?;
        let counted: usize = mpi.per_rank.iter().map(|r| r.tasks).sum();
        ensure(counted == n, || {
            format!("{mode} n={n}: ranks account for {counted} tasks")
        })?;
        ensure(report.tasks == n && report.failures.is_empty(), || {
            format!("{mode} n={n}: report {report:?}")
        })?;
        ensure(report.workers == mpi.ranks * mode.workers(), || {
            format!("{mode}: {} workers reported", report.workers)
        })?;
        if n > 0 {
            ensure(report.efficiency > 0.0 && report.efficiency <= 1.0, || {
                format!("{mode} n={n}: efficiency {}", report.efficiency)
            })?;
        }
    }
    Ok(())
}

fn panics_are_reported_with_their_index(mode: Mode) -> Check {
    let exec = Executor::new(config(mode, 0)).map_err(|e| e.to_string())?;
    let job = Panics {
        at: vec![3, 8],
        flaky: false,
    };
    let out = exec.run(&job, 12).map_err(|e| e.to_string())?;
    let failed: Vec<usize> = out.report.failures.iter().map(|f| f.index).collect();
    ensure(failed == [3, 8], || format!("{mode}: failures {failed:?}"))?;
    let f = &out.report.failures[0];
    ensure(
        f.kind == FailureKind::Panic && f.message.contains("task 3 panics"),
        || format!("{mode}: {f}"),
    )?;
    for (i, r) in out.results.iter().enumerate() {
        match r {
            Ok(v) => ensure(*v == i * 10, || format!("{mode}: task {i} gave {v}"))?,
            Err(f) => ensure(f.index == i, || format!("{mode}: failure {f} at {i}"))?,
        }
    }
    match out.into_values() {
        Err(ExecError::TasksFailed { failures, n_tasks }) => {
            ensure(failures.len() == 2 && n_tasks == 12, || {
                "TasksFailed".into()
            })
        }
        other => Err(format!("{mode}: expected TasksFailed, got {other:?}")),
    }
}

fn retries_rerun_with_the_same_seed(mode: Mode) -> Check {
    let job = Panics {
        at: vec![0, 4],
        flaky: true,
    };
    let out = Executor::new(config(mode, 1))
        .and_then(|e| e.run(&job, 6))
        .map_err(|e| e.to_string())?;
    ensure(out.is_complete() && out.report.retries == 2, || {
        format!(
            "{mode}: {:?}, retries {}",
            out.report.failures, out.report.retries
        )
    })?;
    let without = Executor::new(config(mode, 0))
        .and_then(|e| e.run(&job, 6))
        .map_err(|e| e.to_string())?;
    ensure(without.report.failures.len() == 2, || {
        format!("{mode}: {:?}", without.report.failures)
    })
}

/// Records, on the process that holds the job, every result `received_on_root` is given.
#[derive(Serialize, Deserialize)]
struct Receipts {
    #[serde(skip)]
    seen: std::sync::Mutex<Vec<(usize, usize)>>,
}

impl Job for Receipts {
    type Output = (usize, usize);
    fn run(&self, ctx: &mut TaskContext) -> (usize, usize) {
        (ctx.index, par_core::mpi::rank())
    }
}

impl RemoteJob for Receipts {
    const NAME: &'static str = "mpi-conformance.receipts";
    fn received_on_root(&self, index: usize, output: &(usize, usize)) {
        assert_eq!(index, output.0, "the index given with the result");
        self.seen.lock().expect("lock").push(*output);
    }
}

fn rank_0_receives_every_other_ranks_results(mode: Mode) -> Check {
    let exec = Executor::new(config(mode, 0)).map_err(|e| e.to_string())?;
    let job = Receipts {
        seen: Default::default(),
    };
    let out = exec.run(&job, 97).map_err(|e| e.to_string())?;
    let values = out.into_values().map_err(|e| e.to_string())?;
    let mut seen = job.seen.into_inner().map_err(|e| e.to_string())?;
    seen.sort_unstable();
    if par_core::mpi::is_root() {
        let elsewhere: Vec<(usize, usize)> = values.iter().copied().filter(|v| v.1 != 0).collect();
        ensure(seen == elsewhere, || {
            format!(
                "{mode}: rank 0 was given {} results, {} were computed on other ranks",
                seen.len(),
                elsewhere.len()
            )
        })
    } else {
        ensure(seen.is_empty(), || {
            format!("{mode}: rank {} was given results", par_core::mpi::rank())
        })
    }
}

fn rank_0_shares_its_value(mode: Mode) -> Check {
    let exec = Executor::new(config(mode, 0)).map_err(|e| e.to_string())?;
    let mut called = false;
    let value = par_core::mpi::share_from_root(&exec, || {
        called = true;
        (
            vec![1.5f64, -0.0, f64::MIN_POSITIVE],
            "from rank 0".to_string(),
        )
    })
    .map_err(|e| e.to_string())?;
    ensure(called == par_core::mpi::is_root(), || {
        format!("{mode}: the closure ran on rank {}", par_core::mpi::rank())
    })?;
    ensure(
        value.1 == "from rank 0" && value.0[2].to_bits() == f64::MIN_POSITIVE.to_bits(),
        || format!("{mode}: got {value:?}"),
    )
}

fn closures_are_refused(mode: Mode) -> Check {
    let exec = Executor::new(config(mode, 0)).map_err(|e| e.to_string())?;
    match exec.map(3, |ctx| ctx.index) {
        Err(ExecError::NeedsRemoteJob { .. }) => Ok(()),
        other => Err(format!(
            "{mode}: expected NeedsRemoteJob, got {:?}",
            other.map(|o| o.report)
        )),
    }
}

fn main() -> ExitCode {
    // The panics of `Panics` are expected: keep their messages out of the output.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let expected = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|m| m.contains("on purpose"));
        if !expected {
            default_hook(info);
        }
    }));
    let mut tally = par_core::mpi::CheckTally::new();
    for schedule in [MpiSchedule::Dynamic, MpiSchedule::Static] {
        for threads_per_rank in [1, 2] {
            let mode = Mode::Mpi {
                threads_per_rank,
                schedule,
            };
            let checks: [(&str, CheckFn); 6] = [
                ("identical_to_sequential", identical_to_sequential),
                (
                    "panics_are_reported_with_their_index",
                    panics_are_reported_with_their_index,
                ),
                (
                    "retries_rerun_with_the_same_seed",
                    retries_rerun_with_the_same_seed,
                ),
                ("closures_are_refused", closures_are_refused),
                (
                    "rank_0_receives_every_other_ranks_results",
                    rank_0_receives_every_other_ranks_results,
                ),
                ("rank_0_shares_its_value", rank_0_shares_its_value),
            ];
            for (name, check) in checks {
                tally.record(name, mode, check(mode));
            }
        }
    }
    tally.finish()
}
