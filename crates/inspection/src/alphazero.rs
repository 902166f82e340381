//! AlphaZero-style self-play on the inspection environment: PUCT searches guided by one
//! policy-value network over the planning copy of the real state, with episode-level
//! parallelism and one shared, batched evaluator.
//!
//! # One real step
//!
//! 1. A fresh PUCT search ([`Puct`], Silver et al. 2017, 2018) is rooted at
//!    [`Inspection::planning_copy`] of the real state: the same orbit, time and belief, no
//!    hidden target; every simulation starts from a clone that samples its own target from the
//!    belief (the determinisation of POMCP, Silver and Veness 2010; see the
//!    [crate docs](crate)). The real state itself is never searched: only its encoding (which
//!    reads the orbit, the time and the belief, never the target) and its planning copy are
//!    seen by the planner.
//! 2. The search runs [`AzConfig::sims`] simulations, its leaves evaluated in batches
//!    ([`PuctConfig::leaf_batch`], virtual loss), with Dirichlet noise on the root priors
//!    (AlphaZero's self-play exploration).
//! 3. The action is drawn in proportion to the root visit counts during the first
//!    [`AzConfig::temperature_steps`] steps, then the most visited one is played.
//! 4. The action is applied to the real state, whose image of the real target updates the
//!    belief. The tree is not kept: the next step searches a new planning copy built from the
//!    belief after the real image (a subtree grown on sampled images does not match the real
//!    observation).
//!
//! A training sample is recorded at every step: the encoded real state, the root visit
//! distribution (policy target) and, once the episode is over, the discounted return from that
//! step to the end, `G_t = r_t + gamma G_{t+1}` with the environment's discount (value target,
//! clamped to `[-1, 1]`; the rewards are fractions of the initial entropy minus the weighted
//! delta-v, so the returns already lie in that range).
//!
//! # Horizon
//!
//! By default ([`AzConfig::horizon`] 0) the planning copy ends with the real episode, so that a
//! leaf's value (the network's estimate of the return to the real end, which is what its
//! value target is) and the zero value of a terminal leaf mean the same thing. A positive
//! horizon ends the planning copy that many steps ahead, as the pure-MCTS planner does; the
//! network's values at inner leaves then still estimate the return to the real end.
//!
//! # Parallelism
//!
//! `W` worker threads ([`AzConfig::workers`], 0 for par-core's thread budget) each hold up to
//! [`AzConfig::episodes_per_worker`] episodes in progress. In each round a worker gathers up to
//! `leaf_batch` leaves from every episode's search, sends all of them as one request to the
//! shared [`BatchedEvaluator`] (one network, evaluated on its own thread, merging the requests
//! of all workers into one call), scatters the answers and plays a real step in every episode
//! whose search has its simulations. Episode `i` goes to worker `i mod W`.
//!
//! # Determinism
//!
//! Every random stream is derived from the episode's seed: the real sensor's draws
//! ([`Inspection::new`] with the seed), and per step a seed `task_seed(seed, step)` for the
//! planning copy's target sampling, the root noise and the move drawn. A search runs on one
//! thread, so its clones (and their sampled targets) happen in a fixed order, and the network's
//! answer for a state does not depend on the batch it travels in ([`Mlp`](mcts::alphazero::Mlp)
//! evaluates rows independently). An episode's record is therefore the same for any number of
//! workers, episodes per worker or batch timing. What does vary between runs is only the
//! statistics of the batcher (network calls, batch sizes) and the timings.
//!
//! # Note on stochastic rewards in the tree
//!
//! [`Puct`] stores the reward of an edge on its node and overwrites it at each traversal
//! (it was written for deterministic games). Here the reward of an edge depends on the target
//! sampled by the simulation, so within one batch of leaves the backup of a path uses the
//! reward of the edge's latest traversal rather than its own. Both are draws from the same
//! belief, so node means stay estimates of the expected return; their variance is not
//! reduced by this.
//!
//! # References
//!
//! - D. Silver et al., "Mastering the game of Go without human knowledge", Nature 550, 2017,
//!   doi:10.1038/nature24270.
//! - D. Silver et al., "A general reinforcement learning algorithm that masters chess, shogi,
//!   and Go through self-play", Science 362, 2018, doi:10.1126/science.aar6404.
//! - D. Silver, J. Veness, "Monte-Carlo planning in large POMDPs", NeurIPS 2010 (POMCP:
//!   searching determinised states sampled from the belief).
//! - D. Wu, "Accelerating self-play learning in Go", 2019, arXiv:1902.10565 (a shared batched
//!   evaluator for many games).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::env::{Inspection, InspectionConfig};
use crate::error::InspectionError;
use mcts::Encode;
use mcts::alphazero::selfplay::{InFlight, drive};
use mcts::alphazero::{BatchedEvaluator, Evaluator, Puct, PuctConfig, Sample};
use mcts::{Action, Game};

/// Settings of AlphaZero self-play on the inspection environment. Missing fields take their
/// defaults when deserialised; an unknown field is an error naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AzConfig {
    /// The search (its seed is replaced at every step). Default: `c_puct` 0.25 (the returns
    /// here are fractions of the initial entropy, of order 0.01 to 0.1 per step), Dirichlet
    /// noise `alpha` 0.8 (about 10 / 13 actions, AlphaZero's scaling) with weight 0.25, leaf
    /// batch 8, most visits.
    pub puct: PuctConfig,
    /// Simulations per real step. Default 200.
    pub sims: u64,
    /// Steps the planning copy looks ahead; 0 (default) to the end of the real episode.
    pub horizon: usize,
    /// Steps at the start of each episode whose action is drawn in proportion to the visit
    /// counts (temperature 1); the most visited action afterwards. Default 10.
    pub temperature_steps: usize,
    /// Worker threads; 0 takes par-core's thread budget
    /// ([`available_threads`](par_core::budget::available_threads)). Default 0.
    pub workers: usize,
    /// Episodes each worker plays at once. Default 8.
    pub episodes_per_worker: usize,
    /// Longest wait of the batcher for more requests, in microseconds. Default 200.
    pub max_wait_us: u64,
}

impl Default for AzConfig {
    fn default() -> Self {
        Self {
            puct: PuctConfig {
                c_puct: 0.25,
                dirichlet_alpha: 0.8,
                dirichlet_epsilon: 0.25,
                ..PuctConfig::default()
            },
            sims: 200,
            horizon: 0,
            temperature_steps: 10,
            workers: 0,
            episodes_per_worker: 8,
            max_wait_us: 200,
        }
    }
}

impl AzConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), InspectionError> {
        self.puct.validate()?;
        let bad = |field: &'static str, reason: &str| {
            Err(InspectionError::Config {
                field,
                reason: reason.into(),
            })
        };
        if self.sims == 0 {
            return bad("sims", "must be at least 1");
        }
        if self.episodes_per_worker == 0 {
            return bad("episodes_per_worker", "must be at least 1");
        }
        if self.max_wait_us > 1_000_000 {
            return Err(InspectionError::Config {
                field: "max_wait_us",
                reason: format!("must be at most 1 s, got {}", self.max_wait_us),
            });
        }
        Ok(())
    }

    /// The number of workers this config runs with (before clamping to the episode count).
    pub fn worker_count(&self) -> usize {
        if self.workers == 0 {
            par_core::budget::available_threads()
        } else {
            self.workers
        }
    }
}

/// One self-played inspection episode.
#[derive(Debug, Clone, PartialEq)]
pub struct AzEpisodeRecord {
    /// The episode's seed.
    pub seed: u64,
    /// The actions played (indices into [`ACTIONS`](crate::ACTIONS)), one per step.
    pub actions: Vec<Action>,
    /// The reward of each step.
    pub rewards: Vec<f64>,
    /// Entropy of the uniform belief (nats).
    pub initial_entropy: f64,
    /// Belief entropy at the end (nats).
    pub final_entropy: f64,
    /// `(initial - final) / initial` entropy.
    pub entropy_removed: f64,
    /// Delta-v spent (m/s).
    pub delta_v: f64,
    /// Sum of the (undiscounted) rewards.
    pub total_reward: f64,
    /// Discounted return from the start (the value target of the first sample, unclamped).
    pub discounted_return: f64,
    /// One training sample per step: the encoded state, the root visit distribution and the
    /// discounted return to the end (clamped to `[-1, 1]`).
    pub samples: Vec<Sample>,
    /// The final belief (log-odds per voxel, flat index).
    pub final_log_odds: Vec<f32>,
}

/// What one call to [`run_az_episodes`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AzRunStats {
    /// Episodes played.
    pub episodes: usize,
    /// Real steps played in all episodes.
    pub steps: usize,
    /// States the network evaluated.
    pub evaluations: u64,
    /// Network calls (batches of the batcher).
    pub network_calls: u64,
    /// Mean states per network call.
    pub mean_states_per_call: f64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Worker threads used.
    pub workers: usize,
}

/// One episode in progress on a worker.
struct Slot {
    index: usize,
    seed: u64,
    env: Inspection,
    search: Puct<Inspection>,
    done: u64,
    actions: Vec<Action>,
    rewards: Vec<f64>,
    /// Encoded state and visit distribution of each step.
    recorded: Vec<(Vec<f32>, Vec<f32>)>,
}

impl InFlight for Slot {
    type Game = Inspection;
    type Ctx = AzConfig;
    type Output = AzEpisodeRecord;
    type Error = InspectionError;
    fn index(&self) -> usize {
        self.index
    }
    fn search(&mut self) -> &mut Puct<Inspection> {
        &mut self.search
    }
    fn done(&mut self) -> &mut u64 {
        &mut self.done
    }
    fn target(&self, az: &AzConfig) -> u64 {
        az.sims
    }
    fn play(&mut self, az: &AzConfig) -> Result<Option<AzEpisodeRecord>, InspectionError> {
        Slot::play(self, az)
    }
}

/// The seed of step `step` of the episode with seed `seed`.
fn step_seed(seed: u64, step: usize) -> u64 {
    par_core::seed::task_seed(seed, step as u64)
}

/// A search rooted at the planning copy of `env` (never at `env` itself).
fn new_search(
    env: &Inspection,
    az: &AzConfig,
    seed: u64,
) -> Result<Puct<Inspection>, InspectionError> {
    let remaining = env.config().steps.saturating_sub(env.step()).max(1);
    let horizon = if az.horizon == 0 {
        remaining
    } else {
        az.horizon.min(remaining)
    };
    let step_seed = step_seed(seed, env.step());
    let root = env.planning_copy(horizon, step_seed)?;
    Ok(Puct::new(
        PuctConfig {
            seed: step_seed,
            ..az.puct.clone()
        },
        root,
    )?)
}

impl Slot {
    fn new(
        index: usize,
        seed: u64,
        config: &InspectionConfig,
        az: &AzConfig,
    ) -> Result<Self, InspectionError> {
        let env = Inspection::new(config.clone(), seed)?;
        let search = new_search(&env, az, seed)?;
        Ok(Self {
            index,
            seed,
            env,
            search,
            done: 0,
            actions: Vec::with_capacity(config.steps),
            rewards: Vec::with_capacity(config.steps),
            recorded: Vec::with_capacity(config.steps),
        })
    }

    /// Plays the searched step on the real state; returns the record when the episode ends.
    fn play(&mut self, az: &AzConfig) -> Result<Option<AzEpisodeRecord>, InspectionError> {
        let mut input = vec![0.0f32; Inspection::INPUT_LEN];
        self.env.encode(&mut input);
        self.recorded
            .push((input, self.search.visit_distribution()));
        let action = self
            .search
            .select_scheduled_move(self.actions.len(), az.temperature_steps)?;
        let reward = self.env.try_apply(action)?;
        self.actions.push(action);
        self.rewards.push(reward);
        if !self.env.is_terminal() {
            self.search = new_search(&self.env, az, self.seed)?;
            self.done = 0;
            return Ok(None);
        }
        let gamma = self.env.config().discount;
        let mut returns = vec![0.0f64; self.rewards.len() + 1];
        for t in (0..self.rewards.len()).rev() {
            returns[t] = self.rewards[t] + gamma * returns[t + 1];
        }
        let samples = self
            .recorded
            .drain(..)
            .zip(&returns)
            .map(|((input, policy), &g)| Sample {
                input,
                policy,
                value: g.clamp(-1.0, 1.0) as f32,
            })
            .collect();
        let initial = self.env.initial_entropy();
        let final_entropy = self.env.entropy();
        Ok(Some(AzEpisodeRecord {
            seed: self.seed,
            actions: std::mem::take(&mut self.actions),
            total_reward: self.rewards.iter().sum(),
            rewards: std::mem::take(&mut self.rewards),
            initial_entropy: initial,
            final_entropy,
            entropy_removed: (initial - final_entropy) / initial,
            delta_v: self.env.delta_v(),
            discounted_return: returns[0],
            samples,
            final_log_odds: self.env.log_odds().to_vec(),
        }))
    }
}

/// Plays one AlphaZero self-play episode of `config` per seed, with `net` shared by the
/// workers through one [`BatchedEvaluator`] (see the [module docs](self)). Returns the records
/// in seed order and what was done. Fails on an invalid config, a network whose shape does not
/// fit the environment (73 inputs, 13 actions) or an evaluator failure.
pub fn run_az_episodes<E: Evaluator + 'static>(
    net: Arc<E>,
    config: &InspectionConfig,
    az: &AzConfig,
    seeds: &[u64],
) -> Result<(Vec<AzEpisodeRecord>, AzRunStats), InspectionError> {
    az.validate()?;
    config.validate()?;
    if net.input_len() != Inspection::INPUT_LEN || net.num_actions() != Inspection::NUM_ACTIONS {
        return Err(InspectionError::Config {
            field: "net",
            reason: format!(
                "reads {} inputs and writes {} actions, the inspection environment has {} and {}",
                net.input_len(),
                net.num_actions(),
                Inspection::INPUT_LEN,
                Inspection::NUM_ACTIONS
            ),
        });
    }
    let t0 = Instant::now();
    let episodes = seeds.len();
    let workers = az.worker_count().clamp(1, episodes.max(1));
    let evaluator = BatchedEvaluator::spawn(net, workers, Duration::from_micros(az.max_wait_us))?;
    let driven = drive(
        &evaluator,
        episodes,
        workers,
        az.episodes_per_worker,
        az.puct.leaf_batch,
        az,
        |index| Slot::new(index, seeds[index], config, az),
    )?;
    let batch_stats = evaluator.stats();
    drop(evaluator);
    let out = driven.outputs;
    let mut stats = AzRunStats {
        episodes,
        steps: driven.steps as usize,
        evaluations: driven.evaluations,
        network_calls: batch_stats.batches,
        workers,
        ..AzRunStats::default()
    };
    if stats.network_calls > 0 {
        stats.mean_states_per_call = stats.evaluations as f64 / stats.network_calls as f64;
    }
    stats.seconds = t0.elapsed().as_secs_f64();
    Ok((out, stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ACTIONS, TargetShape, Variant};
    use mcts::alphazero::{Mlp, NetShape};

    fn net() -> Arc<Mlp> {
        Arc::new(
            Mlp::new(
                NetShape {
                    input: Inspection::INPUT_LEN,
                    hidden: vec![16],
                    actions: Inspection::NUM_ACTIONS,
                },
                7,
            )
            .unwrap(),
        )
    }

    fn tiny() -> (InspectionConfig, AzConfig) {
        (
            InspectionConfig {
                steps: 3,
                ..Variant::VbarHold.config()
            },
            AzConfig {
                sims: 12,
                temperature_steps: 2,
                workers: 1,
                episodes_per_worker: 2,
                puct: PuctConfig {
                    leaf_batch: 4,
                    ..AzConfig::default().puct
                },
                ..AzConfig::default()
            },
        )
    }

    #[test]
    fn samples_and_records_have_the_right_shapes() {
        let (config, az) = tiny();
        let (records, stats) = run_az_episodes(net(), &config, &az, &[3, 8]).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(stats.episodes, 2);
        assert_eq!(stats.steps, 2 * config.steps);
        assert!(stats.network_calls > 0 && stats.evaluations >= stats.network_calls);
        let gamma = config.discount;
        for (e, seed) in records.iter().zip([3, 8]) {
            assert_eq!(e.seed, seed);
            assert_eq!(e.actions.len(), config.steps);
            assert_eq!(e.rewards.len(), config.steps);
            assert_eq!(e.samples.len(), config.steps);
            let mut dv = 0.0;
            for &a in &e.actions {
                let b = ACTIONS[usize::from(a)];
                dv += b.iter().map(|x| x * x).sum::<f64>().sqrt();
            }
            assert!((e.delta_v - dv).abs() < 1e-12);
            assert!(e.final_entropy < e.initial_entropy);
            let removed = (e.initial_entropy - e.final_entropy) / e.initial_entropy;
            assert!((e.entropy_removed - removed).abs() < 1e-12);
            // The rewards add up to the entropy fraction removed minus the weighted delta-v.
            let expected = removed - config.delta_v_weight * dv;
            assert!((e.total_reward - expected).abs() < 1e-9, "{e:?}");
            let mut g = 0.0;
            for t in (0..config.steps).rev() {
                g = e.rewards[t] + gamma * g;
                let s = &e.samples[t];
                assert_eq!(s.input.len(), Inspection::INPUT_LEN);
                assert_eq!(s.policy.len(), Inspection::NUM_ACTIONS);
                let total: f32 = s.policy.iter().sum();
                assert!((total - 1.0).abs() < 1e-5, "policy sums to {total}");
                assert!(s.policy.iter().all(|&p| p >= 0.0));
                assert!((f64::from(s.value) - g.clamp(-1.0, 1.0)).abs() < 1e-6);
            }
            assert!((e.discounted_return - g).abs() < 1e-12);
            // The first sample encodes the start: step fraction 0; the last one step 2 of 3.
            assert_eq!(e.samples[0].input[8], 0.0);
            assert!((e.samples[2].input[8] - 2.0 / 3.0).abs() < 1e-6);
            assert_eq!(e.final_log_odds.len(), config.grid.len());
        }
    }

    #[test]
    fn planning_never_reads_the_hidden_target() {
        // Two worlds that differ only in their hidden target: the first search sees the same
        // (uniform) belief in both, so it gives the same visits and the same action; the real
        // images (and so the beliefs at the end) differ.
        let (config, az) = tiny();
        let other = InspectionConfig {
            target: TargetShape::Blocks,
            ..config.clone()
        };
        let one_step = AzConfig {
            temperature_steps: 0,
            ..az.clone()
        };
        for seed in [0, 5] {
            let (a, _) = run_az_episodes(net(), &config, &one_step, &[seed]).unwrap();
            let (b, _) = run_az_episodes(net(), &other, &one_step, &[seed]).unwrap();
            assert_eq!(a[0].actions[0], b[0].actions[0]);
            assert_eq!(a[0].samples[0].input, b[0].samples[0].input);
            assert_eq!(a[0].samples[0].policy, b[0].samples[0].policy);
            // The value targets come from the real rewards, which see the real targets.
            assert_ne!(a[0].samples[0].value, b[0].samples[0].value);
            assert_ne!(a[0].final_log_odds, b[0].final_log_odds);
        }
    }

    #[test]
    fn worker_count_does_not_change_the_episodes() {
        let (config, az) = tiny();
        let seeds = [1, 4, 9];
        let (one, _) = run_az_episodes(net(), &config, &az, &seeds).unwrap();
        let many = AzConfig {
            workers: 2,
            episodes_per_worker: 1,
            ..az.clone()
        };
        let (two, stats) = run_az_episodes(net(), &config, &many, &seeds).unwrap();
        assert_eq!(stats.workers, 2);
        assert_eq!(one, two);
        // Different seeds give different episodes.
        assert_ne!(one[0].final_log_odds, one[1].final_log_odds);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let (config, az) = tiny();
        let wrong = Arc::new(
            Mlp::new(
                NetShape {
                    input: 10,
                    hidden: vec![4],
                    actions: Inspection::NUM_ACTIONS,
                },
                0,
            )
            .unwrap(),
        );
        assert!(matches!(
            run_az_episodes(wrong, &config, &az, &[0]),
            Err(InspectionError::Config { field: "net", .. })
        ));
        for (bad, field) in [
            (
                AzConfig {
                    sims: 0,
                    ..az.clone()
                },
                "sims",
            ),
            (
                AzConfig {
                    episodes_per_worker: 0,
                    ..az.clone()
                },
                "episodes_per_worker",
            ),
        ] {
            match run_az_episodes(net(), &config, &bad, &[0]) {
                Err(InspectionError::Config { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected a config error, got {other:?}"),
            }
        }
        let bad_env = InspectionConfig {
            steps: 0,
            ..config.clone()
        };
        assert!(matches!(
            run_az_episodes(net(), &bad_env, &az, &[0]),
            Err(InspectionError::Config { .. })
        ));
        // No seeds: nothing played.
        let (none, stats) = run_az_episodes(net(), &config, &az, &[]).unwrap();
        assert!(none.is_empty() && stats.steps == 0);
    }
}
