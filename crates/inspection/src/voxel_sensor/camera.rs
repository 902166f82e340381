//! The camera: a pinhole camera at the inspector, looking at the target, with a square field of
//! view sampled by `resolution x resolution` rays through the pixel centres.

use serde::{Deserialize, Serialize};

use super::{Vec3, cross, normalize, sub};
use crate::error::InspectionError;

/// Camera geometry. Missing fields take their defaults when deserialised; an unknown field is
/// an error naming it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    pub fn validate(&self) -> Result<(), InspectionError> {
        if !(self.fov_deg > 0.0 && self.fov_deg < 180.0) {
            return Err(InspectionError::Config {
                field: "fov_deg",
                reason: format!("must be in (0, 180), got {}", self.fov_deg),
            });
        }
        if self.resolution == 0 || self.resolution > 4096 {
            return Err(InspectionError::Config {
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
    pub(super) fn view(&self, position: Vec3, target: Vec3) -> View {
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
    pub(super) fn offset(&self, half: f64, k: usize) -> f64 {
        half * (2.0 * (k as f64 + 0.5) / self.resolution as f64 - 1.0)
    }
}

/// The axes of a camera's image: the ray through the image-plane point `(u, v)` is
/// `forward + u right + v up` (a pinhole camera's rays form an affine grid, so no
/// trigonometry per ray).
#[derive(Debug, Clone, Copy)]
pub(super) struct View {
    /// Unit vector from the camera to its target.
    pub(super) forward: Vec3,
    /// Unit vector along the image rows.
    pub(super) right: Vec3,
    /// Unit vector along the image columns.
    pub(super) up: Vec3,
    /// `tan(fov / 2)`: the half-width of the image plane at unit distance.
    pub(super) half: f64,
}

impl View {
    /// Whether every axis is finite (false for a camera on its target or at non-finite
    /// coordinates).
    pub(super) fn is_finite(&self) -> bool {
        self.forward
            .iter()
            .chain(&self.right)
            .chain(&self.up)
            .chain(std::iter::once(&self.half))
            .all(|x| x.is_finite())
    }

    /// `forward + v up`: the part of a ray direction shared by the image row at offset `v`.
    #[inline]
    pub(super) fn row(&self, v: f64) -> Vec3 {
        let (f, up) = (self.forward, self.up);
        [f[0] + v * up[0], f[1] + v * up[1], f[2] + v * up[2]]
    }

    /// The direction of the ray at offset `u` on the image row `row` ([`View::row`]).
    #[inline]
    pub(super) fn ray(&self, row: Vec3, u: f64) -> Vec3 {
        let right = self.right;
        [
            row[0] + u * right[0],
            row[1] + u * right[1],
            row[2] + u * right[2],
        ]
    }
}
