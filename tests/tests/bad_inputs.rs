//! The bad-input suite: every example binary of the workspace against a corpus of bad inputs
//! (missing, empty, truncated or random files, NaN, negative, zero and huge numbers, unknown
//! fields, wrong types, unwritable outputs). Each row must end in a non-zero exit that is not a
//! panic, with a message naming the input at fault. A new binary joins by adding rows.

use std::time::Duration;

use integration_tests::examples::{Case, write_corpus};

/// How long one case may take: bad input must be refused at once, not after the computation.
const LIMIT: Duration = Duration::from_secs(60);

fn cases() -> Vec<Case> {
    let mut c = Vec::new();
    // par-core: pi.
    c.extend([
        Case::succeeds("pi", "a small run", &["--tasks", "4", "--points", "10"]),
        Case::succeeds("pi", "help", &["--help"]),
        Case::refuses(
            "pi",
            "zero tasks",
            &["--tasks", "0"],
            &["--tasks", "minimum 1"],
        ),
        Case::refuses(
            "pi",
            "negative tasks",
            &["--tasks", "-1"],
            &["--tasks", "minimum 1"],
        ),
        Case::refuses("pi", "huge task count", &["--tasks", "1e30"], &["--tasks"]),
        Case::refuses("pi", "NaN darts", &["--points", "NaN"], &["--points"]),
        Case::refuses(
            "pi",
            "zero workers",
            &["--workers", "0"],
            &["--workers", "minimum 1"],
        ),
        Case::refuses(
            "pi",
            "5000 workers",
            &["--workers", "5000"],
            &["--workers", "per core"],
        ),
        Case::refuses("pi", "unknown mode", &["--mode", "gpu"], &["--mode", "gpu"]),
        Case::refuses("pi", "negative seed", &["--seed", "-3"], &["--seed"]),
        Case::refuses("pi", "unknown option", &["--bogus"], &["--bogus"]),
        Case::refuses(
            "pi",
            "unwritable output",
            &["--tasks", "2", "--out", "/proc/no-such-dir/pi.json"],
            &["/proc/no-such-dir/pi.json"],
        ),
        Case::refuses(
            "pi",
            "output is a folder",
            &["--tasks", "2", "--out", "{fixtures}/a-folder"],
            &["a-folder", "is a folder"],
        ),
    ]);
    c
}

#[test]
fn every_example_refuses_bad_input_without_panicking() {
    let scratch = std::env::temp_dir().join(format!("bad-inputs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let fixtures = write_corpus(&scratch.join("corpus"));
    let cases = cases();
    let complaints: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, case)| case.check(i, &scratch, &fixtures, LIMIT))
        .collect();
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        complaints.is_empty(),
        "{} of {} cases answered badly:\n\n{}",
        complaints.len(),
        cases.len(),
        complaints.join("\n")
    );
    eprintln!("{} bad-input cases answered well", cases.len());
}
