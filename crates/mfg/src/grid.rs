//! The space-time grid.

use serde::{Deserialize, Serialize};

use crate::error::{MfgError, finite, positive};

/// Boundary condition on both ends of the interval `[a, b]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Boundary {
    /// No flux: homogeneous Neumann for `u` and zero normal flux for `m` (ghost cell equal to the
    /// boundary cell). Mass stays inside the domain.
    #[default]
    Reflecting,
    /// Periodic: cell `nx - 1` neighbours cell `0`; the tridiagonal systems become cyclic.
    Periodic,
}

/// A validated cell-centred space grid on `[a, b]` and a uniform time grid on `[0, T]`.
///
/// * `nx` is the number of **cells**: `dx = (b - a) / nx` and the unknowns sit at the cell
///   centres `x_i = a + (i + 1/2) dx`, `i = 0, ..., nx - 1`. No unknown lies on the boundary.
/// * `nt` is the number of **time steps**: `dt = T / nt` and the time levels are
///   `t_n = n dt`, `n = 0, ..., nt`, so every space-time field has `nt + 1` levels of `nx`
///   values. A "51 x 51" solve means `nx = 51` cells and `nt = 51` steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    a: f64,
    b: f64,
    nx: usize,
    nt: usize,
    horizon: f64,
    boundary: Boundary,
}

impl Grid {
    /// Checks and builds a grid. Errors name the bad field: `a`/`b` not finite or `a >= b`,
    /// `nx < 3`, `nt < 1`, `horizon` not finite and positive.
    pub fn new(
        a: f64,
        b: f64,
        nx: usize,
        nt: usize,
        horizon: f64,
        boundary: Boundary,
    ) -> Result<Self, MfgError> {
        finite("domain.a", a)?;
        finite("domain.b", b)?;
        if a >= b {
            return Err(MfgError::field(
                "domain",
                format!("need a < b, got [{a}, {b}]"),
            ));
        }
        if nx < 3 {
            return Err(MfgError::field(
                "nx",
                format!("need at least 3 cells, got {nx}"),
            ));
        }
        if nt < 1 {
            return Err(MfgError::field("nt", "need at least 1 time step"));
        }
        positive("horizon", horizon)?;
        Ok(Self {
            a,
            b,
            nx,
            nt,
            horizon,
            boundary,
        })
    }

    /// Left end of the domain.
    pub fn a(&self) -> f64 {
        self.a
    }
    /// Right end of the domain.
    pub fn b(&self) -> f64 {
        self.b
    }
    /// Number of cells.
    pub fn nx(&self) -> usize {
        self.nx
    }
    /// Number of time steps (there are `nt + 1` time levels).
    pub fn nt(&self) -> usize {
        self.nt
    }
    /// Horizon `T`.
    pub fn horizon(&self) -> f64 {
        self.horizon
    }
    /// Boundary condition.
    pub fn boundary(&self) -> Boundary {
        self.boundary
    }
    /// Cell width `(b - a) / nx`.
    pub fn dx(&self) -> f64 {
        (self.b - self.a) / self.nx as f64
    }
    /// Time step `T / nt`.
    pub fn dt(&self) -> f64 {
        self.horizon / self.nt as f64
    }
    /// Centre of cell `i`.
    pub fn x(&self, i: usize) -> f64 {
        self.a + (i as f64 + 0.5) * self.dx()
    }
    /// All cell centres.
    pub fn xs(&self) -> Vec<f64> {
        (0..self.nx).map(|i| self.x(i)).collect()
    }
    /// All cell centres as an array, shape `(nx,)`: the coordinates of axis 1 (space) of the
    /// fields of a [`crate::Solution`].
    pub fn x_axis(&self) -> ndarray::Array1<f64> {
        (0..self.nx).map(|i| self.x(i)).collect()
    }
    /// All time levels `t_n = n dt` as an array, shape `(nt + 1,)`: the coordinates of axis 0
    /// (time) of the fields of a [`crate::Solution`].
    pub fn t_axis(&self) -> ndarray::Array1<f64> {
        (0..self.levels()).map(|n| self.t(n)).collect()
    }
    /// Time of level `n`.
    pub fn t(&self, n: usize) -> f64 {
        n as f64 * self.dt()
    }
    /// Number of time levels, `nt + 1`.
    pub fn levels(&self) -> usize {
        self.nt + 1
    }
}
