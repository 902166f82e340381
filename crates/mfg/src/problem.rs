//! The runtime problem: a validated grid, volatility, model ingredients and initial density.

use std::sync::Arc;

use crate::error::{MfgError, non_negative};
use crate::grid::Grid;
use crate::model::{Coupling, Hamiltonian, TerminalCost};

/// A validated mean-field game, ready to be solved by [`crate::Solver`].
///
/// Cheap to clone (the model ingredients are shared behind `Arc`), `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Problem {
    grid: Grid,
    sigma: f64,
    hamiltonian: Arc<dyn Hamiltonian>,
    coupling: Arc<dyn Coupling>,
    terminal: Arc<dyn TerminalCost>,
    m0: Vec<f64>,
}

impl Problem {
    /// Checks and builds a problem.
    ///
    /// `m0` holds one value per cell (density values at the cell centres); it must be finite,
    /// non-negative and have positive mass. It is **normalised to unit mass**
    /// (`sum m0_i dx = 1`). `sigma` must be finite and `>= 0`; the diffusion is
    /// `nu = sigma^2 / 2`.
    pub fn new(
        grid: Grid,
        sigma: f64,
        hamiltonian: impl Hamiltonian + 'static,
        coupling: impl Coupling + 'static,
        terminal: impl TerminalCost + 'static,
        m0: Vec<f64>,
    ) -> Result<Self, MfgError> {
        Self::from_parts(
            grid,
            sigma,
            Arc::new(hamiltonian),
            Arc::new(coupling),
            Arc::new(terminal),
            m0,
        )
    }

    /// As [`Problem::new`], with ingredients already behind `Arc`.
    pub fn from_parts(
        grid: Grid,
        sigma: f64,
        hamiltonian: Arc<dyn Hamiltonian>,
        coupling: Arc<dyn Coupling>,
        terminal: Arc<dyn TerminalCost>,
        mut m0: Vec<f64>,
    ) -> Result<Self, MfgError> {
        non_negative("sigma", sigma)?;
        if m0.len() != grid.nx() {
            return Err(MfgError::field(
                "m0",
                format!("has {} values, the grid has {} cells", m0.len(), grid.nx()),
            ));
        }
        for (i, v) in m0.iter().enumerate() {
            if !v.is_finite() {
                return Err(MfgError::field(
                    format!("m0[{i}]"),
                    format!("must be finite, got {v}"),
                ));
            }
            if *v < 0.0 {
                return Err(MfgError::field(
                    format!("m0[{i}]"),
                    format!("must be >= 0, got {v}"),
                ));
            }
        }
        let mass = m0.iter().sum::<f64>() * grid.dx();
        if mass <= 0.0 || !mass.is_finite() {
            return Err(MfgError::field(
                "m0",
                format!("has no mass (sum m0 dx = {mass})"),
            ));
        }
        for v in &mut m0 {
            *v /= mass;
        }
        Ok(Self {
            grid,
            sigma,
            hamiltonian,
            coupling,
            terminal,
            m0,
        })
    }

    /// The grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }
    /// Volatility `sigma`.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }
    /// Diffusion coefficient `nu = sigma^2 / 2`.
    pub fn nu(&self) -> f64 {
        0.5 * self.sigma * self.sigma
    }
    /// The Hamiltonian.
    pub fn hamiltonian(&self) -> &dyn Hamiltonian {
        &*self.hamiltonian
    }
    /// The running coupling.
    pub fn coupling(&self) -> &dyn Coupling {
        &*self.coupling
    }
    /// The terminal cost.
    pub fn terminal(&self) -> &dyn TerminalCost {
        &*self.terminal
    }
    /// The initial density, normalised to unit mass.
    pub fn m0(&self) -> &[f64] {
        &self.m0
    }
}

/// A Gaussian density `N(mean, std^2)` evaluated at the cell centres of `grid` (not
/// normalised; [`Problem::new`] normalises).
pub fn gaussian_density(grid: &Grid, mean: f64, std: f64) -> Vec<f64> {
    (0..grid.nx())
        .map(|i| {
            let z = (grid.x(i) - mean) / std;
            (-0.5 * z * z).exp() / (std * (2.0 * std::f64::consts::PI).sqrt())
        })
        .collect()
}
