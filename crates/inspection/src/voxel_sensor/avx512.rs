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

use super::image::RowScratch;
use super::traversal::{RayFrame, RayState, march, step};
use super::{SensorDraws, VoxelGrid};
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
        let x =
            _mm512_mask_cmp_pd_mask::<_CMP_LT_OQ>(_mm512_cmp_pd_mask::<_CMP_LT_OQ>(tx, ty), tx, tz);
        let y =
            _mm512_mask_cmp_pd_mask::<_CMP_LE_OQ>(_mm512_cmp_pd_mask::<_CMP_LT_OQ>(ty, tz), ty, tx);
        let z =
            _mm512_mask_cmp_pd_mask::<_CMP_LE_OQ>(_mm512_cmp_pd_mask::<_CMP_LE_OQ>(tz, ty), tz, tx);
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
