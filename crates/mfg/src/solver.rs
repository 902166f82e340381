//! The Picard fixed point between the HJB and Fokker-Planck sweeps.

use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::anderson::{self, Anderson, AndersonStats};
use crate::error::{MfgError, positive};
use crate::fokker_planck;
use crate::grid::Grid;
use crate::hjb::{NewtonStats, Stencil, Sweep, Workspace};
use crate::problem::Problem;

/// Settings of the Picard / Newton iteration. Every field has a documented default, filled in
/// when missing from a serialised config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SolverConfig {
    /// Picard iteration limit (default 200). Reaching it is [`Status::MaxIterations`].
    pub max_iterations: usize,
    /// Damping on `u`: `u <- (1 - w) u + w HJB(m)`, in `(0, 1]` (default 1, undamped).
    pub damping_u: f64,
    /// Damping on `m`: `m <- (1 - w) m + w FP(u)`, in `(0, 1]` (default 1, undamped). Lower it
    /// (for example to 0.3) for strongly coupled games whose plain Picard map oscillates.
    pub damping_m: f64,
    /// Absolute tolerance on the L2 change `sqrt(dx dt sum (new - old)^2)` of both `u` and `m`
    /// (default 1e-8).
    pub tol_abs: f64,
    /// Relative tolerance: the same change divided by the L2 norm of the new field (default
    /// 1e-8). Convergence needs both the absolute and the relative test, for both `u` and `m`.
    pub tol_rel: f64,
    /// Newton tolerance per time step: stop when `dt max|R| <= newton_tol (1 + max|U|)`
    /// (default 1e-12).
    pub newton_tol: f64,
    /// Newton iteration limit per time step (default 50).
    pub newton_max_iterations: usize,
    /// Wall-clock limit of one solve in seconds (default none); reaching it is
    /// [`Status::TimedOut`], checked after each Picard iteration.
    pub max_seconds: Option<f64>,
    /// Memory depth of the Anderson acceleration of the Picard iteration on the density
    /// (Walker and Ni 2011, see [`crate::anderson`]): how many earlier iterates each step
    /// combines, `0..=50` (default 5; 0 is plain damped Picard). `damping_m` is the mixing
    /// parameter `beta` of the accelerated step.
    pub anderson_depth: usize,
}

impl Default for SolverConfig {
    fn default() -> Self {
        Self {
            max_iterations: 200,
            damping_u: 1.0,
            damping_m: 1.0,
            tol_abs: 1e-8,
            tol_rel: 1e-8,
            newton_tol: 1e-12,
            newton_max_iterations: 50,
            max_seconds: None,
            anderson_depth: 5,
        }
    }
}

impl SolverConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), MfgError> {
        if self.max_iterations == 0 {
            return Err(MfgError::field("solver.max_iterations", "must be >= 1"));
        }
        for (name, w) in [
            ("solver.damping_u", self.damping_u),
            ("solver.damping_m", self.damping_m),
        ] {
            if !(w > 0.0 && w <= 1.0) {
                return Err(MfgError::field(
                    name,
                    format!("must lie in (0, 1], got {w}"),
                ));
            }
        }
        positive("solver.tol_abs", self.tol_abs)?;
        positive("solver.tol_rel", self.tol_rel)?;
        positive("solver.newton_tol", self.newton_tol)?;
        if self.newton_max_iterations == 0 {
            return Err(MfgError::field(
                "solver.newton_max_iterations",
                "must be >= 1",
            ));
        }
        if let Some(s) = self.max_seconds {
            positive("solver.max_seconds", s)?;
        }
        if self.anderson_depth > anderson::MAX_DEPTH {
            return Err(MfgError::field(
                "solver.anderson_depth",
                format!(
                    "must be at most {}, got {}",
                    anderson::MAX_DEPTH,
                    self.anderson_depth
                ),
            ));
        }
        Ok(())
    }
}

/// How a solve ended. Only [`Status::Converged`] means the tolerances were met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Both the absolute and relative changes of `u` and `m` fell below the tolerances.
    Converged,
    /// The Picard iteration limit was reached first.
    MaxIterations,
    /// The wall-clock limit was reached first.
    TimedOut,
    /// A non-finite value appeared in `u` or `m`.
    NonFinite,
}

/// The changes measured in one Picard iteration (L2 norms scaled by `sqrt(dx dt)`), between the
/// new undamped iterate and the previous (damped) one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IterationRecord {
    /// Absolute change of `u`.
    pub du: f64,
    /// Relative change of `u`.
    pub du_rel: f64,
    /// Absolute change of `m`.
    pub dm: f64,
    /// Relative change of `m`.
    pub dm_rel: f64,
}

/// The result of a solve: the fields, the status and the iteration history.
///
/// # Array layout
///
/// `u` and `m` are [`Array2`]s of shape `(nt + 1, nx)`: **time along axis 0, space along
/// axis 1**. `u[[n, i]]` is the value at time level `t_n = n dt` (`n = 0..=nt`, see
/// [`Grid::t_axis`]) and cell centre `x_i` (`i = 0..nx`, see [`Grid::x_axis`]). Both are in
/// standard (row-major, C) order, so `u.as_slice()` is level by level and a `.npy` file written
/// from them loads in NumPy as `u[n, i]` with the same meaning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[must_use = "a solution carries a status that says whether it converged"]
pub struct Solution {
    /// The grid solved on.
    pub grid: Grid,
    /// Value function, shape `(nt + 1, nx)` (time x space).
    pub u: Array2<f64>,
    /// Density, shape `(nt + 1, nx)` (time x space); unit mass at every level up to round-off.
    pub m: Array2<f64>,
    /// How the Picard iteration ended.
    pub status: Status,
    /// Picard iterations done.
    pub iterations: usize,
    /// Changes per Picard iteration.
    pub history: Vec<IterationRecord>,
    /// Newton statistics summed over all HJB sweeps.
    pub newton: NewtonStats,
    /// What the Anderson acceleration did (all zero but `depth` when it was off).
    pub anderson: AndersonStats,
    /// Wall-clock seconds of the solve.
    pub seconds: f64,
}

impl Solution {
    /// Whether the tolerances were met.
    pub fn converged(&self) -> bool {
        self.status == Status::Converged
    }
    /// `u` at time level `n` (`nx` values).
    pub fn u_level(&self, n: usize) -> ArrayView1<'_, f64> {
        self.u.row(n)
    }
    /// `m` at time level `n` (`nx` values).
    pub fn m_level(&self, n: usize) -> ArrayView1<'_, f64> {
        self.m.row(n)
    }
    /// Mass `sum m_i dx` at level `n`.
    pub fn mass(&self, n: usize) -> f64 {
        self.m_level(n).sum() * self.grid.dx()
    }
    /// First moment `sum x_i m_i dx / mass` at level `n`.
    pub fn mean(&self, n: usize) -> f64 {
        let g = &self.grid;
        let m = self.m_level(n);
        m.iter().enumerate().map(|(i, v)| g.x(i) * v).sum::<f64>() * g.dx() / self.mass(n)
    }
    /// Variance `sum (x_i - mean)^2 m_i dx / mass` at level `n`.
    pub fn variance(&self, n: usize) -> f64 {
        let g = &self.grid;
        let mean = self.mean(n);
        let m = self.m_level(n);
        m.iter()
            .enumerate()
            .map(|(i, v)| (g.x(i) - mean).powi(2) * v)
            .sum::<f64>()
            * g.dx()
            / self.mass(n)
    }
    /// [`Solution::mass`] at every level: shape `(nt + 1,)`, indexed by time level.
    pub fn masses(&self) -> Array1<f64> {
        (0..self.grid.levels()).map(|n| self.mass(n)).collect()
    }
    /// [`Solution::mean`] at every level: shape `(nt + 1,)`, indexed by time level.
    pub fn means(&self) -> Array1<f64> {
        (0..self.grid.levels()).map(|n| self.mean(n)).collect()
    }
    /// [`Solution::variance`] at every level: shape `(nt + 1,)`, indexed by time level.
    pub fn variances(&self) -> Array1<f64> {
        (0..self.grid.levels()).map(|n| self.variance(n)).collect()
    }
    /// `max_n |mass(n) - mass(0)|`.
    pub fn mass_drift(&self) -> f64 {
        let m0 = self.mass(0);
        (0..self.grid.levels())
            .map(|n| (self.mass(n) - m0).abs())
            .fold(0.0, f64::max)
    }
    /// Smallest density value over all levels.
    pub fn min_density(&self) -> f64 {
        self.m.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// The state of a Picard iteration between [`Solver::step`] calls.
#[derive(Debug, Clone)]
pub struct PicardState {
    theta: Vec<f64>,
    u: Vec<f64>,
    m: Vec<f64>,
    u_new: Vec<f64>,
    m_new: Vec<f64>,
    iteration: usize,
    history: Vec<IterationRecord>,
    newton: NewtonStats,
    anderson: Option<Anderson>,
    started: Instant,
}

impl PicardState {
    /// Picard iterations done so far.
    pub fn iteration(&self) -> usize {
        self.iteration
    }
    /// Current value function, shape `(nt + 1, nx)` (time x space, as [`Solution::u`]).
    pub fn u(&self) -> ArrayView2<'_, f64> {
        self.view(&self.u)
    }
    /// Current density, shape `(nt + 1, nx)` (time x space, as [`Solution::m`]).
    pub fn m(&self) -> ArrayView2<'_, f64> {
        self.view(&self.m)
    }
    fn view<'a>(&self, field: &'a [f64]) -> ArrayView2<'a, f64> {
        let levels = self.theta.len();
        ArrayView2::from_shape((levels, field.len() / levels), field)
            .expect("a field holds one row of nx values per time level")
    }
}

/// The mean-field-game solver: a damped, Anderson-accelerated Picard iteration over an
/// implicit upwind HJB sweep (Newton per time step) and its adjoint Fokker-Planck sweep.
///
/// `init`/`step`/`terminate` expose the iteration; [`Solver::solve`] runs it to the end. All
/// buffers are allocated once in [`Solver::new`] and [`Solver::init`]; the sweeps allocate
/// nothing.
///
/// ```
/// use mfg::{Boundary, Grid, Problem, QuadraticHamiltonian, QuadraticTarget, Target, Solver,
///           SolverConfig, gaussian_density};
/// let grid = Grid::new(-3.0, 3.0, 51, 51, 1.0, Boundary::Reflecting)?;
/// let m0 = gaussian_density(&grid, 0.5, 0.5);
/// let problem = Problem::new(
///     grid,
///     0.5,
///     QuadraticHamiltonian { lambda: 1.0 },
///     QuadraticTarget { weight: 1.0, target: Target::Mean },
///     QuadraticTarget { weight: 1.0, target: Target::Mean },
///     m0,
/// )?;
/// let solution = Solver::new(problem, SolverConfig::default())?.solve(None)?;
/// assert!(solution.converged());
/// assert!(solution.mass_drift() < 1e-12);
/// # Ok::<(), mfg::MfgError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Solver {
    problem: Problem,
    config: SolverConfig,
    stencil: Stencil,
    ws: Workspace,
}

impl Solver {
    /// Validates `config` and allocates the workspace.
    pub fn new(problem: Problem, config: SolverConfig) -> Result<Self, MfgError> {
        config.validate()?;
        let stencil = Stencil::new(problem.grid(), problem.nu());
        let ws = Workspace::new(problem.grid().nx());
        Ok(Self {
            problem,
            config,
            stencil,
            ws,
        })
    }

    /// The problem.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// The settings.
    pub fn config(&self) -> &SolverConfig {
        &self.config
    }

    /// Starts an iteration: `m` is `m0` at every level, `u` is zero. `theta` is the frozen
    /// common-noise path (one finite value per time level), or `None` for `theta = 0`.
    pub fn init(&self, theta: Option<&[f64]>) -> Result<PicardState, MfgError> {
        let grid = self.problem.grid();
        let levels = grid.levels();
        let theta = match theta {
            Some(path) => {
                if path.len() != levels {
                    return Err(MfgError::PathLength {
                        expected: levels,
                        got: path.len(),
                    });
                }
                if let Some(i) = path.iter().position(|v| !v.is_finite()) {
                    return Err(MfgError::field(format!("theta[{i}]"), "must be finite"));
                }
                path.to_vec()
            }
            None => vec![0.0; levels],
        };
        let nx = grid.nx();
        let m: Vec<f64> = self
            .problem
            .m0()
            .iter()
            .copied()
            .cycle()
            .take(levels * nx)
            .collect();
        Ok(PicardState {
            theta,
            u: vec![0.0; levels * nx],
            m_new: m.clone(),
            m,
            u_new: vec![0.0; levels * nx],
            iteration: 0,
            history: Vec::with_capacity(self.config.max_iterations.min(100_000)),
            newton: NewtonStats::default(),
            anderson: (self.config.anderson_depth > 0)
                .then(|| Anderson::new(levels * nx, self.config.anderson_depth)),
            started: Instant::now(),
        })
    }

    /// One Picard iteration: `u_new = HJB(m)`, damp `u`, `m_new = FP(u)`, then the next
    /// density: the damped step `m + damping_m (m_new - m)` without acceleration, the Anderson
    /// step otherwise, replaced by the damped step (and the history cleared) when it has a
    /// negative density value (see [`crate::anderson`]).
    pub fn step(&mut self, state: &mut PicardState) -> IterationRecord {
        let sweep = Sweep {
            stencil: &self.stencil,
            problem: &self.problem,
            theta: &state.theta,
            newton_tol: self.config.newton_tol,
            newton_max: self.config.newton_max_iterations,
        };
        let warm = state.iteration > 0;
        let stats = sweep.hjb(&state.m, &mut state.u_new, &mut self.ws, warm);
        state.newton.add(stats);
        let scale = (self.stencil.dx * self.stencil.dt).sqrt();
        let first = state.iteration == 0;
        let (du, nu) = change(&state.u, &state.u_new, scale);
        let wu = if first { 1.0 } else { self.config.damping_u };
        blend(&mut state.u, &state.u_new, wu);
        fokker_planck::sweep(
            &self.stencil,
            &self.problem,
            &state.theta,
            &state.u,
            &state.m,
            &mut state.m_new,
            &mut self.ws,
        );
        let (dm, nm) = change(&state.m, &state.m_new, scale);
        match &mut state.anderson {
            None => blend(&mut state.m, &state.m_new, self.config.damping_m),
            Some(aa) => {
                aa.step(&mut state.m, &state.m_new, self.config.damping_m);
                if state.m.iter().any(|v| *v < 0.0) {
                    aa.restart(&mut state.m, self.config.damping_m);
                }
            }
        }
        state.iteration += 1;
        let rec = IterationRecord {
            du,
            du_rel: du / nu.max(f64::MIN_POSITIVE),
            dm,
            dm_rel: dm / nm,
        };
        state.history.push(rec);
        rec
    }

    /// The status to stop with after the last [`Solver::step`], or `None` to go on.
    pub fn terminate(&self, state: &PicardState) -> Option<Status> {
        let c = &self.config;
        let rec = state.history.last()?;
        let all = [rec.du, rec.du_rel, rec.dm, rec.dm_rel];
        if all.iter().any(|v| !v.is_finite()) {
            return Some(Status::NonFinite);
        }
        if rec.du <= c.tol_abs
            && rec.dm <= c.tol_abs
            && rec.du_rel <= c.tol_rel
            && rec.dm_rel <= c.tol_rel
        {
            return Some(Status::Converged);
        }
        if let Some(limit) = c.max_seconds
            && state.started.elapsed().as_secs_f64() >= limit
        {
            return Some(Status::TimedOut);
        }
        if state.iteration >= c.max_iterations {
            return Some(Status::MaxIterations);
        }
        None
    }

    /// Turns a finished iteration into a [`Solution`].
    pub fn finish(&self, state: PicardState, status: Status) -> Solution {
        let grid = self.problem.grid().clone();
        let shape = (grid.levels(), grid.nx());
        let field = |v: Vec<f64>| {
            Array2::from_shape_vec(shape, v).expect("a field holds (nt + 1) * nx values")
        };
        Solution {
            u: field(state.u),
            m: field(state.m),
            grid,
            status,
            iterations: state.iteration,
            history: state.history,
            newton: state.newton,
            anderson: state
                .anderson
                .map_or_else(AndersonStats::default, |a| a.stats),
            seconds: state.started.elapsed().as_secs_f64(),
        }
    }

    /// Runs the Picard iteration to convergence or a limit. Errors only for bad input (a
    /// `theta` path of the wrong length or with non-finite values); every outcome of the
    /// iteration itself is a [`Status`].
    pub fn solve(&mut self, theta: Option<&[f64]>) -> Result<Solution, MfgError> {
        let mut state = self.init(theta)?;
        loop {
            self.step(&mut state);
            if let Some(status) = self.terminate(&state) {
                return Ok(self.finish(state, status));
            }
        }
    }
}

/// `(sqrt(dx dt) ||new - old||_2, sqrt(dx dt) ||new||_2)`.
fn change(old: &[f64], new: &[f64], scale: f64) -> (f64, f64) {
    let mut d2 = 0.0;
    let mut n2 = 0.0;
    for (o, n) in old.iter().zip(new) {
        d2 += (n - o) * (n - o);
        n2 += n * n;
    }
    (scale * d2.sqrt(), scale * n2.sqrt())
}

fn blend(cur: &mut [f64], new: &[f64], w: f64) {
    if w == 1.0 {
        cur.copy_from_slice(new);
    } else {
        for (c, n) in cur.iter_mut().zip(new) {
            *c += w * (n - *c);
        }
    }
}
