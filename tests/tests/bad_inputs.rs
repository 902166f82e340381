//! The bad-input suite: every example binary of the workspace against a corpus of bad inputs
//! (missing, empty, truncated or random files, NaN, negative, zero and huge numbers, unknown
//! fields, wrong types, unwritable outputs). Each row must end in a non-zero exit that is not a
//! panic, with a message naming the input at fault. A new binary joins by adding rows.

use std::time::Duration;

use integration_tests::examples::{Case, write_corpus};

/// How long one case may take: bad input must be refused at once, not after the computation.
const LIMIT: Duration = Duration::from_secs(60);

mod bad_inputs {
    pub mod inspection;
    pub mod mcts;
    pub mod mfg;
    pub mod mpc;
    pub mod neuroevo;
    pub mod par_core;
}

/// Every crate's rows: one file per crate under `tests/tests/bad_inputs/`.
fn cases() -> Vec<Case> {
    let mut c = Vec::new();
    c.extend(bad_inputs::par_core::cases());
    c.extend(bad_inputs::mcts::cases());
    c.extend(bad_inputs::inspection::cases());
    c.extend(bad_inputs::mfg::cases());
    c.extend(bad_inputs::mpc::cases());
    c.extend(bad_inputs::neuroevo::cases());
    c
}

#[test]
fn every_example_refuses_bad_input_without_panicking() {
    let scratch = std::env::temp_dir().join(format!("bad-inputs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let fixtures = write_corpus(&scratch.join("corpus"));
    bad_inputs::mpc::write_files(&fixtures);
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
