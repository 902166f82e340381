//! The thread budget: nested parallel calls run inline, so the number of live threads stays
//! bounded however deep the nesting. (Its own test binary, so no other test's threads count.)

use std::sync::atomic::{AtomicUsize, Ordering};

use par_core::budget::{in_parallel_worker, inner_threads, live_threads};
use par_core::{ExecConfig, Executor, Mode, Progress};

fn exec(workers: usize) -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(Mode::Threads { workers })
    })
    .unwrap()
}

#[test]
fn nested_parallel_calls_run_inline_and_threads_stay_bounded() {
    let Some(before) = live_threads() else {
        eprintln!("skipped: /proc/self/task is not available on this platform");
        return;
    };
    assert!(!in_parallel_worker());
    let outer_workers = 3;
    let max_seen = AtomicUsize::new(0);
    let outer = exec(outer_workers);
    let out = outer
        .map(12, |ctx| {
            assert!(in_parallel_worker());
            assert_eq!(inner_threads(), 1);
            // Two more levels, each asking for 4 threads.
            let inner = exec(4);
            let inner_out = inner
                .map(6, |c| {
                    let innermost = exec(4).map(3, |cc| cc.index).unwrap();
                    assert_eq!(innermost.report.mode, "sequential");
                    max_seen.fetch_max(live_threads().unwrap(), Ordering::Relaxed);
                    c.index + innermost.into_values().unwrap().iter().sum::<usize>()
                })
                .unwrap();
            assert!(
                inner_out.report.mode_reason.contains("nested"),
                "{}",
                inner_out.report.mode_reason
            );
            ctx.index + inner_out.into_values().unwrap().iter().sum::<usize>()
        })
        .unwrap();
    assert!(out.is_complete());
    let max_seen = max_seen.into_inner();
    // The outer pool adds its workers; nothing below adds a thread.
    assert!(
        max_seen <= before + outer_workers,
        "live threads rose from {before} to {max_seen} with {outer_workers} outer workers"
    );
}
