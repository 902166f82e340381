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
//!
//! The mistake rate of a player is measured in one place: the positions are judged once
//! ([`JudgedPosition::judge_all`]), the player chooses one move per position, and
//! [`count_mistakes`] counts the mistakes. [`uct_mistakes`] does this for UCT, sequential or
//! tree-parallel; the AlphaZero measures (`alphazero::train::puct_mistakes` and
//! `policy_mistakes`) choose their moves with a network.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::connect4::{Connect4, Position, WIDTH};
use crate::error::MctsError;
use crate::game::Action;
use crate::solver::{Outcome, Solver};
use crate::tree_parallel::{ParallelConfig, TreeParallelUct};
use crate::uct::{Uct, UctConfig};

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
    let bad = |line: usize, column: usize, reason: String| MctsError::BadTestLine {
        path: PathBuf::from(path),
        line,
        column,
        reason,
    };
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        // One-based character column of a field that starts at byte `at` of `raw`.
        let column_of = |at: usize| raw[..at].chars().count() + 1;
        let start = raw.len() - raw.trim_start().len();
        let mut fields = trimmed.split_whitespace();
        let (Some(moves), Some(score), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(bad(
                line,
                column_of(start),
                format!("expected `<moves> <score>`, found `{trimmed}`"),
            ));
        };
        let score_at = start + trimmed[moves.len()..].find(score).unwrap_or(0) + moves.len();
        let score: i32 = score.parse().map_err(|_| {
            bad(
                line,
                column_of(score_at),
                format!("score `{score}` is not an integer"),
            )
        })?;
        let position = Position::from_moves(moves).map_err(|e| {
            let column = match &e {
                MctsError::BadMove { index, .. } => column_of(start) + index,
                _ => column_of(start),
            };
            bad(line, column, e.to_string())
        })?;
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

/// A Connect Four position with the exact outcome of every column, for mistake rates.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgedPosition {
    /// The position.
    pub state: Connect4,
    /// Exact outcome of each column for the side to move (`None`: full).
    pub outcomes: [Option<Outcome>; WIDTH],
}

impl JudgedPosition {
    /// The positions of `set`, each with the outcomes of its columns from `solver`.
    pub fn judge_all(solver: &mut Solver, set: &[TestPosition]) -> Vec<Self> {
        set.iter()
            .map(|tp| Self {
                state: Connect4::from_position(tp.position),
                outcomes: solver.child_outcomes(&tp.position),
            })
            .collect()
    }
}

/// Counts the mistakes of `moves`, the move played in each of `positions` (in order). A move
/// that is not playable in its position is an error naming it; so are more or fewer moves than
/// positions.
pub fn count_mistakes(positions: &[JudgedPosition], moves: &[Action]) -> Result<usize, MctsError> {
    if moves.len() != positions.len() {
        return Err(MctsError::Config {
            field: "moves",
            reason: format!("{} moves for {} positions", moves.len(), positions.len()),
        });
    }
    let mut mistakes = 0;
    for (p, &action) in positions.iter().zip(moves) {
        match is_mistake(&p.outcomes, usize::from(action)) {
            Some(mistake) => mistakes += usize::from(mistake),
            None => return Err(MctsError::IllegalAction { action }),
        }
    }
    Ok(mistakes)
}

/// How long each search of [`uct_mistakes`] runs.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum SearchBudget {
    /// This many simulations per move.
    Simulations(u64),
    /// This much wall-clock time per move ([`Uct::search_for`],
    /// [`TreeParallelUct::search_for`]), at most `max_simulations` (which also sizes the
    /// tree-parallel search's arena).
    Time {
        /// Wall-clock time per move.
        per_move: Duration,
        /// Simulations at most per move.
        max_simulations: u64,
    },
}

impl SearchBudget {
    /// `per_move` of wall-clock time per move, capped at 20 million simulations per second of
    /// it (ten times what one core runs on Connect Four), and at least 1,000.
    pub fn per_move(per_move: Duration) -> Self {
        Self::Time {
            per_move,
            max_simulations: ((per_move.as_secs_f64() * 2e7) as u64).max(1_000),
        }
    }
}

/// What [`uct_mistakes`] measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MistakeCount {
    /// Positions judged.
    pub positions: usize,
    /// Moves that were mistakes.
    pub mistakes: usize,
    /// Simulations run in all searches.
    pub simulations: u64,
    /// Wall time of the searches (s), without the judging.
    pub search_seconds: f64,
}

impl MistakeCount {
    /// `mistakes / positions` (NaN when no position was judged).
    pub fn rate(&self) -> f64 {
        if self.positions == 0 {
            f64::NAN
        } else {
            self.mistakes as f64 / self.positions as f64
        }
    }
}

/// The mistakes of UCT in `positions`: a fresh search per position with `base`'s settings,
/// position `i` with seed `base.seed + i`, sequential ([`Uct`]) for one thread of `parallel`,
/// tree-parallel ([`TreeParallelUct`]) for more; the move is the search's best action.
pub fn uct_mistakes(
    positions: &[JudgedPosition],
    base: &UctConfig,
    parallel: &ParallelConfig,
    budget: SearchBudget,
) -> Result<MistakeCount, MctsError> {
    let mut moves = Vec::with_capacity(positions.len());
    let (mut simulations, mut search_seconds) = (0, 0.0);
    for (i, p) in positions.iter().enumerate() {
        let config = UctConfig {
            seed: base.seed.wrapping_add(i as u64),
            ..base.clone()
        };
        let t = Instant::now();
        let summary = match (budget, parallel.threads) {
            (SearchBudget::Simulations(sims), 1) => Uct::new(config, p.state)?.search(sims),
            (SearchBudget::Simulations(sims), _) => {
                TreeParallelUct::new(config, parallel.clone(), p.state)?.search(sims)
            }
            (
                SearchBudget::Time {
                    per_move,
                    max_simulations,
                },
                1,
            ) => Uct::new(config, p.state)?.search_for(max_simulations, per_move),
            (
                SearchBudget::Time {
                    per_move,
                    max_simulations,
                },
                _,
            ) => TreeParallelUct::new(config, parallel.clone(), p.state)?
                .search_for(max_simulations, per_move),
        };
        search_seconds += t.elapsed().as_secs_f64();
        simulations += summary.simulations;
        moves.push(
            summary
                .best_action
                .ok_or(MctsError::IllegalAction { action: u16::MAX })?,
        );
    }
    Ok(MistakeCount {
        positions: positions.len(),
        mistakes: count_mistakes(positions, &moves)?,
        simulations,
        search_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_name_file_and_line() {
        let path = Path::new("sets/Test_X");
        let err = parse_test_set("1234 0\n12x4 1\n", path).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("sets/Test_X:2:3: move 3 ('x')"), "{text}");
        let err = parse_test_set("1234 zero\n", path).unwrap_err();
        assert!(err.to_string().contains(":1:6: score `zero`"), "{err}");
        let err = parse_test_set("  1234   -x\n", path).unwrap_err();
        assert!(err.to_string().contains(":1:10: score `-x`"), "{err}");
        let err = parse_test_set("  1234567x\t0\n", path).unwrap_err();
        assert!(err.to_string().contains(":1:10: move 8 ('x')"), "{err}");
        let err = parse_test_set("1234\n", path).unwrap_err();
        assert!(err.to_string().contains(":1:1: expected"));
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

    #[test]
    fn mistakes_are_counted_once_per_position() {
        // X to move wins at once in column 1 (index 0): every other column is a mistake (the
        // outcomes of the other columns are set by hand; solving this early position exactly
        // takes seconds).
        let mut outcomes = [Some(Outcome::Draw); WIDTH];
        outcomes[0] = Some(Outcome::Win);
        let judged = JudgedPosition {
            state: Connect4::from_moves("121212").unwrap(),
            outcomes,
        };
        let twice = [judged.clone(), judged];
        assert_eq!(count_mistakes(&twice, &[0, 3]).unwrap(), 1);
        assert_eq!(count_mistakes(&twice, &[4, 3]).unwrap(), 2);
        assert!(matches!(
            count_mistakes(&twice, &[0]),
            Err(MctsError::Config { field: "moves", .. })
        ));
        assert!(matches!(
            count_mistakes(&twice, &[0, 9]),
            Err(MctsError::IllegalAction { action: 9 })
        ));
        for threads in [1, 2] {
            let parallel = ParallelConfig {
                threads,
                virtual_loss: 1.0,
            };
            let budget = SearchBudget::Simulations(2_000);
            let count = uct_mistakes(&twice, &UctConfig::default(), &parallel, budget).unwrap();
            assert_eq!(count.positions, 2);
            assert_eq!(count.mistakes, 0, "{threads} thread(s)");
            assert_eq!(count.simulations, 4_000);
            assert_eq!(count.rate(), 0.0);
            // A time budget: at least one claim of simulations per move, none beyond the cap.
            let budget = SearchBudget::Time {
                per_move: Duration::from_millis(5),
                max_simulations: 100_000,
            };
            let count = uct_mistakes(&twice, &UctConfig::default(), &parallel, budget).unwrap();
            assert_eq!(count.mistakes, 0, "{threads} thread(s), 5 ms");
            assert!(count.simulations >= 2 * 16 && count.simulations <= 200_000);
        }
    }

    #[test]
    fn searches_with_a_time_budget_stop_on_time_or_at_the_cap() {
        let time = Duration::from_millis(20);
        let mut uct = Uct::new(UctConfig::default(), Connect4::new()).unwrap();
        let t = Instant::now();
        let s = uct.search_for(u64::MAX, time);
        let took = t.elapsed();
        assert!(took >= time && took < time * 20, "{took:?}");
        assert!(s.simulations > 0 && s.simulations % 16 == 0, "{s:?}");
        assert_eq!(u64::from(uct.root_visits()), s.simulations);
        uct.check_invariants().unwrap();
        // The cap comes first when it is small.
        let s = uct.search_for(40, Duration::from_secs(60));
        assert_eq!(s.simulations, 40);
        for threads in [1, 2] {
            let parallel = ParallelConfig {
                threads,
                virtual_loss: 1.0,
            };
            let mut tp =
                TreeParallelUct::new(UctConfig::default(), parallel, Connect4::new()).unwrap();
            let t = Instant::now();
            let s = tp.search_for(2_000_000, time);
            let took = t.elapsed();
            assert!(took >= time && took < time * 20, "{threads}: {took:?}");
            assert!(s.simulations > 0 && s.simulations < 2_000_000, "{s:?}");
            assert_eq!(u64::from(tp.root_visits()), s.simulations);
            tp.check_invariants().unwrap();
            let s = tp.search_for(100, Duration::from_secs(60));
            assert_eq!(s.simulations, 100);
        }
    }
}
