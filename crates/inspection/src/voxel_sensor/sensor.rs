//! The sensor model: the hit probabilities of the range sensor, its log-odds increments, and the
//! constants of its random draws.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::VoxelGrid;
use crate::error::InspectionError;

/// Hit probabilities of the range sensor. Missing fields take their defaults when
/// deserialised; an unknown field is an error naming it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SensorModel {
    /// Probability that an occupied voxel on the ray returns a hit. Default 0.95.
    pub hit_prob: f64,
    /// Probability that an empty voxel on the ray returns a (false) hit. Default 0.001.
    pub false_hit_prob: f64,
}

impl Default for SensorModel {
    fn default() -> Self {
        Self {
            hit_prob: 0.95,
            false_hit_prob: 0.001,
        }
    }
}

impl SensorModel {
    /// Checks that `0 < false_hit_prob < hit_prob < 1`.
    pub fn validate(&self) -> Result<(), InspectionError> {
        if !(0.0 < self.false_hit_prob
            && self.false_hit_prob < self.hit_prob
            && self.hit_prob < 1.0)
        {
            return Err(InspectionError::Config {
                field: "hit_prob",
                reason: format!(
                    "need 0 < false_hit_prob < hit_prob < 1, got {} and {}",
                    self.false_hit_prob, self.hit_prob
                ),
            });
        }
        Ok(())
    }

    /// Log-odds added to a voxel that returned a hit.
    pub fn hit_log_odds(&self) -> f32 {
        (self.hit_prob / self.false_hit_prob).ln() as f32
    }

    /// Log-odds added to a voxel passed through without a hit (negative).
    pub fn miss_log_odds(&self) -> f32 {
        ((1.0 - self.hit_prob) / (1.0 - self.false_hit_prob)).ln() as f32
    }
}

/// Constants of the fast sensor, computed once per image: thresholds for the random draws and
/// the log-odds increments.
///
/// False hits on empty voxels are sampled by a geometric skip-ahead: the number `K` of empty
/// voxels a ray passes before its first false hit is geometric,
/// `P(K >= k) = (1 - p)^k`, and is drawn once per ray by inversion,
/// `K = floor(ln U / ln(1 - p))` (Devroye, "Non-Uniform Random Variate Generation", 1986,
/// ch. X.2). The ray then returns a false hit at its `K`-th empty voxel (counting from 0), if
/// it gets that far. This has exactly the distribution of one Bernoulli trial per empty
/// voxel. Since no ray crosses more than `3n` voxels, `U <= (1 - p)^(3n)` (most rays) means
/// "no false hit" without computing the logarithm.
#[derive(Debug, Clone, Copy)]
pub struct SensorDraws {
    /// `hit_prob` as a threshold on 32 random bits.
    pub(super) p_hit: u32,
    /// `ln(1 - false_hit_prob)` (negative).
    pub(super) ln_keep: f64,
    /// 64-bit threshold below which (inclusive) no ray of the grid gets a false hit.
    pub(super) never: u64,
    /// Log-odds increment of a hit.
    pub(super) hit: f32,
    /// Log-odds increment of a pass-through (negative).
    pub(super) miss: f32,
}

impl SensorDraws {
    /// The constants for `sensor` on `grid`.
    pub fn new(sensor: &SensorModel, grid: &VoxelGrid) -> Self {
        let ln_keep = (-sensor.false_hit_prob).ln_1p();
        let longest = (3 * grid.n) as f64;
        // U = (r + 1) / 2^64; U <= (1-p)^L  <=>  r <= (1-p)^L 2^64 - 1.
        let never_u = (ln_keep * longest).exp();
        let never = (never_u * 2f64.powi(64)).max(1.0) as u64 - 1;
        Self {
            p_hit: (sensor.hit_prob * f64::from(u32::MAX)) as u32,
            ln_keep,
            never,
            hit: sensor.hit_log_odds(),
            miss: sensor.miss_log_odds(),
        }
    }

    /// Number of empty voxels the next ray passes before a false hit (`usize::MAX`: none).
    #[inline]
    pub(super) fn empty_run<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let r = rng.next_u64();
        if r <= self.never {
            return usize::MAX;
        }
        // U in (0, 1]: never ln 0.
        let u = (r as f64 + 1.0) * (1.0 / 2f64.powi(64));
        let k = (u.min(1.0).ln() / self.ln_keep).floor();
        if k >= usize::MAX as f64 {
            usize::MAX
        } else {
            k as usize
        }
    }
}
