//! The AlphaZero loop: self-play with the current network, training steps on the replay
//! buffer, and the measures of progress (the Pons mistake rate judged by the exact solver, and
//! matches against pure MCTS).
//!
//! [`Trainer::iterate`] runs one iteration; [`Trainer::run_until`] runs iterations until an
//! iteration count is reached or a wall time budget is spent ([`Trainer::run_for`]: the budget
//! alone), calling back after each (the `az_train` example writes its training state, JSON log,
//! checkpoint and progress bar there).
//!
//! # Determinism and resuming
//!
//! For a given [`TrainConfig`] (its seed included) the iterations are the same on every run:
//! self-play is the same for any worker count (see [`selfplay`](super::selfplay)), and the
//! training batches come from one generator seeded with the run's seed. Stopped after any
//! iteration, a run resumed from its [`TrainingState`] ([`Trainer::training_state`],
//! [`Trainer::from_state`]) goes on with the same games, batches and network as one that never
//! stopped (a test checks it). Resumed from a bare [`Checkpoint`] ([`Trainer::resume`]) it
//! starts with an empty replay buffer and a fresh batch generator, and does not.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::checkpoint::{Checkpoint, TrainingSession};
use super::net::{Adam, AdamConfig, Losses, Mlp, NetShape};
use super::replay::{ReplayBuffer, Symmetry};
use super::selfplay::{SelfPlayConfig, SelfPlayStats, self_play};
use super::training_state::TrainingState;
use super::{Evaluator, Puct, PuctConfig};
use crate::connect4::{Connect4, WIDTH};
use crate::encode::Encode;
use crate::error::MctsError;
use crate::game::Game;
use crate::test_set::{JudgedPosition, count_mistakes};
use crate::uct::{Uct, UctConfig};
use par_core::{ExecConfig, Executor, Mode, Progress};

/// Settings of the loop. Missing fields take their defaults when deserialised;
/// an unknown field is an error naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Self-play settings.
    pub selfplay: SelfPlayConfig,
    /// Hidden widths of the network. Default `[256, 256]`.
    pub hidden: Vec<usize>,
    /// Optimiser. Default Adam with step 1e-3.
    pub adam: AdamConfig,
    /// L2 weight. Default 1e-4.
    pub l2: f32,
    /// Samples per training step. Default 256.
    pub batch_size: usize,
    /// Self-play games per iteration. Default 64.
    pub games_per_iteration: usize,
    /// Training steps per iteration: new samples (after augmentation) times this, over the
    /// batch size (at least one step). Default 4 (each new sample is drawn about four times
    /// while it is recent).
    pub sample_reuse: f64,
    /// Replay buffer capacity in samples. Default 100 000.
    pub replay_capacity: usize,
    /// Whether to add mirror images of the samples ([`Symmetry`]). Default true.
    pub augment: bool,
    /// Seed of the network's initialisation, the self-play games and the batches. Default 0.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            selfplay: SelfPlayConfig::default(),
            hidden: vec![256, 256],
            adam: AdamConfig::default(),
            l2: 1e-4,
            batch_size: 256,
            games_per_iteration: 64,
            sample_reuse: 4.0,
            replay_capacity: 100_000,
            augment: true,
            seed: 0,
        }
    }
}

impl TrainConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), MctsError> {
        self.selfplay.validate()?;
        self.adam.validate()?;
        let bad = |field: &'static str, reason: String| Err(MctsError::Config { field, reason });
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return bad("l2", format!("must be finite and >= 0, got {}", self.l2));
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1".into());
        }
        if self.games_per_iteration == 0 {
            return bad("games_per_iteration", "must be at least 1".into());
        }
        if !(self.sample_reuse.is_finite() && self.sample_reuse > 0.0) {
            return bad(
                "sample_reuse",
                format!("must be finite and > 0, got {}", self.sample_reuse),
            );
        }
        Ok(())
    }
}

/// What one iteration did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationLog {
    /// Iteration number (1 = first).
    pub iteration: u64,
    /// Self-play of this iteration.
    pub selfplay: SelfPlayStats,
    /// Samples added to the replay buffer (with augmentation).
    pub samples_added: usize,
    /// Samples in the buffer afterwards.
    pub replay_len: usize,
    /// Training steps taken.
    pub train_steps: usize,
    /// Mean loss terms over this iteration's steps.
    pub losses: Losses,
    /// Seconds in self-play and in training.
    pub selfplay_s: f64,
    /// Seconds in training steps.
    pub train_s: f64,
    /// Loop wall time so far (including earlier runs when resumed), in seconds.
    pub total_s: f64,
    /// Games played so far.
    pub total_games: u64,
    /// Samples recorded so far (before augmentation).
    pub total_samples: u64,
}

/// The AlphaZero loop over game `G` from its default starting state.
#[derive(Debug)]
pub struct Trainer<G: Symmetry + Default> {
    config: TrainConfig,
    net: Mlp,
    adam: Adam,
    replay: ReplayBuffer,
    rng: Xoshiro256PlusPlus,
    iteration: u64,
    games: u64,
    samples: u64,
    seconds: f64,
    /// The training sessions of the network (see [`Checkpoint::sessions`]).
    sessions: Vec<TrainingSession>,
    _game: std::marker::PhantomData<G>,
}

/// `config` as JSON, for a checkpoint's provenance.
fn config_json(config: &TrainConfig) -> Result<String, MctsError> {
    serde_json::to_string(config).map_err(|e| MctsError::Config {
        field: "config",
        reason: format!("cannot be written as JSON: {e}"),
    })
}

impl<G: Symmetry + Default> Trainer<G> {
    /// A fresh network and optimiser.
    pub fn new(config: TrainConfig) -> Result<Self, MctsError> {
        config.validate()?;
        let shape = NetShape {
            input: G::INPUT_LEN,
            hidden: config.hidden.clone(),
            actions: G::NUM_ACTIONS,
        };
        let net = Mlp::new(shape, config.seed)?;
        let adam = Adam::new(config.adam, net.params().len())?;
        let session = TrainingSession::now(config_json(&config)?, 0.0);
        Self::with_state(config, net, adam, 0, 0, 0, 0.0, vec![session])
    }

    /// Resumes from a checkpoint (its network must fit `G` and `config.hidden`; the replay
    /// buffer starts empty).
    pub fn resume(config: TrainConfig, path: &std::path::Path) -> Result<Self, MctsError> {
        config.validate()?;
        let shape = NetShape {
            input: G::INPUT_LEN,
            hidden: config.hidden.clone(),
            actions: G::NUM_ACTIONS,
        };
        let c = Checkpoint::load_for(path, &shape)?;
        let mut adam = c.adam;
        adam.config = config.adam;
        // The sessions so far (none when unknown), then this one.
        let mut sessions = c.sessions;
        sessions.push(TrainingSession::now(config_json(&config)?, c.train_seconds));
        Self::with_state(
            config,
            c.net,
            adam,
            c.iteration,
            c.games,
            c.samples,
            c.train_seconds,
            sessions,
        )
    }

    /// Resumes exactly where a [`TrainingState`] stopped (its network must fit `G` and
    /// `config.hidden`), and returns the state's [`notes`](TrainingState::notes) beside the
    /// trainer. With the `config` the state was trained with, the iterations that follow are
    /// those of a run that never stopped; another `config` is recorded as a new training
    /// session (a different replay capacity keeps the newest samples that fit).
    ///
    /// # Errors
    /// [`MctsError::Config`] for a bad `config`, [`MctsError::Checkpoint`] naming `path` when
    /// the network does not fit.
    pub fn from_state(
        config: TrainConfig,
        state: TrainingState,
        path: &std::path::Path,
    ) -> Result<(Self, String), MctsError> {
        config.validate()?;
        let expected = NetShape {
            input: G::INPUT_LEN,
            hidden: config.hidden.clone(),
            actions: G::NUM_ACTIONS,
        };
        let TrainingState {
            checkpoint: c,
            replay,
            rng,
            notes,
        } = state;
        if c.net.shape() != &expected {
            return Err(MctsError::Checkpoint {
                path: path.to_path_buf(),
                reason: format!(
                    "network shape {:?}, expected {:?} (from --hidden / `hidden`)",
                    c.net.shape(),
                    expected
                ),
            });
        }
        let replay = if replay.capacity() == config.replay_capacity {
            replay
        } else {
            replay.with_capacity(config.replay_capacity)?
        };
        let mut adam = c.adam;
        adam.config = config.adam;
        let mut sessions = c.sessions;
        sessions.push(TrainingSession::now(config_json(&config)?, c.train_seconds));
        Ok((
            Self {
                config,
                net: c.net,
                adam,
                replay,
                rng,
                iteration: c.iteration,
                games: c.games,
                samples: c.samples,
                seconds: c.train_seconds,
                sessions,
                _game: std::marker::PhantomData,
            },
            notes,
        ))
    }

    /// The whole state of the run, to resume it exactly with [`Trainer::from_state`], with the
    /// caller's `notes` (saved and restored with it).
    pub fn training_state(&self, notes: String) -> TrainingState {
        TrainingState {
            checkpoint: self.checkpoint(),
            replay: self.replay.clone(),
            rng: self.rng.clone(),
            notes,
        }
    }

    /// Writes the whole state of the run to `path` atomically, with the caller's `notes`: the
    /// file [`TrainingState::load`] reads, written without copying the replay buffer first.
    ///
    /// # Errors
    /// [`MctsError::Checkpoint`] naming `path`.
    pub fn save_state(&self, path: &std::path::Path, notes: &str) -> Result<(), MctsError> {
        super::training_state::save_parts(path, &self.checkpoint(), &self.replay, &self.rng, notes)
    }

    #[allow(clippy::too_many_arguments)]
    fn with_state(
        config: TrainConfig,
        net: Mlp,
        adam: Adam,
        iteration: u64,
        games: u64,
        samples: u64,
        seconds: f64,
        sessions: Vec<TrainingSession>,
    ) -> Result<Self, MctsError> {
        let replay = ReplayBuffer::new(config.replay_capacity, G::INPUT_LEN, G::NUM_ACTIONS)?;
        let rng = Xoshiro256PlusPlus::seed_from_u64(par_core::seed::task_seed(
            config.seed,
            0xBA7C_4000 + iteration,
        ));
        Ok(Self {
            config,
            net,
            adam,
            replay,
            rng,
            iteration,
            games,
            samples,
            seconds,
            sessions,
            _game: std::marker::PhantomData,
        })
    }

    /// The current network.
    pub fn net(&self) -> &Mlp {
        &self.net
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The replay buffer.
    pub fn replay(&self) -> &ReplayBuffer {
        &self.replay
    }

    /// Loop wall time so far, in seconds (including earlier runs when resumed).
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// Iterations completed.
    pub fn iteration(&self) -> u64 {
        self.iteration
    }

    /// A checkpoint of the current state.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            net: self.net.clone(),
            adam: self.adam.clone(),
            iteration: self.iteration,
            games: self.games,
            samples: self.samples,
            train_seconds: self.seconds,
            sessions: self.sessions.clone(),
        }
    }

    /// One iteration: `games_per_iteration` self-play games with the current network, their
    /// samples into the replay buffer, then the training steps.
    pub fn iterate(&mut self) -> Result<IterationLog, MctsError> {
        let t0 = Instant::now();
        let net = Arc::new(self.net.clone());
        let seed = par_core::seed::task_seed(self.config.seed, self.iteration + 1);
        let (games, sp) = self_play(
            net,
            &G::default(),
            self.config.games_per_iteration,
            &self.config.selfplay,
            seed,
        )?;
        let selfplay_s = t0.elapsed().as_secs_f64();
        let before = self.replay.total_pushed();
        for sample in games.iter().flatten() {
            if self.config.augment {
                self.replay.push_augmented::<G>(sample)?;
            } else {
                self.replay.push(sample)?;
            }
        }
        let added = (self.replay.total_pushed() - before) as usize;
        let t1 = Instant::now();
        let steps = ((added as f64 * self.config.sample_reuse / self.config.batch_size as f64)
            .ceil() as usize)
            .max(1);
        let mut grad = vec![0.0f32; self.net.params().len()];
        let (mut xs, mut ps, mut vs) = (Vec::new(), Vec::new(), Vec::new());
        let mut sum = Losses::default();
        for _ in 0..steps {
            self.replay.sample_batch(
                &mut self.rng,
                self.config.batch_size,
                &mut xs,
                &mut ps,
                &mut vs,
            );
            let l = self
                .net
                .loss_and_grad(&xs, &ps, &vs, self.config.l2, &mut grad);
            sum.policy += l.policy;
            sum.value += l.value;
            sum.l2 += l.l2;
            self.adam.step(self.net.params_mut(), &grad);
        }
        let train_s = t1.elapsed().as_secs_f64();
        self.iteration += 1;
        self.games += sp.games as u64;
        self.samples += sp.samples as u64;
        self.seconds += t0.elapsed().as_secs_f64();
        let n = steps as f64;
        Ok(IterationLog {
            iteration: self.iteration,
            selfplay: sp,
            samples_added: added,
            replay_len: self.replay.len(),
            train_steps: steps,
            losses: Losses {
                policy: sum.policy / n,
                value: sum.value / n,
                l2: sum.l2 / n,
            },
            selfplay_s,
            train_s,
            total_s: self.seconds,
            total_games: self.games,
            total_samples: self.samples,
        })
    }

    /// Runs iterations until `budget` of wall time has passed in this call (an iteration
    /// started before the end runs to completion), calling `after` after each; `after`
    /// returning `Err` stops the loop with that error.
    pub fn run_for<F>(&mut self, budget: Duration, after: F) -> Result<(), MctsError>
    where
        F: FnMut(&Self, &IterationLog) -> Result<(), MctsError>,
    {
        self.run_until(Some(budget), None, after)
    }

    /// Runs iterations until the trainer has completed `iterations` in all (earlier runs of a
    /// resumed trainer included) or `budget` of wall time has passed in this call, whichever
    /// comes first (an iteration started before the end runs to completion), calling `after`
    /// after each; `after` returning `Err` stops the loop with that error. With `iterations`
    /// alone the run is the same on every machine; a time budget is not.
    ///
    /// `after` may fail with an error type of its own (`E`, into which [`MctsError`] converts,
    /// such as `anyhow::Error`): a caller that writes files there keeps its own errors.
    ///
    /// # Errors
    /// [`MctsError::Config`] when neither a budget nor an iteration count is given (the loop
    /// would never end); the errors of [`Trainer::iterate`] and of `after`.
    pub fn run_until<E, F>(
        &mut self,
        budget: Option<Duration>,
        iterations: Option<u64>,
        mut after: F,
    ) -> Result<(), E>
    where
        E: From<MctsError>,
        F: FnMut(&Self, &IterationLog) -> Result<(), E>,
    {
        if budget.is_none() && iterations.is_none() {
            return Err(E::from(MctsError::Config {
                field: "budget",
                reason: "give a wall time budget or an iteration count, or the loop never ends"
                    .into(),
            }));
        }
        let start = Instant::now();
        while budget.is_none_or(|b| start.elapsed() < b)
            && iterations.is_none_or(|n| self.iteration < n)
        {
            let log = self.iterate()?;
            after(self, &log)?;
        }
        Ok(())
    }
}

/// Searches started at once by one thread of [`puct_moves`]: their leaves travel to the
/// network together (up to `leaf_batch` times this many states per call).
const LOCKSTEP_SEARCHES: usize = 32;

/// The move a fresh PUCT search of `sims` simulations with `net` plays in each position (most
/// visits unless `config.final_move` says otherwise), position `i` searched with seed `i`.
///
/// Each search is the one [`Puct::search`] runs (rounds of up to `leaf_batch` leaves), but
/// 32 searches advance in lockstep and send their leaves to `net` in one call; the groups of
/// 32 positions are par-core tasks on `par_core::budget::available_threads()` worker threads.
/// For an evaluator whose answer for a state does not depend on the rest of the batch (such as
/// [`Mlp`]), every move is the one a sequential [`Puct::search`] plays, for any thread count.
pub fn puct_moves<E: Evaluator + ?Sized>(
    net: &E,
    positions: &[JudgedPosition],
    config: &PuctConfig,
    sims: u64,
) -> Result<Vec<crate::game::Action>, MctsError> {
    if net.input_len() != Connect4::INPUT_LEN || net.num_actions() != WIDTH {
        return Err(MctsError::Config {
            field: "net",
            reason: format!(
                "reads {} inputs and writes {} actions, Connect Four has {} and {WIDTH}",
                net.input_len(),
                net.num_actions(),
                Connect4::INPUT_LEN
            ),
        });
    }
    config.validate()?;
    let executor = Executor::new(ExecConfig {
        mode: Mode::Threads {
            workers: par_core::budget::available_threads().max(1),
        },
        progress: Progress::Hidden,
        ..ExecConfig::default()
    })?;
    let groups = positions.len().div_ceil(LOCKSTEP_SEARCHES);
    let parts = executor
        .map(groups, |ctx| {
            let first = ctx.index * LOCKSTEP_SEARCHES;
            let group = &positions[first..(first + LOCKSTEP_SEARCHES).min(positions.len())];
            lockstep_moves(net, group, first, config, sims)
        })?
        .into_values()?;
    let mut moves = Vec::with_capacity(positions.len());
    for part in parts {
        moves.extend(part?);
    }
    Ok(moves)
}

/// [`puct_moves`] for one group of at most [`LOCKSTEP_SEARCHES`] positions, searched in
/// lockstep: `positions[k]` is searched with seed `first + k`.
fn lockstep_moves<E: Evaluator + ?Sized>(
    net: &E,
    positions: &[JudgedPosition],
    first: usize,
    config: &PuctConfig,
    sims: u64,
) -> Result<Vec<crate::game::Action>, MctsError> {
    let mut moves = Vec::with_capacity(positions.len());
    let (mut inputs, mut policy, mut values) = (Vec::new(), Vec::new(), Vec::new());
    let mut counts = Vec::with_capacity(positions.len());
    let mut searches = Vec::with_capacity(positions.len());
    for (k, p) in positions.iter().enumerate() {
        let seed = (first + k) as u64;
        searches.push((
            Puct::new(
                PuctConfig {
                    seed,
                    ..config.clone()
                },
                p.state,
            )?,
            0u64,
        ));
    }
    loop {
        inputs.clear();
        counts.clear();
        for (search, done) in &mut searches {
            let mut n = 0;
            if *done < sims && !search.root_state().is_terminal() {
                let want = (sims - *done).min(config.leaf_batch as u64) as usize;
                let (leaves, immediate) = search.gather(want, &mut inputs);
                *done += immediate as u64;
                if leaves == 0 && immediate == 0 {
                    // A tree that cannot grow: stop with the visits there are.
                    *done = sims;
                }
                n = leaves;
            }
            counts.push(n);
        }
        let total: usize = counts.iter().sum();
        if total == 0 {
            if searches
                .iter()
                .all(|(s, done)| *done >= sims || s.root_state().is_terminal())
            {
                break;
            }
            continue;
        }
        policy.resize(total * WIDTH, 0.0);
        values.resize(total, 0.0);
        net.evaluate(&inputs, &mut policy, &mut values)?;
        let mut at = 0;
        for ((search, done), &n) in searches.iter_mut().zip(&counts) {
            if n > 0 {
                search.scatter(&policy[at * WIDTH..(at + n) * WIDTH], &values[at..at + n]);
                *done += n as u64;
                at += n;
            }
        }
    }
    for (search, _) in &searches {
        moves.push(
            search
                .best_action()
                .ok_or(MctsError::IllegalAction { action: u16::MAX })?,
        );
    }
    Ok(moves)
}

/// Counts the positions where a PUCT search of `sims` simulations with `net` plays a mistake
/// (a column whose exact outcome is worse than the best; [`is_mistake`](crate::test_set::is_mistake)); the moves are those
/// of [`puct_moves`].
pub fn puct_mistakes<E: Evaluator + ?Sized>(
    net: &E,
    positions: &[JudgedPosition],
    config: &PuctConfig,
    sims: u64,
) -> Result<usize, MctsError> {
    count_mistakes(positions, &puct_moves(net, positions, config, sims)?)
}

/// Mistake rates of one network on one judged set, by three judges of different strength.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MistakeRates {
    /// Positions judged.
    pub positions: usize,
    /// Mistakes of a PUCT search of the full simulation count ([`puct_mistakes`]).
    pub search: usize,
    /// Mistakes of a cheaper PUCT search, where the network weighs more.
    pub fast_search: usize,
    /// Mistakes of the network alone ([`policy_mistakes`]).
    pub network: usize,
}

impl MistakeRates {
    /// Judges `net` on `positions` with `sims` and `fast_sims` simulations of PUCT and alone.
    pub fn measure<E: Evaluator + ?Sized>(
        net: &E,
        positions: &[JudgedPosition],
        config: &PuctConfig,
        sims: u64,
        fast_sims: u64,
    ) -> Result<Self, MctsError> {
        Ok(Self {
            positions: positions.len(),
            search: puct_mistakes(net, positions, config, sims)?,
            fast_search: puct_mistakes(net, positions, config, fast_sims)?,
            network: policy_mistakes(net, positions)?,
        })
    }

    /// `count / positions` (NaN when no position was judged).
    pub fn rate(&self, count: usize) -> f64 {
        if self.positions == 0 {
            f64::NAN
        } else {
            count as f64 / self.positions as f64
        }
    }

    /// The binomial standard error `sqrt(r (1 - r) / n)` of a rate `r` over the positions: how
    /// much a rate moves by chance alone (positions as a sample of the set's distribution).
    pub fn standard_error(&self, count: usize) -> f64 {
        let r = self.rate(count);
        (r * (1.0 - r) / self.positions as f64).sqrt()
    }
}

/// Counts the positions where the network's own choice, without search (the legal action of
/// highest prior), is a mistake: how much the policy head alone has learned.
pub fn policy_mistakes<E: Evaluator + ?Sized>(
    net: &E,
    positions: &[JudgedPosition],
) -> Result<usize, MctsError> {
    let n = positions.len();
    let mut inputs = vec![0.0f32; n * Connect4::INPUT_LEN];
    for (k, p) in positions.iter().enumerate() {
        p.state
            .encode(&mut inputs[k * Connect4::INPUT_LEN..(k + 1) * Connect4::INPUT_LEN]);
    }
    let mut policy = vec![0.0f32; n * WIDTH];
    let mut values = vec![0.0f32; n];
    net.evaluate(&inputs, &mut policy, &mut values)?;
    let mut moves = Vec::with_capacity(n);
    let mut actions = Vec::new();
    for (k, p) in positions.iter().enumerate() {
        p.state.legal_actions(&mut actions);
        let row = &policy[k * WIDTH..(k + 1) * WIDTH];
        let best = actions
            .iter()
            .copied()
            .max_by(|&a, &b| row[a as usize].total_cmp(&row[b as usize]))
            .ok_or(MctsError::IllegalAction { action: u16::MAX })?;
        moves.push(best);
    }
    count_mistakes(positions, &moves)
}

/// Result of a match of AlphaZero against pure MCTS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    /// Games played.
    pub games: usize,
    /// AlphaZero wins, draws, losses.
    pub wins: usize,
    /// Draws.
    pub draws: usize,
    /// Losses.
    pub losses: usize,
}

impl MatchResult {
    /// AlphaZero's score: wins plus half the draws, over the games.
    pub fn score(&self) -> f64 {
        if self.games == 0 {
            0.0
        } else {
            (self.wins as f64 + 0.5 * self.draws as f64) / self.games as f64
        }
    }
}

/// A match of AlphaZero against pure MCTS on Connect Four. Missing fields take their defaults
/// when deserialised; an unknown field is an error naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchConfig {
    /// Games; AlphaZero moves first in the even ones. Default 200.
    pub games: usize,
    /// AlphaZero's search (its root noise is turned off). Default [`PuctConfig::default`].
    pub az: PuctConfig,
    /// AlphaZero's simulations per move. Default 200.
    pub az_sims: u64,
    /// The UCT search. Default [`UctConfig::default`] (random rollouts).
    pub uct: UctConfig,
    /// UCT's simulations per move. Default 200.
    pub uct_sims: u64,
    /// Game `k` seeds both searches with `seed + k`, so that games differ. Default 0.
    pub seed: u64,
    /// Threads playing games; 0 takes par-core's thread budget. The result does not depend
    /// on it. Default 0.
    pub workers: usize,
}

impl Default for MatchConfig {
    fn default() -> Self {
        Self {
            games: 200,
            az: PuctConfig::default(),
            az_sims: 200,
            uct: UctConfig::default(),
            uct_sims: 200,
            seed: 0,
            workers: 0,
        }
    }
}

/// Plays a match of PUCT with `net` (most visited move, no noise) against sequential UCT, both
/// keeping their trees between moves, colours alternated.
pub fn match_vs_uct<E: Evaluator + ?Sized>(
    net: &E,
    config: &MatchConfig,
) -> Result<MatchResult, MctsError> {
    let MatchConfig {
        games,
        ref az,
        az_sims,
        ref uct,
        uct_sims,
        seed,
        workers,
    } = *config;
    let workers = if workers == 0 {
        par_core::budget::available_threads()
    } else {
        workers
    }
    .clamp(1, games.max(1));
    let play = |k: usize| -> Result<i8, MctsError> {
        let mut state = Connect4::new();
        let mut a = Puct::new(
            PuctConfig {
                seed: seed.wrapping_add(k as u64),
                dirichlet_epsilon: 0.0,
                ..az.clone()
            },
            state,
        )?;
        let mut u = Uct::new(
            UctConfig {
                seed: seed.wrapping_add(k as u64),
                ..uct.clone()
            },
            state,
        )?;
        let az_player = (k % 2) as u8;
        while !state.is_terminal() {
            let action = if state.current_player() == az_player {
                a.search(net, az_sims)?.best_action
            } else {
                u.search(uct_sims).best_action
            }
            .ok_or(MctsError::IllegalAction { action: u16::MAX })?;
            let mover = state.current_player();
            let r = state.apply(action);
            a.advance(action)?;
            u.advance(action)?;
            if r > 0.0 {
                return Ok(if mover == az_player { 1 } else { -1 });
            }
        }
        Ok(0)
    };
    let results: Vec<Result<i8, MctsError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let play = &play;
                s.spawn(move || {
                    (w..games)
                        .step_by(workers)
                        .map(|k| (k, play(k)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, Result<i8, MctsError>)> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        all.sort_by_key(|(k, _)| *k);
        all.into_iter().map(|(_, r)| r).collect()
    });
    if results.len() != games {
        return Err(MctsError::Evaluator("a match worker panicked".into()));
    }
    let mut m = MatchResult {
        games,
        ..MatchResult::default()
    };
    for r in results {
        match r? {
            1 => m.wins += 1,
            0 => m.draws += 1,
            _ => m.losses += 1,
        }
    }
    Ok(m)
}
