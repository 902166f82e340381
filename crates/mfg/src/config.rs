//! Serialisable configuration, validated once into a [`Problem`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{MfgError, finite, non_negative, positive};
use crate::grid::{Boundary, Grid};
use crate::model::{
    Coupling, Hamiltonian, LogCongestion, QuadraticHamiltonian, QuadraticTarget, Target,
    TerminalCost, Zero,
};
use crate::problem::{Problem, gaussian_density};
use crate::solver::{Solver, SolverConfig};

/// The Hamiltonian of a configured game.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum HamiltonianConfig {
    /// `|p|^2 / (2 lambda)`.
    Quadratic {
        /// `lambda > 0`.
        lambda: f64,
    },
}

/// The running coupling `F` of a configured game.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    from = "CouplingRepr"
)]
pub enum CouplingConfig {
    /// `F = 0`.
    None,
    /// `eps / 2 (x - target)^2`.
    QuadraticTarget {
        /// `eps >= 0`.
        eps: f64,
        /// The target.
        target: Target,
    },
    /// `a x^2 / 2 + strength ln m`.
    LogCongestion {
        /// `a > 0`.
        a: f64,
        /// `strength` (any finite value).
        strength: f64,
    },
}

/// The terminal cost `g` of a configured game.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    from = "TerminalRepr"
)]
pub enum TerminalConfig {
    /// `g = 0`.
    None,
    /// `c / 2 (x - target)^2`.
    QuadraticTarget {
        /// `c >= 0`.
        c: f64,
        /// The target.
        target: Target,
    },
}

/// The initial density of a configured game (normalised to unit mass on the grid).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    from = "InitialDensityRepr"
)]
pub enum InitialDensity {
    /// `N(mean, std^2)` at the cell centres.
    Gaussian {
        /// Mean.
        mean: f64,
        /// Standard deviation `> 0`.
        std: f64,
    },
    /// Constant.
    Uniform,
    /// One value per cell.
    Values {
        /// `nx` non-negative values.
        values: Vec<f64>,
    },
}

// How the tagged enums above are read: their field-less variants as empty structs, so that an
// unknown field beside them is an error too (serde ignores extra fields of an internally
// tagged unit variant, even with `deny_unknown_fields`).

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum CouplingRepr {
    None {},
    QuadraticTarget { eps: f64, target: Target },
    LogCongestion { a: f64, strength: f64 },
}

impl From<CouplingRepr> for CouplingConfig {
    fn from(r: CouplingRepr) -> Self {
        match r {
            CouplingRepr::None {} => Self::None,
            CouplingRepr::QuadraticTarget { eps, target } => Self::QuadraticTarget { eps, target },
            CouplingRepr::LogCongestion { a, strength } => Self::LogCongestion { a, strength },
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum TerminalRepr {
    None {},
    QuadraticTarget { c: f64, target: Target },
}

impl From<TerminalRepr> for TerminalConfig {
    fn from(r: TerminalRepr) -> Self {
        match r {
            TerminalRepr::None {} => Self::None,
            TerminalRepr::QuadraticTarget { c, target } => Self::QuadraticTarget { c, target },
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum InitialDensityRepr {
    Gaussian { mean: f64, std: f64 },
    Uniform {},
    Values { values: Vec<f64> },
}

impl From<InitialDensityRepr> for InitialDensity {
    fn from(r: InitialDensityRepr) -> Self {
        match r {
            InitialDensityRepr::Gaussian { mean, std } => Self::Gaussian { mean, std },
            InitialDensityRepr::Uniform {} => Self::Uniform,
            InitialDensityRepr::Values { values } => Self::Values { values },
        }
    }
}

/// A complete game and solver setting, as read from JSON. Missing fields take the defaults of
/// [`MfgConfig::default`]: the LQ mean-target game with `eps = c = 1`, `sigma = 0.5`, `T = 1`
/// on `[-3, 3]` (reflecting), 51 cells and 51 time steps, `m0 = N(0.5, 0.5^2)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfgConfig {
    /// Domain `[a, b]`.
    pub domain: [f64; 2],
    /// Boundary condition (default reflecting).
    pub boundary: Boundary,
    /// Number of cells (see [`Grid`]); at least 3.
    pub nx: usize,
    /// Number of time steps (there are `nt + 1` levels); at least 1.
    pub nt: usize,
    /// Horizon `T > 0`.
    pub horizon: f64,
    /// Volatility `sigma >= 0` (`nu = sigma^2 / 2`).
    pub sigma: f64,
    /// Hamiltonian.
    pub hamiltonian: HamiltonianConfig,
    /// Running coupling.
    pub coupling: CouplingConfig,
    /// Terminal cost.
    pub terminal: TerminalConfig,
    /// Initial density.
    pub m0: InitialDensity,
    /// Picard / Newton settings.
    pub solver: SolverConfig,
}

impl Default for MfgConfig {
    fn default() -> Self {
        Self {
            domain: [-3.0, 3.0],
            boundary: Boundary::Reflecting,
            nx: 51,
            nt: 51,
            horizon: 1.0,
            sigma: 0.5,
            hamiltonian: HamiltonianConfig::Quadratic { lambda: 1.0 },
            coupling: CouplingConfig::QuadraticTarget {
                eps: 1.0,
                target: Target::Mean,
            },
            terminal: TerminalConfig::QuadraticTarget {
                c: 1.0,
                target: Target::Mean,
            },
            m0: InitialDensity::Gaussian {
                mean: 0.5,
                std: 0.5,
            },
            solver: SolverConfig::default(),
        }
    }
}

fn check_target(field: &str, target: &Target) -> Result<(), MfgError> {
    if let Target::Point { x0 } = target {
        finite(&format!("{field}.x0"), *x0)?;
    }
    Ok(())
}

impl MfgConfig {
    /// The grid, checked.
    pub fn grid(&self) -> Result<Grid, MfgError> {
        Grid::new(
            self.domain[0],
            self.domain[1],
            self.nx,
            self.nt,
            self.horizon,
            self.boundary,
        )
    }

    /// An estimate of the memory one solve of this game allocates, in bytes, computed without
    /// allocating anything (saturating, so absurd sizes compare as huge rather than wrap):
    /// the Picard state (`u`, `m` and their next iterates: 4 fields of `(nt + 1) nx` values,
    /// two of which become the [`crate::Solution`]), the Anderson history (`3 depth + 3` fields
    /// when `depth > 0`), the per-cell workspace of the sweeps and the iteration history. A
    /// test checks it against the bytes a solve really allocates.
    ///
    /// Check it against the memory available before building a game of a user-chosen size:
    /// [`MfgConfig::build`] allocates the initial density (`nx` values) and a solve the rest.
    ///
    /// ```
    /// let cfg = mfg::MfgConfig { nx: 1000, nt: 1000, ..Default::default() };
    /// // 4 + 3 * 5 + 3 fields of 1001 x 1000 doubles: about 176 MB.
    /// assert!((170e6..180e6).contains(&(cfg.solve_bytes() as f64)));
    /// ```
    pub fn solve_bytes(&self) -> u128 {
        const F64: u128 = 8;
        let cells = self.nx as u128;
        let field = cells
            .saturating_mul(self.nt as u128 + 1)
            .saturating_mul(F64);
        let depth = self.solver.anderson_depth as u128;
        let fields = 4 + if depth > 0 { 3 * depth + 3 } else { 0 };
        // The sweeps' workspace: about 30 vectors of nx values (tridiagonal systems, their
        // transposes, Newton and Thomas scratch, the stencil's cell centres, m0).
        let per_cell = 30 * cells * F64;
        // One record of 4 doubles per Picard iteration, preallocated up to 100 000.
        let history = (self.solver.max_iterations.min(100_000) as u128) * 4 * F64;
        field
            .saturating_mul(fields)
            .saturating_add(per_cell)
            .saturating_add(history)
    }

    /// Checks every field (naming the first bad one) and builds the [`Problem`]. Sizes whose
    /// solve could not be addressed at all ([`MfgConfig::solve_bytes`] above `isize::MAX`) are
    /// refused; whether a size fits the memory of the machine is the caller's to check.
    pub fn build(&self) -> Result<Problem, MfgError> {
        let grid = self.grid()?;
        let bytes = self.solve_bytes();
        if bytes > isize::MAX as u128 {
            return Err(MfgError::field(
                "nx",
                format!(
                    "{} cells x {} time levels need about {bytes} bytes per solve, more than a 64-bit address space",
                    self.nx,
                    self.nt as u128 + 1
                ),
            ));
        }
        non_negative("sigma", self.sigma)?;
        let hamiltonian: Arc<dyn Hamiltonian> = match self.hamiltonian {
            HamiltonianConfig::Quadratic { lambda } => {
                positive("hamiltonian.lambda", lambda)?;
                Arc::new(QuadraticHamiltonian { lambda })
            }
        };
        let coupling: Arc<dyn Coupling> = match self.coupling {
            CouplingConfig::None => Arc::new(Zero),
            CouplingConfig::QuadraticTarget { eps, target } => {
                non_negative("coupling.eps", eps)?;
                check_target("coupling.target", &target)?;
                Arc::new(QuadraticTarget {
                    weight: eps,
                    target,
                })
            }
            CouplingConfig::LogCongestion { a, strength } => {
                positive("coupling.a", a)?;
                finite("coupling.strength", strength)?;
                Arc::new(LogCongestion { a, strength })
            }
        };
        let terminal: Arc<dyn TerminalCost> = match self.terminal {
            TerminalConfig::None => Arc::new(Zero),
            TerminalConfig::QuadraticTarget { c, target } => {
                non_negative("terminal.c", c)?;
                check_target("terminal.target", &target)?;
                Arc::new(QuadraticTarget { weight: c, target })
            }
        };
        let m0 = match &self.m0 {
            InitialDensity::Gaussian { mean, std } => {
                finite("m0.mean", *mean)?;
                positive("m0.std", *std)?;
                gaussian_density(&grid, *mean, *std)
            }
            InitialDensity::Uniform => vec![1.0; grid.nx()],
            InitialDensity::Values { values } => values.clone(),
        };
        self.solver.validate()?;
        Problem::from_parts(grid, self.sigma, hamiltonian, coupling, terminal, m0)
    }

    /// [`MfgConfig::build`] followed by [`Solver::new`] with `self.solver`.
    pub fn solver(&self) -> Result<Solver, MfgError> {
        Solver::new(self.build()?, self.solver.clone())
    }
}
