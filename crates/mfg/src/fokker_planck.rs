//! The Fokker-Planck step as the discrete adjoint of the linearised HJB operator.
//!
//! With `L(u^n)` the linearised HJB operator of [`crate::hjb`] at the value function of level
//! `n`, the density advances by
//!
//! ```text
//! (I + dt L(u^n)^T) m^{n+1} = m^n.
//! ```
//!
//! Every row of `L` sums to zero, so every column of `L^T` does: `sum_i m^{n+1}_i = sum_i m^n_i`
//! up to round-off (mass conservation). `I + dt L` is an M-matrix, hence so is its transpose,
//! whose inverse is entrywise non-negative: `m^n >= 0` implies `m^{n+1} >= 0`.

use crate::hjb::{Stencil, Workspace};
use crate::tridiagonal;

/// Advances `m` (all levels; level 0 must hold `m0`) forward with the drift of `u`.
///
/// `m_coef` is the density the Hamiltonian sees as its `m` argument (the density of the HJB
/// sweep that produced `u`), so that `L` is exactly the linearisation used by that sweep.
pub(crate) fn sweep(
    stencil: &Stencil,
    problem: &crate::Problem,
    theta: &[f64],
    u: &[f64],
    m_coef: &[f64],
    m: &mut [f64],
    ws: &mut Workspace,
) {
    let s = stencil;
    let nx = s.nx;
    let nt = theta.len() - 1;
    let grid = problem.grid();
    let ham = problem.hamiltonian();
    for n in 0..nt {
        s.linearise(
            ham,
            &u[n * nx..(n + 1) * nx],
            &m_coef[(n + 1) * nx..(n + 2) * nx],
            grid.t(n),
            theta[n],
            &mut ws.lower,
            &mut ws.diag,
            &mut ws.upper,
            None,
        );
        for i in 0..nx {
            ws.lower_t[i] = s.dt * ws.upper[(i + nx - 1) % nx];
            ws.diag_t[i] = 1.0 + s.dt * ws.diag[i];
            ws.upper_t[i] = s.dt * ws.lower[(i + 1) % nx];
        }
        let (head, tail) = m.split_at_mut((n + 1) * nx);
        let next = &mut tail[..nx];
        next.copy_from_slice(&head[n * nx..]);
        if s.periodic {
            tridiagonal::solve_cyclic(&ws.lower_t, &ws.diag_t, &ws.upper_t, next, &mut ws.scratch);
        } else {
            tridiagonal::solve(&ws.lower_t, &ws.diag_t, &ws.upper_t, next, &mut ws.scratch);
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;
    use crate::{Boundary, Grid, Problem, QuadraticHamiltonian, Zero};

    /// For arbitrary (random, steep) value functions and non-negative initial data with empty
    /// cells, the adjoint step conserves mass to round-off and keeps the density non-negative:
    /// exactly so with reflecting walls (Thomas elimination on an M-matrix never subtracts),
    /// up to round-off with the periodic Sherman-Morrison correction.
    #[test]
    fn adjoint_step_conserves_mass_and_sign_for_any_drift() {
        for (case, boundary) in [Boundary::Reflecting, Boundary::Periodic]
            .into_iter()
            .enumerate()
        {
            for trial in 0..20 {
                let mut rng = par_core::seed::task_rng(99 + case as u64, trial);
                let nx = rng.random_range(3..40);
                let nt = rng.random_range(1..30);
                let sigma = if trial % 3 == 0 {
                    0.0
                } else {
                    rng.random_range(0.0..2.0)
                };
                let grid =
                    Grid::new(-1.0, 1.0, nx, nt, rng.random_range(0.1..5.0), boundary).unwrap();
                let mut m0: Vec<f64> = (0..nx)
                    .map(|_| {
                        if rng.random::<f64>() < 0.3 {
                            0.0
                        } else {
                            rng.random::<f64>()
                        }
                    })
                    .collect();
                m0[0] = 1.0; // never massless
                let p = Problem::new(
                    grid.clone(),
                    sigma,
                    QuadraticHamiltonian { lambda: 0.3 },
                    Zero,
                    Zero,
                    m0,
                )
                .unwrap();
                let levels = grid.levels();
                let u: Vec<f64> = (0..levels * nx)
                    .map(|_| rng.random_range(-20.0..20.0))
                    .collect();
                let theta = vec![0.0; levels];
                let mut m: Vec<f64> = p.m0().iter().copied().cycle().take(levels * nx).collect();
                let coef = m.clone();
                let stencil = Stencil::new(&grid, p.nu());
                let mut ws = Workspace::new(nx);
                sweep(&stencil, &p, &theta, &u, &coef, &mut m, &mut ws);
                let mass0: f64 = p.m0().iter().sum();
                for n in 0..levels {
                    let level = &m[n * nx..(n + 1) * nx];
                    let mass: f64 = level.iter().sum();
                    assert!(
                        (mass - mass0).abs() <= 1e-13 * mass0,
                        "{boundary:?} trial {trial}"
                    );
                    let min = level.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = level.iter().copied().fold(0.0, f64::max);
                    match boundary {
                        Boundary::Reflecting => assert!(min >= 0.0, "trial {trial}: {min}"),
                        Boundary::Periodic => assert!(min >= -1e-14 * max, "trial {trial}: {min}"),
                    }
                }
            }
        }
    }
}
