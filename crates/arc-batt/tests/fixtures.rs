//! The pipeline on the crate's own fixture tasks (`fixtures/arc-batt`, made by this project):
//! small tasks it must solve, corrupt files that must be typed errors naming the file, and a
//! task that exhausts its budget while the others are still solved.

use std::path::{Path, PathBuf};

use arc_batt::library::Library;
use arc_batt::pipeline::{RunConfig, Tally, solve_all, solve_task};
use arc_batt::search::SearchConfig;
use arc_batt::task::task_files;
use arc_batt::{ArcError, Task};
use par_core::{ExecConfig, Executor, Mode, Progress};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/arc-batt")
}

fn load_dir(dir: &str) -> Vec<Task> {
    task_files(&[fixtures().join(dir)])
        .unwrap()
        .iter()
        .map(|f| Task::load(f).unwrap())
        .collect()
}

fn exec() -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(Mode::Threads { workers: 2 })
    })
    .unwrap()
}

#[test]
fn the_fixture_tasks_are_solved_with_the_first_attempt() {
    let tasks = load_dir("tasks");
    assert_eq!(tasks.len(), 4);
    let cfg = RunConfig {
        search: SearchConfig {
            budget_s: 0.5,
            ..SearchConfig::default()
        },
        ..RunConfig::default()
    };
    let run = solve_all(&exec(), &tasks, &cfg, &Library::new()).unwrap();
    for (t, r) in tasks.iter().zip(&run.results) {
        assert!(r.fits_demos, "{}: {:?}", t.id, r);
        assert_eq!(
            arc_batt::pipeline::check(t, r, 1),
            Some((t.test.len(), true)),
            "{}: {:?}",
            t.id,
            r.program
        );
        let p: arc_batt::program::Program = r.program.as_deref().unwrap().parse().unwrap();
        for (case, pred) in t.test.iter().zip(&r.predictions) {
            assert_eq!(
                p.run(&case.input),
                pred[0],
                "{}: the program text reproduces the prediction",
                t.id
            );
        }
    }
    let tally = Tally::count(&tasks, &run.results);
    assert_eq!((tally.tasks_top2, tally.tests_top2), (4, 5));
}

#[test]
fn corrupt_task_files_are_typed_errors_naming_the_file() {
    let expect = [
        ("truncated.json", "not an ARC task file"),
        ("ragged.json", "ragged"),
        ("colour.json", "not a colour"),
        ("oversized.json", "larger than the 30 x 30 limit"),
    ];
    for (name, what) in expect {
        let path = fixtures().join("corrupt").join(name);
        let e = Task::load(&path).unwrap_err();
        let text = e.to_string();
        assert!(text.contains(name) && text.contains(what), "{name}: {text}");
        assert!(
            matches!(e, ArcError::Json { .. } | ArcError::Grid { .. }),
            "{e:?}"
        );
    }
}

#[test]
fn a_task_out_of_budget_is_reported_and_the_others_go_on() {
    let mut tasks = load_dir("hard");
    tasks.extend(load_dir("tasks"));
    let cfg = RunConfig {
        search: SearchConfig {
            budget_s: 0.2,
            ..SearchConfig::default()
        },
        ..RunConfig::default()
    };
    let run = solve_all(&exec(), &tasks, &cfg, &Library::new()).unwrap();
    let noise = &run.results[0];
    assert_eq!(noise.task, "noise");
    // Out of budget: the work budget, or on a heavily loaded host the wall-clock guard.
    assert!(
        noise.status == "budget" || noise.status == "wall_clock",
        "{}",
        noise.status
    );
    assert!(!noise.fits_demos);
    assert!(noise.error.is_none());
    assert_eq!(noise.predictions.len(), 1, "a ranked guess is still made");
    assert!(run.results[1..].iter().all(|r| r.fits_demos));
}

#[test]
fn a_learned_library_solves_another_task_and_leave_one_out_hides_its_own() {
    let tasks = load_dir("tasks");
    let mirror = tasks.iter().find(|t| t.id == "mirror").unwrap();
    let cfg = SearchConfig::default();
    let r = solve_task(mirror, &cfg, &Library::new());
    let mut lib = Library::new();
    lib.add(
        &mirror.id,
        mirror.fingerprint(),
        r.program.unwrap().parse().unwrap(),
    );
    // A second mirror task with other grids: the stored program solves it from the library.
    let other = Task::from_json(
        "mirror2",
        r#"{"train": [{"input": [[1, 2, 3, 4]], "output": [[4, 3, 2, 1]]},
                      {"input": [[5, 0], [0, 6]], "output": [[0, 5], [6, 0]]}],
            "test": [{"input": [[9, 8]], "output": [[8, 9]]}]}"#,
        Path::new("mirror2.json"),
    )
    .unwrap();
    let tiny = SearchConfig {
        budget_s: 1e-4,
        ..cfg
    };
    let with_lib = solve_task(&other, &tiny, &lib);
    assert!(with_lib.fits_demos && with_lib.from_library, "{with_lib:?}");
    // On the task it came from, its own program is left out.
    assert!(lib.for_task(mirror.fingerprint()).is_empty());
    let own = solve_task(mirror, &tiny, &lib);
    assert!(!own.from_library);
}
