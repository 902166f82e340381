//! Common noise: conditional solves through par-core against the beta-ODE expectation.
//!
//! The game is the frozen-path LQ game (`eps = c = 1`, `sigma = 0.5`, `T = 1`) on `[-2.5, 2.5]`
//! with `m0 = N(0.3, 0.4^2)` and an OU target `theta` (long-run mean 0, start 0.4, rate 1,
//! volatility 0.5). The game is linear in `theta`, so `E[mean(t)]` solves the closed-form ODEs of
//! `mfg::closed_form` with `theta` replaced by `E[theta(t)] = 0.4 e^{-t}`. The density stays
//! more than 3 of its standard deviations away from the walls on all but extreme paths.

use mfg::closed_form::LqGame;
use mfg::common_noise::{CommonNoiseJob, NoiseConfig};
use mfg::noise::{NoiseProcess, Sampling};
use mfg::*;
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Mode, Progress, WorkerCommand};

fn game() -> MfgConfig {
    LQ.path_target_config([-2.5, 2.5], 0.3, 0.4, 51, 51)
}

const LQ: LqGame = LqGame {
    eps: 1.0,
    c: 1.0,
    sigma: 0.5,
    horizon: 1.0,
};

const OU: NoiseProcess = NoiseProcess::OrnsteinUhlenbeck {
    kappa: 1.0,
    mean: 0.0,
    sigma: 0.5,
    x0: 0.4,
};

fn job(paths: usize, sampling: Sampling, seed: u64) -> CommonNoiseJob {
    CommonNoiseJob::new(
        game(),
        NoiseConfig {
            paths,
            seed,
            process: OU,
            sampling,
            level: 0.95,
        },
    )
    .unwrap()
}

fn exec(mode: Mode) -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    })
    .unwrap()
}

fn expected_terminal_mean() -> f64 {
    let g = game();
    let grid = g.grid().unwrap();
    let problem = g.build().unwrap();
    let dx = grid.dx();
    let mean0: f64 = problem
        .m0()
        .iter()
        .enumerate()
        .map(|(i, m)| grid.x(i) * m * dx)
        .sum();
    let lq = LqGame {
        eps: 1.0,
        c: 1.0,
        sigma: g.sigma,
        horizon: g.horizon,
    };
    lq.frozen_path(|t| 0.4 * (-t).exp(), mean0, grid.levels(), 50)
        .mean[grid.nt()]
}

#[test]
fn worker_entry() {
    serve_if_worker(&Registry::new().with::<CommonNoiseJob>());
}

#[test]
fn plain_mc_mean_matches_the_beta_ode_within_three_standard_errors() {
    let r = job(40, Sampling::Plain, 11)
        .run(&exec(Mode::Sequential))
        .unwrap();
    let want = expected_terminal_mean();
    let s = r.scalar;
    eprintln!("plain: {} +- {} want {want}", s.estimate, s.std_error);
    assert_eq!(r.converged, 40);
    assert!(r.max_mass_drift < 1e-12);
    assert!(
        (s.estimate - want).abs() <= 3.0 * s.std_error,
        "{s:?} vs {want}"
    );
    assert!((s.variance_reduction - 1.0).abs() < 1e-12);
    assert!(s.std_error > 0.0);
}

/// The variance-reduced estimators resolve the scheme's own O(dx + dt) bias (a few 1e-3 at
/// 51 x 51), so they are compared with the ODE value within 3 standard errors plus 1.5 times the
/// bias the scheme shows on the deterministic path `E[theta]` (the game is linear in `theta`).
#[test]
fn antithetic_and_qmc_reduce_the_measured_variance() {
    let want = expected_terminal_mean();
    let g = game();
    let grid = g.grid().unwrap();
    let mean_path: Vec<f64> = (0..grid.levels())
        .map(|n| 0.4 * (-grid.t(n)).exp())
        .collect();
    let det = g.solver().unwrap().solve(Some(&mean_path)).unwrap();
    assert!(det.converged());
    let bias = (det.mean(grid.nt()) - want).abs();
    assert!(bias < 1e-2, "scheme bias {bias}");
    for sampling in [Sampling::Antithetic, Sampling::Qmc { replicates: 5 }] {
        let r = job(40, sampling, 5)
            .run(&exec(Mode::Threads { workers: 2 }))
            .unwrap();
        let s = r.scalar;
        eprintln!(
            "{sampling:?}: {} +- {} vrf {} want {want}",
            s.estimate, s.std_error, s.variance_reduction
        );
        assert!(r.max_mass_drift < 1e-12);
        assert!(s.variance_reduction > 2.0, "{sampling:?}: {s:?}");
        let tol = 3.0 * s.std_error + 1.5 * bias;
        assert!(
            (s.estimate - want).abs() <= tol,
            "{sampling:?}: {s:?} vs {want} (bias {bias})"
        );
    }
}

#[test]
fn statistics_are_identical_in_every_mode() {
    let j = job(6, Sampling::Antithetic, 3);
    let seq = j.run(&exec(Mode::Sequential)).unwrap();
    let thr = j.run(&exec(Mode::Threads { workers: 2 })).unwrap();
    let cmd = WorkerCommand::libtest("worker_entry").unwrap();
    let pexec = Executor::new(ExecConfig {
        progress: Progress::Hidden,
        worker_command: Some(cmd),
        ..ExecConfig::with_mode(Mode::Processes { workers: 2 })
    })
    .unwrap();
    let pro = j.run(&pexec).unwrap();
    for other in [&thr, &pro] {
        assert_eq!(seq.m, other.m);
        assert_eq!(seq.u, other.u);
        assert_eq!(seq.scalar, other.scalar);
    }
    assert!(seq.max_mass_drift < 1e-12);
}

/// A handful of paths gives an estimate, but with a warning that gives the interval and its
/// width; enough independent groups give none; fewer than two groups are refused.
#[test]
fn few_independent_groups_come_with_a_warning() {
    let small = job(4, Sampling::Plain, 3)
        .run(&exec(Mode::Sequential))
        .unwrap();
    assert_eq!(small.groups, 4);
    let warnings = small.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let width = small.scalar.ci[1] - small.scalar.ci[0];
    assert!(
        warnings[0].contains("only 4 independent groups")
            && warnings[0].contains(&format!("width {width:.2e}"))
            && warnings[0].contains("at least 20 groups (20 paths)"),
        "{}",
        warnings[0]
    );
    let pairs = job(8, Sampling::Antithetic, 3)
        .run(&exec(Mode::Sequential))
        .unwrap();
    assert!(
        pairs.warnings()[0].contains("(40 paths)"),
        "{:?}",
        pairs.warnings()
    );
    let enough = job(40, Sampling::Antithetic, 3)
        .run(&exec(Mode::Threads { workers: 2 }))
        .unwrap();
    assert_eq!(enough.groups, 20);
    assert!(enough.warnings().is_empty(), "{:?}", enough.warnings());
    for (paths, sampling) in [(1, Sampling::Plain), (2, Sampling::Antithetic)] {
        let err = CommonNoiseJob::new(
            game(),
            NoiseConfig {
                paths,
                seed: 1,
                process: OU,
                sampling,
                level: 0.95,
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("noise.paths"), "{err}");
    }
    // Aggregating too few outcomes for a standard error is an error, not a NaN.
    let one = job(4, Sampling::Antithetic, 3);
    let outcome = one.solve_path(0).unwrap();
    let report = small.report.clone();
    let err = one
        .aggregate(vec![outcome.clone(), outcome], report)
        .unwrap_err();
    assert!(err.to_string().contains("at least 2"), "{err}");
}
