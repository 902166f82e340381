//! The pipeline: solve many tasks through par-core, deterministically, and count what was
//! solved.
//!
//! Tasks run as par-core tasks (`Executor::map`, one task per ARC task), so a run's results
//! come back in task order with a run report, a panic inside one task's search is reported as
//! that task's failure while every other result is kept, and — because the budget is counted
//! in work units, not seconds — the predictions are bit-identical for any worker count.
//!
//! With a **shared budget** ([`RunConfig::shared_budget`]) every task first runs on half its
//! budget; the work the tasks left unspent is pooled and shared equally among the tasks that
//! ran out of budget unsolved, which run again with their share (the whole run never spends
//! more than `tasks × budget`). Both passes are deterministic.

use std::time::Instant;

use par_core::{Executor, RunReport};
use serde::{Deserialize, Serialize};

use crate::error::ArcError;
use crate::grid::Grid;
use crate::library::Library;
use crate::score::predictions;
use crate::search::{SearchConfig, Space, Status, WORK_PER_SECOND, search};
use crate::task::Task;

/// What happened on one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    /// Task id.
    pub task: String,
    /// Up to three ranked predictions per test input (one list per test input).
    pub predictions: Vec<Vec<Grid>>,
    /// The best candidate's program (absent when nothing was found).
    pub program: Option<String>,
    /// The programs of the candidates behind the predictions, best first.
    pub programs: Vec<String>,
    /// Whether the best candidate reproduces every demonstration.
    pub fits_demos: bool,
    /// Whether the best candidate came from the library (or a mutant of it).
    pub from_library: bool,
    /// Why the search stopped (`failed` when the task's search itself failed).
    pub status: String,
    /// Wall time of the task's search(es), seconds.
    pub seconds: f64,
    /// CPU time of the thread that ran the search(es), seconds (the wall time less what a
    /// loaded machine took away).
    #[serde(default)]
    pub cpu_s: f64,
    /// Work units spent.
    pub work: u64,
    /// Primitive applications on single inputs.
    pub ops: u64,
    /// Distinct values in the search space at the end.
    pub nodes: usize,
    /// Largest memory the search held, MB (estimated from its values).
    pub peak_mb: f64,
    /// The failure, when the task failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl TaskResult {
    /// A result for a task that could not be solved at all (its search failed).
    pub fn failed(task: &str, error: String) -> Self {
        Self {
            task: task.to_string(),
            predictions: Vec::new(),
            program: None,
            programs: Vec::new(),
            fits_demos: false,
            from_library: false,
            status: "failed".into(),
            seconds: 0.0,
            cpu_s: 0.0,
            work: 0,
            ops: 0,
            nodes: 0,
            peak_mb: 0.0,
            error: Some(error),
        }
    }
}

/// Searches one task and predicts up to three outputs per test input.
pub fn solve_task(task: &Task, cfg: &SearchConfig, library: &Library) -> TaskResult {
    let start = Instant::now();
    let cpu0 = par_core::bench::thread_cpu_seconds();
    let mut space = Space::new(task, cfg);
    let found = search(&mut space, task, cfg, library);
    let preds = predictions(&space, &found.ranked, 3);
    let n_train = space.n_train();
    // The programs behind the predictions: the first candidate giving each new prediction.
    let mut programs = Vec::new();
    let mut seen: Vec<Vec<Grid>> = vec![Vec::new(); preds.len()];
    for &id in &found.ranked {
        let node = &space.nodes()[id as usize];
        let mut new = false;
        for (t, s) in seen.iter_mut().enumerate() {
            let g = node.vals[n_train + t].grid();
            if s.len() < 3 && !s.contains(g) {
                s.push(g.clone());
                new = true;
            }
        }
        if new {
            programs.push(space.program(id).to_string());
        }
        if programs.len() >= 3 {
            break;
        }
    }
    let best = found.ranked.first().map(|&id| &space.nodes()[id as usize]);
    TaskResult {
        task: task.id.clone(),
        predictions: preds,
        program: programs.first().cloned(),
        programs,
        fits_demos: best.is_some_and(|n| usize::from(n.exact) == n_train),
        from_library: best.is_some_and(|n| n.from_library),
        status: status_name(found.status).into(),
        seconds: start.elapsed().as_secs_f64(),
        cpu_s: match (cpu0, par_core::bench::thread_cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => start.elapsed().as_secs_f64(),
        },
        work: space.work,
        ops: space.ops,
        nodes: space.nodes().len(),
        peak_mb: space.peak_bytes() as f64 / 1e6,
        error: None,
    }
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Complete => "complete",
        Status::Budget => "budget",
        Status::WallClock => "wall_clock",
        Status::Memory => "memory",
    }
}

/// How a set of tasks is solved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// The per-task search.
    pub search: SearchConfig,
    /// Share unspent budget among tasks that ran out of it (two passes). Default false.
    pub shared_budget: bool,
}

/// Per-task results in task order, and the par-core run report(s).
#[derive(Debug)]
pub struct RunResults {
    /// One result per task, in the order given.
    pub results: Vec<TaskResult>,
    /// The run report of each pass.
    pub reports: Vec<RunReport>,
}

fn run_pass(
    exec: &Executor,
    tasks: &[&Task],
    cfgs: &[SearchConfig],
    library: &Library,
) -> Result<(Vec<TaskResult>, RunReport), ArcError> {
    let out = exec.map(tasks.len(), |ctx| {
        solve_task(tasks[ctx.index], &cfgs[ctx.index], library)
    })?;
    let report = out.report;
    let results = out
        .results
        .into_iter()
        .zip(tasks)
        .map(|(r, t)| r.unwrap_or_else(|f| TaskResult::failed(&t.id, f.to_string())))
        .collect();
    Ok((results, report))
}

/// Solves `tasks` on `exec` (see the [module docs](self)).
pub fn solve_all(
    exec: &Executor,
    tasks: &[Task],
    cfg: &RunConfig,
    library: &Library,
) -> Result<RunResults, ArcError> {
    cfg.search.validate()?;
    let refs: Vec<&Task> = tasks.iter().collect();
    if !cfg.shared_budget {
        let cfgs = vec![cfg.search.clone(); tasks.len()];
        let (results, report) = run_pass(exec, &refs, &cfgs, library)?;
        return Ok(RunResults {
            results,
            reports: vec![report],
        });
    }
    let half = SearchConfig {
        budget_s: cfg.search.budget_s / 2.0,
        ..cfg.search.clone()
    };
    let cfgs = vec![half; tasks.len()];
    let (mut results, first) = run_pass(exec, &refs, &cfgs, library)?;
    let total = cfg.search.budget_s * WORK_PER_SECOND * tasks.len() as f64;
    let spent: f64 = results.iter().map(|r| r.work as f64).sum();
    let again: Vec<usize> = (0..tasks.len())
        .filter(|&i| results[i].status == "budget" && !results[i].fits_demos)
        .collect();
    let mut reports = vec![first];
    if !again.is_empty() && total > spent {
        // The rerun repeats its first half, so each share pays for it.
        let share_s = ((total - spent) / again.len() as f64 / WORK_PER_SECOND
            + cfg.search.budget_s / 2.0)
            .min(4.0 * cfg.search.budget_s);
        let cfg2 = SearchConfig {
            budget_s: share_s,
            ..cfg.search.clone()
        };
        let sub: Vec<&Task> = again.iter().map(|&i| &tasks[i]).collect();
        let cfgs = vec![cfg2; sub.len()];
        let (rerun, report) = run_pass(exec, &sub, &cfgs, library)?;
        for (k, r) in again.into_iter().zip(rerun) {
            let first = &results[k];
            results[k] = TaskResult {
                seconds: r.seconds + first.seconds,
                cpu_s: r.cpu_s + first.cpu_s,
                work: r.work + first.work,
                ..r
            };
        }
        reports.push(report);
    }
    Ok(RunResults { results, reports })
}

/// Test outputs matched and whether the whole task is solved, within `attempts` attempts
/// per test input; `None` when the task has no test outputs.
pub fn check(task: &Task, result: &TaskResult, attempts: usize) -> Option<(usize, bool)> {
    if !task.has_test_outputs() {
        return None;
    }
    let mut hits = 0;
    for (t, case) in task.test.iter().enumerate() {
        let want = case.output.as_ref()?;
        if result
            .predictions
            .get(t)
            .is_some_and(|p| p.iter().take(attempts).any(|g| g == want))
        {
            hits += 1;
        }
    }
    Some((hits, hits == task.test.len()))
}

/// Counts over a run: tasks and test outputs solved with 2 and with 3 attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Tasks with test outputs.
    pub tasks: usize,
    /// Test outputs.
    pub tests: usize,
    /// Tasks solved with 2 attempts per test input.
    pub tasks_top2: usize,
    /// Tasks solved with 3 attempts.
    pub tasks_top3: usize,
    /// Test outputs matched with 2 attempts.
    pub tests_top2: usize,
    /// Test outputs matched with 3 attempts.
    pub tests_top3: usize,
    /// Tasks whose best candidate reproduces every demonstration.
    pub fit_demos: usize,
}

impl Tally {
    /// Counts `results` against the tasks' test outputs.
    pub fn count(tasks: &[Task], results: &[TaskResult]) -> Self {
        let mut t = Self::default();
        for (task, r) in tasks.iter().zip(results) {
            t.fit_demos += usize::from(r.fits_demos);
            let (Some((h2, s2)), Some((h3, s3))) = (check(task, r, 2), check(task, r, 3)) else {
                continue;
            };
            t.tasks += 1;
            t.tests += task.test.len();
            t.tasks_top2 += usize::from(s2);
            t.tasks_top3 += usize::from(s3);
            t.tests_top2 += h2;
            t.tests_top3 += h3;
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use par_core::{ExecConfig, Mode, Progress};
    use std::path::Path;

    fn tasks() -> Vec<Task> {
        let flip = r#"{"train": [{"input": [[1, 2, 0]], "output": [[0, 2, 1]]},
                                 {"input": [[3, 0, 0]], "output": [[0, 0, 3]]}],
                       "test": [{"input": [[4, 5, 6]], "output": [[6, 5, 4]]}]}"#;
        let up = r#"{"train": [{"input": [[1, 2]], "output": [[1, 1, 2, 2], [1, 1, 2, 2]]}],
                     "test": [{"input": [[3, 0]], "output": [[3, 3, 0, 0], [3, 3, 0, 0]]},
                              {"input": [[5]], "output": [[5, 5], [5, 5]]}]}"#;
        vec![
            Task::from_json("flip", flip, Path::new("flip.json")).unwrap(),
            Task::from_json("up", up, Path::new("up.json")).unwrap(),
        ]
    }

    fn exec(workers: usize) -> Executor {
        let mode = if workers == 1 {
            Mode::Sequential
        } else {
            Mode::Threads { workers }
        };
        Executor::new(ExecConfig {
            progress: Progress::Hidden,
            ..ExecConfig::with_mode(mode)
        })
        .unwrap()
    }

    #[test]
    fn tasks_are_solved_counted_and_identical_for_any_worker_count() {
        let ts = tasks();
        let cfg = RunConfig {
            search: SearchConfig {
                budget_s: 0.3,
                ..SearchConfig::default()
            },
            ..RunConfig::default()
        };
        let one = solve_all(&exec(1), &ts, &cfg, &Library::new()).unwrap();
        let two = solve_all(&exec(2), &ts, &cfg, &Library::new()).unwrap();
        let strip = |r: &[TaskResult]| {
            r.iter()
                .map(|x| (x.predictions.clone(), x.program.clone(), x.work))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&one.results), strip(&two.results));
        let tally = Tally::count(&ts, &one.results);
        assert_eq!(tally.tasks, 2);
        assert_eq!(tally.tests, 3);
        assert_eq!(tally.tasks_top3, 2, "{:?}", one.results);
        assert!(one.results[0].fits_demos);
        let program = one.results[0].program.clone().unwrap();
        assert!(
            program == "x1 = flip_h(I)" || program == "x1 = rot180(I)",
            "{program}"
        );
        let shared = RunConfig {
            shared_budget: true,
            ..cfg
        };
        let s = solve_all(&exec(2), &ts, &shared, &Library::new()).unwrap();
        assert_eq!(Tally::count(&ts, &s.results).tasks_top3, 2);
    }

    #[test]
    fn checking_uses_only_the_first_attempts() {
        let ts = tasks();
        let wrong = Grid::filled(1, 1, 9);
        let right = ts[0].test[0].output.clone().unwrap();
        let mut r = TaskResult::failed("flip", "x".into());
        r.predictions = vec![vec![wrong.clone(), wrong.clone(), right]];
        assert_eq!(check(&ts[0], &r, 2), Some((0, false)));
        assert_eq!(check(&ts[0], &r, 3), Some((1, true)));
    }
}
