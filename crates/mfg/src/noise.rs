//! Exogenous common-noise processes `theta(t)`, sampled exactly on the time grid, and the ways
//! of drawing K paths (plain, antithetic, randomised quasi-Monte Carlo).
//!
//! Exact transitions over a step `dt` (P. Glasserman, *Monte Carlo Methods in Financial
//! Engineering*, Springer 2003, sections 3.3-3.4):
//!
//! * Ornstein-Uhlenbeck `d theta = kappa (mu - theta) dt + sigma dW`:
//!   `theta' = mu + (theta - mu) e^{-kappa dt} + sigma sqrt((1 - e^{-2 kappa dt}) / (2 kappa)) Z`.
//! * Geometric Brownian motion `d theta = a theta dt + sigma theta dW`:
//!   `theta' = theta exp((a - sigma^2/2) dt + sigma sqrt(dt) Z)`.
//! * Cox-Ingersoll-Ross `d theta = kappa (mu - theta) dt + sigma sqrt(theta) dW`: `theta'` is
//!   `c` times a non-central chi-square with `d = 4 kappa mu / sigma^2` degrees of freedom and
//!   non-centrality `theta e^{-kappa dt} / c`, `c = sigma^2 (1 - e^{-kappa dt}) / (4 kappa)`,
//!   drawn as a Poisson mixture of central chi-squares.
//!
//! OU and GBM paths are functions of `nt` standard normals, so antithetic pairs (`Z`, `-Z`) and
//! quasi-Monte Carlo (`Z = Phi^-1(U)`, `U` a scrambled Sobol point in `nt` dimensions) apply.
//! CIR supports plain sampling only.

use rand::Rng;
use rand_distr::{Distribution, Gamma, Poisson, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::{MfgError, finite, non_negative, positive};
use crate::sobol::{Sobol, inverse_normal_cdf};

/// How [`Sampling`] is read: its field-less variants as empty structs, so that an unknown field
/// beside them is an error too (serde ignores extra fields of an internally tagged unit variant).
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum SamplingRepr {
    Plain {},
    Antithetic {},
    Qmc { replicates: usize },
}

impl From<SamplingRepr> for Sampling {
    fn from(r: SamplingRepr) -> Self {
        match r {
            SamplingRepr::Plain {} => Self::Plain,
            SamplingRepr::Antithetic {} => Self::Antithetic,
            SamplingRepr::Qmc { replicates } => Self::Qmc { replicates },
        }
    }
}

/// An exogenous process for `theta`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NoiseProcess {
    /// Ornstein-Uhlenbeck.
    OrnsteinUhlenbeck {
        /// Mean-reversion rate `kappa >= 0` (0 gives Brownian motion).
        kappa: f64,
        /// Long-run mean `mu`.
        mean: f64,
        /// Volatility `sigma >= 0`.
        sigma: f64,
        /// Start value.
        x0: f64,
    },
    /// Cox-Ingersoll-Ross (plain sampling only).
    Cir {
        /// Mean-reversion rate `kappa > 0`.
        kappa: f64,
        /// Long-run mean `mu > 0`.
        mean: f64,
        /// Volatility `sigma > 0`.
        sigma: f64,
        /// Start value `>= 0`.
        x0: f64,
    },
    /// Geometric Brownian motion.
    Gbm {
        /// Drift rate `a`.
        drift: f64,
        /// Volatility `sigma >= 0`.
        sigma: f64,
        /// Start value `> 0`.
        x0: f64,
    },
}

/// How the K paths are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    from = "SamplingRepr"
)]
pub enum Sampling {
    /// Independent paths: path `i` uses `task_rng(seed, i)`.
    #[default]
    Plain,
    /// Pairs `(Z, -Z)`: paths `2j` and `2j + 1` share `task_rng(seed, j)`. K must be even.
    Antithetic,
    /// Randomised QMC: `replicates` independent scramblings (replicate `r` uses
    /// `task_rng(seed, r)`) of the first `K / replicates` Sobol points in `nt` dimensions.
    /// K must be a multiple of `replicates >= 2`.
    Qmc {
        /// Number of independent randomisations (the standard error is computed across them).
        replicates: usize,
    },
}

impl Sampling {
    /// Size of the groups whose means are independent: 1 (plain), 2 (antithetic),
    /// `K / replicates` (QMC).
    pub fn group_size(&self, paths: usize) -> usize {
        match *self {
            Self::Plain => 1,
            Self::Antithetic => 2,
            Self::Qmc { replicates } => paths / replicates.max(1),
        }
    }

    /// Checks the sampling against the path count, process and number of steps.
    pub fn validate(
        &self,
        paths: usize,
        process: &NoiseProcess,
        nt: usize,
    ) -> Result<(), MfgError> {
        match *self {
            Self::Plain => {
                if paths < 2 {
                    return Err(MfgError::field("noise.paths", "needs at least 2 paths"));
                }
            }
            Self::Antithetic => {
                if paths < 4 || !paths.is_multiple_of(2) {
                    return Err(MfgError::field(
                        "noise.paths",
                        format!("antithetic sampling needs an even count >= 4, got {paths}"),
                    ));
                }
            }
            Self::Qmc { replicates } => {
                if replicates < 2 || !paths.is_multiple_of(replicates) {
                    return Err(MfgError::field(
                        "noise.sampling.replicates",
                        format!("must be >= 2 and divide the path count {paths}, got {replicates}"),
                    ));
                }
                if nt > crate::sobol::MAX_DIMENSIONS {
                    return Err(MfgError::SobolDimension {
                        needed: nt,
                        available: crate::sobol::MAX_DIMENSIONS,
                    });
                }
            }
        }
        if !matches!(self, Self::Plain) && matches!(process, NoiseProcess::Cir { .. }) {
            return Err(MfgError::field(
                "noise.sampling",
                "CIR paths are not a transform of Gaussian increments: use plain sampling",
            ));
        }
        Ok(())
    }
}

impl NoiseProcess {
    /// Checks the parameters, naming the bad one.
    pub fn validate(&self) -> Result<(), MfgError> {
        match *self {
            Self::OrnsteinUhlenbeck {
                kappa,
                mean,
                sigma,
                x0,
            } => {
                non_negative("noise.process.kappa", kappa)?;
                finite("noise.process.mean", mean)?;
                non_negative("noise.process.sigma", sigma)?;
                finite("noise.process.x0", x0)?;
            }
            Self::Cir {
                kappa,
                mean,
                sigma,
                x0,
            } => {
                positive("noise.process.kappa", kappa)?;
                positive("noise.process.mean", mean)?;
                positive("noise.process.sigma", sigma)?;
                non_negative("noise.process.x0", x0)?;
            }
            Self::Gbm { drift, sigma, x0 } => {
                finite("noise.process.drift", drift)?;
                non_negative("noise.process.sigma", sigma)?;
                positive("noise.process.x0", x0)?;
            }
        }
        Ok(())
    }

    fn start(&self) -> f64 {
        match *self {
            Self::OrnsteinUhlenbeck { x0, .. } | Self::Cir { x0, .. } | Self::Gbm { x0, .. } => x0,
        }
    }

    /// `E[theta(t_n)]` at the `nt + 1` levels of step `dt`.
    pub fn mean_path(&self, dt: f64, nt: usize) -> Vec<f64> {
        (0..=nt)
            .map(|n| {
                let t = n as f64 * dt;
                match *self {
                    Self::OrnsteinUhlenbeck {
                        kappa, mean, x0, ..
                    }
                    | Self::Cir {
                        kappa, mean, x0, ..
                    } => mean + (x0 - mean) * (-kappa * t).exp(),
                    Self::Gbm { drift, x0, .. } => x0 * (drift * t).exp(),
                }
            })
            .collect()
    }

    /// The path driven by the standard normals `z` (one per step), for OU and GBM.
    ///
    /// # Panics
    /// For CIR, which is not Gaussian-driven (rejected earlier by [`Sampling::validate`]).
    pub fn path_from_normals(&self, dt: f64, z: &[f64]) -> Vec<f64> {
        let mut out = Vec::with_capacity(z.len() + 1);
        let mut x = self.start();
        out.push(x);
        for zi in z {
            x = match *self {
                Self::OrnsteinUhlenbeck {
                    kappa, mean, sigma, ..
                } => {
                    if kappa == 0.0 {
                        x + sigma * dt.sqrt() * zi
                    } else {
                        let e = (-kappa * dt).exp();
                        let sd = sigma * ((1.0 - e * e) / (2.0 * kappa)).sqrt();
                        mean + (x - mean) * e + sd * zi
                    }
                }
                Self::Gbm { drift, sigma, .. } => {
                    x * ((drift - 0.5 * sigma * sigma) * dt + sigma * dt.sqrt() * zi).exp()
                }
                Self::Cir { .. } => panic!("CIR paths are not driven by Gaussian increments"),
            };
            out.push(x);
        }
        out
    }

    /// An exact path of `nt` steps drawn from `rng`.
    pub fn sample(&self, dt: f64, nt: usize, rng: &mut impl Rng) -> Vec<f64> {
        match *self {
            Self::Cir {
                kappa,
                mean,
                sigma,
                x0,
            } => {
                let e = (-kappa * dt).exp();
                let c = sigma * sigma * (1.0 - e) / (4.0 * kappa);
                let d = 4.0 * kappa * mean / (sigma * sigma);
                let mut out = Vec::with_capacity(nt + 1);
                let mut x = x0;
                out.push(x);
                for _ in 0..nt {
                    let lambda = x * e / c;
                    let k = if lambda > 0.0 {
                        Poisson::new(0.5 * lambda)
                            .expect("positive rate")
                            .sample(rng)
                    } else {
                        0.0
                    };
                    let shape = 0.5 * d + k;
                    x = c * Gamma::new(shape, 2.0).expect("positive shape").sample(rng);
                    out.push(x);
                }
                out
            }
            _ => {
                let z: Vec<f64> = (0..nt).map(|_| rng.sample(StandardNormal)).collect();
                self.path_from_normals(dt, &z)
            }
        }
    }

    /// Path `index` of `paths` drawn with `sampling` from `seed`: a pure function of its
    /// arguments, so the same path comes out in any execution mode or worker.
    pub fn path(
        &self,
        sampling: Sampling,
        seed: u64,
        index: usize,
        paths: usize,
        dt: f64,
        nt: usize,
    ) -> Result<Vec<f64>, MfgError> {
        Ok(match sampling {
            Sampling::Plain => self.sample(dt, nt, &mut par_core::seed::task_rng(seed, index)),
            Sampling::Antithetic => {
                let mut rng = par_core::seed::task_rng(seed, index / 2);
                let sign = if index.is_multiple_of(2) { 1.0 } else { -1.0 };
                let z: Vec<f64> = (0..nt)
                    .map(|_| sign * rng.sample::<f64, _>(StandardNormal))
                    .collect();
                self.path_from_normals(dt, &z)
            }
            Sampling::Qmc { replicates } => {
                let per = paths / replicates;
                let (r, j) = (index / per, index % per);
                let sobol = Sobol::scrambled(nt, &mut par_core::seed::task_rng(seed, r))?;
                let mut u = vec![0.0; nt];
                sobol.point(j as u32, &mut u);
                let z: Vec<f64> = u.into_iter().map(inverse_normal_cdf).collect();
                self.path_from_normals(dt, &z)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        (
            m,
            xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0),
        )
    }

    #[test]
    fn exact_samplers_have_the_right_terminal_moments() {
        let (dt, nt, k) = (0.05, 20, 4000);
        let t = dt * nt as f64;
        let ou = NoiseProcess::OrnsteinUhlenbeck {
            kappa: 2.0,
            mean: 0.1,
            sigma: 0.5,
            x0: 1.0,
        };
        let cir = NoiseProcess::Cir {
            kappa: 1.5,
            mean: 0.4,
            sigma: 0.3,
            x0: 0.2,
        };
        let gbm = NoiseProcess::Gbm {
            drift: 0.1,
            sigma: 0.2,
            x0: 1.0,
        };
        let var = |p: &NoiseProcess| match *p {
            NoiseProcess::OrnsteinUhlenbeck { kappa, sigma, .. } => {
                sigma * sigma * (1.0 - (-2.0 * kappa * t).exp()) / (2.0 * kappa)
            }
            NoiseProcess::Cir {
                kappa,
                mean,
                sigma,
                x0,
            } => {
                let e = (-kappa * t).exp();
                x0 * sigma * sigma * e * (1.0 - e) / kappa
                    + mean * sigma * sigma * (1.0 - e).powi(2) / (2.0 * kappa)
            }
            NoiseProcess::Gbm { drift, sigma, x0 } => {
                x0 * x0 * (2.0 * drift * t).exp() * ((sigma * sigma * t).exp() - 1.0)
            }
        };
        for p in [ou, cir, gbm] {
            let ends: Vec<f64> = (0..k)
                .map(|i| p.path(Sampling::Plain, 3, i, k, dt, nt).unwrap()[nt])
                .collect();
            let (m, v) = moments(&ends);
            let want_m = p.mean_path(dt, nt)[nt];
            let want_v = var(&p);
            assert!(
                (m - want_m).abs() < 4.0 * (want_v / k as f64).sqrt(),
                "{p:?}: mean {m} vs {want_m}"
            );
            assert!(
                (v / want_v - 1.0).abs() < 0.1,
                "{p:?}: variance {v} vs {want_v}"
            );
        }
    }

    #[test]
    fn antithetic_pairs_mirror_and_qmc_paths_are_deterministic() {
        let ou = NoiseProcess::OrnsteinUhlenbeck {
            kappa: 1.0,
            mean: 0.0,
            sigma: 0.5,
            x0: 0.0,
        };
        let a = ou.path(Sampling::Antithetic, 9, 4, 10, 0.1, 10).unwrap();
        let b = ou.path(Sampling::Antithetic, 9, 5, 10, 0.1, 10).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!((x + y).abs() < 1e-15);
        }
        let q = Sampling::Qmc { replicates: 2 };
        assert_eq!(
            ou.path(q, 1, 3, 8, 0.1, 10).unwrap(),
            ou.path(q, 1, 3, 8, 0.1, 10).unwrap()
        );
        assert_ne!(
            ou.path(q, 1, 3, 8, 0.1, 10).unwrap(),
            ou.path(q, 1, 7, 8, 0.1, 10).unwrap()
        );
        let cir = NoiseProcess::Cir {
            kappa: 1.0,
            mean: 0.5,
            sigma: 0.3,
            x0: 0.5,
        };
        assert!(Sampling::Antithetic.validate(10, &cir, 10).is_err());
        assert!(
            Sampling::Qmc { replicates: 3 }
                .validate(10, &ou, 10)
                .is_err()
        );
    }
}
