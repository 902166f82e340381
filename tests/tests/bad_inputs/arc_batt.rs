//! arc-batt's example: `solve` (program search over ARC task files).
//!
//! Its files (the crate's fixture tasks, task files that break the format's rules, an empty
//! folder, a mixed folder, bad libraries) are written into the corpus folder by
//! [`write_files`], beside the shared corpus.

use std::path::Path;

use integration_tests::examples::{Case, workspace_root};

/// Writes solve's inputs into the corpus folder `dir`.
pub fn write_files(dir: &Path) {
    let tasks = workspace_root().join("fixtures/arc-batt/tasks");
    for sub in ["arc-tasks", "arc-empty-folder", "arc-mixed"] {
        std::fs::create_dir_all(dir.join(sub)).expect("corpus folder");
    }
    for entry in std::fs::read_dir(&tasks).expect("arc-batt fixture tasks") {
        let path = entry.expect("fixture entry").path();
        let name = path.file_name().expect("a file name");
        std::fs::copy(&path, dir.join("arc-tasks").join(name)).expect("copy a fixture task");
    }
    std::fs::copy(
        tasks.join("mirror.json"),
        dir.join("arc-mixed/a-mirror.json"),
    )
    .expect("copy a fixture task");
    let wide: Vec<String> = (0..31).map(|i| (i % 10).to_string()).collect();
    let files: Vec<(&str, String)> = vec![
        (
            "arc-ragged.json",
            r#"{"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": [{"input": [[1]]}]}"#.into(),
        ),
        (
            "arc-colour12.json",
            r#"{"train": [{"input": [[1, 2]], "output": [[12, 0]]}], "test": [{"input": [[1, 2]]}]}"#.into(),
        ),
        (
            "arc-oversized.json",
            format!(
                r#"{{"train": [{{"input": [[{}]], "output": [[1]]}}], "test": [{{"input": [[1]]}}]}}"#,
                wide.join(", ")
            ),
        ),
        (
            "arc-no-test.json",
            r#"{"train": [{"input": [[1]], "output": [[1]]}], "test": []}"#.into(),
        ),
        (
            "arc-negative.json",
            r#"{"train": [{"input": [[-1]], "output": [[1]]}], "test": [{"input": [[1]]}]}"#.into(),
        ),
        (
            "arc-mixed/b-truncated.json",
            r#"{"train": [{"input": [[1, 0]], "output": [[0, 1]]"#.into(),
        ),
        (
            "arc-library-bad.tsv",
            "mirror\t0123456789abcdef\tx1 = no_such_primitive(I)\n".into(),
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("corpus file");
    }
}

/// A tiny real job's arguments: the fixture tasks, a small budget, two workers.
const TASKS: [&str; 6] = [
    "--tasks",
    "{fixtures}/arc-tasks",
    "--budget-s",
    "0.2",
    "--workers",
    "2",
];

/// The fixture tasks and one option: the option's value is what is refused.
fn option(flag: &'static str, value: &'static str) -> Vec<&'static str> {
    vec!["--tasks", "{fixtures}/arc-tasks", flag, value]
}

/// `TASKS` followed by `more`.
fn with_tasks(more: &[&'static str]) -> Vec<&'static str> {
    TASKS.iter().copied().chain(more.iter().copied()).collect()
}

/// The rows of arc-batt's example `solve`.
pub fn cases() -> Vec<Case> {
    let refuses = |what, args: &[&'static str], mentions: &[&'static str]| {
        Case::refuses("solve", what, args, mentions)
    };
    let bad_tasks = |what, file: &'static str, mentions: &[&'static str]| {
        Case::refuses(
            "solve",
            what,
            &["--tasks", file, "--budget-s", "0.2"],
            mentions,
        )
    };
    vec![
        Case::succeeds("solve", "help", &["--help"]),
        Case::succeeds(
            "solve",
            "a tiny real job on the fixture tasks",
            &with_tasks(&[
                "--out",
                "{dir}/submission.json",
                "--report",
                "{dir}/report.json",
                "--learn",
                "{dir}/library.tsv",
            ]),
        )
        .writes(&[
            "{dir}/submission.json",
            "{dir}/report.json",
            "{dir}/library.tsv",
            "{dir}/report.json.jsonl",
        ]),
        Case::succeeds(
            "solve",
            "a tiny real job in worker processes",
            &[
                "--tasks",
                "{fixtures}/arc-tasks",
                "--budget-s",
                "0.2",
                "--mode",
                "processes",
                "--workers",
                "2",
                "--out",
                "{dir}/submission.json",
            ],
        )
        .writes(&["{dir}/submission.json", "{dir}/submission.json.jsonl"]),
        // Task files.
        refuses("no --tasks", &["--budget-s", "0.2"], &["--tasks"]),
        bad_tasks(
            "a missing task file",
            "{dir}/no-such-task.json",
            &["no-such-task.json"],
        ),
        bad_tasks(
            "an empty task file",
            "{fixtures}/empty.json",
            &["empty.json"],
        ),
        bad_tasks(
            "a truncated task file",
            "{fixtures}/truncated.json",
            &["truncated.json"],
        ),
        bad_tasks("random bytes", "{fixtures}/random.bin", &["random.bin"]),
        bad_tasks(
            "a JSON array, not a task",
            "{fixtures}/array.json",
            &["array.json", "not an ARC task file"],
        ),
        bad_tasks(
            "a ragged grid",
            "{fixtures}/arc-ragged.json",
            &["arc-ragged.json", "train pair 0 input", "ragged"],
        ),
        bad_tasks(
            "a grid over 30 x 30",
            "{fixtures}/arc-oversized.json",
            &["arc-oversized.json", "30 x 30"],
        ),
        bad_tasks(
            "colour 12",
            "{fixtures}/arc-colour12.json",
            &["arc-colour12.json", "train pair 0 output", "12"],
        ),
        bad_tasks(
            "a negative colour",
            "{fixtures}/arc-negative.json",
            &["arc-negative.json", "-1"],
        ),
        bad_tasks(
            "no test inputs",
            "{fixtures}/arc-no-test.json",
            &["arc-no-test.json", "no test pairs"],
        ),
        bad_tasks(
            "a folder without task files",
            "{fixtures}/arc-empty-folder",
            &["arc-empty-folder", "no .json task files"],
        ),
        refuses(
            "a folder with one corrupt task among good ones: solved, then exit 1",
            &[
                "--tasks",
                "{fixtures}/arc-mixed",
                "--budget-s",
                "0.2",
                "--out",
                "{dir}/submission.json",
            ],
            &[
                "b-truncated.json",
                "1 invalid task file",
                "solved and written",
            ],
        ),
        // Numbers.
        refuses(
            "NaN budget",
            &option("--budget-s", "NaN"),
            &["--budget-s", "not a finite number"],
        ),
        refuses(
            "negative budget",
            &option("--budget-s", "-1"),
            &["--budget-s", "minimum"],
        ),
        refuses(
            "zero budget",
            &option("--budget-s", "0"),
            &["--budget-s", "minimum"],
        ),
        refuses(
            "huge budget",
            &option("--budget-s", "1e9"),
            &["--budget-s", "maximum 3600"],
        ),
        refuses(
            "zero workers",
            &option("--workers", "0"),
            &["--workers", "minimum 1"],
        ),
        refuses(
            "5000 workers",
            &option("--workers", "5000"),
            &["--workers", "per core"],
        ),
        refuses(
            "depth 0",
            &with_tasks(&["--max-depth", "0"]),
            &["--max-depth", "minimum 1"],
        ),
        refuses(
            "depth 9",
            &with_tasks(&["--max-depth", "9"]),
            &["--max-depth", "maximum 4"],
        ),
        refuses(
            "NaN wall-clock factor",
            &option("--wall-factor", "NaN"),
            &["--wall-factor", "not a finite number"],
        ),
        refuses(
            "wall-clock factor below 1",
            &option("--wall-factor", "0.5"),
            &["--wall-factor", "minimum 1"],
        ),
        refuses(
            "NaN memory",
            &with_tasks(&["--memory-mb", "NaN"]),
            &["--memory-mb"],
        ),
        refuses(
            "more memory than the machine has",
            &with_tasks(&["--memory-mb", "900000"]),
            &["--memory-mb", "choose a smaller size"],
        ),
        refuses(
            "an unknown mode",
            &with_tasks(&["--mode", "gpu"]),
            &["--mode", "gpu"],
        ),
        // Libraries.
        refuses(
            "a library of random bytes",
            &with_tasks(&["--library", "{fixtures}/random.bin"]),
            &["random.bin"],
        ),
        refuses(
            "a library naming an unknown primitive",
            &with_tasks(&["--library", "{fixtures}/arc-library-bad.tsv"]),
            &["arc-library-bad.tsv", "line 1"],
        ),
        // Outputs.
        refuses(
            "an unwritable submission",
            &with_tasks(&["--out", "/proc/no-such-dir/submission.json"]),
            &["/proc/no-such-dir/submission.json"],
        ),
        refuses(
            "an unwritable report",
            &with_tasks(&["--report", "/proc/no-such-dir/report.json"]),
            &["/proc/no-such-dir/report.json"],
        ),
        refuses(
            "an unwritable journal",
            &with_tasks(&[
                "--out",
                "{dir}/s.json",
                "--journal",
                "/proc/no-such-dir/j.jsonl",
            ]),
            &["/proc/no-such-dir/j.jsonl"],
        ),
        refuses(
            "the submission is a folder",
            &with_tasks(&["--out", "{fixtures}/a-folder"]),
            &["a-folder", "is a folder"],
        ),
        refuses(
            "the library to learn is a folder",
            &with_tasks(&["--learn", "{fixtures}/a-folder"]),
            &["a-folder", "is a folder"],
        ),
    ]
}
