//! The spacecraft inspection task: plan impulsive burns so that a camera on an inspector
//! spacecraft maps an unknown target, with the searches of the `mcts` crate.
//!
//! # What is here
//!
//! - [`orbit`]: the inspector's relative orbit in quasi-nonsingular relative orbital elements
//!   (D'Amico 2010), impulsive burns through the Gauss variational equations.
//! - [`voxel_sensor`]: the observation model, split by concern: the belief grid (a log-odds
//!   voxel occupancy belief, [`voxel_sensor::Belief`]), the camera (64 x 64 rays through the
//!   pixel centres), the sensor model (a noisy hit sensor and its random draws), the scalar
//!   traversal (Amanatides-Woo), and the image caster (the rows of an image set up together,
//!   their rays marched eight at a time with AVX-512 where the processor has it).
//! - [`Inspection`]: the environment, a [`Game`](mcts::Game) and [`Encode`](mcts::Encode) of
//!   one agent with rewards and discounting, and its POMCP-style planning copy that never sees
//!   the hidden target.
//! - [`run_episode`] and [`run_episodes`]: episodes with passive, random or pure-MCTS policies
//!   (sequential, tree-parallel, episode-parallel as par-core tasks).
//! - [`alphazero`]: AlphaZero-style self-play episodes: PUCT searches guided by one
//!   policy-value network shared by all episodes and workers through a batched evaluator.
//! - [`InspectionError`]: the typed errors, naming the bad field.
//!
//! Example (`cargo run -p inspection --release --example inspect -- ...`):
//! `inspect [--policy mcts|passive|random] [--sims N] [--threads T] [--steps N]
//! [--variant default|vbar-hold] [--seed S] [--out DIR]`: one inspection episode, printed step
//! by step, with the belief and trajectory written to files and an SVG of entropy and coverage
//! against steps beside the no-burn baseline.
//!
//! The benchmark scenario `inspection` (`cargo bench -p inspection --bench scenarios`, run by
//! `cargo xtask bench`) measures the ray-cast time of one observation, inspection episodes with
//! pure MCTS (sequential, tree-parallel, episode-parallel) beside the no-burn baseline, MCTS
//! against random burns of the same delta-v on the harder variant, and AlphaZero self-play with
//! workers sharing one batched evaluator.
//!
//! # Specification
//!
//! **Target and belief.** The hidden target occupies voxels of a 20 x 20 x 20 grid of 1 m voxels
//! spanning -10 m to +10 m on each axis, centred on the target and aligned with the chief's RTN
//! frame (the target is assumed to hold a local-vertical/local-horizontal attitude). Three
//! shapes are provided ([`TargetShape`]), each varied by a seed. The inspector's belief is a
//! log-odds occupancy grid starting at probability 0.5 everywhere; its entropy is the sum of the
//! binary entropies of the voxels (initially `8000 ln 2` nats).
//!
//! **Orbit.** The chief flies a circular orbit at `altitude_km` (default 500 km: `a` = 6878.137
//! km, `n` = 1.1068e-3 rad/s, period 94.6 min). The inspector's relative orbit is given by
//! quasi-nonsingular relative orbital elements ([`orbit`], D'Amico 2010), mapped linearly to an
//! RTN position; the argument of latitude starts at 0.
//!
//! **Actions.** 13 impulsive burns ([`ACTIONS`]): none, and +-0.01 or +-0.05 m/s along R, T or
//! N, applied through the Gauss variational equations. One step: burn, coast `step_s` (default
//! 120 s), take one image. An episode has `steps` steps (default 50, 6000 s, about 1.06 orbits).
//!
//! **Sensor.** A camera at the inspector always points at the target's centre, with a 10 degree
//! square field of view and 64 x 64 rays traced through the grid (Amanatides-Woo, see
//! [`voxel_sensor`]); an occupied voxel on a ray returns a hit with probability 0.95, an
//! empty one a false hit with probability 0.001; the ray stops at its first hit, and the belief
//! is updated with the log-odds inverse sensor model.
//!
//! **Reward.** Per step, `(H_before - H_after) / H_0 - w |dv|`: the entropy removed by the image,
//! as a fraction of the initial entropy, minus `delta_v_weight` (`w`, per m/s) times the burn's
//! magnitude. Over an episode the rewards add up to the total entropy reduction over `H_0`
//! minus the weighted delta-v. Entropies in the environment come from a tabulated binary
//! entropy ([`fast_entropy`]; within 1e-6 nats per voxel of the exact value).
//!
//! **Scenarios** ([`Variant`]):
//!
//! - `Default`: a passively safe relative orbit with parallel eccentricity and inclination
//!   vectors, `a de = a di = 100 m` (radial +-100 m, along-track +-200 m, cross-track +-100 m).
//!   The inspector circles the target once per orbit and sees it from all sides without any
//!   burn: the passive (no-burn) baseline already removes most of the entropy.
//! - `VbarHold`: the inspector starts parked 100 m behind the target on the along-track axis
//!   (V-bar) with no relative motion at all (no eccentricity, no cross-track motion, no drift),
//!   and the episode is scored after 20 steps (40 minutes). Without burns it sees the target
//!   from one side only, for the whole episode, and the target's shadow stays unknown (the
//!   passive baseline keeps about 17% of the initial entropy); burns are needed to look at the
//!   other sides, and 20 steps leave too little time for aimless burns to see everything. This
//!   is the harder variant, on which planning has room to matter. On it any motion helps (random
//!   burns alone remove most of what passive drift leaves), so the bench judges planning
//!   against random burns of the same fuel: `inspection_entropy_vs_random` is the mean final
//!   entropy under MCTS over that under [`Policy::RandomWithinBudget`] with the delta-v MCTS
//!   spent on the same seed, over 10 seeds (target at most 0.5); the ratio against passive
//!   drift, `inspection_entropy_vs_passive`, is reported beside it without a target.
//!
//! # Planning without peeking
//!
//! [`Inspection`] implements [`Game`](mcts::Game) (one agent, player 0, discount `discount`)
//! and [`Encode`](mcts::Encode). The real episode observes the hidden target. A planner never
//! searches that state: it searches [`Inspection::planning_copy`], which holds no target at
//! all. Each simulation of the search starts from a clone of that copy, and every clone draws
//! its own target from the current belief (each voxel occupied independently with its
//! believed probability) the first time an image is simulated: the determinisation of POMCP
//! (Silver and Veness, "Monte-Carlo planning in large POMDPs", NeurIPS 2010), with the belief
//! as the particle distribution. The search tree is over action sequences (open loop); the
//! rewards it averages are those of simulated images of sampled targets. The tree is rebuilt at
//! every real step from the belief after the real image (a subtree built on sampled images
//! does not match the real observation). The planning copy also ends its episode
//! `horizon` steps ahead, which bounds both the tree depth and the rollouts.
//!
//! Cloning a planning state is therefore not a pure copy: the clone gets a fresh random stream
//! (from a counter shared by the copies of one planning state) and forgets the sampled target.
//! A sequential search stays reproducible for a given seed; a tree-parallel one, whose clones
//! happen in a thread-dependent order, does not (as for any tree-parallel search here).
//!
//! # Planner
//!
//! [`run_episode`] plays an episode with a [`Policy`]: passive (never burn), random (with or
//! without a delta-v budget), or pure MCTS: UCT ([`mcts::Uct`], or [`mcts::TreeParallelUct`]
//! with several threads) with `sims` simulations per step over the planning copy, uniformly
//! random rollouts to the planning horizon (default 6 steps, 12 minutes; the tree and the
//! rollout together never look further), exploration constant 0.05 (returns here are
//! fractions of the initial entropy, of order 0.01 to 0.1 per step, not the +-1 of board
//! games), the most visited root action played. [`run_episodes`] runs several episodes as par-core tasks (episode parallelism).
//!
//! [`alphazero`] plays AlphaZero-style self-play episodes instead: PUCT searches over the
//! planning copy guided by one policy-value network, shared by all episodes and worker threads
//! through a batched evaluator ([`run_az_episodes`]).

pub mod alphazero;
mod env;
mod episode;
pub mod error;
pub mod orbit;
pub mod voxel_sensor;

pub use alphazero::{AzConfig, AzEpisodeRecord, AzRunStats, run_az_episodes};
pub use env::{
    ACTIONS, Inspection, InspectionConfig, TargetShape, Variant, fast_entropy, target_voxels,
};
pub use episode::{EpisodeRecord, PlannerConfig, Policy, StepRecord, run_episode, run_episodes};
pub use error::InspectionError;
