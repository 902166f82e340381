//! Tree parallelism: several threads run UCT simulations on one shared tree.
//!
//! Chaslot, Winands and van den Herik, "Parallel Monte-Carlo tree search", Computers and Games
//! 2008 (doi:10.1007/978-3-540-87608-3_6); Enzenberger and Müller, "A lock-free multithreaded
//! Monte-Carlo tree search algorithm", Advances in Computer Games 2009
//! (doi:10.1007/978-3-642-12993-3_2).
//!
//! # Shared statistics without locks
//!
//! Every node's counts (visits and completed back-ups, packed in one `AtomicU64`), value sum
//! and leaf-evaluation count are atomics updated with read-modify-write operations
//! (`fetch_add`, and a compare-and-swap loop for the `f64` value sum), so no update is ever
//! lost. Selection reads them with relaxed loads: a thread may see another's update late, which
//! only perturbs the choice, never the counts.
//!
//! The nodes near the root are written by every simulation of every thread, so the number of
//! shared writes per simulation is what limits the speed-up. A simulation therefore makes at
//! most three read-modify-writes per node on its path (one on the way down with virtual loss,
//! two on the way back). The root's visits are counted once per claim of `CLAIM` (16)
//! simulations.
//!
//! *Held statistics at hot nodes.* The children of the root and of every node with at least
//! `HOT_VISITS` (256) visits are not written per simulation at all: each thread keeps its
//! visits and returns there in a small private table (keyed by the child block) and adds them
//! to the tree once it holds `1/16` of the node's visits there (`STALE_SHIFT`), one update per
//! child touched. Selection at such a node counts the shared statistics plus the thread's own
//! held ones, so a thread always sees its own simulations; the statistics it sees lack at most
//! `1/16` of the node's visits per other thread, at every hot node alike. Near the root, where
//! every simulation of every thread passes, this means one flush every few thousand
//! simulations instead of one per claim. Measured on the 2-core machine of the bench (seven
//! interleaved runs of 4 searches of 200k simulations): flushing all held statistics once per
//! claim of 16 simulations (the same 1/16 bound at the least-visited hot nodes, far tighter
//! above) gave 2-thread efficiencies of 0.70-0.82, the proportional rule 0.79-0.89 (2-thread
//! throughput 5-20 % higher), with the same Pons mistake rates (2 threads, all 1000
//! positions of each set at 1k and 10k simulations: 3/0/3/3 mistakes against 1/0/8/5).
//! Virtual loss does not apply to held children: below a node with hundreds of visits one
//! in-flight simulation moves a child's mean by a few per cent at most, while the
//! per-simulation writes it needs are what made the two threads fight over these cache lines
//! (measured: holding only the root's children was not enough, the hot region of a
//! 400k-simulation Connect Four search is several levels deep). A thread's table holds up to
//! `HELD_MAX` blocks; when it is full, the thread flushes all of them at the end of its claim
//! and starts afresh (in between, new hot blocks are shared per simulation). Below the hot
//! nodes, where the threads' paths part and visit counts are small, statistics are shared per
//! simulation and virtual loss steers the threads apart. Arena
//! slots come from a per-thread chunk (one shared compare-and-swap per `ARENA_CHUNK` (512)
//! slots), and the shared counters that are touched (the arena length, the simulations left)
//! sit on cache lines of their own. Threads claim simulations from a shared counter, so a
//! thread slowed down by the system does not leave the other idle at the end.
//!
//! # Virtual loss
//!
//! With weight `w > 0`, a thread descending into a node counts its visit at once (one
//! `fetch_add`); the simulation is then *in flight* through the node (visits minus completed
//! back-ups) until its back-up adds the real return and counts the back-up. Selection scores a
//! child with `k` simulations in flight as if each had returned `-w`: mean
//! `(value - w k) / visits`, exploration term from `visits`. While simulations are in flight
//! through a node it thus looks worse by `w` per simulation, which steers the other threads
//! elsewhere; the value sum itself only ever receives real returns. With `w = 0` virtual loss
//! is off: visits and values are added on the way back only, and threads may pile into the
//! same path. Either way, the children of hot nodes use held statistics (above) instead.
//!
//! # Expansion protocol
//!
//! A node's child block is described by one `AtomicU64` holding the state (unexpanded,
//! expanding, expanded), the first child's index and the number of children. A thread that
//! wants to expand a node wins a compare-and-swap from *unexpanded* to *expanding*, takes a
//! contiguous block of the pre-sized arena from its own reservation (refilled by a
//! compare-and-swap on the arena's length; a block may therefore lie before its parent), writes
//! the children's actions, and publishes the block by storing *expanded* with `Release`
//! ordering (readers load it with `Acquire`, so they see the actions). A thread that finds the
//! node *expanding* does not wait: it evaluates the node with a rollout instead, counted in the
//! node's leaf evaluations. Hence, once all threads are joined, every node satisfies
//! `visits = leaf evaluations + sum of child visits`, and the root's visits equal the number of
//! simulations; [`TreeParallelUct::check_invariants`] verifies both.
//!
//! # Threads
//!
//! The search threads are scoped threads (`std::thread::scope`) that share the tree by
//! reference for one `search` call. par-core's executor is not used here: it runs independent
//! tasks with their own inputs and ordered results, while tree parallelism needs threads that
//! cooperate on one data structure for the whole search. Each thread's own state is aligned to
//! its own cache lines. Thread `t` draws its rollouts from
//! its own generator: xoshiro256++ seeded with the configured seed XOR the number of earlier
//! `search` calls on this tree, advanced by `t` jumps of 2^128 steps. With one thread the
//! simulations run on the caller's thread. Because threads
//! interleave, a parallel search is not reproducible run to run (a one-thread search is).

use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::error::MctsError;
use crate::game::{Action, Game, backup_step};
use crate::uct::{
    ChildStats, Rollout, Search, SearchSummary, UctConfig, best_root_action, ln_table, sqrt_ln,
};

/// Settings of tree parallelism. Missing fields take their defaults when deserialised;
/// an unknown field is an error naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParallelConfig {
    /// Search threads. Default 2.
    pub threads: usize,
    /// Virtual loss weight `w` (0 turns virtual loss off). Default 1.0.
    pub virtual_loss: f64,
}

impl Default for ParallelConfig {
    fn default() -> Self {
        Self {
            threads: 2,
            virtual_loss: 1.0,
        }
    }
}

impl ParallelConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), MctsError> {
        if self.threads == 0 || self.threads > 1024 {
            return Err(MctsError::Config {
                field: "threads",
                reason: format!("must be in 1..=1024, got {}", self.threads),
            });
        }
        if !(self.virtual_loss.is_finite() && self.virtual_loss >= 0.0) {
            return Err(MctsError::Config {
                field: "virtual_loss",
                reason: format!("must be finite and >= 0, got {}", self.virtual_loss),
            });
        }
        Ok(())
    }
}

const STATE_SHIFT: u32 = 48;
const COUNT_SHIFT: u32 = 32;
const UNEXPANDED: u64 = 0;
const EXPANDING: u64 = 1;
const EXPANDED: u64 = 2;

#[inline]
fn pack(state: u64, first: u32, count: u16) -> u64 {
    (state << STATE_SHIFT) | (u64::from(count) << COUNT_SHIFT) | u64::from(first)
}

#[inline]
fn unpack(word: u64) -> (u64, usize, usize) {
    (
        word >> STATE_SHIFT,
        (word & 0xffff_ffff) as usize,
        ((word >> COUNT_SHIFT) & 0xffff) as usize,
    )
}

/// Bit position of the completed-back-up count in [`Node::stats`].
const DONE_SHIFT: u32 = 32;
/// One arrival in [`Node::stats`].
const ARRIVAL: u64 = 1;
/// One completed back-up in [`Node::stats`].
const DONE: u64 = 1 << DONE_SHIFT;

#[inline]
fn arrivals(stats: u64) -> u32 {
    stats as u32
}

#[inline]
fn done(stats: u64) -> u32 {
    (stats >> DONE_SHIFT) as u32
}

#[derive(Debug, Default)]
struct Node {
    /// `f64` bits of the sum of the returns backed up through the node (real returns only:
    /// virtual loss is never written here, it is derived from the simulations in flight).
    value: AtomicU64,
    /// Low 32 bits: visits, counted on arrival (with virtual loss) or on back-up (without);
    /// high 32 bits: completed back-ups. Their difference is the number of simulations in
    /// flight through the node. One word, so that a back-up without virtual loss bumps both
    /// with one `fetch_add`.
    stats: AtomicU64,
    /// State, first child and child count, packed (see [`pack`]).
    children: AtomicU64,
    evals: AtomicU32,
    /// Cached for selection: `f32` bits of `value / done` and of `1 / sqrt(done)`, stored
    /// after each back-up (a later store may carry slightly older sums; this only perturbs
    /// selection, never the counts).
    mean: AtomicU32,
    inv_sqrt: AtomicU32,
    action: AtomicU16,
}

impl Node {
    /// Adds `delta` to the value sum and returns the new sum.
    #[inline]
    fn add_value(&self, delta: f64) -> f64 {
        let mut current = self.value.load(Ordering::Relaxed);
        loop {
            let next = f64::from_bits(current) + delta;
            match self.value.compare_exchange_weak(
                current,
                next.to_bits(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(seen) => current = seen,
            }
        }
    }

    /// Adds `visits` back-ups with returns summing to `value`: the value sum, `visits * step`
    /// to the counts (`DONE`, or `DONE | ARRIVAL` when the arrivals were not counted on the way
    /// down) and the cached selection statistics.
    #[inline]
    fn record(&self, value: f64, visits: u32, step: u64) {
        let value = self.add_value(value);
        let done = done(
            self.stats
                .fetch_add(u64::from(visits) * step, Ordering::Relaxed),
        ) + visits;
        self.cache(value, done);
    }

    /// Refreshes the cached selection statistics from a value sum and a back-up count.
    #[inline]
    fn cache(&self, value: f64, done: u32) {
        let n = f64::from(done.max(1));
        self.mean
            .store(((value / n) as f32).to_bits(), Ordering::Relaxed);
        self.inv_sqrt
            .store(((1.0 / n.sqrt()) as f32).to_bits(), Ordering::Relaxed);
    }

    #[inline]
    fn value(&self) -> f64 {
        f64::from_bits(self.value.load(Ordering::Relaxed))
    }

    #[inline]
    fn visits(&self) -> u32 {
        arrivals(self.stats.load(Ordering::Relaxed))
    }
}

impl<G: Game> Search<G> for TreeParallelUct<G> {
    fn search(&mut self, simulations: u64) -> SearchSummary {
        TreeParallelUct::search(self, simulations)
    }
    fn best_action(&self) -> Option<Action> {
        TreeParallelUct::best_action(self)
    }
    fn root_children(&self) -> Vec<ChildStats> {
        TreeParallelUct::root_children(self)
    }
    fn advance(&mut self, action: Action) -> Result<(), MctsError> {
        TreeParallelUct::advance(self, action)
    }
    fn root_state(&self) -> &G {
        TreeParallelUct::root_state(self)
    }
}

/// Copies one node's fields (with exclusive access to the destination).
fn copy_node(from: &Node, to: &mut Node) {
    *to.value.get_mut() = from.value.load(Ordering::Relaxed);
    *to.children.get_mut() = from.children.load(Ordering::Relaxed);
    *to.stats.get_mut() = from.stats.load(Ordering::Relaxed);
    *to.evals.get_mut() = from.evals.load(Ordering::Relaxed);
    *to.mean.get_mut() = from.mean.load(Ordering::Relaxed);
    *to.inv_sqrt.get_mut() = from.inv_sqrt.load(Ordering::Relaxed);
    *to.action.get_mut() = from.action.load(Ordering::Relaxed);
}

/// `n >= 1` default nodes from zeroed memory: the operating system hands out zero pages lazily,
/// so sizing the arena for the worst case costs only the memory the search touches.
fn zeroed_nodes(n: usize) -> Box<[Node]> {
    let n = n.max(1);
    let layout = std::alloc::Layout::array::<Node>(n).expect("arena size overflows");
    // SAFETY: `layout` has non-zero size (n >= 1 and `Node` is not zero-sized). `Node` consists
    // only of atomic integers, for which all-zero bytes are a valid value (equal to
    // `Node::default()`), so the zeroed allocation holds `n` initialised nodes; it was made by
    // the global allocator with the layout of `[Node; n]`, as `Box<[Node]>` requires.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout).cast::<Node>();
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, n))
    }
}

/// A UCT search whose simulations run on several threads over one shared tree.
///
/// ```
/// use mcts::{Connect4, ParallelConfig, TreeParallelUct, UctConfig};
/// let par = ParallelConfig { threads: 2, virtual_loss: 1.0 };
/// let mut search = TreeParallelUct::new(UctConfig::default(), par, Connect4::new())?;
/// let summary = search.search(4_000);
/// assert_eq!(search.root_visits(), 4_000);
/// search.check_invariants()?;
/// assert!(summary.best_action.is_some());
/// # Ok::<(), mcts::MctsError>(())
/// ```
#[derive(Debug)]
pub struct TreeParallelUct<G: Game> {
    config: UctConfig,
    parallel: ParallelConfig,
    root_state: G,
    /// The arena, sized before each search; `len` is the number of slots handed out (nodes in
    /// use plus `holes`).
    nodes: Box<[Node]>,
    /// On its own cache line: the fields beside it (`nodes`) are read on every node access.
    len: Padded<AtomicUsize>,
    /// Slots handed out to threads but left unused (see [`ARENA_CHUNK`]).
    holes: AtomicUsize,
    searches: u64,
    ln_table: &'static [f32],
    /// Blocks a thread holds at most ([`HELD_MAX`]; smaller in tests, to exercise the flush of
    /// a full table).
    held_max: usize,
}

/// One search thread's own state. Aligned to two cache lines (the unit the prefetcher pulls
/// in pairs) so that neighbouring workers in the `Vec` never share a line: the generator state
/// and the path lengths are written on every simulation.
#[repr(align(128))]
struct Worker {
    rng: Xoshiro256PlusPlus,
    path: Vec<u32>,
    edges: Vec<(f64, f64, bool)>,
    actions: Vec<Action>,
    /// For each edge of `path` (the node `path[k + 1]`): where its statistics are held in
    /// `held` (slot * width + child offset), or `NOT_HELD` when they go to the shared tree.
    held_at: Vec<u32>,
    /// Arena slots reserved by this thread and not used yet.
    block: std::ops::Range<usize>,
    /// This thread's statistics of the children of hot nodes, not yet added to the tree.
    held: Held,
    full: bool,
}

/// Marks an edge whose statistics go straight to the shared tree.
const NOT_HELD: u32 = u32::MAX;

/// A search thread's held statistics: for the child blocks of hot nodes (the root, and every
/// node with at least [`HOT_VISITS`] visits), the visits and value sums of this thread's
/// simulations not yet added to the shared tree. A block's held statistics are added to the
/// tree (`TreeParallelUct::flush_slot`) as soon as the thread holds `limit` visits there, a
/// fixed fraction of the node's visits ([`STALE_SHIFT`]). A small open-addressing table keyed
/// by the block's first child index; a block keeps its slot after a flush (with zero deltas)
/// until the whole table is flushed and cleared (`TreeParallelUct::flush_held`).
struct Held {
    /// First child index of the block in each slot, or `u32::MAX` for a free slot.
    keys: Vec<u32>,
    /// `width` (visits, value sum) pairs per slot, one per child of the block.
    deltas: Vec<(u32, f64)>,
    /// Visits held per slot (the sum of the slot's delta visits).
    pending: Vec<u32>,
    /// Held visits per slot at which the slot is flushed: `max(1, visits >> STALE_SHIFT)` of
    /// the block's parent, as last seen by this thread.
    limit: Vec<u32>,
    /// Slots in use, for the flush.
    used: Vec<u32>,
    /// Blocks held at most ([`HELD_MAX`]; smaller in tests).
    max: usize,
    /// Children per block at most (`G::NUM_ACTIONS`).
    width: usize,
}

/// Slots of a [`Held`] table (a power of two).
const HELD_SLOTS: usize = 512;
/// Blocks held at most; beyond it, statistics of new hot blocks go straight to the shared
/// tree until the table is flushed and cleared at the end of the claim.
const HELD_MAX: usize = 384;
/// Visits from which a node counts as hot: its children's statistics are then held per thread
/// (see the module docs).
const HOT_VISITS: u32 = 256;
/// A thread flushes a hot node's held statistics once it holds `visits >> STALE_SHIFT` visits
/// there (1/16 of the node's visits), so another thread's view of the node lacks at most that
/// share per thread.
const STALE_SHIFT: u32 = 4;

impl Held {
    /// A table for blocks of up to `width` children holding at most `max` (<= [`HELD_MAX`])
    /// blocks.
    fn new(width: usize, max: usize) -> Self {
        let max = max.min(HELD_MAX);
        Self {
            keys: vec![u32::MAX; HELD_SLOTS],
            deltas: vec![(0, 0.0); HELD_SLOTS * width],
            pending: vec![0; HELD_SLOTS],
            limit: vec![1; HELD_SLOTS],
            used: Vec::with_capacity(max),
            max,
            width,
        }
    }

    /// The slot of the block starting at `first`, taken if new; `None` when the table is full.
    #[inline]
    fn slot(&mut self, first: u32) -> Option<usize> {
        // Fibonacci hashing: the top log2(HELD_SLOTS) bits of the product.
        let mut i =
            (first.wrapping_mul(0x9E37_79B1) >> (32 - HELD_SLOTS.trailing_zeros())) as usize;
        loop {
            let key = self.keys[i];
            if key == first {
                return Some(i);
            }
            if key == u32::MAX {
                if self.used.len() >= self.max {
                    return None;
                }
                self.keys[i] = first;
                self.used.push(i as u32);
                return Some(i);
            }
            i = (i + 1) & (HELD_SLOTS - 1);
        }
    }
}

/// Simulations a thread claims at a time (see `TreeParallelUct::run`).
const CLAIM: u64 = 16;

/// Arena slots a thread reserves at a time, so that threads rarely touch the shared arena
/// length (one compare-and-swap per chunk instead of one per expansion).
const ARENA_CHUNK: usize = 512;

/// A value alone on its cache lines (two, as adjacent-line prefetchers pull pairs), so that
/// writes to it do not invalidate neighbouring data that other threads read.
#[derive(Debug)]
#[repr(align(128))]
struct Padded<T>(T);

impl<G: Game> TreeParallelUct<G> {
    /// A search from `root_state`; fails on an invalid config.
    pub fn new(
        config: UctConfig,
        parallel: ParallelConfig,
        root_state: G,
    ) -> Result<Self, MctsError> {
        config.validate()?;
        parallel.validate()?;
        let nodes = zeroed_nodes(1);
        Ok(Self {
            config,
            parallel,
            root_state,
            nodes,
            len: Padded(AtomicUsize::new(1)),
            holes: AtomicUsize::new(0),
            searches: 0,
            ln_table: ln_table(),
            held_max: HELD_MAX,
        })
    }

    /// Arena slots a search of `simulations` simulations needs on a tree of `used` slots:
    /// each simulation expands at most one node (the worst case), and each thread may leave
    /// up to one chunk of its reservation unused; at most `config.max_nodes`.
    fn arena_nodes(
        config: &UctConfig,
        parallel: &ParallelConfig,
        used: usize,
        simulations: u64,
    ) -> usize {
        let slack = ((parallel.threads + 1) * ARENA_CHUNK) as u64;
        (used as u64)
            .saturating_add(simulations.saturating_mul(G::NUM_ACTIONS as u64))
            .saturating_add(slack)
            .min(config.max_nodes as u64) as usize
    }

    /// The memory, in bytes, of the node arena that a fresh search of `simulations`
    /// simulations reserves (sized for the worst case, up to `config.max_nodes` nodes): what
    /// a caller checks against the memory available before a big search.
    pub fn arena_bytes(config: &UctConfig, parallel: &ParallelConfig, simulations: u64) -> u128 {
        Self::arena_nodes(config, parallel, 1, simulations) as u128
            * std::mem::size_of::<Node>() as u128
    }

    /// The state at the root.
    pub fn root_state(&self) -> &G {
        &self.root_state
    }

    /// Nodes in the tree.
    pub fn tree_size(&self) -> usize {
        self.used() - self.holes.load(Ordering::Relaxed)
    }

    /// Arena slots handed out, tree nodes and holes.
    fn used(&self) -> usize {
        self.len.0.load(Ordering::Relaxed).min(self.nodes.len())
    }

    /// Simulations that went through the root so far.
    pub fn root_visits(&self) -> u32 {
        self.nodes[0].visits()
    }

    /// Runs `simulations` simulations split evenly over the threads and returns what it did.
    pub fn search(&mut self, simulations: u64) -> SearchSummary {
        self.search_until(simulations, None)
    }

    /// Runs simulations on every thread until `time` has passed (each thread reads the clock
    /// after every claim of 16 simulations) or `max_simulations` have run, whichever
    /// comes first: a search at a fixed wall-clock time per move. `max_simulations` also
    /// sizes the arena (as [`TreeParallelUct::search`]'s count does). The summary counts the
    /// simulations run.
    pub fn search_for(&mut self, max_simulations: u64, time: Duration) -> SearchSummary {
        self.search_until(max_simulations, Some(Instant::now() + time))
    }

    /// [`TreeParallelUct::search`], stopping early at `deadline` when there is one.
    fn search_until(&mut self, simulations: u64, deadline: Option<Instant>) -> SearchSummary {
        if self.root_state.is_terminal() || simulations == 0 {
            return self.summary(0, false);
        }
        let used = self.used();
        let threads = self.parallel.threads;
        let want = Self::arena_nodes(&self.config, &self.parallel, used, simulations);
        if self.nodes.len() < want {
            let mut bigger = zeroed_nodes(want);
            for (new, old) in bigger.iter_mut().zip(self.nodes.iter()) {
                copy_node(old, new);
            }
            self.nodes = bigger;
        }
        let mut actions = Vec::with_capacity(G::NUM_ACTIONS);
        let mut block = 0..0;
        let root_full =
            !self.expanded(0) && !self.try_expand(0, &self.root_state, &mut actions, &mut block);
        self.holes.fetch_add(block.len(), Ordering::Relaxed);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.config.seed ^ self.searches);
        self.searches += 1;
        let mut workers: Vec<Worker> = (0..threads)
            .map(|_| {
                let w = Worker {
                    rng: rng.clone(),
                    path: Vec::with_capacity(64),
                    edges: Vec::with_capacity(64),
                    held_at: Vec::with_capacity(64),
                    actions: Vec::with_capacity(G::NUM_ACTIONS),
                    block: 0..0,
                    held: Held::new(G::NUM_ACTIONS, self.held_max),
                    full: false,
                };
                rng.jump();
                w
            })
            .collect();
        let this = &*self;
        let remaining = Padded(AtomicU64::new(simulations));
        let remaining = &remaining.0;
        if let [only] = workers.as_mut_slice() {
            // One thread: run on the caller's thread, no spawn.
            this.run(only, remaining, deadline);
        } else {
            std::thread::scope(|scope| {
                for worker in &mut workers {
                    scope.spawn(move || this.run(worker, remaining, deadline));
                }
            });
        }
        // Every claimed simulation was run: those not claimed are what is left.
        let done = simulations - remaining.load(Ordering::Relaxed);
        let unused: usize = workers.iter().map(|w| w.block.len()).sum();
        self.holes.fetch_add(unused, Ordering::Relaxed);
        let full = root_full || workers.iter().any(|w| w.full);
        self.summary(done, full)
    }

    /// Claims simulations [`CLAIM`] at a time until none are left and runs them. The root's
    /// visits are counted per claim: one shared read-modify-write per claim instead of one
    /// per simulation (selection at the root sees at most `CLAIM - 1` visits early per thread,
    /// and once the threads are joined the count is exact).
    /// With a `deadline`, the thread stops claiming once it has passed.
    fn run(&self, w: &mut Worker, remaining: &AtomicU64, deadline: Option<Instant>) {
        while let Ok(left) = remaining.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            (left > 0).then(|| left.saturating_sub(CLAIM))
        }) {
            let claimed = left.min(CLAIM);
            self.nodes[0]
                .stats
                .fetch_add(claimed * ARRIVAL, Ordering::Relaxed);
            for _ in 0..claimed {
                self.simulate(w);
            }
            if w.held.used.len() >= w.held.max {
                self.flush_held(w);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        self.flush_held(w);
    }

    /// Adds the held statistics of one slot to the shared tree: one update per child touched
    /// instead of three per simulation, on the hot nodes that most simulations of every thread
    /// go through. The block keeps its slot.
    #[inline]
    fn flush_slot(&self, held: &mut Held, slot: usize) {
        let first = held.keys[slot] as usize;
        let deltas = &mut held.deltas[slot * held.width..(slot + 1) * held.width];
        for (i, delta) in deltas.iter_mut().enumerate() {
            let (visits, value) = std::mem::take(delta);
            if visits > 0 {
                self.nodes[first + i].record(value, visits, DONE | ARRIVAL);
            }
        }
        held.pending[slot] = 0;
    }

    /// Adds all of a thread's held statistics to the shared tree and frees every slot of its
    /// table: when the table is full, and when the thread's search ends.
    fn flush_held(&self, w: &mut Worker) {
        let held = &mut w.held;
        for k in 0..held.used.len() {
            let slot = held.used[k] as usize;
            self.flush_slot(held, slot);
            held.keys[slot] = u32::MAX;
        }
        held.used.clear();
    }

    /// [`Self::select`] among the children of a hot node, counting this thread's held
    /// statistics `deltas` (one per child).
    #[inline]
    fn select_held(&self, first: usize, parent_visits: u32, deltas: &[(u32, f64)]) -> usize {
        let c = self.config.exploration as f32 * sqrt_ln(self.ln_table, parent_visits);
        let mut best = first;
        let mut best_score = f32::NEG_INFINITY;
        for (i, (child, &(dn, dv))) in self.nodes[first..first + deltas.len()]
            .iter()
            .zip(deltas)
            .enumerate()
        {
            let shared = done(child.stats.load(Ordering::Relaxed));
            let visits = shared + dn;
            if visits == 0 {
                return first + i;
            }
            let mean = f32::from_bits(child.mean.load(Ordering::Relaxed));
            let score = if dn == 0 {
                mean + c * f32::from_bits(child.inv_sqrt.load(Ordering::Relaxed))
            } else {
                let n = visits as f32;
                (mean * shared as f32 + dv as f32) / n + c / n.sqrt()
            };
            if score > best_score {
                best_score = score;
                best = first + i;
            }
        }
        best
    }

    fn summary(&self, simulations: u64, tree_full: bool) -> SearchSummary {
        SearchSummary {
            simulations,
            nodes: self.tree_size(),
            tree_full,
            best_action: self.best_action(),
        }
    }

    /// The move to play under the configured final-move rule; `None` at a terminal root.
    pub fn best_action(&self) -> Option<Action> {
        best_root_action(
            &self.root_state,
            || self.root_children(),
            self.config.final_move,
        )
    }

    /// Statistics of the root's children, in legal-action order (empty before expansion).
    pub fn root_children(&self) -> Vec<ChildStats> {
        let (state, first, count) = unpack(self.nodes[0].children.load(Ordering::Acquire));
        if state != EXPANDED {
            return Vec::new();
        }
        (first..first + count)
            .map(|i| {
                let n = &self.nodes[i];
                let visits = n.visits();
                ChildStats {
                    action: n.action.load(Ordering::Relaxed),
                    visits,
                    mean_value: if visits > 0 {
                        n.value() / f64::from(visits)
                    } else {
                        0.0
                    },
                }
            })
            .collect()
    }

    /// Plays `action` at the root and keeps its subtree, compacted into a fresh arena.
    pub fn advance(&mut self, action: Action) -> Result<(), MctsError> {
        let mut actions = Vec::new();
        self.root_state.legal_actions(&mut actions);
        if !actions.contains(&action) {
            return Err(MctsError::IllegalAction { action });
        }
        self.root_state.apply(action);
        let (state, first, count) = unpack(*self.nodes[0].children.get_mut());
        let child = (state == EXPANDED)
            .then(|| (first..first + count).find(|&i| *self.nodes[i].action.get_mut() == action))
            .flatten();
        let old = std::mem::replace(&mut self.nodes, zeroed_nodes(1));
        let mut fresh: Vec<Node> = Vec::new();
        let copy = |n: &Node| {
            let mut new = Node::default();
            copy_node(n, &mut new);
            new
        };
        match child {
            Some(c) => fresh.push(copy(&old[c])),
            None => fresh.push(Node::default()),
        }
        let mut i = 0;
        while i < fresh.len() {
            let (state, first, count) = unpack(*fresh[i].children.get_mut());
            if state == EXPANDED {
                let new_first = fresh.len() as u32;
                *fresh[i].children.get_mut() = pack(EXPANDED, new_first, count as u16);
                fresh.extend(old[first..first + count].iter().map(copy));
            } else {
                *fresh[i].children.get_mut() = pack(UNEXPANDED, 0, 0);
            }
            i += 1;
        }
        self.len = Padded(AtomicUsize::new(fresh.len()));
        self.holes = AtomicUsize::new(0);
        self.nodes = fresh.into_boxed_slice();
        Ok(())
    }

    /// Verifies, once no search is running, that no update was lost: for every node
    /// `visits = leaf evaluations + sum of child visits`, every node but the root has completed
    /// as many back-ups as it had visits, child blocks are in bounds, no node is the child of
    /// two parents and only expanded nodes have children. Returns the first violation.
    pub fn check_invariants(&self) -> Result<(), MctsError> {
        let len = self.used();
        let mut has_parent = vec![false; len];
        for i in 0..len {
            let n = &self.nodes[i];
            let (state, first, count) = unpack(n.children.load(Ordering::Acquire));
            let stats = n.stats.load(Ordering::Relaxed);
            let visits = u64::from(arrivals(stats));
            if i > 0 && done(stats) != arrivals(stats) {
                return Err(MctsError::Inconsistent {
                    node: i,
                    reason: format!("{} back-ups for {} visits", done(stats), arrivals(stats)),
                });
            }
            let evals = u64::from(n.evals.load(Ordering::Relaxed));
            let children = if state == EXPANDED {
                // Threads take child blocks from their own chunks, so a block may lie before its
                // parent; it must stay in bounds and never hold the root or the node itself.
                if first + count > len
                    || (count > 0 && (first == 0 || (first..first + count).contains(&i)))
                {
                    return Err(MctsError::Inconsistent {
                        node: i,
                        reason: "child range".into(),
                    });
                }
                if let Some(c) = (first..first + count).find(|&c| has_parent[c]) {
                    return Err(MctsError::Inconsistent {
                        node: c,
                        reason: "child of two parents".into(),
                    });
                }
                has_parent[first..first + count].fill(true);
                self.nodes[first..first + count]
                    .iter()
                    .map(|c| u64::from(c.visits()))
                    .sum()
            } else if state == UNEXPANDED {
                0
            } else {
                return Err(MctsError::Inconsistent {
                    node: i,
                    reason: "left in the expanding state".into(),
                });
            };
            if visits != evals + children {
                return Err(MctsError::Inconsistent {
                    node: i,
                    reason: format!(
                        "visits {visits} != leaf evaluations {evals} + child visits {children}"
                    ),
                });
            }
        }
        Ok(())
    }

    #[inline]
    fn expanded(&self, node: usize) -> bool {
        unpack(self.nodes[node].children.load(Ordering::Acquire)).0 == EXPANDED
    }

    /// Tries to expand `node`, taking its children's slots from `block` (the calling thread's
    /// reservation, refilled from the arena when too short); false when another thread is
    /// expanding it or the arena is full.
    fn try_expand(
        &self,
        node: usize,
        state: &G,
        actions: &mut Vec<Action>,
        block: &mut std::ops::Range<usize>,
    ) -> bool {
        let n = &self.nodes[node];
        if n.children
            .compare_exchange(
                pack(UNEXPANDED, 0, 0),
                pack(EXPANDING, 0, 0),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return false;
        }
        state.legal_actions(actions);
        let count = actions.len();
        if block.len() < count {
            // Reserve a new chunk of `ARENA_CHUNK` slots (or just `count` near the end of the
            // arena) with a compare-and-swap loop, never past the end of the arena (a
            // `fetch_add` that had to be undone could hand out overlapping blocks). What was
            // left of the old chunk becomes a hole: zeroed slots that no node refers to.
            let capacity = self.nodes.len();
            let reserved = self
                .len
                .0
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |len| {
                    let size = if len + ARENA_CHUNK.max(count) <= capacity {
                        ARENA_CHUNK.max(count)
                    } else {
                        count
                    };
                    (len + size <= capacity).then_some(len + size)
                });
            let Ok(start) = reserved else {
                // Arena full: leave the node unexpanded for good (it is evaluated by rollouts).
                n.children.store(pack(UNEXPANDED, 0, 0), Ordering::Release);
                return false;
            };
            self.holes.fetch_add(block.len(), Ordering::Relaxed);
            let size = if start + ARENA_CHUNK.max(count) <= capacity {
                ARENA_CHUNK.max(count)
            } else {
                count
            };
            *block = start..start + size;
        }
        let first = block.start;
        block.start += count;
        for (k, &a) in actions.iter().enumerate() {
            self.nodes[first + k].action.store(a, Ordering::Relaxed);
        }
        n.children.store(
            pack(EXPANDED, first as u32, count as u16),
            Ordering::Release,
        );
        true
    }

    /// The child maximising UCB1. A child with simulations in flight (virtual loss on) is
    /// scored as if each of them had returned `-vl`; the others use the cached statistics.
    #[inline]
    fn select(&self, first: usize, count: usize, parent_visits: u32, vl: f32) -> usize {
        let c = self.config.exploration as f32 * sqrt_ln(self.ln_table, parent_visits);
        let mut best = first;
        let mut best_score = f32::NEG_INFINITY;
        for (i, child) in self.nodes[first..first + count].iter().enumerate() {
            let stats = child.stats.load(Ordering::Relaxed);
            let visits = arrivals(stats);
            if visits == 0 {
                return first + i;
            }
            let mean = f32::from_bits(child.mean.load(Ordering::Relaxed));
            let done = done(stats);
            let score = if done >= visits {
                mean + c * f32::from_bits(child.inv_sqrt.load(Ordering::Relaxed))
            } else {
                let n = visits as f32;
                let in_flight = (visits - done) as f32;
                (mean * done as f32 - vl * in_flight) / n + c / n.sqrt()
            };
            if score > best_score {
                best_score = score;
                best = first + i;
            }
        }
        best
    }

    fn simulate(&self, w: &mut Worker) {
        let vl = self.parallel.virtual_loss;
        let eager = vl > 0.0;
        let mut state = self.root_state.clone();
        w.path.clear();
        w.edges.clear();
        w.held_at.clear();
        let mut node = 0usize;
        w.path.push(0);
        // Visits of the current node before this simulation arrived (the root's were counted
        // when the simulation was claimed, see `run`; the root is always expanded anyway).
        let mut prior = 1;
        let g = loop {
            if state.is_terminal() {
                self.nodes[node].evals.fetch_add(1, Ordering::Relaxed);
                break 0.0;
            }
            let mut word = self.nodes[node].children.load(Ordering::Acquire);
            if unpack(word).0 != EXPANDED {
                // Expand on the second arrival (the first one had its rollout); the root always.
                let wanted = prior > 0 || node == 0;
                if wanted && self.try_expand(node, &state, &mut w.actions, &mut w.block) {
                    word = self.nodes[node].children.load(Ordering::Acquire);
                } else {
                    word = self.nodes[node].children.load(Ordering::Acquire);
                    if unpack(word).0 != EXPANDED {
                        // Not wanted yet, being expanded by another thread, or the arena is
                        // full: evaluate this node as a leaf.
                        w.full |= wanted && unpack(word).0 == UNEXPANDED;
                        self.nodes[node].evals.fetch_add(1, Ordering::Relaxed);
                        break match self.config.rollout {
                            Rollout::Random => state.random_rollout(&mut w.rng),
                            Rollout::Heuristic => state.heuristic_rollout(&mut w.rng),
                        };
                    }
                }
            }
            let (_, first, count) = unpack(word);
            let parent_visits = self.nodes[node].visits();
            // The children of a hot node keep this thread's statistics locally until it holds
            // a fixed share of the node's visits there (see `flush_slot`).
            let slot = if node == 0 || parent_visits >= HOT_VISITS {
                w.held.slot(first as u32)
            } else {
                None
            };
            let (child, held_at) = match slot {
                Some(slot) => {
                    w.held.limit[slot] = (parent_visits >> STALE_SHIFT).max(1);
                    let base = slot * w.held.width;
                    let deltas = &w.held.deltas[base..base + count];
                    let child = self.select_held(first, parent_visits, deltas);
                    (child, (base + child - first) as u32)
                }
                None => (
                    self.select(first, count, parent_visits, vl as f32),
                    NOT_HELD,
                ),
            };
            let c = &self.nodes[child];
            // With virtual loss, one `fetch_add` both counts the visit and marks the
            // simulation as in flight (visits - back-ups), which selection penalises. Held
            // children are counted locally until their block is flushed.
            prior = if held_at != NOT_HELD {
                c.visits() + w.held.deltas[held_at as usize].0
            } else if eager {
                arrivals(c.stats.fetch_add(ARRIVAL, Ordering::Relaxed))
            } else {
                c.visits()
            };
            let player = state.current_player();
            let reward = state.apply(c.action.load(Ordering::Relaxed));
            w.edges
                .push((reward, state.discount(), state.current_player() == player));
            w.path.push(child as u32);
            w.held_at.push(held_at);
            node = child;
        };
        let step = if eager { DONE } else { DONE | ARRIVAL };
        let mut g = g;
        for (k, &(reward, discount, same)) in w.edges.iter().enumerate().rev() {
            g = backup_step(reward, discount, same, g);
            let held_at = w.held_at[k];
            if held_at != NOT_HELD {
                let held = &mut w.held;
                let delta = &mut held.deltas[held_at as usize];
                delta.0 += 1;
                delta.1 += g;
                let slot = held_at as usize / held.width;
                held.pending[slot] += 1;
                if held.pending[slot] >= held.limit[slot] {
                    self.flush_slot(held, slot);
                }
                continue;
            }
            self.nodes[w.path[k + 1] as usize].record(g, 1, step);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_table_finds_its_blocks_and_refuses_past_its_limit() {
        let mut held = Held::new(7, HELD_MAX);
        let keys: Vec<u32> = (0..HELD_MAX as u32).map(|k| 1 + 7 * k).collect();
        let slots: Vec<usize> = keys.iter().map(|&k| held.slot(k).unwrap()).collect();
        // Distinct blocks get distinct slots, and asking again finds the same slot.
        let mut sorted = slots.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), HELD_MAX);
        for (&k, &slot) in keys.iter().zip(&slots) {
            assert_eq!(held.slot(k), Some(slot));
        }
        // Full: a new block is refused (its statistics then go to the shared tree).
        assert_eq!(held.slot(1 + 7 * HELD_MAX as u32), None);
        assert_eq!(held.used.len(), HELD_MAX);
    }

    #[test]
    fn full_held_tables_are_flushed_without_losing_updates() {
        use crate::Connect4;
        // Tables of one to four blocks fill up many times per claim: every full-table flush
        // and every block that then goes to the shared tree must keep the counts exact.
        for held_max in [1, 2, 4] {
            for threads in [1, 2, 3] {
                let par = ParallelConfig {
                    threads,
                    virtual_loss: 1.0,
                };
                let mut s = TreeParallelUct::new(UctConfig::default(), par, Connect4::new())
                    .expect("valid config");
                s.held_max = held_max;
                s.search(30_000);
                assert_eq!(s.root_visits(), 30_000);
                s.check_invariants()
                    .unwrap_or_else(|e| panic!("held_max {held_max}, {threads} threads: {e}"));
            }
        }
    }
}
