//! MPI for the whole process: initialised once, a heartbeat thread, non-blocking sends whose
//! buffers outlive an abandoned run, and `MPI_Finalize` at exit.
//!
//! Liveness: every rank sends a heartbeat to rank 0 and rank 0 one to every rank each
//! [`HEARTBEAT`], from a thread of its own when the library provides `MPI_THREAD_MULTIPLE`
//! (so a rank busy in user code between two runs still beats), otherwise from the run's
//! driver loop. A rank not heard from within the liveness time-out is declared lost.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use mpi::Threading;
use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
use mpi::request::{Request, StaticScope};
use mpi::topology::{Communicator, SimpleCommunicator};

use crate::ExecError;

/// Tag of par-core's run messages (below 32767, the least `MPI_TAG_UB` the standard allows).
pub(crate) const TAG_RUN: i32 = 7301;
/// Tag of heartbeats.
const TAG_HEARTBEAT: i32 = 7302;
/// How often each rank beats.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(200);
/// Default liveness time-out: a rank silent this long is lost. `PAR_CORE_MPI_LIVENESS_S`
/// overrides it (seconds, at least 0.5).
pub(crate) const DEFAULT_LIVENESS: Duration = Duration::from_secs(5);

/// The process's MPI state.
pub(crate) struct Runtime {
    _universe: mpi::environment::Universe,
    pub(crate) rank: usize,
    pub(crate) size: usize,
    pub(crate) threading: Threading,
    epoch: Instant,
    /// Nanoseconds since `epoch` at which each rank was last heard from.
    last_heard: Vec<AtomicU64>,
    /// Set when a run was abandoned (a rank lost): no finalize, no further runs.
    broken: Mutex<Option<String>>,
    /// Serialises runs and numbers them.
    pub(crate) runs: Mutex<u64>,
    stop: AtomicBool,
    heartbeat_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub(crate) liveness: Duration,
}

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The runtime, initialising MPI on first use.
pub(crate) fn runtime() -> Result<&'static Runtime, ExecError> {
    RUNTIME
        .get_or_init(init)
        .as_ref()
        .map_err(|e| ExecError::Mpi(e.clone()))
}

/// The runtime if MPI was initialised by par-core.
pub(crate) fn initialised() -> Option<&'static Runtime> {
    RUNTIME.get().and_then(|r| r.as_ref().ok())
}

fn liveness_from_env() -> Duration {
    std::env::var("PAR_CORE_MPI_LIVENESS_S")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.5)
        .map_or(DEFAULT_LIVENESS, Duration::from_secs_f64)
}

fn init() -> Result<Runtime, String> {
    if mpi::environment::is_initialized() {
        return Err(
            "MPI was initialised outside par-core; let par-core initialise it \
                    (par_core::mpi::init) and use par_core::mpi::world() for the rest"
                .into(),
        );
    }
    let (universe, threading) =
        mpi::initialize_with_threading(Threading::Multiple).ok_or("MPI_Init_thread failed")?;
    let world = universe.world();
    let rank = world.rank() as usize;
    let size = world.size() as usize;
    let epoch = Instant::now();
    let runtime = Runtime {
        _universe: universe,
        rank,
        size,
        threading,
        epoch,
        last_heard: (0..size).map(|_| AtomicU64::new(0)).collect(),
        broken: Mutex::new(None),
        runs: Mutex::new(0),
        stop: AtomicBool::new(false),
        heartbeat_thread: Mutex::new(None),
        liveness: liveness_from_env(),
    };
    // SAFETY: registering a plain `extern "C" fn` with the C library's atexit.
    unsafe {
        libc::atexit(finalize_at_exit);
    }
    Ok(runtime)
}

/// Starts the heartbeat thread once the runtime sits in its static.
pub(crate) fn start_heartbeats(rt: &'static Runtime) {
    if rt.size == 1 || rt.threading != Threading::Multiple {
        return;
    }
    let mut slot = rt
        .heartbeat_thread
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if slot.is_some() {
        return;
    }
    let handle = std::thread::Builder::new()
        .name("par-core-mpi-heartbeat".into())
        .spawn(move || {
            let mut beats = Beats::default();
            while !rt.stop.load(Ordering::Relaxed) {
                rt.beat(&mut beats);
                std::thread::sleep(Duration::from_millis(20));
            }
            beats.abandon();
        });
    if let Ok(h) = handle {
        *slot = Some(h);
    }
}

extern "C" fn finalize_at_exit() {
    let Some(rt) = initialised() else { return };
    rt.stop.store(true, Ordering::Relaxed);
    if let Some(h) = rt
        .heartbeat_thread
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        let _ = h.join();
    }
    if rt.is_broken().is_some() {
        // A rank is gone: MPI_Finalize could wait for it for ever. Leave without it.
        return;
    }
    // SAFETY: MPI was initialised by this runtime, is not finalised yet, and no other thread
    // of par-core uses it any more.
    unsafe {
        if !mpi::environment::is_finalized() {
            mpi::ffi::MPI_Finalize();
        }
    }
}

/// Heartbeat sending state (who was beaten to when, and the sends in flight).
#[derive(Default)]
pub(crate) struct Beats {
    last_sent: Option<Instant>,
    in_flight: Vec<Pending>,
}

impl Beats {
    pub(crate) fn abandon(&mut self) {
        for p in self.in_flight.drain(..) {
            p.abandon();
        }
    }
}

impl Runtime {
    /// The world communicator.
    pub(crate) fn world(&self) -> SimpleCommunicator {
        SimpleCommunicator::world()
    }

    /// Seconds since this runtime started, as stored in `last_heard`.
    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Records that `rank` was heard from now.
    pub(crate) fn heard(&self, rank: usize) {
        if let Some(slot) = self.last_heard.get(rank) {
            slot.store(self.now_ns(), Ordering::Relaxed);
        }
    }

    /// How long since `rank` was last heard from, or since `since` if that is later.
    pub(crate) fn silent_for(&self, rank: usize, since: Instant) -> Duration {
        let heard = Duration::from_nanos(self.last_heard[rank].load(Ordering::Relaxed));
        let since = since.saturating_duration_since(self.epoch);
        self.epoch.elapsed().saturating_sub(heard.max(since))
    }

    /// Whether the heartbeat thread runs (otherwise the driver must call [`Self::beat`]).
    pub(crate) fn beats_in_background(&self) -> bool {
        self.heartbeat_thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// One heartbeat round: receive every heartbeat waiting, send ours when due.
    pub(crate) fn beat(&self, beats: &mut Beats) {
        let world = self.world();
        while let Some(probed) = world
            .any_process()
            .immediate_matched_probe_with_tag(TAG_HEARTBEAT)
        {
            let (_beat, status) = probed.matched_receive_vec::<u8>();
            self.heard(status.source_rank() as usize);
        }
        beats.in_flight.retain_mut(|p| !p.test());
        if beats.last_sent.is_some_and(|t| t.elapsed() < HEARTBEAT) {
            return;
        }
        beats.last_sent = Some(Instant::now());
        let peers: Vec<usize> = if self.rank == 0 {
            (1..self.size).collect()
        } else {
            vec![0]
        };
        for peer in peers {
            // A peer that stopped receiving keeps its sends in flight: stop adding to them.
            if beats.in_flight.iter().filter(|p| p.dest == peer).count() < 8 {
                beats
                    .in_flight
                    .push(Pending::send(&world, peer, vec![1], TAG_HEARTBEAT));
            }
        }
    }

    /// Marks the runtime broken (a rank was lost); later runs fail with `why`.
    pub(crate) fn set_broken(&self, why: String) {
        let mut b = self.broken.lock().unwrap_or_else(|e| e.into_inner());
        if b.is_none() {
            *b = Some(why);
        }
    }

    /// Gives up after `err`: reports it on standard error (and to `tracing`), marks the
    /// runtime broken, and abandons the sends in flight and the heartbeats of the caller.
    pub(crate) fn give_up(&self, err: &ExecError, pending: &mut Vec<Pending>, beats: &mut Beats) {
        eprintln!("par-core mpi: rank {}: {err}", self.rank);
        tracing::error!(rank = self.rank, "{err}");
        self.set_broken(err.to_string());
        for p in pending.drain(..) {
            p.abandon();
        }
        beats.abandon();
    }

    /// Why the runtime is broken, if it is.
    pub(crate) fn is_broken(&self) -> Option<String> {
        self.broken
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Waits up to `limit` for the sends of `pending` to complete (those that do are dropped).
pub(crate) fn settle(pending: &mut Vec<Pending>, limit: Duration) {
    let until = Instant::now() + limit;
    while !pending.is_empty() && Instant::now() < until {
        pending.retain_mut(|p| !p.test());
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A non-blocking send whose buffer is owned here and freed on completion, or leaked when the
/// send is abandoned (the peer is gone), so that MPI never reads freed memory.
pub(crate) struct Pending {
    request: Option<Request<'static, [u8], StaticScope>>,
    buffer: *mut [u8],
    pub(crate) dest: usize,
}

// SAFETY: the buffer pointer is owned by this value alone; MPI reads it only until the
// request completes, which is tested or abandoned on the thread that holds the value.
unsafe impl Send for Pending {}

impl Pending {
    /// Starts sending `bytes` to `dest` with `tag`.
    pub(crate) fn send(world: &SimpleCommunicator, dest: usize, bytes: Vec<u8>, tag: i32) -> Self {
        let buffer: &'static mut [u8] = Box::leak(bytes.into_boxed_slice());
        let ptr: *mut [u8] = buffer;
        // SAFETY: `ptr` comes from a leaked box and is only freed after completion.
        let data: &'static [u8] = unsafe { &*ptr };
        let request =
            world
                .process_at_rank(dest as i32)
                .immediate_send_with_tag(StaticScope, data, tag);
        Self {
            request: Some(request),
            buffer: ptr,
            dest,
        }
    }

    /// Whether the send has completed (its buffer then freed).
    pub(crate) fn test(&mut self) -> bool {
        let Some(request) = self.request.take() else {
            return true;
        };
        match request.test() {
            Ok(_) => {
                // SAFETY: the request completed, so MPI no longer reads the buffer, which came
                // from `Box::leak` in `send`.
                drop(unsafe { Box::from_raw(self.buffer) });
                true
            }
            Err(request) => {
                self.request = Some(request);
                false
            }
        }
    }

    /// Gives up on the send: the request handle and the buffer are leaked on purpose.
    pub(crate) fn abandon(mut self) {
        if let Some(request) = self.request.take() {
            // SAFETY: forgetting the raw request is allowed; the buffer stays allocated.
            let _ = unsafe { request.into_raw() };
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(request) = self.request.take() {
            // Dropped while in flight (a run that ended in an error): abandon it.
            // SAFETY: as in `abandon`: the request is forgotten and its buffer leaked.
            let _ = unsafe { request.into_raw() };
        }
    }
}
