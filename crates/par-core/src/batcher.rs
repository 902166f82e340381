//! A request batcher: many threads submit single requests, one evaluator thread runs them as
//! batches. This is the inference-server pattern of AlphaZero and Leela Chess Zero: a network
//! is much cheaper per position when evaluated on a batch.
//!
//! A batch closes when it holds `max_batch` requests or when `max_wait` has passed since its
//! first request arrived, whichever comes first. Every request gets exactly its own response:
//! the evaluator returns one response per request, in request order, and a batch whose
//! evaluator panics or returns the wrong number of responses answers each of its requests
//! with an error rather than with somebody else's result.
//!
//! ```
//! use par_core::batcher::{Batcher, BatcherConfig};
//! use std::time::Duration;
//!
//! let batcher = Batcher::spawn(
//!     BatcherConfig { max_batch: 8, max_wait: Duration::from_micros(200) },
//!     |xs: Vec<u64>| xs.into_iter().map(|x| x * x).collect(),
//! )
//! .unwrap();
//! std::thread::scope(|s| {
//!     for t in 0..4u64 {
//!         let b = &batcher;
//!         s.spawn(move || assert_eq!(b.submit(t).unwrap(), t * t));
//!     }
//! });
//! assert_eq!(batcher.stats().requests, 4);
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::ExecError;

/// When a batch closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatcherConfig {
    /// Largest batch handed to the evaluator (at least 1).
    pub max_batch: usize,
    /// Longest time a batch waits for more requests after its first one arrived.
    pub max_wait: Duration,
}

impl BatcherConfig {
    /// Checks the fields, naming the bad one.
    pub fn validate(&self) -> Result<(), ExecError> {
        if self.max_batch == 0 {
            return Err(ExecError::config("max_batch", "must be at least 1, got 0"));
        }
        if self.max_wait > Duration::from_secs(3600) {
            return Err(ExecError::config("max_wait", "must be at most one hour"));
        }
        Ok(())
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatcherError {
    /// The batcher has shut down.
    #[error("the batcher has shut down")]
    Closed,
    /// The evaluator panicked on the batch that held this request.
    #[error("the evaluator panicked on this request's batch: {message}")]
    EvaluatorPanicked {
        /// The panic message.
        message: String,
    },
    /// The evaluator returned a different number of responses than requests.
    #[error("the evaluator returned {got} responses for a batch of {expected} requests")]
    WrongBatchLength {
        /// Requests in the batch.
        expected: usize,
        /// Responses returned.
        got: usize,
    },
}

/// Counters of what the batcher did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchStats {
    /// Batches evaluated.
    pub batches: u64,
    /// Requests answered (successfully or not).
    pub requests: u64,
    /// `size_histogram[k]` is the number of batches of size `k`.
    pub size_histogram: Vec<u64>,
    /// Time spent inside the evaluator, in seconds.
    pub eval_s: f64,
}

impl BatchStats {
    /// Mean batch size.
    pub fn mean_batch(&self) -> f64 {
        if self.batches == 0 {
            0.0
        } else {
            self.requests as f64 / self.batches as f64
        }
    }

    /// Largest batch seen.
    pub fn max_batch(&self) -> usize {
        self.size_histogram
            .iter()
            .rposition(|&c| c > 0)
            .unwrap_or(0)
    }
}

struct Request<Req, Resp> {
    req: Req,
    reply: SyncSender<Result<Resp, BatcherError>>,
}

/// Collects single requests from many threads into batches for one evaluator thread.
pub struct Batcher<Req, Resp> {
    tx: Option<Sender<Request<Req, Resp>>>,
    handle: Option<JoinHandle<()>>,
    stats: Arc<Mutex<BatchStats>>,
}

impl<Req: Send + 'static, Resp: Send + 'static> Batcher<Req, Resp> {
    /// Starts the evaluator thread. `evaluator` receives each batch and must return one
    /// response per request, in order.
    pub fn spawn<F>(config: BatcherConfig, evaluator: F) -> Result<Self, ExecError>
    where
        F: FnMut(Vec<Req>) -> Vec<Resp> + Send + 'static,
    {
        config.validate()?;
        let (tx, rx) = mpsc::channel();
        let stats = Arc::new(Mutex::new(BatchStats {
            size_histogram: vec![0; config.max_batch + 1],
            ..BatchStats::default()
        }));
        let thread_stats = Arc::clone(&stats);
        let handle = std::thread::Builder::new()
            .name("par-core-batcher".into())
            .spawn(move || evaluate_loop(config, rx, evaluator, &thread_stats))
            .map_err(|e| ExecError::ThreadPool(format!("could not start the batcher: {e}")))?;
        Ok(Self {
            tx: Some(tx),
            handle: Some(handle),
            stats,
        })
    }

    /// Submits one request and blocks until its response arrives.
    pub fn submit(&self, req: Req) -> Result<Resp, BatcherError> {
        let (reply, response) = mpsc::sync_channel(1);
        self.tx
            .as_ref()
            .ok_or(BatcherError::Closed)?
            .send(Request { req, reply })
            .map_err(|_| BatcherError::Closed)?;
        response.recv().map_err(|_| BatcherError::Closed)?
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> BatchStats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl<Req, Resp> Drop for Batcher<Req, Resp> {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn evaluate_loop<Req, Resp, F>(
    config: BatcherConfig,
    rx: Receiver<Request<Req, Resp>>,
    mut evaluator: F,
    stats: &Mutex<BatchStats>,
) where
    F: FnMut(Vec<Req>) -> Vec<Resp>,
{
    while let Ok(first) = rx.recv() {
        let deadline = Instant::now() + config.max_wait;
        let mut batch = vec![first];
        while batch.len() < config.max_batch {
            match rx.try_recv() {
                Ok(r) => {
                    batch.push(r);
                    continue;
                }
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {}
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match rx.recv_timeout(deadline - now) {
                Ok(r) => batch.push(r),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        let size = batch.len();
        let (reqs, replies): (Vec<Req>, Vec<_>) =
            batch.into_iter().map(|r| (r.req, r.reply)).unzip();
        let start = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| evaluator(reqs)));
        let eval_s = start.elapsed().as_secs_f64();
        {
            let mut s = stats.lock().unwrap_or_else(|e| e.into_inner());
            s.batches += 1;
            s.requests += size as u64;
            s.size_histogram[size] += 1;
            s.eval_s += eval_s;
        }
        match outcome {
            Ok(resps) if resps.len() == size => {
                for (reply, resp) in replies.into_iter().zip(resps) {
                    let _ = reply.send(Ok(resp));
                }
            }
            Ok(resps) => {
                let err = BatcherError::WrongBatchLength {
                    expected: size,
                    got: resps.len(),
                };
                for reply in replies {
                    let _ = reply.send(Err(err.clone()));
                }
            }
            Err(payload) => {
                let message = crate::executor::panic_message(payload.as_ref());
                for reply in replies {
                    let _ = reply.send(Err(BatcherError::EvaluatorPanicked {
                        message: message.clone(),
                    }));
                }
            }
        }
    }
}
