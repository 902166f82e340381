//! Tests on the real ARC training data in `../shared/arc-data` (run by `cargo xtask test`
//! when present; ignored otherwise).

use std::path::PathBuf;

use arc_batt::Task;
use arc_batt::library::Library;
use arc_batt::pipeline::{RunConfig, Tally, solve_all};
use arc_batt::search::SearchConfig;
use arc_batt::task::task_files;
use par_core::{ExecConfig, Executor, Mode, Progress};

fn data() -> PathBuf {
    std::env::var_os("ARC_DATA").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/arc-data"
            ))
        },
        PathBuf::from,
    )
}

fn load(sub: &str) -> Vec<Task> {
    task_files(&[data().join(sub)])
        .unwrap()
        .iter()
        .map(|f| Task::load(f).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
#[ignore = "needs ../shared/arc-data (run by cargo xtask test when present)"]
fn every_training_task_loads_and_duplicates_share_fingerprints() {
    let one = load("ARC-AGI-1/data/training");
    let two = load("ARC-AGI-2/data/training");
    assert_eq!((one.len(), two.len()), (400, 624));
    let fps: std::collections::HashSet<u64> = one.iter().map(Task::fingerprint).collect();
    let shared = two
        .iter()
        .filter(|t| fps.contains(&t.fingerprint()))
        .count();
    assert!(
        shared >= 380,
        "{shared} ARC-AGI-2 files match an ARC-AGI-1 task by content"
    );
}

#[test]
#[ignore = "needs ../shared/arc-data (run by cargo xtask test when present)"]
fn a_short_pass_solves_some_training_tasks_with_valid_predictions() {
    let tasks: Vec<Task> = load("ARC-AGI-1/data/training")
        .into_iter()
        .take(40)
        .collect();
    let exec = Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(Mode::Threads { workers: 2 })
    })
    .unwrap();
    let cfg = RunConfig {
        search: SearchConfig {
            budget_s: 0.2,
            ..SearchConfig::default()
        },
        ..RunConfig::default()
    };
    let run = solve_all(&exec, &tasks, &cfg, &Library::new()).unwrap();
    let tally = Tally::count(&tasks, &run.results);
    assert!(tally.tasks_top3 >= 4, "{tally:?}");
    for (t, r) in tasks.iter().zip(&run.results) {
        assert_eq!(r.predictions.len(), t.test.len(), "{}", t.id);
        assert!(
            r.predictions
                .iter()
                .all(|p| p.len() <= 3 && p.iter().all(|g| !g.is_empty()))
        );
        assert!(r.error.is_none());
    }
}
