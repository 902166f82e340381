//! A voxel occupancy belief and a ray-cast range sensor: the observation model of the
//! inspection task of issue 4 (the orbital dynamics and the planning environment around it
//! are not here yet).
//!
//! # Grid
//!
//! A cube of `n x n x n` voxels of edge `voxel_size`, centred on the origin (the default:
//! 20 x 20 x 20 voxels of 1 m, spanning -10 m to +10 m on every axis). Voxel `(x, y, z)` has
//! the flat index `x + n (y + n z)`.
//!
//! # Traversal
//!
//! Rays are traversed with the algorithm of Amanatides and Woo, "A fast voxel traversal
//! algorithm for ray tracing", Eurographics 1987: after clipping the ray to the grid's box,
//! it steps from voxel to voxel across the nearest boundary, visiting exactly the voxels the
//! ray passes through, in order. Where the processor has AVX-512, [`VoxelGrid::cast_image`]
//! steps eight rays of an image row at once, with the same arithmetic and the same results.
//!
//! # Sensor model
//!
//! A camera at `position` looks at `target` with a square field of view (default 10 degrees)
//! sampled by `resolution x resolution` rays (default 64 x 64) through the pixel centres. Along
//! each ray every voxel is a Bernoulli trial: an occupied voxel returns a hit with probability
//! `hit_prob` (0.95), an empty one a false hit with probability `false_hit_prob` (0.001). The
//! ray stops at its first hit. The belief is updated with the matching inverse sensor model in
//! log-odds form (Thrun, Burgard and Fox, "Probabilistic Robotics", 2005, ch. 9): the voxel that
//! returned the hit gains `ln(hit_prob / false_hit_prob)`, every voxel passed through without a
//! hit gains `ln((1 - hit_prob) / (1 - false_hit_prob))`.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::MctsError;

/// A 3-vector in metres.
pub type Vec3 = [f64; 3];

fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn normalize(a: Vec3) -> Vec3 {
    let n = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
    [a[0] / n, a[1] / n, a[2] / n]
}

/// The cube of voxels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
    pub fn validate(&self) -> Result<(), MctsError> {
        if self.n == 0 || self.n > 1024 {
            return Err(MctsError::Config {
                field: "n",
                reason: format!("must be in 1..=1024, got {}", self.n),
            });
        }
        if !(self.voxel_size.is_finite() && self.voxel_size > 0.0) {
            return Err(MctsError::Config {
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

    /// Calls `visit(index)` for every voxel the ray `origin + t dir` (`t >= 0`) passes through,
    /// in order, until `visit` returns `false` or the ray leaves the grid (Amanatides-Woo).
    /// `dir` need not be normalised but must not be zero.
    pub fn traverse(&self, origin: Vec3, dir: Vec3, mut visit: impl FnMut(usize) -> bool) {
        let Some(ray) = self.ray_setup(origin, dir) else {
            return;
        };
        // Scalars rather than arrays in the loop keep everything in registers.
        let [mut tx, mut ty, mut tz] = ray.t;
        let [dx, dy, dz] = ray.dt;
        let [sx, sy, sz] = ray.stride;
        let [mut lx, mut ly, mut lz] = ray.left;
        let mut index = ray.index;
        loop {
            if !visit(index) {
                return;
            }
            if tx < ty && tx < tz {
                if lx == 0 {
                    return;
                }
                lx -= 1;
                index = index.wrapping_add_signed(sx);
                tx += dx;
            } else if ty < tz {
                if ly == 0 {
                    return;
                }
                ly -= 1;
                index = index.wrapping_add_signed(sy);
                ty += dy;
            } else {
                if lz == 0 {
                    return;
                }
                lz -= 1;
                index = index.wrapping_add_signed(sz);
                tz += dz;
            }
        }
    }
}

/// Camera geometry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    /// Full field of view (degrees), the same horizontally and vertically. Default 10.
    pub fov_deg: f64,
    /// Rays per image side. Default 64.
    pub resolution: usize,
}

impl Default for Camera {
    fn default() -> Self {
        Self {
            fov_deg: 10.0,
            resolution: 64,
        }
    }
}

impl Camera {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), MctsError> {
        if !(self.fov_deg > 0.0 && self.fov_deg < 180.0) {
            return Err(MctsError::Config {
                field: "fov_deg",
                reason: format!("must be in (0, 180), got {}", self.fov_deg),
            });
        }
        if self.resolution == 0 || self.resolution > 4096 {
            return Err(MctsError::Config {
                field: "resolution",
                reason: format!("must be in 1..=4096, got {}", self.resolution),
            });
        }
        Ok(())
    }

    /// Unit ray directions through the pixel centres, row by row, for a camera at `position`
    /// looking at `target` (which must differ from `position`).
    pub fn rays(&self, position: Vec3, target: Vec3) -> Vec<Vec3> {
        let mut out = Vec::with_capacity(self.resolution * self.resolution);
        self.for_each_ray(position, target, |d| out.push(normalize(d)));
        out
    }

    /// Calls `f` with each ray direction of [`Camera::rays`], in the same order, without
    /// collecting them. The directions are not normalised (the traversal does not need it):
    /// `forward + u right + v up` for the pixel's image-plane offsets `u`, `v`.
    pub fn for_each_ray(&self, position: Vec3, target: Vec3, mut f: impl FnMut(Vec3)) {
        let view = self.view(position, target);
        let r = self.resolution;
        for j in 0..r {
            let row = view.row(self.offset(view.half, j));
            for i in 0..r {
                f(view.ray(row, self.offset(view.half, i)));
            }
        }
    }

    /// The image axes of the camera at `position` looking at `target`.
    fn view(&self, position: Vec3, target: Vec3) -> View {
        let forward = normalize(sub(target, position));
        // Any vector not parallel to `forward` gives the image axes.
        let helper = if forward[2].abs() < 0.9 {
            [0.0, 0.0, 1.0]
        } else {
            [1.0, 0.0, 0.0]
        };
        let right = normalize(cross(forward, helper));
        let up = cross(right, forward);
        let half = (self.fov_deg.to_radians() / 2.0).tan();
        View {
            forward,
            right,
            up,
            half,
        }
    }

    /// Image-plane offset of the centre of pixel `k` (a row or a column), for the half-width
    /// `half = tan(fov / 2)` of the image plane at unit distance.
    #[inline]
    fn offset(&self, half: f64, k: usize) -> f64 {
        half * (2.0 * (k as f64 + 0.5) / self.resolution as f64 - 1.0)
    }
}

/// The axes of a camera's image: the ray through the image-plane point `(u, v)` is
/// `forward + u right + v up` (a pinhole camera's rays form an affine grid, so no
/// trigonometry per ray).
#[derive(Debug, Clone, Copy)]
struct View {
    /// Unit vector from the camera to its target.
    forward: Vec3,
    /// Unit vector along the image rows.
    right: Vec3,
    /// Unit vector along the image columns.
    up: Vec3,
    /// `tan(fov / 2)`: the half-width of the image plane at unit distance.
    half: f64,
}

impl View {
    /// Whether every axis is finite (false for a camera on its target or at non-finite
    /// coordinates).
    fn is_finite(&self) -> bool {
        self.forward
            .iter()
            .chain(&self.right)
            .chain(&self.up)
            .chain(std::iter::once(&self.half))
            .all(|x| x.is_finite())
    }

    /// `forward + v up`: the part of a ray direction shared by the image row at offset `v`.
    #[inline]
    fn row(&self, v: f64) -> Vec3 {
        let (f, up) = (self.forward, self.up);
        [f[0] + v * up[0], f[1] + v * up[1], f[2] + v * up[2]]
    }

    /// The direction of the ray at offset `u` on the image row `row` ([`View::row`]).
    #[inline]
    fn ray(&self, row: Vec3, u: f64) -> Vec3 {
        let right = self.right;
        [
            row[0] + u * right[0],
            row[1] + u * right[1],
            row[2] + u * right[2],
        ]
    }
}

/// Hit probabilities of the range sensor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
    pub fn validate(&self) -> Result<(), MctsError> {
        if !(0.0 < self.false_hit_prob
            && self.false_hit_prob < self.hit_prob
            && self.hit_prob < 1.0)
        {
            return Err(MctsError::Config {
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
    pub fn new(grid: VoxelGrid) -> Result<Self, MctsError> {
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
    /// [`MctsError::Config`] when `truth` does not have one entry per voxel, the camera or
    /// the grid is invalid, or `position` and `target` are not finite and distinct.
    pub fn observe<R: Rng + ?Sized>(
        &mut self,
        truth: &[bool],
        camera: &Camera,
        sensor: &SensorModel,
        position: Vec3,
        target: Vec3,
        rng: &mut R,
    ) -> Result<usize, MctsError> {
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
    ) -> Result<usize, MctsError> {
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

/// Checks the inputs of one image: valid grid and camera, one truth and one log-odds entry per
/// voxel, a finite camera position distinct from its target. Returns the camera's axes.
fn check_image(
    grid: &VoxelGrid,
    camera: &Camera,
    position: Vec3,
    target: Vec3,
    truth: &[bool],
    log_odds: &[f32],
) -> Result<View, MctsError> {
    grid.validate()?;
    camera.validate()?;
    for (field, len) in [("truth", truth.len()), ("log_odds", log_odds.len())] {
        if len != grid.len() {
            return Err(MctsError::Config {
                field,
                reason: format!("must have one entry per voxel ({}), got {len}", grid.len()),
            });
        }
    }
    let view = camera.view(position, target);
    if !(position.iter().all(|x| x.is_finite()) && view.is_finite()) {
        return Err(MctsError::Config {
            field: "position",
            reason: format!(
                "the camera at {position:?} must be finite and distinct from its target \
                 {target:?}"
            ),
        });
    }
    Ok(view)
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
    p_hit: u32,
    /// `ln(1 - false_hit_prob)` (negative).
    ln_keep: f64,
    /// 64-bit threshold below which (inclusive) no ray of the grid gets a false hit.
    never: u64,
    /// Log-odds increment of a hit.
    hit: f32,
    /// Log-odds increment of a pass-through (negative).
    miss: f32,
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
    fn empty_run<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
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

impl VoxelGrid {
    /// Casts one ray of the range sensor from `origin` along `dir` (not zero, not necessarily
    /// normalised) through the hidden `truth`, updating `log_odds`; returns the voxel that
    /// returned a hit, if any.
    ///
    /// Visits the same voxels, in the same order, as [`VoxelGrid::traverse`] (same clipping
    /// and boundary arithmetic, same tie-breaking). Every voxel passed without a hit gains the
    /// miss log-odds; an occupied voxel returns a hit with `hit_prob` (one 32-bit draw), an
    /// empty one a false hit at the position drawn by [`SensorDraws`]'s geometric skip-ahead.
    /// [`VoxelGrid::cast_image`] casts a whole image the same way, faster.
    ///
    /// # Panics
    ///
    /// When `truth` or `log_odds` has fewer entries than the grid has voxels
    /// ([`VoxelGrid::cast_image`] checks its inputs instead).
    pub fn cast_ray<R: Rng + ?Sized>(
        &self,
        origin: Vec3,
        dir: Vec3,
        truth: &[bool],
        log_odds: &mut [f32],
        draws: &SensorDraws,
        rng: &mut R,
    ) -> Option<usize> {
        let mut ray = self.ray_setup(origin, dir)?;
        ray.skip = draws.empty_run(rng);
        march(ray, truth, log_odds, draws, rng)
    }

    /// Takes one image with `camera` from `position` looking at `target` through the hidden
    /// `truth`, updating `log_odds`; returns the number of rays that returned a hit.
    ///
    /// The result, the updated `log_odds` and the random draws taken from `rng` are
    /// bit-identical to [`Camera::for_each_ray`] with [`VoxelGrid::cast_ray`] per ray: the
    /// same ray directions, the same floating-point operations in the ray set-up, the same
    /// draws in the same order. It is faster because the work that depends only on the camera
    /// is done once per image (the image axes, the pixel offsets, the distances from the
    /// camera to the grid's planes), and because the set-up of a whole image row (reciprocal
    /// directions, clipping to the grid, entry voxel) runs before the row's rays are marched,
    /// as a loop without branches over structure-of-arrays buffers that the compiler
    /// vectorises (`RowScratch`): the processor overlaps the long-latency divisions of many
    /// rays instead of waiting for each ray's set-up after the mispredicted branches of the
    /// previous ray's traversal.
    ///
    /// Where the processor has AVX-512F and AVX-512DQ (x86-64, detected at run time), the
    /// rays of a row are then marched in groups of eight, in two phases (module `avx512`). The
    /// geometry phase sets up the eight rays and steps them at once, one per lane of 512-bit
    /// registers, choosing each ray's axis with masks instead of branches, and records the
    /// voxels each passes up to its first occupied voxel or the grid's end; it draws nothing
    /// and writes no log-odds. The sensor phase then goes through the rays in order and
    /// applies to the recorded voxels the draws and log-odds additions of the one-ray march,
    /// in the same order (a ray that passes an occupied voxel without a hit goes on past the
    /// recorded voxels with the one-ray march). Marching one ray at a time is limited by the
    /// mispredicted branches of the axis choice, about 3 ns per voxel, and branch-free
    /// stepping of one ray by the latency of its chain of dependent steps; eight rays in
    /// lanes overlap eight chains without branches. Elsewhere the rays are marched one by one.
    ///
    /// Measured on a 2-core Intel Xeon (Ice Lake) VM, for one 64 x 64 image of the `mcts`
    /// benchmark's box (`raycast_ms`: CPU time per image over 300 images, best of 7
    /// repetitions, in a copy of the benchmark's loop), medians of 7 runs alternating the
    /// builds: 0.251 ms marching one ray at a time (range 0.244 to 0.268 ms), 0.177 ms in
    /// groups of eight (range 0.176 to 0.182 ms), 30% less.
    ///
    /// # Errors
    ///
    /// [`MctsError::Config`] when the grid or the camera is invalid, `truth` or `log_odds`
    /// does not have one entry per voxel, or `position` and `target` are not finite and
    /// distinct.
    #[allow(clippy::too_many_arguments)]
    pub fn cast_image<R: Rng + ?Sized>(
        &self,
        camera: &Camera,
        position: Vec3,
        target: Vec3,
        truth: &[bool],
        log_odds: &mut [f32],
        draws: &SensorDraws,
        rng: &mut R,
    ) -> Result<usize, MctsError> {
        self.cast_image_with(camera, position, target, truth, log_odds, draws, rng, true)
    }

    /// [`VoxelGrid::cast_image`], marching the rays in groups of eight (`avx512`) when
    /// `lanes` is set and the processor has AVX-512F and AVX-512DQ, else one by one
    /// ([`march`]). Both give the same results, bit for bit.
    #[allow(clippy::too_many_arguments)]
    fn cast_image_with<R: Rng + ?Sized>(
        &self,
        camera: &Camera,
        position: Vec3,
        target: Vec3,
        truth: &[bool],
        log_odds: &mut [f32],
        draws: &SensorDraws,
        rng: &mut R,
        lanes: bool,
    ) -> Result<usize, MctsError> {
        let view = check_image(self, camera, position, target, truth, log_odds)?;
        let frame = RayFrame::new(self, position);
        let r = camera.resolution;
        let offsets: Vec<f64> = (0..r).map(|k| camera.offset(view.half, k)).collect();
        let mut scratch = RowScratch::new(r);
        let mut rays = Vec::with_capacity(r);
        #[cfg(target_arch = "x86_64")]
        let mut lanes = (lanes && avx512::available()).then(|| avx512::Lanes::new(self));
        #[cfg(not(target_arch = "x86_64"))]
        let _ = lanes;
        let mut hits = 0;
        for &v in &offsets {
            let row = view.row(v);
            rays.clear();
            match frame.inv_size {
                Some(inv_size) => {
                    scratch.clip(&frame, self, &view, row, &offsets, |x| x * inv_size);
                }
                None => {
                    let s = self.voxel_size;
                    scratch.clip(&frame, self, &view, row, &offsets, |x| x / s);
                }
            }
            #[cfg(target_arch = "x86_64")]
            if let Some(lanes) = &mut lanes {
                // SAFETY: `lanes` exists only where the processor has the instructions.
                hits += unsafe {
                    avx512::cast_row(&frame, self, &scratch, lanes, truth, log_odds, draws, rng)
                };
                continue;
            }
            scratch.finish(&frame, self, &mut rays);
            for &ray in &rays {
                let ray = RayState {
                    skip: draws.empty_run(rng),
                    ..ray
                };
                hits += usize::from(march(ray, truth, log_odds, draws, rng).is_some());
            }
        }
        Ok(hits)
    }

    /// Clips the ray `origin + t dir` (`t >= 0`) to the grid's box and sets up its
    /// Amanatides-Woo traversal: the entry voxel and, per axis, the stride, the steps left and
    /// the ray parameters of the boundaries (`None` when the ray misses the grid). Shared by
    /// [`VoxelGrid::traverse`] and [`VoxelGrid::cast_ray`], so that both visit the same voxels.
    #[inline]
    fn ray_setup(&self, origin: Vec3, dir: Vec3) -> Option<RayState> {
        RayFrame::new(self, origin).setup(self, dir)
    }
}

/// Marches the prepared `ray` through `truth` with the fast sensor ([`VoxelGrid::cast_ray`]),
/// updating `log_odds`; returns the voxel that returned a hit, if any.
#[inline]
fn march<R: Rng + ?Sized>(
    ray: RayState,
    truth: &[bool],
    log_odds: &mut [f32],
    draws: &SensorDraws,
    rng: &mut R,
) -> Option<usize> {
    // Scalars rather than arrays in the loop keep everything in registers.
    let [mut tx, mut ty, mut tz] = ray.t;
    let [dx, dy, dz] = ray.dt;
    let [sx, sy, sz] = ray.stride;
    let [mut lx, mut ly, mut lz] = ray.left;
    let (mut index, mut skip) = (ray.index, ray.skip);
    loop {
        if truth[index] {
            if rng.next_u32() < draws.p_hit {
                log_odds[index] += draws.hit;
                return Some(index);
            }
        } else if skip == 0 {
            log_odds[index] += draws.hit;
            return Some(index);
        } else {
            skip -= 1;
        }
        log_odds[index] += draws.miss;
        if tx < ty && tx < tz {
            if lx == 0 {
                return None;
            }
            lx -= 1;
            index = index.wrapping_add_signed(sx);
            tx += dx;
        } else if ty < tz {
            if ly == 0 {
                return None;
            }
            ly -= 1;
            index = index.wrapping_add_signed(sy);
            ty += dy;
        } else {
            if lz == 0 {
                return None;
            }
            lz -= 1;
            index = index.wrapping_add_signed(sz);
            tz += dz;
        }
    }
}

/// Takes one step of `ray` from its current voxel, as [`march`] does after a voxel passed
/// without a hit; `false` when the ray leaves the grid.
#[cfg(target_arch = "x86_64")]
fn step(ray: &mut RayState) -> bool {
    let [tx, ty, tz] = ray.t;
    let a = if tx < ty && tx < tz {
        0
    } else if ty < tz {
        1
    } else {
        2
    };
    if ray.left[a] == 0 {
        return false;
    }
    ray.left[a] -= 1;
    ray.index = ray.index.wrapping_add_signed(ray.stride[a]);
    ray.t[a] += ray.dt[a];
    true
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    //! [`VoxelGrid::cast_image`](super::VoxelGrid::cast_image) with AVX-512: the rays of an
    //! image row in groups of eight, each group in two phases.
    //!
    //! The geometry phase ([`traverse`]) sets up the group's rays from the row's clipping
    //! (`RowScratch::clip`) with the operations of `RowScratch::finish`, then steps them voxel
    //! by voxel, one ray per lane of 512-bit registers, choosing the axis with masks instead
    //! of branches: the processor overlaps the eight chains of dependent steps, and no
    //! mispredicted branch of the axis choice stalls it. It records the voxels each ray
    //! passes until every ray has reached an occupied voxel or left the grid; it draws nothing
    //! and writes no log-odds. The sensor phase ([`sense`]) then applies the sensor ray by
    //! ray, in the rays' order, to the recorded voxels: the same draws and log-odds additions
    //! as `march`, in the same order, so the results are bit-identical to
    //! `RowScratch::finish` and `march` per ray. A ray that passes an occupied voxel without
    //! a hit goes on past its recorded voxels with `march`.

    use super::{RayFrame, RayState, RowScratch, SensorDraws, VoxelGrid, march, step};
    use rand::Rng;
    use std::arch::x86_64::*;

    /// Rays per group: one 512-bit register of `f64`.
    const LANES: usize = 8;

    /// Whether the processor has the instructions of this module.
    pub(super) fn available() -> bool {
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512dq")
    }

    /// The results of the geometry phase of one group of rays.
    pub(super) struct Lanes {
        /// The voxels passed: voxel `j` of lane `l` at `j * LANES + l`.
        path: Vec<u32>,
        /// Number of voxels recorded per lane.
        len: [i64; LANES],
        /// Per lane, the number of recorded voxels up to and including the first occupied
        /// one (0: none).
        occupied: [i64; LANES],
        /// Per axis and lane, the ray parameter of the next boundary, at the lane's last
        /// recorded voxel (this and the next fields: `RayState`'s, exact for the lanes that
        /// have not left the grid).
        t: [[f64; LANES]; 3],
        /// Per axis and lane, the increment of `t` per voxel.
        dt: [[f64; LANES]; 3],
        /// Per axis and lane, the flat-index stride of one step.
        stride: [[i64; LANES]; 3],
        /// Per axis and lane, the steps left before the grid's end.
        left: [[i64; LANES]; 3],
        /// Per lane, the flat index of the last recorded voxel.
        index: [i64; LANES],
    }

    impl Lanes {
        /// Buffers for rays through `grid` (no ray passes more than `3 n - 2` voxels).
        pub(super) fn new(grid: &VoxelGrid) -> Self {
            Self {
                path: vec![0; 3 * grid.n * LANES],
                len: [0; LANES],
                occupied: [0; LANES],
                t: [[0.0; LANES]; 3],
                dt: [[0.0; LANES]; 3],
                stride: [[0; LANES]; 3],
                left: [[0; LANES]; 3],
                index: [0; LANES],
            }
        }
    }

    /// Casts the rays of one image row (after [`RowScratch::clip`]) as `RowScratch::finish`
    /// and `march` per ray would, bit for bit: returns the number of hits.
    ///
    /// # Safety
    ///
    /// The processor must have AVX-512F and AVX-512DQ ([`available`]).
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) fn cast_row<R: Rng + ?Sized>(
        frame: &RayFrame,
        grid: &VoxelGrid,
        row: &RowScratch,
        lanes: &mut Lanes,
        truth: &[bool],
        log_odds: &mut [f32],
        draws: &SensorDraws,
        rng: &mut R,
    ) -> usize {
        let r = row.t0.len();
        let mut hits = 0;
        for first in (0..r).step_by(LANES) {
            let pixels = first..r.min(first + LANES);
            let tiny = pixels
                .clone()
                .any(|i| (0..3).any(|a| row.dir[a][i].abs() < f64::MIN_POSITIVE));
            if tiny {
                // A ray parallel to a plane (rare): the group ray by ray, set up as by
                // `RowScratch::finish` (`RayFrame::setup` gives the same states).
                for i in pixels {
                    let dir = [row.dir[0][i], row.dir[1][i], row.dir[2][i]];
                    if let Some(ray) = frame.setup(grid, dir) {
                        let ray = RayState {
                            skip: draws.empty_run(rng),
                            ..ray
                        };
                        hits += usize::from(march(ray, truth, log_odds, draws, rng).is_some());
                    }
                }
                continue;
            }
            let (entering, exited) = traverse(frame, grid, row, pixels.clone(), lanes, truth);
            for l in 0..pixels.len() {
                if entering & (1 << l) != 0 {
                    let skip = draws.empty_run(rng);
                    let exited = exited & (1 << l) != 0;
                    hits += usize::from(sense(lanes, l, exited, skip, truth, log_odds, draws, rng));
                }
            }
        }
        hits
    }

    /// Loads `x[pixels]` (at most eight), zeros in the unused lanes.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load(x: &[f64], pixels: std::ops::Range<usize>) -> __m512d {
        if let Ok(x) = <&[f64; LANES]>::try_from(&x[pixels.clone()]) {
            // SAFETY: reads an eight-element array.
            return unsafe { _mm512_loadu_pd(x.as_ptr()) };
        }
        let mut a = [0.0; LANES];
        a[..pixels.len()].copy_from_slice(&x[pixels]);
        // SAFETY: reads an eight-element array.
        unsafe { _mm512_loadu_pd(a.as_ptr()) }
    }

    /// The geometry phase of the clipped rays `pixels` (at most eight, none with a zero or
    /// subnormal component) of `row`: sets them up with the operations of
    /// `RowScratch::finish`, then steps them, recording the voxels they pass in `lanes`,
    /// until each has reached an occupied voxel of `truth` or left the grid. Returns the
    /// lanes whose rays enter the grid and those that have left it.
    #[target_feature(enable = "avx512f,avx512dq")]
    fn traverse(
        frame: &RayFrame,
        grid: &VoxelGrid,
        row: &RowScratch,
        pixels: std::ops::Range<usize>,
        lanes: &mut Lanes,
        truth: &[bool],
    ) -> (__mmask8, __mmask8) {
        // No NaN (finite, non-zero reciprocals): `!(t0 < t1)` is `t0 >= t1`. Unused lanes
        // (zeros) do not enter.
        let entering = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(
            load(&row.t0, pixels.clone()),
            load(&row.t1, pixels.clone()),
        );
        let (n, s, h) = (grid.n as i64, grid.voxel_size, grid.half_extent());
        let strides = [1, n, n * n];
        let one = _mm512_set1_epi64(1);
        let zero = _mm512_setzero_si512();
        let mut index = zero;
        let (mut t, mut dt, mut stride, mut left) = (
            [_mm512_setzero_pd(); 3],
            [_mm512_setzero_pd(); 3],
            [zero; 3],
            [zero; 3],
        );
        for a in 0..3 {
            // The entry voxel's coordinate: `cell` is in `[0, n - 1]`, so the truncation
            // is `as i64`'s.
            let v = _mm512_cvttpd_epi64(load(&row.cell[a], pixels.clone()));
            let inv = load(&row.inv[a], pixels.clone());
            let up = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(
                load(&row.dir[a], pixels.clone()),
                _mm512_setzero_pd(),
            );
            index = _mm512_add_epi64(index, _mm512_mullo_epi64(v, _mm512_set1_epi64(strides[a])));
            stride[a] = _mm512_mask_blend_epi64(
                up,
                _mm512_set1_epi64(-strides[a]),
                _mm512_set1_epi64(strides[a]),
            );
            left[a] = _mm512_mask_sub_epi64(v, up, _mm512_set1_epi64(n - 1), v);
            // `((v + up) as f64 * s - h - origin) * inv`, operation by operation.
            let next = _mm512_cvtepi64_pd(_mm512_mask_add_epi64(v, up, v, one));
            t[a] = _mm512_mul_pd(
                _mm512_sub_pd(
                    _mm512_sub_pd(_mm512_mul_pd(next, _mm512_set1_pd(s)), _mm512_set1_pd(h)),
                    _mm512_set1_pd(frame.origin[a]),
                ),
                inv,
            );
            dt[a] = _mm512_mul_pd(
                _mm512_mask_blend_pd(up, _mm512_set1_pd(-s), _mm512_set1_pd(s)),
                inv,
            );
        }
        let [sx, sy, sz] = stride;
        let mut len = zero;
        let mut first_occupied = zero;
        let mut moving = entering;
        let mut pending = entering;
        // At most `3 n - 2` voxels per ray: the loop always ends at the `break`.
        for chunk in lanes.path.chunks_exact_mut(LANES) {
            let chunk: &mut [u32; LANES] = chunk.try_into().expect("eight lanes");
            // 32-bit indices in a 256-bit store: the loads below get them from the store
            // buffer (from the upper half of a 512-bit store they wait for the cache: the
            // image took about 10% longer).
            // SAFETY: writes eight u32 into an eight-element array.
            unsafe { _mm256_storeu_si256(chunk.as_mut_ptr().cast(), _mm512_cvtepi64_epi32(index)) };
            len = _mm512_mask_add_epi64(len, moving, len, one);
            // Read back from memory (volatile: not extracted from the register, which would
            // take the vector operations' execution ports).
            let mut occupied = 0u8;
            for (j, i) in chunk.iter().enumerate() {
                // SAFETY: a valid, initialised `u32`.
                let i = unsafe { std::ptr::read_volatile(i) };
                occupied |= u8::from(truth[i as usize]) << j;
            }
            let [tx, ty, tz] = t;
            // `tx < ty && tx < tz` picks x, else `ty < tz` picks y, else z; with no NaN
            // (`RayState`), y is `ty < tz && ty <= tx` and z is `tz <= ty && tz <= tx`:
            // masked comparisons, no mask arithmetic on the chain of dependent steps.
            let x = _mm512_mask_cmp_pd_mask::<_CMP_LT_OQ>(
                _mm512_cmp_pd_mask::<_CMP_LT_OQ>(tx, ty),
                tx,
                tz,
            );
            let y = _mm512_mask_cmp_pd_mask::<_CMP_LE_OQ>(
                _mm512_cmp_pd_mask::<_CMP_LT_OQ>(ty, tz),
                ty,
                tx,
            );
            let z = _mm512_mask_cmp_pd_mask::<_CMP_LE_OQ>(
                _mm512_cmp_pd_mask::<_CMP_LE_OQ>(tz, ty),
                tz,
                tx,
            );
            let [lx, ly, lz] = left;
            let chosen = _mm512_mask_blend_epi64(x, _mm512_mask_blend_epi64(y, lz, ly), lx);
            first_occupied = _mm512_mask_mov_epi64(first_occupied, pending & occupied, len);
            moving &= !_mm512_testn_epi64_mask(chosen, chosen);
            pending &= moving & !occupied;
            if pending == 0 {
                break;
            }
            // The boundaries and the steps left move on in every lane (those of a ray that
            // has left the grid are never used again), so that only the index waits for the
            // test of the grid's end.
            for (a, m) in [x, y, z].into_iter().enumerate() {
                t[a] = _mm512_mask_add_pd(t[a], m, t[a], dt[a]);
                left[a] = _mm512_mask_sub_epi64(left[a], m, left[a], one);
            }
            let stride = _mm512_mask_blend_epi64(x, _mm512_mask_blend_epi64(y, sz, sy), sx);
            index = _mm512_mask_add_epi64(index, moving, index, stride);
        }
        // The states at the last recorded voxels (those of the lanes still moving are
        // exact: each of their steps moved them).
        // SAFETY (all stores): eight-element arrays.
        unsafe {
            _mm512_storeu_si512(lanes.len.as_mut_ptr().cast(), len);
            _mm512_storeu_si512(lanes.occupied.as_mut_ptr().cast(), first_occupied);
            _mm512_storeu_si512(lanes.index.as_mut_ptr().cast(), index);
            for a in 0..3 {
                _mm512_storeu_pd(lanes.t[a].as_mut_ptr(), t[a]);
                _mm512_storeu_pd(lanes.dt[a].as_mut_ptr(), dt[a]);
                _mm512_storeu_si512(lanes.stride[a].as_mut_ptr().cast(), stride[a]);
                _mm512_storeu_si512(lanes.left[a].as_mut_ptr().cast(), left[a]);
            }
        }
        (entering, entering & !moving)
    }

    /// The sensor phase of lane `l` (after [`traverse`]), whose false hit comes at its
    /// `skip`-th empty voxel, and which has `exited` the grid or not: the draws and log-odds
    /// additions of `march` along the same voxels, in the same order. Returns whether the
    /// ray returned a hit.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq")]
    fn sense<R: Rng + ?Sized>(
        lanes: &Lanes,
        l: usize,
        exited: bool,
        mut skip: usize,
        truth: &[bool],
        log_odds: &mut [f32],
        draws: &SensorDraws,
        rng: &mut R,
    ) -> bool {
        assert!(l < LANES);
        let len = lanes.len[l] as usize;
        let occupied = lanes.occupied[l] as usize;
        let path = &lanes.path[..len * LANES];
        // The voxels before the first occupied one are empty: misses up to the false hit.
        let empty = if occupied > 0 { occupied - 1 } else { len };
        if skip < empty {
            for chunk in path[..skip * LANES].chunks_exact(LANES) {
                log_odds[chunk[l] as usize] += draws.miss;
            }
            log_odds[path[skip * LANES + l] as usize] += draws.hit;
            return true;
        }
        for chunk in path[..empty * LANES].chunks_exact(LANES) {
            log_odds[chunk[l] as usize] += draws.miss;
        }
        skip -= empty;
        // Then the occupied voxel, if any, and those recorded after it, as `march` does.
        for chunk in path[empty * LANES..].chunks_exact(LANES) {
            let index = chunk[l] as usize;
            if truth[index] {
                if rng.next_u32() < draws.p_hit {
                    log_odds[index] += draws.hit;
                    return true;
                }
            } else if skip == 0 {
                log_odds[index] += draws.hit;
                return true;
            } else {
                skip -= 1;
            }
            log_odds[index] += draws.miss;
        }
        if exited {
            return false;
        }
        // The ray goes on past its recorded voxels: one step from its state at the last.
        let mut ray = RayState {
            index: lanes.index[l] as usize,
            t: lanes.t.map(|x| x[l]),
            dt: lanes.dt.map(|x| x[l]),
            stride: lanes.stride.map(|x| x[l] as isize),
            left: lanes.left.map(|x| x[l] as usize),
            skip,
        };
        step(&mut ray) && march(ray, truth, log_odds, draws, rng).is_some()
    }
}

/// The ray set-up's constants for rays from one origin ([`VoxelGrid::ray_setup`] makes one
/// per ray, [`VoxelGrid::cast_image`] one per image).
struct RayFrame {
    /// The rays' common origin.
    origin: Vec3,
    /// `-h - origin[a]` per axis (`h`: the grid's half extent).
    lo: Vec3,
    /// `h - origin[a]` per axis.
    hi: Vec3,
    /// Whether the origin lies outside the grid's slab on each axis (a ray parallel to that
    /// axis misses the grid).
    outside: [bool; 3],
    /// `1 / s` when the voxel size `s` is a power of two, so that `x * (1 / s) == x / s`
    /// exactly; `None` otherwise (divide).
    inv_size: Option<f64>,
}

impl RayFrame {
    /// The frame of rays from `origin` through `grid`.
    fn new(grid: &VoxelGrid, origin: Vec3) -> Self {
        let (h, s) = (grid.half_extent(), grid.voxel_size);
        // A power of two has a zero mantissa; its reciprocal (normal, too) is exact.
        let mantissa = (1u64 << 52) - 1;
        let inv = 1.0 / s;
        let exact = |x: f64| x.is_normal() && x.to_bits() & mantissa == 0;
        Self {
            origin,
            lo: origin.map(|o| -h - o),
            hi: origin.map(|o| h - o),
            outside: origin.map(|o| o < -h || o > h),
            inv_size: (exact(s) && exact(inv)).then_some(inv),
        }
    }

    /// Clips the ray from the frame's origin along `dir` to `grid`'s box (the grid the frame
    /// was made for) and sets up its Amanatides-Woo traversal ([`VoxelGrid::ray_setup`]).
    ///
    /// An axis along which `dir` is zero or subnormal counts as parallel: the ray never
    /// crosses that axis' planes (over any distance the grid allows it moves less than
    /// `1e-290` m along it), and no reciprocal is infinite, so no `t` is NaN.
    #[inline(always)]
    fn setup(&self, grid: &VoxelGrid, dir: Vec3) -> Option<RayState> {
        let parallel = dir.map(|d| d.abs() < f64::MIN_POSITIVE);
        // Divisions once per ray.
        let inv = [1.0 / dir[0], 1.0 / dir[1], 1.0 / dir[2]];
        let (mut t0, mut t1) = (0.0f64, f64::INFINITY);
        for a in 0..3 {
            if parallel[a] {
                if self.outside[a] {
                    return None;
                }
            } else {
                // Finite operands, no NaN: comparisons are min and max.
                let ta = self.lo[a] * inv[a];
                let tb = self.hi[a] * inv[a];
                // Selects, not branches: which plane the ray enters and leaves by varies
                // unpredictably from ray to ray.
                let (near, far) = if ta < tb { (ta, tb) } else { (tb, ta) };
                t0 = if near > t0 { near } else { t0 };
                t1 = if far < t1 { far } else { t1 };
            }
        }
        if t0 >= t1 {
            return None;
        }
        let (n, s, h) = (grid.n, grid.voxel_size, grid.half_extent());
        // Voxel coordinates as i64: cheaper conversions from and to f64 than usize.
        let last = (n - 1) as i64;
        let last_f = last as f64;
        let strides = [1, n as isize, (n * n) as isize];
        let mut ray = RayState::default();
        let mut index = 0;
        for a in 0..3 {
            let p = self.origin[a] + dir[a] * t0;
            let c = match self.inv_size {
                Some(inv_size) => (p + h) * inv_size,
                None => (p + h) / s,
            };
            // Clamped to the grid (NaN to 0), then truncated: the floor, since `c >= 0`.
            let c = if c > 0.0 { c } else { 0.0 };
            let v = if c < last_f { c } else { last_f } as i64;
            index += v as isize * strides[a];
            if parallel[a] {
                continue;
            }
            if dir[a] > 0.0 {
                ray.stride[a] = strides[a];
                ray.left[a] = (last - v) as usize;
                ray.t[a] = ((v + 1) as f64 * s - h - self.origin[a]) * inv[a];
                ray.dt[a] = s * inv[a];
            } else {
                ray.stride[a] = -strides[a];
                ray.left[a] = v as usize;
                ray.t[a] = (v as f64 * s - h - self.origin[a]) * inv[a];
                ray.dt[a] = -s * inv[a];
            }
        }
        ray.index = index as usize;
        Some(ray)
    }
}

/// The set-up of one image row of [`VoxelGrid::cast_image`] in two stages, with the same
/// operations on the same values as [`RayFrame::setup`] (so bit-identical states).
///
/// [`RowScratch::clip`] computes, for every ray of the row, the direction, the reciprocals,
/// the clipping interval and the entry voxel's coordinates as floating-point numbers: one
/// loop without branches over structure-of-arrays buffers, which the compiler vectorises
/// (two rays per instruction, divisions included). [`RowScratch::finish`] turns them into
/// traversal states, ray by ray.
struct RowScratch {
    /// Ray directions, per axis.
    dir: [Vec<f64>; 3],
    /// Their reciprocals, per axis.
    inv: [Vec<f64>; 3],
    /// Ray parameter where the ray enters the grid.
    t0: Vec<f64>,
    /// Ray parameter where it leaves.
    t1: Vec<f64>,
    /// The entry voxel's coordinates, clamped to `[0, n - 1]`, before truncation.
    cell: [Vec<f64>; 3],
}

impl RowScratch {
    /// Buffers for rows of `r` rays.
    fn new(r: usize) -> Self {
        let buf = || vec![0.0; r];
        Self {
            dir: [buf(), buf(), buf()],
            inv: [buf(), buf(), buf()],
            t0: buf(),
            t1: buf(),
            cell: [buf(), buf(), buf()],
        }
    }

    /// The first stage for the rays `view.ray(row, u)`, `u` in `offsets`; `scale(x)` is
    /// `x / s` for the voxel size `s` (or the exact `x * (1 / s)`). For a direction with a
    /// zero or subnormal component the results are meaningless ([`RowScratch::finish`] sets
    /// those rays up with [`RayFrame::setup`]).
    #[inline(always)]
    fn clip(
        &mut self,
        frame: &RayFrame,
        grid: &VoxelGrid,
        view: &View,
        row: Vec3,
        offsets: &[f64],
        scale: impl Fn(f64) -> f64,
    ) {
        let r = offsets.len();
        let h = grid.half_extent();
        let last_f = (grid.n - 1) as f64;
        let [dx, dy, dz] = &mut self.dir;
        let [ix, iy, iz] = &mut self.inv;
        let [cx, cy, cz] = &mut self.cell;
        let (dx, dy, dz) = (&mut dx[..r], &mut dy[..r], &mut dz[..r]);
        let (ix, iy, iz) = (&mut ix[..r], &mut iy[..r], &mut iz[..r]);
        let (cx, cy, cz) = (&mut cx[..r], &mut cy[..r], &mut cz[..r]);
        let (t0s, t1s) = (&mut self.t0[..r], &mut self.t1[..r]);
        for i in 0..r {
            let d = view.ray(row, offsets[i]);
            let inv = [1.0 / d[0], 1.0 / d[1], 1.0 / d[2]];
            let (mut t0, mut t1) = (0.0f64, f64::INFINITY);
            for a in 0..3 {
                // With `lo < hi`, `lo / d <= hi / d` exactly when `d > 0`: the ordered pair
                // of `ta`, `tb` in `RayFrame::setup`.
                let positive = d[a] > 0.0;
                let near = if positive { frame.lo[a] } else { frame.hi[a] } * inv[a];
                let far = if positive { frame.hi[a] } else { frame.lo[a] } * inv[a];
                t0 = if near > t0 { near } else { t0 };
                t1 = if far < t1 { far } else { t1 };
            }
            let cell = |a: usize| {
                let c = scale(frame.origin[a] + d[a] * t0 + h);
                let c = if c > 0.0 { c } else { 0.0 };
                if c < last_f { c } else { last_f }
            };
            (dx[i], dy[i], dz[i]) = (d[0], d[1], d[2]);
            (ix[i], iy[i], iz[i]) = (inv[0], inv[1], inv[2]);
            (cx[i], cy[i], cz[i]) = (cell(0), cell(1), cell(2));
            (t0s[i], t1s[i]) = (t0, t1);
        }
    }

    /// The second stage: appends the traversal states of the rays (of the last
    /// [`RowScratch::clip`]) that enter the grid to `rays`, in order.
    #[inline(always)]
    fn finish(&self, frame: &RayFrame, grid: &VoxelGrid, rays: &mut Vec<RayState>) {
        let (n, s, h) = (grid.n, grid.voxel_size, grid.half_extent());
        let last = (n - 1) as i64;
        let strides = [1, n as isize, (n * n) as isize];
        for i in 0..self.t0.len() {
            let dir = [self.dir[0][i], self.dir[1][i], self.dir[2][i]];
            if dir.iter().any(|d| d.abs() < f64::MIN_POSITIVE) {
                rays.extend(frame.setup(grid, dir));
                continue;
            }
            // No NaN here (finite, non-zero reciprocals): `!(t0 < t1)` is `t0 >= t1`.
            if self.t0[i] >= self.t1[i] {
                continue;
            }
            let axis = |a: usize| {
                let v = self.cell[a][i] as i64;
                let inv = self.inv[a][i];
                let up = dir[a] > 0.0;
                (
                    v as isize * strides[a],
                    if up { strides[a] } else { -strides[a] },
                    if up { last - v } else { v } as usize,
                    ((v + i64::from(up)) as f64 * s - h - frame.origin[a]) * inv,
                    if up { s } else { -s } * inv,
                )
            };
            let (x, y, z) = (axis(0), axis(1), axis(2));
            rays.push(RayState {
                index: (x.0 + y.0 + z.0) as usize,
                t: [x.3, y.3, z.3],
                dt: [x.4, y.4, z.4],
                stride: [x.1, y.1, z.1],
                left: [x.2, y.2, z.2],
                skip: usize::MAX,
            });
        }
    }
}

/// The traversal state of one ray.
#[derive(Debug, Clone, Copy)]
struct RayState {
    /// Flat index of the current voxel.
    index: usize,
    /// Ray parameter of the next boundary per axis (infinite for an axis the ray runs
    /// parallel to).
    t: [f64; 3],
    /// Increment of `t` per voxel.
    dt: [f64; 3],
    /// Flat-index stride of one step per axis.
    stride: [isize; 3],
    /// Steps left per axis before the ray leaves the grid (0 for an axis the ray runs
    /// parallel to).
    left: [usize; 3],
    /// Empty voxels still to pass before the false hit ([`SensorDraws`]).
    skip: usize,
}

impl Default for RayState {
    fn default() -> Self {
        Self {
            index: 0,
            t: [f64::INFINITY; 3],
            dt: [f64::INFINITY; 3],
            stride: [0; 3],
            // An axis the ray runs parallel to is only chosen when every other boundary is at
            // infinity (a zero direction, or `t` overflowing): then the ray has left.
            left: [0; 3],
            skip: usize::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// The voxels met by sampling the ray densely: the reference for the traversal.
    fn sampled(grid: &VoxelGrid, origin: Vec3, dir: Vec3) -> Vec<usize> {
        let d = normalize(dir);
        let mut out: Vec<usize> = Vec::new();
        let mut t = 0.0;
        while t < 80.0 {
            let p = [
                origin[0] + t * d[0],
                origin[1] + t * d[1],
                origin[2] + t * d[2],
            ];
            if let Some([x, y, z]) = grid.voxel_of(p) {
                let i = grid.index(x, y, z);
                if out.last() != Some(&i) {
                    out.push(i);
                }
            }
            t += 1e-3;
        }
        out
    }

    /// An image cast ray by ray ([`Camera::for_each_ray`] and [`VoxelGrid::cast_ray`]), the
    /// reference of the image-casting tests: returns the hits and the number of rays with a
    /// zero direction component.
    #[allow(clippy::too_many_arguments)]
    fn cast_ray_by_ray(
        grid: &VoxelGrid,
        camera: &Camera,
        position: Vec3,
        target: Vec3,
        truth: &[bool],
        log_odds: &mut [f32],
        draws: &SensorDraws,
        rng: &mut Xoshiro256PlusPlus,
    ) -> (usize, usize) {
        let (mut hits, mut with_zero) = (0, 0);
        camera.for_each_ray(position, target, |dir| {
            with_zero += usize::from(dir.contains(&0.0));
            hits += usize::from(
                grid.cast_ray(position, dir, truth, log_odds, draws, rng)
                    .is_some(),
            );
        });
        (hits, with_zero)
    }

    /// Asserts that two casts of the same image had the same outcome, bit for bit: hits,
    /// log-odds and the state of their generators (compared by their next draw).
    fn assert_same_cast(
        what: &str,
        (hits_a, lo_a, rng_a): (usize, &[f32], &Xoshiro256PlusPlus),
        (hits_b, lo_b, rng_b): (usize, &[f32], &Xoshiro256PlusPlus),
    ) {
        assert_eq!(hits_a, hits_b, "{what}");
        assert!(
            lo_a.iter()
                .zip(lo_b)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{what}: log-odds differ"
        );
        assert_eq!(
            rng_a.clone().next_u64(),
            rng_b.clone().next_u64(),
            "{what}: random draws differ"
        );
    }

    fn traversed(grid: &VoxelGrid, origin: Vec3, dir: Vec3) -> Vec<usize> {
        let mut out = Vec::new();
        grid.traverse(origin, dir, |i| {
            out.push(i);
            true
        });
        out
    }

    #[test]
    fn axis_ray_crosses_one_row() {
        let g = VoxelGrid::default();
        let v = traversed(&g, [-30.0, 0.5, 0.5], [1.0, 0.0, 0.0]);
        assert_eq!(v.len(), 20);
        assert_eq!(v[0], g.index(0, 10, 10));
        assert_eq!(v[19], g.index(19, 10, 10));
        assert!(traversed(&g, [-30.0, 15.0, 0.0], [1.0, 0.0, 0.0]).is_empty());
        assert!(traversed(&g, [30.0, 0.5, 0.5], [1.0, 0.0, 0.0]).is_empty());
    }

    #[test]
    fn traversal_matches_dense_sampling() {
        let g = VoxelGrid::default();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for _ in 0..100 {
            let origin: Vec3 = std::array::from_fn(|_| rng.random_range(-25.0..25.0));
            let target: Vec3 = std::array::from_fn(|_| rng.random_range(-8.0..8.0));
            let dir = sub(target, origin);
            let a = traversed(&g, origin, dir);
            let b = sampled(&g, origin, dir);
            // Dense sampling can skip a voxel the ray only grazes; everything it finds must be
            // in the traversal, in the same order.
            let mut it = a.iter();
            for v in &b {
                assert!(it.any(|x| x == v), "voxel {v} missing or out of order");
            }
            assert!(
                a.len() <= b.len() + 3,
                "{} traversed vs {} sampled",
                a.len(),
                b.len()
            );
        }
    }

    #[test]
    fn rays_fill_the_field_of_view() {
        let cam = Camera::default();
        let rays = cam.rays([0.0, -40.0, 0.0], [0.0, 0.0, 0.0]);
        assert_eq!(rays.len(), 64 * 64);
        let max_angle = rays
            .iter()
            .map(|r| r[1].acos().to_degrees())
            .fold(0.0, f64::max);
        // The corner ray is at atan(sqrt(2) tan(5 deg)) from the axis, minus half a pixel.
        assert!(max_angle > 6.5 && max_angle < 7.1, "{max_angle}");
    }

    #[test]
    fn observations_reduce_entropy_and_find_the_object() {
        let g = VoxelGrid::default();
        let mut truth = vec![false; g.len()];
        for x in 8..12 {
            for y in 8..12 {
                for z in 8..12 {
                    truth[g.index(x, y, z)] = true;
                }
            }
        }
        let mut belief = Belief::new(g).unwrap();
        let h0 = belief.entropy();
        assert!((h0 - g.len() as f64 * std::f64::consts::LN_2).abs() < 1e-6);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let (cam, sensor) = (Camera::default(), SensorModel::default());
        let hits = belief
            .observe(&truth, &cam, &sensor, [0.0, -30.0, 0.0], [0.0; 3], &mut rng)
            .unwrap();
        assert!(hits > 1000, "{hits} hits");
        assert!(belief.entropy() < h0);
        // The face towards the camera is now believed occupied, the voxels before it empty.
        assert!(belief.log_odds[g.index(9, 8, 9)] > 2.0);
        assert!(belief.log_odds[g.index(9, 2, 9)] < 0.0);
    }

    #[test]
    fn fast_traversal_visits_the_reference_voxels() {
        let g = VoxelGrid::default();
        // No false hits (probability 0 by construction of the draws); a hit is certain at the
        // one occupied voxel.
        let draws = SensorDraws::new(
            &SensorModel {
                hit_prob: 1.0,
                false_hit_prob: 0.0,
            },
            &g,
        );
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
        let mut checked = 0;
        for k in 0..3000 {
            let origin: Vec3 = std::array::from_fn(|_| rng.random_range(-60.0..60.0));
            let mut dir: Vec3 = std::array::from_fn(|_| rng.random_range(-8.0..8.0));
            dir = sub(dir, origin);
            // Axis-parallel and grid-aligned rays too.
            if k % 10 == 0 {
                dir[k % 3] = 0.0;
            }
            let reference = traversed(&g, origin, dir);
            let empty = vec![false; g.len()];
            let mut lo = vec![0.0f32; g.len()];
            assert_eq!(
                g.cast_ray(origin, dir, &empty, &mut lo, &draws, &mut rng),
                None
            );
            let passed: Vec<usize> = (0..g.len()).filter(|&i| lo[i] != 0.0).collect();
            let mut sorted = reference.clone();
            sorted.sort_unstable();
            assert_eq!(passed, sorted, "ray {k}");
            // With one voxel occupied, the ray stops exactly there, having passed the voxels
            // before it in the reference order.
            if !reference.is_empty() {
                let stop = reference[rng.random_range(0..reference.len())];
                let mut truth = vec![false; g.len()];
                truth[stop] = true;
                let mut lo = vec![0.0f32; g.len()];
                let hit = g.cast_ray(origin, dir, &truth, &mut lo, &draws, &mut rng);
                assert_eq!(hit, Some(stop));
                let before = reference.iter().position(|&i| i == stop).unwrap();
                for (j, &i) in reference.iter().enumerate() {
                    let expected = if j < before {
                        draws.miss
                    } else if j == before {
                        draws.hit
                    } else {
                        0.0
                    };
                    assert_eq!(lo[i], expected, "ray {k}, voxel {j}");
                }
                checked += 1;
            }
        }
        assert!(checked > 1000, "{checked} rays crossed the grid");
    }

    #[test]
    fn sensor_draws_follow_the_sensor_model() {
        // Rays along +x through row (y, z) = (3, 4): 5 empty voxels, one occupied, then empty.
        // With false-hit probability q and hit probability p, the ray stops at voxel k < 5
        // with probability (1-q)^k q, at voxel 5 with (1-q)^5 p, at k > 5 with
        // (1-q)^5 (1-p) (1-q)^(k-6) q, and passes with the rest.
        let g = VoxelGrid::default();
        let (p, q) = (0.7, 0.05);
        let sensor = SensorModel {
            hit_prob: p,
            false_hit_prob: q,
        };
        let draws = SensorDraws::new(&sensor, &g);
        let mut truth = vec![false; g.len()];
        truth[g.index(5, 3, 4)] = true;
        let origin = [-30.0, -6.5, -5.5];
        let mut counts = [0usize; 21];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
        let rays = 200_000;
        let mut lo = vec![0.0f32; g.len()];
        for _ in 0..rays {
            let hit = g.cast_ray(origin, [1.0, 0.0, 0.0], &truth, &mut lo, &draws, &mut rng);
            counts[hit.map_or(20, |i| i % 20)] += 1;
        }
        let mut probs = [0.0f64; 21];
        let mut reach = 1.0;
        for (k, pk) in probs.iter_mut().enumerate().take(20) {
            let stop = if k == 5 { p } else { q };
            *pk = reach * stop;
            reach *= 1.0 - stop;
        }
        probs[20] = reach;
        for k in 0..21 {
            let expected = probs[k] * rays as f64;
            let sigma = (expected * (1.0 - probs[k])).sqrt();
            let got = counts[k] as f64;
            assert!(
                (got - expected).abs() < 5.0 * sigma + 1.0,
                "voxel {k}: {got} hits, expected {expected:.1} +- {sigma:.1}"
            );
        }
        // The fast observation and the reference one agree in distribution: mean number of
        // hits per image of a box from 30 m, over a few images.
        let mut box_truth = vec![false; g.len()];
        for x in 7..13 {
            for y in 8..12 {
                for z in 6..14 {
                    box_truth[g.index(x, y, z)] = true;
                }
            }
        }
        let cam = Camera {
            fov_deg: 40.0,
            resolution: 32,
        };
        let sensor = SensorModel {
            hit_prob: 0.6,
            false_hit_prob: 0.02,
        };
        let (mut fast, mut slow) = (0usize, 0usize);
        let images = 40;
        for _ in 0..images {
            let mut b = Belief::new(g).unwrap();
            fast += b
                .observe(
                    &box_truth,
                    &cam,
                    &sensor,
                    [25.0, 3.0, -4.0],
                    [0.0; 3],
                    &mut rng,
                )
                .unwrap();
            let mut b = Belief::new(g).unwrap();
            slow += b
                .observe_reference(
                    &box_truth,
                    &cam,
                    &sensor,
                    [25.0, 3.0, -4.0],
                    [0.0; 3],
                    &mut rng,
                )
                .unwrap();
        }
        let (f, s) = (fast as f64 / images as f64, slow as f64 / images as f64);
        // Hits per image are a sum of 1024 independent rays: sd below 16; of the mean, 2.5.
        assert!((f - s).abs() < 12.0, "{f} vs {s}");
    }

    #[test]
    fn image_casting_equals_casting_ray_by_ray() {
        // `cast_image` batches the set-up of each image row; the outcome must be bit-identical
        // to `for_each_ray` + `cast_ray`: same hits, same log-odds, same random draws. Cameras
        // outside the grid (some rays missing it), inside it, on an axis (rays parallel to
        // planes), and a voxel size that is not a power of two (division, not reciprocal).
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(23);
        let grids = [
            VoxelGrid::default(),
            VoxelGrid {
                n: 7,
                voxel_size: 0.3,
            },
        ];
        let sensor = SensorModel {
            hit_prob: 0.8,
            false_hit_prob: 0.01,
        };
        for grid in grids {
            let h = grid.half_extent();
            let truth: Vec<bool> = (0..grid.len()).map(|_| rng.random_bool(0.2)).collect();
            let draws = SensorDraws::new(&sensor, &grid);
            let mut cameras: Vec<(Vec3, Vec3)> = vec![
                ([0.0, -3.0 * h, 0.0], [0.0; 3]),
                ([3.0 * h, 0.0, 0.0], [0.0, 0.5 * h, 0.0]),
                ([0.0, 0.0, 4.0 * h], [0.0; 3]),
            ];
            for _ in 0..6 {
                let position: Vec3 = std::array::from_fn(|_| rng.random_range(-4.0 * h..4.0 * h));
                let target: Vec3 = std::array::from_fn(|_| rng.random_range(-h..h));
                cameras.push((position, target));
            }
            for (k, &(position, target)) in cameras.iter().enumerate() {
                // Odd resolutions for the cameras on an axis: their middle row and column
                // have zero components (set up by the general path).
                let camera = Camera {
                    fov_deg: [10.0, 60.0, 120.0][k % 3],
                    resolution: 25 + k,
                };
                let mut lo_image: Vec<f32> = (0..grid.len()).map(|i| i as f32 * 1e-3).collect();
                let mut lo_rays = lo_image.clone();
                let mut rng_image = Xoshiro256PlusPlus::seed_from_u64(k as u64);
                let mut rng_rays = rng_image.clone();
                let hits_image = grid
                    .cast_image(
                        &camera,
                        position,
                        target,
                        &truth,
                        &mut lo_image,
                        &draws,
                        &mut rng_image,
                    )
                    .unwrap();
                let (hits_rays, with_zero) = cast_ray_by_ray(
                    &grid,
                    &camera,
                    position,
                    target,
                    &truth,
                    &mut lo_rays,
                    &draws,
                    &mut rng_rays,
                );
                assert_same_cast(
                    &format!("camera {k}"),
                    (hits_image, &lo_image, &rng_image),
                    (hits_rays, &lo_rays, &rng_rays),
                );
                if k == 0 {
                    assert!(with_zero > 0, "no ray parallel to a plane");
                }
            }
        }
    }

    #[test]
    fn grouped_marching_equals_casting_ray_by_ray() {
        // `cast_image` marches the rays of an image row in groups of eight (where the
        // processor has AVX-512) in two phases, geometry then sensor; with and without the
        // groups, the outcome must be bit-identical to `for_each_ray` + `cast_ray`: same hits,
        // same log-odds, same random draws. Cameras outside the grid, inside it, on an axis
        // (rays with zero components), on a diagonal through voxel corners (ties between
        // axes) and on a face of the grid (grazing rays); truths sparse, solid and hollow;
        // sensors that often pass occupied voxels (the ray goes on past its recorded voxels)
        // or return false hits; resolutions that leave a partial group at the end of a row.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(77);
        let grids = [
            VoxelGrid::default(),
            VoxelGrid {
                n: 13,
                voxel_size: 0.37,
            },
            VoxelGrid {
                n: 5,
                voxel_size: 2.0,
            },
        ];
        let sensors = [
            SensorModel::default(),
            SensorModel {
                hit_prob: 0.3,
                false_hit_prob: 0.05,
            },
            SensorModel {
                hit_prob: 0.999,
                false_hit_prob: 0.2,
            },
        ];
        let mut images = 0;
        for grid in grids {
            let (n, h) = (grid.n, grid.half_extent());
            let inner = |c: usize| (n / 4..n - n / 4).contains(&c);
            let edge = |c: usize| c == n / 4 || c == n - n / 4 - 1;
            let mut solid = vec![false; grid.len()];
            let mut hollow = vec![false; grid.len()];
            for z in 0..n {
                for y in 0..n {
                    for x in 0..n {
                        let i = grid.index(x, y, z);
                        solid[i] = inner(x) && inner(y) && inner(z);
                        hollow[i] = solid[i] && (edge(x) || edge(y) || edge(z));
                    }
                }
            }
            let sparse: Vec<bool> = (0..grid.len()).map(|_| rng.random_bool(0.05)).collect();
            let mut cameras: Vec<(Vec3, Vec3)> = vec![
                ([0.0, -3.0 * h, 0.0], [0.0; 3]),
                ([-1.5 * h; 3], [0.0; 3]),
                ([0.1 * h, -0.3 * h, 0.2 * h], [h, h, -h]),
                ([h, -3.0 * h, 0.3 * h], [h, 0.0, 0.3 * h]),
                ([-h, 0.5 * h, 2.5 * h], [-0.9 * h, 0.4 * h, 0.0]),
            ];
            for _ in 0..3 {
                let position: Vec3 = std::array::from_fn(|_| rng.random_range(-3.0 * h..3.0 * h));
                let target: Vec3 = std::array::from_fn(|_| rng.random_range(-h..h));
                cameras.push((position, target));
            }
            for truth in [&sparse, &solid, &hollow] {
                for sensor in &sensors {
                    let draws = SensorDraws::new(sensor, &grid);
                    for (k, &(position, target)) in cameras.iter().enumerate() {
                        let camera = Camera {
                            fov_deg: [8.0, 40.0, 100.0][k % 3],
                            resolution: [5, 16, 21, 31][k % 4],
                        };
                        let start: Vec<f32> = (0..grid.len()).map(|i| i as f32 * 1e-3).collect();
                        let seed = rng.next_u64();
                        let mut lo_rays = start.clone();
                        let mut rng_rays = Xoshiro256PlusPlus::seed_from_u64(seed);
                        let (hits_rays, _) = cast_ray_by_ray(
                            &grid,
                            &camera,
                            position,
                            target,
                            truth,
                            &mut lo_rays,
                            &draws,
                            &mut rng_rays,
                        );
                        assert!(hits_rays > 0, "camera {k} sees nothing");
                        for lanes in [true, false] {
                            let mut lo = start.clone();
                            let mut rng_image = Xoshiro256PlusPlus::seed_from_u64(seed);
                            let hits = grid
                                .cast_image_with(
                                    &camera,
                                    position,
                                    target,
                                    truth,
                                    &mut lo,
                                    &draws,
                                    &mut rng_image,
                                    lanes,
                                )
                                .unwrap();
                            assert_same_cast(
                                &format!("grid {n}, camera {k}, lanes {lanes}"),
                                (hits, &lo, &rng_image),
                                (hits_rays, &lo_rays, &rng_rays),
                            );
                        }
                        images += 1;
                    }
                }
            }
        }
        assert_eq!(images, 3 * 3 * 3 * 8);
    }

    #[test]
    fn row_set_up_equals_ray_set_up_bit_for_bit() {
        // The two-stage row set-up of `cast_image` gives the same traversal states, bit for
        // bit, as `RayFrame::setup` per ray (so as `ray_setup`), for both scalings.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(41);
        let key = |r: &RayState| {
            (
                r.index,
                r.t.map(f64::to_bits),
                r.dt.map(f64::to_bits),
                r.stride,
                r.left,
            )
        };
        let mut compared = 0;
        for grid in [
            VoxelGrid::default(),
            VoxelGrid {
                n: 9,
                voxel_size: 0.7,
            },
        ] {
            let h = grid.half_extent();
            for k in 0..30 {
                let position: Vec3 = if k == 0 {
                    [0.0, -3.0 * h, 0.0]
                } else {
                    std::array::from_fn(|_| rng.random_range(-3.0 * h..3.0 * h))
                };
                let target: Vec3 = if k == 0 {
                    [0.0; 3]
                } else {
                    std::array::from_fn(|_| rng.random_range(-h..h))
                };
                let camera = Camera {
                    fov_deg: 5.0 + 4.0 * k as f64,
                    resolution: 9 + k % 4,
                };
                let view = camera.view(position, target);
                let frame = RayFrame::new(&grid, position);
                let offsets: Vec<f64> = (0..camera.resolution)
                    .map(|j| camera.offset(view.half, j))
                    .collect();
                let mut scratch = RowScratch::new(offsets.len());
                for &v in &offsets {
                    let row = view.row(v);
                    match frame.inv_size {
                        Some(inv_size) => {
                            scratch.clip(&frame, &grid, &view, row, &offsets, |x| x * inv_size)
                        }
                        None => {
                            let s = grid.voxel_size;
                            scratch.clip(&frame, &grid, &view, row, &offsets, |x| x / s)
                        }
                    }
                    let mut rays = Vec::new();
                    scratch.finish(&frame, &grid, &mut rays);
                    let expected: Vec<RayState> = offsets
                        .iter()
                        .filter_map(|&u| frame.setup(&grid, view.ray(row, u)))
                        .collect();
                    assert_eq!(rays.len(), expected.len());
                    for (a, b) in rays.iter().zip(&expected) {
                        assert_eq!(key(a), key(b), "camera {k}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 2000, "{compared} rays compared");
    }

    #[test]
    fn tiny_direction_components_count_as_parallel() {
        // A subnormal component would make its reciprocal infinite (and a boundary time NaN
        // for an origin on a plane); the ray is traversed as parallel to that axis instead.
        let g = VoxelGrid::default();
        for tiny in [f64::MIN_POSITIVE / 4.0, -5e-324, 0.0] {
            let v = traversed(&g, [-30.0, 0.0, 0.5], [1.0, tiny, 0.0]);
            assert_eq!(v.len(), 20, "{tiny}");
            assert_eq!(v[0], g.index(0, 10, 10));
            assert_eq!(v[19], g.index(19, 10, 10));
            let v = traversed(&g, [-30.0, -0.5, 0.5], [1.0, tiny, 0.0]);
            assert_eq!(v[0], g.index(0, 9, 10), "{tiny}");
        }
        // A zero direction (bad input) from inside the grid visits the origin's voxel once
        // and stops, rather than stepping on the spot forever.
        assert_eq!(
            traversed(&g, [0.5, 0.5, 0.5], [0.0; 3]),
            vec![g.index(10, 10, 10)]
        );
    }

    #[test]
    fn bad_images_are_rejected() {
        let g = VoxelGrid::default();
        let truth = vec![false; g.len()];
        let (cam, sensor) = (Camera::default(), SensorModel::default());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut b = Belief::new(g).unwrap();
        let far = [0.0, -30.0, 0.0];
        assert!(
            b.observe(&truth[1..], &cam, &sensor, far, [0.0; 3], &mut rng)
                .is_err()
        );
        assert!(
            b.observe_reference(&truth[1..], &cam, &sensor, far, [0.0; 3], &mut rng)
                .is_err()
        );
        for (position, target) in [
            ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
            ([f64::NAN, 0.0, 0.0], [0.0; 3]),
            ([0.0, 0.0, 0.0], [f64::INFINITY, 0.0, 0.0]),
            ([1e-170, 0.0, 0.0], [0.0; 3]),
        ] {
            assert!(
                b.observe(&truth, &cam, &sensor, position, target, &mut rng)
                    .is_err(),
                "{position:?} -> {target:?}"
            );
            assert!(
                b.observe_reference(&truth, &cam, &sensor, position, target, &mut rng)
                    .is_err()
            );
        }
        let bad_cam = Camera {
            fov_deg: f64::NAN,
            resolution: 8,
        };
        assert!(
            b.observe(&truth, &bad_cam, &sensor, far, [0.0; 3], &mut rng)
                .is_err()
        );
        let mut short = vec![0.0f32; 5];
        let draws = SensorDraws::new(&sensor, &g);
        let err = g
            .cast_image(&cam, far, [0.0; 3], &truth, &mut short, &draws, &mut rng)
            .unwrap_err();
        assert!(err.to_string().contains("log_odds"), "{err}");
        // Nothing was observed.
        assert!(b.log_odds.iter().all(|&l| l == 0.0));
    }

    #[test]
    fn bad_settings_are_rejected() {
        assert!(
            VoxelGrid {
                n: 0,
                voxel_size: 1.0
            }
            .validate()
            .is_err()
        );
        assert!(
            Camera {
                fov_deg: 0.0,
                resolution: 64
            }
            .validate()
            .is_err()
        );
        assert!(
            SensorModel {
                hit_prob: 0.001,
                false_hit_prob: 0.95
            }
            .validate()
            .is_err()
        );
    }
}
