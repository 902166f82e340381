//! Playing whole inspection episodes with a policy: passive, random, or pure MCTS.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::env::{ACTIONS, Inspection, InspectionConfig, burn_magnitude};
use crate::error::InspectionError;
use crate::voxel_sensor::Vec3;
use mcts::{Action, Game};
use mcts::{ParallelConfig, TreeParallelUct};
use mcts::{Rollout, Uct, UctConfig};

/// How the inspector chooses its burns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Never burn (the passive-drift baseline).
    Passive,
    /// A uniformly random action each step.
    Random,
    /// Random burns within a delta-v budget: each step a uniformly random action among those
    /// whose burn fits in what is left of `delta_v` (m/s), so no burn once it is spent. With
    /// the delta-v another policy spent, the baseline that tells planning from spending.
    RandomWithinBudget {
        /// The budget (m/s).
        delta_v: f64,
    },
    /// Pure MCTS over the planning copy (see [`PlannerConfig`]).
    Mcts,
}

/// Settings of the MCTS planner. Missing fields take their defaults when deserialised;
/// an unknown field is an error naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlannerConfig {
    /// Simulations per real step. Default 3000.
    pub sims: u64,
    /// Search threads: 1 runs [`Uct`], more run [`TreeParallelUct`]. Default 1.
    pub threads: usize,
    /// Virtual loss of the tree-parallel search. Default 1.
    pub virtual_loss: f64,
    /// Steps the planner looks ahead (tree and rollout together). Default 6.
    pub horizon: usize,
    /// The UCT settings (the seed is replaced per step). Default: exploration 0.05,
    /// random rollouts, most visits.
    pub uct: UctConfig,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        Self {
            sims: 3000,
            threads: 1,
            virtual_loss: 1.0,
            horizon: 6,
            uct: UctConfig {
                exploration: 0.05,
                rollout: Rollout::Random,
                ..UctConfig::default()
            },
        }
    }
}

impl PlannerConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), InspectionError> {
        if self.sims == 0 {
            return Err(InspectionError::Config {
                field: "sims",
                reason: "must be at least 1".into(),
            });
        }
        if self.horizon == 0 {
            return Err(InspectionError::Config {
                field: "horizon",
                reason: "must be at least 1".into(),
            });
        }
        ParallelConfig {
            threads: self.threads,
            virtual_loss: self.virtual_loss,
        }
        .validate()?;
        Ok(self.uct.validate()?)
    }
}

/// One step of an episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Step number, from 1.
    pub step: usize,
    /// The action taken (index into [`ACTIONS`]).
    pub action: Action,
    /// Its burn (RTN, m/s).
    pub burn: Vec3,
    /// Reward of the step.
    pub reward: f64,
    /// Belief entropy after the step's image (nats).
    pub entropy: f64,
    /// Fraction of voxels known to 90% after the step.
    pub coverage: f64,
    /// Delta-v spent so far (m/s).
    pub delta_v: f64,
    /// Inspector position at the image (RTN, m).
    pub position: Vec3,
    /// ROE scaled by `a` (m) after the step.
    pub roe_m: [f64; 6],
}

/// A whole episode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRecord {
    /// The policy.
    pub policy: Policy,
    /// The episode's seed.
    pub seed: u64,
    /// Entropy of the uniform belief (nats).
    pub initial_entropy: f64,
    /// Entropy at the end (nats).
    pub final_entropy: f64,
    /// Delta-v spent (m/s).
    pub delta_v: f64,
    /// Sum of the (undiscounted) rewards.
    pub total_reward: f64,
    /// Wall time (s).
    pub seconds: f64,
    /// Inspector position at the start (RTN, m).
    pub start_position: Vec3,
    /// The steps, in order.
    pub steps: Vec<StepRecord>,
    /// The final belief (log-odds per voxel, flat index).
    pub final_log_odds: Vec<f32>,
}

/// Plays one episode of `config` with `policy` (`planner` is read for [`Policy::Mcts`]), the
/// sensor and the policy drawing from `seed`. `on_step` is called after every step.
pub fn run_episode(
    config: &InspectionConfig,
    policy: Policy,
    planner: &PlannerConfig,
    seed: u64,
    mut on_step: impl FnMut(&StepRecord),
) -> Result<EpisodeRecord, InspectionError> {
    planner.validate()?;
    if let Policy::RandomWithinBudget { delta_v } = policy
        && !(delta_v.is_finite() && delta_v >= 0.0)
    {
        return Err(InspectionError::Config {
            field: "delta_v",
            reason: format!("the budget must be finite and >= 0, got {delta_v}"),
        });
    }
    let started = Instant::now();
    let mut env = Inspection::new(config.clone(), seed)?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x0005_eed0_fa11);
    let start_position = env.position();
    let mut steps = Vec::with_capacity(config.steps);
    let mut total_reward = 0.0;
    while !env.is_terminal() {
        let action = match policy {
            Policy::Passive => 0,
            Policy::Random => rng.random_range(0..ACTIONS.len()) as Action,
            Policy::RandomWithinBudget { delta_v } => {
                let left = delta_v - env.delta_v();
                let affordable: Vec<Action> = (0..ACTIONS.len() as Action)
                    .filter(|&a| burn_magnitude(ACTIONS[usize::from(a)]) <= left + 1e-12)
                    .collect();
                // The no-burn action always fits.
                affordable[rng.random_range(0..affordable.len())]
            }
            Policy::Mcts => plan(&env, planner, rng.random())?,
        };
        let reward = env.try_apply(action)?;
        total_reward += reward;
        let record = StepRecord {
            step: env.step(),
            action,
            burn: ACTIONS[usize::from(action)],
            reward,
            entropy: env.entropy(),
            coverage: env.coverage(),
            delta_v: env.delta_v(),
            position: env.position(),
            roe_m: env.roe().to_metres(&env.chief()),
        };
        on_step(&record);
        steps.push(record);
    }
    Ok(EpisodeRecord {
        policy,
        seed,
        initial_entropy: env.initial_entropy(),
        final_entropy: env.entropy(),
        delta_v: env.delta_v(),
        total_reward,
        seconds: started.elapsed().as_secs_f64(),
        start_position,
        steps,
        final_log_odds: env.log_odds().to_vec(),
    })
}

/// One MCTS decision from the real state `env`, searching its planning copy.
fn plan(env: &Inspection, planner: &PlannerConfig, seed: u64) -> Result<Action, InspectionError> {
    let root = env.planning_copy(planner.horizon, seed)?;
    let config = UctConfig {
        seed,
        ..planner.uct.clone()
    };
    let best = if planner.threads <= 1 {
        Uct::new(config, root)?.search(planner.sims).best_action
    } else {
        let par = ParallelConfig {
            threads: planner.threads,
            virtual_loss: planner.virtual_loss,
        };
        TreeParallelUct::new(config, par, root)?
            .search(planner.sims)
            .best_action
    };
    Ok(best.unwrap_or(0))
}

/// Plays one episode per seed as par-core tasks on `executor` (episode parallelism), in seed
/// order. Each episode is the same as [`run_episode`] with that seed.
pub fn run_episodes(
    executor: &par_core::Executor,
    config: &InspectionConfig,
    policy: Policy,
    planner: &PlannerConfig,
    seeds: &[u64],
) -> Result<Vec<EpisodeRecord>, InspectionError> {
    let out = executor.map(seeds.len(), |ctx| {
        run_episode(config, policy, planner, seeds[ctx.index], |_| {})
    })?;
    out.into_values()?.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Variant;

    fn tiny() -> (InspectionConfig, PlannerConfig) {
        (
            InspectionConfig {
                steps: 3,
                ..Variant::VbarHold.config()
            },
            PlannerConfig {
                sims: 24,
                horizon: 2,
                ..PlannerConfig::default()
            },
        )
    }

    fn check_record(e: &EpisodeRecord, config: &InspectionConfig) {
        assert_eq!(e.steps.len(), config.steps);
        let mut dv = 0.0;
        let mut reward = 0.0;
        for (k, s) in e.steps.iter().enumerate() {
            assert_eq!(s.step, k + 1);
            assert!(usize::from(s.action) < ACTIONS.len());
            dv += s.burn.iter().map(|x| x * x).sum::<f64>().sqrt();
            assert!((s.delta_v - dv).abs() < 1e-12);
            reward += s.reward;
            assert!((0.0..=1.0).contains(&s.coverage));
        }
        assert_eq!(e.final_entropy, e.steps.last().unwrap().entropy);
        assert!(e.final_entropy < e.initial_entropy);
        let expected =
            (e.initial_entropy - e.final_entropy) / e.initial_entropy - config.delta_v_weight * dv;
        assert!((reward - expected).abs() < 1e-12);
        assert!((e.total_reward - reward).abs() < 1e-12);
        assert_eq!(e.final_log_odds.len(), config.grid.len());
    }

    #[test]
    fn short_mcts_episode_is_consistent() {
        let (config, planner) = tiny();
        let mut seen = 0;
        let e = run_episode(&config, Policy::Mcts, &planner, 3, |_| seen += 1).unwrap();
        assert_eq!(seen, 3);
        check_record(&e, &config);
        // Sequential planning is reproducible.
        let again = run_episode(&config, Policy::Mcts, &planner, 3, |_| {}).unwrap();
        assert_eq!(
            e.steps.iter().map(|s| s.action).collect::<Vec<_>>(),
            again.steps.iter().map(|s| s.action).collect::<Vec<_>>()
        );
        assert_eq!(e.final_log_odds, again.final_log_odds);
    }

    #[test]
    fn planner_trees_are_valid() {
        let (config, planner) = tiny();
        let env = Inspection::new(config, 0).unwrap();
        let root = env.planning_copy(planner.horizon, 1).unwrap();
        let mut uct = Uct::new(planner.uct.clone(), root.clone()).unwrap();
        let s = uct.search(40);
        assert_eq!(uct.root_visits(), 40);
        uct.check_invariants().unwrap();
        assert!(s.best_action.is_some());
        let par = ParallelConfig {
            threads: 2,
            virtual_loss: 1.0,
        };
        let mut tp = TreeParallelUct::new(planner.uct.clone(), par, root).unwrap();
        tp.search(40);
        assert_eq!(tp.root_visits(), 40);
        tp.check_invariants().unwrap();
        // A tree-parallel episode is consistent too.
        let threaded = PlannerConfig {
            threads: 2,
            ..planner
        };
        let e = run_episode(&tiny().0, Policy::Mcts, &threaded, 5, |_| {}).unwrap();
        check_record(&e, &tiny().0);
    }

    #[test]
    fn episode_parallel_runs_match_sequential_runs() {
        let (config, planner) = tiny();
        let exec = par_core::Executor::new(par_core::ExecConfig {
            mode: par_core::Mode::Threads { workers: 2 },
            progress: par_core::Progress::Hidden,
            ..par_core::ExecConfig::default()
        })
        .unwrap();
        let seeds = [4, 9, 1];
        let many = run_episodes(&exec, &config, Policy::Random, &planner, &seeds).unwrap();
        for (e, &seed) in many.iter().zip(&seeds) {
            let one = run_episode(&config, Policy::Random, &planner, seed, |_| {}).unwrap();
            check_record(e, &config);
            assert_eq!(e.seed, seed);
            assert_eq!(e.steps, one.steps);
            assert_eq!(e.final_log_odds, one.final_log_odds);
        }
    }

    #[test]
    fn random_burns_stay_within_their_budget() {
        let config = InspectionConfig {
            steps: 12,
            ..Variant::VbarHold.config()
        };
        let planner = PlannerConfig::default();
        for budget in [0.0, 0.03, 0.12] {
            let policy = Policy::RandomWithinBudget { delta_v: budget };
            let e = run_episode(&config, policy, &planner, 7, |_| {}).unwrap();
            check_record(&e, &config);
            assert!(e.delta_v <= budget + 1e-12, "{} > {budget}", e.delta_v);
            assert_eq!(e.policy, policy);
        }
        let unlimited = run_episode(&config, Policy::Random, &planner, 7, |_| {}).unwrap();
        assert!(unlimited.delta_v > 0.12, "{}", unlimited.delta_v);
        let bad = Policy::RandomWithinBudget { delta_v: f64::NAN };
        match run_episode(&config, bad, &planner, 0, |_| {}) {
            Err(e) => assert_eq!(e.field(), Some("delta_v")),
            Ok(_) => panic!("a NaN budget was accepted"),
        }
    }

    #[test]
    fn passive_never_burns_and_bad_planners_are_rejected() {
        let (config, planner) = tiny();
        let e = run_episode(&config, Policy::Passive, &planner, 0, |_| {}).unwrap();
        check_record(&e, &config);
        assert!(e.steps.iter().all(|s| s.action == 0) && e.delta_v == 0.0);
        for (bad, field) in [
            (
                PlannerConfig {
                    sims: 0,
                    ..planner.clone()
                },
                "sims",
            ),
            (
                PlannerConfig {
                    horizon: 0,
                    ..planner.clone()
                },
                "horizon",
            ),
            (
                PlannerConfig {
                    threads: 0,
                    ..planner.clone()
                },
                "threads",
            ),
            (
                PlannerConfig {
                    virtual_loss: f64::NAN,
                    ..planner.clone()
                },
                "virtual_loss",
            ),
        ] {
            match run_episode(&config, Policy::Mcts, &bad, 0, |_| {}) {
                Err(e) => assert_eq!(e.field(), Some(field), "{e}"),
                Ok(_) => panic!("{field}: expected a config error"),
            }
        }
    }
}
