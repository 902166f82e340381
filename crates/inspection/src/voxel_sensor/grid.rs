//! The belief grid: the cube of voxels, the log-odds occupancy belief over it and the binary
//! entropy of a voxel.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::image::check_image;
use super::{Camera, SensorDraws, SensorModel, Vec3};
use crate::error::InspectionError;

/// The cube of voxels. Missing fields take their defaults when deserialised; an unknown field
/// is an error naming it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VoxelGrid {
    /// Voxels per edge.
    pub n: usize,
    /// Edge of one voxel (m).
    pub voxel_size: f64,
}

impl Default for VoxelGrid {
    fn default() -> Self {
        Self {
            n: 20,
            voxel_size: 1.0,
        }
    }
}

impl VoxelGrid {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), InspectionError> {
        if self.n == 0 || self.n > 1024 {
            return Err(InspectionError::Config {
                field: "n",
                reason: format!("must be in 1..=1024, got {}", self.n),
            });
        }
        if !(self.voxel_size.is_finite() && self.voxel_size > 0.0) {
            return Err(InspectionError::Config {
                field: "voxel_size",
                reason: format!("must be finite and > 0, got {}", self.voxel_size),
            });
        }
        Ok(())
    }

    /// Number of voxels.
    pub fn len(&self) -> usize {
        self.n * self.n * self.n
    }

    /// Whether the grid has no voxels (never, for a validated grid).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Half the edge of the cube (m).
    pub fn half_extent(&self) -> f64 {
        self.n as f64 * self.voxel_size / 2.0
    }

    /// Flat index of voxel `(x, y, z)`.
    #[inline]
    pub fn index(&self, x: usize, y: usize, z: usize) -> usize {
        x + self.n * (y + self.n * z)
    }

    /// The voxel containing point `p`, if inside the grid.
    pub fn voxel_of(&self, p: Vec3) -> Option<[usize; 3]> {
        let h = self.half_extent();
        let mut v = [0; 3];
        for a in 0..3 {
            let c = ((p[a] + h) / self.voxel_size).floor();
            if !(0.0..self.n as f64).contains(&c) {
                return None;
            }
            v[a] = c as usize;
        }
        Some(v)
    }
}

/// Binary entropy (nats) of a voxel with log-odds `l`.
#[inline]
pub fn voxel_entropy(l: f32) -> f64 {
    let p = 1.0 / (1.0 + (-f64::from(l)).exp());
    let q = 1.0 - p;
    let term = |x: f64| if x > 0.0 { -x * x.ln() } else { 0.0 };
    term(p) + term(q)
}

/// A log-odds occupancy belief over a [`VoxelGrid`], starting at probability 0.5 everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Belief {
    /// The grid.
    pub grid: VoxelGrid,
    /// Log-odds of occupancy per voxel (flat index).
    pub log_odds: Vec<f32>,
}

impl Belief {
    /// The uniform (maximum-entropy) belief.
    pub fn new(grid: VoxelGrid) -> Result<Self, InspectionError> {
        grid.validate()?;
        Ok(Self {
            grid,
            log_odds: vec![0.0; grid.len()],
        })
    }

    /// Total entropy (nats).
    pub fn entropy(&self) -> f64 {
        self.log_odds.iter().map(|&l| voxel_entropy(l)).sum()
    }

    /// Takes one image of the hidden `truth` (occupancy per voxel) from `position` looking at
    /// `target`, sampling the sensor with `rng`, and updates the belief. Returns the number of
    /// rays that returned a hit.
    ///
    /// This is the fast path ([`VoxelGrid::cast_image`]): the same voxels as
    /// [`VoxelGrid::traverse`], one random draw per ray for the false hits (a geometric
    /// skip-ahead) and one per occupied voxel reached.
    ///
    /// # Errors
    ///
    /// [`InspectionError::Config`] when `truth` does not have one entry per voxel, the camera or
    /// the grid is invalid, or `position` and `target` are not finite and distinct.
    pub fn observe<R: Rng + ?Sized>(
        &mut self,
        truth: &[bool],
        camera: &Camera,
        sensor: &SensorModel,
        position: Vec3,
        target: Vec3,
        rng: &mut R,
    ) -> Result<usize, InspectionError> {
        let draws = SensorDraws::new(sensor, &self.grid);
        self.grid.cast_image(
            camera,
            position,
            target,
            truth,
            &mut self.log_odds,
            &draws,
            rng,
        )
    }

    /// The reference implementation of [`Belief::observe`]: [`Camera::for_each_ray`],
    /// [`VoxelGrid::traverse`] and one random draw per voxel. Same distribution of outcomes,
    /// slower; kept for the tests and the benchmark's comparison.
    ///
    /// # Errors
    ///
    /// As [`Belief::observe`].
    pub fn observe_reference<R: Rng + ?Sized>(
        &mut self,
        truth: &[bool],
        camera: &Camera,
        sensor: &SensorModel,
        position: Vec3,
        target: Vec3,
        rng: &mut R,
    ) -> Result<usize, InspectionError> {
        check_image(&self.grid, camera, position, target, truth, &self.log_odds)?;
        let (hit, miss) = (sensor.hit_log_odds(), sensor.miss_log_odds());
        // Compare 32 random bits with the thresholds: one draw per voxel.
        let scale = f64::from(u32::MAX);
        let p_hit = (sensor.hit_prob * scale) as u32;
        let p_false = (sensor.false_hit_prob * scale) as u32;
        let grid = self.grid;
        let log_odds = &mut self.log_odds;
        let mut hits = 0;
        camera.for_each_ray(position, target, |dir| {
            grid.traverse(position, dir, |i| {
                let threshold = if truth[i] { p_hit } else { p_false };
                if rng.next_u32() < threshold {
                    log_odds[i] += hit;
                    hits += 1;
                    false
                } else {
                    log_odds[i] += miss;
                    true
                }
            });
        });
        Ok(hits)
    }
}
