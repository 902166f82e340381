//! The implicit upwind Hamilton-Jacobi-Bellman step and the linearised operator it shares with
//! the Fokker-Planck step.
//!
//! For time step `n` (from level `n + 1` back to level `n`) the unknown `U = u^n` solves
//!
//! ```text
//! R_i(U) = (U_i - u^{n+1}_i) / dt - nu (U_{i-1} - 2 U_i + U_{i+1}) / dx^2
//!          + H^(x_i, D-U_i, D+U_i) - F_i(m^{n+1}) = 0
//! ```
//!
//! (`H^` and `F` evaluated at `t_n` with `theta(t_n)` and the density of level `n + 1`, the
//! pairing of Achdou and Capuzzo-Dolcetta that makes the Fokker-Planck step below the exact
//! adjoint) with `D-U_i = (U_i - U_{i-1}) / dx`, `D+U_i = (U_{i+1} - U_i) / dx` and the monotone
//! numerical Hamiltonian of [`crate::Hamiltonian`]. Newton's method is applied to `R`; its
//! Jacobian `I / dt + L(U)` is tridiagonal (cyclic when periodic), with non-positive
//! off-diagonals and row sums `1 / dt`: an M-matrix. `L(U)` is the linearised operator
//! `v -> -nu Delta v + dH^/dp- D-v + dH^/dp+ D+v`; its transpose is the Fokker-Planck
//! operator ([`crate::fokker_planck`]).

use crate::grid::Boundary;
use crate::model::{Hamiltonian, Point};
use crate::tridiagonal::{self, Scratch};

/// Per-step geometry shared by the HJB and Fokker-Planck steps.
#[derive(Debug, Clone)]
pub(crate) struct Stencil {
    pub nx: usize,
    pub dx: f64,
    pub dt: f64,
    pub nu: f64,
    pub periodic: bool,
    pub xs: Vec<f64>,
}

impl Stencil {
    #[inline]
    fn neighbours(&self, i: usize) -> (usize, usize) {
        let n = self.nx;
        if self.periodic {
            ((i + n - 1) % n, (i + 1) % n)
        } else {
            (i.saturating_sub(1), (i + 1).min(n - 1))
        }
    }

    pub(crate) fn new(grid: &crate::Grid, nu: f64) -> Self {
        Self {
            nx: grid.nx(),
            dx: grid.dx(),
            dt: grid.dt(),
            nu,
            periodic: grid.boundary() == Boundary::Periodic,
            xs: grid.xs(),
        }
    }

    /// Fills `lower`, `diag`, `upper` with `L(u)` (no `1/dt` term) and, when given, `hval`
    /// with `H^` and `lap` with `-nu Delta u` per cell. Reflecting boundaries fold the ghost
    /// cell into the diagonal, so `lower[0] = upper[nx-1] = 0` there and every row of `L`
    /// sums to zero in both cases.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn linearise(
        &self,
        ham: &dyn Hamiltonian,
        u: &[f64],
        m: &[f64],
        t: f64,
        theta: f64,
        lower: &mut [f64],
        diag: &mut [f64],
        upper: &mut [f64],
        mut values: Option<(&mut [f64], &mut [f64])>,
    ) {
        let inv_dx = 1.0 / self.dx;
        let k = self.nu * inv_dx * inv_dx;
        for i in 0..self.nx {
            let (l, r) = self.neighbours(i);
            let at = Point {
                x: self.xs[i],
                t,
                m: m[i],
                theta,
            };
            let ps = ham.argmin(&at);
            let pm = (u[i] - u[l]) * inv_dx;
            let pp = (u[r] - u[i]) * inv_dx;
            let dm = if pm > ps { ham.dp(&at, pm) } else { 0.0 };
            let dpp = if pp < ps { ham.dp(&at, pp) } else { 0.0 };
            let mut d = 2.0 * k + (dm - dpp) * inv_dx;
            let mut lo = -k - dm * inv_dx;
            let mut up = -k + dpp * inv_dx;
            if l == i {
                d += lo;
                lo = 0.0;
            }
            if r == i {
                d += up;
                up = 0.0;
            }
            lower[i] = lo;
            diag[i] = d;
            upper[i] = up;
            if let Some((hval, lap)) = values.as_mut() {
                hval[i] =
                    ham.value(&at, pm.max(ps)) + ham.value(&at, pp.min(ps)) - ham.value(&at, ps);
                lap[i] = k * (2.0 * u[i] - u[l] - u[r]);
            }
        }
    }
}

/// Newton statistics of one or more HJB sweeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewtonStats {
    /// Newton iterations summed over all time steps (and Picard iterations).
    pub iterations: usize,
    /// Largest number of Newton iterations in one time step.
    pub max_per_step: usize,
    /// Time steps whose Newton iteration hit the limit before the tolerance.
    pub unconverged_steps: usize,
}

impl NewtonStats {
    pub(crate) fn add(&mut self, other: NewtonStats) {
        self.iterations += other.iterations;
        self.max_per_step = self.max_per_step.max(other.max_per_step);
        self.unconverged_steps += other.unconverged_steps;
    }
}

/// Preallocated buffers for the sweeps (sized once per solver).
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    pub lower: Vec<f64>,
    pub diag: Vec<f64>,
    pub upper: Vec<f64>,
    pub lower_t: Vec<f64>,
    pub diag_t: Vec<f64>,
    pub upper_t: Vec<f64>,
    pub hval: Vec<f64>,
    pub lap: Vec<f64>,
    pub f: Vec<f64>,
    pub rhs: Vec<f64>,
    pub scratch: Scratch,
}

impl Workspace {
    pub(crate) fn new(nx: usize) -> Self {
        let z = vec![0.0; nx];
        Self {
            lower: z.clone(),
            diag: z.clone(),
            upper: z.clone(),
            lower_t: z.clone(),
            diag_t: z.clone(),
            upper_t: z.clone(),
            hval: z.clone(),
            lap: z.clone(),
            f: z.clone(),
            rhs: z,
            scratch: Scratch::new(nx),
        }
    }
}

/// Inputs of a backward sweep.
pub(crate) struct Sweep<'a> {
    pub stencil: &'a Stencil,
    pub problem: &'a crate::Problem,
    pub theta: &'a [f64],
    pub newton_tol: f64,
    pub newton_max: usize,
}

impl Sweep<'_> {
    /// Solves the HJB equation backward for the density `m` (all levels) into `u`.
    ///
    /// Newton at level `n` starts from `u^{n+1}`, or, when `warm`, from the value `u` already
    /// holds at level `n` (the previous Picard iterate, usually much closer). Newton on this
    /// monotone, convex system converges from either start.
    pub(crate) fn hjb(
        &self,
        m: &[f64],
        u: &mut [f64],
        ws: &mut Workspace,
        warm: bool,
    ) -> NewtonStats {
        let s = self.stencil;
        let nx = s.nx;
        let nt = self.theta.len() - 1;
        let grid = self.problem.grid();
        let ham = self.problem.hamiltonian();
        let mut stats = NewtonStats::default();
        let level = |n: usize| crate::model::Level {
            x: &s.xs,
            dx: s.dx,
            t: grid.t(n),
            theta: self.theta[n],
        };
        self.problem
            .terminal()
            .eval(&level(nt), &m[nt * nx..], &mut u[nt * nx..]);
        let inv_dt = 1.0 / s.dt;
        for n in (0..nt).rev() {
            let (head, tail) = u.split_at_mut((n + 1) * nx);
            let next = &tail[..nx];
            let cur = &mut head[n * nx..];
            let m_next = &m[(n + 1) * nx..(n + 2) * nx];
            let lev = level(n);
            self.problem.coupling().eval(&lev, m_next, &mut ws.f);
            if !warm {
                cur.copy_from_slice(next);
            }
            let mut converged = false;
            let mut iters = 0;
            while iters < self.newton_max {
                s.linearise(
                    ham,
                    cur,
                    m_next,
                    lev.t,
                    lev.theta,
                    &mut ws.lower,
                    &mut ws.diag,
                    &mut ws.upper,
                    Some((&mut ws.hval, &mut ws.lap)),
                );
                let mut res_max = 0.0_f64;
                let mut u_max = 0.0_f64;
                for i in 0..nx {
                    let r = (cur[i] - next[i]) * inv_dt + ws.lap[i] + ws.hval[i] - ws.f[i];
                    ws.rhs[i] = r;
                    res_max = res_max.max(r.abs());
                    u_max = u_max.max(cur[i].abs());
                    ws.diag[i] += inv_dt;
                }
                if !(res_max.is_finite()) {
                    break;
                }
                if res_max * s.dt <= self.newton_tol * (1.0 + u_max) {
                    converged = true;
                    break;
                }
                iters += 1;
                if s.periodic {
                    tridiagonal::solve_cyclic(
                        &ws.lower,
                        &ws.diag,
                        &ws.upper,
                        &mut ws.rhs,
                        &mut ws.scratch,
                    );
                } else {
                    tridiagonal::solve(
                        &ws.lower,
                        &ws.diag,
                        &ws.upper,
                        &mut ws.rhs,
                        &mut ws.scratch,
                    );
                }
                for (c, d) in cur.iter_mut().zip(&ws.rhs) {
                    *c -= d;
                }
            }
            stats.iterations += iters;
            stats.max_per_step = stats.max_per_step.max(iters);
            if !converged {
                stats.unconverged_steps += 1;
            }
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;
    use crate::{Grid, Point};

    /// `H = (p - b)^2 / 2 + x p`: convex, minimiser `b - x` that varies with `x`.
    #[derive(Debug)]
    struct Tilted {
        b: f64,
    }

    impl Hamiltonian for Tilted {
        fn value(&self, at: &Point, p: f64) -> f64 {
            0.5 * (p - self.b).powi(2) + at.x * p
        }
        fn dp(&self, at: &Point, p: f64) -> f64 {
            p - self.b + at.x
        }
        fn argmin(&self, at: &Point) -> f64 {
            self.b - at.x
        }
    }

    /// The tridiagonal `L(u)` that Newton uses (and whose transpose is the Fokker-Planck
    /// operator) is the derivative of `u -> -nu Delta u + H^(D-u, D+u)`, checked against
    /// central finite differences away from the kinks of the upwind split.
    #[test]
    fn linearised_operator_is_the_jacobian_of_the_discrete_hamiltonian() {
        for boundary in [Boundary::Reflecting, Boundary::Periodic] {
            let nx = 9;
            let grid = Grid::new(-1.0, 1.0, nx, 4, 1.0, boundary).unwrap();
            let s = Stencil::new(&grid, 0.3);
            let ham = Tilted { b: 0.4 };
            let mut rng = par_core::seed::task_rng(5, boundary as usize);
            let u: Vec<f64> = (0..nx).map(|_| rng.random_range(-1.0..1.0)).collect();
            let m = vec![1.0; nx];
            let (mut lo, mut di, mut up) = (vec![0.0; nx], vec![0.0; nx], vec![0.0; nx]);
            let (mut h, mut lap) = (vec![0.0; nx], vec![0.0; nx]);
            s.linearise(
                &ham,
                &u,
                &m,
                0.0,
                0.0,
                &mut lo,
                &mut di,
                &mut up,
                Some((&mut h, &mut lap)),
            );
            let residual = |v: &[f64]| -> Vec<f64> {
                let (mut a, mut b, mut c) = (vec![0.0; nx], vec![0.0; nx], vec![0.0; nx]);
                let (mut h, mut lap) = (vec![0.0; nx], vec![0.0; nx]);
                s.linearise(
                    &ham,
                    v,
                    &m,
                    0.0,
                    0.0,
                    &mut a,
                    &mut b,
                    &mut c,
                    Some((&mut h, &mut lap)),
                );
                h.iter().zip(&lap).map(|(h, l)| h + l).collect()
            };
            let eps = 1e-7;
            let mut checked = 0;
            for j in 0..nx {
                let mut plus = u.clone();
                let mut minus = u.clone();
                plus[j] += eps;
                minus[j] -= eps;
                let (rp, rm) = (residual(&plus), residual(&minus));
                for i in 0..nx {
                    // Skip rows whose one-sided slopes sit near the minimiser (a kink).
                    let (l, r) = s.neighbours(i);
                    let ps = ham.argmin(&Point {
                        x: s.xs[i],
                        t: 0.0,
                        m: 1.0,
                        theta: 0.0,
                    });
                    let pm = (u[i] - u[l]) / s.dx;
                    let pp = (u[r] - u[i]) / s.dx;
                    if (pm - ps).abs() < 1e-4 || (pp - ps).abs() < 1e-4 {
                        continue;
                    }
                    let fd = (rp[i] - rm[i]) / (2.0 * eps);
                    let entry = if j == i {
                        di[i]
                    } else if j == l && l != i {
                        lo[i]
                    } else if j == r && r != i {
                        up[i]
                    } else {
                        0.0
                    };
                    assert!(
                        (fd - entry).abs() < 1e-5 * (1.0 + entry.abs()),
                        "{boundary:?} ({i},{j})"
                    );
                    checked += 1;
                }
            }
            assert!(checked > nx * nx / 2);
            for i in 0..nx {
                assert!(
                    (lo[i] + di[i] + up[i]).abs() < 1e-9,
                    "row {i} does not sum to zero"
                );
            }
        }
    }
}
