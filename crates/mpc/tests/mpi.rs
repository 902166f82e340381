//! mpc's segment evaluation on `Mode::Mpi`, run by every rank under `mpirun` (a `harness =
//! false` program: MPI is initialised once per process). `cargo xtask test` runs it with 1, 2
//! and 4 ranks:
//!
//! ```text
//! cargo test -p mpc --features mpi --test mpi --no-run
//! mpirun --allow-run-as-root --oversubscribe -np 4 target/debug/deps/mpi-<hash>
//! ```
//!
//! On every rank, for the dynamic schedule with one thread per rank and the static one with
//! two, on synthetic segments and the fixture model: the PID and MPC costs, and the per-step
//! traces, bit-identical to `Sequential`'s; with a journal, exactly one record per segment in
//! it (rank 0 alone writes it); and an evaluation resumed from a journal cut short with a torn
//! last line (as a killed job leaves it) reads back the records there, runs the other
//! segments, and returns the uninterrupted result on every rank. Each check prints one `ok`
//! line on rank 0; any failure exits non-zero, which fails the `mpirun` job.

mod common;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mpc::Segment;
use mpc::cem::MpcConfig;
use mpc::eval::{ControllerSpec, EvalConfig, Evaluation, evaluate, evaluate_resumable};
use par_core::{Executor, Mode};

type Check = Result<(), String>;

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Check {
    if cond { Ok(()) } else { Err(what()) }
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

fn config(controller: ControllerSpec, mode: Mode, trace: bool) -> EvalConfig {
    let mut config = common::eval_config(controller, mode);
    config.exec.seed = 3;
    config.sim.record_trace = trace;
    config
}

fn segments(n: u64) -> Vec<Segment> {
    (0..n).map(common::synthetic).collect()
}

/// Everything an evaluation computes, as text with every float's bits (wall times aside).
fn fingerprint(e: &Evaluation) -> String {
    let mut out = String::new();
    for s in &e.segments {
        let c = s.costs;
        out += &format!(
            "{} {} {:x} {:x} {:x}",
            s.index,
            s.file,
            c.lataccel_cost.to_bits(),
            c.jerk_cost.to_bits(),
            c.total_cost.to_bits()
        );
        for row in s.trace.iter().flatten() {
            out += &format!(
                " {}:{:x}:{:x}:{:?}",
                row.step,
                row.current_lataccel.to_bits(),
                row.action.to_bits(),
                row.pred_lataccel.map(f64::to_bits)
            );
        }
        out.push('\n');
    }
    let m = e.mean;
    out + &format!(
        "mean {:x} {:x} {:x}",
        m.lataccel_cost.to_bits(),
        m.jerk_cost.to_bits(),
        m.total_cost.to_bits()
    )
}

/// What `value` computes on rank 0, on every rank (the sequential references are computed
/// once, not once per rank on a machine the ranks share).
fn on_root<T>(mode: Mode, value: impl FnOnce() -> Result<T, String>) -> Result<T, String>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync,
{
    let exec = Executor::new(par_core::ExecConfig::with_mode(mode)).map_err(|e| e.to_string())?;
    par_core::mpi::share_from_root(&exec, value).map_err(|e| e.to_string())?
}

/// The fingerprint of a sequential evaluation, computed on rank 0.
fn sequential(
    mode: Mode,
    segs: &[Segment],
    controller: ControllerSpec,
    trace: bool,
) -> Result<String, String> {
    on_root(mode, || {
        evaluate(segs, &config(controller, Mode::Sequential, trace))
            .map(|e| fingerprint(&e))
            .map_err(|e| e.to_string())
    })
}

fn identical_to_sequential(mode: Mode) -> Check {
    for (name, controller, n, trace) in [
        ("pid", ControllerSpec::Pid, 6, true),
        ("mpc", small_mpc(), 3, false),
    ] {
        let segs = segments(n);
        let seq = sequential(mode, &segs, controller.clone(), trace)?;
        let mpi = evaluate(&segs, &config(controller, mode, trace)).map_err(|e| e.to_string())?;
        ensure(seq == fingerprint(&mpi), || {
            format!("{mode}: {name} costs or traces differ from sequential")
        })?;
        let report = mpi
            .report
            .mpi
            .as_ref()
            .ok_or("no MPI section in the report")?;
        ensure(report.ranks == par_core::mpi::size(), || {
            format!("{mode}: the report says {} ranks", report.ranks)
        })?;
    }
    Ok(())
}

/// A folder every rank agrees on (rank 0 names it).
fn shared_scratch(mode: Mode, name: &str) -> Result<PathBuf, String> {
    on_root(mode, || {
        let d = std::env::temp_dir().join(format!("mpc-mpi-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
        Ok(d.display().to_string())
    })
    .map(PathBuf::from)
}

/// The journal's lines, read on rank 0.
fn journal_lines(mode: Mode, path: &Path) -> Result<Vec<String>, String> {
    on_root(mode, || {
        std::fs::read_to_string(path)
            .map(|t| t.lines().map(str::to_owned).collect::<Vec<_>>())
            .map_err(|e| e.to_string())
    })
}

fn cleanup(dir: &Path) {
    if par_core::mpi::is_root() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn journal_has_one_record_per_segment(mode: Mode) -> Check {
    let segs = segments(8);
    let seq = sequential(mode, &segs, ControllerSpec::Pid, false)?;
    let dir = shared_scratch(mode, "once")?;
    let journal = dir.join("eval.json.jsonl");
    let mpi = evaluate_resumable(&segs, &config(ControllerSpec::Pid, mode, false), &journal)
        .map_err(|e| e.to_string())?;
    ensure(seq == fingerprint(&mpi), || {
        format!("{mode}: the costs differ from sequential")
    })?;
    let lines = journal_lines(mode, &journal)?;
    let mut indices: Vec<u64> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["result"]["index"].as_u64())
                .ok_or_else(|| format!("{mode}: an unreadable journal line: {l}"))
        })
        .collect::<Result<_, _>>()?;
    indices.sort_unstable();
    ensure(indices == (0..8).collect::<Vec<u64>>(), || {
        format!("{mode}: the journal holds the segments {indices:?}")
    })?;
    cleanup(&dir);
    Ok(())
}

fn a_cut_short_journal_resumes_on_every_rank(mode: Mode) -> Check {
    let segs = segments(8);
    let cfg = config(small_mpc(), mode, true);
    let dir = shared_scratch(mode, "resume")?;
    let journal = dir.join("eval.json.jsonl");
    // What a killed job leaves: three whole records, then the start of a fourth (cut from the
    // journal of a sequential run of the same settings, whose result is the reference).
    let seq = on_root(mode, || {
        let full = dir.join("full.json.jsonl");
        let e = evaluate_resumable(&segs, &config(small_mpc(), Mode::Sequential, true), &full)
            .map_err(|e| e.to_string())?;
        let text = std::fs::read_to_string(&full).map_err(|e| e.to_string())?;
        let lines: Vec<&str> = text.lines().collect();
        let mut cut = lines[..3].join("\n");
        cut.push('\n');
        cut += &lines[3][..lines[3].len() / 2];
        std::fs::write(&journal, cut).map_err(|e| e.to_string())?;
        Ok(fingerprint(&e))
    })?;
    let resumed = evaluate_resumable(&segs, &cfg, &journal).map_err(|e| e.to_string())?;
    ensure(seq == fingerprint(&resumed), || {
        format!("{mode}: the resumed evaluation differs from sequential")
    })?;
    ensure(resumed.resumed == 3, || {
        format!("{mode}: {} segments read back, 3 expected", resumed.resumed)
    })?;
    let lines = journal_lines(mode, &journal)?;
    // Three kept, one torn, five new.
    ensure(lines.len() == 9, || {
        format!(
            "{mode}: the journal has {} lines after the resume",
            lines.len()
        )
    })?;
    let again = evaluate_resumable(&segs, &cfg, &journal).map_err(|e| e.to_string())?;
    ensure(seq == fingerprint(&again) && again.resumed == 8, || {
        format!("{mode}: a finished evaluation ran segments again")
    })?;
    cleanup(&dir);
    Ok(())
}

type CheckFn = fn(Mode) -> Check;

fn main() -> ExitCode {
    common::load_model(&mpc::fixture::fixture_model_path());
    let mut tally = par_core::mpi::CheckTally::new();
    for mode in par_core::mpi::check_modes() {
        let checks: [(&str, CheckFn); 3] = [
            ("identical_to_sequential", identical_to_sequential),
            (
                "journal_has_one_record_per_segment",
                journal_has_one_record_per_segment,
            ),
            (
                "a_cut_short_journal_resumes_on_every_rank",
                a_cut_short_journal_resumes_on_every_rank,
            ),
        ];
        for (name, check) in checks {
            tally.record(name, mode, check(mode));
        }
    }
    tally.finish()
}
