//! Common noise by conditioning: K frozen-path solves, run through `par-core`, aggregated in
//! path order.
//!
//! For each path `theta^k` of an exogenous process ([`NoiseProcess`]) the game is solved with
//! `theta` frozen (every agent sees the whole path), then the K solutions are aggregated: the
//! pointwise mean and sample standard deviation (ddof = 1) of `u` and `m`, a pointwise
//! confidence band for the mean density, and the Monte Carlo error of the first moment of `m`.
//!
//! **What this is and is not.** The average of frozen-path (conditional) equilibria is the
//! expectation of a family of perfect-foresight equilibria. It is **not** the equilibrium of the
//! mean-field game with common noise, whose controls must be adapted to the noise filtration
//! (Carmona, Delarue, Lacker, *Mean field games with common noise*, Ann. Probab. 44(6) (2016)
//! 3740-3803, doi:10.1214/15-AOP1060); that one needs the master equation or a forward-backward
//! system with the noise as a state. The two coincide only when the equilibrium does not depend
//! on the future of the noise. Use this module for the conditional statistics it computes.
//!
//! **Determinism.** Path `k` is a pure function of `(seed, k)` ([`NoiseProcess::path`]); the
//! results come back in path order and are reduced in path order, so the statistics are
//! bit-identical for every execution mode and worker count.
//!
//! **Variance reduction.** The estimator's standard error is computed from independent groups:
//! single paths (plain), antithetic pairs, or QMC replicates. The reported variance-reduction
//! factor is `(s^2 / K) / SE^2`, with `s^2` the sample variance of the K individual path values,
//! which is the variance plain Monte Carlo would have at equal K (each path on its own is an
//! exact draw of the process). It is measured on every run, never assumed; it is 1 for plain
//! sampling by construction.

use serde::{Deserialize, Serialize};

use par_core::{Executor, Job, RemoteJob, RunReport, TaskContext};

use crate::config::MfgConfig;
use crate::error::MfgError;
use crate::grid::Grid;
use crate::noise::{NoiseProcess, Sampling};
use crate::sobol::inverse_normal_cdf;
use crate::solver::Status;

/// The common-noise part of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseConfig {
    /// Number of paths K.
    pub paths: usize,
    /// Seed of the paths (path `k` depends on `(seed, k)` only).
    pub seed: u64,
    /// The process.
    pub process: NoiseProcess,
    /// How paths are drawn.
    #[serde(default)]
    pub sampling: Sampling,
    /// Confidence level of the band and interval (default 0.95).
    #[serde(default = "default_level")]
    pub level: f64,
}

fn default_level() -> f64 {
    0.95
}

/// One conditional solve per path: a [`par_core::RemoteJob`], so it runs in every mode,
/// processes included (register it with
/// `par_core::process::Registry::new().with::<CommonNoiseJob>()`).
///
/// On the wire (to worker processes) the job travels as its JSON text, because the
/// configuration's internally tagged enums need a self-describing format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "JsonWire", try_from = "JsonWire")]
pub struct CommonNoiseJob {
    game: MfgConfig,
    noise: NoiseConfig,
}

/// A job carried as JSON text inside a compact binary message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct JsonWire {
    json: String,
}

#[derive(Serialize, Deserialize)]
struct CommonNoiseData {
    game: MfgConfig,
    noise: NoiseConfig,
}

impl From<CommonNoiseJob> for JsonWire {
    fn from(job: CommonNoiseJob) -> Self {
        let data = CommonNoiseData {
            game: job.game,
            noise: job.noise,
        };
        Self {
            json: serde_json::to_string(&data).expect("configs serialise"),
        }
    }
}

impl TryFrom<JsonWire> for CommonNoiseJob {
    type Error = String;
    fn try_from(wire: JsonWire) -> Result<Self, String> {
        let data: CommonNoiseData = serde_json::from_str(&wire.json).map_err(|e| e.to_string())?;
        Self::new(data.game, data.noise).map_err(|e| e.to_string())
    }
}

/// What one path's solve returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathOutcome {
    /// The path `theta(t_n)`, `nt + 1` values.
    pub theta: Vec<f64>,
    /// Value function, level by level.
    pub u: Vec<f64>,
    /// Density, level by level.
    pub m: Vec<f64>,
    /// First moment of `m` at every level.
    pub mean: Vec<f64>,
    /// Status of the solve.
    pub status: Status,
    /// Picard iterations.
    pub iterations: usize,
    /// Mass drift of the solve.
    pub mass_drift: f64,
    /// Solve time in seconds.
    pub seconds: f64,
}

impl CommonNoiseJob {
    /// Validates the game (its couplings should use [`crate::Target::Path`] to see `theta`)
    /// and the noise settings.
    pub fn new(game: MfgConfig, noise: NoiseConfig) -> Result<Self, MfgError> {
        game.build()?;
        noise.process.validate()?;
        noise
            .sampling
            .validate(noise.paths, &noise.process, game.nt)?;
        if !(noise.level > 0.0 && noise.level < 1.0) {
            return Err(MfgError::field(
                "noise.level",
                format!("must lie in (0, 1), got {}", noise.level),
            ));
        }
        Ok(Self { game, noise })
    }

    /// The game.
    pub fn game(&self) -> &MfgConfig {
        &self.game
    }

    /// The noise settings.
    pub fn noise(&self) -> &NoiseConfig {
        &self.noise
    }

    /// Path `k`.
    pub fn path(&self, k: usize) -> Result<Vec<f64>, MfgError> {
        let grid = self.game.grid()?;
        let n = &self.noise;
        n.process
            .path(n.sampling, n.seed, k, n.paths, grid.dt(), grid.nt())
    }

    /// Solves path `k` on the calling thread.
    pub fn solve_path(&self, k: usize) -> Result<PathOutcome, MfgError> {
        let theta = self.path(k)?;
        let s = self.game.solver()?.solve(Some(&theta))?;
        Ok(PathOutcome {
            mean: (0..s.grid.levels()).map(|n| s.mean(n)).collect(),
            mass_drift: s.mass_drift(),
            status: s.status,
            iterations: s.iterations,
            seconds: s.seconds,
            theta,
            u: s.u,
            m: s.m,
        })
    }

    /// Runs the K solves through `exec` and aggregates them in path order.
    pub fn run(&self, exec: &Executor) -> Result<CommonNoiseResult, MfgError> {
        let out = exec.run(self, self.noise.paths)?;
        let report = out.report.clone();
        let paths = out.into_values()?;
        Ok(self.aggregate(paths, report))
    }

    /// Aggregates path outcomes (in path order) into the statistics.
    pub fn aggregate(&self, paths: Vec<PathOutcome>, report: RunReport) -> CommonNoiseResult {
        let grid = self.game.grid().expect("validated");
        let k = paths.len();
        let g = self.noise.sampling.group_size(k);
        let z = inverse_normal_cdf(0.5 + 0.5 * self.noise.level);
        let u = FieldStats::new(paths.iter().map(|p| p.u.as_slice()), g, z);
        let m = FieldStats::new(paths.iter().map(|p| p.m.as_slice()), g, z);
        let moment = FieldStats::new(paths.iter().map(|p| p.mean.as_slice()), g, z);
        let nt = grid.nt();
        let plain_var = moment.std[nt].powi(2) / k as f64;
        let se = moment.std_error[nt];
        let scalar = ScalarEstimate {
            estimate: moment.mean[nt],
            std_error: se,
            ci: [moment.mean[nt] - z * se, moment.mean[nt] + z * se],
            variance_reduction: if se > 0.0 {
                plain_var / (se * se)
            } else {
                f64::INFINITY
            },
        };
        let converged = paths
            .iter()
            .filter(|p| p.status == Status::Converged)
            .count();
        let max_mass_drift = paths.iter().map(|p| p.mass_drift).fold(0.0, f64::max);
        CommonNoiseResult {
            grid,
            u,
            m,
            moment,
            scalar,
            converged,
            max_mass_drift,
            paths,
            report,
        }
    }
}

impl Job for CommonNoiseJob {
    type Output = PathOutcome;
    fn run(&self, ctx: &mut TaskContext) -> PathOutcome {
        match self.solve_path(ctx.index) {
            Ok(p) => p,
            Err(e) => panic!("path {}: {e}", ctx.index),
        }
    }
}

impl RemoteJob for CommonNoiseJob {
    const NAME: &'static str = "mfg.common_noise";
}

/// Pointwise statistics of a family of equally long vectors (one per path), reduced in path
/// order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldStats {
    /// Pointwise mean over the paths.
    pub mean: Vec<f64>,
    /// Pointwise sample standard deviation over the paths (ddof = 1): the spread of the paths.
    pub std: Vec<f64>,
    /// Pointwise standard error of the mean, from the independent groups (paths, antithetic
    /// pairs or QMC replicates).
    pub std_error: Vec<f64>,
    /// Lower edge of the pointwise confidence band `mean - z std_error`.
    pub band_lo: Vec<f64>,
    /// Upper edge of the pointwise confidence band `mean + z std_error`.
    pub band_hi: Vec<f64>,
}

impl FieldStats {
    /// Statistics of `rows` (in order), with independent groups of `group` consecutive rows and
    /// the normal quantile `z` of the band.
    pub fn new<'a>(rows: impl Iterator<Item = &'a [f64]> + Clone, group: usize, z: f64) -> Self {
        let k = rows.clone().count();
        let len = rows.clone().next().map_or(0, <[f64]>::len);
        let mut mean = vec![0.0; len];
        for r in rows.clone() {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= k as f64;
        }
        let mut var = vec![0.0; len];
        for r in rows.clone() {
            for ((s, v), m) in var.iter_mut().zip(r).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let std: Vec<f64> = var.iter().map(|s| (s / (k as f64 - 1.0)).sqrt()).collect();
        let groups = k / group;
        let mut gvar = vec![0.0; len];
        let mut gmean = vec![0.0; len];
        let all: Vec<&[f64]> = rows.collect();
        for chunk in all.chunks(group) {
            gmean.fill(0.0);
            for r in chunk {
                for (g, v) in gmean.iter_mut().zip(r.iter()) {
                    *g += v;
                }
            }
            for ((s, g), m) in gvar.iter_mut().zip(&gmean).zip(&mean) {
                let d = g / group as f64 - m;
                *s += d * d;
            }
        }
        let std_error: Vec<f64> = gvar
            .iter()
            .map(|s| (s / (groups as f64 - 1.0) / groups as f64).sqrt())
            .collect();
        let band_lo = mean
            .iter()
            .zip(&std_error)
            .map(|(m, e)| m - z * e)
            .collect();
        let band_hi = mean
            .iter()
            .zip(&std_error)
            .map(|(m, e)| m + z * e)
            .collect();
        Self {
            mean,
            std,
            std_error,
            band_lo,
            band_hi,
        }
    }
}

/// A scalar Monte Carlo estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScalarEstimate {
    /// The estimate.
    pub estimate: f64,
    /// Its standard error.
    pub std_error: f64,
    /// Confidence interval at the configured level.
    pub ci: [f64; 2],
    /// Measured variance-reduction factor against plain Monte Carlo at equal K (see the module
    /// docs); 1 for plain sampling.
    pub variance_reduction: f64,
}

/// Aggregated statistics of a common-noise run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommonNoiseResult {
    /// The grid.
    pub grid: Grid,
    /// Statistics of `u` (level by level).
    pub u: FieldStats,
    /// Statistics of `m` (level by level); the band is the confidence band of the mean density.
    pub m: FieldStats,
    /// Statistics of the first moment of `m` at each level.
    pub moment: FieldStats,
    /// The scalar estimate of `E[first moment of m(T)]`.
    pub scalar: ScalarEstimate,
    /// Paths whose solve converged.
    pub converged: usize,
    /// Largest mass drift over the paths.
    pub max_mass_drift: f64,
    /// The per-path outcomes, in path order (every path's `u` and `m` are kept: memory grows
    /// as `2 K (nt + 1) nx` values).
    pub paths: Vec<PathOutcome>,
    /// The executor's report.
    pub report: RunReport,
}
