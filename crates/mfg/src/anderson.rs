//! Anderson acceleration of a fixed-point iteration `x <- g(x)`, after Walker and Ni \[1\].
//!
//! With the residual `f(x) = g(x) - x` and the last `m_k = min(depth, k)` differences of
//! iterates and residuals, `dX_k = [x_{i+1} - x_i]` and `dF_k = [f_{i+1} - f_i]`
//! (`i = k - m_k, ..., k - 1`), one step solves the unconstrained least-squares problem
//!
//! ```text
//! gamma_k = argmin || f_k - dF_k gamma ||_2
//! ```
//!
//! and sets `x_{k+1} = x_k + beta f_k - (dX_k + beta dF_k) gamma_k`. This is Walker and Ni's
//! Algorithm AA with mixing parameter `beta` in its unconstrained form (their section 3):
//! `x_{k+1} = (1 - beta) sum_i alpha_i x_i + beta sum_i alpha_i g(x_i)` with the affine weights
//! `alpha` (`sum alpha = 1`) that minimise `|| sum_i alpha_i f_i ||_2`. With no history (the
//! first step, or `depth = 0`) it is the damped Picard step `x + beta f`. Because the weights
//! sum to one, every linear invariant that all `x_i` and `g(x_i)` share (the mass of each time
//! level of a density) is kept exactly, up to round-off.
//!
//! **Least squares.** Solved as Walker and Ni recommend, by a QR factorisation of `dF_k`
//! (modified Gram-Schmidt, rebuilt at each step: `O(n depth^2)` against the `O(n)`-per-column
//! cost of the sweeps, and no allocation), never by the normal equations.
//!
//! **Safeguards.** As in Walker and Ni's implementation, the oldest columns are dropped while
//! the factor `R` is ill-conditioned: while `max |R_jj| / min |R_jj|` (a cheap estimate of its
//! condition number) exceeds [`DROP_TOLERANCE`], or a column is zero. Each drop is counted in
//! [`AndersonStats::dropped_columns`]. The iterate of the solver is a density, and an affine
//! combination of densities may dip below zero where they are tiny, which a coupling such as
//! `ln m` amplifies; so the solver rejects an accelerated density with a negative value, takes
//! the damped Picard step instead and restarts the acceleration with an empty history
//! ([`AndersonStats::restarts`]), the usual restarted-Anderson safeguard. (Clipping the
//! negatives instead, and rescaling to the level's mass, was tried: on the log-congestion game
//! it made the acceleration slower than plain damped Picard.)
//!
//! **Measured** (51 x 51, tolerance 1e-8; `tests/anderson.rs` prints these counts and checks
//! that the acceleration at least halves them on the first and third game): the
//! mean-target LQ game of [`crate::MfgConfig::default`] takes 17 plain Picard iterations and 6
//! accelerated ones (depth 5); the stationary log-congestion game of the closed-form tests
//! (damping 0.5) takes 62 and 29, and undamped, where plain Picard never converges, 29.
//!
//! 1. H. F. Walker, P. Ni, *Anderson acceleration for fixed-point iterations*, SIAM J. Numer.
//!    Anal. 49(4) (2011) 1715-1735, doi:10.1137/10078356X.
//! 2. D. G. Anderson, *Iterative procedures for nonlinear integral equations*, J. ACM 12(4)
//!    (1965) 547-560, doi:10.1145/321296.321305.

use serde::{Deserialize, Serialize};

/// Condition-number estimate of the least-squares factor above which the oldest difference
/// column is dropped (1e10).
pub const DROP_TOLERANCE: f64 = 1e10;

/// Largest memory depth a configuration may ask for (50): each column costs two vectors of the
/// size of the iterate (and a third during the factorisation), and depths beyond a few tens
/// bring nothing on problems of this kind.
pub const MAX_DEPTH: usize = 50;

/// What the acceleration did over a solve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AndersonStats {
    /// The memory depth used (0: plain Picard).
    pub depth: usize,
    /// Accelerated steps (steps that combined at least one earlier iterate).
    pub accelerated_steps: usize,
    /// Difference columns dropped because the least-squares factor was ill-conditioned.
    pub dropped_columns: usize,
    /// Accelerated steps rejected because the density they gave had a negative value: each
    /// was replaced by the damped Picard step, and the history cleared.
    pub restarts: usize,
}

/// The history and workspace of an accelerated iteration on vectors of length `n`; every buffer
/// is allocated once, in [`Anderson::new`].
#[derive(Debug, Clone)]
pub(crate) struct Anderson {
    n: usize,
    depth: usize,
    /// Stored columns.
    len: usize,
    /// Ring slot of the oldest column.
    head: usize,
    dx: Vec<f64>,
    df: Vec<f64>,
    q: Vec<f64>,
    r: Vec<f64>,
    gamma: Vec<f64>,
    f: Vec<f64>,
    x_prev: Vec<f64>,
    f_prev: Vec<f64>,
    has_prev: bool,
    pub(crate) stats: AndersonStats,
}

impl Anderson {
    /// Buffers for iterates of length `n` and `depth >= 1` stored differences.
    pub(crate) fn new(n: usize, depth: usize) -> Self {
        Self {
            n,
            depth,
            len: 0,
            head: 0,
            dx: vec![0.0; depth * n],
            df: vec![0.0; depth * n],
            q: vec![0.0; depth * n],
            r: vec![0.0; depth * depth],
            gamma: vec![0.0; depth],
            f: vec![0.0; n],
            x_prev: vec![0.0; n],
            f_prev: vec![0.0; n],
            has_prev: false,
            stats: AndersonStats {
                depth,
                ..AndersonStats::default()
            },
        }
    }

    fn col(buf: &[f64], n: usize, slot: usize) -> &[f64] {
        &buf[slot * n..(slot + 1) * n]
    }

    /// Replaces the iterate `x = x_k` by `x_{k+1}`, given `gx = g(x_k)` and the mixing `beta`.
    pub(crate) fn step(&mut self, x: &mut [f64], gx: &[f64], beta: f64) {
        let n = self.n;
        for ((f, g), x) in self.f.iter_mut().zip(gx).zip(x.iter()) {
            *f = g - x;
        }
        if self.has_prev {
            let slot = if self.len < self.depth {
                self.len += 1;
                (self.head + self.len - 1) % self.depth
            } else {
                let s = self.head;
                self.head = (self.head + 1) % self.depth;
                s
            };
            let dx = &mut self.dx[slot * n..(slot + 1) * n];
            for ((d, a), b) in dx.iter_mut().zip(x.iter()).zip(&self.x_prev) {
                *d = a - b;
            }
            let df = &mut self.df[slot * n..(slot + 1) * n];
            for ((d, a), b) in df.iter_mut().zip(&self.f).zip(&self.f_prev) {
                *d = a - b;
            }
        }
        self.x_prev.copy_from_slice(x);
        self.f_prev.copy_from_slice(&self.f);
        self.has_prev = true;
        while self.len > 0 && !self.factorise() {
            self.head = (self.head + 1) % self.depth;
            self.len -= 1;
            self.stats.dropped_columns += 1;
        }
        let m = self.len;
        // gamma = R^{-1} Q^T f (back substitution).
        for j in 0..m {
            self.gamma[j] = dot(Self::col(&self.q, n, j), &self.f);
        }
        for j in (0..m).rev() {
            let mut s = self.gamma[j];
            for i in j + 1..m {
                s -= self.r[j * self.depth + i] * self.gamma[i];
            }
            self.gamma[j] = s / self.r[j * self.depth + j];
        }
        for (xi, fi) in x.iter_mut().zip(&self.f) {
            *xi += beta * fi;
        }
        for j in 0..m {
            let slot = (self.head + j) % self.depth;
            let g = self.gamma[j];
            let dx = Self::col(&self.dx, n, slot);
            let df = Self::col(&self.df, n, slot);
            for ((xi, a), b) in x.iter_mut().zip(dx).zip(df) {
                *xi -= g * (a + beta * b);
            }
        }
        if m > 0 {
            self.stats.accelerated_steps += 1;
        }
    }

    /// Replaces the accelerated iterate of the last [`Anderson::step`] by the damped Picard
    /// step `x_k + beta f_k` and forgets the stored differences (a restart).
    pub(crate) fn restart(&mut self, x: &mut [f64], beta: f64) {
        for ((xi, xp), fp) in x.iter_mut().zip(&self.x_prev).zip(&self.f_prev) {
            *xi = xp + beta * fp;
        }
        self.len = 0;
        self.head = 0;
        self.stats.restarts += 1;
    }

    /// Modified Gram-Schmidt QR of the stored `dF` columns, oldest first, into `q` and `r`.
    /// Returns false when a column is zero or the condition estimate exceeds the tolerance.
    fn factorise(&mut self) -> bool {
        let (n, d) = (self.n, self.depth);
        let (mut rmax, mut rmin) = (0.0_f64, f64::INFINITY);
        for j in 0..self.len {
            let slot = (self.head + j) % d;
            let (done, rest) = self.q.split_at_mut(j * n);
            let v = &mut rest[..n];
            v.copy_from_slice(Self::col(&self.df, n, slot));
            for i in 0..j {
                let qi = &done[i * n..(i + 1) * n];
                let rij = dot(qi, v);
                self.r[i * d + j] = rij;
                for (a, b) in v.iter_mut().zip(qi) {
                    *a -= rij * b;
                }
            }
            let rjj = dot(v, v).sqrt();
            if !(rjj > 0.0 && rjj.is_finite()) {
                return false;
            }
            self.r[j * d + j] = rjj;
            for a in v.iter_mut() {
                *a /= rjj;
            }
            rmax = rmax.max(rjj);
            rmin = rmin.min(rjj);
        }
        rmax <= DROP_TOLERANCE * rmin
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On an affine map `g(x) = A x + b` in `R^n` with memory `depth >= n`, Anderson
    /// acceleration is equivalent to GMRES on `(I - A) x = b` (Walker and Ni, section 2) and
    /// reaches the fixed point in at most `n + 1` steps; plain Picard needs many more.
    #[test]
    fn solves_a_linear_fixed_point_in_n_plus_one_steps() {
        let n = 6;
        // A: contraction with eigenvalues near 0.95 (slow for Picard), non-symmetric.
        let a: Vec<f64> = (0..n * n)
            .map(|k| {
                let (i, j) = (k / n, k % n);
                if i == j {
                    0.9 + 0.01 * i as f64
                } else if j == i + 1 {
                    0.05
                } else {
                    0.0
                }
            })
            .collect();
        let b: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        let g = |x: &[f64], out: &mut [f64]| {
            for i in 0..n {
                out[i] = b[i] + (0..n).map(|j| a[i * n + j] * x[j]).sum::<f64>();
            }
        };
        let residual = |x: &[f64]| {
            let mut gx = vec![0.0; n];
            g(x, &mut gx);
            gx.iter()
                .zip(x)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f64::max)
        };
        let mut aa = Anderson::new(n, n);
        let mut x = vec![0.0; n];
        let mut gx = vec![0.0; n];
        for _ in 0..=n {
            g(&x, &mut gx);
            aa.step(&mut x, &gx, 1.0);
        }
        // The fixed point has entries up to about 100: 1e-7 is a relative 1e-9.
        assert!(residual(&x) < 1e-7, "residual {}", residual(&x));
        let mut y = vec![0.0; n];
        for _ in 0..=n {
            g(&y, &mut gx);
            y.copy_from_slice(&gx);
        }
        assert!(residual(&y) > 1.0, "Picard residual {}", residual(&y));
    }

    #[test]
    fn without_history_it_is_the_damped_picard_step() {
        let mut aa = Anderson::new(3, 2);
        let mut x = vec![1.0, 2.0, 3.0];
        aa.step(&mut x, &[3.0, 2.0, 1.0], 0.5);
        assert_eq!(x, vec![2.0, 2.0, 2.0]);
        assert_eq!(aa.stats.accelerated_steps, 0);
    }

    #[test]
    fn a_repeated_residual_drops_its_zero_column() {
        // An iterate at the fixed point, twice: the residual difference is zero, its column is
        // dropped and the step is the plain one.
        let mut aa = Anderson::new(2, 3);
        let mut x = vec![1.0, 1.0];
        aa.step(&mut x, &[1.0, 1.0], 1.0);
        aa.step(&mut x, &[1.0, 1.0], 1.0);
        assert_eq!(x, vec![1.0, 1.0]);
        assert_eq!(aa.stats.dropped_columns, 1);
    }
}
