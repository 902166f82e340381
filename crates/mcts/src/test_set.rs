//! Pascal Pons' Connect Four test sets and the mistake-rate metric.
//!
//! A test set file holds one position per line, `<moves> <score>`: the columns played from the
//! empty board (digits `1`..`7`) and the exact score for the side to move (see
//! [`crate::solver`]). The sets come from Pons' tutorial
//! (<http://blog.gamesolver.org/solving-connect-four/02-test-protocol/>).
//!
//! A move is a **mistake** if another legal move leads to a strictly better exact outcome
//! (win > draw > loss) for the side to move; [`is_mistake`] decides it from the outcomes that
//! [`Solver::child_outcomes`] computes.

use std::path::{Path, PathBuf};

use crate::connect4::{Position, WIDTH};
use crate::error::MctsError;
use crate::solver::{Outcome, Solver};

/// One line of a test set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPosition {
    /// The move string as written in the file.
    pub moves: String,
    /// The position it leads to.
    pub position: Position,
    /// The exact score for the side to move.
    pub score: i32,
    /// One-based line number in the file.
    pub line: usize,
}

/// Reads a test set file. A malformed line is an error naming the file and the line.
pub fn load_test_set(path: &Path) -> Result<Vec<TestPosition>, MctsError> {
    let text = std::fs::read_to_string(path).map_err(|source| MctsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_test_set(&text, path)
}

/// Parses the text of a test set; `path` is only used in error messages.
pub fn parse_test_set(text: &str, path: &Path) -> Result<Vec<TestPosition>, MctsError> {
    let bad = |line: usize, reason: String| MctsError::BadTestLine {
        path: PathBuf::from(path),
        line,
        reason,
    };
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let mut fields = trimmed.split_whitespace();
        let (Some(moves), Some(score), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(bad(
                line,
                format!("expected `<moves> <score>`, found `{trimmed}`"),
            ));
        };
        let score: i32 = score
            .parse()
            .map_err(|_| bad(line, format!("score `{score}` is not an integer")))?;
        let position = Position::from_moves(moves).map_err(|e| bad(line, e.to_string()))?;
        out.push(TestPosition {
            moves: moves.to_string(),
            position,
            score,
            line,
        });
    }
    Ok(out)
}

/// Whether playing `column` is a mistake given the outcomes of every column (`None` = full).
/// Returns `None` when `column` is not playable.
pub fn is_mistake(outcomes: &[Option<Outcome>; WIDTH], column: usize) -> Option<bool> {
    let chosen = outcomes.get(column).copied().flatten()?;
    let best = outcomes.iter().flatten().max().copied()?;
    Some(chosen < best)
}

/// The exact outcome of every column of `position` and whether `column` is a mistake.
pub fn judge_move(solver: &mut Solver, position: &Position, column: usize) -> Option<bool> {
    is_mistake(&solver.child_outcomes(position), column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_name_file_and_line() {
        let path = Path::new("sets/Test_X");
        let err = parse_test_set("1234 0\n12x4 1\n", path).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("sets/Test_X:2: move 3 ('x')"), "{text}");
        let err = parse_test_set("1234 zero\n", path).unwrap_err();
        assert!(err.to_string().contains(":1: score `zero`"));
        let err = parse_test_set("1234\n", path).unwrap_err();
        assert!(err.to_string().contains(":1: expected"));
    }

    #[test]
    fn parses_lines() {
        let set = parse_test_set("\n44 0\n", Path::new("x")).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set[0].line, 2);
        assert_eq!(set[0].position.moves(), 2);
    }

    #[test]
    fn mistakes_compare_outcomes() {
        use Outcome::*;
        let o = [
            Some(Win),
            Some(Draw),
            None,
            Some(Loss),
            Some(Win),
            None,
            None,
        ];
        assert_eq!(is_mistake(&o, 0), Some(false));
        assert_eq!(is_mistake(&o, 1), Some(true));
        assert_eq!(is_mistake(&o, 2), None);
        assert_eq!(is_mistake(&o, 3), Some(true));
    }
}
