//! Point-to-point messages between ranks outside [`crate::Executor::run`], watched for lost
//! ranks like a run is: [`Peers`].

use std::time::{Duration, Instant};

use mpi::point_to_point::{MatchedReceiveVec as _, Source as _};
use mpi::topology::{Communicator, SimpleCommunicator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::runtime::{self, Beats, Pending, Runtime};
use crate::ExecError;

/// Tag of the notices that end every [`Peers`] channel after a lost rank.
const TAG_ABORT: i32 = 7303;
/// Tags of the channels' own messages and of their collectives (`+ channel`).
const TAG_DATA: i32 = 8000;
const TAG_COLLECTIVE: i32 = 9000;

/// How long rank 0 waits for the survivors to acknowledge an abort notice.
const ACK_WAIT: Duration = Duration::from_secs(2);

/// What rank 0 tells the survivors when a rank is lost.
#[derive(Debug, Serialize, Deserialize)]
enum Notice {
    Lost { rank: u64, why: String },
    Ack,
}

/// Point-to-point messages between the ranks of an MPI job, for programs whose ranks exchange
/// data in a pattern of their own between collective runs (islands that migrate along a ring,
/// for example), with the liveness guarantee of [`crate::Mode::Mpi`]: no wait is ever for
/// ever.
///
/// Values travel serialised with postcard (like jobs). Messages from one rank on one channel
/// arrive in the order they were sent (MPI's non-overtaking rule); channels (`0..1000`) keep
/// unrelated traffic apart, and [`Peers::all_gather`] has a tag of its own, so it never takes
/// a point-to-point message for its own.
///
/// **Liveness.** Every wait is a non-blocking test in a loop that watches the heartbeats of
/// par-core's MPI runtime (started by [`Peers::open`]). Rank 0 hears every rank: when one has
/// been silent for the liveness time-out (5 s, `PAR_CORE_MPI_LIVENESS_S`) while rank 0 waits,
/// rank 0 tells every other rank which rank was lost and returns
/// [`ExecError::RankLost`]; a rank waiting on any other rank sees that notice and returns the
/// same error; a rank that stops hearing from rank 0 returns the error naming rank 0. So a
/// dead rank ends the program on every survivor within the liveness time-out of rank 0's
/// next wait. After that, MPI is left without `MPI_Finalize` (as after a lost run) and later
/// calls fail at once.
///
/// Heartbeats come from a thread of their own when the MPI library provides
/// `MPI_THREAD_MULTIPLE` (Open MPI and MPICH do); otherwise only from inside waits, and a rank
/// that computes for longer than the liveness time-out between two waits would be taken for
/// lost: raise `PAR_CORE_MPI_LIVENESS_S` above the longest such stretch there.
pub struct Peers {
    rt: &'static Runtime,
    world: SimpleCommunicator,
    channel: u16,
    opened: Instant,
    pending: Vec<Pending>,
    beats: Beats,
    /// Time inside `send`, `receive` and `all_gather` (waits included).
    busy: Duration,
    sent: u64,
    sent_bytes: u64,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers")
            .field("rank", &self.rt.rank)
            .field("size", &self.rt.size)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl Peers {
    /// The largest channel number plus one.
    pub const CHANNELS: u16 = 1000;

    /// Opens `channel` (below [`Peers::CHANNELS`]), initialising MPI if no executor has, and
    /// starts the heartbeats. Every rank opens it at the start of the program, so that none
    /// waits on a rank that is still starting for longer than the liveness time-out.
    pub fn open(channel: u16) -> Result<Self, ExecError> {
        if channel >= Self::CHANNELS {
            return Err(ExecError::Mpi(format!(
                "peer channel {channel} is out of range (0..{})",
                Self::CHANNELS
            )));
        }
        let rt = runtime::runtime()?;
        runtime::start_heartbeats(rt);
        Ok(Self {
            rt,
            world: rt.world(),
            channel,
            opened: Instant::now(),
            pending: Vec::new(),
            beats: Beats::default(),
            busy: Duration::ZERO,
            sent: 0,
            sent_bytes: 0,
        })
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.rt.rank
    }

    /// The number of ranks.
    pub fn size(&self) -> usize {
        self.rt.size
    }

    /// Seconds spent in [`Peers::send`], [`Peers::receive`] and [`Peers::all_gather`] so far,
    /// waits for other ranks included.
    pub fn busy_seconds(&self) -> f64 {
        self.busy.as_secs_f64()
    }

    /// Messages and bytes sent so far (point-to-point and collective).
    pub fn sent(&self) -> (u64, u64) {
        (self.sent, self.sent_bytes)
    }

    fn usable(&self) -> Result<(), ExecError> {
        match self.rt.is_broken() {
            Some(why) => Err(ExecError::Mpi(format!(
                "an earlier exchange lost a rank ({why}); MPI cannot be used again in this \
                 process"
            ))),
            None => Ok(()),
        }
    }

    fn check_rank(&self, rank: usize) -> Result<(), ExecError> {
        if rank < self.rt.size {
            Ok(())
        } else {
            Err(ExecError::Mpi(format!(
                "rank {rank} does not exist: the job has {} ranks",
                self.rt.size
            )))
        }
    }

    fn send_bytes(&mut self, dest: usize, bytes: Vec<u8>, tag: i32) {
        self.sent += 1;
        self.sent_bytes += bytes.len() as u64;
        self.pending
            .push(Pending::send(&self.world, dest, bytes, tag));
    }

    /// Sends `value` to rank `dest` on this channel without waiting for it to be received (the
    /// buffer is kept until MPI is done with it).
    pub fn send<T: Serialize + ?Sized>(&mut self, dest: usize, value: &T) -> Result<(), ExecError> {
        let t = Instant::now();
        self.usable()?;
        self.check_rank(dest)?;
        let bytes = encode(value)?;
        self.send_bytes(dest, bytes, TAG_DATA + i32::from(self.channel));
        self.pending.retain_mut(|p| !p.test());
        self.busy += t.elapsed();
        Ok(())
    }

    /// The next value rank `from` sent to this rank on this channel, waiting for it while
    /// watching liveness (see the type's documentation).
    pub fn receive<T: DeserializeOwned>(&mut self, from: usize) -> Result<T, ExecError> {
        let t = Instant::now();
        self.usable()?;
        self.check_rank(from)?;
        let bytes = self.wait_for(from, TAG_DATA + i32::from(self.channel));
        self.busy += t.elapsed();
        decode(&bytes?, from)
    }

    /// Every rank's `value`, in rank order, on every rank: a collective call (every rank calls
    /// it at the same point), through rank 0.
    pub fn all_gather<T: Serialize + DeserializeOwned>(
        &mut self,
        value: &T,
    ) -> Result<Vec<T>, ExecError> {
        let t = Instant::now();
        let out = self.all_gather_inner(value);
        self.busy += t.elapsed();
        out
    }

    fn all_gather_inner<T: Serialize + DeserializeOwned>(
        &mut self,
        value: &T,
    ) -> Result<Vec<T>, ExecError> {
        self.usable()?;
        let tag = TAG_COLLECTIVE + i32::from(self.channel);
        let mine = encode(value)?;
        let size = self.rt.size;
        let all: Vec<Vec<u8>> = if self.rt.rank == 0 {
            let mut all = Vec::with_capacity(size);
            all.push(mine);
            for r in 1..size {
                all.push(self.wait_for(r, tag)?);
            }
            if size > 1 {
                let combined = encode(&all)?;
                for r in 1..size {
                    self.send_bytes(r, combined.clone(), tag);
                }
            }
            all
        } else {
            self.send_bytes(0, mine, tag);
            let combined = self.wait_for(0, tag)?;
            decode::<Vec<Vec<u8>>>(&combined, 0)?
        };
        if all.len() != size {
            return Err(ExecError::Mpi(format!(
                "all_gather: rank 0 sent {} values for {size} ranks",
                all.len()
            )));
        }
        all.iter().enumerate().map(|(r, b)| decode(b, r)).collect()
    }

    /// Waits until every send of this channel has been received (or rank loss, as any wait).
    pub fn flush(&mut self) -> Result<(), ExecError> {
        let t = Instant::now();
        let mut nap = Duration::from_micros(20);
        let out = loop {
            self.pending.retain_mut(|p| !p.test());
            if self.pending.is_empty() {
                break Ok(());
            }
            if let Err(e) = self.check_liveness() {
                break Err(e);
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(1));
        };
        self.busy += t.elapsed();
        out
    }

    /// The next message from `from` with `tag`, watching liveness.
    fn wait_for(&mut self, from: usize, tag: i32) -> Result<Vec<u8>, ExecError> {
        let mut nap = Duration::from_micros(20);
        loop {
            self.pending.retain_mut(|p| !p.test());
            if !self.rt.beats_in_background() && self.rt.size > 1 {
                self.rt.beat(&mut self.beats);
            }
            if let Some(probed) = self
                .world
                .process_at_rank(from as i32)
                .immediate_matched_probe_with_tag(tag)
            {
                let (bytes, _) = probed.matched_receive_vec::<u8>();
                self.rt.heard(from);
                return Ok(bytes);
            }
            self.check_liveness()?;
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(1));
        }
    }

    /// Rank 0: fails (and tells the others) when a rank went silent. Other ranks: fails on
    /// rank 0's notice of a lost rank, or when rank 0 itself went silent.
    fn check_liveness(&mut self) -> Result<(), ExecError> {
        let (me, size) = (self.rt.rank, self.rt.size);
        if size == 1 {
            return Ok(());
        }
        if me == 0 {
            let lost = (1..size)
                .map(|r| (r, self.rt.silent_for(r, self.opened)))
                .find(|(_, s)| *s > self.rt.liveness);
            let Some((lost, silent)) = lost else {
                return Ok(());
            };
            let why = format!("no message from it for {:.1} s", silent.as_secs_f64());
            // Report first (the launcher may end the job as soon as any rank exits), then
            // tell the others, each of which reports before it acknowledges.
            let err = self.fail(ExecError::RankLost {
                rank: lost,
                tasks: Vec::new(),
                why: why.clone(),
                seen_by: 0,
            });
            let others: Vec<usize> = (1..size).filter(|&r| r != lost).collect();
            for &r in &others {
                let notice = Notice::Lost {
                    rank: lost as u64,
                    why: why.clone(),
                };
                if let Ok(bytes) = encode(&notice) {
                    self.send_bytes(r, bytes, TAG_ABORT);
                }
            }
            let until = Instant::now() + ACK_WAIT;
            let mut acked = 0;
            while acked < others.len() && Instant::now() < until {
                match self
                    .world
                    .any_process()
                    .immediate_matched_probe_with_tag(TAG_ABORT)
                {
                    Some(probed) => {
                        let _ = probed.matched_receive_vec::<u8>();
                        acked += 1;
                    }
                    None => std::thread::sleep(Duration::from_millis(1)),
                }
            }
            return Err(err);
        }
        if let Some(probed) = self
            .world
            .process_at_rank(0)
            .immediate_matched_probe_with_tag(TAG_ABORT)
        {
            let (bytes, _) = probed.matched_receive_vec::<u8>();
            self.rt.heard(0);
            if let Ok(Notice::Lost { rank, why }) = postcard::from_bytes::<Notice>(&bytes) {
                // Report (which abandons the sends in flight: those to the lost rank would
                // never complete), then acknowledge.
                let err = self.fail(ExecError::RankLost {
                    rank: rank as usize,
                    tasks: Vec::new(),
                    why,
                    seen_by: me,
                });
                if let Ok(ack) = encode(&Notice::Ack) {
                    self.send_bytes(0, ack, TAG_ABORT);
                }
                runtime::settle(&mut self.pending, Duration::from_secs(1));
                return Err(err);
            }
        }
        let silent = self.rt.silent_for(0, self.opened);
        if silent > self.rt.liveness {
            let err = self.fail(ExecError::RankLost {
                rank: 0,
                tasks: Vec::new(),
                why: format!("no message from it for {:.1} s", silent.as_secs_f64()),
                seen_by: me,
            });
            // Give the other survivors the moment they need to see it too before this process
            // exits and the launcher ends the job.
            std::thread::sleep(Duration::from_secs(1));
            return Err(err);
        }
        Ok(())
    }

    /// Reports `err` on standard error, leaves MPI unusable, abandons the sends in flight.
    fn fail(&mut self, err: ExecError) -> ExecError {
        self.rt.give_up(&err, &mut self.pending, &mut self.beats);
        err
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        // Sends still in flight are given a moment, then abandoned (their buffers leak, so MPI
        // never reads freed memory).
        if self.rt.is_broken().is_none() {
            runtime::settle(&mut self.pending, Duration::from_secs(2));
        }
        for p in self.pending.drain(..) {
            p.abandon();
        }
        self.beats.abandon();
    }
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ExecError> {
    postcard::to_stdvec(value).map_err(|e| ExecError::Serialise {
        what: "a peer message",
        message: e.to_string(),
    })
}

fn decode<T: DeserializeOwned>(bytes: &[u8], from: usize) -> Result<T, ExecError> {
    postcard::from_bytes(bytes)
        .map_err(|e| ExecError::Mpi(format!("could not decode a message from rank {from}: {e}")))
}
