//! A voxel occupancy belief and a ray-cast range sensor: the observation model of the
//! inspection task.
//!
//! # Modules, by concern
//!
//! - `grid`: the belief grid: the cube of voxels ([`VoxelGrid`]), the log-odds occupancy
//!   belief over it ([`Belief`]) and a voxel's entropy ([`voxel_entropy`]).
//! - `camera`: the camera ([`Camera`]) and the axes of its image.
//! - `sensor`: the sensor model ([`SensorModel`]) and the constants of its random draws
//!   ([`SensorDraws`]).
//! - `traversal`: the scalar traversal (Amanatides-Woo): one ray's set-up and march
//!   ([`VoxelGrid::traverse`], [`VoxelGrid::cast_ray`]).
//! - `image`: the image caster ([`VoxelGrid::cast_image`]): the rows of an image set up
//!   together, their rays marched one by one or, where the processor has AVX-512, eight at a
//!   time (`avx512`).
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

mod camera;
mod grid;
mod image;
mod sensor;
mod traversal;

#[cfg(target_arch = "x86_64")]
mod avx512;

#[cfg(test)]
mod tests;

pub use camera::Camera;
pub use grid::{Belief, VoxelGrid, voxel_entropy};
pub use sensor::{SensorDraws, SensorModel};

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
