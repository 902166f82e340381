//! The ingredients of a mean-field game: Hamiltonian, running coupling, terminal cost.
//!
//! The game solved is, on `[a, b] x [0, T]` with `nu = sigma^2 / 2`,
//!
//! ```text
//! -u_t - nu u_xx + H(x, u_x, m, t, theta) = F(x, m(t), t, theta),   u(T, x) = g(x, m(T), theta(T))
//!  m_t - nu m_xx - (m H_p(x, u_x, m, t, theta))_x = 0,               m(0, x) = m0(x)
//! ```
//!
//! where `theta(t)` is an optional exogenous (common-noise) path, frozen during one solve.

use std::fmt::Debug;

use serde::{Deserialize, Serialize};

/// The local state at which a Hamiltonian is evaluated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Cell centre.
    pub x: f64,
    /// Time.
    pub t: f64,
    /// Density at `(x, t)` (the density level the HJB step is coupled to).
    pub m: f64,
    /// Common-noise value at `t` (0 when the problem has no common noise).
    pub theta: f64,
}

/// A Hamiltonian `H(x, p, m, t, theta)`, **convex in `p`**, with its derivative in `p`.
///
/// The scheme builds the monotone two-sided upwind numerical Hamiltonian
/// `H^(p-, p+) = H(max(p-, p*)) + H(min(p+, p*)) - H(p*)` where `p*` is the minimiser of
/// `H(x, ., m, t, theta)` ([`Hamiltonian::argmin`]). It is non-decreasing in the backward
/// difference `p-`, non-increasing in the forward difference `p+`, consistent
/// (`H^(p, p) = H(p)`) and C^1 when `H` is, which is what Newton's method and the
/// M-matrix property need.
pub trait Hamiltonian: Send + Sync + Debug {
    /// `H(x, p, m, t, theta)`.
    fn value(&self, at: &Point, p: f64) -> f64;
    /// `dH/dp(x, p, m, t, theta)`; the optimal feedback drift is `-dH/dp(x, u_x, ...)`.
    fn dp(&self, at: &Point, p: f64) -> f64;
    /// The `p` minimising `H(x, ., m, t, theta)` (0 for the quadratic Hamiltonian).
    fn argmin(&self, at: &Point) -> f64 {
        let _ = at;
        0.0
    }
}

/// `H = |p|^2 / (2 lambda)`: control cost `lambda |alpha|^2 / 2`, optimal drift `-p / lambda`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuadraticHamiltonian {
    /// Control-cost weight `lambda > 0` (default 1).
    pub lambda: f64,
}

impl Default for QuadraticHamiltonian {
    fn default() -> Self {
        Self { lambda: 1.0 }
    }
}

impl Hamiltonian for QuadraticHamiltonian {
    #[inline]
    fn value(&self, _at: &Point, p: f64) -> f64 {
        0.5 * p * p / self.lambda
    }
    #[inline]
    fn dp(&self, _at: &Point, p: f64) -> f64 {
        p / self.lambda
    }
}

/// What a coupling or terminal cost sees of one time level.
#[derive(Debug, Clone, Copy)]
pub struct Level<'a> {
    /// Cell centres.
    pub x: &'a [f64],
    /// Cell width (the density integrates as `sum m_i dx`).
    pub dx: f64,
    /// Time of the level.
    pub t: f64,
    /// Common-noise value at `t` (0 without common noise).
    pub theta: f64,
}

impl Level<'_> {
    /// `sum m_i dx`.
    pub fn mass(&self, m: &[f64]) -> f64 {
        m.iter().sum::<f64>() * self.dx
    }
    /// First moment `sum x_i m_i dx / mass`.
    pub fn mean(&self, m: &[f64]) -> f64 {
        let mass = self.mass(m);
        self.x.iter().zip(m).map(|(x, m)| x * m).sum::<f64>() * self.dx / mass
    }
}

/// A running coupling `F(x, m(t), t, theta)`: local in `m`, or through moments, or any
/// functional of the whole level. Implementations write one value per cell into `out`.
pub trait Coupling: Send + Sync + Debug {
    /// Writes `F(x_i, m, t, theta)` for every cell `i` into `out` (`out.len() == m.len()`).
    fn eval(&self, level: &Level<'_>, m: &[f64], out: &mut [f64]);
}

/// A terminal cost `g(x, m(T), theta(T))`, written one value per cell into `out`.
pub trait TerminalCost: Send + Sync + Debug {
    /// Writes `g(x_i, m, theta)` for every cell `i` into `out`.
    fn eval(&self, level: &Level<'_>, m: &[f64], out: &mut [f64]);
}

/// No running coupling (`F = 0`) and no terminal cost (`g = 0`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zero;

impl Coupling for Zero {
    fn eval(&self, _level: &Level<'_>, _m: &[f64], out: &mut [f64]) {
        out.fill(0.0);
    }
}

impl TerminalCost for Zero {
    fn eval(&self, _level: &Level<'_>, _m: &[f64], out: &mut [f64]) {
        out.fill(0.0);
    }
}

/// The point a [`QuadraticTarget`] pulls towards.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    from = "TargetRepr"
)]
pub enum Target {
    /// The population mean `sum x_i m_i dx / sum m_i dx` (a coupling through a moment).
    Mean,
    /// The common-noise value `theta(t)` (a frozen path when solved conditionally).
    Path,
    /// A fixed point `x0`.
    Point {
        /// The point.
        x0: f64,
    },
}

/// How [`Target`] is read: its field-less variants as empty structs, so that an unknown field
/// beside them is an error too (serde ignores extra fields of an internally tagged unit variant).
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum TargetRepr {
    Mean {},
    Path {},
    Point { x0: f64 },
}

impl From<TargetRepr> for Target {
    fn from(r: TargetRepr) -> Self {
        match r {
            TargetRepr::Mean {} => Self::Mean,
            TargetRepr::Path {} => Self::Path,
            TargetRepr::Point { x0 } => Self::Point { x0 },
        }
    }
}

/// `weight / 2 * (x - target)^2`, usable as running coupling (`weight = eps`) and as terminal
/// cost (`weight = c`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuadraticTarget {
    /// Weight (`eps` for the running cost, `c` for the terminal cost), `>= 0`.
    pub weight: f64,
    /// What to pull towards.
    pub target: Target,
}

impl QuadraticTarget {
    fn write(&self, level: &Level<'_>, m: &[f64], out: &mut [f64]) {
        let target = match self.target {
            Target::Mean => level.mean(m),
            Target::Path => level.theta,
            Target::Point { x0 } => x0,
        };
        for (o, x) in out.iter_mut().zip(level.x) {
            let d = x - target;
            *o = 0.5 * self.weight * d * d;
        }
    }
}

impl Coupling for QuadraticTarget {
    fn eval(&self, level: &Level<'_>, m: &[f64], out: &mut [f64]) {
        self.write(level, m, out);
    }
}

impl TerminalCost for QuadraticTarget {
    fn eval(&self, level: &Level<'_>, m: &[f64], out: &mut [f64]) {
        self.write(level, m, out);
    }
}

/// `a x^2 / 2 + strength * ln m`: a confining potential plus a local logarithmic congestion
/// cost (crowd aversion for `strength > 0`). `ln` is taken of `max(m, f64::MIN_POSITIVE)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogCongestion {
    /// Potential curvature `a > 0`.
    pub a: f64,
    /// Congestion strength (`lambda` in the stationary closed form).
    pub strength: f64,
}

impl Coupling for LogCongestion {
    fn eval(&self, level: &Level<'_>, m: &[f64], out: &mut [f64]) {
        for ((o, x), m) in out.iter_mut().zip(level.x).zip(m) {
            *o = 0.5 * self.a * x * x + self.strength * m.max(f64::MIN_POSITIVE).ln();
        }
    }
}
