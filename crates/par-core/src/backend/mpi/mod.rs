//! `Mpi` (feature `mpi`): tasks `0..n` split over the ranks of an MPI job, threads inside each
//! rank, results gathered on rank 0 in index order and broadcast to every rank.
//!
//! Each rank runs the same program (SPMD) and calls [`crate::Executor::run`] collectively.
//! On every rank the calling thread is the *driver*: it alone talks MPI during the run, while
//! the rank's `threads_per_rank` pool threads compute. The run goes:
//!
//! 1. **Hello.** Rank 0 sends its job (serialised), seed, task count, retries and schedule to
//!    every rank: the job that runs is rank 0's, so inputs read on rank 0 reach every rank.
//! 2. **Work.** `static`: rank `r` queues its block `r n / R .. (r + 1) n / R`. `dynamic`: each
//!    rank asks rank 0 for a chunk when its local queue runs low (prefetching one chunk ahead
//!    of its threads); rank 0 answers with the next `max(1, remaining / (2 R T))` tasks and
//!    serves itself the same way. Task `i` always gets `seed::task_rng(seed, i)`.
//! 3. **Results.** Ranks send their results to rank 0 in batches while they compute (a batch
//!    at most 20 ms old); a panicking task is caught and reported with its index, like in
//!    every mode.
//! 4. **Finish.** Rank 0 assembles the results in index order with the report of every rank
//!    and broadcasts them (`MPI_Ibcast`), so every rank returns the same `RunOutput`.
//!
//! **Liveness.** Every wait is a non-blocking test in a loop that also watches heartbeats
//! (see `runtime.rs`). Rank 0 declares a rank lost when it has not heard from it within the
//! liveness time-out (5 s, `PAR_CORE_MPI_LIVENESS_S` to change), tells every other rank which
//! rank and which tasks were lost, waits briefly for their acknowledgement, and every surviving
//! rank prints the error on standard error and returns [`ExecError::RankLost`]. A rank that
//! stops hearing from rank 0 does the same, naming rank 0. MPI is then left without
//! `MPI_Finalize` (it could wait for the dead rank for ever) and later runs fail at once.

mod peers;
mod runtime;

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use mpi::point_to_point::{MatchedReceiveVec as _, Source as _};
use mpi::request::StaticScope;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::Root as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use peers::Peers;
use runtime::{Beats, Pending, Runtime, TAG_RUN};
pub(crate) use runtime::{initialised, runtime};

use super::processes::bytes;
use super::threads::Pool;
use super::{Backend, WorkerLog, run_one};
use crate::ExecError;
use crate::config::{ExecConfig, MpiSchedule};
use crate::executor::{RemoteJob, RunOutput};
use crate::report::{FailureKind, MpiReport, RankReport, RunReport, TaskFailure};

/// The MPI backend of one executor.
pub(crate) struct Mpi {
    threads: usize,
    schedule: MpiSchedule,
    pool: Pool,
    rt: &'static Runtime,
}

impl std::fmt::Debug for Mpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mpi")
            .field("threads", &self.threads)
            .field("schedule", &self.schedule)
            .field("rank", &self.rt.rank)
            .field("size", &self.rt.size)
            .finish()
    }
}

impl Mpi {
    /// Initialises MPI (once per process) and prepares a pool of `threads` threads.
    pub(crate) fn new(threads: usize, schedule: MpiSchedule) -> Result<Self, ExecError> {
        let rt = runtime()?;
        runtime::start_heartbeats(rt);
        Ok(Self {
            threads,
            schedule,
            pool: Pool::new(threads),
            rt,
        })
    }
}

impl Backend for Mpi {
    fn run_remote<J: RemoteJob>(
        &self,
        config: &ExecConfig,
        job: &J,
        n: usize,
    ) -> Result<RunOutput<J::Output>, ExecError> {
        if let Some(why) = self.rt.is_broken() {
            return Err(ExecError::Mpi(format!(
                "an earlier run lost a rank ({why}); MPI cannot be used again in this process"
            )));
        }
        let mut runs = self.rt.runs.lock().unwrap_or_else(|e| e.into_inner());
        *runs += 1;
        let run = *runs;
        let started = Instant::now();
        let mut comm = Comm::new(self.rt, run, started);
        let hello = self.hello(&mut comm, config, job, n)?;
        let decoded;
        let job: &J = match &hello.job {
            Some(bytes) => {
                decoded = postcard::from_bytes::<J>(bytes).map_err(|e| {
                    let why = format!("could not decode rank 0's job `{}`: {e}", J::NAME);
                    comm.refuse(&why);
                    ExecError::Mpi(why)
                })?;
                &decoded
            }
            None => job,
        };
        let (pool, setup_pool) = self.pool.get()?;
        let setup = started.elapsed().max(setup_pool);
        let total_threads = self.threads * self.rt.size;
        let shared = Shared::default();
        let (tx, rx) = mpsc::channel();
        let received = |index: usize, output: &J::Output| job.received_on_root(index, output);
        let mut driver = Driver::<J::Output> {
            comm,
            received: &received,
            n: hello.n,
            schedule: hello.schedule,
            threads: self.threads,
            total_threads,
            shared: &shared,
            outstanding: 0,
            asked: false,
            no_more: false,
            next: 0,
            slots: Vec::new(),
            wire: Vec::new(),
            done: 0,
            held: vec![Vec::new(); self.rt.size],
            stats: (0..self.rt.size).map(|_| None).collect(),
            batch: Vec::new(),
            batch_since: None,
            gather: Duration::ZERO,
            messages: 0,
            requests: 0,
            serve: Duration::ZERO,
            thread_logs: Vec::new(),
        };
        let (seed, retries, n) = (hello.seed, hello.retries, hello.n);
        pool.in_place_scope(|scope| {
            for thread in 0..self.threads {
                let tx: Sender<Event<J::Output>> = tx.clone();
                let shared = &shared;
                scope.spawn(move |_| {
                    let mut log = WorkerLog::new();
                    while let Some(i) = shared.next() {
                        run_one(job, i, n, seed, retries, &mut log);
                        let (index, result) = log.results.pop().expect("run_one logs a result");
                        if tx.send(Event::Task { index, result }).is_err() {
                            break;
                        }
                    }
                    let _ = tx.send(Event::Finished {
                        thread,
                        busy: log.busy,
                        task_secs: log.task_secs,
                        retries: log.retries,
                    });
                });
            }
            drop(tx);
            let out = driver.drive(&rx, started, setup);
            shared.close();
            out
        })
    }
}

/// What rank 0 tells every rank at the start of a run.
struct Hello {
    /// Rank 0's job, serialised (`None` on rank 0 itself).
    job: Option<Vec<u8>>,
    seed: u64,
    n: usize,
    retries: u32,
    schedule: MpiSchedule,
}

impl Mpi {
    /// Step 1: rank 0 sends the run's inputs; the other ranks wait for them.
    fn hello<J: RemoteJob>(
        &self,
        comm: &mut Comm,
        config: &ExecConfig,
        job: &J,
        n: usize,
    ) -> Result<Hello, ExecError> {
        if self.rt.rank == 0 {
            if self.rt.size > 1 {
                let t = Instant::now();
                let job_bytes = postcard::to_stdvec(job).map_err(|e| ExecError::Serialise {
                    what: "job",
                    message: e.to_string(),
                })?;
                for r in 1..self.rt.size {
                    comm.send(
                        r,
                        &Msg::Hello {
                            run: comm.run,
                            job_name: J::NAME.to_string(),
                            job: job_bytes.clone(),
                            seed: config.seed,
                            n: n as u64,
                            retries: config.retries,
                            schedule: self.schedule,
                        },
                    );
                }
                comm.time += t.elapsed();
            }
            return Ok(Hello {
                job: None,
                seed: config.seed,
                n,
                retries: config.retries,
                schedule: self.schedule,
            });
        }
        loop {
            match comm.wait_message()? {
                (
                    0,
                    Msg::Hello {
                        job_name,
                        job,
                        seed,
                        n,
                        retries,
                        schedule,
                        ..
                    },
                ) => {
                    if job_name != J::NAME {
                        let why = format!(
                            "rank {} runs job `{}` but rank 0 runs `{job_name}`: every rank must \
                             call Executor::run with the same job type",
                            self.rt.rank,
                            J::NAME
                        );
                        comm.refuse(&why);
                        return Err(ExecError::Mpi(why));
                    }
                    return Ok(Hello {
                        job: Some(job),
                        seed,
                        n: n as usize,
                        retries,
                        schedule,
                    });
                }
                (_, Msg::Abort { cause, .. }) => return Err(comm.aborted(cause)),
                (from, other) => tracing::debug!(from, "mpi: ignoring {other:?} before hello"),
            }
        }
    }
}

/// The messages of a run (postcard over `MPI_Isend`, tag [`TAG_RUN`]).
#[derive(Debug, Serialize, Deserialize)]
enum Msg {
    Hello {
        run: u64,
        job_name: String,
        #[serde(with = "bytes")]
        job: Vec<u8>,
        seed: u64,
        n: u64,
        retries: u32,
        schedule: MpiSchedule,
    },
    Request {
        run: u64,
    },
    /// Tasks `start..end`; an empty range means no more work.
    Assign {
        run: u64,
        start: u64,
        end: u64,
    },
    Results {
        run: u64,
        items: Vec<(u64, Outcome)>,
    },
    Done {
        run: u64,
        stats: RankStats,
    },
    /// The final output follows as a broadcast of `len` bytes.
    Finish {
        run: u64,
        len: u64,
    },
    Abort {
        run: u64,
        cause: Cause,
    },
    AbortAck {
        run: u64,
    },
}

impl Msg {
    fn run(&self) -> u64 {
        match self {
            Msg::Hello { run, .. }
            | Msg::Request { run }
            | Msg::Assign { run, .. }
            | Msg::Results { run, .. }
            | Msg::Done { run, .. }
            | Msg::Finish { run, .. }
            | Msg::Abort { run, .. }
            | Msg::AbortAck { run } => *run,
        }
    }
}

/// One task's outcome on the wire.
#[derive(Debug, Serialize, Deserialize)]
enum Outcome {
    Ok(#[serde(with = "bytes")] Vec<u8>),
    Panicked { message: String, attempts: u32 },
    Unencodable { message: String, attempts: u32 },
}

impl Outcome {
    fn of<T: Serialize>(index: usize, result: &Result<T, TaskFailure>) -> Self {
        match result {
            Ok(v) => match postcard::to_stdvec(v) {
                Ok(b) => Outcome::Ok(b),
                Err(e) => Outcome::Unencodable {
                    message: format!("could not encode the result of task {index}: {e}"),
                    attempts: 1,
                },
            },
            Err(f) => match f.kind {
                FailureKind::Marshal => Outcome::Unencodable {
                    message: f.message.clone(),
                    attempts: f.attempts,
                },
                _ => Outcome::Panicked {
                    message: f.message.clone(),
                    attempts: f.attempts,
                },
            },
        }
    }

    fn decode<T: DeserializeOwned>(self, index: usize) -> Result<T, TaskFailure> {
        match self {
            Outcome::Ok(b) => postcard::from_bytes(&b).map_err(|e| TaskFailure {
                index,
                kind: FailureKind::Marshal,
                message: format!("could not decode the result: {e}"),
                attempts: 1,
            }),
            Outcome::Panicked { message, attempts } => Err(TaskFailure {
                index,
                kind: FailureKind::Panic,
                message,
                attempts,
            }),
            Outcome::Unencodable { message, attempts } => Err(TaskFailure {
                index,
                kind: FailureKind::Marshal,
                message,
                attempts,
            }),
        }
    }
}

/// Why a run was abandoned.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Cause {
    Lost {
        rank: u64,
        tasks: Vec<u64>,
        why: String,
    },
    Refused {
        rank: u64,
        why: String,
    },
}

/// What one rank did, sent to rank 0 at the end.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RankStats {
    busy: Vec<f64>,
    task_secs: Vec<f64>,
    retries: u32,
    tasks: u64,
    comm_s: f64,
}

/// The broadcast at the end: the report and every outcome in index order.
#[derive(Serialize, Deserialize)]
struct Final {
    report_json: String,
    outcomes: Vec<Outcome>,
}

/// What the compute threads tell the driver.
enum Event<T> {
    Task {
        index: usize,
        result: Result<T, TaskFailure>,
    },
    Finished {
        thread: usize,
        busy: f64,
        task_secs: Vec<f64>,
        retries: u32,
    },
}

/// The rank's local task queue, fed by the driver, drained by the compute threads.
#[derive(Default)]
struct Shared {
    queue: Mutex<(VecDeque<Range<usize>>, bool)>,
    ready: Condvar,
}

impl Shared {
    fn push(&self, range: Range<usize>) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.0.push_back(range);
        self.ready.notify_all();
    }

    /// Tasks queued and not yet started.
    fn queued(&self) -> usize {
        let q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.0.iter().map(|r| r.len()).sum()
    }

    fn close(&self) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.1 = true;
        q.0.clear();
        self.ready.notify_all();
    }

    /// The next task, waiting while the queue is empty and open; `None` once closed.
    fn next(&self) -> Option<usize> {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(r) = q.0.front_mut() {
                let i = r.start;
                r.start += 1;
                if r.start == r.end {
                    q.0.pop_front();
                }
                return Some(i);
            }
            if q.1 {
                return None;
            }
            q = self.ready.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// MPI traffic of one run on one rank: sends in flight, heartbeats, liveness.
struct Comm {
    rt: &'static Runtime,
    world: SimpleCommunicator,
    run: u64,
    started: Instant,
    pending: Vec<Pending>,
    beats: Beats,
    /// Wall time in MPI calls and message (de)serialisation (the fall-back measure).
    time: Duration,
    /// The driver thread's CPU time at the start of the run, where the platform tells it.
    cpu_start: Option<f64>,
}

impl Comm {
    fn new(rt: &'static Runtime, run: u64, started: Instant) -> Self {
        Self {
            rt,
            world: rt.world(),
            run,
            started,
            pending: Vec::new(),
            beats: Beats::default(),
            time: Duration::ZERO,
            cpu_start: crate::bench::thread_cpu_seconds(),
        }
    }

    /// The driver's communication cost so far, in seconds: its thread's CPU time (the driver
    /// does nothing but communicate, and CPU time leaves out the naps between polls and the
    /// time the thread waits for a core on an over-subscribed node), or the wall time spent
    /// inside its MPI calls where CPU time is unknown.
    fn cost_s(&self) -> f64 {
        match (self.cpu_start, crate::bench::thread_cpu_seconds()) {
            (Some(a), Some(b)) => (b - a).max(0.0),
            _ => self.time.as_secs_f64(),
        }
    }

    fn send(&mut self, dest: usize, msg: &Msg) {
        let t = Instant::now();
        let bytes = postcard::to_stdvec(msg).expect("run messages always encode");
        self.pending
            .push(Pending::send(&self.world, dest, bytes, TAG_RUN));
        self.time += t.elapsed();
    }

    /// Tests the sends in flight and beats when no thread does; returns a message if one is
    /// waiting.
    fn poll(&mut self) -> Option<(usize, Msg)> {
        let t = Instant::now();
        self.pending.retain_mut(|p| !p.test());
        if !self.rt.beats_in_background() && self.rt.size > 1 {
            self.rt.beat(&mut self.beats);
        }
        let mut got = None;
        while let Some(probed) = self
            .world
            .any_process()
            .immediate_matched_probe_with_tag(TAG_RUN)
        {
            let (bytes, status) = probed.matched_receive_vec::<u8>();
            let from = status.source_rank() as usize;
            self.rt.heard(from);
            match postcard::from_bytes::<Msg>(&bytes) {
                Ok(m) if m.run() == self.run => {
                    got = Some((from, m));
                    break;
                }
                Ok(m) => tracing::debug!(from, "mpi: dropping a message of run {}", m.run()),
                Err(e) => tracing::debug!(from, "mpi: dropping an undecodable message: {e}"),
            }
        }
        self.time += t.elapsed();
        got
    }

    /// The ranks silent for longer than the liveness time-out among `ranks`.
    fn lost_among(&self, ranks: impl Iterator<Item = usize>) -> Option<(usize, Duration)> {
        ranks
            .map(|r| (r, self.rt.silent_for(r, self.started)))
            .find(|(_, s)| *s > self.rt.liveness)
    }

    /// On a rank other than 0: waits for the next message from anyone, watching rank 0.
    fn wait_message(&mut self) -> Result<(usize, Msg), ExecError> {
        let mut nap = Duration::from_micros(20);
        loop {
            if let Some(m) = self.poll() {
                return Ok(m);
            }
            self.check_root()?;
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(2));
        }
    }

    /// On a rank other than 0: fails when rank 0 went silent.
    fn check_root(&mut self) -> Result<(), ExecError> {
        if self.rt.rank == 0 {
            return Ok(());
        }
        match self.lost_among(std::iter::once(0)) {
            None => Ok(()),
            Some((_, silent)) => {
                let err = ExecError::RankLost {
                    rank: 0,
                    tasks: Vec::new(),
                    why: format!("no message from it for {:.1} s", silent.as_secs_f64()),
                    seen_by: self.rt.rank,
                };
                self.fail(&err);
                // Give the other survivors the moment they need to see it too before this
                // process exits and the launcher ends the job.
                std::thread::sleep(Duration::from_secs(1));
                Err(err)
            }
        }
    }

    /// Reports `err` on standard error and leaves MPI unusable for later runs.
    fn fail(&mut self, err: &ExecError) {
        self.rt.give_up(err, &mut self.pending, &mut self.beats);
    }

    /// A rank other than 0 refuses the run: tells rank 0, which ends it everywhere.
    fn refuse(&mut self, why: &str) {
        let msg = Msg::Abort {
            run: self.run,
            cause: Cause::Refused {
                rank: self.rt.rank as u64,
                why: why.to_string(),
            },
        };
        self.send(0, &msg);
        self.flush(Duration::from_secs(2));
    }

    /// Waits up to `limit` for the sends in flight to complete.
    fn flush(&mut self, limit: Duration) {
        runtime::settle(&mut self.pending, limit);
    }

    /// This rank received an abort notice: acknowledge it and turn it into the error.
    fn aborted(&mut self, cause: Cause) -> ExecError {
        let ack = Msg::AbortAck { run: self.run };
        self.send(0, &ack);
        self.flush(Duration::from_secs(1));
        let err = error_of(cause, self.rt.rank);
        self.fail(&err);
        err
    }
}

fn error_of(cause: Cause, seen_by: usize) -> ExecError {
    match cause {
        Cause::Lost { rank, tasks, why } => ExecError::RankLost {
            rank: rank as usize,
            tasks: tasks.into_iter().map(|t| t as usize).collect(),
            why,
            seen_by,
        },
        Cause::Refused { rank, why } => {
            ExecError::Mpi(format!("rank {rank} refused the run: {why}"))
        }
    }
}

/// The driver of one run on one rank.
struct Driver<'a, T> {
    comm: Comm,
    /// Rank 0: the job's [`RemoteJob::received_on_root`], for each result from another rank.
    received: &'a dyn Fn(usize, &T),
    n: usize,
    schedule: MpiSchedule,
    threads: usize,
    total_threads: usize,
    shared: &'a Shared,
    /// Tasks queued or running on this rank.
    outstanding: usize,
    /// A request for work is in flight (ranks other than 0).
    asked: bool,
    /// Rank 0 has no more work for this rank.
    no_more: bool,
    /// Rank 0: the next task not handed out (dynamic).
    next: usize,
    /// Rank 0: the results in index order.
    slots: Vec<Option<Result<T, TaskFailure>>>,
    /// Rank 0: the other ranks' outcomes as received, for the broadcast.
    wire: Vec<Option<Outcome>>,
    /// Rank 0: results in place.
    done: usize,
    /// Rank 0: the ranges handed to each rank.
    held: Vec<Vec<Range<usize>>>,
    /// Rank 0: each rank's statistics once it is done.
    stats: Vec<Option<RankStats>>,
    /// Other ranks: results not yet sent.
    batch: Vec<(u64, Outcome)>,
    batch_since: Option<Instant>,
    gather: Duration,
    messages: u64,
    /// Rank 0: chunk requests answered and the time spent answering them.
    requests: u64,
    serve: Duration,
    thread_logs: Vec<(usize, f64, Vec<f64>, u32)>,
}

impl<T: Serialize + DeserializeOwned + Send> Driver<'_, T> {
    fn rank(&self) -> usize {
        self.comm.rt.rank
    }

    fn size(&self) -> usize {
        self.comm.rt.size
    }

    /// The block of rank `r` in the static schedule.
    fn block(&self, r: usize) -> Range<usize> {
        let size = self.size();
        (r * self.n / size)..((r + 1) * self.n / size)
    }

    /// The next dynamic chunk, from rank 0's cursor.
    fn take_chunk(&mut self) -> Range<usize> {
        let remaining = self.n - self.next;
        let chunk = remaining
            .div_ceil(2 * self.total_threads)
            .max(1)
            .min(remaining);
        let range = self.next..self.next + chunk;
        self.next += chunk;
        range
    }

    fn queue_local(&mut self, range: Range<usize>) {
        self.outstanding += range.len();
        if !range.is_empty() {
            self.shared.push(range);
        }
    }

    fn drive(
        &mut self,
        events: &Receiver<Event<T>>,
        started: Instant,
        setup: Duration,
    ) -> Result<RunOutput<T>, ExecError> {
        let me = self.rank();
        if me == 0 {
            self.slots = (0..self.n).map(|_| None).collect();
            if self.size() > 1 {
                self.wire = (0..self.n).map(|_| None).collect();
            }
        }
        match self.schedule {
            MpiSchedule::Static => {
                let block = self.block(me);
                if me == 0 {
                    for r in 0..self.size() {
                        let b = self.block(r);
                        self.held[r].push(b);
                    }
                }
                self.queue_local(block);
                self.no_more = true;
            }
            MpiSchedule::Dynamic => {}
        }
        let flush_at = (self.n / (8 * self.size()).max(1)).clamp(1, 4096);
        let mut nap = Duration::from_micros(20);
        let mut threads_finished = 0;
        let mut sent_done = false;
        loop {
            let mut active = false;
            // Work: rank 0 serves itself; the other ranks ask ahead of their threads.
            if self.schedule == MpiSchedule::Dynamic
                && !self.no_more
                && self.shared.queued() < self.threads
            {
                if me == 0 {
                    if self.next < self.n {
                        let chunk = self.take_chunk();
                        self.held[0].push(chunk.clone());
                        self.queue_local(chunk);
                    } else {
                        self.no_more = true;
                    }
                } else if !self.asked {
                    let run = self.comm.run;
                    self.comm.send(0, &Msg::Request { run });
                    self.asked = true;
                }
            }
            // Results from this rank's threads.
            while let Ok(event) = events.try_recv() {
                active = true;
                self.on_event(event, &mut threads_finished);
            }
            let local_done = self.no_more && self.outstanding == 0;
            if local_done && threads_finished == 0 {
                self.shared.close();
            }
            // Other ranks: send results in batches.
            if me != 0
                && !self.batch.is_empty()
                && (local_done
                    || self.batch.len() >= flush_at
                    || self
                        .batch_since
                        .is_some_and(|t| t.elapsed() >= Duration::from_millis(20)))
            {
                let items = std::mem::take(&mut self.batch);
                self.batch_since = None;
                let run = self.comm.run;
                self.comm.send(0, &Msg::Results { run, items });
            }
            if me != 0 && local_done && threads_finished == self.threads && !sent_done {
                let stats = self.own_stats();
                let run = self.comm.run;
                self.comm.send(0, &Msg::Done { run, stats });
                sent_done = true;
            }
            // Messages.
            while let Some((from, msg)) = self.comm.poll() {
                active = true;
                if let Some(out) = self.handle(from, msg)? {
                    return Ok(out);
                }
            }
            // Rank 0: everything in?
            if me == 0 && self.done == self.n && threads_finished == self.threads {
                if self.stats[0].is_none() {
                    self.stats[0] = Some(self.own_stats());
                }
                if self.stats.iter().all(Option::is_some) {
                    return self.finish_root(started, setup);
                }
            }
            self.check_liveness()?;
            if active {
                nap = Duration::from_micros(20);
            } else {
                match events.recv_timeout(nap) {
                    Ok(event) => self.on_event(event, &mut threads_finished),
                    Err(RecvTimeoutError::Timeout) => {}
                    // Every thread has ended: nothing to wait on but MPI.
                    Err(RecvTimeoutError::Disconnected) => std::thread::sleep(nap),
                }
                nap = (nap * 2).min(Duration::from_millis(1));
            }
        }
    }

    /// A task finished on this rank, or one of its threads ended.
    fn on_event(&mut self, event: Event<T>, threads_finished: &mut usize) {
        match event {
            Event::Task { index, result } => {
                self.outstanding -= 1;
                if self.rank() == 0 {
                    self.slots[index] = Some(result);
                    self.done += 1;
                } else {
                    let t = Instant::now();
                    let outcome = Outcome::of(index, &result);
                    self.comm.time += t.elapsed();
                    self.batch.push((index as u64, outcome));
                    self.batch_since.get_or_insert_with(Instant::now);
                }
            }
            Event::Finished {
                thread,
                busy,
                task_secs,
                retries,
            } => {
                *threads_finished += 1;
                self.thread_logs.push((thread, busy, task_secs, retries));
            }
        }
    }

    fn own_stats(&mut self) -> RankStats {
        self.thread_logs.sort_by_key(|l| l.0);
        RankStats {
            busy: self.thread_logs.iter().map(|l| l.1).collect(),
            task_secs: self
                .thread_logs
                .iter()
                .flat_map(|l| l.2.iter().copied())
                .collect(),
            retries: self.thread_logs.iter().map(|l| l.3).sum(),
            tasks: 0,
            comm_s: self.comm.cost_s(),
        }
    }

    /// Handles one message; `Some` when the run is over on this rank.
    fn handle(&mut self, from: usize, msg: Msg) -> Result<Option<RunOutput<T>>, ExecError> {
        let me = self.rank();
        if me == 0 {
            self.messages += 1;
        }
        match msg {
            Msg::Request { .. } if me == 0 => {
                let t = Instant::now();
                let range = if self.next < self.n {
                    self.take_chunk()
                } else {
                    self.n..self.n
                };
                if !range.is_empty() {
                    self.held[from].push(range.clone());
                }
                let run = self.comm.run;
                self.comm.send(
                    from,
                    &Msg::Assign {
                        run,
                        start: range.start as u64,
                        end: range.end as u64,
                    },
                );
                self.requests += 1;
                self.serve += t.elapsed();
            }
            Msg::Assign { start, end, .. } if me != 0 => {
                self.asked = false;
                if start == end {
                    self.no_more = true;
                } else {
                    self.queue_local(start as usize..end as usize);
                }
            }
            Msg::Results { items, .. } if me == 0 => {
                let t = Instant::now();
                for (index, outcome) in items {
                    let index = index as usize;
                    if index >= self.n || self.slots[index].is_some() {
                        continue;
                    }
                    let result = match &outcome {
                        Outcome::Ok(b) => postcard::from_bytes::<T>(b).map_err(|e| TaskFailure {
                            index,
                            kind: FailureKind::Marshal,
                            message: format!("could not decode the result: {e}"),
                            attempts: 1,
                        }),
                        _ => Outcome::decode_failure(&outcome, index),
                    };
                    if let Ok(value) = &result {
                        (self.received)(index, value);
                    }
                    self.slots[index] = Some(result);
                    self.wire[index] = Some(outcome);
                    self.done += 1;
                }
                self.gather += t.elapsed();
            }
            Msg::Done { stats, .. } if me == 0 => {
                self.stats[from] = Some(stats);
            }
            Msg::Finish { len, .. } if me != 0 => {
                return self.finish_other(len as usize).map(Some);
            }
            Msg::Abort { cause, .. } if me != 0 => return Err(self.comm.aborted(cause)),
            Msg::Abort { cause, .. } => {
                // A rank refused the run: end it everywhere.
                let err = error_of(cause.clone(), 0);
                self.abort_all(cause, &[from]);
                return Err(err);
            }
            other => tracing::debug!(from, "mpi: unexpected {other:?}"),
        }
        Ok(None)
    }

    /// Rank 0 tells every other rank (but `skip`) that the run is over, and waits briefly for
    /// their acknowledgements so that each has reported before any process exits.
    fn abort_all(&mut self, cause: Cause, skip: &[usize]) {
        let run = self.comm.run;
        let others: Vec<usize> = (1..self.size()).filter(|r| !skip.contains(r)).collect();
        for &r in &others {
            self.comm.send(
                r,
                &Msg::Abort {
                    run,
                    cause: cause.clone(),
                },
            );
        }
        let until = Instant::now() + Duration::from_secs(2);
        let mut acked = 0;
        while acked < others.len() && Instant::now() < until {
            match self.comm.poll() {
                Some((_, Msg::AbortAck { .. })) => acked += 1,
                Some(_) => {}
                None => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        let err = error_of(cause, 0);
        self.comm.fail(&err);
    }

    /// Rank 0: a rank went silent. Other ranks: rank 0 went silent.
    fn check_liveness(&mut self) -> Result<(), ExecError> {
        if self.rank() != 0 {
            return self.comm.check_root();
        }
        let Some((lost, silent)) = self.comm.lost_among(1..self.size()) else {
            return Ok(());
        };
        let tasks: Vec<u64> = self.held[lost]
            .iter()
            .flat_map(|r| r.clone())
            .filter(|&i| self.slots[i].is_none())
            .map(|i| i as u64)
            .collect();
        let cause = Cause::Lost {
            rank: lost as u64,
            tasks,
            why: format!("no message from it for {:.1} s", silent.as_secs_f64()),
        };
        let err = error_of(cause.clone(), 0);
        self.abort_all(cause, &[lost]);
        Err(err)
    }

    /// Rank 0: builds the output and the report, broadcasts them, returns them.
    fn finish_root(
        &mut self,
        started: Instant,
        setup: Duration,
    ) -> Result<RunOutput<T>, ExecError> {
        let wall = started.elapsed();
        let mut report = self.report(wall, setup);
        let results: Vec<Result<T, TaskFailure>> = std::mem::take(&mut self.slots)
            .into_iter()
            .map(|s| s.expect("every task has a result"))
            .collect();
        let t = Instant::now();
        if self.size() > 1 {
            let outcomes: Vec<Outcome> = std::mem::take(&mut self.wire)
                .into_iter()
                .zip(&results)
                .enumerate()
                .map(|(i, (w, r))| w.unwrap_or_else(|| Outcome::of(i, r)))
                .collect();
            let report_json =
                serde_json::to_string(&report).expect("a run report always serialises");
            let payload = postcard::to_stdvec(&Final {
                report_json,
                outcomes,
            })
            .map_err(|e| ExecError::Serialise {
                what: "the results",
                message: e.to_string(),
            })?;
            let run = self.comm.run;
            for r in 1..self.size() {
                self.comm.send(
                    r,
                    &Msg::Finish {
                        run,
                        len: payload.len() as u64,
                    },
                );
            }
            let mut buffer = payload;
            self.broadcast(&mut buffer)?;
            self.comm.flush(Duration::from_secs(1));
        }
        if let Some(m) = report.mpi.as_mut() {
            m.broadcast_s = t.elapsed().as_secs_f64();
        }
        Ok(RunOutput { results, report })
    }

    /// Other ranks: receives the broadcast output and report.
    fn finish_other(&mut self, len: usize) -> Result<RunOutput<T>, ExecError> {
        let t = Instant::now();
        let mut buffer = vec![0u8; len];
        self.broadcast(&mut buffer)?;
        let fin: Final = postcard::from_bytes(&buffer)
            .map_err(|e| ExecError::Mpi(format!("could not decode rank 0's results: {e}")))?;
        let mut report: RunReport = serde_json::from_str(&fin.report_json)
            .map_err(|e| ExecError::Mpi(format!("could not decode rank 0's report: {e}")))?;
        let results = fin
            .outcomes
            .into_iter()
            .enumerate()
            .map(|(i, o)| o.decode(i))
            .collect();
        if let Some(m) = report.mpi.as_mut() {
            m.rank = self.rank();
            m.broadcast_s = t.elapsed().as_secs_f64();
        }
        Ok(RunOutput { results, report })
    }

    /// `MPI_Ibcast` of `buffer` from rank 0, tested in a loop that watches liveness.
    fn broadcast(&mut self, buffer: &mut Vec<u8>) -> Result<(), ExecError> {
        let t = Instant::now();
        let leaked: &'static mut [u8] = Box::leak(std::mem::take(buffer).into_boxed_slice());
        let ptr: *mut [u8] = leaked;
        // SAFETY: `ptr` is a leaked box, reclaimed below only once the broadcast completed.
        let data: &'static mut [u8] = unsafe { &mut *ptr };
        let mut request = Some(
            self.comm
                .world
                .process_at_rank(0)
                .immediate_broadcast_into(StaticScope, data),
        );
        let mut nap = Duration::from_micros(20);
        loop {
            match request.take().expect("pending").test() {
                Ok(_) => break,
                Err(r) => request = Some(r),
            }
            if let Err(e) = self.check_liveness() {
                if let Some(r) = request.take() {
                    // SAFETY: abandoning the request; the buffer stays leaked.
                    let _ = unsafe { r.into_raw() };
                }
                return Err(e);
            }
            if self.rank() == 0 {
                self.comm.pending.retain_mut(|p| !p.test());
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(1));
        }
        // SAFETY: the broadcast completed; the box came from `Box::leak` above.
        *buffer = unsafe { Box::from_raw(ptr) }.into_vec();
        self.comm.time += t.elapsed();
        Ok(())
    }

    /// The report covering every rank (rank 0).
    fn report(&mut self, wall: Duration, setup: Duration) -> RunReport {
        let size = self.size();
        let mut tasks_per_rank = vec![0usize; size];
        for (r, ranges) in self.held.iter().enumerate() {
            tasks_per_rank[r] = ranges.iter().map(|x| x.len()).sum();
        }
        let stats: Vec<RankStats> = std::mem::take(&mut self.stats)
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        let mut busy = Vec::new();
        let mut task_secs = Vec::new();
        let mut retries = 0;
        let mut per_rank = Vec::with_capacity(size);
        for (r, s) in stats.iter().enumerate() {
            busy.extend(&s.busy);
            task_secs.extend(&s.task_secs);
            retries += s.retries;
            per_rank.push(RankReport {
                rank: r,
                tasks: tasks_per_rank[r],
                busy_s: s.busy.iter().sum(),
                comm_s: if r == 0 { self.comm.cost_s() } else { s.comm_s },
            });
        }
        let failures: Vec<TaskFailure> = self
            .slots
            .iter()
            .filter_map(|s| s.as_ref().and_then(|r| r.as_ref().err()).cloned())
            .collect();
        let mut report = RunReport::build(
            format!("mpi({size} ranks x {} threads)", self.threads),
            "configured".into(),
            self.n,
            wall,
            setup,
            self.gather,
            &task_secs,
            busy,
            retries,
            failures,
        );
        let rank_busy: Vec<f64> = per_rank.iter().map(|r| r.busy_s).collect();
        let mean = rank_busy.iter().sum::<f64>() / size as f64;
        let max = rank_busy.iter().copied().fold(0.0, f64::max);
        report.mpi = Some(MpiReport {
            ranks: size,
            threads_per_rank: self.threads,
            schedule: self.schedule.to_string(),
            rank: 0,
            per_rank,
            gather_s: self.gather.as_secs_f64(),
            broadcast_s: 0.0,
            messages: self.messages,
            requests: self.requests,
            serve_s: self.serve.as_secs_f64(),
            rank_imbalance: if mean > 0.0 { max / mean - 1.0 } else { 0.0 },
        });
        report
    }
}

impl Outcome {
    fn decode_failure<T>(outcome: &Outcome, index: usize) -> Result<T, TaskFailure> {
        let (kind, message, attempts) = match outcome {
            Outcome::Ok(_) => unreachable!("only failures"),
            Outcome::Panicked { message, attempts } => (FailureKind::Panic, message, attempts),
            Outcome::Unencodable { message, attempts } => (FailureKind::Marshal, message, attempts),
        };
        Err(TaskFailure {
            index,
            kind,
            message: message.clone(),
            attempts: *attempts,
        })
    }
}
