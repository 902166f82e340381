//! Sweeps and Monte Carlo integration: identical results in every mode and worker count, resume
//! without recomputation, a working per-run time limit, and integrals of known functions within
//! three standard errors.

use mfg::monte_carlo::{McConfig, Sampler, integrate, integrate_with_control};
use mfg::sweep::{Axis, SweepConfig, SweepJob, SweepParam, SweepRecord};
use mfg::*;
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Mode, Progress, WorkerCommand};

fn exec(mode: Mode) -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    })
    .unwrap()
}

fn processes() -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        worker_command: Some(WorkerCommand::libtest("worker_entry").unwrap()),
        ..ExecConfig::with_mode(Mode::Processes { workers: 2 })
    })
    .unwrap()
}

#[test]
fn worker_entry() {
    serve_if_worker(&Registry::new().with::<SweepJob>());
}

fn sweep() -> SweepConfig {
    SweepConfig {
        base: MfgConfig {
            nx: 25,
            nt: 20,
            domain: [-2.0, 2.0],
            ..MfgConfig::default()
        },
        axes: vec![
            Axis {
                param: SweepParam::Sigma,
                values: vec![0.3, 0.6],
            },
            Axis {
                param: SweepParam::CouplingEps,
                values: vec![0.5, 1.0, 2.0],
            },
            Axis {
                param: SweepParam::Nx,
                values: vec![21.0, 31.0],
            },
        ],
        run_timeout_s: None,
    }
}

/// Records without their wall-clock times.
fn timeless(records: &[SweepRecord]) -> Vec<SweepRecord> {
    records
        .iter()
        .map(|r| SweepRecord {
            seconds: 0.0,
            ..r.clone()
        })
        .collect()
}

#[test]
fn sweep_results_are_identical_in_every_mode_and_in_grid_order() {
    let cfg = sweep();
    let seq = SweepJob::run_with(&cfg, &exec(Mode::Sequential), None).unwrap();
    assert_eq!(seq.records.len(), 12);
    for (i, r) in seq.records.iter().enumerate() {
        assert_eq!(r.index, i);
        assert_eq!(r.params, cfg.point(i));
        assert_eq!(r.status, Some(Status::Converged));
        assert!(r.output.as_ref().unwrap().mass_drift < 1e-12);
    }
    // Row-major: the last axis (nx) varies fastest.
    assert_eq!(seq.records[1].params[2], (SweepParam::Nx, 31.0));
    assert_eq!(seq.records[2].params[1], (SweepParam::CouplingEps, 1.0));
    for e in [exec(Mode::Threads { workers: 2 }), processes()] {
        let other = SweepJob::run_with(&cfg, &e, None).unwrap();
        assert_eq!(timeless(&seq.records), timeless(&other.records));
    }
}

#[test]
fn an_interrupted_sweep_resumes_without_recomputing_finished_points() {
    let dir = std::env::temp_dir().join(format!("mfg-sweep-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("results.jsonl");
    let _ = std::fs::remove_file(&file);
    let cfg = sweep();
    let full = SweepJob::run_with(&cfg, &exec(Mode::Threads { workers: 2 }), Some(&file)).unwrap();
    assert_eq!((full.resumed, full.computed), (0, 12));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 12);
    // Keep 5 finished lines and a line cut off mid-write, as a killed run would leave.
    let mut kept: String = text.lines().take(5).map(|l| format!("{l}\n")).collect();
    kept.push_str(&text.lines().nth(5).unwrap()[..20]);
    std::fs::write(&file, kept).unwrap();
    let again = SweepJob::run_with(&cfg, &exec(Mode::Sequential), Some(&file)).unwrap();
    assert_eq!((again.resumed, again.computed), (5, 7));
    assert_eq!(again.report.as_ref().unwrap().tasks, 7);
    assert_eq!(timeless(&full.records), timeless(&again.records));
    let done = SweepJob::run_with(&cfg, &exec(Mode::Sequential), Some(&file)).unwrap();
    assert_eq!((done.resumed, done.computed), (12, 0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_per_run_time_limit_stops_runs_with_a_status() {
    let cfg = SweepConfig {
        run_timeout_s: Some(1e-9),
        ..sweep()
    };
    let r = SweepJob::run_with(&cfg, &exec(Mode::Threads { workers: 2 }), None).unwrap();
    assert!(r.records.iter().all(|r| r.status == Some(Status::TimedOut)));
    assert!(
        r.records
            .iter()
            .all(|r| r.output.as_ref().unwrap().iterations == 1)
    );
}

/// In processes mode the executor's time-out kills a worker stuck in one long run; the point is
/// reported as failed (after the retry) and its failure is recorded, the other points are kept,
/// and a resume runs the failed point again.
#[test]
fn a_hung_run_is_killed_in_processes_mode_and_left_for_resume() {
    let dir = std::env::temp_dir().join(format!("mfg-sweep-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("results.jsonl");
    let _ = std::fs::remove_file(&file);
    let cfg = SweepConfig {
        base: MfgConfig {
            nx: 21,
            nt: 20,
            domain: [-2.0, 2.0],
            solver: SolverConfig {
                max_iterations: usize::MAX,
                ..SolverConfig::default()
            },
            ..MfgConfig::default()
        },
        // The last point damps the density so hard (1e-12) that the Picard iteration never
        // meets its tolerance: without the executor's time-out it would run for ever.
        axes: vec![Axis {
            param: SweepParam::DampingM,
            values: vec![1.0, 0.9, 0.8, 1e-12],
        }],
        run_timeout_s: None,
    };
    let exec = Executor::new(ExecConfig {
        progress: Progress::Hidden,
        timeout: Some(std::time::Duration::from_millis(1500)),
        retries: 1,
        worker_command: Some(WorkerCommand::libtest("worker_entry").unwrap()),
        ..ExecConfig::with_mode(Mode::Processes { workers: 2 })
    })
    .unwrap();
    let r = SweepJob::run_with(&cfg, &exec, Some(&file)).unwrap();
    let report = r.report.clone().unwrap();
    assert_eq!(report.failures.len(), 1, "{report}");
    assert_eq!(report.failures[0].index, 3);
    assert!(r.records[3].status.is_none() && r.records[3].error.is_some());
    for i in 0..3 {
        assert!(
            r.records[i].status.is_some(),
            "point {i}: {:?}",
            r.records[i].error
        );
    }
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    assert_eq!(lines, 4, "three results and one failure");
    let resume = mfg::sweep::read_results(&file, &cfg).unwrap();
    assert_eq!(resume.kept.iter().flatten().count(), 3);
    assert_eq!(resume.rerun, [(3, mfg::sweep::RerunReason::Failed)]);
    assert_eq!(r.summary().failed, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_parameter_the_game_lacks_is_a_typed_error() {
    let mut cfg = sweep();
    cfg.base.coupling = CouplingConfig::LogCongestion {
        a: 1.0,
        strength: 0.5,
    };
    match cfg.validate() {
        Err(MfgError::InvalidField { field, .. }) => assert_eq!(field, "coupling.eps"),
        other => panic!("{other:?}"),
    }
}

const E2: f64 = (std::f64::consts::E - 1.0) * (std::f64::consts::E - 1.0);

fn f2(x: &[f64]) -> f64 {
    (x[0] + x[1]).exp()
}

#[test]
fn every_sampler_integrates_a_known_function_within_three_standard_errors() {
    let e = exec(Mode::Threads { workers: 2 });
    let mut se = std::collections::HashMap::new();
    for sampler in [
        Sampler::Uniform,
        Sampler::Stratified,
        Sampler::Sobol,
        Sampler::LatinHypercube,
    ] {
        for antithetic in [false, true] {
            let cfg = McConfig {
                samples: 8192,
                dim: 2,
                sampler,
                antithetic,
                seed: 21,
                ..McConfig::default()
            };
            let r = integrate(f2, &cfg, &e).unwrap();
            assert!(r.std_error > 0.0);
            assert!(
                (r.estimate - E2).abs() <= 3.0 * r.std_error,
                "{sampler:?} {antithetic}: {r:?}"
            );
            assert!(r.ci[0] < r.estimate && r.estimate < r.ci[1]);
            se.insert((sampler, antithetic), r.std_error);
        }
    }
    let plain = se[&(Sampler::Uniform, false)];
    // Each technique really changes the estimator: a smaller error on this smooth, monotone f.
    assert!(se[&(Sampler::Uniform, true)] < plain / 3.0);
    assert!(se[&(Sampler::Stratified, false)] < plain / 3.0);
    assert!(se[&(Sampler::Sobol, false)] < plain / 3.0);
    assert!(se[&(Sampler::LatinHypercube, false)] < plain);
}

#[test]
fn a_control_variate_changes_the_estimator_and_shrinks_the_error() {
    let e = exec(Mode::Sequential);
    let cfg = McConfig {
        samples: 4000,
        dim: 1,
        seed: 5,
        ..McConfig::default()
    };
    let f = |x: &[f64]| x[0].exp();
    let plain = integrate(f, &cfg, &e).unwrap();
    let cv = integrate_with_control(f, |x: &[f64]| 1.0 + x[0], 1.5, &cfg, &e).unwrap();
    let want = std::f64::consts::E - 1.0;
    assert!((cv.estimate - want).abs() <= 3.0 * cv.std_error, "{cv:?}");
    assert!(cv.std_error < plain.std_error / 5.0, "{cv:?} vs {plain:?}");
    assert!(cv.beta > 1.0 && cv.beta < 2.0, "beta {}", cv.beta);
    assert_ne!(cv.estimate, plain.estimate);
}

#[test]
fn the_estimate_is_bit_identical_for_any_worker_count() {
    for sampler in [
        Sampler::Uniform,
        Sampler::Stratified,
        Sampler::Sobol,
        Sampler::LatinHypercube,
    ] {
        let cfg = McConfig {
            samples: 5000,
            dim: 3,
            sampler,
            chunk: 333,
            seed: 8,
            ..McConfig::default()
        };
        let f = |x: &[f64]| x[0] * x[1] + x[2].sin();
        let base = integrate(f, &cfg, &exec(Mode::Sequential)).unwrap();
        for w in [1, 2, 3] {
            let r = integrate(f, &cfg, &exec(Mode::Threads { workers: w })).unwrap();
            assert_eq!(
                r.estimate.to_bits(),
                base.estimate.to_bits(),
                "{sampler:?}, {w} workers"
            );
            assert_eq!(r.std_error.to_bits(), base.std_error.to_bits());
        }
    }
}
