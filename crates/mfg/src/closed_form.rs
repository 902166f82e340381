//! Closed-form (and ODE-reduced) solutions used to verify the scheme.
//!
//! **LQ games** with `H = p^2 / 2`, running cost `eps/2 (x - target)^2` and terminal cost
//! `c/2 (x - target)^2`. With `k = sqrt(eps)` the Riccati coefficient is
//!
//! ```text
//! eta(t) = k (c + k tanh(k (T - t))) / (k + c tanh(k (T - t))),   eta' = eta^2 - eps, eta(T) = c
//! ```
//!
//! and `int_t^T eta = ln(cosh(k tau) + (c / k) sinh(k tau))` with `tau = T - t`.
//!
//! * Mean target: `u = eta/2 (x - mean)^2 + nu int_t^T eta`, the mean is constant and the
//!   variance solves `s' = -2 eta s + sigma^2`.
//! * Frozen path `theta(t)`: `u = eta/2 x^2 - beta x + gamma` with `beta' = eta beta - eps theta`,
//!   `beta(T) = c theta(T)`, `gamma' = -nu eta + beta^2/2 - eps theta^2/2`,
//!   `gamma(T) = c theta(T)^2 / 2`, and the mean solves `mean' = -eta mean + beta`.
//!
//! **Stationary log-congestion**: `-nu u'' + u'^2/2 + rho = a x^2/2 + lambda ln m` has the
//! Gaussian solution `m = N(0, s)` with `1/s = (-lambda + sqrt(lambda^2 + 4 a nu^2)) / (2 nu^2)`.
//!
//! The ODEs are integrated with classical RK4 on `substeps` sub-intervals per grid step, far
//! finer than the PDE grid, so their error is negligible against the scheme's.

/// The LQ game parameters (with `H = p^2 / 2`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LqGame {
    /// Running-cost weight `eps >= 0`.
    pub eps: f64,
    /// Terminal-cost weight `c >= 0`.
    pub c: f64,
    /// Volatility `sigma` (`nu = sigma^2 / 2`).
    pub sigma: f64,
    /// Horizon `T`.
    pub horizon: f64,
}

impl LqGame {
    fn nu(&self) -> f64 {
        0.5 * self.sigma * self.sigma
    }

    /// `eta(t)`.
    pub fn eta(&self, t: f64) -> f64 {
        let tau = self.horizon - t;
        let k = self.eps.sqrt();
        if k < 1e-12 {
            return self.c / (1.0 + self.c * tau);
        }
        let th = (k * tau).tanh();
        k * (self.c + k * th) / (k + self.c * th)
    }

    /// `int_t^T eta(s) ds`.
    pub fn int_eta(&self, t: f64) -> f64 {
        let tau = self.horizon - t;
        let k = self.eps.sqrt();
        if k < 1e-12 {
            return (1.0 + self.c * tau).ln();
        }
        let (x, r) = (k * tau, self.c / k);
        if x < 1.0 {
            (x.cosh() + r * x.sinh()).ln()
        } else {
            // ln(cosh x + r sinh x) = x + ln((1 + r)/2 + (1 - r)/2 e^{-2x}): no overflow of
            // cosh and sinh for large x (they overflow past x = 710).
            x + (0.5 * (1.0 + r) + 0.5 * (1.0 - r) * (-2.0 * x).exp()).ln()
        }
    }

    /// The largest value `eta` takes on `[0, T]`: it moves monotonically from `eta(T) = c`
    /// towards `sqrt(eps)`, so `max(c, sqrt(eps))` bounds it.
    fn eta_bound(&self) -> f64 {
        self.c.max(self.eps.sqrt())
    }

    /// Mean-target value function `eta/2 (x - mean)^2 + nu int_t^T eta`.
    pub fn mean_target_value(&self, t: f64, x: f64, mean: f64) -> f64 {
        0.5 * self.eta(t) * (x - mean).powi(2) + self.nu() * self.int_eta(t)
    }

    /// The variance `s(t_n)` at `levels` equally spaced times `t_n = n T / (levels - 1)`
    /// from `s(0) = s0` (mean-target and frozen-path games share it), with at least `substeps`
    /// RK4 steps per interval, and more where `s' = -2 eta s + sigma^2` is stiff: every step
    /// keeps `2 eta h <= 1/2`, well inside RK4's stability interval.
    pub fn variance(&self, s0: f64, levels: usize, substeps: usize) -> Vec<f64> {
        let sig2 = self.sigma * self.sigma;
        let f = |t: f64, s: f64| -2.0 * self.eta(t) * s + sig2;
        let interval = self.horizon / (levels.max(2) - 1) as f64;
        let stiff = (4.0 * self.eta_bound() * interval).ceil();
        let substeps = if stiff.is_finite() {
            substeps.max(stiff as usize)
        } else {
            substeps
        };
        rk4_levels(f, 0.0, s0, self.horizon, levels, substeps)
    }

    /// The frozen-path solution at `levels` equally spaced times, for the target path `theta`
    /// and initial mean `mean0`.
    pub fn frozen_path(
        &self,
        theta: impl Fn(f64) -> f64,
        mean0: f64,
        levels: usize,
        substeps: usize,
    ) -> FrozenPath {
        let t_end = self.horizon;
        let nu = self.nu();
        let eps = self.eps;
        let n = levels - 1;
        let h = t_end / (n * substeps) as f64;
        // Backward in time for (beta, gamma).
        let mut beta = vec![0.0; levels];
        let mut gamma = vec![0.0; levels];
        let th_t = theta(t_end);
        let (mut b, mut g) = (self.c * th_t, 0.5 * self.c * th_t * th_t);
        beta[n] = b;
        gamma[n] = g;
        let rhs = |t: f64, b: f64| -> (f64, f64) {
            let th = theta(t);
            let e = self.eta(t);
            (
                e * b - eps * th,
                -nu * e + 0.5 * b * b - 0.5 * eps * th * th,
            )
        };
        for level in (0..n).rev() {
            for j in 0..substeps {
                let t = t_end - ((n - level - 1) * substeps + j) as f64 * h;
                // Step from t to t - h (h > 0 backwards).
                let k1 = rhs(t, b);
                let k2 = rhs(t - 0.5 * h, b - 0.5 * h * k1.0);
                let k3 = rhs(t - 0.5 * h, b - 0.5 * h * k2.0);
                let k4 = rhs(t - h, b - h * k3.0);
                b -= h / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0);
                g -= h / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1);
            }
            beta[level] = b;
            gamma[level] = g;
        }
        // Forward for the mean; beta between levels is re-integrated alongside.
        let mut mean = vec![0.0; levels];
        mean[0] = mean0;
        let (mut mu, mut bb) = (mean0, beta[0]);
        let fwd = |t: f64, mu: f64, b: f64| -> (f64, f64) {
            let e = self.eta(t);
            (-e * mu + b, e * b - eps * theta(t))
        };
        for (level, slot) in mean.iter_mut().enumerate().skip(1) {
            for j in 0..substeps {
                let t = ((level - 1) * substeps + j) as f64 * h;
                let k1 = fwd(t, mu, bb);
                let k2 = fwd(t + 0.5 * h, mu + 0.5 * h * k1.0, bb + 0.5 * h * k1.1);
                let k3 = fwd(t + 0.5 * h, mu + 0.5 * h * k2.0, bb + 0.5 * h * k2.1);
                let k4 = fwd(t + h, mu + h * k3.0, bb + h * k3.1);
                mu += h / 6.0 * (k1.0 + 2.0 * k2.0 + 2.0 * k3.0 + k4.0);
                bb += h / 6.0 * (k1.1 + 2.0 * k2.1 + 2.0 * k3.1 + k4.1);
            }
            *slot = mu;
        }
        let eta = (0..levels)
            .map(|l| self.eta(l as f64 * t_end / n as f64))
            .collect();
        FrozenPath {
            eta,
            beta,
            gamma,
            mean,
        }
    }
}

/// Largest errors of a mean-target LQ solve against the closed form.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LqErrors {
    /// Max over all levels and the interior cells `|x - mean| <= interior` of `|u - u_exact|`.
    pub max_err_u: f64,
    /// Max over levels of `|mean(t) - mean(0)|` (the exact mean is constant).
    pub max_err_mean: f64,
    /// Max over levels of `|var(t) - s(t)|` with `s' = -2 eta s + sigma^2`, `s(0) = var(0)`.
    pub max_err_var: f64,
}

impl LqGame {
    /// Errors of `solution` (a solve of this mean-target game with `H = p^2/2`) against the
    /// closed form. The closed form starts from the moments of the discretised `m0`.
    pub fn mean_target_errors(&self, solution: &crate::Solution, interior: f64) -> LqErrors {
        let grid = &solution.grid;
        let mean0 = solution.mean(0);
        let var = self.variance(solution.variance(0), grid.levels(), 100);
        let mut e = LqErrors {
            max_err_u: 0.0,
            max_err_mean: 0.0,
            max_err_var: 0.0,
        };
        for (n, var_n) in var.iter().enumerate() {
            let t = grid.t(n);
            for (i, u) in solution.u_level(n).iter().enumerate() {
                let x = grid.x(i);
                if (x - mean0).abs() <= interior {
                    let err = (u - self.mean_target_value(t, x, mean0)).abs();
                    e.max_err_u = e.max_err_u.max(err);
                }
            }
            e.max_err_mean = e.max_err_mean.max((solution.mean(n) - mean0).abs());
            e.max_err_var = e.max_err_var.max((solution.variance(n) - var_n).abs());
        }
        e
    }

    /// The mean-target game as a configuration on `[mean0 - half_width, mean0 + half_width]`
    /// (reflecting) with `m0 = N(mean0, std0^2)`, `nx` cells and `nt` steps.
    pub fn mean_target_config(
        &self,
        mean0: f64,
        std0: f64,
        half_width: f64,
        nx: usize,
        nt: usize,
    ) -> crate::MfgConfig {
        use crate::config::{CouplingConfig, InitialDensity, TerminalConfig};
        crate::MfgConfig {
            domain: [mean0 - half_width, mean0 + half_width],
            nx,
            nt,
            horizon: self.horizon,
            sigma: self.sigma,
            hamiltonian: crate::HamiltonianConfig::Quadratic { lambda: 1.0 },
            coupling: CouplingConfig::QuadraticTarget {
                eps: self.eps,
                target: crate::Target::Mean,
            },
            terminal: TerminalConfig::QuadraticTarget {
                c: self.c,
                target: crate::Target::Mean,
            },
            m0: InitialDensity::Gaussian {
                mean: mean0,
                std: std0,
            },
            ..crate::MfgConfig::default()
        }
    }

    /// The frozen-path game as a configuration on `domain` (reflecting) with
    /// `m0 = N(mean0, std0^2)`, `nx` cells and `nt` steps: running and terminal costs pull to the
    /// common-noise path `theta` ([`crate::Target::Path`]), the game that
    /// [`crate::common_noise`] solves once per path and [`LqGame::frozen_path`] solves in closed
    /// form.
    pub fn path_target_config(
        &self,
        domain: [f64; 2],
        mean0: f64,
        std0: f64,
        nx: usize,
        nt: usize,
    ) -> crate::MfgConfig {
        use crate::config::{CouplingConfig, TerminalConfig};
        crate::MfgConfig {
            coupling: CouplingConfig::QuadraticTarget {
                eps: self.eps,
                target: crate::Target::Path,
            },
            terminal: TerminalConfig::QuadraticTarget {
                c: self.c,
                target: crate::Target::Path,
            },
            domain,
            ..self.mean_target_config(mean0, std0, 1.0, nx, nt)
        }
    }

    /// A half-width that keeps the density at least 5 standard deviations from the walls:
    /// `5 max(std0, max_t sqrt(s(t)))` (never below 2).
    pub fn safe_half_width(&self, std0: f64) -> f64 {
        let s = self.variance(std0 * std0, 201, 20);
        let max_std = s.iter().copied().fold(std0 * std0, f64::max).sqrt();
        (5.0 * max_std).max(2.0)
    }
}

/// The frozen-path closed form at the time levels.
#[derive(Debug, Clone, PartialEq)]
pub struct FrozenPath {
    /// `eta(t_n)`.
    pub eta: Vec<f64>,
    /// `beta(t_n)`.
    pub beta: Vec<f64>,
    /// `gamma(t_n)`.
    pub gamma: Vec<f64>,
    /// Mean of the density at `t_n`.
    pub mean: Vec<f64>,
}

impl FrozenPath {
    /// `u(t_n, x) = eta/2 x^2 - beta x + gamma`.
    pub fn value(&self, n: usize, x: f64) -> f64 {
        0.5 * self.eta[n] * x * x - self.beta[n] * x + self.gamma[n]
    }
}

/// Variance `s` of the stationary Gaussian density of the log-congestion game
/// `-nu u'' + u'^2/2 + rho = a x^2/2 + lambda ln m`, `nu = sigma^2 / 2`.
pub fn log_congestion_variance(a: f64, lambda: f64, sigma: f64) -> f64 {
    let nu = 0.5 * sigma * sigma;
    2.0 * nu * nu / (-lambda + (lambda * lambda + 4.0 * a * nu * nu).sqrt())
}

fn rk4_levels(
    f: impl Fn(f64, f64) -> f64,
    t0: f64,
    y0: f64,
    t1: f64,
    levels: usize,
    substeps: usize,
) -> Vec<f64> {
    let n = levels - 1;
    let h = (t1 - t0) / (n * substeps) as f64;
    let mut out = vec![y0; levels];
    let mut y = y0;
    for (level, slot) in out.iter_mut().enumerate().skip(1) {
        for j in 0..substeps {
            let t = t0 + ((level - 1) * substeps + j) as f64 * h;
            let k1 = f(t, y);
            let k2 = f(t + 0.5 * h, y + 0.5 * h * k1);
            let k3 = f(t + 0.5 * h, y + 0.5 * h * k2);
            let k4 = f(t + h, y + h * k3);
            y += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        }
        *slot = y;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_solves_its_riccati_equation_and_integrates() {
        let g = LqGame {
            eps: 1.5,
            c: 0.7,
            sigma: 0.4,
            horizon: 2.0,
        };
        assert!((g.eta(2.0) - 0.7).abs() < 1e-15);
        for t in [0.0, 0.5, 1.3] {
            let h = 1e-5;
            let d = (g.eta(t + h) - g.eta(t - h)) / (2.0 * h);
            assert!((d - (g.eta(t).powi(2) - 1.5)).abs() < 1e-7);
            let di = (g.int_eta(t + h) - g.int_eta(t - h)) / (2.0 * h);
            assert!((di + g.eta(t)).abs() < 1e-7);
        }
        // Constant target path: beta = c theta at T and the stationary mean pulls to theta.
        let fp = g.frozen_path(|_| 0.0, 0.3, 11, 50);
        assert!(fp.beta.iter().all(|b| b.abs() < 1e-14));
        let decay = (-(g.int_eta(0.0) - g.int_eta(2.0))).exp();
        assert!((fp.mean[10] - 0.3 * decay).abs() < 1e-10);
    }

    /// Strong running costs over long horizons: `int_eta` stays finite where `cosh` overflows,
    /// and the variance ODE, stiff there, stays stable and reaches its equilibrium
    /// `sigma^2 / (2 sqrt(eps))`.
    #[test]
    fn strong_costs_keep_the_closed_form_finite() {
        let g = LqGame {
            eps: 1e4,
            c: 1.0,
            sigma: 0.5,
            horizon: 10.0,
        };
        // k tau = 1000: cosh overflows; int_eta ~ k tau + ln((1 + c/k)/2).
        let expected = 1000.0 + (0.5 * (1.0 + 0.01f64)).ln();
        assert!(
            (g.int_eta(0.0) - expected).abs() < 1e-9,
            "{}",
            g.int_eta(0.0)
        );
        let h = 1e-6;
        let d = (g.int_eta(0.5 + h) - g.int_eta(0.5 - h)) / (2.0 * h);
        assert!((d + g.eta(0.5)).abs() < 1e-4 * g.eta(0.5));
        let s = g.variance(0.16, 3, 10);
        let equilibrium = 0.25 / (2.0 * 100.0);
        assert!(s.iter().all(|v| v.is_finite()));
        assert!((s[1] - equilibrium).abs() < 1e-6 * equilibrium, "{s:?}");
    }

    #[test]
    fn stationary_variance_solves_its_quadratic() {
        let (a, l, sigma) = (1.0, 0.5, 0.8);
        let s = log_congestion_variance(a, l, sigma);
        let nu = 0.5 * sigma * sigma;
        assert!((a * s * s - l * s - nu * nu).abs() < 1e-14);
    }
}
