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

/// A seeded test set of its own, for tests and examples that need positions without Pons'
/// files: `count` positions reached by `moves` random legal moves each (no four in a row, and
/// none to make at once), with score 0 (the sets' scores are not read by the mistake rate,
/// which the solver judges). Late positions (30 moves and more) solve in milliseconds.
///
/// # Errors
/// When `moves` is 0 or above 40 (few random games get that far without a four).
pub fn generated_set(
    count: usize,
    moves: usize,
    seed: u64,
) -> Result<Vec<TestPosition>, MctsError> {
    use rand::{Rng, SeedableRng};
    if !(1..=40).contains(&moves) {
        return Err(MctsError::Config {
            field: "moves",
            reason: format!("must be in 1..=40, got {moves}"),
        });
    }
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut text = String::new();
    let mut made = 0;
    while made < count {
        let (mut p, mut line) = (Position::default(), String::new());
        while p.moves() < moves {
            let open: Vec<usize> = (0..WIDTH)
                .filter(|&c| p.can_play(c) && !p.is_winning_move(c))
                .collect();
            if open.is_empty() {
                break;
            }
            let col = open[rng.random_range(0..open.len())];
            p.play_col(col);
            line.push(char::from(b'1' + col as u8));
        }
        if p.moves() == moves && (0..WIDTH).all(|c| !p.can_play(c) || !p.is_winning_move(c)) {
            text += &format!("{line} 0\n");
            made += 1;
        }
    }
    parse_test_set(&text, Path::new("generated"))
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
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
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
        let (action, sims, seconds) = search_position(p.state, i, base, parallel, budget)?;
        search_seconds += seconds;
        simulations += sims;
        moves.push(action);
    }
    Ok(MistakeCount {
        positions: positions.len(),
        mistakes: count_mistakes(positions, &moves)?,
        simulations,
        search_seconds,
    })
}

/// The search of position `i` of a set: a fresh UCT search with `base`'s settings and seed
/// `base.seed + i`, sequential for one thread of `parallel`, tree-parallel for more. Returns
/// the move, the simulations run and the search's wall time in seconds.
fn search_position(
    state: Connect4,
    i: usize,
    base: &UctConfig,
    parallel: &ParallelConfig,
    budget: SearchBudget,
) -> Result<(Action, u64, f64), MctsError> {
    let config = UctConfig {
        seed: base.seed.wrapping_add(i as u64),
        ..base.clone()
    };
    let t = Instant::now();
    let summary = match (budget, parallel.threads) {
        (SearchBudget::Simulations(sims), 1) => Uct::new(config, state)?.search(sims),
        (SearchBudget::Simulations(sims), _) => {
            TreeParallelUct::new(config, parallel.clone(), state)?.search(sims)
        }
        (
            SearchBudget::Time {
                per_move,
                max_simulations,
            },
            1,
        ) => Uct::new(config, state)?.search_for(max_simulations, per_move),
        (
            SearchBudget::Time {
                per_move,
                max_simulations,
            },
            _,
        ) => TreeParallelUct::new(config, parallel.clone(), state)?
            .search_for(max_simulations, per_move),
    };
    let seconds = t.elapsed().as_secs_f64();
    let action = summary
        .best_action
        .ok_or(MctsError::IllegalAction { action: u16::MAX })?;
    Ok((action, summary.simulations, seconds))
}

/// What one position of a [`PonsJob`] gave: the move searched, whether it is a mistake, and
/// the search's simulations and wall time.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    /// The move the search chose.
    pub action: Action,
    /// Whether another move has a strictly better exact outcome.
    pub mistake: bool,
    /// Simulations of the search.
    pub simulations: u64,
    /// Wall time of the search, seconds (without the judging).
    pub search_seconds: f64,
}

/// The Pons benchmark as a par-core job, for every mode (worker processes and MPI ranks
/// included): task `i` searches position `i` of the set exactly as [`uct_mistakes`] does (seed
/// `base.seed + i`) and judges its move with the exact solver (one solver per worker thread,
/// its transposition table kept between the positions the thread judges). With a simulation
/// budget and one search thread the moves, and so the mistake count, are the same in every
/// mode and on any number of workers or ranks; a time budget or a tree-parallel search (more
/// threads in `parallel`) is not reproducible in any mode.
///
/// ```no_run
/// use mcts::test_set::{PonsJob, SearchBudget, load_test_set};
/// use mcts::{ParallelConfig, UctConfig};
/// use par_core::{ExecConfig, Executor, Mode};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let set = load_test_set("../shared/connect4/Test_L3_R1".as_ref())?;
/// let job = PonsJob::new(&set, UctConfig::default(), ParallelConfig::default(),
///     SearchBudget::Simulations(1_000));
/// let exec = Executor::new(ExecConfig::with_mode(Mode::Threads { workers: 2 }))?;
/// let (count, _verdicts) = job.run_on(&exec)?;
/// println!("mistake rate {:.3}", count.rate());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct PonsJob {
    positions: Vec<Position>,
    base: UctConfig,
    parallel: ParallelConfig,
    budget: SearchBudget,
    /// Solvers kept between the positions a worker judges.
    #[serde(skip)]
    solvers: std::sync::Mutex<Vec<Solver>>,
}

impl PonsJob {
    /// The benchmark of `base` (with `parallel` search threads per position) on `set`.
    pub fn new(
        set: &[TestPosition],
        base: UctConfig,
        parallel: ParallelConfig,
        budget: SearchBudget,
    ) -> Self {
        Self {
            positions: set.iter().map(|tp| tp.position).collect(),
            base,
            parallel,
            budget,
            solvers: std::sync::Mutex::default(),
        }
    }

    /// Searches and judges position `i` on the calling thread.
    pub fn verdict(&self, i: usize) -> Result<Verdict, MctsError> {
        let position = self.positions.get(i).ok_or_else(|| MctsError::Config {
            field: "position",
            reason: format!("{i} of a set of {}", self.positions.len()),
        })?;
        let (action, simulations, search_seconds) = search_position(
            Connect4::from_position(*position),
            i,
            &self.base,
            &self.parallel,
            self.budget,
        )?;
        let popped = self.solvers.lock().ok().and_then(|mut s| s.pop());
        let mut solver = popped.unwrap_or_default();
        let outcomes = solver.child_outcomes(position);
        if let Ok(mut s) = self.solvers.lock() {
            s.push(solver);
        }
        let mistake = is_mistake(&outcomes, usize::from(action))
            .ok_or(MctsError::IllegalAction { action })?;
        Ok(Verdict {
            action,
            mistake,
            simulations,
            search_seconds,
        })
    }

    /// Runs every position through `exec` (in `Mode::Mpi` a collective call whose result every
    /// rank gets) and counts the mistakes; also returns each position's verdict, in set order.
    pub fn run_on(
        &self,
        exec: &par_core::Executor,
    ) -> Result<(MistakeCount, Vec<Verdict>), MctsError> {
        let out = exec.run(self, self.positions.len())?.into_values()?;
        let mut verdicts = Vec::with_capacity(out.len());
        for (i, v) in out.into_iter().enumerate() {
            verdicts.push(v.map_err(|why| MctsError::Config {
                field: "position",
                reason: format!("{i}: {why}"),
            })?);
        }
        let count = MistakeCount {
            positions: verdicts.len(),
            mistakes: verdicts.iter().filter(|v| v.mistake).count(),
            simulations: verdicts.iter().map(|v| v.simulations).sum(),
            search_seconds: verdicts.iter().map(|v| v.search_seconds).sum(),
        };
        Ok((count, verdicts))
    }
}

impl par_core::Job for PonsJob {
    /// The position's verdict, or why it could not be given.
    type Output = Result<Verdict, String>;
    fn run(&self, ctx: &mut par_core::TaskContext) -> Self::Output {
        self.verdict(ctx.index).map_err(|e| e.to_string())
    }
}

impl par_core::RemoteJob for PonsJob {
    const NAME: &'static str = "mcts.pons";
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
    fn the_pons_job_counts_what_uct_mistakes_counts_in_every_mode() {
        let set = generated_set(6, 26, 3).unwrap();
        let base = UctConfig {
            seed: 5,
            ..UctConfig::default()
        };
        let parallel = ParallelConfig {
            // one search thread: a tree-parallel search is not reproducible
            threads: 1,
            ..ParallelConfig::default()
        };
        let budget = SearchBudget::Simulations(300);
        let judged = JudgedPosition::judge_all(&mut Solver::new(), &set);
        let want = uct_mistakes(&judged, &base, &parallel, budget).unwrap();
        let job = PonsJob::new(&set, base, parallel, budget);
        let mut seen = Vec::new();
        for mode in [
            par_core::Mode::Sequential,
            par_core::Mode::Threads { workers: 2 },
        ] {
            let exec = par_core::Executor::new(par_core::ExecConfig {
                progress: par_core::Progress::Hidden,
                ..par_core::ExecConfig::with_mode(mode)
            })
            .unwrap();
            let (count, verdicts) = job.run_on(&exec).unwrap();
            assert_eq!(
                (count.positions, count.mistakes, count.simulations),
                (want.positions, want.mistakes, want.simulations),
                "{mode}"
            );
            let moves: Vec<(Action, bool)> =
                verdicts.iter().map(|v| (v.action, v.mistake)).collect();
            assert_eq!(
                count_mistakes(&judged, &moves.iter().map(|m| m.0).collect::<Vec<_>>()).unwrap(),
                want.mistakes
            );
            seen.push(moves);
        }
        assert_eq!(seen[0], seen[1]);
        assert!(
            job.verdict(6).is_err(),
            "a position past the set is an error"
        );
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
