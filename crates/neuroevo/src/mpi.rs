//! Islands on the ranks of an MPI job (feature `mpi`): each rank holds a contiguous block of
//! the islands, evaluates them on par-core threads of its own, and migrants travel as MPI
//! messages along the topology.
//!
//! # Layout
//!
//! Rank `r` of `R` holds islands `r N / R .. (r + 1) N / R` of `N` ([`rank_islands`]), so
//! every rank holds at least one island when `N >= R` (fewer islands than ranks is an error on
//! every rank, before any message). Each rank runs the same [`Archipelago::step_epoch`] as an
//! in-process archipelago over its block, so **a run gives the same results on any number of
//! ranks as [`Archipelago::new`] in one process** (and as separate processes migrating
//! through a folder when every migrant arrives): every random draw is a pure function of the
//! run seed, the island and the epoch, and the migration schedule is synchronous.
//!
//! # Messages of an epoch
//!
//! After its islands' generations, each rank, in [`MpiTransport`]'s `gather`:
//!
//! 1. sends one message to each rank that holds a destination of one of its islands, with
//!    every migrant its islands send there (migrants between islands of one rank never leave
//!    it);
//! 2. exchanges the islands' statuses (solved; running another epoch) with every rank (an
//!    all-gather through rank 0: the epoch's barrier);
//! 3. receives one message from each rank that holds a source of one of its islands.
//!
//! Which ranks exchange messages at an epoch follows from the topology and the islands
//! active at its start, which every rank knows, so every message sent is received, even when
//! an island solved the task and nobody takes the migrants in.
//!
//! # A rank that dies
//!
//! Every wait goes through par-core's [`par_core::mpi::Peers`], which watches the job's
//! heartbeats: when a rank dies, rank 0 notices within the liveness time-out (5 s,
//! `PAR_CORE_MPI_LIVENESS_S`) of its next wait (each epoch has one) and every surviving rank
//! returns [`NeuroError::Exec`] holding [`par_core::ExecError::RankLost`] naming the rank.
//! Nothing waits for ever.
//!
//! # Files
//!
//! One process owns the output: [`collect_on_root`] gathers each epoch's generation records
//! (in island order) and the islands' checkpoints on rank 0, which writes them; the checkpoint
//! has the format of an in-process run's ([`ArchipelagoCheckpoint`]), so a run saved in one
//! process resumes on ranks and the other way round ([`start`] hands each rank its islands).
//!
//! ```no_run
//! # fn main() -> Result<(), neuroevo::NeuroError> {
//! use neuroevo::islands::IslandsConfig;
//! use neuroevo::optimiser::OptimiserKind;
//! use neuroevo::task::{TaskConfig, TaskKind};
//! use neuroevo::RunConfig;
//! use par_core::{ExecConfig, Executor, Mode};
//!
//! let task = TaskConfig::new(TaskKind::Rastrigin).build()?;
//! let optimiser = OptimiserKind::Ga.default_config();
//! let run = RunConfig { seed: 1, max_evals: 200_000, ..RunConfig::default() };
//! let config = IslandsConfig { islands: 8, ..IslandsConfig::default() };
//! // Each rank evaluates its islands on threads of its own.
//! let threads = par_core::mpi::default_threads_per_rank();
//! let exec = Executor::new(ExecConfig::with_mode(Mode::Threads { workers: threads }))?;
//! let mut islands = neuroevo::mpi::start(task.as_ref(), &optimiser, &run, config, None)?;
//! while !islands.finished() {
//!     let records = islands.step_epoch(&exec)?;
//!     if let Some(epoch) = neuroevo::mpi::collect_on_root(&mut islands, records)? {
//!         // rank 0: every island's records and the whole run's checkpoint
//!         let _ = (epoch.records, epoch.checkpoint);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::time::Instant;

use par_core::mpi::Peers;
use serde::{Deserialize, Serialize};

use crate::evolution::GenerationRecord;
use crate::islands::{
    Archipelago, ArchipelagoCheckpoint, EpochStatus, IslandsConfig, MemoryTransport,
    MigrationConfig, Transport, destinations,
};
use crate::optimiser::{Migrant, OptimiserConfig};
use crate::task::Task;
use crate::{NeuroError, RunConfig};

/// The [`Peers`] channel of the migrants and statuses.
pub const MIGRATION_CHANNEL: u16 = 160;
/// The [`Peers`] channel of [`start`] and [`collect_on_root`].
pub const COLLECT_CHANNEL: u16 = 161;

/// The islands rank `rank` of `ranks` holds in a run of `islands`.
pub fn rank_islands(islands: usize, ranks: usize, rank: usize) -> Range<usize> {
    let ranks = ranks.max(1);
    rank * islands / ranks..(rank + 1) * islands / ranks
}

/// What the MPI transport has done on this rank.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MigrationStats {
    /// Epochs exchanged.
    pub epochs: u64,
    /// Wall time in the exchanges (sending, the status all-gather, receiving), seconds: it
    /// includes the wait for the slowest rank of each epoch.
    pub exchange_s: f64,
    /// Migrant messages sent to other ranks, and their bytes.
    pub messages: u64,
    /// Bytes of those messages.
    pub bytes: u64,
    /// Migrants sent to islands of other ranks.
    pub migrants_out: u64,
}

/// The migrants one rank sends another at one epoch.
#[derive(Debug, Serialize, Deserialize)]
struct Batch {
    epoch: u64,
    /// `(from, to, migrants)`.
    items: Vec<(u64, u64, Vec<Migrant>)>,
}

/// Migration between islands on the ranks of an MPI job (see the module documentation).
#[derive(Debug)]
pub struct MpiTransport {
    peers: Peers,
    collect: Peers,
    islands: usize,
    /// The rank of each island.
    owner: Vec<usize>,
    migration: MigrationConfig,
    seed: u64,
    /// Migrants for islands of other ranks, by rank, until the epoch's exchange.
    outbox: BTreeMap<usize, Vec<(u64, u64, Vec<Migrant>)>>,
    /// The migrants that reached this rank's islands (from this rank or another) and their
    /// statuses: what this rank holds of the run, as in one process.
    local: MemoryTransport,
    stats: MigrationStats,
}

impl MpiTransport {
    /// The transport of this rank for a run of `islands` islands migrating by `migration`
    /// from run seed `seed`; initialises MPI if nothing has. Fewer islands than ranks is an
    /// error (on every rank alike). Its messages go on the [`Peers`] channels
    /// [`MIGRATION_CHANNEL`] and [`COLLECT_CHANNEL`], so a job runs one islands model at a
    /// time (one after the other is fine: each consumes every message it sends).
    pub fn new(islands: usize, migration: &MigrationConfig, seed: u64) -> Result<Self, NeuroError> {
        migration.validate()?;
        let peers = Peers::open(MIGRATION_CHANNEL)?;
        let collect = Peers::open(COLLECT_CHANNEL)?;
        let ranks = peers.size();
        if islands < ranks {
            return Err(NeuroError::field(
                "islands.islands",
                format!(
                    "{islands} islands on {ranks} MPI ranks: every rank holds at least one \
                     island (start at most {islands} ranks, or ask for more islands)"
                ),
            ));
        }
        let owner = (0..ranks)
            .flat_map(|r| rank_islands(islands, ranks, r).map(move |_| r))
            .collect();
        Ok(Self {
            peers,
            collect,
            islands,
            owner,
            migration: migration.clone(),
            seed,
            outbox: BTreeMap::new(),
            local: MemoryTransport::default(),
            stats: MigrationStats::default(),
        })
    }

    /// This rank.
    pub fn rank(&self) -> usize {
        self.peers.rank()
    }

    /// The number of ranks.
    pub fn ranks(&self) -> usize {
        self.peers.size()
    }

    /// The islands this rank holds.
    pub fn local(&self) -> Range<usize> {
        rank_islands(self.islands, self.ranks(), self.rank())
    }

    /// What the transport has done so far on this rank.
    pub fn stats(&self) -> MigrationStats {
        self.stats
    }

    /// Every delivery to this rank's islands so far, `(epoch, from, to, migrant count)`
    /// (as [`MemoryTransport::log`] in one process).
    pub fn deliveries(&self) -> &[(u64, usize, usize, usize)] {
        &self.local.log
    }

    /// The `(from, to)` island pairs that exchange migrants at an epoch whose active islands
    /// are `active`: the same on every rank.
    fn pairs(&self, epoch: u64, active: &[bool]) -> Vec<(usize, usize)> {
        if self.migration.migrants == 0 {
            return Vec::new();
        }
        let n = self.islands;
        (0..n)
            .filter(|&f| active[f])
            .flat_map(|f| {
                destinations(self.migration.topology, n, f, epoch, self.seed)
                    .into_iter()
                    .filter(|&t| active[t])
                    .map(move |t| (f, t))
            })
            .collect()
    }

    fn exchange(
        &mut self,
        epoch: u64,
        islands: &[usize],
    ) -> Result<Vec<Option<EpochStatus>>, NeuroError> {
        let me = self.rank();
        let mut active = vec![false; self.islands];
        for &i in islands {
            if let Some(a) = active.get_mut(i) {
                *a = true;
            }
        }
        let pairs = self.pairs(epoch, &active);
        // 1. One batch to each rank that holds a destination of an island of this rank.
        let to_ranks: BTreeSet<usize> = pairs
            .iter()
            .filter(|&&(f, t)| self.owner[f] == me && self.owner[t] != me)
            .map(|&(_, t)| self.owner[t])
            .collect();
        for dest in to_ranks {
            let items = self.outbox.remove(&dest).unwrap_or_default();
            self.stats.migrants_out += items.iter().map(|i| i.2.len() as u64).sum::<u64>();
            let (before, bytes_before) = self.peers.sent();
            self.peers.send(dest, &Batch { epoch, items })?;
            let (after, bytes_after) = self.peers.sent();
            self.stats.messages += after - before;
            self.stats.bytes += bytes_after - bytes_before;
        }
        if let Some((&dest, _)) = self.outbox.iter().next() {
            return Err(par_core::ExecError::Mpi(format!(
                "epoch {epoch}: migrants for rank {dest}, which expects none (a bug)"
            ))
            .into());
        }
        // 2. The statuses of the islands active at this epoch, from every rank.
        let here: Vec<usize> = islands
            .iter()
            .copied()
            .filter(|&i| self.owner.get(i) == Some(&me))
            .collect();
        let mine: Vec<(u64, EpochStatus)> = here
            .iter()
            .zip(self.local.gather(epoch, &here)?)
            .filter_map(|(&i, status)| status.map(|s| (i as u64, s)))
            .collect();
        let all: HashMap<usize, EpochStatus> = self
            .peers
            .all_gather(&mine)?
            .into_iter()
            .flatten()
            .map(|(i, s)| (i as usize, s))
            .collect();
        // 3. One batch from each rank that holds a source of an island of this rank.
        let from_ranks: BTreeSet<usize> = pairs
            .iter()
            .filter(|&&(f, t)| self.owner[t] == me && self.owner[f] != me)
            .map(|&(f, _)| self.owner[f])
            .collect();
        for source in from_ranks {
            let batch: Batch = self.peers.receive(source)?;
            if batch.epoch != epoch {
                return Err(par_core::ExecError::Mpi(format!(
                    "rank {source} sent migrants of epoch {} during epoch {epoch}",
                    batch.epoch
                ))
                .into());
            }
            for (from, to, migrants) in batch.items {
                self.local
                    .send(epoch, from as usize, to as usize, &migrants)?;
            }
        }
        Ok(islands.iter().map(|i| all.get(i).copied()).collect())
    }
}

impl Transport for MpiTransport {
    fn send(
        &mut self,
        epoch: u64,
        from: usize,
        to: usize,
        migrants: &[Migrant],
    ) -> Result<(), NeuroError> {
        let Some(&dest) = self.owner.get(to) else {
            return Err(NeuroError::field(
                "island",
                format!("island {to} is not in a run of {}", self.islands),
            ));
        };
        if dest == self.rank() {
            self.local.send(epoch, from, to, migrants)?;
        } else {
            self.outbox
                .entry(dest)
                .or_default()
                .push((from as u64, to as u64, migrants.to_vec()));
        }
        Ok(())
    }

    fn receive(
        &mut self,
        epoch: u64,
        from: usize,
        to: usize,
    ) -> Result<Option<Vec<Migrant>>, NeuroError> {
        self.local.receive(epoch, from, to)
    }

    fn publish(
        &mut self,
        epoch: u64,
        island: usize,
        status: EpochStatus,
    ) -> Result<(), NeuroError> {
        self.local.publish(epoch, island, status)
    }

    /// The epoch's exchange (see the module documentation): every rank calls it once per
    /// epoch, after its islands have sent and published.
    fn gather(
        &mut self,
        epoch: u64,
        islands: &[usize],
    ) -> Result<Vec<Option<EpochStatus>>, NeuroError> {
        let t = Instant::now();
        let out = self.exchange(epoch, islands);
        self.stats.epochs += 1;
        self.stats.exchange_s += t.elapsed().as_secs_f64();
        out
    }
}

/// How a run starts on each rank: rank 0's decision, sent to every rank.
#[derive(Debug, Serialize, Deserialize)]
enum Start {
    Fresh,
    /// This rank's part of rank 0's checkpoint.
    Resume(ArchipelagoCheckpoint),
    /// Rank 0 cannot use its checkpoint: every rank fails with this.
    Refused(String),
}

/// This rank's islands of a run of `config.islands`, a collective call: fresh, or continued
/// from `saved` (read by rank 0 alone; the other ranks pass `None` and get their islands
/// from rank 0). Seeds, budgets and results as [`Archipelago::new`] in one process.
pub fn start<'t>(
    task: &'t dyn Task,
    optimiser: &OptimiserConfig,
    run: &RunConfig,
    config: IslandsConfig,
    saved: Option<ArchipelagoCheckpoint>,
) -> Result<Archipelago<'t, MpiTransport>, NeuroError> {
    crate::error::count_in(
        "islands.islands",
        config.islands,
        1,
        crate::islands::MAX_ISLANDS,
    )?;
    let mut transport = MpiTransport::new(config.islands, &config.migration, run.seed)?;
    let (rank, ranks, n) = (transport.rank(), transport.ranks(), config.islands);
    let start = if rank == 0 {
        let parts: Vec<Start> = match saved {
            None => (0..ranks).map(|_| Start::Fresh).collect(),
            Some(cp) => match split(cp, &config, run.seed, ranks) {
                Ok(parts) => parts.into_iter().map(Start::Resume).collect(),
                Err(why) => (0..ranks).map(|_| Start::Refused(why.clone())).collect(),
            },
        };
        let mut parts = parts.into_iter();
        let own = parts.next().unwrap_or(Start::Fresh);
        for (r, part) in parts.enumerate() {
            transport.collect.send(r + 1, &part)?;
        }
        own
    } else {
        transport.collect.receive::<Start>(0)?
    };
    let local = rank_islands(n, ranks, rank);
    match start {
        Start::Fresh => Archipelago::with_transport(task, optimiser, run, config, local, transport),
        Start::Resume(cp) => Archipelago::resume_with(task, cp, local, transport),
        Start::Refused(why) => Err(NeuroError::field("checkpoint", why)),
    }
}

/// Splits a whole run's checkpoint into the ranks' parts.
fn split(
    cp: ArchipelagoCheckpoint,
    config: &IslandsConfig,
    seed: u64,
    ranks: usize,
) -> Result<Vec<ArchipelagoCheckpoint>, String> {
    if cp.config != *config || cp.seed != seed {
        return Err(format!(
            "rank 0's checkpoint is of another run (islands {:?}, seed {})",
            cp.config, cp.seed
        ));
    }
    let n = config.islands;
    if cp.islands.len() != n || cp.active.len() != n {
        return Err(format!(
            "rank 0's checkpoint holds {} islands for a run of {n}",
            cp.islands.len()
        ));
    }
    let mut islands = cp.islands.into_iter();
    Ok((0..ranks)
        .map(|r| ArchipelagoCheckpoint {
            config: cp.config.clone(),
            seed: cp.seed,
            epoch: cp.epoch,
            active: cp.active.clone(),
            solved: cp.solved,
            islands: islands
                .by_ref()
                .take(rank_islands(n, ranks, r).len())
                .collect(),
        })
        .collect())
}

/// An epoch of the whole run, on rank 0.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectedEpoch {
    /// Every island's generation records of the epoch, in island order (as
    /// [`Archipelago::step_epoch`] returns them in one process).
    pub records: Vec<(usize, GenerationRecord)>,
    /// The whole run's checkpoint after the epoch.
    pub checkpoint: ArchipelagoCheckpoint,
}

/// Collects every rank's `records` (what its [`Archipelago::step_epoch`] returned) and
/// islands on rank 0, a collective call: `Some` on rank 0, `None` elsewhere.
pub fn collect_on_root(
    islands: &mut Archipelago<'_, MpiTransport>,
    records: Vec<(usize, GenerationRecord)>,
) -> Result<Option<CollectedEpoch>, NeuroError> {
    let mine = islands.checkpoint();
    let peers = &mut islands.transport_mut().collect;
    if peers.rank() != 0 {
        peers.send(0, &(records, mine.islands))?;
        return Ok(None);
    }
    let mut all_records = records;
    let mut all_islands = mine.islands;
    for r in 1..peers.size() {
        type Part = (
            Vec<(usize, GenerationRecord)>,
            Vec<crate::evolution::Checkpoint>,
        );
        let (recs, isl): Part = peers.receive(r)?;
        all_records.extend(recs);
        all_islands.extend(isl);
    }
    Ok(Some(CollectedEpoch {
        records: all_records,
        checkpoint: ArchipelagoCheckpoint {
            islands: all_islands,
            ..mine
        },
    }))
}
