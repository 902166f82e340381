//! CMA-ES, the covariance matrix adaptation evolution strategy, `(mu/mu_w, lambda)` with
//! cumulative step-size adaptation, as in Hansen, "The CMA evolution strategy: a tutorial"
//! (arXiv:1604.00772), with its default constants; full covariance, or diagonal
//! (sep-CMA-ES: Ros and Hansen, PPSN 2008, learning rates scaled by `(n + 2) / 3`).
//!
//! The full covariance is decomposed with the cyclic Jacobi method (exact for symmetric
//! matrices; done only every `lambda / ((c1 + c_mu) n 10)` generations, as the tutorial
//! suggests). Immigrants (islands) are injected as in Hansen, "Injecting external solutions
//! into CMA-ES" (2011): they take the place of evaluated offspring in the next update, their
//! step `(x - m) / sigma` clipped to a Mahalanobis length of `sqrt(n) + 2n / (n + 2)`.
//!
//! If the covariance stops being positive definite or finite (a degenerate fitness landscape),
//! the search distribution is reset to the identity with the initial step size; this is
//! deterministic, so it does not break reproducibility.

// The update formulas index several vectors by the same coordinate; written as in the tutorial.
#![allow(clippy::needless_range_loop)]

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::{
    AskTell, MAX_POPULATION, Migrant, ReplacePolicy, check_fitness, ranking, replacement_rows,
};
use crate::NeuroError;
use crate::error::{count_in, in_range};
use par_core::TaskRng;

/// The covariance model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Covariance {
    /// A full matrix (rotation invariant; O(n^2) per sample, O(n^3) per decomposition).
    Full,
    /// A diagonal matrix (sep-CMA-ES: O(n) per sample; for separable or high-dimensional problems).
    Separable,
}

/// Settings of CMA-ES. Missing fields take the defaults shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CmaesConfig {
    /// Offspring per generation, `lambda`; `None` takes `4 + floor(3 ln n)`. Default: `None`.
    pub population: Option<usize>,
    /// Initial step size as a share of the task's initial range width. Default: 0.3.
    pub sigma_fraction: f64,
    /// Covariance model. Default: full.
    pub covariance: Covariance,
    /// Whether the initial mean is drawn uniformly in the initial range (`true`) or is its
    /// centre. Default: true.
    pub random_mean: bool,
}

impl Default for CmaesConfig {
    fn default() -> Self {
        Self {
            population: None,
            sigma_fraction: 0.3,
            covariance: Covariance::Full,
            random_mean: true,
        }
    }
}

impl CmaesConfig {
    /// Checks every field, naming the first bad one (`cmaes.<field>`).
    pub fn validate(&self) -> Result<(), NeuroError> {
        if let Some(l) = self.population {
            count_in("cmaes.population", l, 4, MAX_POPULATION)?;
        }
        in_range("cmaes.sigma_fraction", self.sigma_fraction, 1e-12, 1e6)?;
        Ok(())
    }
}

/// Largest dimension with a full covariance (a 2,000 x 2,000 matrix; beyond, use separable).
pub const MAX_FULL_DIM: usize = 2_000;

/// CMA-ES state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cmaes {
    config: CmaesConfig,
    dim: usize,
    init_range: (f64, f64),
    lambda: usize,
    mu: usize,
    weights: Vec<f64>,
    mueff: f64,
    cs: f64,
    ds: f64,
    cc: f64,
    c1: f64,
    cmu: f64,
    chi_n: f64,
    sigma0: f64,
    mean: Vec<f64>,
    sigma: f64,
    /// Covariance: `n x n` row-major (full) or its diagonal (separable).
    cov: Vec<f64>,
    /// Eigenvectors as columns, row-major `n x n` (full only).
    basis: Vec<f64>,
    /// Square roots of the eigenvalues (full) or of the diagonal (separable).
    scales: Vec<f64>,
    pc: Vec<f64>,
    ps: Vec<f64>,
    generation: u64,
    eigen_generation: u64,
    resets: u64,
    pending: Vec<f64>,
    genomes: Vec<f64>,
    fitness: Vec<f64>,
    immigrants: Vec<Migrant>,
    immigrant_policy: ReplacePolicy,
}

impl Cmaes {
    /// CMA-ES for genomes of length `dim`, starting in `init_range`.
    pub fn new(
        config: CmaesConfig,
        dim: usize,
        init_range: (f64, f64),
    ) -> Result<Self, NeuroError> {
        config.validate()?;
        if config.covariance == Covariance::Full && dim > MAX_FULL_DIM {
            return Err(NeuroError::field(
                "cmaes.covariance",
                format!(
                    "full covariance is limited to {MAX_FULL_DIM} dimensions, got {dim}: use separable"
                ),
            ));
        }
        let n = dim as f64;
        let lambda = config
            .population
            .unwrap_or(4 + (3.0 * n.ln()).floor() as usize);
        let mu = lambda / 2;
        let raw: Vec<f64> = (1..=mu)
            .map(|i| (lambda as f64 / 2.0 + 0.5).ln() - (i as f64).ln())
            .collect();
        let sum: f64 = raw.iter().sum();
        let weights: Vec<f64> = raw.iter().map(|w| w / sum).collect();
        let mueff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
        let cs = (mueff + 2.0) / (n + mueff + 5.0);
        let ds = 1.0 + 2.0 * (((mueff - 1.0) / (n + 1.0)).sqrt() - 1.0).max(0.0) + cs;
        let cc = (4.0 + mueff / n) / (n + 4.0 + 2.0 * mueff / n);
        let mut c1 = 2.0 / ((n + 1.3).powi(2) + mueff);
        let mut cmu =
            (1.0 - c1).min(2.0 * (mueff - 2.0 + 1.0 / mueff) / ((n + 2.0).powi(2) + mueff));
        if config.covariance == Covariance::Separable {
            let f = (n + 2.0) / 3.0;
            c1 = (c1 * f).min(1.0);
            cmu = (cmu * f).min(1.0 - c1);
        }
        let chi_n = n.sqrt() * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n));
        let sigma0 = config.sigma_fraction * (init_range.1 - init_range.0);
        let mut s = Self {
            config,
            dim,
            init_range,
            lambda,
            mu,
            weights,
            mueff,
            cs,
            ds,
            cc,
            c1,
            cmu,
            chi_n,
            sigma0,
            mean: Vec::new(),
            sigma: sigma0,
            cov: Vec::new(),
            basis: Vec::new(),
            scales: Vec::new(),
            pc: vec![0.0; dim],
            ps: vec![0.0; dim],
            generation: 0,
            eigen_generation: 0,
            resets: 0,
            pending: Vec::new(),
            genomes: Vec::new(),
            fitness: Vec::new(),
            immigrants: Vec::new(),
            immigrant_policy: ReplacePolicy::Worst,
        };
        s.reset_distribution();
        Ok(s)
    }

    /// Offspring per generation.
    pub fn lambda(&self) -> usize {
        self.lambda
    }

    /// The current step size.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// The current mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// How often the distribution was reset after a numerical breakdown.
    pub fn resets(&self) -> u64 {
        self.resets
    }

    fn full(&self) -> bool {
        self.config.covariance == Covariance::Full
    }

    fn reset_distribution(&mut self) {
        let n = self.dim;
        self.sigma = self.sigma0;
        self.scales = vec![1.0; n];
        self.pc = vec![0.0; n];
        self.ps = vec![0.0; n];
        if self.full() {
            self.cov = identity(n);
            self.basis = identity(n);
        } else {
            self.cov = vec![1.0; n];
            self.basis = Vec::new();
        }
    }

    /// `B D z` (full) or `D z` (separable).
    fn transform(&self, z: &[f64], out: &mut [f64]) {
        let n = self.dim;
        if self.full() {
            for (i, o) in out.iter_mut().enumerate() {
                let row = &self.basis[i * n..(i + 1) * n];
                *o = row
                    .iter()
                    .zip(&self.scales)
                    .zip(z)
                    .map(|((b, d), z)| b * d * z)
                    .sum();
            }
        } else {
            for i in 0..n {
                out[i] = self.scales[i] * z[i];
            }
        }
    }

    /// `C^{-1/2} y = B D^{-1} B^T y` (full) or `y / D` (separable).
    fn whiten(&self, y: &[f64]) -> Vec<f64> {
        let n = self.dim;
        if self.full() {
            let mut t = vec![0.0; n];
            for (k, tk) in t.iter_mut().enumerate() {
                let mut s = 0.0;
                for i in 0..n {
                    s += self.basis[i * n + k] * y[i];
                }
                *tk = s / self.scales[k];
            }
            (0..n)
                .map(|i| (0..n).map(|k| self.basis[i * n + k] * t[k]).sum())
                .collect()
        } else {
            y.iter().zip(&self.scales).map(|(y, d)| y / d).collect()
        }
    }

    fn update_eigen(&mut self) -> bool {
        let n = self.dim;
        if self.full() {
            let (values, vectors) = jacobi_eigen(&self.cov, n);
            if values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
                return false;
            }
            self.scales = values.iter().map(|v| v.sqrt()).collect();
            self.basis = vectors;
        } else {
            if self.cov.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
                return false;
            }
            self.scales = self.cov.iter().map(|v| v.sqrt()).collect();
        }
        self.eigen_generation = self.generation;
        let (lo, hi) = self
            .scales
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &s| (a.min(s), b.max(s)));
        hi / lo < 1e7
    }
}

fn identity(n: usize) -> Vec<f64> {
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        m[i * n + i] = 1.0;
    }
    m
}

/// Eigenvalues and eigenvectors (as columns of a row-major matrix) of the symmetric `n x n`
/// matrix `a`, by the cyclic Jacobi method.
pub fn jacobi_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v = identity(n);
    let norm: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * norm || !off.is_finite() {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

impl AskTell for Cmaes {
    fn dim(&self) -> usize {
        self.dim
    }

    fn ask(&mut self, rng: &mut TaskRng) -> &[f64] {
        if self.pending.is_empty() {
            let n = self.dim;
            if self.mean.is_empty() {
                let (lo, hi) = self.init_range;
                self.mean = if self.config.random_mean {
                    (0..n).map(|_| rng.random_range(lo..hi)).collect()
                } else {
                    vec![0.5 * (lo + hi); n]
                };
            }
            let mut z = vec![0.0; n];
            let mut y = vec![0.0; n];
            let mut out = Vec::with_capacity(self.lambda * n);
            for _ in 0..self.lambda {
                for zi in z.iter_mut() {
                    *zi = StandardNormal.sample(rng);
                }
                self.transform(&z, &mut y);
                out.extend(self.mean.iter().zip(&y).map(|(m, y)| m + self.sigma * y));
            }
            self.pending = out;
        }
        &self.pending
    }

    fn tell(&mut self, fitness: &[f64], rng: &mut TaskRng) -> Result<(), NeuroError> {
        check_fitness(fitness, self.pending.len() / self.dim)?;
        let n = self.dim;
        let mut x = std::mem::take(&mut self.pending);
        let mut f = fitness.to_vec();
        let mut injected = vec![false; f.len()];
        if !self.immigrants.is_empty() {
            let immigrants = std::mem::take(&mut self.immigrants);
            let rows = replacement_rows(&f, immigrants.len(), self.immigrant_policy, rng);
            for (&row, m) in rows.iter().zip(&immigrants) {
                x[row * n..(row + 1) * n].copy_from_slice(&m.genome);
                f[row] = m.fitness;
                injected[row] = true;
            }
        }
        let order = ranking(&f);
        let cap = (n as f64).sqrt() + 2.0 * n as f64 / (n as f64 + 2.0);
        let mut ys = Vec::with_capacity(self.mu);
        for &k in order.iter().take(self.mu) {
            let mut y: Vec<f64> = (0..n)
                .map(|i| (x[k * n + i] - self.mean[i]) / self.sigma)
                .collect();
            if injected[k] {
                let len = self.whiten(&y).iter().map(|v| v * v).sum::<f64>().sqrt();
                if len > cap {
                    y.iter_mut().for_each(|v| *v *= cap / len);
                }
            }
            ys.push(y);
        }
        let mut yw = vec![0.0; n];
        for (w, y) in self.weights.iter().zip(&ys) {
            for i in 0..n {
                yw[i] += w * y[i];
            }
        }
        for i in 0..n {
            self.mean[i] += self.sigma * yw[i];
        }
        let white = self.whiten(&yw);
        let a = (self.cs * (2.0 - self.cs) * self.mueff).sqrt();
        for i in 0..n {
            self.ps[i] = (1.0 - self.cs) * self.ps[i] + a * white[i];
        }
        let ps_norm = self.ps.iter().map(|v| v * v).sum::<f64>().sqrt();
        let g = self.generation + 1;
        let hsig = ps_norm / (1.0 - (1.0 - self.cs).powf(2.0 * g as f64)).sqrt() / self.chi_n
            < 1.4 + 2.0 / (n as f64 + 1.0);
        let b = if hsig {
            (self.cc * (2.0 - self.cc) * self.mueff).sqrt()
        } else {
            0.0
        };
        for i in 0..n {
            self.pc[i] = (1.0 - self.cc) * self.pc[i] + b * yw[i];
        }
        let keep = 1.0 - self.c1 - self.cmu
            + if hsig {
                0.0
            } else {
                self.c1 * self.cc * (2.0 - self.cc)
            };
        if self.full() {
            for i in 0..n {
                for j in 0..=i {
                    let mut rank_mu = 0.0;
                    for (w, y) in self.weights.iter().zip(&ys) {
                        rank_mu += w * y[i] * y[j];
                    }
                    let v = keep * self.cov[i * n + j]
                        + self.c1 * self.pc[i] * self.pc[j]
                        + self.cmu * rank_mu;
                    self.cov[i * n + j] = v;
                    self.cov[j * n + i] = v;
                }
            }
        } else {
            for i in 0..n {
                let rank_mu: f64 = self
                    .weights
                    .iter()
                    .zip(&ys)
                    .map(|(w, y)| w * y[i] * y[i])
                    .sum();
                self.cov[i] =
                    keep * self.cov[i] + self.c1 * self.pc[i] * self.pc[i] + self.cmu * rank_mu;
            }
        }
        self.sigma *= ((self.cs / self.ds) * (ps_norm / self.chi_n - 1.0))
            .min(1.0)
            .exp();
        self.generation = g;
        let due = !self.full()
            || (g - self.eigen_generation) as f64
                > self.lambda as f64 / ((self.c1 + self.cmu) * n as f64 * 10.0);
        let healthy = if due { self.update_eigen() } else { true };
        if !healthy
            || !self.sigma.is_finite()
            || self.sigma <= 0.0
            || self.mean.iter().any(|m| !m.is_finite())
        {
            self.resets += 1;
            if self.mean.iter().any(|m| !m.is_finite()) {
                let (lo, hi) = self.init_range;
                self.mean = vec![0.5 * (lo + hi); n];
            }
            self.reset_distribution();
        }
        self.genomes = x;
        self.fitness = f;
        Ok(())
    }

    fn population(&self) -> (&[f64], &[f64]) {
        (&self.genomes, &self.fitness)
    }

    fn immigrate(&mut self, migrants: &[Migrant], policy: ReplacePolicy, _rng: &mut TaskRng) {
        let cap = self.lambda / 2;
        self.immigrants = migrants
            .iter()
            .filter(|m| m.genome.len() == self.dim && !m.fitness.is_nan())
            .take(cap)
            .cloned()
            .collect();
        self.immigrant_policy = policy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn jacobi_diagonalises_a_symmetric_matrix() {
        let a = [4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0];
        let (vals, vecs) = jacobi_eigen(&a, 3);
        for k in 0..3 {
            for i in 0..3 {
                let av: f64 = (0..3).map(|j| a[i * 3 + j] * vecs[j * 3 + k]).sum();
                assert!((av - vals[k] * vecs[i * 3 + k]).abs() < 1e-12);
            }
        }
        let trace: f64 = vals.iter().sum();
        assert!((trace - 12.0).abs() < 1e-12);
    }

    fn ellipsoid(x: &[f64]) -> f64 {
        // A rotated, ill-conditioned quadratic: full covariance should learn it.
        let n = x.len();
        (0..n)
            .map(|i| {
                let y: f64 = x[i] + if i + 1 < n { x[i + 1] } else { 0.0 };
                10f64.powf(3.0 * i as f64 / (n - 1) as f64) * y * y
            })
            .sum()
    }

    fn run(cov: Covariance) -> (f64, u64) {
        let mut o = Cmaes::new(
            CmaesConfig {
                covariance: cov,
                ..CmaesConfig::default()
            },
            8,
            (-2.0, 2.0),
        )
        .unwrap();
        let mut rng = TaskRng::seed_from_u64(4);
        let mut best = f64::INFINITY;
        for _ in 0..400 {
            let batch = o.ask(&mut rng).to_vec();
            let fit: Vec<f64> = batch.chunks(8).map(|g| -ellipsoid(g)).collect();
            best = fit.iter().fold(best, |b, f| b.min(-f));
            o.tell(&fit, &mut rng).unwrap();
        }
        (best, o.resets())
    }

    #[test]
    fn full_and_separable_minimise_an_ellipsoid() {
        let (full, resets) = run(Covariance::Full);
        assert!(full < 1e-10, "full: {full}");
        assert_eq!(resets, 0);
        let (sep, _) = run(Covariance::Separable);
        assert!(sep < 1e-3, "separable: {sep}");
    }
}
