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

use ndarray::{Array, Array1, Array2, ArrayD, ArrayView, Dimension, Ix1, Ix2, Zip};
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
#[serde(deny_unknown_fields)]
pub(crate) struct JsonWire {
    json: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// What one path's solve returns. Arrays follow the layout of [`crate::Solution`]: axis 0 is
/// the time level `n = 0..=nt`, axis 1 (where there is one) the cell `i = 0..nx`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathOutcome {
    /// The path `theta(t_n)`, shape `(nt + 1,)`.
    pub theta: Array1<f64>,
    /// Value function, shape `(nt + 1, nx)` (time x space).
    pub u: Array2<f64>,
    /// Density, shape `(nt + 1, nx)` (time x space).
    pub m: Array2<f64>,
    /// First moment of `m` at every level, shape `(nt + 1,)`.
    pub mean: Array1<f64>,
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

    /// An estimate of the memory a run of `paths` paths of `game` allocates, in bytes, found
    /// without allocating (saturating): `concurrent` solves at once
    /// ([`MfgConfig::solve_bytes`] each), the `u` and `m` of every path, kept for the statistics
    /// (`2 K` fields of `(nt + 1) nx` values), and the statistics of `u` and `m` with their
    /// temporaries (14 such fields). Check it against the memory available before a run of a
    /// user-chosen size.
    pub fn memory_bytes(game: &MfgConfig, paths: usize, concurrent: usize) -> u128 {
        let field = (game.nx as u128)
            .saturating_mul(game.nt as u128 + 1)
            .saturating_mul(8);
        game.solve_bytes()
            .saturating_mul(concurrent as u128)
            .saturating_add(field.saturating_mul(2 * paths as u128 + 14))
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
            mean: s.means(),
            mass_drift: s.mass_drift(),
            status: s.status,
            iterations: s.iterations,
            seconds: s.seconds,
            theta: Array1::from(theta),
            u: s.u,
            m: s.m,
        })
    }

    /// Runs the K solves through `exec` and aggregates them in path order.
    pub fn run(&self, exec: &Executor) -> Result<CommonNoiseResult, MfgError> {
        let out = exec.run(self, self.noise.paths)?;
        let report = out.report.clone();
        let paths = out.into_values()?;
        self.aggregate(paths, report)
    }

    /// Aggregates path outcomes (in path order) into the statistics. Fails when `paths` is
    /// empty, when its arrays do not have the grid's shapes, or when its length is not a
    /// multiple of the sampling's group size.
    pub fn aggregate(
        &self,
        paths: Vec<PathOutcome>,
        report: RunReport,
    ) -> Result<CommonNoiseResult, MfgError> {
        let grid = self.game.grid()?;
        let (levels, nx) = (grid.levels(), grid.nx());
        for (k, p) in paths.iter().enumerate() {
            let shapes = [
                ("theta", p.theta.shape(), &[levels][..]),
                ("u", p.u.shape(), &[levels, nx][..]),
                ("m", p.m.shape(), &[levels, nx][..]),
                ("mean", p.mean.shape(), &[levels][..]),
            ];
            for (name, got, want) in shapes {
                if got != want {
                    return Err(MfgError::field(
                        format!("paths[{k}].{name}"),
                        format!("has shape {got:?}, the grid needs {want:?}"),
                    ));
                }
            }
        }
        let k = paths.len();
        let g = self.noise.sampling.group_size(k);
        let z = inverse_normal_cdf(0.5 + 0.5 * self.noise.level);
        let views = |f: fn(&PathOutcome) -> ArrayView<'_, f64, Ix2>| -> Vec<_> {
            paths.iter().map(f).collect()
        };
        let u = FieldStats::new(&views(|p| p.u.view()), g, z)?;
        let m = FieldStats::new(&views(|p| p.m.view()), g, z)?;
        let means: Vec<ArrayView<'_, f64, Ix1>> = paths.iter().map(|p| p.mean.view()).collect();
        let moment = FieldStats::new(&means, g, z)?;
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
        Ok(CommonNoiseResult {
            groups: k / g,
            grid,
            u,
            m,
            moment,
            scalar,
            converged,
            max_mass_drift,
            paths,
            report,
        })
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

/// Pointwise statistics of a family of equally shaped arrays (one per path), reduced in path
/// order. Every field has the shape of one path's array: `(nt + 1, nx)` (time x space) for the
/// statistics of `u` and `m`, `(nt + 1,)` (time) for those of the first moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldStats<D: Dimension> {
    /// Pointwise mean over the paths.
    pub mean: Array<f64, D>,
    /// Pointwise sample standard deviation over the paths (ddof = 1): the spread of the paths.
    pub std: Array<f64, D>,
    /// Pointwise standard error of the mean, from the independent groups (paths, antithetic
    /// pairs or QMC replicates).
    pub std_error: Array<f64, D>,
    /// Lower edge of the pointwise confidence band `mean - z std_error`.
    pub band_lo: Array<f64, D>,
    /// Upper edge of the pointwise confidence band `mean + z std_error`.
    pub band_hi: Array<f64, D>,
}

impl<D: Dimension> FieldStats<D> {
    /// Statistics of `rows` (in order), with independent groups of `group` consecutive rows and
    /// the normal quantile `z` of the band. Fails (naming `rows` or `group`) when `rows` is
    /// empty, the rows differ in shape, or `group` is 0 or does not divide the row count.
    pub fn new(rows: &[ArrayView<'_, f64, D>], group: usize, z: f64) -> Result<Self, MfgError> {
        let Some(first) = rows.first() else {
            return Err(MfgError::field("rows", "is empty"));
        };
        if let Some(i) = rows.iter().position(|r| r.shape() != first.shape()) {
            return Err(MfgError::field(
                format!("rows[{i}]"),
                format!(
                    "has shape {:?}, rows[0] has {:?}",
                    rows[i].shape(),
                    first.shape()
                ),
            ));
        }
        if group == 0 || !rows.len().is_multiple_of(group) {
            return Err(MfgError::field(
                "group",
                format!("{group} does not divide the {} rows", rows.len()),
            ));
        }
        if rows.len() / group < 2 {
            return Err(MfgError::field(
                "rows",
                format!(
                    "{} rows in groups of {group} make {} independent group(s); a standard error needs at least 2",
                    rows.len(),
                    rows.len() / group
                ),
            ));
        }
        let k = rows.len() as f64;
        let mut mean = Array::<f64, D>::zeros(first.raw_dim());
        for r in rows {
            mean += r;
        }
        mean /= k;
        let mut var = Array::<f64, D>::zeros(first.raw_dim());
        for r in rows {
            Zip::from(&mut var)
                .and(r)
                .and(&mean)
                .for_each(|s, v, m| *s += (v - m) * (v - m));
        }
        let std = var.mapv(|s| (s / (k - 1.0)).sqrt());
        let groups = (rows.len() / group) as f64;
        let mut gvar = Array::<f64, D>::zeros(first.raw_dim());
        let mut gmean = Array::<f64, D>::zeros(first.raw_dim());
        for chunk in rows.chunks(group) {
            gmean.fill(0.0);
            for r in chunk {
                gmean += r;
            }
            Zip::from(&mut gvar)
                .and(&gmean)
                .and(&mean)
                .for_each(|s, g, m| {
                    let d = g / group as f64 - m;
                    *s += d * d;
                });
        }
        let std_error = gvar.mapv(|s| (s / (groups - 1.0) / groups).sqrt());
        let band_lo = Zip::from(&mean)
            .and(&std_error)
            .map_collect(|m, e| m - z * e);
        let band_hi = Zip::from(&mean)
            .and(&std_error)
            .map_collect(|m, e| m + z * e);
        Ok(Self {
            mean,
            std,
            std_error,
            band_lo,
            band_hi,
        })
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
    /// Statistics of `u`, each of shape `(nt + 1, nx)` (time x space).
    pub u: FieldStats<Ix2>,
    /// Statistics of `m`, each of shape `(nt + 1, nx)` (time x space); the band is the
    /// confidence band of the mean density.
    pub m: FieldStats<Ix2>,
    /// Statistics of the first moment of `m`, each of shape `(nt + 1,)` (time).
    pub moment: FieldStats<Ix1>,
    /// The scalar estimate of `E[first moment of m(T)]`.
    pub scalar: ScalarEstimate,
    /// Independent groups behind the standard errors: the paths (plain sampling), the
    /// antithetic pairs or the QMC replicates.
    pub groups: usize,
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

/// Fewest independent groups (paths, antithetic pairs or QMC replicates) behind an estimate
/// that [`CommonNoiseResult::warnings`] reports without a warning: 20. With `G` groups the
/// standard error is itself estimated from `G - 1` degrees of freedom, so its relative error
/// is about `1 / sqrt(2 (G - 1))` (23 % at 10 groups, 16 % at 20), and the normal quantile of
/// the interval understates the Student quantile by more than 6 % below 20 groups (2.09
/// against 1.96 at 95 %). Fewer than 2 groups give no standard error at all and are refused
/// when the job is built.
pub const FEW_GROUPS: usize = 20;

impl CommonNoiseResult {
    /// What a reader of the estimate must know before trusting it, one sentence each: too few
    /// independent groups ([`FEW_GROUPS`], with the interval and its width), paths whose solve
    /// did not converge (their fields enter the statistics as they are), and a non-finite
    /// estimate. Empty when none applies.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let s = &self.scalar;
        let k = self.paths.len();
        if !(s.estimate.is_finite() && s.std_error.is_finite()) {
            out.push(format!(
                "the estimate is not finite ({} +- {}): a path's solve produced non-finite values",
                s.estimate, s.std_error
            ));
        }
        if self.groups < FEW_GROUPS {
            let rel = 1.0 / (2.0 * (self.groups as f64 - 1.0)).sqrt();
            out.push(format!(
                "only {} independent groups behind the standard error ({k} paths): the interval [{:.6}, {:.6}] (width {:.2e}) is a rough guide, its standard error being itself uncertain by about {:.0} %; use at least {FEW_GROUPS} groups ({} paths)",
                self.groups,
                s.ci[0],
                s.ci[1],
                s.ci[1] - s.ci[0],
                100.0 * rel,
                FEW_GROUPS * (k / self.groups.max(1)),
            ));
        }
        if self.converged < k {
            let mut statuses: Vec<String> = Vec::new();
            for status in [Status::MaxIterations, Status::TimedOut, Status::NonFinite] {
                let n = self.paths.iter().filter(|p| p.status == status).count();
                if n > 0 {
                    statuses.push(format!("{n} {status:?}"));
                }
            }
            out.push(format!(
                "{} of {k} paths did not converge ({}): their fields enter the statistics as they are",
                k - self.converged,
                statuses.join(", ")
            ));
        }
        out
    }

    /// The K paths `theta^k(t_n)` stacked, shape `(K, nt + 1)` (path x time).
    pub fn thetas(&self) -> Array2<f64> {
        self.stack(|p| &p.theta)
    }

    /// The first moment of `m` on every path, shape `(K, nt + 1)` (path x time).
    pub fn first_moments(&self) -> Array2<f64> {
        self.stack(|p| &p.mean)
    }

    fn stack(&self, f: impl Fn(&PathOutcome) -> &Array1<f64>) -> Array2<f64> {
        let levels = self.grid.levels();
        Array2::from_shape_fn((self.paths.len(), levels), |(k, n)| f(&self.paths[k])[n])
    }

    /// Every plottable array of the result with its file stem, as the `common_noise` example
    /// writes them (`NAME.npy`, loadable with one `numpy.load`):
    ///
    /// | name | shape | axes |
    /// | --- | --- | --- |
    /// | `x` | `(nx,)` | cell centres |
    /// | `t` | `(nt + 1,)` | time levels |
    /// | `m_mean`, `m_std`, `m_std_error`, `m_band_lo`, `m_band_hi` | `(nt + 1, nx)` | time x space |
    /// | `u_mean`, `u_std`, `u_std_error`, `u_band_lo`, `u_band_hi` | `(nt + 1, nx)` | time x space |
    /// | `moment_mean`, `moment_std`, `moment_std_error`, `moment_band_lo`, `moment_band_hi` | `(nt + 1,)` | time |
    /// | `theta` | `(K, nt + 1)` | path x time |
    /// | `first_moment` | `(K, nt + 1)` | path x time |
    pub fn arrays(&self) -> Vec<(String, ArrayD<f64>)> {
        let mut out = vec![
            ("x".to_string(), self.grid.x_axis().into_dyn()),
            ("t".to_string(), self.grid.t_axis().into_dyn()),
        ];
        fn push<D: Dimension>(out: &mut Vec<(String, ArrayD<f64>)>, p: &str, s: &FieldStats<D>) {
            for (name, a) in [
                ("mean", &s.mean),
                ("std", &s.std),
                ("std_error", &s.std_error),
                ("band_lo", &s.band_lo),
                ("band_hi", &s.band_hi),
            ] {
                out.push((format!("{p}_{name}"), a.clone().into_dyn()));
            }
        }
        push(&mut out, "m", &self.m);
        push(&mut out, "u", &self.u);
        push(&mut out, "moment", &self.moment);
        out.push(("theta".into(), self.thetas().into_dyn()));
        out.push(("first_moment".into(), self.first_moments().into_dyn()));
        out
    }
}
