//! The scalar traversal: one ray clipped to the grid and stepped from voxel to voxel across the
//! nearest boundary (Amanatides and Woo, "A fast voxel traversal algorithm for ray tracing",
//! Eurographics 1987), and the march of one ray of the range sensor along it.

use rand::Rng;

use super::{SensorDraws, Vec3, VoxelGrid};

impl VoxelGrid {
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

    /// Clips the ray `origin + t dir` (`t >= 0`) to the grid's box and sets up its
    /// Amanatides-Woo traversal: the entry voxel and, per axis, the stride, the steps left and
    /// the ray parameters of the boundaries (`None` when the ray misses the grid). Shared by
    /// [`VoxelGrid::traverse`] and [`VoxelGrid::cast_ray`], so that both visit the same voxels.
    #[inline]
    pub(super) fn ray_setup(&self, origin: Vec3, dir: Vec3) -> Option<RayState> {
        RayFrame::new(self, origin).setup(self, dir)
    }
}

/// Marches the prepared `ray` through `truth` with the fast sensor ([`VoxelGrid::cast_ray`]),
/// updating `log_odds`; returns the voxel that returned a hit, if any.
#[inline]
pub(super) fn march<R: Rng + ?Sized>(
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
pub(super) fn step(ray: &mut RayState) -> bool {
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

/// The ray set-up's constants for rays from one origin ([`VoxelGrid::ray_setup`] makes one
/// per ray, [`VoxelGrid::cast_image`] one per image).
pub(super) struct RayFrame {
    /// The rays' common origin.
    pub(super) origin: Vec3,
    /// `-h - origin[a]` per axis (`h`: the grid's half extent).
    pub(super) lo: Vec3,
    /// `h - origin[a]` per axis.
    pub(super) hi: Vec3,
    /// Whether the origin lies outside the grid's slab on each axis (a ray parallel to that
    /// axis misses the grid).
    pub(super) outside: [bool; 3],
    /// `1 / s` when the voxel size `s` is a power of two, so that `x * (1 / s) == x / s`
    /// exactly; `None` otherwise (divide).
    pub(super) inv_size: Option<f64>,
}

impl RayFrame {
    /// The frame of rays from `origin` through `grid`.
    pub(super) fn new(grid: &VoxelGrid, origin: Vec3) -> Self {
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
    pub(super) fn setup(&self, grid: &VoxelGrid, dir: Vec3) -> Option<RayState> {
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

/// The traversal state of one ray.
#[derive(Debug, Clone, Copy)]
pub(super) struct RayState {
    /// Flat index of the current voxel.
    pub(super) index: usize,
    /// Ray parameter of the next boundary per axis (infinite for an axis the ray runs
    /// parallel to).
    pub(super) t: [f64; 3],
    /// Increment of `t` per voxel.
    pub(super) dt: [f64; 3],
    /// Flat-index stride of one step per axis.
    pub(super) stride: [isize; 3],
    /// Steps left per axis before the ray leaves the grid (0 for an axis the ray runs
    /// parallel to).
    pub(super) left: [usize; 3],
    /// Empty voxels still to pass before the false hit ([`SensorDraws`]).
    pub(super) skip: usize,
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
