//! The parent side of `Processes` mode: starts the workers, hands out tasks, enforces
//! time-outs, replaces crashed workers and retries their tasks.
//!
//! Failure handling, per task: a panic is caught in the worker (the worker stays); a crash
//! (abort, signal, `exit`) is seen as the end of the worker's output, reported with the exit
//! status, and the worker is replaced; a time-out kills the worker and replaces it. The task is
//! run again while it has retries left, otherwise reported as failed. The results of every
//! other task are kept.

use std::collections::VecDeque;
use std::io::{self, BufReader, BufWriter, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::wire::{FromWorker, ToWorker, encode, read_msg, skip_to_magic};
use super::worker::WORKER_ENV;
use crate::ExecError;
use crate::config::{ExecConfig, WorkerCommand};
use crate::executor::{RemoteJob, RunOutput};
use crate::progress::TaskBar;
use crate::report::{FailureKind, RunReport, TaskFailure};

/// How long a starting worker may take to answer `Ready`, at least.
const MIN_START_TIMEOUT: Duration = Duration::from_secs(30);

/// What a reader thread reports about its worker.
enum Event {
    Msg(FromWorker),
    /// The worker's output ended (it exited or was killed), or became unreadable.
    End(String),
}

enum State {
    Starting {
        deadline: Instant,
    },
    Idle,
    Busy {
        index: usize,
        attempt: u32,
        sent: Instant,
        deadline: Option<Instant>,
    },
    Dead,
}

struct Worker {
    generation: u64,
    child: Option<Child>,
    to_child: Option<Sender<Vec<u8>>>,
    state: State,
}

impl Worker {
    fn kill(&mut self) -> String {
        self.to_child = None;
        let Some(mut child) = self.child.take() else {
            return "no process".into();
        };
        let _ = child.kill();
        exit_text(child.wait())
    }

    /// Waits briefly for an exiting child and describes how it ended.
    fn reap(&mut self) -> String {
        self.to_child = None;
        let Some(mut child) = self.child.take() else {
            return "no process".into();
        };
        let until = Instant::now() + Duration::from_secs(2);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return exit_text(Ok(status)),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(1)),
                _ => {
                    let _ = child.kill();
                    return exit_text(child.wait());
                }
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill();
        }
    }
}

fn exit_text(status: io::Result<std::process::ExitStatus>) -> String {
    match status {
        Ok(s) => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                if let Some(sig) = s.signal() {
                    return format!("killed by signal {sig}");
                }
            }
            s.to_string()
        }
        Err(e) => format!("unknown exit status ({e})"),
    }
}

/// The parent side of one run.
struct Scheduler<'a, T> {
    config: &'a ExecConfig,
    command: WorkerCommand,
    hello: Vec<u8>,
    n: usize,
    events: Sender<(usize, u64, Event)>,
    workers: Vec<Worker>,
    pending: VecDeque<(usize, u32)>,
    results: Vec<Option<Result<T, TaskFailure>>>,
    done: usize,
    task_secs: Vec<f64>,
    busy: Vec<f64>,
    marshal: Duration,
    retries: u32,
    start_failures: usize,
    last_start_error: String,
    ever_ready: bool,
    first_ready_at: Option<Instant>,
    started: Instant,
    bar: TaskBar,
}

impl<T: DeserializeOwned> Scheduler<'_, T> {
    fn start_timeout(&self) -> Duration {
        self.config
            .timeout
            .map_or(MIN_START_TIMEOUT, |t| t.max(MIN_START_TIMEOUT))
    }

    /// Starts (or restarts) the worker in slot `w`.
    fn spawn(&mut self, w: usize) -> io::Result<()> {
        let generation = self.workers.get(w).map_or(0, |x| x.generation + 1);
        let mut child = Command::new(&self.command.program)
            .args(&self.command.args)
            .env(WORKER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        // Writer thread: the scheduler never blocks on a slow or dead worker's pipe.
        let (to_child, frames) = mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut stdin = BufWriter::new(stdin);
            for frame in frames {
                if stdin
                    .write_all(&frame)
                    .and_then(|()| stdin.flush())
                    .is_err()
                {
                    break;
                }
            }
        });
        let events = self.events.clone();
        std::thread::spawn(move || reader_loop(stdout, w, generation, &events));
        let _ = to_child.send(self.hello.clone());
        let worker = Worker {
            generation,
            child: Some(child),
            to_child: Some(to_child),
            state: State::Starting {
                deadline: Instant::now() + self.start_timeout(),
            },
        };
        if w < self.workers.len() {
            self.workers[w] = worker;
        } else {
            self.workers.push(worker);
        }
        Ok(())
    }

    fn finish(&mut self, index: usize, result: Result<T, TaskFailure>) {
        debug_assert!(self.results[index].is_none());
        self.results[index] = Some(result);
        self.done += 1;
        self.bar.inc();
    }

    /// A task attempt failed: queue it again while retries remain, else record the failure.
    fn fail(&mut self, index: usize, attempt: u32, kind: FailureKind, message: String) {
        if attempt < self.config.retries {
            self.retries += 1;
            self.pending.push_front((index, attempt + 1));
        } else {
            let failure = TaskFailure {
                index,
                kind,
                message,
                attempts: attempt + 1,
            };
            self.finish(index, Err(failure));
        }
    }

    /// The worker in slot `w` is gone: fail its task, then replace it if work remains.
    fn lost(&mut self, w: usize, how: String, timed_out: bool) {
        tracing::debug!(worker = w, timed_out, "worker process lost: {how}");
        let state = std::mem::replace(&mut self.workers[w].state, State::Dead);
        match state {
            State::Busy {
                index,
                attempt,
                sent,
                ..
            } => {
                let secs = sent.elapsed().as_secs_f64();
                self.task_secs.push(secs);
                self.busy[w] += secs;
                if timed_out {
                    let limit = self.config.timeout.unwrap_or_default();
                    self.fail(
                        index,
                        attempt,
                        FailureKind::Timeout,
                        format!("ran past {limit:?}"),
                    );
                } else {
                    let message = format!("worker process ended: {how}");
                    self.fail(index, attempt, FailureKind::Crash { status: how }, message);
                }
            }
            State::Starting { .. } => {
                self.start_failures += 1;
                self.last_start_error = how;
            }
            State::Idle | State::Dead => {}
        }
        let work_left = !self.pending.is_empty();
        let too_many = self.start_failures >= 3 * self.workers.len().max(1);
        if work_left
            && !too_many
            && let Err(e) = self.spawn(w)
        {
            self.start_failures += 1;
            self.last_start_error = e.to_string();
        }
    }

    fn handle(&mut self, w: usize, msg: FromWorker) {
        let state = std::mem::replace(&mut self.workers[w].state, State::Idle);
        match (msg, state) {
            (FromWorker::Ready, State::Starting { .. }) => {
                self.ever_ready = true;
                self.start_failures = 0;
                if self.first_ready_at.is_none() {
                    self.first_ready_at = Some(Instant::now());
                }
            }
            (
                FromWorker::Done {
                    index,
                    output,
                    busy_ns,
                    marshal_ns,
                },
                State::Busy {
                    index: i, attempt, ..
                },
            ) if index as usize == i => {
                self.account(w, busy_ns);
                let t = Instant::now();
                let decoded = postcard::from_bytes::<T>(&output);
                self.marshal += t.elapsed() + Duration::from_nanos(marshal_ns);
                match decoded {
                    Ok(v) => self.finish(i, Ok(v)),
                    Err(e) => {
                        let failure = TaskFailure {
                            index: i,
                            kind: FailureKind::Marshal,
                            message: format!("could not decode the result: {e}"),
                            attempts: attempt + 1,
                        };
                        self.finish(i, Err(failure));
                    }
                }
            }
            (
                FromWorker::Panicked {
                    index,
                    message,
                    busy_ns,
                },
                State::Busy {
                    index: i, attempt, ..
                },
            ) if index as usize == i => {
                self.account(w, busy_ns);
                self.fail(i, attempt, FailureKind::Panic, message);
            }
            (
                FromWorker::MarshalFailed {
                    index,
                    message,
                    busy_ns,
                },
                State::Busy {
                    index: i, attempt, ..
                },
            ) if index as usize == i => {
                self.account(w, busy_ns);
                let failure = TaskFailure {
                    index: i,
                    kind: FailureKind::Marshal,
                    message: format!("could not encode the result: {message}"),
                    attempts: attempt + 1,
                };
                self.finish(i, Err(failure));
            }
            (FromWorker::Fatal { message }, state) => {
                self.workers[w].state = state;
                self.last_start_error = message.clone();
                // A fatal message comes from a worker that cannot run this job at all.
                self.start_failures = usize::MAX / 2;
                let how = self.workers[w].reap();
                self.lost(w, format!("{message} ({how})"), false);
            }
            (msg, state) => {
                self.workers[w].state = state;
                let how = self.workers[w].kill();
                self.lost(
                    w,
                    format!("protocol violation: unexpected {msg:?} ({how})"),
                    false,
                );
            }
        }
    }

    fn account(&mut self, w: usize, busy_ns: u64) {
        let secs = busy_ns as f64 * 1e-9;
        self.task_secs.push(secs);
        self.busy[w] += secs;
    }

    fn assign(&mut self) {
        for w in 0..self.workers.len() {
            if !matches!(self.workers[w].state, State::Idle) {
                continue;
            }
            let Some((index, attempt)) = self.pending.pop_front() else {
                return;
            };
            let frame = encode(&ToWorker::Task {
                index: index as u64,
                attempt,
            })
            .expect("a task message always encodes");
            let sent = Instant::now();
            let deadline = self.config.timeout.map(|t| sent + t);
            let worker = &mut self.workers[w];
            worker.state = State::Busy {
                index,
                attempt,
                sent,
                deadline,
            };
            if let Some(tx) = &worker.to_child {
                let _ = tx.send(frame);
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.workers
            .iter()
            .filter_map(|x| match x.state {
                State::Starting { deadline } => Some(deadline),
                State::Busy { deadline, .. } => deadline,
                _ => None,
            })
            .min()
    }

    fn expire(&mut self) {
        let now = Instant::now();
        for w in 0..self.workers.len() {
            let expired = match self.workers[w].state {
                State::Starting { deadline } => (deadline <= now).then_some(false),
                State::Busy {
                    deadline: Some(d), ..
                } => (d <= now).then_some(true),
                _ => None,
            };
            if let Some(timed_out) = expired {
                let how = self.workers[w].kill();
                let how = if timed_out {
                    how
                } else {
                    format!("no answer within start time-out ({how})")
                };
                self.lost(w, how, timed_out);
            }
        }
    }

    fn alive(&self) -> bool {
        self.workers.iter().any(|x| !matches!(x.state, State::Dead))
    }

    /// Gives up on the tasks still queued: no worker can run them.
    fn abandon_pending(&mut self) {
        let why = format!("no worker could be started: {}", self.last_start_error);
        while let Some((index, attempt)) = self.pending.pop_front() {
            let failure = TaskFailure {
                index,
                kind: FailureKind::WorkerUnavailable,
                message: why.clone(),
                attempts: attempt,
            };
            self.finish(index, Err(failure));
        }
    }

    fn run(&mut self, events: &Receiver<(usize, u64, Event)>) {
        while self.done < self.n {
            self.assign();
            if !self.alive() {
                self.abandon_pending();
                break;
            }
            let received = match self.next_deadline() {
                Some(d) => events.recv_timeout(d.saturating_duration_since(Instant::now())),
                None => events.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match received {
                Ok((w, generation, event)) if self.workers[w].generation == generation => {
                    match event {
                        Event::Msg(msg) => self.handle(w, msg),
                        Event::End(why) => {
                            let how = self.workers[w].reap();
                            self.lost(w, format!("{how}{why}"), false);
                        }
                    }
                }
                Ok(_) => {} // from a worker already replaced
                Err(RecvTimeoutError::Timeout) => self.expire(),
                Err(RecvTimeoutError::Disconnected) => unreachable!("the scheduler holds a sender"),
            }
        }
    }
}

fn reader_loop(
    stdout: std::process::ChildStdout,
    w: usize,
    generation: u64,
    events: &Sender<(usize, u64, Event)>,
) {
    let mut r = BufReader::new(stdout);
    match skip_to_magic(&mut r) {
        Ok(true) => {}
        Ok(false) => {
            let _ = events.send((w, generation, Event::End(String::new())));
            return;
        }
        Err(e) => {
            let _ = events.send((
                w,
                generation,
                Event::End(format!("; reading its output: {e}")),
            ));
            return;
        }
    }
    loop {
        match read_msg::<_, FromWorker>(&mut r) {
            Ok(Some(msg)) => {
                if events.send((w, generation, Event::Msg(msg))).is_err() {
                    return;
                }
            }
            Ok(None) => {
                let _ = events.send((w, generation, Event::End(String::new())));
                return;
            }
            Err(e) => {
                let _ = events.send((w, generation, Event::End(format!("; bad frame: {e}"))));
                return;
            }
        }
    }
}

/// Runs `job` as tasks `0..n` on `workers` worker processes.
pub(crate) fn run<J: RemoteJob>(
    config: &ExecConfig,
    job: &J,
    n: usize,
    workers: usize,
) -> Result<RunOutput<J::Output>, ExecError> {
    if std::env::var_os(WORKER_ENV).is_some() {
        // This process was started as a worker but its main did not serve: running the job
        // here would start workers of workers without end.
        eprintln!(
            "par-core: this process was started as a worker ({WORKER_ENV}=1) but its main did \
             not call par_core::process::serve_if_worker before running a job; exiting"
        );
        std::process::exit(4);
    }
    let started = Instant::now();
    let t = Instant::now();
    let job_bytes = postcard::to_stdvec(job).map_err(|e| ExecError::Serialise {
        what: "job",
        message: e.to_string(),
    })?;
    let hello = encode(&ToWorker::Hello {
        job_name: J::NAME.to_string(),
        job: job_bytes,
        seed: config.seed,
        n_tasks: n as u64,
    })
    .map_err(|e| ExecError::Serialise {
        what: "job",
        message: e.to_string(),
    })?;
    let marshal = t.elapsed();
    let command = match &config.worker_command {
        Some(c) => c.clone(),
        None => WorkerCommand::current_exe().map_err(|source| ExecError::Spawn {
            program: "<current executable>".into(),
            source,
        })?,
    };
    let workers = workers.min(n).max(1);
    let (events, received) = mpsc::channel();
    let mut s = Scheduler::<J::Output> {
        config,
        command,
        hello,
        n,
        events,
        workers: Vec::with_capacity(workers),
        pending: (0..n).map(|i| (i, 0)).collect(),
        results: (0..n).map(|_| None).collect(),
        done: 0,
        task_secs: Vec::with_capacity(n),
        busy: vec![0.0; workers],
        marshal,
        retries: 0,
        start_failures: 0,
        last_start_error: String::new(),
        ever_ready: false,
        first_ready_at: None,
        started,
        bar: TaskBar::new(config.progress, n, &config.label),
    };
    if n > 0 {
        for w in 0..workers {
            if let Err(source) = s.spawn(w) {
                return Err(ExecError::Spawn {
                    program: s.command.program.clone(),
                    source,
                });
            }
        }
        s.run(&received);
    }
    if !s.ever_ready && s.done == n && n > 0 && s.results.iter().all(|r| matches!(r, Some(Err(_))))
    {
        // Not one worker came up: that is a set-up error, not a task failure.
        return Err(ExecError::WorkerStart {
            program: s.command.program.clone(),
            message: s.last_start_error.clone(),
        });
    }
    // Shut down: closing each worker's input ends it.
    for worker in &mut s.workers {
        if let Some(tx) = worker.to_child.take() {
            let _ = tx.send(encode(&ToWorker::Shutdown).expect("shutdown encodes"));
        }
    }
    for worker in &mut s.workers {
        if worker.child.is_some() {
            worker.reap();
        }
    }
    s.bar.finish();
    let wall = s.started.elapsed();
    let setup = s.first_ready_at.map_or(Duration::ZERO, |t| t - s.started);
    let mut failures = Vec::new();
    let results: Vec<Result<J::Output, TaskFailure>> = s
        .results
        .into_iter()
        .map(|r| {
            let r = r.expect("every task ends with a result or a failure");
            if let Err(f) = &r {
                failures.push(f.clone());
            }
            r
        })
        .collect();
    let report = RunReport::build(
        format!("processes({workers})"),
        "configured".into(),
        n,
        wall,
        setup,
        s.marshal,
        &s.task_secs,
        s.busy,
        s.retries,
        failures,
    );
    Ok(RunOutput { results, report })
}
