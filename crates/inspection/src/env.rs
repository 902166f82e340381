//! The inspection environment: configuration, targets and the [`Game`] implementation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use par_core::seed::splitmix64;
use rand::{Rng, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::error::InspectionError;
use crate::orbit::{ChiefOrbit, Roe};
use crate::voxel_sensor::{Camera, SensorDraws, SensorModel, Vec3, VoxelGrid};
use mcts::Encode;
use mcts::{Action, Game};

/// The 13 actions as RTN delta-v (m/s): 0 = no burn, then for R, T and N in turn
/// `+0.01, -0.01, +0.05, -0.05`.
pub const ACTIONS: [Vec3; 13] = [
    [0.0, 0.0, 0.0],
    [0.01, 0.0, 0.0],
    [-0.01, 0.0, 0.0],
    [0.05, 0.0, 0.0],
    [-0.05, 0.0, 0.0],
    [0.0, 0.01, 0.0],
    [0.0, -0.01, 0.0],
    [0.0, 0.05, 0.0],
    [0.0, -0.05, 0.0],
    [0.0, 0.0, 0.01],
    [0.0, 0.0, -0.01],
    [0.0, 0.0, 0.05],
    [0.0, 0.0, -0.05],
];

/// The magnitude of a burn (m/s).
pub(crate) fn burn_magnitude(dv: Vec3) -> f64 {
    (dv[0] * dv[0] + dv[1] * dv[1] + dv[2] * dv[2]).sqrt()
}

/// Shape of the hidden target (voxel coordinates on the default 20^3 grid, scaled to others).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetShape {
    /// A 4 x 4 x 4 m bus with two 2 m wide, 1 m thick solar panels along N (4 to 7 m each,
    /// from the seed) and a 3 m boom along R.
    #[default]
    Satellite,
    /// A cylinder along T (radius 3 to 4 m, length 10 to 14 m, from the seed).
    Cylinder,
    /// The union of four boxes of 2 to 6 m sides placed at random (from the seed) within
    /// +-6 m of the centre.
    Blocks,
}

/// Preset starting conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Passively safe relative orbit: `a de = a di = 100 m`, parallel vectors.
    #[default]
    Default,
    /// Parked 100 m behind the target on the V-bar, no relative motion, scored after 20 steps
    /// (the harder variant).
    VbarHold,
}

impl Variant {
    /// The initial ROE scaled by `a` (m): `(a da, a dlambda, a dex, a dey, a dix, a diy)`.
    pub fn initial_roe_m(self) -> [f64; 6] {
        match self {
            Variant::Default => [0.0, 0.0, 0.0, 100.0, 0.0, 100.0],
            Variant::VbarHold => [0.0, -100.0, 0.0, 0.0, 0.0, 0.0],
        }
    }

    /// Steps of an episode of this variant: 50 for `Default`, 20 for `VbarHold`.
    pub fn steps(self) -> usize {
        match self {
            Variant::Default => 50,
            Variant::VbarHold => 20,
        }
    }

    /// The default configuration of this variant.
    pub fn config(self) -> InspectionConfig {
        InspectionConfig {
            initial_roe_m: self.initial_roe_m(),
            steps: self.steps(),
            ..InspectionConfig::default()
        }
    }
}

/// Settings of the inspection environment. Missing fields take their defaults when
/// deserialised, an unknown field is an error naming it; [`InspectionConfig::validate`] names
/// the first bad value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InspectionConfig {
    /// Altitude of the chief's circular orbit (km). Default 500.
    pub altitude_km: f64,
    /// Duration of one step (s). Default 120.
    pub step_s: f64,
    /// Steps per episode. Default 50.
    pub steps: usize,
    /// Initial ROE scaled by the chief's semi-major axis (m),
    /// `(a da, a dlambda, a dex, a dey, a dix, a diy)`. Default: [`Variant::Default`].
    pub initial_roe_m: [f64; 6],
    /// The voxel grid. Default 20^3 voxels of 1 m.
    pub grid: VoxelGrid,
    /// The camera. Default 10 degrees, 64 x 64 rays.
    pub camera: Camera,
    /// The sensor. Default hit 0.95, false hit 0.001.
    pub sensor: SensorModel,
    /// Shape of the hidden target. Default [`TargetShape::Satellite`].
    pub target: TargetShape,
    /// Seed varying the target's dimensions. Default 0.
    pub target_seed: u64,
    /// Weight of the delta-v penalty, per m/s of burn. Default 0.02.
    pub delta_v_weight: f64,
    /// Discount per step. Default 0.95.
    pub discount: f64,
}

impl Default for InspectionConfig {
    fn default() -> Self {
        Self {
            altitude_km: 500.0,
            step_s: 120.0,
            steps: 50,
            initial_roe_m: Variant::Default.initial_roe_m(),
            grid: VoxelGrid::default(),
            camera: Camera::default(),
            sensor: SensorModel::default(),
            target: TargetShape::Satellite,
            target_seed: 0,
            delta_v_weight: 0.02,
            discount: 0.95,
        }
    }
}

fn bad(field: &'static str, reason: String) -> InspectionError {
    InspectionError::Config { field, reason }
}

impl InspectionConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), InspectionError> {
        ChiefOrbit::from_altitude(self.altitude_km * 1e3)?;
        if !(self.step_s.is_finite() && self.step_s > 0.0 && self.step_s <= 86_400.0) {
            return Err(bad(
                "step_s",
                format!("must be finite and in (0, 86400], got {}", self.step_s),
            ));
        }
        if self.steps == 0 || self.steps > 100_000 {
            return Err(bad(
                "steps",
                format!("must be in 1..=100000, got {}", self.steps),
            ));
        }
        if let Some(x) = self
            .initial_roe_m
            .iter()
            .find(|x| !(x.is_finite() && x.abs() <= 1e5))
        {
            return Err(bad(
                "initial_roe_m",
                format!("entries must be finite and within +-100 km, got {x}"),
            ));
        }
        self.grid.validate()?;
        self.camera.validate()?;
        self.sensor.validate()?;
        if !(self.delta_v_weight.is_finite() && self.delta_v_weight >= 0.0) {
            return Err(bad(
                "delta_v_weight",
                format!("must be finite and >= 0, got {}", self.delta_v_weight),
            ));
        }
        if !(self.discount > 0.0 && self.discount <= 1.0) {
            return Err(bad(
                "discount",
                format!("must be in (0, 1], got {}", self.discount),
            ));
        }
        Ok(())
    }
}

/// The occupancy of `shape` on `grid` (flat index), varied by `seed`. Coordinates are laid
/// out for the default 20^3 grid and scaled to the grid's size.
pub fn target_voxels(grid: &VoxelGrid, shape: TargetShape, seed: u64) -> Vec<bool> {
    let n = grid.n;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x7a46_e7c1_d00d_5eed);
    let mut truth = vec![false; grid.len()];
    // Metres from the centre of the grid, for the voxel centres.
    let half = grid.half_extent();
    let centre = |i: usize| (i as f64 + 0.5) * grid.voxel_size - half;
    let mut fill = |inside: &dyn Fn(f64, f64, f64) -> bool| {
        for z in 0..n {
            for y in 0..n {
                for x in 0..n {
                    if inside(centre(x), centre(y), centre(z)) {
                        truth[grid.index(x, y, z)] = true;
                    }
                }
            }
        }
    };
    match shape {
        TargetShape::Satellite => {
            let panel = rng.random_range(4.0..=7.0_f64).round();
            fill(&|r, t, nn| {
                let bus = r.abs() < 2.0 && t.abs() < 2.0 && nn.abs() < 2.0;
                let panels = r.abs() < 1.0 && (0.0..1.0).contains(&t) && {
                    let a = nn.abs();
                    a >= 2.0 && a < 2.0 + panel
                };
                let boom =
                    (2.0..5.0).contains(&r) && (0.0..1.0).contains(&t) && (0.0..1.0).contains(&nn);
                bus || panels || boom
            });
        }
        TargetShape::Cylinder => {
            let radius = rng.random_range(3.0..=4.0_f64);
            let length = rng.random_range(10.0..=14.0_f64);
            fill(&|r, t, nn| r * r + nn * nn < radius * radius && t.abs() < length / 2.0);
        }
        TargetShape::Blocks => {
            let boxes: Vec<([f64; 3], [f64; 3])> = (0..4)
                .map(|_| {
                    let c: [f64; 3] = std::array::from_fn(|_| rng.random_range(-4.0..4.0));
                    let s: [f64; 3] = std::array::from_fn(|_| rng.random_range(1.0..3.0));
                    (c, s)
                })
                .collect();
            fill(&|r, t, nn| {
                boxes.iter().any(|(c, s)| {
                    (r - c[0]).abs() < s[0] && (t - c[1]).abs() < s[1] && (nn - c[2]).abs() < s[2]
                })
            });
        }
    }
    truth
}

/// Range of log-odds covered by the entropy table; beyond it the entropy is below 4e-16.
const ENTROPY_RANGE: f32 = 36.0;
/// Table entries per unit of log-odds.
const ENTROPY_PER_UNIT: f32 = 256.0;

fn entropy_table() -> &'static [f32] {
    static TABLE: OnceLock<Vec<f32>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let len = (2.0 * ENTROPY_RANGE * ENTROPY_PER_UNIT) as usize + 2;
        (0..len)
            .map(|k| {
                let l = k as f64 / f64::from(ENTROPY_PER_UNIT) - f64::from(ENTROPY_RANGE);
                crate::voxel_sensor::voxel_entropy(l as f32) as f32
            })
            .collect()
    })
}

/// Total binary entropy (nats) of log-odds `log_odds`, by linear interpolation in a table of
/// step 1/256 (error below 1e-6 nats per voxel against
/// [`voxel_entropy`](crate::voxel_sensor::voxel_entropy)).
pub fn fast_entropy(log_odds: &[f32]) -> f64 {
    let table = entropy_table();
    let mut sum = 0.0f64;
    for &l in log_odds {
        let x = (l + ENTROPY_RANGE) * ENTROPY_PER_UNIT;
        if x >= 0.0 && x < (table.len() - 1) as f32 {
            let k = x as usize;
            let f = x - k as f32;
            sum += f64::from(table[k] + f * (table[k + 1] - table[k]));
        }
    }
    sum
}

/// What produces the images.
#[derive(Debug)]
enum Observer {
    /// The real episode: the hidden target.
    Truth(Arc<Vec<bool>>),
    /// A planning state: targets sampled from the belief it was made from.
    Sampled {
        /// Occupancy probabilities of the belief as thresholds on 32 random bits.
        thresholds: Arc<Vec<u32>>,
        /// The target of the current simulation, drawn at its first image.
        target: Option<Vec<bool>>,
        /// Counter giving every clone its own random stream.
        clones: Arc<AtomicU64>,
        /// Seed of the planning state.
        seed: u64,
    },
}

/// What every state of one environment shares.
#[derive(Debug)]
struct Shared {
    config: InspectionConfig,
    chief: ChiefOrbit,
    draws: SensorDraws,
    initial_entropy: f64,
}

/// A state of the inspection environment (see the [crate docs](crate) for the model).
#[derive(Debug)]
pub struct Inspection {
    shared: Arc<Shared>,
    roe: Roe,
    step: usize,
    end_step: usize,
    log_odds: Vec<f32>,
    entropy: f64,
    delta_v: f64,
    observer: Observer,
    rng: Xoshiro256PlusPlus,
}

impl Clone for Inspection {
    /// A real-episode state is copied as is. A planning state's clone gets a fresh random
    /// stream and forgets its sampled target, so that every simulation of a search (which
    /// starts from a clone of the root) draws its own target (see the crate docs).
    fn clone(&self) -> Self {
        match &self.observer {
            Observer::Truth(_) => self.fork(),
            Observer::Sampled {
                thresholds,
                clones,
                seed,
                ..
            } => {
                let k = clones.fetch_add(1, Ordering::Relaxed);
                Self {
                    observer: Observer::Sampled {
                        thresholds: Arc::clone(thresholds),
                        target: None,
                        clones: Arc::clone(clones),
                        seed: *seed,
                    },
                    rng: Xoshiro256PlusPlus::seed_from_u64(splitmix64(*seed ^ splitmix64(k))),
                    ..self.fork_fields()
                }
            }
        }
    }
}

impl Inspection {
    /// The start of a real episode: the hidden target from the config, the uniform belief, and
    /// `seed` for the sensor's random draws.
    pub fn new(config: InspectionConfig, seed: u64) -> Result<Self, InspectionError> {
        config.validate()?;
        let truth = target_voxels(&config.grid, config.target, config.target_seed);
        Self::with_target(config, truth, seed)
    }

    /// The start of a real episode with a given hidden target (occupancy per voxel).
    pub fn with_target(
        config: InspectionConfig,
        truth: Vec<bool>,
        seed: u64,
    ) -> Result<Self, InspectionError> {
        config.validate()?;
        if truth.len() != config.grid.len() {
            return Err(bad(
                "target",
                format!("has {} voxels, the grid {}", truth.len(), config.grid.len()),
            ));
        }
        let chief = ChiefOrbit::from_altitude(config.altitude_km * 1e3)?;
        let log_odds = vec![0.0f32; config.grid.len()];
        let entropy = fast_entropy(&log_odds);
        let roe = Roe::from_metres(config.initial_roe_m, &chief);
        let draws = SensorDraws::new(&config.sensor, &config.grid);
        let end_step = config.steps;
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                chief,
                draws,
                initial_entropy: entropy,
            }),
            roe,
            step: 0,
            end_step,
            log_odds,
            entropy,
            delta_v: 0.0,
            observer: Observer::Truth(Arc::new(truth)),
            rng: Xoshiro256PlusPlus::seed_from_u64(splitmix64(seed)),
        })
    }

    fn fork_fields(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            roe: self.roe,
            step: self.step,
            end_step: self.end_step,
            log_odds: self.log_odds.clone(),
            entropy: self.entropy,
            delta_v: self.delta_v,
            observer: Observer::Truth(Arc::new(Vec::new())),
            rng: self.rng.clone(),
        }
    }

    /// An exact copy (same random stream, same sampled target).
    fn fork(&self) -> Self {
        let observer = match &self.observer {
            Observer::Truth(t) => Observer::Truth(Arc::clone(t)),
            Observer::Sampled {
                thresholds,
                target,
                clones,
                seed,
            } => Observer::Sampled {
                thresholds: Arc::clone(thresholds),
                target: target.clone(),
                clones: Arc::clone(clones),
                seed: *seed,
            },
        };
        Self {
            observer,
            ..self.fork_fields()
        }
    }

    /// The state a planner searches: the same orbit, time and belief, no hidden target (images
    /// are simulated on targets sampled from the belief), and an episode that ends `horizon`
    /// steps ahead (or at the real end, if sooner). `seed` drives the sampling.
    pub fn planning_copy(&self, horizon: usize, seed: u64) -> Result<Self, InspectionError> {
        if horizon == 0 {
            return Err(bad("horizon", "must be at least 1".into()));
        }
        let thresholds = self
            .log_odds
            .iter()
            .map(|&l| {
                let p = 1.0 / (1.0 + (-f64::from(l)).exp());
                (p * f64::from(u32::MAX)) as u32
            })
            .collect();
        Ok(Self {
            end_step: self.shared.config.steps.min(self.step + horizon),
            observer: Observer::Sampled {
                thresholds: Arc::new(thresholds),
                target: None,
                clones: Arc::new(AtomicU64::new(0)),
                seed,
            },
            rng: Xoshiro256PlusPlus::seed_from_u64(splitmix64(seed)),
            ..self.fork_fields()
        })
    }

    /// Whether this is a planning state (targets sampled from the belief).
    pub fn is_planning(&self) -> bool {
        matches!(self.observer, Observer::Sampled { .. })
    }

    /// The configuration.
    pub fn config(&self) -> &InspectionConfig {
        &self.shared.config
    }

    /// The chief's orbit.
    pub fn chief(&self) -> ChiefOrbit {
        self.shared.chief
    }

    /// The inspector's relative orbital elements.
    pub fn roe(&self) -> Roe {
        self.roe
    }

    /// Steps taken since the start of the episode.
    pub fn step(&self) -> usize {
        self.step
    }

    /// Seconds since the start of the episode.
    pub fn time_s(&self) -> f64 {
        self.step as f64 * self.shared.config.step_s
    }

    /// The chief's argument of latitude now (rad; 0 at the start).
    pub fn argument_of_latitude(&self) -> f64 {
        self.shared.chief.n * self.time_s()
    }

    /// The inspector's RTN position now (m).
    pub fn position(&self) -> Vec3 {
        self.roe
            .position(&self.shared.chief, self.argument_of_latitude())
    }

    /// The belief, log-odds per voxel (flat index of the grid).
    pub fn log_odds(&self) -> &[f32] {
        &self.log_odds
    }

    /// Entropy of the belief now (nats, [`fast_entropy`]).
    pub fn entropy(&self) -> f64 {
        self.entropy
    }

    /// Entropy of the uniform belief (nats).
    pub fn initial_entropy(&self) -> f64 {
        self.shared.initial_entropy
    }

    /// Delta-v spent so far (m/s).
    pub fn delta_v(&self) -> f64 {
        self.delta_v
    }

    /// Fraction of voxels whose occupancy is known to 90% (`|log-odds| >= ln 9`).
    pub fn coverage(&self) -> f64 {
        let k = 9f32.ln();
        self.log_odds.iter().filter(|l| l.abs() >= k).count() as f64 / self.log_odds.len() as f64
    }

    /// Takes one image from the current position, updating the belief and its entropy.
    fn observe(&mut self) {
        let position = self.position();
        if position.iter().map(|x| x * x).sum::<f64>() < 1e-12 {
            // At the target's centre the camera has no direction: no image.
            return;
        }
        let shared = &*self.shared;
        let cfg = &shared.config;
        let (grid, draws) = (cfg.grid, shared.draws);
        let rng = &mut self.rng;
        let log_odds = &mut self.log_odds[..];
        let truth: &[bool] = match &mut self.observer {
            Observer::Truth(t) => t,
            Observer::Sampled {
                thresholds, target, ..
            } => target.get_or_insert_with(|| {
                thresholds
                    .iter()
                    .map(|&p| rng.next_u32() < p)
                    .collect::<Vec<bool>>()
            }),
        };
        // The inputs are checked when the environment is built and the position is away
        // from the target, so this cannot fail (checked in debug builds); if it did, no image
        // would be taken.
        let cast = grid.cast_image(
            &cfg.camera,
            position,
            [0.0; 3],
            truth,
            log_odds,
            &draws,
            rng,
        );
        debug_assert!(cast.is_ok(), "{cast:?}");
        self.entropy = fast_entropy(&self.log_odds);
    }

    /// One step with the burn of `action`: burn, coast, image. Returns the reward.
    fn step_with(&mut self, action: Action) -> f64 {
        let dv = ACTIONS[usize::from(action)];
        let chief = self.shared.chief;
        let u = self.argument_of_latitude();
        self.roe.apply_burn(&chief, u, dv);
        let magnitude = burn_magnitude(dv);
        self.delta_v += magnitude;
        self.roe.propagate(&chief, self.shared.config.step_s);
        self.step += 1;
        let before = self.entropy;
        self.observe();
        (before - self.entropy) / self.shared.initial_entropy
            - self.shared.config.delta_v_weight * magnitude
    }

    /// Applies an action, failing on an illegal one (out of range, or after the end).
    pub fn try_apply(&mut self, action: Action) -> Result<f64, InspectionError> {
        if self.is_terminal() || usize::from(action) >= ACTIONS.len() {
            return Err(InspectionError::IllegalAction { action });
        }
        Ok(self.step_with(action))
    }

    fn rollout_with<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        mut choose: impl FnMut(&mut R) -> Action,
    ) -> f64 {
        let mut s = self.fork();
        let gamma = self.shared.config.discount;
        let (mut g, mut weight) = (0.0, 1.0);
        while !s.is_terminal() {
            g += weight * s.step_with(choose(rng));
            weight *= gamma;
        }
        g
    }
}

impl Game for Inspection {
    const NUM_ACTIONS: usize = 13;

    fn current_player(&self) -> u8 {
        0
    }

    fn is_terminal(&self) -> bool {
        self.step >= self.end_step
    }

    fn legal_actions(&self, out: &mut Vec<Action>) {
        out.clear();
        if !self.is_terminal() {
            out.extend(0..Self::NUM_ACTIONS as Action);
        }
    }

    /// Panics on an illegal action (the [`Game`] contract); [`Inspection::try_apply`] returns
    /// an error instead.
    fn apply(&mut self, action: Action) -> f64 {
        assert!(
            !self.is_terminal() && usize::from(action) < ACTIONS.len(),
            "illegal action {action}"
        );
        self.step_with(action)
    }

    fn discount(&self) -> f64 {
        self.shared.config.discount
    }

    /// Uniformly random burns to the end of the (planning) episode.
    fn random_rollout<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.rollout_with(rng, |rng| rng.random_range(0..Self::NUM_ACTIONS) as Action)
    }

    /// No burns to the end of the (planning) episode: the passive drift.
    fn heuristic_rollout<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.rollout_with(rng, |_| 0)
    }
}

/// Blocks per axis of the belief summary in [`Encode`].
const SUMMARY_BLOCKS: usize = 4;

impl Encode for Inspection {
    /// 6 scaled ROE, cos and sin of the argument of latitude, the fraction of the episode
    /// done, and the mean voxel entropy (over `ln 2`) of each of 4 x 4 x 4 blocks of the grid.
    const INPUT_LEN: usize = 9 + SUMMARY_BLOCKS * SUMMARY_BLOCKS * SUMMARY_BLOCKS;

    /// ROE in units of 100 m (clamped to +-10), then the time features, then the belief
    /// summary (blocks in x-fastest order).
    fn encode(&self, out: &mut [f32]) {
        let m = self.roe.to_metres(&self.shared.chief);
        for (o, x) in out.iter_mut().zip(m) {
            *o = (x / 100.0).clamp(-10.0, 10.0) as f32;
        }
        let u = self.argument_of_latitude();
        out[6] = u.cos() as f32;
        out[7] = u.sin() as f32;
        out[8] = self.step as f32 / self.shared.config.steps as f32;
        let grid = self.shared.config.grid;
        let n = grid.n;
        let b = SUMMARY_BLOCKS;
        let summary = &mut out[9..9 + b * b * b];
        summary.fill(0.0);
        let mut counts = [0u32; SUMMARY_BLOCKS * SUMMARY_BLOCKS * SUMMARY_BLOCKS];
        for z in 0..n {
            for y in 0..n {
                for x in 0..n {
                    let k = (x * b / n) + b * ((y * b / n) + b * (z * b / n));
                    let l = self.log_odds[grid.index(x, y, z)];
                    summary[k] += crate::voxel_sensor::voxel_entropy(l) as f32;
                    counts[k] += 1;
                }
            }
        }
        for (s, &c) in summary.iter_mut().zip(&counts) {
            *s = if c > 0 {
                *s / (c as f32 * std::f32::consts::LN_2)
            } else {
                0.0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voxel_sensor::Belief;

    fn small_config() -> InspectionConfig {
        InspectionConfig {
            steps: 8,
            ..Variant::VbarHold.config()
        }
    }

    #[test]
    fn targets_are_nonempty_and_inside() {
        let g = VoxelGrid::default();
        for shape in [
            TargetShape::Satellite,
            TargetShape::Cylinder,
            TargetShape::Blocks,
        ] {
            for seed in 0..3 {
                let t = target_voxels(&g, shape, seed);
                let count = t.iter().filter(|&&b| b).count();
                assert!(count > 50 && count < 2000, "{shape:?} {seed}: {count}");
                // Nothing on the outer shell of the grid.
                for z in 0..g.n {
                    for y in 0..g.n {
                        for x in [0, g.n - 1] {
                            assert!(!t[g.index(x, y, z)] && !t[g.index(y, x, z)]);
                            assert!(!t[g.index(y, z, x)]);
                        }
                    }
                }
            }
        }
        assert_ne!(
            target_voxels(&g, TargetShape::Blocks, 1),
            target_voxels(&g, TargetShape::Blocks, 2)
        );
    }

    #[test]
    fn tabulated_entropy_matches_the_exact_one() {
        let env = Inspection::new(small_config(), 3).unwrap();
        let h0 = 8000.0 * std::f64::consts::LN_2;
        assert!(
            (env.initial_entropy() - h0).abs() < 1e-3,
            "{}",
            env.initial_entropy()
        );
        let mut env = env;
        for a in [0, 3, 11, 0] {
            env.try_apply(a).unwrap();
            let exact = Belief {
                grid: env.config().grid,
                log_odds: env.log_odds().to_vec(),
            }
            .entropy();
            assert!(
                (env.entropy() - exact).abs() < 1e-2,
                "{} vs {exact}",
                env.entropy()
            );
        }
        for l in [-40.0f32, -7.3, -0.2, 0.0, 0.01, 3.3, 35.9, 50.0] {
            let exact = crate::voxel_sensor::voxel_entropy(l);
            assert!((fast_entropy(&[l]) - exact).abs() < 1e-6, "{l}");
        }
    }

    #[test]
    fn rewards_add_up_to_entropy_removed_minus_penalty() {
        let config = InspectionConfig {
            delta_v_weight: 0.7,
            ..small_config()
        };
        let mut env = Inspection::new(config, 11).unwrap();
        let h0 = env.initial_entropy();
        let mut total = 0.0;
        for (k, a) in [0u16, 4, 9, 12, 7, 0, 2, 5].into_iter().enumerate() {
            let before = env.entropy();
            let r = env.try_apply(a).unwrap();
            let dv = ACTIONS[usize::from(a)];
            let mag = (dv[0] * dv[0] + dv[1] * dv[1] + dv[2] * dv[2]).sqrt();
            assert!((r - ((before - env.entropy()) / h0 - 0.7 * mag)).abs() < 1e-12);
            total += r;
            assert_eq!(env.step(), k + 1);
        }
        assert!(env.is_terminal());
        let expected = (h0 - env.entropy()) / h0 - 0.7 * env.delta_v();
        assert!((total - expected).abs() < 1e-12, "{total} vs {expected}");
        assert!((env.delta_v() - (0.05 + 0.01 + 0.05 + 0.05 + 0.01 + 0.01)).abs() < 1e-12);
        assert!(env.try_apply(0).is_err());
    }

    #[test]
    fn the_planner_never_sees_the_target() {
        // Two worlds with different hidden targets and the same belief: their planning copies
        // simulate exactly the same images.
        let a = Inspection::new(small_config(), 5).unwrap();
        let b = Inspection::new(
            InspectionConfig {
                target: TargetShape::Blocks,
                ..small_config()
            },
            5,
        )
        .unwrap();
        let (mut pa, mut pb) = (
            a.planning_copy(3, 9).unwrap().fork(),
            b.planning_copy(3, 9).unwrap().fork(),
        );
        for act in [3, 0, 9] {
            assert_eq!(pa.apply(act), pb.apply(act));
        }
        assert_eq!(pa.log_odds(), pb.log_odds());
        assert!(pa.is_terminal(), "the planning episode ends at its horizon");
        // The real episodes differ.
        let (mut ra, mut rb) = (a, b);
        ra.apply(0);
        rb.apply(0);
        assert_ne!(ra.log_odds(), rb.log_odds());
    }

    #[test]
    fn each_simulation_samples_its_own_target() {
        let env = Inspection::new(small_config(), 1).unwrap();
        let root = env.planning_copy(2, 4).unwrap();
        assert!(root.is_planning() && !env.is_planning());
        let outcomes: Vec<f64> = (0..4)
            .map(|_| {
                let mut s = root.clone();
                s.apply(0)
            })
            .collect();
        assert!(
            outcomes.windows(2).any(|w| w[0] != w[1]),
            "clones drew the same target: {outcomes:?}"
        );
        // A fork is an exact copy.
        let mut s = root.clone();
        let mut t = s.fork();
        assert_eq!(s.apply(5), t.apply(5));
    }

    #[test]
    fn encoding_has_the_documented_layout() {
        let mut env = Inspection::new(small_config(), 2).unwrap();
        let mut x = vec![f32::NAN; Inspection::INPUT_LEN];
        env.encode(&mut x);
        assert_eq!(x[1], -1.0, "a dlambda = -100 m");
        assert_eq!(x[8], 0.0);
        assert!(
            x[9..].iter().all(|&v| (v - 1.0).abs() < 1e-5),
            "uniform belief"
        );
        env.apply(0);
        env.encode(&mut x);
        assert!(x.iter().all(|v| v.is_finite()));
        assert_eq!(x[8], 1.0 / 8.0);
        assert!(x[9..].iter().all(|&v| (0.0..=1.0 + 1e-5).contains(&v)));
        assert!(x[9..].iter().any(|&v| v < 0.5), "some block is mapped");
    }

    #[test]
    fn bad_configs_are_rejected_with_the_field() {
        let field = |c: InspectionConfig| match Inspection::new(c, 0) {
            Err(InspectionError::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        };
        let d = InspectionConfig::default;
        assert_eq!(
            field(InspectionConfig {
                altitude_km: f64::NAN,
                ..d()
            }),
            "altitude_km"
        );
        assert_eq!(
            field(InspectionConfig {
                altitude_km: -5.0,
                ..d()
            }),
            "altitude_km"
        );
        assert_eq!(field(InspectionConfig { step_s: 0.0, ..d() }), "step_s");
        assert_eq!(field(InspectionConfig { steps: 0, ..d() }), "steps");
        assert_eq!(
            field(InspectionConfig {
                initial_roe_m: [0.0, f64::INFINITY, 0.0, 0.0, 0.0, 0.0],
                ..d()
            }),
            "initial_roe_m"
        );
        assert_eq!(
            field(InspectionConfig {
                delta_v_weight: f64::NAN,
                ..d()
            }),
            "delta_v_weight"
        );
        assert_eq!(
            field(InspectionConfig {
                discount: 1.5,
                ..d()
            }),
            "discount"
        );
        assert_eq!(
            field(InspectionConfig {
                discount: f64::NAN,
                ..d()
            }),
            "discount"
        );
        let mut c = d();
        c.camera.fov_deg = f64::NAN;
        assert_eq!(field(c), "fov_deg");
        assert!(matches!(
            Inspection::with_target(d(), vec![false; 10], 0),
            Err(InspectionError::Config {
                field: "target",
                ..
            })
        ));
        let env = Inspection::new(d(), 0).unwrap();
        assert!(env.planning_copy(0, 0).is_err());
        let mut env = env;
        assert!(matches!(
            env.try_apply(13),
            Err(InspectionError::IllegalAction { action: 13 })
        ));
        // Serde fills missing fields with the defaults.
        let c: InspectionConfig = serde_json::from_str(r#"{"steps": 12}"#).unwrap();
        assert_eq!(c, InspectionConfig { steps: 12, ..d() });
    }
}
