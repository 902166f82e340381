//! The worker side of `Processes` mode: [`serve_if_worker`] and the [`Registry`] of the job
//! types a binary can serve.
//!
//! The worker answers on a private copy of its standard output and points the program's own
//! standard output at standard error, so a stray `println!` in a task cannot corrupt the
//! protocol. A panic is caught per task and reported; the worker stays.

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use super::wire::{FromWorker, MAGIC, ToWorker, read_msg, write_msg};
use crate::backend::panic_message;
use crate::budget;
use crate::executor::{RemoteJob, TaskContext};

/// Environment variable that puts a process in the worker role.
pub const WORKER_ENV: &str = "PAR_CORE_WORKER";

type ServeFn = fn(&[u8], u64, u64, &mut dyn Read, &mut dyn Write) -> Result<(), String>;

/// The job types a binary can run as a worker, by [`RemoteJob::NAME`].
#[derive(Default)]
pub struct Registry {
    entries: Vec<(&'static str, ServeFn)>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|(n, _)| n))
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds job type `J`.
    #[must_use]
    pub fn with<J: RemoteJob>(mut self) -> Self {
        self.entries.push((J::NAME, serve_job::<J>));
        self
    }

    /// The names registered.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|(n, _)| *n).collect()
    }
}

/// If this process was started as a par-core worker, serves tasks of the registered jobs and
/// exits; otherwise returns at once. Call it first thing in `main` of any binary that uses
/// `Processes` mode (and in the test named by [`crate::WorkerCommand::libtest`]).
pub fn serve_if_worker(registry: &Registry) {
    if std::env::var_os(WORKER_ENV).is_none_or(|v| v != "1") {
        return;
    }
    budget::mark_process_as_worker();
    let code = match serve(registry) {
        Ok(()) => 0,
        Err(msg) => {
            eprintln!("par-core worker {}: {msg}", std::process::id());
            3
        }
    };
    std::process::exit(code);
}

/// The protocol's output: a private copy of standard output, with the process's own standard
/// output pointed at standard error from now on.
#[cfg(unix)]
fn protocol_output() -> Result<Box<dyn Write>, String> {
    use std::os::fd::FromRawFd;
    let _ = io::stdout().flush();
    // SAFETY: dup/dup2 on the process's own standard descriptors; the duplicate is owned by
    // the File created from it and by nothing else.
    unsafe {
        let fd = libc::dup(1);
        if fd < 0 {
            return Err(format!(
                "dup(stdout) failed: {}",
                io::Error::last_os_error()
            ));
        }
        if libc::dup2(2, 1) < 0 {
            return Err(format!(
                "dup2(stderr, stdout) failed: {}",
                io::Error::last_os_error()
            ));
        }
        Ok(Box::new(BufWriter::new(std::fs::File::from_raw_fd(fd))))
    }
}

#[cfg(not(unix))]
fn protocol_output() -> Result<Box<dyn Write>, String> {
    Ok(Box::new(BufWriter::new(io::stdout())))
}

fn serve(registry: &Registry) -> Result<(), String> {
    let mut out = protocol_output()?;
    let mut input = BufReader::new(io::stdin().lock());
    out.write_all(MAGIC)
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())?;
    let hello: Option<ToWorker> =
        read_msg(&mut input).map_err(|e| format!("reading hello: {e}"))?;
    let Some(ToWorker::Hello {
        job_name,
        job,
        seed,
        n_tasks,
    }) = hello
    else {
        return Err("expected a hello message".into());
    };
    let Some((_, serve_fn)) = registry.entries.iter().find(|(n, _)| *n == job_name) else {
        let message = format!(
            "job `{job_name}` is not registered in this binary (registered: {:?}); pass it to \
             par_core::process::serve_if_worker",
            registry.names()
        );
        let _ = write_msg(
            &mut out,
            &FromWorker::Fatal {
                message: message.clone(),
            },
        );
        return Err(message);
    };
    serve_fn(&job, seed, n_tasks, &mut input, &mut out)
}

fn serve_job<J: RemoteJob>(
    job_bytes: &[u8],
    seed: u64,
    n_tasks: u64,
    input: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<(), String> {
    let job: J = match postcard::from_bytes(job_bytes) {
        Ok(j) => j,
        Err(e) => {
            let message = format!("could not deserialise job `{}`: {e}", J::NAME);
            let _ = write_msg(
                out,
                &FromWorker::Fatal {
                    message: message.clone(),
                },
            );
            return Err(message);
        }
    };
    let io_err = |e: io::Error| format!("pipe to parent: {e}");
    write_msg(out, &FromWorker::Ready).map_err(io_err)?;
    loop {
        let msg: Option<ToWorker> = read_msg(input).map_err(io_err)?;
        let (index, attempt) = match msg {
            None | Some(ToWorker::Shutdown) => return Ok(()),
            Some(ToWorker::Task { index, attempt }) => (index, attempt),
            Some(ToWorker::Hello { .. }) => return Err("unexpected second hello".into()),
        };
        let mut ctx = TaskContext::new(seed, index as usize, n_tasks as usize, attempt);
        let start = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| job.run(&mut ctx)));
        let busy_ns = start.elapsed().as_nanos() as u64;
        let reply = match outcome {
            Ok(value) => {
                let t = Instant::now();
                match postcard::to_stdvec(&value) {
                    Ok(output) => FromWorker::Done {
                        index,
                        output,
                        busy_ns,
                        marshal_ns: t.elapsed().as_nanos() as u64,
                    },
                    Err(e) => FromWorker::MarshalFailed {
                        index,
                        message: e.to_string(),
                        busy_ns,
                    },
                }
            }
            Err(payload) => FromWorker::Panicked {
                index,
                message: panic_message(payload.as_ref()),
                busy_ns,
            },
        };
        write_msg(out, &reply).map_err(io_err)?;
    }
}
