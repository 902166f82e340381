//! `Processes` mode's public face: the worker entry point and the job registry.
//!
//! The parent starts each worker as [`crate::WorkerCommand`] (by default the current
//! executable) with the environment variable [`WORKER_ENV`]` = 1`. The worker's `main` calls
//! [`serve_if_worker`] first: in the worker role it never returns; it answers on its standard
//! output and redirects the program's own standard output to standard error, so a stray
//! `println!` in a task cannot corrupt the protocol.
//!
//! Protocol: the worker writes an 8-byte magic, then length-prefixed `postcard` frames. The
//! parent sends `Hello` (job name, serialised job, seed, task count) once, then one `Task`
//! message per task; the worker answers `Ready` once, then `Done`, `Panicked` or
//! `MarshalFailed` per task. Anything a worker prints before the magic (a test harness
//! banner, say) is skipped.
//!
//! Failure handling, per task: a panic is caught in the worker (the worker stays); a crash
//! (abort, signal, `exit`) is seen as the end of the worker's output, reported with the exit
//! status, and the worker is replaced; a time-out kills the worker and replaces it. The task is
//! run again while it has retries left, otherwise reported as failed. The results of every
//! other task are kept.
//!
//! The implementation lives in the crate's `backend/processes/` folder (wire protocol, worker
//! side, scheduler), one backend among the modes'.

pub use crate::backend::processes::{Registry, WORKER_ENV, bytes, serve_if_worker};
