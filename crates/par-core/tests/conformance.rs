//! The conformance suite: every execution mode must satisfy the same contract.
//!
//! Ordered results; bit-identical outputs for worker counts 1, 2, 4 and 7 in every mode; a
//! panic, a crash (abort, segfault, exit) and a time-out each reported with the task index
//! while every other result is kept; retries; bad configurations rejected with typed errors.

use std::time::Duration;

use par_core::process::{Registry, serve_if_worker};
use par_core::{
    ExecConfig, ExecError, Executor, FailureKind, Job, Mode, Progress, RemoteJob, TaskContext,
    WorkerCommand,
};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A deterministic job whose output depends on the index and the task's RNG.
#[derive(Serialize, Deserialize)]
struct Mix {
    scale: f64,
}

impl Job for Mix {
    type Output = (usize, u64, f64);
    fn run(&self, ctx: &mut TaskContext) -> Self::Output {
        let draws: f64 = (0..100).map(|_| ctx.rng.random::<f64>()).sum();
        (
            ctx.index,
            ctx.rng.random(),
            self.scale * draws / (1.0 + ctx.index as f64),
        )
    }
}

impl RemoteJob for Mix {
    const NAME: &'static str = "conformance.mix";
}

/// What task `index` of a [`Faulty`] job does.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Debug)]
enum Fault {
    Panic,
    /// Panics on the first attempt only.
    FlakyPanic,
    Abort,
    Segfault,
    Exit,
    /// Aborts on the first attempt only.
    FlakyAbort,
    Hang,
}

#[derive(Serialize, Deserialize)]
struct Faulty {
    faults: Vec<(usize, Fault)>,
}

impl Job for Faulty {
    type Output = usize;
    fn run(&self, ctx: &mut TaskContext) -> usize {
        let fault = self
            .faults
            .iter()
            .find(|(i, _)| *i == ctx.index)
            .map(|(_, f)| *f);
        match fault {
            None => {}
            Some(Fault::Panic) => panic!("task {} panics on purpose", ctx.index),
            Some(Fault::FlakyPanic) if ctx.attempt == 0 => panic!("flaky panic"),
            Some(Fault::Abort) => std::process::abort(),
            Some(Fault::Segfault) => {
                // SAFETY: dying of SIGSEGV in this (worker) process is the point of the test.
                // Rust's own handler (stack-overflow detection) ignores a synthetic signal, so
                // restore the default disposition first, as for a real invalid access.
                unsafe {
                    libc::signal(libc::SIGSEGV, libc::SIG_DFL);
                    libc::raise(libc::SIGSEGV);
                }
            }
            Some(Fault::Exit) => std::process::exit(7),
            Some(Fault::FlakyAbort) if ctx.attempt == 0 => std::process::abort(),
            Some(Fault::Hang) => loop {
                std::thread::sleep(Duration::from_millis(50));
            },
            Some(Fault::FlakyPanic | Fault::FlakyAbort) => {}
        }
        ctx.index * 10
    }
}

impl RemoteJob for Faulty {
    const NAME: &'static str = "conformance.faulty";
}

/// Not registered in the worker: used to check the error when a job is missing.
#[derive(Serialize, Deserialize)]
struct Unregistered;

impl Job for Unregistered {
    type Output = ();
    fn run(&self, _: &mut TaskContext) {}
}

impl RemoteJob for Unregistered {
    const NAME: &'static str = "conformance.unregistered";
}

/// The worker role of this test binary.
#[test]
fn worker_entry() {
    serve_if_worker(&Registry::new().with::<Mix>().with::<Faulty>());
}

fn executor(mode: Mode, retries: u32, timeout: Option<Duration>) -> Executor {
    Executor::new(ExecConfig {
        mode,
        seed: 2024,
        retries,
        timeout,
        progress: Progress::Hidden,
        label: String::new(),
        worker_command: Some(WorkerCommand::libtest("worker_entry").unwrap()),
    })
    .unwrap()
}

fn all_modes() -> Vec<Mode> {
    let mut modes = vec![Mode::Sequential, Mode::Auto { workers: 2 }];
    for workers in [1, 2, 4, 7] {
        modes.push(Mode::Threads { workers });
        modes.push(Mode::Processes { workers });
    }
    modes
}

#[test]
fn every_mode_and_worker_count_gives_identical_ordered_results() {
    let job = Mix { scale: 1.5 };
    let n = 57;
    let reference = executor(Mode::Sequential, 0, None)
        .run(&job, n)
        .unwrap()
        .into_values()
        .unwrap();
    assert_eq!(reference.len(), n);
    for (i, (index, _, _)) in reference.iter().enumerate() {
        assert_eq!(*index, i, "results are in index order");
    }
    for mode in all_modes() {
        let out = executor(mode, 0, None).run(&job, n).unwrap();
        assert_eq!(out.report.tasks, n, "{mode}");
        assert!(
            out.report.efficiency > 0.0 && out.report.efficiency <= 1.0,
            "{mode}"
        );
        let values = out.into_values().unwrap();
        // Bit-identical, floats included.
        let bits = |v: &[(usize, u64, f64)]| {
            v.iter()
                .map(|t| (t.0, t.1, t.2.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bits(&values),
            bits(&reference),
            "mode {mode} differs from sequential"
        );
    }
}

#[test]
fn zero_tasks_is_an_empty_run_in_every_mode() {
    for mode in all_modes() {
        let out = executor(mode, 0, None).run(&Mix { scale: 1.0 }, 0).unwrap();
        assert!(out.results.is_empty(), "{mode}");
    }
}

#[test]
fn a_panic_is_reported_with_its_index_and_other_results_are_kept() {
    let job = Faulty {
        faults: vec![(3, Fault::Panic), (8, Fault::Panic)],
    };
    for mode in all_modes() {
        let out = executor(mode, 0, None).run(&job, 12).unwrap();
        let failed: Vec<usize> = out.report.failures.iter().map(|f| f.index).collect();
        assert_eq!(failed, vec![3, 8], "{mode}");
        assert_eq!(out.report.failures[0].kind, FailureKind::Panic, "{mode}");
        assert!(
            out.report.failures[0].message.contains("task 3 panics"),
            "{mode}"
        );
        for (i, r) in out.results.iter().enumerate() {
            match r {
                Ok(v) => assert_eq!(*v, i * 10, "{mode}"),
                Err(f) => assert_eq!(f.index, i),
            }
        }
        assert_eq!(out.successes().count(), 10, "{mode}");
        match out.into_values() {
            Err(ExecError::TasksFailed {
                failures,
                n_tasks: 12,
            }) => assert_eq!(failures.len(), 2),
            other => panic!("expected TasksFailed, got {other:?}"),
        }
    }
}

#[test]
fn retries_rerun_failed_tasks_with_the_same_seed() {
    let job = Faulty {
        faults: vec![(0, Fault::FlakyPanic), (4, Fault::FlakyPanic)],
    };
    for mode in all_modes() {
        let out = executor(mode, 1, None).run(&job, 6).unwrap();
        assert!(out.is_complete(), "{mode}: {:?}", out.report.failures);
        assert_eq!(out.report.retries, 2, "{mode}");
        let without = executor(mode, 0, None).run(&job, 6).unwrap();
        assert_eq!(without.report.failures.len(), 2, "{mode}");
    }
}

#[test]
fn crashed_workers_are_replaced_and_reported_with_the_index() {
    let job = Faulty {
        faults: vec![
            (1, Fault::Abort),
            (4, Fault::Segfault),
            (6, Fault::Exit),
            (9, Fault::FlakyAbort),
        ],
    };
    for workers in [1, 2, 4] {
        let out = executor(Mode::Processes { workers }, 0, None)
            .run(&job, 12)
            .unwrap();
        let failed: Vec<(usize, FailureKind)> = out
            .report
            .failures
            .iter()
            .map(|f| (f.index, f.kind.clone()))
            .collect();
        assert_eq!(
            failed.iter().map(|f| f.0).collect::<Vec<_>>(),
            vec![1, 4, 6, 9],
            "{workers}"
        );
        for (index, kind) in &failed {
            assert!(
                matches!(kind, FailureKind::Crash { .. }),
                "task {index}: {kind:?}"
            );
        }
        let segv = &out.report.failures[1];
        assert!(segv.message.contains("signal 11"), "{}", segv.message);
        let exit = &out.report.failures[2];
        assert!(exit.message.contains('7'), "{}", exit.message);
        assert_eq!(out.successes().count(), 8);
        // With a retry, the flaky crash recovers on a fresh worker.
        let retried = executor(Mode::Processes { workers }, 1, None)
            .run(&job, 12)
            .unwrap();
        let failed: Vec<usize> = retried.report.failures.iter().map(|f| f.index).collect();
        assert_eq!(failed, vec![1, 4, 6], "{workers}");
        assert_eq!(retried.results[9].as_ref().ok(), Some(&90));
    }
}

#[test]
fn a_hung_task_times_out_and_the_rest_finish() {
    let job = Faulty {
        faults: vec![(2, Fault::Hang)],
    };
    let exec = executor(
        Mode::Processes { workers: 2 },
        1,
        Some(Duration::from_millis(400)),
    );
    let out = exec.run(&job, 8).unwrap();
    assert_eq!(out.report.failures.len(), 1);
    let f = &out.report.failures[0];
    assert_eq!(
        (f.index, &f.kind, f.attempts),
        (2, &FailureKind::Timeout, 2)
    );
    assert_eq!(out.report.retries, 1);
    assert_eq!(out.successes().count(), 7);
}

#[test]
fn a_job_missing_from_the_worker_is_a_clear_error() {
    let err = executor(Mode::Processes { workers: 2 }, 0, None)
        .run(&Unregistered, 3)
        .unwrap_err();
    match err {
        ExecError::WorkerStart { message, .. } => {
            assert!(message.contains("conformance.unregistered"), "{message}")
        }
        other => panic!("expected WorkerStart, got {other:?}"),
    }
}

#[test]
fn a_missing_worker_program_is_a_spawn_error() {
    let exec = Executor::new(ExecConfig {
        worker_command: Some(WorkerCommand {
            program: "/nonexistent/worker".into(),
            args: vec![],
        }),
        ..ExecConfig::with_mode(Mode::Processes { workers: 2 })
    })
    .unwrap();
    assert!(matches!(
        exec.run(&Mix { scale: 1.0 }, 4),
        Err(ExecError::Spawn { .. })
    ));
}

#[test]
fn bad_configurations_are_typed_errors() {
    let field = |mode: Mode, timeout: Option<Duration>| match Executor::new(ExecConfig {
        timeout,
        ..ExecConfig::with_mode(mode)
    }) {
        Err(ExecError::Config { field, .. }) => field,
        other => panic!("expected a config error, got {other:?}"),
    };
    assert_eq!(field(Mode::Threads { workers: 0 }, None), "mode.workers");
    assert_eq!(field(Mode::Processes { workers: 0 }, None), "mode.workers");
    assert_eq!(field(Mode::Auto { workers: 0 }, None), "mode.workers");
    assert_eq!(
        field(Mode::Processes { workers: 1 }, Some(Duration::ZERO)),
        "timeout"
    );
    assert_eq!(
        field(Mode::Sequential, Some(Duration::from_secs(1))),
        "timeout"
    );

    let exec = executor(Mode::Sequential, 0, None);
    match exec.map(usize::MAX, |_| ()) {
        Err(ExecError::Config {
            field: "n_tasks", ..
        }) => {}
        other => panic!(
            "expected an n_tasks error, got {:?}",
            other.map(|o| o.report)
        ),
    }
    match exec.sum_f64(10, 0, |_| 0.0) {
        Err(ExecError::Config {
            field: "chunk_len", ..
        }) => {}
        other => panic!("expected a chunk_len error, got {other:?}"),
    }
    let procs = executor(Mode::Processes { workers: 2 }, 0, None);
    assert!(matches!(
        procs.map(3, |_| ()),
        Err(ExecError::NeedsRemoteJob { .. })
    ));
}

#[test]
fn fixed_chunk_sums_are_bit_identical_across_modes() {
    let f = |i: usize| ((i as f64) * 0.37).sin() * 1e3 + 1e-7 * i as f64;
    let n = 100_003;
    let reference = par_core::reduce::fixed_chunk_sum(&(0..n).map(f).collect::<Vec<_>>(), 4096);
    for mode in [
        Mode::Sequential,
        Mode::Threads { workers: 2 },
        Mode::Threads { workers: 7 },
        Mode::Auto { workers: 3 },
    ] {
        let s = executor(mode, 0, None).sum_f64(n, 4096, f).unwrap();
        assert_eq!(s.to_bits(), reference.to_bits(), "{mode}");
    }
}

#[test]
fn auto_chooses_by_the_break_even_rule() {
    let exec = executor(Mode::Auto { workers: 2 }, 0, None);
    let tiny = exec.map(2000, |ctx| ctx.index).unwrap();
    assert_eq!(
        tiny.report.mode, "sequential",
        "{}",
        tiny.report.mode_reason
    );
    assert!(tiny.report.mode_reason.contains("T > O/(N(1-1/W))"));
    let big = exec
        .map(12, |ctx| {
            std::thread::sleep(Duration::from_millis(4));
            ctx.index
        })
        .unwrap();
    assert_eq!(big.report.mode, "threads(2)", "{}", big.report.mode_reason);
    assert_eq!(big.into_values().unwrap(), (0..12).collect::<Vec<_>>());
}

#[test]
fn executors_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Executor>();
    assert_send_sync::<par_core::batcher::Batcher<u64, u64>>();
}
