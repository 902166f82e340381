//! `Processes`: worker processes of the same executable, tasks and results over pipes.
//!
//! - `wire.rs`: the frames and messages both sides speak;
//! - `worker.rs`: the child side ([`serve_if_worker`], [`Registry`]);
//! - `scheduler.rs`: the parent side (spawning, hand-out, time-outs, crash replacement).
//!
//! The public face is [`crate::process`].

pub(crate) mod scheduler;
pub(crate) mod wire;
pub(crate) mod worker;

pub use wire::bytes;
pub use worker::{Registry, WORKER_ENV, serve_if_worker};

use super::Backend;
use crate::ExecError;
use crate::config::ExecConfig;
use crate::executor::{RemoteJob, RunOutput};

/// The processes backend: `workers` worker processes per run.
#[derive(Debug)]
pub(crate) struct Processes {
    workers: usize,
}

impl Processes {
    pub(crate) fn new(workers: usize) -> Self {
        Self { workers }
    }
}

impl Backend for Processes {
    fn run_remote<J: RemoteJob>(
        &self,
        config: &ExecConfig,
        job: &J,
        n: usize,
    ) -> Result<RunOutput<J::Output>, ExecError> {
        scheduler::run(config, job, n, self.workers)
    }
}
