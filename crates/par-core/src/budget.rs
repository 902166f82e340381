//! The thread budget: one level of parallelism per process.
//!
//! Worker threads of a [`crate::Executor`] and worker processes are marked as being inside a
//! parallel region. A parallel call made from inside one runs inline on the calling worker
//! instead of spawning more threads, and libraries with their own thread pools (ONNX Runtime
//! intra-op threads, BLAS) should size them with [`inner_threads`], which is 1 there. The
//! number of live threads therefore stays at `outer workers + a constant`, however deep the
//! nesting.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    static IN_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Set in a worker process: every thread of it counts as inside a parallel region.
static PROCESS_WORKER: AtomicBool = AtomicBool::new(false);

/// Threads this process may use at its outer level: `PAR_CORE_THREADS` if set to a positive
/// integer, otherwise the number of available cores.
pub fn available_threads() -> usize {
    std::env::var("PAR_CORE_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Whether the calling thread is a par-core worker (a pool thread, or any thread of a
/// worker process).
pub fn in_parallel_worker() -> bool {
    PROCESS_WORKER.load(Ordering::Relaxed) || IN_WORKER.with(Cell::get)
}

/// Threads an inner library call may use from the calling thread: 1 inside a parallel
/// worker, [`available_threads`] otherwise. Use it for ONNX Runtime's intra-op threads.
pub fn inner_threads() -> usize {
    if in_parallel_worker() {
        1
    } else {
        available_threads()
    }
}

/// Marks the current thread as a worker for the rest of its life (pool threads).
pub(crate) fn mark_thread_as_worker() {
    IN_WORKER.with(|w| w.set(true));
}

/// Marks the whole process as a worker (worker processes).
pub(crate) fn mark_process_as_worker() {
    PROCESS_WORKER.store(true, Ordering::Relaxed);
}

/// Number of live threads of this process (Linux: entries of `/proc/self/task`), if known.
pub fn live_threads() -> Option<usize> {
    std::fs::read_dir("/proc/self/task").ok().map(|d| d.count())
}
