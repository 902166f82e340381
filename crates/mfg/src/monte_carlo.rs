//! Monte Carlo integration over the unit cube `[0, 1]^d`, evaluated in parallel through
//! `par-core` with a result that does not depend on the worker count.
//!
//! Samplers ([`Sampler`]):
//!
//! * `Uniform`: independent uniform points; standard error from the sample variance.
//! * `Stratified`: `k^d` equal cells, two independent uniform points per cell
//!   (`k = floor((n / 2)^(1/d))`, so up to `n` evaluations); standard error from the
//!   within-cell variances.
//! * `Sobol`: `replicates` independent randomisations (linear matrix scrambling and digital
//!   shift, [`crate::sobol`]) of the first `n / replicates` Sobol points; standard error from
//!   the spread of the replicate estimates.
//! * `LatinHypercube`: `replicates` independent Latin hypercubes of `n / replicates` points;
//!   standard error from the spread of the replicate estimates.
//!
//! Options that change the estimator ([`McConfig`]):
//!
//! * `antithetic`: each base point `U` is paired with `1 - U` and the integrand value is
//!   `(f(U) + f(1 - U)) / 2`; `n` counts evaluations of `f`, so half as many base points.
//! * a control variate `g` with known mean `mu_g` ([`integrate_with_control`]): the estimator
//!   becomes `mean(f) - beta (mean(g) - mu_g)` with `beta = cov(f, g) / var(g)` estimated from
//!   the same samples (pooled over strata and replicates), and the standard error is that of
//!   `f - beta g`.
//!
//! **Determinism.** The sample index space is cut into fixed chunks of `chunk` points (task `c`
//! draws from `task_rng(seed, c)`); each chunk returns running statistics (Welford / Chan) per
//! group (stratum or replicate), merged in chunk order. The estimate is bit-identical for any
//! mode and worker count. Closures cannot travel to worker processes, so `Processes` mode is
//! refused by the executor (`ExecError::NeedsRemoteJob`).

use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use par_core::Executor;

use crate::error::MfgError;
use crate::sobol::{Sobol, inverse_normal_cdf};

/// How points are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampler {
    /// Independent uniform points.
    Uniform,
    /// Two points in each of `k^d` equal cells.
    Stratified,
    /// Randomised Sobol points (in `replicates` independent randomisations).
    Sobol,
    /// Latin hypercubes (`replicates` independent ones).
    LatinHypercube,
}

/// Settings of one integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct McConfig {
    /// Evaluations of the integrand (default 4096).
    pub samples: usize,
    /// Dimension `d` (default 1).
    pub dim: usize,
    /// Sampler (default uniform).
    pub sampler: Sampler,
    /// Antithetic pairs `U`, `1 - U` (default false).
    pub antithetic: bool,
    /// Independent randomisations for Sobol and Latin hypercube (default 8).
    pub replicates: usize,
    /// Seed (default 0).
    pub seed: u64,
    /// Confidence level of the interval (default 0.95).
    pub level: f64,
    /// Points per parallel task (default 1024); part of the result's definition, unlike the
    /// worker count.
    pub chunk: usize,
}

impl Default for McConfig {
    fn default() -> Self {
        Self {
            samples: 4096,
            dim: 1,
            sampler: Sampler::Uniform,
            antithetic: false,
            replicates: 8,
            seed: 0,
            level: 0.95,
            chunk: 1024,
        }
    }
}

/// The result of an integration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McEstimate {
    /// The estimate of the integral.
    pub estimate: f64,
    /// Its standard error.
    pub std_error: f64,
    /// Confidence interval at the configured level.
    pub ci: [f64; 2],
    /// Evaluations of the integrand actually made.
    pub evaluations: usize,
    /// The control-variate coefficient used (0 without a control).
    pub beta: f64,
}

/// Running statistics of `(f, g)` pairs (Welford, merged with Chan's formula).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Moments {
    n: f64,
    mf: f64,
    mg: f64,
    m2f: f64,
    m2g: f64,
    cfg: f64,
}

impl Moments {
    fn push(&mut self, f: f64, g: f64) {
        self.n += 1.0;
        let df = f - self.mf;
        let dg = g - self.mg;
        self.mf += df / self.n;
        self.mg += dg / self.n;
        self.m2f += df * (f - self.mf);
        self.m2g += dg * (g - self.mg);
        self.cfg += df * (g - self.mg);
    }

    fn merge(&mut self, o: &Moments) {
        if o.n == 0.0 {
            return;
        }
        if self.n == 0.0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let df = o.mf - self.mf;
        let dg = o.mg - self.mg;
        let w = self.n * o.n / n;
        self.mf += df * o.n / n;
        self.mg += dg * o.n / n;
        self.m2f += o.m2f + df * df * w;
        self.m2g += o.m2g + dg * dg * w;
        self.cfg += o.cfg + df * dg * w;
        self.n = n;
    }

    /// Sample variance of `f - beta g` (ddof = 1).
    fn var_adj(&self, beta: f64) -> f64 {
        (self.m2f - 2.0 * beta * self.cfg + beta * beta * self.m2g) / (self.n - 1.0)
    }
}

/// Integrates `f` over `[0, 1]^dim`.
pub fn integrate<F>(f: F, cfg: &McConfig, exec: &Executor) -> Result<McEstimate, MfgError>
where
    F: Fn(&[f64]) -> f64 + Sync,
{
    run(&f, None::<(&fn(&[f64]) -> f64, f64)>, cfg, exec)
}

/// Integrates `f` with the control variate `g` whose integral is `g_mean`.
pub fn integrate_with_control<F, G>(
    f: F,
    g: G,
    g_mean: f64,
    cfg: &McConfig,
    exec: &Executor,
) -> Result<McEstimate, MfgError>
where
    F: Fn(&[f64]) -> f64 + Sync,
    G: Fn(&[f64]) -> f64 + Sync,
{
    crate::error::finite("g_mean", g_mean)?;
    run(&f, Some((&g, g_mean)), cfg, exec)
}

fn validate(cfg: &McConfig) -> Result<(usize, usize, usize), MfgError> {
    if cfg.dim == 0 {
        return Err(MfgError::field("dim", "must be >= 1"));
    }
    if cfg.chunk == 0 {
        return Err(MfgError::field("chunk", "must be >= 1"));
    }
    if !(cfg.level > 0.0 && cfg.level < 1.0) {
        return Err(MfgError::field(
            "level",
            format!("must lie in (0, 1), got {}", cfg.level),
        ));
    }
    let base = if cfg.antithetic {
        cfg.samples / 2
    } else {
        cfg.samples
    };
    // (groups, points per group, total points)
    let shape = match cfg.sampler {
        Sampler::Uniform => (1, base, base),
        Sampler::Stratified => {
            let k = ((base / 2) as f64).powf(1.0 / cfg.dim as f64).floor() as usize;
            // Guard against floating-point truncation of exact powers.
            let k = if (k + 1)
                .checked_pow(cfg.dim as u32)
                .is_some_and(|c| 2 * c <= base)
            {
                k + 1
            } else {
                k
            };
            let cells = k.checked_pow(cfg.dim as u32).unwrap_or(0);
            (cells, 2, 2 * cells)
        }
        Sampler::Sobol | Sampler::LatinHypercube => {
            if cfg.replicates < 2 {
                return Err(MfgError::field("replicates", "must be >= 2"));
            }
            let per = base / cfg.replicates;
            (cfg.replicates, per, per * cfg.replicates)
        }
    };
    if shape.1 < 2 || shape.0 == 0 {
        return Err(MfgError::field(
            "samples",
            format!("{} is too few for this sampler and dimension", cfg.samples),
        ));
    }
    if cfg.sampler == Sampler::Sobol && cfg.dim > crate::sobol::MAX_DIMENSIONS {
        return Err(MfgError::SobolDimension {
            needed: cfg.dim,
            available: crate::sobol::MAX_DIMENSIONS,
        });
    }
    Ok(shape)
}

fn run<F, G>(
    f: &F,
    control: Option<(&G, f64)>,
    cfg: &McConfig,
    exec: &Executor,
) -> Result<McEstimate, MfgError>
where
    F: Fn(&[f64]) -> f64 + Sync,
    G: Fn(&[f64]) -> f64 + Sync,
{
    let (groups, per, total) = validate(cfg)?;
    let d = cfg.dim;
    // Latin hypercube permutations, drawn once from the seed (stream index u64::MAX >> 1).
    let perms: Vec<Vec<u32>> = if cfg.sampler == Sampler::LatinHypercube {
        let mut rng = par_core::seed::task_rng(cfg.seed ^ 0x4c48_5300, 0);
        (0..groups * d)
            .map(|_| {
                let mut p: Vec<u32> = (0..per as u32).collect();
                p.shuffle(&mut rng);
                p
            })
            .collect()
    } else {
        Vec::new()
    };
    let chunks = total.div_ceil(cfg.chunk);
    let out = exec.map(chunks, |ctx| {
        let lo = ctx.index * cfg.chunk;
        let hi = (lo + cfg.chunk).min(total);
        let mut u = vec![0.0; d];
        let mut v = vec![0.0; d];
        let mut parts: Vec<(usize, Moments)> = Vec::new();
        let mut sobol: Option<(usize, Sobol)> = None;
        for i in lo..hi {
            let (group, j) = (i / per, i % per);
            match cfg.sampler {
                Sampler::Uniform => u.iter_mut().for_each(|x| *x = ctx.rng.random::<f64>()),
                Sampler::Stratified => {
                    let k = (groups as f64).powf(1.0 / d as f64).round() as usize;
                    let mut cell = group;
                    for x in u.iter_mut() {
                        let c = cell % k;
                        cell /= k;
                        *x = (c as f64 + ctx.rng.random::<f64>()) / k as f64;
                    }
                }
                Sampler::Sobol => {
                    if sobol.as_ref().is_none_or(|(r, _)| *r != group) {
                        let mut rng = par_core::seed::task_rng(cfg.seed ^ 0x534f_424f, group);
                        sobol = Some((group, Sobol::scrambled(d, &mut rng).expect("validated")));
                    }
                    if let Some((_, s)) = &sobol {
                        s.point(j as u32, &mut u);
                    }
                }
                Sampler::LatinHypercube => {
                    for (k, x) in u.iter_mut().enumerate() {
                        let p = perms[group * d + k][j];
                        *x = (f64::from(p) + ctx.rng.random::<f64>()) / per as f64;
                    }
                }
            }
            let (fv, gv) = if cfg.antithetic {
                for (a, b) in v.iter_mut().zip(&u) {
                    *a = 1.0 - b;
                }
                let fv = 0.5 * (f(&u) + f(&v));
                let gv = control.map_or(0.0, |(g, _)| 0.5 * (g(&u) + g(&v)));
                (fv, gv)
            } else {
                (f(&u), control.map_or(0.0, |(g, _)| g(&u)))
            };
            match parts.last_mut() {
                Some((g, m)) if *g == group => m.push(fv, gv),
                _ => {
                    let mut m = Moments::default();
                    m.push(fv, gv);
                    parts.push((group, m));
                }
            }
        }
        parts
    })?;
    let mut by_group = vec![Moments::default(); groups];
    for parts in out.into_values()? {
        for (g, m) in parts {
            by_group[g].merge(&m);
        }
    }
    let mut pooled = Moments::default();
    for m in &by_group {
        pooled.merge(m);
    }
    let (beta, g_mean) = match control {
        Some((_, mu)) if pooled.m2g > 0.0 => (pooled.cfg / pooled.m2g, mu),
        Some((_, mu)) => (0.0, mu),
        None => (0.0, 0.0),
    };
    let adj = |m: &Moments| m.mf - beta * (m.mg - g_mean);
    let (estimate, var_est) = match cfg.sampler {
        Sampler::Uniform => (adj(&pooled), pooled.var_adj(beta) / pooled.n),
        Sampler::Stratified => {
            let h = groups as f64;
            let est = by_group.iter().map(adj).sum::<f64>() / h;
            let var = by_group.iter().map(|m| m.var_adj(beta) / m.n).sum::<f64>() / (h * h);
            (est, var)
        }
        Sampler::Sobol | Sampler::LatinHypercube => {
            let r = groups as f64;
            let ests: Vec<f64> = by_group.iter().map(adj).collect();
            let mean = ests.iter().sum::<f64>() / r;
            let var = ests.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (r - 1.0) / r;
            (mean, var)
        }
    };
    let se = var_est.max(0.0).sqrt();
    let z = inverse_normal_cdf(0.5 + 0.5 * cfg.level);
    Ok(McEstimate {
        estimate,
        std_error: se,
        ci: [estimate - z * se, estimate + z * se],
        evaluations: total * if cfg.antithetic { 2 } else { 1 },
        beta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chan_merge_equals_one_pass() {
        let xs: Vec<(f64, f64)> = (0..37)
            .map(|i| ((i as f64 * 0.37).sin(), (i as f64).sqrt()))
            .collect();
        let mut one = Moments::default();
        xs.iter().for_each(|&(f, g)| one.push(f, g));
        let mut a = Moments::default();
        let mut b = Moments::default();
        xs[..11].iter().for_each(|&(f, g)| a.push(f, g));
        xs[11..].iter().for_each(|&(f, g)| b.push(f, g));
        a.merge(&b);
        for (x, y) in [
            (a.mf, one.mf),
            (a.m2f, one.m2f),
            (a.cfg, one.cfg),
            (a.m2g, one.m2g),
        ] {
            assert!((x - y).abs() < 1e-12 * (1.0 + y.abs()));
        }
    }
}
