//! Evaluations that survive interruption: the journal, resume, traces, and worker processes
//! (on the project's own fixtures; always run).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use mpc::cem::MpcConfig;
use mpc::eval::{
    ControllerSpec, EvalConfig, Evaluation, SegmentsJob, TraceRow, evaluate, evaluate_resumable,
    settings_key, trace_csv,
};
use mpc::fixture::fixture_model_path;
use mpc::{MpcError, Segment};
use par_core::process::{Registry, serve_if_worker};
use par_core::{Mode, WorkerCommand};

/// The worker role of this test binary (for `Mode::Processes`).
#[test]
fn worker_entry() {
    serve_if_worker(&Registry::new().with::<SegmentsJob>());
}

fn small_mpc() -> ControllerSpec {
    ControllerSpec::Mpc(MpcConfig {
        horizon: 3,
        samples: 6,
        iterations: 1,
        elites: 2,
        ..MpcConfig::default()
    })
}

fn config(controller: ControllerSpec, mode: Mode) -> EvalConfig {
    let mut config = common::eval_config(controller, mode);
    config.exec.seed = 3;
    config.exec.worker_command = Some(WorkerCommand::libtest("worker_entry").unwrap());
    config
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mpc-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn costs(e: &Evaluation) -> Vec<(usize, String, mpc::Costs)> {
    e.segments
        .iter()
        .map(|s| (s.index, s.file.clone(), s.costs))
        .collect()
}

fn journal_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_resumed_evaluation_equals_an_uninterrupted_one() {
    common::load_model(&fixture_model_path());
    let segments: Vec<Segment> = (0..4).map(common::synthetic).collect();
    let cfg = config(small_mpc(), Mode::Threads { workers: 2 });
    let whole = evaluate(&segments, &cfg).unwrap();
    assert_eq!(whole.resumed, 0);

    let dir = scratch("resume");
    let journal = dir.join("r.json.jsonl");
    let first = evaluate_resumable(&segments, &cfg, &journal).unwrap();
    assert_eq!(costs(&first), costs(&whole));
    assert_eq!(journal_lines(&journal).len(), 4, "one record per segment");

    // A run killed after two segments, the second record torn mid-write.
    let lines = journal_lines(&journal);
    let torn = &lines[1][..lines[1].len() / 2];
    std::fs::write(&journal, format!("{}\n{torn}", lines[0])).unwrap();
    let resumed = evaluate_resumable(&segments, &cfg, &journal).unwrap();
    assert_eq!(resumed.resumed, 1, "only the whole record is reused");
    assert_eq!(costs(&resumed), costs(&whole), "bit-identical costs");
    assert_eq!(resumed.mean, whole.mean);
    assert_eq!(report_tasks(&resumed), 3, "three segments computed again");

    // Everything finished: a rerun computes nothing.
    let again = evaluate_resumable(&segments, &cfg, &journal).unwrap();
    assert_eq!((again.resumed, report_tasks(&again)), (4, 0));
    assert_eq!(costs(&again), costs(&whole));
    assert!(again.segments.iter().all(|s| s.resumed));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn report_tasks(e: &Evaluation) -> usize {
    e.report.tasks
}

#[test]
fn records_of_other_settings_or_segments_are_not_reused() {
    common::load_model(&fixture_model_path());
    let segments: Vec<Segment> = (0..2).map(common::synthetic).collect();
    let dir = scratch("settings");
    let journal = dir.join("j.jsonl");
    let cfg = config(small_mpc(), Mode::Sequential);
    evaluate_resumable(&segments, &cfg, &journal).unwrap();

    // Another seed changes the MPC controller's draws: nothing is reused.
    let mut reseeded = cfg.clone();
    reseeded.exec.seed = 4;
    assert_ne!(
        settings_key(&reseeded).unwrap(),
        settings_key(&cfg).unwrap()
    );
    let e = evaluate_resumable(&segments, &reseeded, &journal).unwrap();
    assert_eq!(e.resumed, 0);
    assert_eq!(
        costs(&e),
        costs(&evaluate(&segments, &reseeded).unwrap()),
        "the other seed's own results"
    );

    // The worker count and mode are not settings: results do not depend on them.
    let mut threads = cfg.clone();
    threads.exec.mode = Mode::Threads { workers: 2 };
    assert_eq!(settings_key(&threads).unwrap(), settings_key(&cfg).unwrap());
    assert_eq!(
        evaluate_resumable(&segments, &threads, &journal)
            .unwrap()
            .resumed,
        2
    );

    // A segment whose values changed under the same name is evaluated again.
    let mut changed = segments.clone();
    changed[1].target_lataccel[250] += 0.5;
    let e = evaluate_resumable(&changed, &cfg, &journal).unwrap();
    assert_eq!(e.resumed, 1);
    assert!(!e.segments[1].resumed);

    // Records asked for with a trace are recomputed when the journal has none.
    let mut traced = cfg.clone();
    traced.sim.record_trace = true;
    assert_eq!(settings_key(&traced).unwrap(), settings_key(&cfg).unwrap());
    let e = evaluate_resumable(&segments, &traced, &journal).unwrap();
    assert_eq!(e.resumed, 0);
    assert!(e.segments.iter().all(|s| s.trace.is_some()));
    assert_eq!(
        evaluate_resumable(&segments, &traced, &journal)
            .unwrap()
            .resumed,
        2
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn traces_hold_every_simulated_step() {
    common::load_model(&fixture_model_path());
    let segments = vec![common::synthetic(5)];
    let mut cfg = config(ControllerSpec::Pid, Mode::Sequential);
    cfg.sim.record_trace = true;
    let e = evaluate(&segments, &cfg).unwrap();
    let trace = e.segments[0].trace.as_ref().unwrap();
    assert_eq!(trace.len(), 600 - 20, "steps 20..600");
    assert_eq!(trace[0].step, 20);
    let controlled: Vec<&TraceRow> = trace.iter().filter(|r| r.step >= 100).collect();
    assert!(
        controlled
            .iter()
            .all(|r| r.pred_lataccel == Some(r.current_lataccel))
    );
    assert!(controlled.iter().all(|r| r.expected_lataccel.is_some()));
    assert_eq!(trace.iter().filter(|r| r.in_cost_window).count(), 400);
    assert_eq!(trace[100].target_lataccel, segments[0].target_lataccel[120]);
    let csv = trace_csv(trace);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 581);
    assert_eq!(lines[0], TraceRow::CSV_HEADER);
    let columns = TraceRow::CSV_HEADER.split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == columns));
    // The costs do not depend on recording the trace.
    cfg.sim.record_trace = false;
    assert_eq!(
        evaluate(&segments, &cfg).unwrap().segments[0].costs,
        e.segments[0].costs
    );
}

#[test]
fn worker_processes_give_the_same_results_and_journal_them() {
    common::load_model(&fixture_model_path());
    let segments: Vec<Segment> = (0..3).map(common::synthetic).collect();
    let seq = evaluate(&segments, &config(small_mpc(), Mode::Sequential)).unwrap();
    let dir = scratch("processes");
    let journal = dir.join("p.jsonl");
    let procs = config(small_mpc(), Mode::Processes { workers: 2 });
    let e = evaluate_resumable(&segments, &procs, &journal).unwrap();
    assert_eq!(costs(&e), costs(&seq));
    assert_eq!(
        journal_lines(&journal).len(),
        3,
        "appended by the worker processes"
    );
    assert_eq!(
        evaluate_resumable(&segments, &procs, &journal)
            .unwrap()
            .resumed,
        3
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn failed_segments_are_named_and_not_journaled() {
    common::load_model(&fixture_model_path());
    let mut segments: Vec<Segment> = (0..3).map(common::synthetic).collect();
    // Speeds beyond float32 make the model's distribution invalid from the first controlled
    // step on.
    segments[1].v_ego.iter_mut().for_each(|v| *v = 1e300);
    let dir = scratch("failed");
    let journal = dir.join("f.jsonl");
    let cfg = config(ControllerSpec::Pid, Mode::Threads { workers: 2 });
    let err = evaluate_resumable(&segments, &cfg, &journal).unwrap_err();
    match &err {
        MpcError::SegmentsFailed {
            failed, failures, ..
        } => {
            assert_eq!(*failed, 1);
            assert_eq!(failures[0].0, "00001.csv");
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(
        err.to_string()
            .contains("1 of 3 segments failed: 00001.csv"),
        "{err}"
    );
    assert_eq!(
        journal_lines(&journal).len(),
        2,
        "the two good segments are kept"
    );
    // Once the segment is fixed, only it runs.
    segments[1] = common::synthetic(1);
    let e = evaluate_resumable(&segments, &cfg, &journal).unwrap();
    assert_eq!((e.resumed, e.report.tasks), (2, 1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unwritable_journal_is_refused_before_any_segment() {
    common::load_model(&fixture_model_path());
    let segments = vec![common::synthetic(0)];
    let err = evaluate_resumable(
        &segments,
        &config(ControllerSpec::Zero, Mode::Sequential),
        Path::new("/proc/no-such-dir/j.jsonl"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("/proc/no-such-dir"), "{err}");
    // A journal that is not JSON lines at all is read as no records, not as an error.
    let dir = scratch("garbage");
    let journal = dir.join("g.jsonl");
    std::fs::File::create(&journal)
        .unwrap()
        .write_all(&[0x9f, 0x00, 0xff, b'\n', b'{', b'\n'])
        .unwrap();
    let e = evaluate_resumable(
        &segments,
        &config(ControllerSpec::Zero, Mode::Sequential),
        &journal,
    )
    .unwrap();
    assert_eq!(e.resumed, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
