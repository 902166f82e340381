//! The solver against Pascal Pons' test sets in `../shared/connect4` (beside the workspace).
//!
//! The tests that read the sets are ignored by a plain `cargo test`; `cargo xtask test` runs
//! them when the folder is there (`cargo test -- --ignored` runs them anyway). The folder can
//! be moved with `MCTS_CONNECT4_DIR`. Run without the data, they fail and say what is missing:
//! a test never passes without checking anything.

use std::path::PathBuf;
use std::time::Instant;

use mcts::{Outcome, Solver, TestPosition, load_test_set};

/// The reason of the data-backed tests' `#[ignore]`, read by `cargo xtask test`.
const NEEDS_DATA: &str = "needs ../shared/connect4 (run by cargo xtask test when present)";

/// The test set `name`; panics, naming the path, when it is not there.
fn set_path(name: &str) -> PathBuf {
    let dir = std::env::var_os("MCTS_CONNECT4_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/connect4")
        });
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "the Pons test set {} is missing: this test {NEEDS_DATA} (or set MCTS_CONNECT4_DIR to \
         the folder holding Test_L3_R1 and Test_L2_R1)",
        path.display()
    );
    path
}

fn check_scores(set: &[TestPosition], solver: &mut Solver) {
    for tp in set {
        assert_eq!(
            solver.solve(&tp.position),
            tp.score,
            "line {}: {}",
            tp.line,
            tp.moves
        );
    }
}

/// Solves every position of the set `name` (1000 lines) and checks each exact score.
fn solve_whole_set(name: &str) {
    let path = set_path(name);
    let set = load_test_set(&path).unwrap();
    assert_eq!(set.len(), 1000);
    let mut solver = Solver::with_table_bits(22);
    let t = Instant::now();
    check_scores(&set, &mut solver);
    println!(
        "{name}: {} positions in {:.2?}, {} nodes",
        set.len(),
        t.elapsed(),
        solver.nodes()
    );
}

#[test]
#[ignore = "needs ../shared/connect4 (run by cargo xtask test when present)"]
fn solver_reproduces_every_score_of_test_l3_r1() {
    solve_whole_set("Test_L3_R1");
}

#[test]
#[ignore = "needs ../shared/connect4 (run by cargo xtask test when present)"]
fn solver_reproduces_every_score_of_test_l2_r1() {
    solve_whole_set("Test_L2_R1");
}

#[test]
#[ignore = "needs ../shared/connect4 (run by cargo xtask test when present)"]
fn weak_outcomes_agree_with_scores_and_children() {
    let path = set_path("Test_L2_R1");
    let set = load_test_set(&path).unwrap();
    let mut solver = Solver::with_table_bits(22);
    for tp in set.iter().step_by(4) {
        let expected = Outcome::from_score(tp.score);
        assert_eq!(solver.outcome(&tp.position), expected, "line {}", tp.line);
        let best = solver
            .child_outcomes(&tp.position)
            .into_iter()
            .flatten()
            .max();
        assert_eq!(best, Some(expected), "line {}", tp.line);
    }
}

#[test]
fn a_bad_move_in_a_set_file_names_file_and_line() {
    let dir = std::env::temp_dir().join(format!("mcts-bad-set-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("Test_bad");
    std::fs::write(&path, "4455 0\n44556 0\n4409 1\n").unwrap();
    let err = load_test_set(&path).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(err.contains("Test_bad:3:"), "{err}");
    assert!(err.contains("'0'"), "{err}");
}

#[test]
#[ignore = "needs ../shared/connect4 (run by cargo xtask test when present)"]
fn uct_rarely_errs_on_the_first_endgames_of_test_l3_r1() {
    use mcts::test_set::{JudgedPosition, SearchBudget, uct_mistakes};
    use mcts::{ParallelConfig, UctConfig};
    let path = set_path("Test_L3_R1");
    let set = load_test_set(&path).unwrap();
    let judged = JudgedPosition::judge_all(&mut Solver::with_table_bits(22), &set[..60]);
    let count = |threads| {
        let parallel = ParallelConfig {
            threads,
            virtual_loss: 1.0,
        };
        let budget = SearchBudget::Simulations(5_000);
        uct_mistakes(&judged, &UctConfig::default(), &parallel, budget)
            .unwrap()
            .mistakes
    };
    let (seq_mistakes, par_mistakes) = (count(1), count(2));
    println!("60 positions, 5000 simulations: {seq_mistakes} / {par_mistakes} mistakes");
    // Measured: 0 sequential. Allow a little slack for the (non-reproducible) parallel search.
    assert!(seq_mistakes <= 2, "{seq_mistakes} sequential mistakes");
    assert!(par_mistakes <= 3, "{par_mistakes} tree-parallel mistakes");
}
