//! The scheme against the closed forms of `mfg::closed_form`.
//!
//! Domains: the LQ games run on `[-2, 2]` with `m0 = N(0.3 or 0, 0.4^2)`, so the initial density
//! is at least 4.25 standard deviations from the walls and its variance only shrinks towards
//! `sigma^2 / (2 eta) < 0.13`: the reflecting boundary never meets mass. The value function does
//! see the wall (its exact slope there is not zero), so `u` is compared on the interior
//! `|x - mean| <= 1` (half the domain), which the optimal, inward-pointing drift keeps clear of the
//! wall's influence. The closed forms use the moments of the *discretised* `m0` as initial data.
//! Mass drift is checked against 1e-12 in every test.

use mfg::closed_form::{LqGame, log_congestion_variance};
use mfg::*;

const L: f64 = 2.0;

struct Errors {
    u: f64,
    mean: f64,
    var: f64,
}

fn check_health(s: &Solution) {
    assert_eq!(
        s.status,
        Status::Converged,
        "history {:?}",
        s.history.last()
    );
    assert!(s.mass_drift() < 1e-12, "mass drift {:e}", s.mass_drift());
    assert!(
        s.min_density() >= 0.0,
        "negative density {:e}",
        s.min_density()
    );
    assert_eq!(s.newton.unconverged_steps, 0);
}

fn lq_problem(n: usize, ham: impl Hamiltonian + 'static) -> (Problem, LqGame) {
    let g = LqGame {
        eps: 1.0,
        c: 1.0,
        sigma: 0.5,
        horizon: 1.0,
    };
    let grid = Grid::new(-L, L, n, n, g.horizon, Boundary::Reflecting).unwrap();
    let m0 = gaussian_density(&grid, 0.3, 0.4);
    let p = Problem::new(
        grid,
        g.sigma,
        ham,
        QuadraticTarget {
            weight: g.eps,
            target: Target::Mean,
        },
        QuadraticTarget {
            weight: g.c,
            target: Target::Mean,
        },
        m0,
    )
    .unwrap();
    (p, g)
}

/// Mean-target LQ errors; `drift` is a constant extra drift `b` (0 for the plain game) that
/// moves the population mean as `mean0 + b t`.
fn lq_errors(s: &Solution, g: &LqGame, drift: f64) -> Errors {
    let grid = &s.grid;
    let mean0 = s.mean(0);
    let var = g.variance(s.variance(0), grid.levels(), 100);
    let mut e = Errors {
        u: 0.0,
        mean: 0.0,
        var: 0.0,
    };
    for (n, var_n) in var.iter().enumerate() {
        let t = grid.t(n);
        let mu = mean0 + drift * t;
        for (i, u) in s.u_level(n).iter().enumerate() {
            let x = grid.x(i);
            if (x - mu).abs() <= 0.5 * L {
                e.u = e.u.max((u - g.mean_target_value(t, x, mu)).abs());
            }
        }
        e.mean = e.mean.max((s.mean(n) - mu).abs());
        e.var = e.var.max((s.variance(n) - var_n).abs());
    }
    e
}

fn solve(p: Problem, theta: Option<&[f64]>) -> Solution {
    let s = Solver::new(p, SolverConfig::default())
        .unwrap()
        .solve(theta)
        .unwrap();
    check_health(&s);
    s
}

#[test]
fn lq_mean_target_51x51_matches_closed_form() {
    let (p, g) = lq_problem(51, QuadraticHamiltonian { lambda: 1.0 });
    let s = solve(p, None);
    // The default solver accelerates the Picard iteration (Anderson, depth 5): this closed-form
    // check is a check of the accelerated solve.
    assert!(s.anderson.accelerated_steps > 0, "{:?}", s.anderson);
    let e = lq_errors(&s, &g, 0.0);
    assert!(e.u < 5e-2, "u error {}", e.u);
    assert!(e.mean < 3e-2, "mean error {}", e.mean);
    assert!(e.var < 3e-2, "variance error {}", e.var);
}

/// A convex Hamiltonian whose minimiser is not 0: `p^2/2 - b p` gives every agent the extra
/// drift `b`, so the mean moves as `mean0 + b t` and `u = eta/2 (x - mean(t))^2 + nu int eta`.
/// Exercises the general upwind split `H(max(p-, p*)) + H(min(p+, p*)) - H(p*)`.
#[derive(Debug)]
struct Shifted {
    b: f64,
}

impl Hamiltonian for Shifted {
    fn value(&self, _: &Point, p: f64) -> f64 {
        0.5 * p * p - self.b * p
    }
    fn dp(&self, _: &Point, p: f64) -> f64 {
        p - self.b
    }
    fn argmin(&self, _: &Point) -> f64 {
        self.b
    }
}

#[test]
fn general_hamiltonian_with_shifted_minimiser_matches_closed_form() {
    let b = 0.3;
    let (p, g) = lq_problem(51, Shifted { b });
    let s = solve(p, None);
    let e = lq_errors(&s, &g, b);
    assert!(e.u < 5e-2, "u error {}", e.u);
    assert!(e.mean < 3e-2, "mean error {}", e.mean);
    assert!(e.var < 3e-2, "variance error {}", e.var);
}

fn assert_halves(name: &str, errs: &[f64]) {
    for w in errs.windows(2) {
        let ratio = w[0] / w[1];
        assert!(
            (1.6..=2.4).contains(&ratio),
            "{name}: errors {errs:?}, ratio {ratio}"
        );
    }
}

#[test]
fn lq_mean_target_converges_at_first_order() {
    let mut eu = Vec::new();
    let mut ev = Vec::new();
    for n in [50, 100, 200] {
        let (p, g) = lq_problem(n, QuadraticHamiltonian { lambda: 1.0 });
        let e = lq_errors(&solve(p, None), &g, 0.0);
        eu.push(e.u);
        ev.push(e.var);
    }
    assert_halves("u", &eu);
    assert_halves("variance", &ev);
}

fn theta_fn(t: f64) -> f64 {
    0.5 * (std::f64::consts::PI * t).sin() + 0.2
}

fn frozen_errors(n: usize) -> Errors {
    let g = LqGame {
        eps: 1.0,
        c: 1.0,
        sigma: 0.5,
        horizon: 1.0,
    };
    let grid = Grid::new(-L, L, n, n, g.horizon, Boundary::Reflecting).unwrap();
    let path: Vec<f64> = (0..grid.levels()).map(|k| theta_fn(grid.t(k))).collect();
    let m0 = gaussian_density(&grid, 0.0, 0.4);
    let p = Problem::new(
        grid.clone(),
        g.sigma,
        QuadraticHamiltonian { lambda: 1.0 },
        QuadraticTarget {
            weight: g.eps,
            target: Target::Path,
        },
        QuadraticTarget {
            weight: g.c,
            target: Target::Path,
        },
        m0,
    )
    .unwrap();
    let s = solve(p, Some(&path));
    let fp = g.frozen_path(theta_fn, s.mean(0), grid.levels(), 50);
    let var = g.variance(s.variance(0), grid.levels(), 50);
    let mut e = Errors {
        u: 0.0,
        mean: 0.0,
        var: 0.0,
    };
    for (k, var_k) in var.iter().enumerate() {
        for (i, u) in s.u_level(k).iter().enumerate() {
            let x = grid.x(i);
            if (x - s.mean(k)).abs() <= 0.5 * L {
                e.u = e.u.max((u - fp.value(k, x)).abs());
            }
        }
        e.mean = e.mean.max((s.mean(k) - fp.mean[k]).abs());
        e.var = e.var.max((s.variance(k) - var_k).abs());
    }
    e
}

#[test]
fn frozen_path_51x51_matches_closed_form() {
    let e = frozen_errors(51);
    assert!(e.u < 5e-2, "u error {}", e.u);
    assert!(e.mean < 3e-2, "mean error {}", e.mean);
    assert!(e.var < 3e-2, "variance error {}", e.var);
}

#[test]
fn frozen_path_converges_at_first_order() {
    let errs: Vec<Errors> = [50, 100, 200].into_iter().map(frozen_errors).collect();
    assert_halves("u", &errs.iter().map(|e| e.u).collect::<Vec<_>>());
    assert_halves("mean", &errs.iter().map(|e| e.mean).collect::<Vec<_>>());
    assert_halves("variance", &errs.iter().map(|e| e.var).collect::<Vec<_>>());
}

/// Log-congestion on `[-4, 4]` (the stationary density has standard deviation 0.81, so the
/// walls are 4.9 of them away), horizon 16 with no terminal cost: the solution at `T/2` is at
/// the stationary (turnpike) state up to `exp(-8 nu / s)` transients.
fn log_congestion(
    n: usize,
    damping_m: f64,
    max_iterations: usize,
    anderson_depth: usize,
) -> (Solution, f64) {
    let (a, lam, sigma) = (1.0, 0.5, 0.8);
    let grid = Grid::new(-4.0, 4.0, n, n, 16.0, Boundary::Reflecting).unwrap();
    let m0 = gaussian_density(&grid, 0.5, 0.5);
    let p = Problem::new(
        grid,
        sigma,
        QuadraticHamiltonian { lambda: 1.0 },
        LogCongestion { a, strength: lam },
        Zero,
        m0,
    )
    .unwrap();
    let cfg = SolverConfig {
        damping_m,
        max_iterations,
        anderson_depth,
        ..SolverConfig::default()
    };
    let s = Solver::new(p, cfg).unwrap().solve(None).unwrap();
    (s, log_congestion_variance(a, lam, sigma))
}

#[test]
fn stationary_log_congestion_is_the_gaussian_closed_form() {
    let (s, var) = log_congestion(101, 0.5, 500, SolverConfig::default().anderson_depth);
    check_health(&s);
    let mid = s.grid.nt() / 2;
    let rel = (s.variance(mid) - var).abs() / var;
    assert!(rel < 0.04, "variance {} vs {var}", s.variance(mid));
    assert!(s.mean(mid).abs() < 5e-3, "mean {}", s.mean(mid));
    let peak = 1.0 / (2.0 * std::f64::consts::PI * var).sqrt();
    let err = s
        .m_level(mid)
        .iter()
        .enumerate()
        .map(|(i, m)| (m - peak * (-s.grid.x(i).powi(2) / (2.0 * var)).exp()).abs())
        .fold(0.0, f64::max);
    assert!(err < 0.01 * peak, "density error {err}");
}

#[test]
fn undamped_picard_on_strong_congestion_reports_non_convergence_as_a_status() {
    // Plain Picard (no acceleration), undamped: it oscillates (tests/anderson.rs shows the
    // accelerated iteration converging on this game).
    let (s, _) = log_congestion(51, 1.0, 40, 0);
    assert_eq!(s.status, Status::MaxIterations);
    assert_eq!(s.iterations, 40);
    assert!(s.mass_drift() < 1e-12);
    assert!(s.min_density() >= 0.0);
}

#[test]
fn periodic_and_reflecting_agree_when_mass_stays_inside() {
    let mk = |boundary| {
        let grid = Grid::new(-4.0, 4.0, 81, 40, 1.0, boundary).unwrap();
        let m0 = gaussian_density(&grid, 0.2, 0.4);
        let p = Problem::new(
            grid,
            0.5,
            QuadraticHamiltonian { lambda: 1.0 },
            QuadraticTarget {
                weight: 1.0,
                target: Target::Mean,
            },
            QuadraticTarget {
                weight: 1.0,
                target: Target::Mean,
            },
            m0,
        )
        .unwrap();
        solve(p, None)
    };
    let r = mk(Boundary::Reflecting);
    let p = mk(Boundary::Periodic);
    let dm =
        r.m.iter()
            .zip(&p.m)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
    assert!(dm < 1e-6, "densities differ by {dm}");
    // The wrap makes the periodic value function differ near the seam only.
    let n0 = r.u_level(0);
    let p0 = p.u_level(0);
    for i in 30..51 {
        assert!((n0[i] - p0[i]).abs() < 1e-3, "u differs at cell {i}");
    }
}

#[test]
fn periodic_transport_conserves_mass_and_positivity() {
    let grid = Grid::new(0.0, 1.0, 40, 80, 2.0, Boundary::Periodic).unwrap();
    let m0: Vec<f64> = (0..40)
        .map(|i| if (10..14).contains(&i) { 1.0 } else { 0.0 })
        .collect();
    let p = Problem::new(grid, 0.1, Shifted { b: 1.5 }, Zero, Zero, m0).unwrap();
    let s = solve(p, None);
    // Pure transport by b = 1.5 around a unit circle for T = 2: the mean position wraps, the
    // mass stays 1, the density stays non-negative.
    assert!((s.mass(s.grid.nt()) - 1.0).abs() < 1e-12);
}
