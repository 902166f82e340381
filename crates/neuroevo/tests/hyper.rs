//! The hyperparameter search: trials in worker processes under the thread budget, results
//! appended as they finish, and reruns that resume after a torn last line.

use neuroevo::hyper::{HyperConfig, TrialJob, read_records, search};
use neuroevo::optimiser::OptimiserKind;
use neuroevo::task::{TaskConfig, TaskKind};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Mode, Progress, WorkerCommand};

#[test]
fn worker_entry() {
    serve_if_worker(&Registry::new().with::<TrialJob>());
}

fn processes() -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        worker_command: Some(WorkerCommand::libtest("worker_entry").unwrap()),
        ..ExecConfig::with_mode(Mode::Processes { workers: 2 })
    })
    .unwrap()
}

fn config(trials: usize) -> HyperConfig {
    HyperConfig {
        task: TaskConfig::new(TaskKind::CartPole),
        optimiser: OptimiserKind::Ga,
        trials,
        seeds: 2,
        max_evals: 2_000,
        seed: 4,
    }
}

#[test]
fn trials_append_as_they_finish_and_a_rerun_resumes() {
    let dir = std::env::temp_dir().join(format!("neuroevo-hyper-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trials.jsonl");
    let exec = processes();
    let first = search(&config(3), &exec, Some(&path), true).unwrap();
    assert_eq!((first.resumed, first.computed), (0, 3));
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    assert_eq!(read_records(&path, &config(3)).unwrap().len(), 3);
    // Under the budget a trial's process keeps to its main thread plus par-core's protocol
    // threads: far fewer than a pool per trial.
    for r in &first.records {
        assert!(r.budgeted);
        assert!(
            r.peak_threads <= 4,
            "trial {} saw {} threads",
            r.index,
            r.peak_threads
        );
    }
    // A kill mid-write leaves a torn line: it is skipped and the rerun computes only what is
    // missing.
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"{\"index\": 3, \"ke")
        .unwrap();
    let longer = config(5);
    let second = search(&longer, &exec, Some(&path), true).unwrap();
    // The key covers the whole search, so a longer search starts afresh, and a rerun of it
    // then computes nothing.
    assert_eq!((second.resumed, second.computed), (0, 5));
    let third = search(&longer, &exec, Some(&path), true).unwrap();
    assert_eq!((third.resumed, third.computed), (5, 0));
    // The same trial gives the same result in any mode.
    let seq = Executor::new(ExecConfig::with_mode(Mode::Sequential)).unwrap();
    let again = search(&config(3), &seq, None, true).unwrap();
    for (a, b) in again.records.iter().zip(&first.records) {
        assert_eq!(
            (a.index, a.solved, a.median_evals, a.mean_best),
            (b.index, b.solved, b.median_evals, b.mean_best)
        );
        assert_eq!(a.optimiser, b.optimiser);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
