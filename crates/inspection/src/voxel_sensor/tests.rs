//! Tests of the voxel sensor: traversal, camera, sensor draws and image casting.

use super::image::{self, RowScratch};
use super::traversal::{RayFrame, RayState};
use super::*;
use rand::{Rng, RngCore, SeedableRng};
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
fn row_marching_equals_casting_ray_by_ray() {
    // The rays of each image row marched one by one after the row's set-up.
    assert_marching_equals_casting_ray_by_ray(false);
}

#[test]
#[cfg_attr(
    not(host_avx512),
    ignore = "this CPU lacks AVX-512: the 8-lane caster is not exercised"
)]
fn avx512_marching_equals_casting_ray_by_ray() {
    // The rays of each image row marched eight at a time with AVX-512. `cast_image` falls
    // back to marching one ray at a time on a processor without it, which would compare the
    // scalar path with itself: run on such a processor (`--ignored`), this test fails.
    assert!(
        image::lanes_available(),
        "this CPU lacks AVX-512F and AVX-512DQ: the 8-lane caster cannot be tested here"
    );
    assert_marching_equals_casting_ray_by_ray(true);
}

/// Casts images with `cast_image`, marching the rays of a row in groups of eight in two
/// phases (geometry, then sensor) when `lanes` is set, one by one otherwise, and checks that
/// the outcome is bit-identical to `for_each_ray` + `cast_ray`: same hits, same log-odds,
/// same random draws.
fn assert_marching_equals_casting_ray_by_ray(lanes: bool) {
    // Cameras outside the grid, inside it, on an axis
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
