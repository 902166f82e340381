//! mfg on `Mode::Mpi`, run by every rank under `mpirun` (a `harness = false` program: MPI is
//! initialised once per process). `cargo xtask test` runs it with 1, 2 and 4 ranks:
//!
//! ```text
//! cargo test -p mfg --features mpi --test mpi --no-run
//! mpirun --allow-run-as-root --oversubscribe -np 4 target/debug/deps/mpi-<hash>
//! ```
//!
//! On every rank, for the dynamic schedule with one thread per rank and the static one with
//! two: the common-noise statistics and every path bit-identical to `Sequential`; a sweep's
//! records identical to `Sequential`'s (wall times aside); with a results file, exactly one
//! record per point in it (rank 0 alone writes it: no rank's record is lost or written twice),
//! each equal to `Sequential`'s; and a sweep resumed from a file cut short with a torn last
//! line (as a killed job leaves it) keeps the records there, runs the other points, and
//! returns the same result on every rank. Each check prints one `ok` line on rank 0; any
//! failure exits non-zero, which fails the `mpirun` job. (A rank killed in the middle of a
//! sweep is `mpi_sweep_kill.rs`.)

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mfg::MfgConfig;
use mfg::closed_form::LqGame;
use mfg::common_noise::{CommonNoiseJob, CommonNoiseResult, NoiseConfig};
use mfg::noise::{NoiseProcess, Sampling};
use mfg::sweep::{Axis, SweepConfig, SweepJob, SweepParam, SweepRecord, SweepResult};
use par_core::journal::Journal;
use par_core::{ExecConfig, Executor, Mode, Progress};

type Check = Result<(), String>;

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Check {
    if cond { Ok(()) } else { Err(what()) }
}

fn exec(mode: Mode) -> Result<Executor, String> {
    Executor::new(ExecConfig {
        seed: 11,
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    })
    .map_err(|e| e.to_string())
}

fn noise_job() -> CommonNoiseJob {
    let lq = LqGame {
        eps: 1.0,
        c: 1.0,
        sigma: 0.5,
        horizon: 1.0,
    };
    CommonNoiseJob::new(
        lq.path_target_config([-2.5, 2.5], 0.3, 0.4, 31, 31),
        NoiseConfig {
            paths: 10,
            seed: 5,
            process: NoiseProcess::OrnsteinUhlenbeck {
                kappa: 1.0,
                mean: 0.0,
                sigma: 0.5,
                x0: 0.4,
            },
            sampling: Sampling::Antithetic,
            level: 0.95,
        },
    )
    .expect("a valid job")
}

/// Everything a common-noise result computes, as bits (wall times and the report aside).
fn noise_bits(r: &CommonNoiseResult) -> Vec<u64> {
    let mut bits = Vec::new();
    let mut push = |it: &mut dyn Iterator<Item = f64>| bits.extend(it.map(f64::to_bits));
    for s in [&r.u, &r.m] {
        for a in [&s.mean, &s.std, &s.std_error, &s.band_lo, &s.band_hi] {
            push(&mut a.iter().copied());
        }
    }
    for a in [&r.moment.mean, &r.moment.std, &r.moment.std_error] {
        push(&mut a.iter().copied());
    }
    let sc = &r.scalar;
    push(&mut [sc.estimate, sc.std_error, sc.ci[0], sc.ci[1]].into_iter());
    push(&mut [sc.variance_reduction, r.max_mass_drift].into_iter());
    for p in &r.paths {
        for a in [&p.theta, &p.mean] {
            push(&mut a.iter().copied());
        }
        for a in [&p.u, &p.m] {
            push(&mut a.iter().copied());
        }
        push(&mut [p.mass_drift, p.iterations as f64].into_iter());
    }
    bits.extend([r.groups as u64, r.converged as u64, r.paths.len() as u64]);
    bits
}

fn common_noise_is_identical_to_sequential(mode: Mode) -> Check {
    let job = noise_job();
    let seq = job
        .run(&exec(Mode::Sequential)?)
        .map_err(|e| e.to_string())?;
    let mpi = job.run(&exec(mode)?).map_err(|e| e.to_string())?;
    ensure(noise_bits(&seq) == noise_bits(&mpi), || {
        format!("{mode}: the statistics differ from sequential")
    })?;
    let report = mpi
        .report
        .mpi
        .as_ref()
        .ok_or("no MPI section in the report")?;
    ensure(report.ranks == par_core::mpi::size(), || {
        format!("{mode}: the report says {} ranks", report.ranks)
    })
}

fn sweep() -> SweepConfig {
    SweepConfig {
        base: MfgConfig {
            nx: 21,
            nt: 16,
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

/// A record without its wall-clock time, as JSON text (every float in shortest round-trip
/// form, so equal text is equal bits).
fn timeless(r: &SweepRecord) -> String {
    serde_json::to_string(&SweepRecord {
        seconds: 0.0,
        ..r.clone()
    })
    .expect("records serialise")
}

fn same_records(a: &SweepResult, b: &SweepResult) -> bool {
    a.records.len() == b.records.len()
        && a.records
            .iter()
            .zip(&b.records)
            .all(|(x, y)| timeless(x) == timeless(y))
}

fn sweep_is_identical_to_sequential(mode: Mode) -> Check {
    let cfg = sweep();
    let seq =
        SweepJob::run_with(&cfg, &exec(Mode::Sequential)?, None).map_err(|e| e.to_string())?;
    let mpi = SweepJob::run_with(&cfg, &exec(mode)?, None).map_err(|e| e.to_string())?;
    ensure(same_records(&seq, &mpi), || {
        format!("{mode}: the records differ from sequential")
    })?;
    ensure(mpi.computed == cfg.len() && mpi.resumed == 0, || {
        format!("{mode}: {} computed, {} resumed", mpi.computed, mpi.resumed)
    })
}

/// A scratch folder every rank agrees on (rank 0 names it).
fn shared_scratch(exec: &Executor, name: &str) -> Result<PathBuf, String> {
    let dir = par_core::mpi::share_from_root(exec, || {
        let d = std::env::temp_dir().join(format!("mfg-mpi-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d.display().to_string()
    })
    .map_err(|e| e.to_string())?;
    Ok(PathBuf::from(dir))
}

/// The records of a results file, read on rank 0 and shared with every rank.
fn file_records(exec: &Executor, path: &Path) -> Result<(Vec<String>, usize), String> {
    let (records, skipped) =
        par_core::mpi::share_from_root(exec, || match Journal::read::<SweepRecord>(path) {
            Ok(read) => (
                Ok(read.records.iter().map(timeless).collect::<Vec<_>>()),
                read.skipped,
            ),
            Err(e) => (Err(e.to_string()), 0),
        })
        .map_err(|e| e.to_string())?;
    Ok((records?, skipped))
}

fn results_file_has_one_record_per_point(mode: Mode) -> Check {
    let cfg = sweep();
    let exec = exec(mode)?;
    let file = shared_scratch(&exec, "once")?.join("sweep.jsonl");
    let seq = SweepJob::run_with(&cfg, &exec_seq()?, None).map_err(|e| e.to_string())?;
    let mpi = SweepJob::run_with(&cfg, &exec, Some(&file)).map_err(|e| e.to_string())?;
    ensure(same_records(&seq, &mpi), || {
        format!("{mode}: the records differ from sequential")
    })?;
    let (mut lines, skipped) = file_records(&exec, &file)?;
    ensure(skipped == 0 && lines.len() == cfg.len(), || {
        format!(
            "{mode}: the results file holds {} records ({skipped} unreadable lines) for {} points",
            lines.len(),
            cfg.len()
        )
    })?;
    lines.sort();
    let mut want: Vec<String> = seq.records.iter().map(timeless).collect();
    want.sort();
    ensure(lines == want, || {
        format!("{mode}: the file's records differ from sequential's")
    })?;
    cleanup(&file);
    Ok(())
}

fn exec_seq() -> Result<Executor, String> {
    exec(Mode::Sequential)
}

fn a_cut_short_file_resumes_on_every_rank(mode: Mode) -> Check {
    let cfg = sweep();
    let exec = exec(mode)?;
    let file = shared_scratch(&exec, "resume")?.join("sweep.jsonl");
    let seq = SweepJob::run_with(&cfg, &exec_seq()?, None).map_err(|e| e.to_string())?;
    // What a killed job leaves: five whole records, then the start of a sixth.
    let kept = 5;
    let written = par_core::mpi::share_from_root(&exec, || {
        let mut text = String::new();
        for r in &seq.records[..kept] {
            text += &serde_json::to_string(r).expect("records serialise");
            text.push('\n');
        }
        let torn = serde_json::to_string(&seq.records[kept]).expect("records serialise");
        text += &torn[..torn.len() / 2];
        std::fs::create_dir_all(file.parent().expect("a folder"))
            .and_then(|()| std::fs::write(&file, text))
            .map_err(|e| e.to_string())
    })
    .map_err(|e| e.to_string())?;
    written?;
    let r = SweepJob::run_with(&cfg, &exec, Some(&file)).map_err(|e| e.to_string())?;
    ensure(same_records(&seq, &r), || {
        format!("{mode}: the resumed records differ from sequential")
    })?;
    ensure(
        r.resumed == kept && r.computed == cfg.len() - kept && r.skipped_lines == 1,
        || {
            format!(
                "{mode}: {} resumed, {} computed, {} skipped lines",
                r.resumed, r.computed, r.skipped_lines
            )
        },
    )?;
    let (lines, skipped) = file_records(&exec, &file)?;
    ensure(skipped == 1 && lines.len() == cfg.len(), || {
        format!(
            "{mode}: after the resume the file holds {} records and {skipped} unreadable lines",
            lines.len()
        )
    })?;
    // Nothing left to run: every rank keeps every record, without a run.
    let again = SweepJob::run_with(&cfg, &exec, Some(&file)).map_err(|e| e.to_string())?;
    ensure(
        same_records(&seq, &again) && again.computed == 0 && again.report.is_none(),
        || {
            format!(
                "{mode}: a finished sweep ran {} points again",
                again.computed
            )
        },
    )?;
    cleanup(&file);
    Ok(())
}

fn cleanup(file: &Path) {
    if par_core::mpi::is_root()
        && let Some(dir) = file.parent()
    {
        let _ = std::fs::remove_dir_all(dir);
    }
}

type CheckFn = fn(Mode) -> Check;

fn main() -> ExitCode {
    let mut tally = par_core::mpi::CheckTally::new();
    for mode in par_core::mpi::check_modes() {
        let checks: [(&str, CheckFn); 4] = [
            (
                "common_noise_is_identical_to_sequential",
                common_noise_is_identical_to_sequential,
            ),
            (
                "sweep_is_identical_to_sequential",
                sweep_is_identical_to_sequential,
            ),
            (
                "results_file_has_one_record_per_point",
                results_file_has_one_record_per_point,
            ),
            (
                "a_cut_short_file_resumes_on_every_rank",
                a_cut_short_file_resumes_on_every_rank,
            ),
        ];
        for (name, check) in checks {
            tally.record(name, mode, check(mode));
        }
    }
    tally.finish()
}
