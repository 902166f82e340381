//! Anderson acceleration (Walker and Ni 2011) of the Picard iteration: on the crate's coupled
//! games it reaches the fixed point that plain Picard reaches, within the tolerance, in fewer
//! iterations, and it converges where undamped plain Picard does not.
//!
//! "The same fixed point": both solves stop when the scaled L2 change of an iteration is below
//! `tol = 1e-8`. Plain Picard contracts by a factor `rho` per iteration (0.55 on the mean-target
//! game, about 0.9 on log-congestion with damping 0.5), so its last iterate is within about
//! `tol rho / (1 - rho)`, up to 1e-7, of the fixed point; the accelerated one is at least as
//! close. The tests allow `10 tol` in the scaled L2 norm `sqrt(dx dt sum (a - b)^2)` (measured:
//! at most 1e-8 for `u`, 1.5e-9 for `m`).

use mfg::*;

const TOL: f64 = 1e-8;

fn distance(a: &ndarray::Array2<f64>, b: &ndarray::Array2<f64>, grid: &Grid) -> f64 {
    let d2: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    (grid.dx() * grid.dt() * d2).sqrt()
}

fn solve(cfg: &MfgConfig, depth: usize) -> Solution {
    let mut cfg = cfg.clone();
    cfg.solver.anderson_depth = depth;
    cfg.solver().unwrap().solve(None).unwrap()
}

/// Solves with plain Picard and with depth 5; checks both converge to the same fixed point,
/// with healthy densities, and returns the two iteration counts.
fn compare(name: &str, cfg: &MfgConfig) -> (usize, usize) {
    let plain = solve(cfg, 0);
    let fast = solve(cfg, 5);
    for (s, which) in [(&plain, "plain"), (&fast, "anderson")] {
        assert_eq!(s.status, Status::Converged, "{name} {which}");
        assert!(s.mass_drift() < 1e-12, "{name} {which}");
        assert!(s.min_density() >= 0.0, "{name} {which}");
    }
    assert_eq!(plain.anderson.accelerated_steps, 0);
    assert!(fast.anderson.accelerated_steps > 0, "{name}");
    let du = distance(&plain.u, &fast.u, &plain.grid);
    let dm = distance(&plain.m, &fast.m, &plain.grid);
    assert!(
        du < 10.0 * TOL && dm < 10.0 * TOL,
        "{name}: du {du:e}, dm {dm:e}"
    );
    eprintln!(
        "{name}: plain Picard {} iterations, Anderson(5) {} (du {du:.1e}, dm {dm:.1e}, {:?})",
        plain.iterations, fast.iterations, fast.anderson
    );
    (plain.iterations, fast.iterations)
}

#[test]
fn mean_target_game_same_fixed_point_in_fewer_iterations() {
    let (plain, fast) = compare("mean target", &MfgConfig::default());
    assert!(2 * fast <= plain, "{plain} -> {fast}");
}

#[test]
fn mean_target_with_point_terminal_cost_same_fixed_point_in_fewer_iterations() {
    // The running cost pulls to the population mean, the terminal cost to x0 = -1: the mean
    // path moves, and the fixed point is over that path.
    let cfg = MfgConfig {
        terminal: TerminalConfig::QuadraticTarget {
            c: 1.0,
            target: Target::Point { x0: -1.0 },
        },
        ..MfgConfig::default()
    };
    let (plain, fast) = compare("mean target, point terminal", &cfg);
    assert!(fast < plain, "{plain} -> {fast}");
}

fn log_congestion(damping_m: f64) -> MfgConfig {
    MfgConfig {
        domain: [-4.0, 4.0],
        horizon: 16.0,
        sigma: 0.8,
        coupling: CouplingConfig::LogCongestion {
            a: 1.0,
            strength: 0.5,
        },
        terminal: TerminalConfig::None,
        m0: InitialDensity::Gaussian {
            mean: 0.5,
            std: 0.5,
        },
        solver: SolverConfig {
            damping_m,
            max_iterations: 500,
            ..SolverConfig::default()
        },
        ..MfgConfig::default()
    }
}

#[test]
fn log_congestion_same_fixed_point_in_fewer_iterations() {
    let (plain, fast) = compare("log congestion, damping 0.5", &log_congestion(0.5));
    assert!(2 * fast <= plain, "{plain} -> {fast}");
}

#[test]
fn anderson_converges_where_undamped_picard_does_not() {
    let plain = solve(&log_congestion(1.0), 0);
    assert_eq!(plain.status, Status::MaxIterations);
    let fast = solve(&log_congestion(1.0), 5);
    assert_eq!(fast.status, Status::Converged, "{:?}", fast.anderson);
    // It is the fixed point that damped plain Picard finds.
    let reference = solve(&log_congestion(0.5), 0);
    let dm = distance(&reference.m, &fast.m, &fast.grid);
    let du = distance(&reference.u, &fast.u, &fast.grid);
    assert!(du < 10.0 * TOL && dm < 10.0 * TOL, "du {du:e}, dm {dm:e}");
    eprintln!(
        "log congestion, undamped: plain Picard {:?} after {}, Anderson(5) converged in {} ({:?})",
        plain.status, plain.iterations, fast.iterations, fast.anderson
    );
}
