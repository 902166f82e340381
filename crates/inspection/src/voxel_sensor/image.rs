//! The image caster: one image of the range sensor, its rows set up together (a loop without
//! branches over structure-of-arrays buffers) and their rays marched one by one or, where the
//! processor has AVX-512, eight at a time (module `avx512`).

use rand::Rng;

use super::camera::View;
use super::traversal::{RayFrame, RayState, march};
use super::{Camera, SensorDraws, Vec3, VoxelGrid};
use crate::error::InspectionError;

/// Whether [`VoxelGrid::cast_image`] marches rays eight at a time here: an x86-64 processor
/// with AVX-512F and AVX-512DQ (detected at run time).
pub(super) fn lanes_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return super::avx512::available();
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

/// Checks the inputs of one image: valid grid and camera, one truth and one log-odds entry per
/// voxel, a finite camera position distinct from its target. Returns the camera's axes.
pub(super) fn check_image(
    grid: &VoxelGrid,
    camera: &Camera,
    position: Vec3,
    target: Vec3,
    truth: &[bool],
    log_odds: &[f32],
) -> Result<View, InspectionError> {
    grid.validate()?;
    camera.validate()?;
    for (field, len) in [("truth", truth.len()), ("log_odds", log_odds.len())] {
        if len != grid.len() {
            return Err(InspectionError::Config {
                field,
                reason: format!("must have one entry per voxel ({}), got {len}", grid.len()),
            });
        }
    }
    let view = camera.view(position, target);
    if !(position.iter().all(|x| x.is_finite()) && view.is_finite()) {
        return Err(InspectionError::Config {
            field: "position",
            reason: format!(
                "the camera at {position:?} must be finite and distinct from its target \
                 {target:?}"
            ),
        });
    }
    Ok(view)
}

impl VoxelGrid {
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
    /// Measured on a 2-core Intel Xeon (Ice Lake) VM, for one 64 x 64 image of the benchmark's
    /// box (`raycast_ms`, then in the `mcts` scenario: CPU time per image over 300 images, the
    /// best of 7 repetitions of that time, in a copy of the benchmark's loop), medians of 7 runs
    /// alternating the builds: 0.251 ms marching one ray at a time (range 0.244 to 0.268 ms), 0.177 ms in
    /// groups of eight (range 0.176 to 0.182 ms), 30% less.
    ///
    /// # Errors
    ///
    /// [`InspectionError::Config`] when the grid or the camera is invalid, `truth` or `log_odds`
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
    ) -> Result<usize, InspectionError> {
        self.cast_image_with(camera, position, target, truth, log_odds, draws, rng, true)
    }

    /// [`VoxelGrid::cast_image`], marching the rays in groups of eight (`avx512`) when
    /// `lanes` is set and the processor has AVX-512F and AVX-512DQ, else one by one
    /// ([`march`]). Both give the same results, bit for bit.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn cast_image_with<R: Rng + ?Sized>(
        &self,
        camera: &Camera,
        position: Vec3,
        target: Vec3,
        truth: &[bool],
        log_odds: &mut [f32],
        draws: &SensorDraws,
        rng: &mut R,
        lanes: bool,
    ) -> Result<usize, InspectionError> {
        let view = check_image(self, camera, position, target, truth, log_odds)?;
        let frame = RayFrame::new(self, position);
        let r = camera.resolution;
        let offsets: Vec<f64> = (0..r).map(|k| camera.offset(view.half, k)).collect();
        let mut scratch = RowScratch::new(r);
        let mut rays = Vec::with_capacity(r);
        #[cfg(target_arch = "x86_64")]
        let mut lanes = (lanes && lanes_available()).then(|| super::avx512::Lanes::new(self));
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
                    super::avx512::cast_row(
                        &frame, self, &scratch, lanes, truth, log_odds, draws, rng,
                    )
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
}

/// The set-up of one image row of [`VoxelGrid::cast_image`] in two stages, with the same
/// operations on the same values as [`RayFrame::setup`] (so bit-identical states).
///
/// [`RowScratch::clip`] computes, for every ray of the row, the direction, the reciprocals,
/// the clipping interval and the entry voxel's coordinates as floating-point numbers: one
/// loop without branches over structure-of-arrays buffers, which the compiler vectorises
/// (two rays per instruction, divisions included). [`RowScratch::finish`] turns them into
/// traversal states, ray by ray.
pub(super) struct RowScratch {
    /// Ray directions, per axis.
    pub(super) dir: [Vec<f64>; 3],
    /// Their reciprocals, per axis.
    pub(super) inv: [Vec<f64>; 3],
    /// Ray parameter where the ray enters the grid.
    pub(super) t0: Vec<f64>,
    /// Ray parameter where it leaves.
    pub(super) t1: Vec<f64>,
    /// The entry voxel's coordinates, clamped to `[0, n - 1]`, before truncation.
    pub(super) cell: [Vec<f64>; 3],
}

impl RowScratch {
    /// Buffers for rows of `r` rays.
    pub(super) fn new(r: usize) -> Self {
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
    pub(super) fn clip(
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
    pub(super) fn finish(&self, frame: &RayFrame, grid: &VoxelGrid, rays: &mut Vec<RayState>) {
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
