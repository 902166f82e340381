//! Self-play with episode-level parallelism: `W` worker threads, each playing several games at
//! once and evaluating the leaves of all of them as one batch (the pattern of KataGo and
//! AlphaZero.jl, where the original Python project ran one process per game, each with its own
//! copy of the network and no batching).
//!
//! # One worker
//!
//! A worker holds up to `games_per_worker` games in progress. In each round it asks every
//! game's PUCT search for up to `leaf_batch` leaves ([`Puct::gather`]), evaluates all of them
//! with one network call, hands each game its answers ([`Puct::scatter`]), and plays a move in
//! every game whose search has its simulations.
//!
//! # Where the network runs
//!
//! By default each worker calls the shared, read-only network itself, so `W` workers run `W`
//! forward passes at once. With `shared_network_thread` the workers send their batches to one
//! network thread instead, a [`BatchedEvaluator`] over par-core's [`Batcher`], which merges the
//! requests of all workers into one call (bigger batches, one thread doing all the network
//! work). On Connect Four with the 84-256-256 MLP and `matrixmultiply` products, a worker's own
//! batch (about 80 states) already runs at the speed of much bigger ones, and the single
//! network thread was the bottleneck: 2 workers played no faster than 1.
//!
//! # Playout cap randomisation
//!
//! With `full_search_prob < 1`, each move is searched either fully (`full_sims`, root noise,
//! recorded as a training sample) or cheaply (`fast_sims`, no noise, not recorded), after
//! KataGo (Wu 2019): more games per second for the value targets, full searches for the
//! policy targets.
//!
//! # Value targets
//!
//! The value target of a recorded state is the game's return `z` for the player to move
//! there (AlphaZero), or with `value_target_search_weight = w > 0` the mix `(1 - w) z + w q`
//! with the full search's root value `q` (the visit-weighted mean value of the root's
//! children, for the same player): the search's estimate is less noisy than one game's
//! result, which is what makes `z` alone a slow teacher early on (Abrams, "Lessons from
//! AlphaZero, part 4: improving the training target", Oracle Developers, 2018, on Connect
//! Four, found the average of the two the best of the targets they tried). Here, two
//! 30-minute Connect Four runs side by side (the `az_train` example's docs): with `w = 0.5`
//! the 200-simulation PUCT mistake rate on Test_L2_R1 fell from 0.047 (untrained) to 0.030
//! and the network-alone rate to 0.17, with `w = 0` they ended at 0.051 and 0.22.
//!
//! # Determinism
//!
//! Each game has its own seed (`seed` and its index), the network's answer for a state does
//! not depend on the batch it travels in, and games are returned in index order: the samples
//! are the same for any number of workers, games per worker, batch timing, and with or without
//! the shared network thread.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use par_core::batcher::{BatchStats, Batcher, BatcherConfig};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::net::Mlp;
use super::replay::{Sample, Symmetry};
use super::{Evaluator, Puct, PuctConfig};
use crate::encode::Encode;
use crate::error::MctsError;
use crate::game::{Game, backup_step};

type Request = Vec<f32>;
type Response = (Vec<f32>, Vec<f32>);
/// A finished game: its samples and the return of the first player.
type Finished = (Vec<Sample>, f64);

/// One network shared by many threads: each [`Evaluator::evaluate`] call becomes a request to a
/// par-core [`Batcher`], whose thread evaluates the requests of all callers together.
pub struct BatchedEvaluator {
    batcher: Batcher<Request, Response>,
    input_len: usize,
    num_actions: usize,
}

impl std::fmt::Debug for BatchedEvaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchedEvaluator")
            .field("input_len", &self.input_len)
            .field("num_actions", &self.num_actions)
            .finish_non_exhaustive()
    }
}

impl BatchedEvaluator {
    /// Starts the evaluator thread for `net`. A batch closes after `max_requests` requests
    /// (each holding several states) or `max_wait` after its first request.
    pub fn spawn<E: Evaluator + 'static>(
        net: Arc<E>,
        max_requests: usize,
        max_wait: Duration,
    ) -> Result<Self, MctsError> {
        let (input_len, num_actions) = (net.input_len(), net.num_actions());
        let batcher = Batcher::spawn(
            BatcherConfig {
                max_batch: max_requests,
                max_wait,
            },
            move |requests: Vec<Request>| {
                let sizes: Vec<usize> = requests.iter().map(|r| r.len() / input_len).collect();
                let total: usize = sizes.iter().sum();
                let inputs = requests.concat();
                let mut policy = vec![0.0f32; total * num_actions];
                let mut values = vec![0.0f32; total];
                if net.evaluate(&inputs, &mut policy, &mut values).is_err() {
                    // Uniform priors and value 0 rather than a panic in the batcher thread.
                    policy.fill(1.0 / num_actions as f32);
                    values.fill(0.0);
                }
                let mut at = 0;
                sizes
                    .into_iter()
                    .map(|n| {
                        let r = (
                            policy[at * num_actions..(at + n) * num_actions].to_vec(),
                            values[at..at + n].to_vec(),
                        );
                        at += n;
                        r
                    })
                    .collect()
            },
        )?;
        Ok(Self {
            batcher,
            input_len,
            num_actions,
        })
    }

    /// What the batcher did so far (batches are of requests, each holding several states).
    pub fn stats(&self) -> BatchStats {
        self.batcher.stats()
    }
}

impl Evaluator for BatchedEvaluator {
    fn input_len(&self) -> usize {
        self.input_len
    }
    fn num_actions(&self) -> usize {
        self.num_actions
    }
    fn evaluate(
        &self,
        inputs: &[f32],
        policy: &mut [f32],
        values: &mut [f32],
    ) -> Result<(), MctsError> {
        let (p, v) = self
            .batcher
            .submit(inputs.to_vec())
            .map_err(|e| MctsError::Evaluator(e.to_string()))?;
        if p.len() != policy.len() || v.len() != values.len() {
            return Err(MctsError::Evaluator(format!(
                "answer of {} values for {} states",
                v.len(),
                values.len()
            )));
        }
        policy.copy_from_slice(&p);
        values.copy_from_slice(&v);
        Ok(())
    }
}

/// Settings of self-play. Missing fields take their defaults when deserialised;
/// an unknown field is an error naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfPlayConfig {
    /// The search (its `dirichlet_epsilon` is used on full searches; default here 0.25).
    pub puct: PuctConfig,
    /// Simulations of a full search. Default 100.
    pub full_sims: u64,
    /// Simulations of a cheap search (playout cap randomisation). Default 25.
    pub fast_sims: u64,
    /// Probability that a move gets a full search; 1 turns playout cap randomisation off.
    /// Default 1.
    pub full_search_prob: f64,
    /// Moves played at temperature 1 (drawn in proportion to visits) at the start of each
    /// game; greedy afterwards. Default 8.
    pub temperature_moves: usize,
    /// Worker threads; 0 takes par-core's thread budget
    /// ([`available_threads`](par_core::budget::available_threads)). Default 0.
    pub workers: usize,
    /// Games each worker plays at once. Default 16.
    pub games_per_worker: usize,
    /// Whether the workers send their leaves to one network thread ([`BatchedEvaluator`],
    /// true) or each worker evaluates its own batch in its own thread (false). Default false:
    /// a worker's batch (`games_per_worker` times up to `leaf_batch` states, about 80 with the
    /// defaults) is already past the size where bigger batches stop paying, and one network
    /// thread was the bottleneck of self-play, so a second worker added nothing.
    pub shared_network_thread: bool,
    /// Longest wait of the batcher for more requests, in microseconds (only with
    /// `shared_network_thread`). Default 200.
    pub max_wait_us: u64,
    /// Weight `w` of the search's root value `q` in the value target `(1 - w) z + w q`
    /// (`z`: the game's return; see the module docs), in `[0, 1]`. Default 0.5.
    pub value_target_search_weight: f64,
}

impl Default for SelfPlayConfig {
    fn default() -> Self {
        Self {
            puct: PuctConfig {
                dirichlet_epsilon: 0.25,
                ..PuctConfig::default()
            },
            full_sims: 100,
            fast_sims: 25,
            full_search_prob: 1.0,
            temperature_moves: 8,
            workers: 0,
            games_per_worker: 16,
            shared_network_thread: false,
            max_wait_us: 200,
            value_target_search_weight: 0.5,
        }
    }
}

impl SelfPlayConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), MctsError> {
        self.puct.validate()?;
        let bad = |field: &'static str, reason: String| Err(MctsError::Config { field, reason });
        if self.full_sims == 0 {
            return bad("full_sims", "must be at least 1".into());
        }
        if self.full_search_prob < 1.0 && self.fast_sims == 0 {
            return bad(
                "fast_sims",
                "must be at least 1 when full_search_prob < 1".into(),
            );
        }
        if !(0.0..=1.0).contains(&self.full_search_prob) || self.full_search_prob == 0.0 {
            return bad(
                "full_search_prob",
                format!("must be in (0, 1], got {}", self.full_search_prob),
            );
        }
        if self.games_per_worker == 0 {
            return bad("games_per_worker", "must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.value_target_search_weight) {
            return bad(
                "value_target_search_weight",
                format!("must be in [0, 1], got {}", self.value_target_search_weight),
            );
        }
        if self.max_wait_us > 1_000_000 {
            return bad(
                "max_wait_us",
                format!("must be at most 1 s, got {}", self.max_wait_us),
            );
        }
        Ok(())
    }

    /// The number of workers this config runs with.
    pub fn worker_count(&self) -> usize {
        if self.workers == 0 {
            par_core::budget::available_threads()
        } else {
            self.workers
        }
    }
}

/// What one call to [`self_play`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelfPlayStats {
    /// Games played.
    pub games: usize,
    /// Moves played in all games.
    pub moves: usize,
    /// Samples recorded (before augmentation).
    pub samples: usize,
    /// States the network evaluated.
    pub evaluations: u64,
    /// Network calls (batches of the batcher).
    pub network_calls: u64,
    /// Mean states per network call.
    pub mean_states_per_call: f64,
    /// Games won by the first player, by the second, drawn (by the sign of the first player's
    /// return).
    pub outcomes: [usize; 3],
    /// Wall time in seconds.
    pub seconds: f64,
    /// Worker threads used.
    pub workers: usize,
}

/// One game in progress on a worker.
struct Slot<G: Game + Symmetry> {
    index: usize,
    search: Puct<G>,
    rng: Xoshiro256PlusPlus,
    /// Recorded states: input, policy target, the search's root value and the index of the
    /// move in `trail`.
    recorded: Vec<(Vec<f32>, Vec<f32>, f64, usize)>,
    /// (reward, discount, same player) of every move played.
    trail: Vec<(f64, f64, bool)>,
    target: u64,
    done: u64,
    full: bool,
}

impl<G: Game + Symmetry> Slot<G> {
    /// Game `game` of the run (its seed), at position `index` of the games its `drive` plays.
    fn new(
        index: usize,
        game: usize,
        start: &G,
        config: &SelfPlayConfig,
        seed: u64,
    ) -> Result<Self, MctsError> {
        let game_seed = par_core::seed::task_seed(seed, game as u64);
        let puct = PuctConfig {
            seed: game_seed,
            ..config.puct.clone()
        };
        let mut slot = Self {
            index,
            search: Puct::new(puct, start.clone())?,
            rng: Xoshiro256PlusPlus::seed_from_u64(game_seed ^ 0x5eed),
            recorded: Vec::new(),
            trail: Vec::new(),
            target: 0,
            done: 0,
            full: true,
        };
        slot.next_move(config)?;
        Ok(slot)
    }

    /// Draws the kind of search for the next move.
    fn next_move(&mut self, config: &SelfPlayConfig) -> Result<(), MctsError> {
        self.full =
            config.full_search_prob >= 1.0 || self.rng.random::<f64>() < config.full_search_prob;
        self.target = if self.full {
            config.full_sims
        } else {
            config.fast_sims
        };
        self.done = 0;
        let eps = if self.full {
            config.puct.dirichlet_epsilon
        } else {
            0.0
        };
        self.search.set_dirichlet_epsilon(eps)
    }

    /// Plays a move; returns the finished game's samples when it ends.
    fn play(&mut self, config: &SelfPlayConfig) -> Result<Option<Finished>, MctsError> {
        let state = self.search.root_state().clone();
        if self.full {
            let mut input = vec![0.0f32; G::INPUT_LEN];
            state.encode(&mut input);
            self.recorded.push((
                input,
                self.search.visit_distribution(),
                self.search.root_value(),
                self.trail.len(),
            ));
        }
        let action = self
            .search
            .select_scheduled_move(self.trail.len(), config.temperature_moves)?;
        let mut next = state.clone();
        let player = state.current_player();
        let reward = next.apply(action);
        self.trail
            .push((reward, next.discount(), next.current_player() == player));
        self.search.advance(action)?;
        if !next.is_terminal() {
            self.next_move(config)?;
            return Ok(None);
        }
        // Returns for the player to move before each move, back to front.
        let mut returns = vec![0.0f64; self.trail.len() + 1];
        for t in (0..self.trail.len()).rev() {
            let (r, d, same) = self.trail[t];
            returns[t] = backup_step(r, d, same, returns[t + 1]);
        }
        let w = config.value_target_search_weight;
        let samples = self
            .recorded
            .drain(..)
            .map(|(input, policy, q, t)| Sample {
                input,
                policy,
                value: ((1.0 - w) * returns[t] + w * q).clamp(-1.0, 1.0) as f32,
            })
            .collect();
        Ok(Some((samples, returns[0])))
    }
}

impl<G: Game + Symmetry> InFlight for Slot<G> {
    type Game = G;
    type Ctx = SelfPlayConfig;
    type Output = Finished;
    type Error = MctsError;
    fn index(&self) -> usize {
        self.index
    }
    fn search(&mut self) -> &mut Puct<G> {
        &mut self.search
    }
    fn done(&mut self) -> &mut u64 {
        &mut self.done
    }
    fn target(&self, _: &SelfPlayConfig) -> u64 {
        self.target
    }
    fn play(&mut self, config: &SelfPlayConfig) -> Result<Option<Finished>, MctsError> {
        Slot::play(self, config)
    }
}

/// Plays `games` games of `G` from `start` with `net` shared by the workers through one
/// [`BatchedEvaluator`]. Returns the samples of each game, in game order, and what was done.
pub fn self_play<G, E>(
    net: Arc<E>,
    start: &G,
    games: usize,
    config: &SelfPlayConfig,
    seed: u64,
) -> Result<(Vec<Vec<Sample>>, SelfPlayStats), MctsError>
where
    G: Game + Symmetry,
    E: Evaluator + 'static,
{
    check_net::<G, E>(&*net, config)?;
    let t0 = Instant::now();
    let workers = config.worker_count().clamp(1, games.max(1));
    let new_slot = |index| Slot::new(index, index, start, config, seed);
    let (per_worker, leaf_batch) = (config.games_per_worker, config.puct.leaf_batch);
    let (driven, network_calls) = if config.shared_network_thread {
        let evaluator =
            BatchedEvaluator::spawn(net, workers, Duration::from_micros(config.max_wait_us))?;
        let driven = drive(
            &evaluator, games, workers, per_worker, leaf_batch, config, new_slot,
        )?;
        (driven, evaluator.stats().batches)
    } else {
        let driven = drive(
            &*net, games, workers, per_worker, leaf_batch, config, new_slot,
        )?;
        let calls = driven.calls;
        (driven, calls)
    };
    let mut stats = SelfPlayStats {
        games,
        moves: driven.steps as usize,
        workers,
        network_calls,
        evaluations: driven.evaluations,
        ..SelfPlayStats::default()
    };
    let out = stats.count(driven.outputs);
    stats.seconds = t0.elapsed().as_secs_f64();
    Ok((out, stats))
}

/// Fails unless `config` is valid and `E` reads and writes `G`'s encoding.
fn check_net<G: Game + Symmetry, E: Evaluator + ?Sized>(
    net: &E,
    config: &SelfPlayConfig,
) -> Result<(), MctsError> {
    config.validate()?;
    if net.input_len() != G::INPUT_LEN || net.num_actions() != G::NUM_ACTIONS {
        return Err(MctsError::Config {
            field: "net",
            reason: format!(
                "reads {} inputs and writes {} actions, the game has {} and {}",
                net.input_len(),
                net.num_actions(),
                G::INPUT_LEN,
                G::NUM_ACTIONS
            ),
        });
    }
    Ok(())
}

impl SelfPlayStats {
    /// Counts the samples and outcomes of `finished` (in game order) into `self` (and the
    /// mean batch from the evaluations and calls already there); returns each game's samples.
    fn count(&mut self, finished: Vec<Finished>) -> Vec<Vec<Sample>> {
        let mut out = Vec::with_capacity(finished.len());
        for (samples, first_return) in finished {
            self.samples += samples.len();
            let k = if first_return > 0.0 {
                0
            } else if first_return < 0.0 {
                1
            } else {
                2
            };
            self.outcomes[k] += 1;
            out.push(samples);
        }
        if self.network_calls > 0 {
            self.mean_states_per_call = self.evaluations as f64 / self.network_calls as f64;
        }
        out
    }
}

/// Self-play as a par-core job, so that it runs in every execution mode, MPI ranks and worker
/// processes included: task `t` plays games `t B .. (t + 1) B` of the run (`B` =
/// `games_per_worker`) on one thread, evaluating the leaves of all its games as one batch per
/// round, exactly as one worker of [`self_play`] does. Game `i` has the seed of game `i` of
/// [`self_play`], so the samples are the same as [`self_play`]'s for the same network, start,
/// settings and seed, whatever the mode, worker or rank count (see the module docs on
/// determinism).
///
/// The network travels with the job (to every worker process or rank, once). In a binary that
/// uses worker processes, register the job's type for its game:
/// `par_core::process::Registry::new().with::<SelfPlayJob<Connect4>>()`.
///
/// ```
/// use mcts::{Encode, TicTacToe};
/// use mcts::alphazero::selfplay::{SelfPlayConfig, SelfPlayJob, self_play};
/// use mcts::alphazero::{Mlp, NetShape};
/// use par_core::{ExecConfig, Executor, Mode};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let shape = NetShape { input: TicTacToe::INPUT_LEN, hidden: vec![16], actions: 9 };
/// let net = Mlp::new(shape, 1)?;
/// let config = SelfPlayConfig { full_sims: 8, games_per_worker: 2, ..SelfPlayConfig::default() };
/// let job = SelfPlayJob::new(net.clone(), TicTacToe::new(), 5, config.clone(), 7)?;
/// let exec = Executor::new(ExecConfig::with_mode(Mode::Threads { workers: 2 }))?;
/// let (games, stats) = job.run_on(&exec)?;
/// assert_eq!(stats.games, 5);
/// let (same, _) = self_play(std::sync::Arc::new(net), &TicTacToe::new(), 5, &config, 7)?;
/// assert_eq!(games, same);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "G: Serialize + serde::de::DeserializeOwned")]
pub struct SelfPlayJob<G> {
    net: Mlp,
    start: G,
    games: usize,
    config: SelfPlayConfig,
    seed: u64,
}

/// What one task of a [`SelfPlayJob`] returns: its finished games (samples and the first
/// player's return) in game order, and what it counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GamesBlock {
    /// The games, in order.
    pub games: Vec<(Vec<Sample>, f64)>,
    /// Moves played.
    pub moves: u64,
    /// States evaluated by the network.
    pub evaluations: u64,
    /// Network calls.
    pub calls: u64,
}

impl<G: Game + Symmetry> SelfPlayJob<G> {
    /// `games` games of self-play from `start` with `net`; fails on an invalid `config` or a
    /// network that does not fit `G`.
    pub fn new(
        net: Mlp,
        start: G,
        games: usize,
        config: SelfPlayConfig,
        seed: u64,
    ) -> Result<Self, MctsError> {
        check_net::<G, Mlp>(&net, &config)?;
        Ok(Self {
            net,
            start,
            games,
            config,
            seed,
        })
    }

    /// The number of tasks: the games in blocks of `games_per_worker`.
    pub fn tasks(&self) -> usize {
        self.games.div_ceil(self.config.games_per_worker)
    }

    /// Plays the games of task `task` on the calling thread.
    pub fn play_block(&self, task: usize) -> Result<GamesBlock, MctsError> {
        let per = self.config.games_per_worker;
        let first = task * per;
        let count = per.min(self.games.saturating_sub(first));
        let (start, config, seed) = (&self.start, &self.config, self.seed);
        let new_slot = |i: usize| Slot::new(i, first + i, start, config, seed);
        let driven = drive(
            &self.net,
            count,
            1,
            per,
            config.puct.leaf_batch,
            config,
            new_slot,
        )?;
        Ok(GamesBlock {
            games: driven.outputs,
            moves: driven.steps,
            evaluations: driven.evaluations,
            calls: driven.calls,
        })
    }

    /// Runs the job through `exec` and returns the samples of each game, in game order, and
    /// what was done, as [`self_play`] does (in `Mode::Mpi` a collective call whose result
    /// every rank gets).
    pub fn run_on(
        &self,
        exec: &par_core::Executor,
    ) -> Result<(Vec<Vec<Sample>>, SelfPlayStats), MctsError>
    where
        G: Serialize + serde::de::DeserializeOwned + 'static,
    {
        let t0 = Instant::now();
        let out = exec.run(self, self.tasks())?;
        let workers = out.report.workers;
        let mut stats = SelfPlayStats {
            games: self.games,
            workers,
            ..SelfPlayStats::default()
        };
        let mut finished = Vec::with_capacity(self.games);
        for (task, block) in out.into_values()?.into_iter().enumerate() {
            let block = block.map_err(|why| MctsError::Evaluator(format!("task {task}: {why}")))?;
            stats.moves += block.moves as usize;
            stats.evaluations += block.evaluations;
            stats.network_calls += block.calls;
            finished.extend(block.games);
        }
        let games = stats.count(finished);
        stats.seconds = t0.elapsed().as_secs_f64();
        Ok((games, stats))
    }
}

impl<G: Game + Symmetry> par_core::Job for SelfPlayJob<G> {
    /// The task's games, or why it failed.
    type Output = Result<GamesBlock, String>;
    fn run(&self, ctx: &mut par_core::TaskContext) -> Self::Output {
        self.play_block(ctx.index).map_err(|e| e.to_string())
    }
}

impl<G> par_core::RemoteJob for SelfPlayJob<G>
where
    G: Game + Symmetry + Serialize + serde::de::DeserializeOwned,
{
    const NAME: &'static str = "mcts.alphazero.self-play";
}

/// One game or episode in progress on a self-play worker, as [`drive`] sees it.
///
/// [`self_play`] implements it for board games; other crates implement it for their own
/// episodes (the `inspection` crate's AlphaZero self-play) and run them with [`drive`].
pub trait InFlight {
    /// What is searched.
    type Game: Game + Encode;
    /// The settings `play` and `target` read.
    type Ctx: Sync + ?Sized;
    /// What a finished game or episode returns.
    type Output: Send;
    /// The error of `play` and of making a game; the search's and the evaluator's errors
    /// convert into it.
    type Error: From<MctsError> + Send;
    /// Its index among all games of the run (results come back in this order).
    fn index(&self) -> usize;
    /// The search of the current move.
    fn search(&mut self) -> &mut Puct<Self::Game>;
    /// Simulations of the current move done so far.
    fn done(&mut self) -> &mut u64;
    /// Simulations the current move wants.
    fn target(&self, ctx: &Self::Ctx) -> u64;
    /// Plays the current move (its simulations are done); `Some` once the game is over.
    fn play(&mut self, ctx: &Self::Ctx) -> Result<Option<Self::Output>, Self::Error>;
}

/// What [`drive`] returns: the outputs in index order and what was counted.
#[derive(Debug)]
pub struct Driven<T> {
    /// One output per game, in index order.
    pub outputs: Vec<T>,
    /// Moves (or steps) played in all games.
    pub steps: u64,
    /// States sent to the network.
    pub evaluations: u64,
    /// Evaluator calls made by the workers (one per round with leaves).
    pub calls: u64,
}

/// Plays `items` games on `workers` threads, each holding up to `per_worker` games at once and
/// sending the leaves of all of them (up to `leaf_batch` per game) as one request to the shared
/// `evaluator` (a [`BatchedEvaluator`] merges the requests of all workers into one network call;
/// a plain network is called by each worker in its own thread). Game `i` is made by `new(i)` on
/// worker `i % workers`. The first error stops every worker and is returned.
pub fn drive<S, F, E>(
    evaluator: &E,
    items: usize,
    workers: usize,
    per_worker: usize,
    leaf_batch: usize,
    ctx: &S::Ctx,
    new: F,
) -> Result<Driven<S::Output>, S::Error>
where
    S: InFlight,
    F: Fn(usize) -> Result<S, S::Error> + Sync,
    E: Evaluator + ?Sized,
{
    use std::sync::atomic::{AtomicU64, Ordering};
    let actions = <S::Game as Game>::NUM_ACTIONS;
    let results: Mutex<Vec<Option<S::Output>>> = Mutex::new((0..items).map(|_| None).collect());
    let steps = AtomicU64::new(0);
    let evaluations = AtomicU64::new(0);
    let calls = AtomicU64::new(0);
    let first_error: Mutex<Option<S::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for w in 0..workers {
            let (results, steps, evaluations, calls, first_error, new) =
                (&results, &steps, &evaluations, &calls, &first_error, &new);
            s.spawn(move || {
                let run = || -> Result<(), S::Error> {
                    let mut next = w;
                    let mut slots: Vec<S> = Vec::new();
                    let mut inputs = Vec::new();
                    let mut counts = Vec::new();
                    loop {
                        while slots.len() < per_worker && next < items {
                            slots.push(new(next)?);
                            next += workers;
                        }
                        if slots.is_empty() {
                            return Ok(());
                        }
                        if first_error.lock().map(|e| e.is_some()).unwrap_or(true) {
                            return Ok(());
                        }
                        inputs.clear();
                        counts.clear();
                        for slot in &mut slots {
                            let target = slot.target(ctx);
                            let want = (target - (*slot.done()).min(target)).min(leaf_batch as u64)
                                as usize;
                            let (n, immediate) = slot.search().gather(want, &mut inputs);
                            *slot.done() += immediate as u64;
                            if n == 0 && immediate == 0 {
                                // No leaf could be selected (a tree that cannot grow): play
                                // with the visits there are rather than loop forever.
                                *slot.done() = target;
                            }
                            counts.push(n);
                        }
                        let total: usize = counts.iter().sum();
                        if total > 0 {
                            evaluations.fetch_add(total as u64, Ordering::Relaxed);
                            calls.fetch_add(1, Ordering::Relaxed);
                            let mut policy = vec![0.0f32; total * actions];
                            let mut values = vec![0.0f32; total];
                            evaluator.evaluate(&inputs, &mut policy, &mut values)?;
                            let mut at = 0;
                            for (slot, &n) in slots.iter_mut().zip(&counts) {
                                slot.search().scatter(
                                    &policy[at * actions..(at + n) * actions],
                                    &values[at..at + n],
                                );
                                *slot.done() += n as u64;
                                at += n;
                            }
                        }
                        let mut k = 0;
                        while k < slots.len() {
                            if *slots[k].done() >= slots[k].target(ctx) {
                                steps.fetch_add(1, Ordering::Relaxed);
                                if let Some(finished) = slots[k].play(ctx)? {
                                    let slot = slots.swap_remove(k);
                                    let mut r = results.lock().map_err(|_| {
                                        MctsError::Evaluator("a worker panicked".into())
                                    })?;
                                    r[slot.index()] = Some(finished);
                                    continue;
                                }
                            }
                            k += 1;
                        }
                    }
                };
                if let Err(e) = run()
                    && let Ok(mut slot) = first_error.lock()
                {
                    slot.get_or_insert(e);
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }
    let results = results
        .into_inner()
        .map_err(|_| MctsError::Evaluator("a worker panicked".into()))?;
    let mut outputs = Vec::with_capacity(items);
    for (i, r) in results.into_iter().enumerate() {
        outputs.push(r.ok_or(MctsError::Inconsistent {
            node: i,
            reason: "a self-play game or episode did not finish".into(),
        })?);
    }
    Ok(Driven {
        outputs,
        steps: steps.into_inner(),
        evaluations: evaluations.into_inner(),
        calls: calls.into_inner(),
    })
}
