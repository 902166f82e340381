//! A sweep whose job loses a rank resumes from what rank 0 wrote: run by every rank under
//! `mpirun` with `--mca orte_abort_on_non_zero_status 0` (so that the survivors outlive the
//! dead rank; `cargo xtask test` passes it, Slurm's `srun` needs nothing). With one rank there
//! is no one to kill and the program says it skipped.
//!
//! The sweep runs with the static schedule, one thread per rank, so the last rank's points are
//! known: its block of the point indices. A thread of the last rank watches the results file
//! and kills its rank (SIGKILL) as soon as rank 0 has written the records of the first two
//! points it solved, in the middle of its third solve (points take about a tenth of a second;
//! the block has at least six). Every survivor must get `ExecError::RankLost` naming it. Rank 0
//! then checks the results file: at most one record per point, each equal to an uninterrupted
//! sequential run's, the dead rank's two among them; and resumes the sweep from the file
//! (in sequential mode: MPI is unusable after a lost rank) to a result equal to the
//! uninterrupted run's, running only the points without a record. Each survivor prints
//! `sweep-kill ok` and exits 0 (the others once rank 0 is done: Open MPI's launcher ends the
//! job when a rank exits without finalising MPI, which a rank that saw a loss cannot do).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mfg::sweep::{Axis, SweepConfig, SweepJob, SweepParam, SweepRecord};
use mfg::{MfgConfig, MfgError};
use par_core::journal::Journal;
use par_core::{ExecConfig, ExecError, Executor, Mode, MpiSchedule, Progress};

/// 24 points of about a tenth of a second each.
fn sweep() -> SweepConfig {
    SweepConfig {
        base: MfgConfig {
            nx: 81,
            nt: 80,
            domain: [-2.0, 2.0],
            ..MfgConfig::default()
        },
        axes: vec![
            Axis {
                param: SweepParam::Sigma,
                values: vec![0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
            },
            Axis {
                param: SweepParam::CouplingEps,
                values: vec![0.5, 1.0, 2.0],
            },
        ],
        run_timeout_s: None,
    }
}

fn exec(mode: Mode) -> Result<Executor, String> {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    })
    .map_err(|e| e.to_string())
}

fn timeless(r: &SweepRecord) -> String {
    serde_json::to_string(&SweepRecord {
        seconds: 0.0,
        ..r.clone()
    })
    .expect("records serialise")
}

fn main() -> ExitCode {
    match run() {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(line)) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            if !why.is_empty() {
                println!("rank {}: FAILED: {why}", par_core::mpi::rank());
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<Option<String>, String> {
    let mpi = exec(Mode::Mpi {
        threads_per_rank: 1,
        schedule: MpiSchedule::Static,
    })?;
    let (rank, size) = (par_core::mpi::rank(), par_core::mpi::size());
    if size == 1 {
        return Ok(Some("sweep-kill skipped: one rank, no one to kill".into()));
    }
    let cfg = sweep();
    let n = cfg.len();
    let victim = size - 1;
    let first = (size - 1) * n / size;
    let file = PathBuf::from(
        par_core::mpi::share_from_root(&mpi, || {
            let d = std::env::temp_dir().join(format!("mfg-mpi-kill-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            d.join("sweep.jsonl").display().to_string()
        })
        .map_err(|e| e.to_string())?,
    );
    if rank == victim {
        let file = file.clone();
        std::thread::spawn(move || {
            loop {
                let written = Journal::read::<SweepRecord>(&file)
                    .map(|r| {
                        r.records
                            .iter()
                            .filter(|x| x.index < first + 2 && x.index >= first)
                            .count()
                    })
                    .unwrap_or(0);
                if written >= 2 {
                    // SAFETY: dying abruptly is the point of this test.
                    unsafe {
                        libc::raise(libc::SIGKILL);
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
    }
    let started = Instant::now();
    let lost = match SweepJob::run_with(&cfg, &mpi, Some(&file)) {
        Err(MfgError::Exec(ExecError::RankLost { rank: r, .. })) if r == victim => {
            started.elapsed()
        }
        Err(e) => return Err(format!("expected RankLost naming rank {victim}, got: {e}")),
        Ok(r) => {
            return Err(format!(
                "the sweep ended without losing rank {victim} ({} points run): its points were too quick",
                r.computed
            ));
        }
    };
    let done_flag = file.with_extension("rank0-done");
    if rank != 0 {
        println!(
            "sweep-kill ok: rank {rank} learnt of rank {victim}'s loss after {:.1} s",
            lost.as_secs_f64()
        );
        // Open MPI's launcher ends the job when a rank exits without MPI_Finalize (a rank
        // that saw a loss does): stay until rank 0 has checked the file (up to 2 minutes).
        let until = Instant::now() + Duration::from_secs(120);
        while !done_flag.exists() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        return Ok(None);
    }
    // Said before the others may leave (and the launcher end this process).
    let checked = check_on_rank_0(&cfg, &file, first, lost);
    match &checked {
        Ok(line) => println!("{line}"),
        Err(why) => println!("rank 0: FAILED: {why}"),
    }
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let dir = file.parent().expect("a folder");
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&done_flag, b""));
    std::thread::sleep(Duration::from_millis(200));
    let _ = std::fs::remove_dir_all(dir);
    // Said above.
    checked.map(|_| None).map_err(|_| String::new())
}

/// Rank 0, after the loss: the file's records, and the resume from them.
fn check_on_rank_0(
    cfg: &SweepConfig,
    file: &Path,
    first: usize,
    lost: Duration,
) -> Result<String, String> {
    let n = cfg.len();
    let victim = par_core::mpi::size() - 1;
    let seq = exec(Mode::Sequential)?;
    let whole = SweepJob::run_with(cfg, &seq, None).map_err(|e| e.to_string())?;
    let read = Journal::read::<SweepRecord>(file).map_err(|e| e.to_string())?;
    let mut seen = vec![false; n];
    for r in &read.records {
        if std::mem::replace(&mut seen[r.index], true) {
            return Err(format!("point {} has two records in the file", r.index));
        }
        if timeless(r) != timeless(&whole.records[r.index]) {
            return Err(format!(
                "the record of point {} differs from sequential",
                r.index
            ));
        }
    }
    if !(seen[first] && seen[first + 1]) {
        return Err(format!(
            "the dead rank's records of points {first} and {} are not in the file",
            first + 1
        ));
    }
    if read.records.len() == n {
        return Err("every point has a record: the rank died after the sweep".into());
    }
    let resumed = SweepJob::run_with(cfg, &seq, Some(file)).map_err(|e| e.to_string())?;
    if resumed.resumed != read.records.len() || resumed.computed != n - read.records.len() {
        return Err(format!(
            "the resume kept {} and ran {}; the file held {} of {n}",
            resumed.resumed,
            resumed.computed,
            read.records.len()
        ));
    }
    let same = resumed
        .records
        .iter()
        .zip(&whole.records)
        .all(|(a, b)| timeless(a) == timeless(b));
    if !same {
        return Err("the resumed sweep differs from the uninterrupted one".into());
    }
    Ok(format!(
        "sweep-kill ok: rank 0 learnt of rank {victim}'s loss after {:.1} s; the file kept {} of {n} points, the resume ran the other {}",
        lost.as_secs_f64(),
        read.records.len(),
        resumed.computed
    ))
}
