//! Statuses are not results: a sweep's records keep how their run ended and the settings that
//! produced it, and a resume runs a point again exactly when the new settings could change its
//! outcome (the table in the `mfg::sweep` docs). Also: sizes and limits that used to panic are
//! typed errors.

use mfg::sweep::{
    Axis, Outcome, RerunReason, SweepConfig, SweepJob, SweepParam, SweepRecord, SweepSummary,
};
use mfg::*;
use par_core::{ExecConfig, Executor, Mode, Progress};

fn exec() -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(Mode::Threads { workers: 2 })
    })
    .unwrap()
}

fn sweep(run_timeout_s: Option<f64>) -> SweepConfig {
    SweepConfig {
        base: MfgConfig {
            nx: 21,
            nt: 10,
            ..MfgConfig::default()
        },
        axes: vec![Axis {
            param: SweepParam::Sigma,
            values: vec![0.3, 0.5, 0.8],
        }],
        run_timeout_s,
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mfg-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("results.jsonl")
}

#[test]
fn timed_out_points_run_again_only_under_a_larger_time_limit() {
    let file = scratch("timeout");
    let tiny = sweep(Some(1e-9));
    let first = SweepJob::run_with(&tiny, &exec(), Some(&file)).unwrap();
    let s = first.summary();
    assert_eq!((s.points, s.timed_out, s.converged), (3, 3, 0), "{s}");
    assert_eq!(s.to_string(), "3 points: 0 converged, 3 timed out");
    assert!(
        first
            .records
            .iter()
            .all(|r| r.outcome() == Outcome::TimedOut)
    );
    // The record keeps the limit it ran under.
    assert!(
        first
            .records
            .iter()
            .all(|r| r.config.solver.max_seconds == Some(1e-9))
    );
    // Timed-out values are not results: the arrays are NaN there.
    assert!(first.output_array(|o| o.mean_t).iter().all(|v| v.is_nan()));

    // The same limit, or a smaller one, cannot change the outcome: nothing runs.
    for limit in [1e-9, 1e-10] {
        let again = SweepJob::run_with(&sweep(Some(limit)), &exec(), Some(&file)).unwrap();
        assert_eq!((again.resumed, again.computed), (3, 0), "limit {limit}");
        assert!(again.rerun.is_empty());
        assert_eq!(again.summary().converged, 0);
    }

    // A larger limit (or none) runs every timed-out point again, saying why.
    let longer = SweepJob::run_with(&sweep(Some(60.0)), &exec(), Some(&file)).unwrap();
    assert_eq!((longer.resumed, longer.computed), (0, 3));
    for (i, (index, why)) in longer.rerun.iter().enumerate() {
        assert_eq!(*index, i);
        assert_eq!(
            *why,
            RerunReason::LongerTimeLimit {
                was: Some(1e-9),
                now: Some(60.0)
            }
        );
        assert!(
            why.to_string()
                .contains("timed out under a limit of 1e-9 s"),
            "{why}"
        );
    }
    assert_eq!(longer.summary().converged, 3);
    assert!(
        longer
            .output_array(|o| o.mean_t)
            .iter()
            .all(|v| v.is_finite())
    );

    // Converged points are final: a smaller limit later keeps them.
    let kept = SweepJob::run_with(&sweep(Some(1e-9)), &exec(), Some(&file)).unwrap();
    assert_eq!((kept.resumed, kept.computed), (3, 0));
    assert_eq!(kept.summary().converged, 3);
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

#[test]
fn points_at_the_iteration_limit_run_again_when_the_limit_grows() {
    let file = scratch("iterations");
    let mut cfg = sweep(None);
    cfg.base.solver.max_iterations = 1;
    let first = SweepJob::run_with(&cfg, &exec(), Some(&file)).unwrap();
    assert_eq!(first.summary().max_iterations, 3);
    let same = SweepJob::run_with(&cfg, &exec(), Some(&file)).unwrap();
    assert_eq!(same.computed, 0);
    // A time limit does not help a point that ran out of iterations.
    let timed = SweepJob::run_with(
        &SweepConfig {
            run_timeout_s: Some(100.0),
            ..cfg.clone()
        },
        &exec(),
        Some(&file),
    )
    .unwrap();
    assert_eq!(timed.computed, 0);
    cfg.base.solver.max_iterations = 200;
    let more = SweepJob::run_with(&cfg, &exec(), Some(&file)).unwrap();
    assert_eq!(more.computed, 3);
    assert_eq!(
        more.rerun[0].1,
        RerunReason::MoreIterations { was: 1, now: 200 }
    );
    assert_eq!(more.summary().converged, 3);
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

#[test]
fn records_of_another_game_are_not_taken_for_this_one() {
    let file = scratch("other");
    let cfg = sweep(None);
    SweepJob::run_with(&cfg, &exec(), Some(&file)).unwrap();
    // Same axes, another base game (a finer grid): every point runs again.
    let mut finer = cfg.clone();
    finer.base.nx = 31;
    let r = SweepJob::run_with(&finer, &exec(), Some(&file)).unwrap();
    assert_eq!(r.computed, 3);
    assert!(
        r.rerun
            .iter()
            .all(|(_, why)| *why == RerunReason::OtherSettings)
    );
    assert!(r.records.iter().all(|rec| rec.config.nx == 31));
    // Other axis values at the same index: another sweep too.
    let mut shifted = finer.clone();
    shifted.axes[0].values = vec![0.4, 0.5, 0.8];
    let r = SweepJob::run_with(&shifted, &exec(), Some(&file)).unwrap();
    assert_eq!((r.computed, r.resumed), (1, 2));
    assert_eq!(r.rerun, [(0, RerunReason::OtherSettings)]);
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

#[test]
fn lines_in_an_older_format_are_skipped_and_their_points_run() {
    let file = scratch("old");
    let old = r#"{"index":0,"params":[["sigma",0.3]],"status":"converged","seconds":0.1,"output":{"iterations":5,"mean_t":0.5,"variance_t":0.2,"u0_at_mean":0.0,"mass_drift":0.0,"min_density":0.0},"error":null}"#;
    std::fs::write(&file, format!("{old}\n")).unwrap();
    let r = SweepJob::run_with(&sweep(None), &exec(), Some(&file)).unwrap();
    assert_eq!((r.skipped_lines, r.computed), (1, 3));
    assert!(r.records[0].output.as_ref().unwrap().mean_t != 0.5);
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

#[test]
fn a_record_judges_every_outcome_by_the_table() {
    let cfg = sweep(Some(5.0)).config_of(0).unwrap();
    let mut rec = SweepJob::run_with(&sweep(Some(5.0)), &exec(), None)
        .unwrap()
        .records
        .remove(0);
    assert_eq!(rec.outcome(), Outcome::Converged);
    assert_eq!(rec.rerun_reason(&cfg), None);
    rec.status = Some(Status::NonFinite);
    let mut unlimited = cfg.clone();
    unlimited.solver.max_seconds = None;
    unlimited.solver.max_iterations = 10_000;
    assert_eq!(rec.rerun_reason(&unlimited), None, "non-finite is final");
    rec.status = Some(Status::TimedOut);
    assert_eq!(rec.rerun_reason(&cfg), None, "same limit");
    assert_eq!(
        rec.rerun_reason(&unlimited),
        Some(RerunReason::LongerTimeLimit {
            was: Some(5.0),
            now: None
        })
    );
    let failed = SweepRecord::failed(0, rec.params.clone(), cfg.clone(), "crashed".into());
    assert_eq!(failed.outcome(), Outcome::Failed);
    assert!(!failed.is_usable());
    assert_eq!(failed.rerun_reason(&cfg), Some(RerunReason::Failed));
    let mut other = cfg.clone();
    other.solver.tol_abs = 1e-6;
    assert_eq!(
        failed.rerun_reason(&other),
        Some(RerunReason::OtherSettings)
    );
    let s = SweepSummary::of(&[rec, failed]);
    assert_eq!((s.timed_out, s.failed, s.unusable()), (1, 1, 2));
    assert_eq!(
        s.to_string(),
        "2 points: 0 converged, 1 timed out, 1 failed"
    );
}

#[test]
fn bad_shapes_and_limits_are_typed_errors() {
    let field_of = |r: Result<(), MfgError>| match r {
        Err(MfgError::InvalidField { field, reason }) => format!("{field}: {reason}"),
        other => panic!("{other:?}"),
    };
    let mut empty = sweep(None);
    empty.axes[0].values.clear();
    assert!(field_of(empty.validate()).starts_with("axes[0].values: is empty"));
    let mut huge = sweep(None);
    huge.axes = (0..70)
        .map(|_| Axis {
            param: SweepParam::Sigma,
            values: vec![0.3, 0.5],
        })
        .collect();
    assert!(field_of(huge.validate()).contains("more than the 1000000"));
    for t in [f64::NAN, -1.0, 0.0, f64::INFINITY] {
        let e = field_of(sweep(Some(t)).validate());
        assert!(e.starts_with("run_timeout_s"), "{t}: {e}");
    }
    let mut nx = sweep(None);
    nx.axes[0] = Axis {
        param: SweepParam::Nx,
        values: vec![21.0, 1e30],
    };
    assert!(field_of(nx.validate()).contains("whole number from 0 to 2^53"));
    nx.axes[0].values = vec![21.0, 2.5];
    let e = field_of(nx.validate());
    assert!(e.contains("at point 1: nx = 2.5"), "{e}");
    assert!(nx.point_config(7).is_err());
}

#[test]
fn absurd_sizes_and_limits_do_not_panic() {
    let cfg = MfgConfig {
        nx: usize::MAX / 2,
        nt: usize::MAX / 2,
        ..MfgConfig::default()
    };
    assert_eq!(cfg.solve_bytes(), u128::MAX);
    match cfg.build() {
        Err(MfgError::InvalidField { field, reason }) => {
            assert_eq!(field, "nx");
            assert!(reason.contains("64-bit address space"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // A time limit beyond what `Duration` holds used to panic when the solver checked it.
    let far = MfgConfig {
        nx: 21,
        nt: 10,
        solver: SolverConfig {
            max_seconds: Some(1e300),
            ..SolverConfig::default()
        },
        ..MfgConfig::default()
    };
    assert!(far.solver().unwrap().solve(None).unwrap().converged());
}

#[test]
fn a_file_that_is_not_a_results_file_is_refused_and_left_alone() {
    let file = scratch("foreign");
    for text in ["this is not JSON\n", "{\"samples\": 3}\n", "\u{9f}\u{0}"] {
        std::fs::write(&file, text).unwrap();
        match SweepJob::run_with(&sweep(None), &exec(), Some(&file)) {
            Err(MfgError::Parse {
                line: 1, reason, ..
            }) => {
                assert!(reason.contains("not a sweep results file"), "{reason}")
            }
            other => panic!("{text:?}: {other:?}"),
        }
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            text,
            "left as it was"
        );
    }
    // A first record torn by a killed run is a results file.
    std::fs::write(&file, "{\"ind").unwrap();
    let r = SweepJob::run_with(&sweep(None), &exec(), Some(&file)).unwrap();
    assert_eq!((r.skipped_lines, r.computed), (1, 3));
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}
