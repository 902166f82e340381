//! The islands model: `N` populations that evolve apart and exchange migrants.
//!
//! # Who sends what to whom
//!
//! Migration happens at the end of every *epoch* of `every` generations. At epoch `e`:
//!
//! 1. every island that ran the epoch picks `migrants` emigrants from its population (after its
//!    last `tell`): the best `K` by fitness ([`EmigrantPolicy::Best`], ties by position) or `K`
//!    drawn uniformly without replacement ([`EmigrantPolicy::Random`]), and sends the same `K`
//!    to each of its destinations ([`destinations`]):
//!    * [`Topology::Ring`]: island `i` sends to `i + 1 (mod N)`;
//!    * [`Topology::Complete`]: to every other island;
//!    * [`Topology::Random`]: to one other island drawn afresh each epoch from a generator of
//!      `(run seed, epoch, i)`, so every process computes the same draw;
//! 2. every island publishes its status (solved; will it run another epoch) and waits for the
//!    statuses of the islands active in the epoch (a barrier); if any island solved the task,
//!    every island stops;
//! 3. every island that goes on takes in the migrants its sources sent, sorted best first
//!    (stable: by source, then by the sender's order), up to half its population, in place of
//!    its worst individuals ([`ReplacePolicy::Worst`]) or of individuals drawn at random
//!    ([`ReplacePolicy::Random`]). Best-out/worst-in alone raises selection pressure and can
//!    fake "superlinear" speed-ups (Cantú-Paz 2001): the bench measures both policies.
//!
//! An island whose budget is spent sends its last migrants and leaves; islands whose
//! destination has left skip it.
//!
//! # Transports
//!
//! The steps above are written once ([`send_phase`], [`publish_phase`], [`gather_phase`],
//! [`receive_phase`])
//! against the small [`Transport`] interface: [`MemoryTransport`] for islands in one process
//! ([`Archipelago`], islands evolving in parallel as par-core tasks), and
//! [`DirectoryTransport`] for islands in separate processes that share a folder (the `evolve`
//! example's `--island I --islands N --migration-dir DIR`). An MPI transport (migrants as
//! messages along the topology, statuses by an all-gather) is one more implementation of
//! [`Transport`], to be added with par-core's `Mpi` mode. Since every random draw is a pure
//! function of the run seed, the island and the epoch, the three give the same results for
//! the same seed whenever every message arrives (the schedule is synchronous).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;
use serde::{Deserialize, Serialize};

use par_core::Executor;
use par_core::seed::task_seed;

use crate::evolution::{Evolution, RunConfig, Status};
use crate::optimiser::{AskTell, Migrant, OptimiserConfig, ReplacePolicy, ranking};
use crate::task::Task;
use crate::{NeuroError, files};

/// Which islands an island sends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    /// `i` sends to `i + 1 (mod N)`.
    Ring,
    /// `i` sends to one other island drawn each epoch.
    Random,
    /// `i` sends to every other island.
    Complete,
}

/// Which individuals leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmigrantPolicy {
    /// The best by fitness.
    Best,
    /// Drawn uniformly without replacement.
    Random,
}

/// How islands exchange migrants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MigrationConfig {
    /// Generations per epoch (between migrations). Default: 10.
    pub every: u64,
    /// Migrants sent to each destination; 0 disables migration. Default: 5.
    pub migrants: usize,
    /// Default: ring.
    pub topology: Topology,
    /// Default: best.
    pub emigrants: EmigrantPolicy,
    /// Default: worst.
    pub replace: ReplacePolicy,
}

impl Default for MigrationConfig {
    fn default() -> Self {
        Self {
            every: 10,
            migrants: 5,
            topology: Topology::Ring,
            emigrants: EmigrantPolicy::Best,
            replace: ReplacePolicy::Worst,
        }
    }
}

/// Largest island count.
pub const MAX_ISLANDS: usize = 4096;

impl MigrationConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), NeuroError> {
        if self.every == 0 || self.every > 1_000_000 {
            return Err(NeuroError::field(
                "migration.every",
                format!("must be in 1..=1000000, got {}", self.every),
            ));
        }
        crate::error::count_in("migration.migrants", self.migrants, 0, 1_000_000)?;
        Ok(())
    }
}

const TOPOLOGY_SALT: u64 = 0x746f_706f;

/// The islands `island` sends to at `epoch` (of `n`), in increasing order.
pub fn destinations(
    topology: Topology,
    n: usize,
    island: usize,
    epoch: u64,
    seed: u64,
) -> Vec<usize> {
    if n < 2 {
        return Vec::new();
    }
    match topology {
        Topology::Ring => vec![(island + 1) % n],
        Topology::Complete => (0..n).filter(|&j| j != island).collect(),
        Topology::Random => {
            let mut rng = par_core::seed::task_rng(task_seed(seed ^ TOPOLOGY_SALT, epoch), island);
            let k = rng.random_range(0..n - 1);
            vec![if k >= island { k + 1 } else { k }]
        }
    }
}

/// The islands that send to `island` at `epoch`, in increasing order.
pub fn sources(topology: Topology, n: usize, island: usize, epoch: u64, seed: u64) -> Vec<usize> {
    (0..n)
        .filter(|&j| destinations(topology, n, j, epoch, seed).contains(&island))
        .collect()
}

/// The `k` emigrants of a population (genomes row-major of length `dim`, fitness) by `policy`.
pub fn select_emigrants(
    genomes: &[f64],
    fitness: &[f64],
    dim: usize,
    k: usize,
    policy: EmigrantPolicy,
    from: usize,
    rng: &mut par_core::TaskRng,
) -> Vec<Migrant> {
    let k = k.min(fitness.len());
    let rows: Vec<usize> = match policy {
        EmigrantPolicy::Best => ranking(fitness).into_iter().take(k).collect(),
        EmigrantPolicy::Random => rand::seq::index::sample(rng, fitness.len(), k).into_vec(),
    };
    rows.into_iter()
        .map(|r| Migrant {
            genome: genomes[r * dim..(r + 1) * dim].to_vec(),
            fitness: fitness[r],
            from,
        })
        .collect()
}

/// What an island says at the end of an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochStatus {
    /// Whether it solved the task.
    pub solved: bool,
    /// Whether it will run another epoch.
    pub active: bool,
}

/// How migrants and statuses travel between islands.
pub trait Transport {
    /// Delivers `migrants` from island `from` to island `to` for `epoch`.
    fn send(
        &mut self,
        epoch: u64,
        from: usize,
        to: usize,
        migrants: &[Migrant],
    ) -> Result<(), NeuroError>;
    /// The migrants `from` sent to `to` at `epoch`; `None` when they did not arrive or could
    /// not be read (the transport records a warning, see [`Transport::take_warnings`]).
    fn receive(
        &mut self,
        epoch: u64,
        from: usize,
        to: usize,
    ) -> Result<Option<Vec<Migrant>>, NeuroError>;
    /// Publishes island `island`'s status at the end of `epoch`.
    fn publish(&mut self, epoch: u64, island: usize, status: EpochStatus)
    -> Result<(), NeuroError>;
    /// The statuses of `islands` at `epoch` (`None` where one never came).
    fn gather(
        &mut self,
        epoch: u64,
        islands: &[usize],
    ) -> Result<Vec<Option<EpochStatus>>, NeuroError>;
    /// Warnings since the last call (skipped migrant files, missing statuses).
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// Migration between islands of one process.
#[derive(Debug, Default)]
pub struct MemoryTransport {
    mail: HashMap<(u64, usize, usize), Vec<Migrant>>,
    statuses: HashMap<(u64, usize), EpochStatus>,
    /// Every delivery so far: `(epoch, from, to, migrant count)` (for tests and reports).
    pub log: Vec<(u64, usize, usize, usize)>,
}

impl Transport for MemoryTransport {
    fn send(
        &mut self,
        epoch: u64,
        from: usize,
        to: usize,
        migrants: &[Migrant],
    ) -> Result<(), NeuroError> {
        self.log.push((epoch, from, to, migrants.len()));
        self.mail.insert((epoch, from, to), migrants.to_vec());
        Ok(())
    }
    fn receive(
        &mut self,
        epoch: u64,
        from: usize,
        to: usize,
    ) -> Result<Option<Vec<Migrant>>, NeuroError> {
        Ok(self.mail.remove(&(epoch, from, to)))
    }
    fn publish(
        &mut self,
        epoch: u64,
        island: usize,
        status: EpochStatus,
    ) -> Result<(), NeuroError> {
        self.statuses.insert((epoch, island), status);
        Ok(())
    }
    fn gather(
        &mut self,
        epoch: u64,
        islands: &[usize],
    ) -> Result<Vec<Option<EpochStatus>>, NeuroError> {
        Ok(islands
            .iter()
            .map(|&i| self.statuses.get(&(epoch, i)).copied())
            .collect())
    }
}

/// The content of a migrant file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrantFile {
    /// Epoch.
    pub epoch: u64,
    /// Sender.
    pub from: usize,
    /// Receiver.
    pub to: usize,
    /// The migrants.
    pub migrants: Vec<Migrant>,
}

/// Migration through a folder shared by the island processes: each message is a JSON file
/// written atomically (temporary file, then rename), so a reader sees all of it or nothing; a
/// receiver polls for its files until `timeout`. A missing, partial or corrupt file is skipped
/// with a warning, never an error.
#[derive(Debug)]
pub struct DirectoryTransport {
    dir: PathBuf,
    timeout: Duration,
    poll: Duration,
    warnings: Vec<String>,
}

impl DirectoryTransport {
    /// A transport in `dir` (created, and checked writable) that waits up to `timeout` for
    /// each message.
    pub fn new(dir: &Path, timeout: Duration) -> Result<Self, NeuroError> {
        files::ensure_writable_dir(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            timeout,
            poll: Duration::from_millis(5),
            warnings: Vec::new(),
        })
    }

    /// The file of the migrants `from` sends `to` at `epoch`.
    pub fn migrant_path(&self, epoch: u64, from: usize, to: usize) -> PathBuf {
        self.dir
            .join(format!("epoch-{epoch:06}-from-{from:04}-to-{to:04}.json"))
    }

    /// The file of island `island`'s status at `epoch`.
    pub fn status_path(&self, epoch: u64, island: usize) -> PathBuf {
        self.dir
            .join(format!("epoch-{epoch:06}-status-{island:04}.json"))
    }

    fn wait_for(&self, path: &Path) -> bool {
        let start = Instant::now();
        loop {
            if path.exists() {
                return true;
            }
            if start.elapsed() >= self.timeout {
                return false;
            }
            std::thread::sleep(self.poll);
        }
    }
}

impl Transport for DirectoryTransport {
    fn send(
        &mut self,
        epoch: u64,
        from: usize,
        to: usize,
        migrants: &[Migrant],
    ) -> Result<(), NeuroError> {
        let file = MigrantFile {
            epoch,
            from,
            to,
            migrants: migrants.to_vec(),
        };
        files::write_json_atomic(&self.migrant_path(epoch, from, to), &file)
    }

    fn receive(
        &mut self,
        epoch: u64,
        from: usize,
        to: usize,
    ) -> Result<Option<Vec<Migrant>>, NeuroError> {
        let path = self.migrant_path(epoch, from, to);
        if !self.wait_for(&path) {
            self.warnings.push(format!(
                "{}: no migrants from island {from} after {:.1} s; skipped",
                path.display(),
                self.timeout.as_secs_f64()
            ));
            return Ok(None);
        }
        match files::read_json::<MigrantFile>(&path) {
            Ok(f) if f.epoch == epoch && f.from == from && f.to == to => Ok(Some(f.migrants)),
            Ok(f) => {
                self.warnings.push(format!(
                    "{}: holds epoch {} from {} to {}, not what its name says; skipped",
                    path.display(),
                    f.epoch,
                    f.from,
                    f.to
                ));
                Ok(None)
            }
            Err(e) => {
                self.warnings.push(format!("{e}; skipped"));
                Ok(None)
            }
        }
    }

    fn publish(
        &mut self,
        epoch: u64,
        island: usize,
        status: EpochStatus,
    ) -> Result<(), NeuroError> {
        files::write_json_atomic(&self.status_path(epoch, island), &status)
    }

    fn gather(
        &mut self,
        epoch: u64,
        islands: &[usize],
    ) -> Result<Vec<Option<EpochStatus>>, NeuroError> {
        let mut out = Vec::with_capacity(islands.len());
        for &i in islands {
            let path = self.status_path(epoch, i);
            if !self.wait_for(&path) {
                self.warnings.push(format!(
                    "{}: island {i} did not report after {:.1} s; taken as stopped",
                    path.display(),
                    self.timeout.as_secs_f64()
                ));
                out.push(None);
                continue;
            }
            match files::read_json::<EpochStatus>(&path) {
                Ok(s) => out.push(Some(s)),
                Err(e) => {
                    self.warnings
                        .push(format!("{e}; island {i} taken as stopped"));
                    out.push(None);
                }
            }
        }
        Ok(out)
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}

/// The seed of island `island` in a run seeded `seed` (the same in every transport).
pub fn island_seed(seed: u64, island: usize) -> u64 {
    task_seed(seed ^ 0x6973_6c65, island as u64)
}

/// Step 1: island `island` (of `n`) sends its emigrants for `epoch` to its active destinations.
#[allow(clippy::too_many_arguments)]
pub fn send_phase(
    evo: &Evolution<'_>,
    island: usize,
    n: usize,
    epoch: u64,
    seed: u64,
    config: &MigrationConfig,
    active: &[bool],
    transport: &mut dyn Transport,
) -> Result<(), NeuroError> {
    if config.migrants == 0 {
        return Ok(());
    }
    let (genomes, fitness) = evo.optimiser().population();
    let mut rng = evo.migration_rng(epoch, island);
    let migrants = select_emigrants(
        genomes,
        fitness,
        evo.optimiser().dim(),
        config.migrants,
        config.emigrants,
        island,
        &mut rng,
    );
    for to in destinations(config.topology, n, island, epoch, seed) {
        if active[to] {
            transport.send(epoch, island, to, &migrants)?;
        }
    }
    Ok(())
}

/// Step 2a: publishes this island's status at the end of `epoch`.
pub fn publish_phase(
    evo: &Evolution<'_>,
    island: usize,
    epoch: u64,
    transport: &mut dyn Transport,
) -> Result<(), NeuroError> {
    let status = EpochStatus {
        solved: evo.status() == Status::Solved,
        active: evo.status() == Status::Running,
    };
    transport.publish(epoch, island, status)
}

/// Step 2b: gathers the statuses of the islands active in `epoch` (a barrier); returns
/// whether any solved the task and which islands run the next epoch (an island whose status
/// never came is taken as stopped).
pub fn gather_phase(
    epoch: u64,
    active: &[bool],
    transport: &mut dyn Transport,
) -> Result<(bool, Vec<bool>), NeuroError> {
    let ids: Vec<usize> = (0..active.len()).filter(|&i| active[i]).collect();
    let got = transport.gather(epoch, &ids)?;
    let mut next = vec![false; active.len()];
    let mut solved = false;
    for (&i, s) in ids.iter().zip(got) {
        if let Some(s) = s {
            solved |= s.solved;
            next[i] = s.active;
        }
    }
    Ok((solved, next))
}

/// Step 3: island `island` takes in what its active sources sent at `epoch`.
#[allow(clippy::too_many_arguments)]
pub fn receive_phase(
    evo: &mut Evolution<'_>,
    island: usize,
    n: usize,
    epoch: u64,
    seed: u64,
    config: &MigrationConfig,
    active: &[bool],
    transport: &mut dyn Transport,
) -> Result<usize, NeuroError> {
    if config.migrants == 0 {
        return Ok(0);
    }
    let mut incoming = Vec::new();
    for from in sources(config.topology, n, island, epoch, seed) {
        if active[from]
            && let Some(m) = transport.receive(epoch, from, island)?
        {
            incoming.extend(m);
        }
    }
    incoming.sort_by(|a, b| b.fitness.total_cmp(&a.fitness));
    let mut rng = evo.migration_rng(epoch, island + n);
    let count = incoming.len();
    evo.optimiser_mut()
        .immigrate(&incoming, config.replace, &mut rng);
    Ok(count)
}

/// Settings of an islands run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IslandsConfig {
    /// Number of islands. Default: 4.
    pub islands: usize,
    /// Migration settings.
    pub migration: MigrationConfig,
}

impl Default for IslandsConfig {
    fn default() -> Self {
        Self {
            islands: 4,
            migration: MigrationConfig::default(),
        }
    }
}

/// Everything needed to continue an [`Archipelago`] between epochs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchipelagoCheckpoint {
    /// Islands settings.
    pub config: IslandsConfig,
    /// Run seed.
    pub seed: u64,
    /// Epochs completed.
    pub epoch: u64,
    /// Which islands run the next epoch.
    pub active: Vec<bool>,
    /// Whether an island solved the task.
    pub solved: bool,
    /// Each island's run.
    pub islands: Vec<crate::evolution::Checkpoint>,
}

/// `N` islands in one process, evolving in parallel as par-core tasks (one per island; each
/// island's own evaluations then run inline on that worker: par-core's one level of
/// parallelism), migrating through a [`MemoryTransport`].
pub struct Archipelago<'t> {
    islands: Vec<Mutex<Evolution<'t>>>,
    config: IslandsConfig,
    seed: u64,
    epoch: u64,
    active: Vec<bool>,
    solved: bool,
    transport: MemoryTransport,
}

impl std::fmt::Debug for Archipelago<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archipelago")
            .field("config", &self.config)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl<'t> Archipelago<'t> {
    /// `config.islands` islands of the optimiser on `task`; island `i` is seeded with
    /// [`island_seed`]`(run.seed, i)` and gets `run.max_evals / islands` evaluations.
    pub fn new(
        task: &'t dyn Task,
        optimiser: &OptimiserConfig,
        run: &RunConfig,
        config: IslandsConfig,
    ) -> Result<Self, NeuroError> {
        crate::error::count_in("islands.islands", config.islands, 1, MAX_ISLANDS)?;
        config.migration.validate()?;
        let per_island = (run.max_evals / config.islands as u64).max(1);
        let islands = (0..config.islands)
            .map(|i| {
                let r = RunConfig {
                    seed: island_seed(run.seed, i),
                    max_evals: per_island,
                    ..run.clone()
                };
                Evolution::new(task, optimiser.clone(), r).map(Mutex::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            active: vec![true; config.islands],
            islands,
            config,
            seed: run.seed,
            epoch: 0,
            solved: false,
            transport: MemoryTransport::default(),
        })
    }

    /// Whether the run is over (an island solved the task, or every budget is spent).
    pub fn finished(&self) -> bool {
        self.solved || !self.active.iter().any(|&a| a)
    }

    /// Epochs completed.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Every delivery so far.
    pub fn deliveries(&self) -> &[(u64, usize, usize, usize)] {
        &self.transport.log
    }

    /// The state to save for [`Archipelago::resume`] (between epochs).
    pub fn checkpoint(&self) -> ArchipelagoCheckpoint {
        ArchipelagoCheckpoint {
            config: self.config.clone(),
            seed: self.seed,
            epoch: self.epoch,
            active: self.active.clone(),
            solved: self.solved,
            islands: self.with_islands(|_, e| e.checkpoint()),
        }
    }

    /// An archipelago continued from `checkpoint`.
    pub fn resume(
        task: &'t dyn Task,
        checkpoint: ArchipelagoCheckpoint,
    ) -> Result<Self, NeuroError> {
        let n = checkpoint.islands.len();
        if n != checkpoint.config.islands || checkpoint.active.len() != n {
            return Err(NeuroError::field(
                "checkpoint.islands",
                format!(
                    "holds {n} islands for a run of {}",
                    checkpoint.config.islands
                ),
            ));
        }
        let islands = checkpoint
            .islands
            .into_iter()
            .map(|c| Evolution::resume(task, c).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            islands,
            config: checkpoint.config,
            seed: checkpoint.seed,
            epoch: checkpoint.epoch,
            active: checkpoint.active,
            solved: checkpoint.solved,
            transport: MemoryTransport::default(),
        })
    }

    /// Runs one epoch: `every` generations of each active island in parallel, then migration.
    /// Returns the generations run, island by island.
    pub fn step_epoch(
        &mut self,
        exec: &Executor,
    ) -> Result<Vec<(usize, crate::evolution::GenerationRecord)>, NeuroError> {
        let (every, epoch) = (self.config.migration.every, self.epoch);
        let active = self.active.clone();
        let out = exec.map(self.islands.len(), |ctx| -> Result<Vec<_>, NeuroError> {
            let mut recs = Vec::new();
            if !active[ctx.index] {
                return Ok(recs);
            }
            let mut evo = self.islands[ctx.index]
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let end = (epoch + 1) * every;
            while evo.status() == Status::Running && evo.state().generation < end {
                recs.push((ctx.index, evo.step(exec)?));
            }
            Ok(recs)
        })?;
        let mut records = Vec::new();
        for r in out.into_values()? {
            records.extend(r?);
        }
        let n = self.islands.len();
        let (epoch, seed, migration) = (self.epoch, self.seed, self.config.migration.clone());
        let mut islands: Vec<_> = self
            .islands
            .iter()
            .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()))
            .collect();
        for i in (0..n).filter(|&i| active[i]) {
            send_phase(
                &islands[i],
                i,
                n,
                epoch,
                seed,
                &migration,
                &active,
                &mut self.transport,
            )?;
        }
        for i in (0..n).filter(|&i| active[i]) {
            publish_phase(&islands[i], i, epoch, &mut self.transport)?;
        }
        let (solved, next) = gather_phase(epoch, &active, &mut self.transport)?;
        if !solved {
            for i in (0..n).filter(|&i| next[i]) {
                receive_phase(
                    &mut islands[i],
                    i,
                    n,
                    epoch,
                    seed,
                    &migration,
                    &active,
                    &mut self.transport,
                )?;
            }
        }
        drop(islands);
        self.solved = solved;
        self.active = next;
        self.epoch += 1;
        Ok(records)
    }

    /// Runs epochs until [`Archipelago::finished`].
    pub fn run(&mut self, exec: &Executor) -> Result<(), NeuroError> {
        while !self.finished() {
            self.step_epoch(exec)?;
        }
        Ok(())
    }

    /// Total evaluations over the islands.
    pub fn evaluations(&self) -> u64 {
        self.islands
            .iter()
            .map(|m| {
                m.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .state()
                    .evaluations
            })
            .sum()
    }

    /// The best fitness over the islands.
    pub fn best_fitness(&self) -> Option<f64> {
        self.islands
            .iter()
            .filter_map(|m| {
                m.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .state()
                    .best_fitness
            })
            .max_by(f64::total_cmp)
    }

    /// The islands' runs (locked one at a time by the closure).
    pub fn with_islands<R>(&self, mut f: impl FnMut(usize, &Evolution<'t>) -> R) -> Vec<R> {
        self.islands
            .iter()
            .enumerate()
            .map(|(i, m)| f(i, &m.lock().unwrap_or_else(|p| p.into_inner())))
            .collect()
    }
}

/// Where one island of a multi-process run stands in the migration schedule (saved beside
/// its run checkpoint, so a killed island resumes at the right step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IslandProgress {
    /// Epochs whose migration this island has completed.
    pub epochs_done: u64,
    /// Which islands run the next epoch.
    pub active: Vec<bool>,
    /// Whether some island solved the task.
    pub solved_somewhere: bool,
    /// Migrants taken in so far.
    pub received: u64,
}

impl IslandProgress {
    /// The start of an `n`-island run.
    pub fn new(n: usize) -> Self {
        Self {
            epochs_done: 0,
            active: vec![true; n],
            solved_somewhere: false,
            received: 0,
        }
    }

    /// Whether this island has nothing left to do.
    pub fn finished(&self, island: usize) -> bool {
        self.solved_somewhere || !self.active.get(island).copied().unwrap_or(false)
    }
}

/// What [`run_island`] reports to its observer.
#[derive(Debug, Clone, PartialEq)]
pub enum IslandEvent {
    /// A generation ended.
    Generation(crate::evolution::GenerationRecord),
    /// A message was skipped (missing, partial or corrupt migrants; a neighbour that did not
    /// report).
    Warning(String),
    /// An epoch's migration ended.
    Migrated {
        /// The epoch.
        epoch: u64,
        /// Migrants taken in.
        received: usize,
    },
}

/// Runs island `island` of `n` (one process of a multi-process islands run) to its end:
/// epochs of `config.every` generations, each followed by the migration steps through
/// `transport`. `observe` sees every generation and migration (to log and checkpoint, with
/// `progress`). Resumes where `progress` and `evo` left off.
#[allow(clippy::too_many_arguments)]
pub fn run_island<E: From<NeuroError>>(
    evo: &mut Evolution<'_>,
    island: usize,
    n: usize,
    seed: u64,
    config: &MigrationConfig,
    progress: &mut IslandProgress,
    transport: &mut dyn Transport,
    exec: &Executor,
    mut observe: impl FnMut(&Evolution<'_>, &IslandProgress, IslandEvent) -> Result<(), E>,
) -> Result<(), E> {
    config.validate()?;
    while !progress.finished(island) {
        let e = progress.epochs_done;
        while evo.status() == Status::Running && evo.state().generation < (e + 1) * config.every {
            let rec = evo.step(exec)?;
            observe(evo, progress, IslandEvent::Generation(rec))?;
        }
        let active = progress.active.clone();
        send_phase(evo, island, n, e, seed, config, &active, transport)?;
        publish_phase(evo, island, e, transport)?;
        let (solved, next) = gather_phase(e, &active, transport)?;
        let mut received = 0;
        if !solved && next[island] {
            received = receive_phase(evo, island, n, e, seed, config, &active, transport)?;
        }
        progress.epochs_done = e + 1;
        progress.active = next;
        progress.solved_somewhere = solved;
        progress.received += received as u64;
        for w in transport.take_warnings() {
            observe(evo, progress, IslandEvent::Warning(w))?;
        }
        observe(evo, progress, IslandEvent::Migrated { epoch: e, received })?;
    }
    Ok(())
}
