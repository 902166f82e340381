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
//!
//! With a **journal** ([`solve_all_resumable`]) each task's result is appended to a JSON-lines
//! file (par-core's [`Journal`]) the moment its search ends, and a rerun reads back every
//! result computed with the same task content, settings and library: a run killed part-way
//! resumes where it stopped and ends with the results an uninterrupted run gives. The tasks
//! run as a [`SolveJob`], in any par-core mode, worker processes included.

use std::path::{Path, PathBuf};
use std::time::Instant;

use par_core::journal::Journal;
use par_core::{Executor, Job, RemoteJob, RunReport, TaskContext};
use rustc_hash::FxHashMap;
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
    /// Whether the best candidate's fit is trusted to generalise: false when only a learned
    /// table that failed cross-validation makes it fit (see [`crate::search::Node::trusted`]).
    #[serde(default)]
    pub trusted: bool,
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
    /// The failure, when the task failed (`null` otherwise).
    #[serde(default)]
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
            trusted: false,
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
        trusted: best.is_some_and(|n| usize::from(n.exact) == n_train && n.trusted),
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
    /// The run report of each pass that had tasks to run (a pass whose every task was read
    /// back from the journal runs none).
    pub reports: Vec<RunReport>,
    /// Task searches read back from the journal instead of run (a shared-budget task can
    /// count twice, once per pass).
    pub resumed: usize,
    /// Journal lines that did not parse (torn by a killed run), skipped.
    pub journal_skipped: usize,
    /// Journal appends that failed (each names the journal and the task): the results are
    /// complete, but a rerun would compute those tasks again.
    pub journal_errors: Vec<String>,
}

/// What a journal record is reused for: the same task content, settings, library and code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct JournalKey {
    /// The task id.
    task: String,
    /// [`Task::digest`] in hexadecimal.
    digest: String,
    /// The search configuration as canonical JSON text (the pass's budget included).
    config: String,
    /// [`Library::digest`] in hexadecimal.
    library: String,
    /// The identity of the code that computed the result (see [`solve_all_resumable`]).
    code: String,
}

/// One finished task search as the journal keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JournalRecord {
    #[serde(flatten)]
    key: JournalKey,
    /// The result.
    result: TaskResult,
}

/// The journal of a run and what its records are keyed with beside each task's own part.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JournalTarget {
    path: PathBuf,
    library: String,
    code: String,
}

impl JournalTarget {
    fn key(&self, task: &Task, config: &SearchConfig) -> JournalKey {
        JournalKey {
            task: task.id.clone(),
            digest: format!("{:016x}", task.digest()),
            config: serde_json::to_string(config).unwrap_or_default(),
            library: self.library.clone(),
            code: self.code.clone(),
        }
    }
}

/// Where finished task searches are appended, and those read back.
struct Resume {
    target: JournalTarget,
    done: FxHashMap<JournalKey, TaskResult>,
}

impl Resume {
    /// Opens the journal (ending a torn line) and reads back the usable records: those of a
    /// search that ran to a deterministic end (complete, budget or memory: the same settings
    /// would give the same result). A search stopped by the wall-clock guard or one that
    /// failed is run again.
    fn open(path: &Path, library: &Library, code: &str) -> Result<(Self, usize), ArcError> {
        let (_, read) = Journal::open::<JournalRecord>(path).map_err(|error| ArcError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        let skipped = read.skipped;
        let mut done = FxHashMap::default();
        for r in read.records {
            if matches!(r.result.status.as_str(), "complete" | "budget" | "memory")
                && r.result.error.is_none()
            {
                done.insert(r.key, r.result);
            }
        }
        let target = JournalTarget {
            path: path.to_path_buf(),
            library: format!("{:016x}", library.digest()),
            code: code.to_string(),
        };
        Ok((Self { target, done }, skipped))
    }
}

/// The searches of one pass, as a par-core job: task `i` searches `tasks[i]` with
/// `configs[i]` and, when the run keeps a journal, appends its result there as soon as it is
/// known. Serialisable, so that it also runs in worker processes (register it with
/// [`par_core::process::serve_if_worker`] in the binary's `main`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SolveJob {
    tasks: Vec<Task>,
    configs: Vec<SearchConfig>,
    library: Library,
    journal: Option<JournalTarget>,
}

/// A task's result and, when its journal record could not be appended, why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Solved {
    /// The result.
    pub result: TaskResult,
    /// The journal error, when the append failed.
    pub journal_error: Option<String>,
}

impl Job for SolveJob {
    type Output = Solved;

    fn run(&self, ctx: &mut TaskContext) -> Solved {
        let (task, config) = (&self.tasks[ctx.index], &self.configs[ctx.index]);
        let result = solve_task(task, config, &self.library);
        let journal_error = self.journal.as_ref().and_then(|target| {
            let record = JournalRecord {
                key: target.key(task, config),
                result: result.clone(),
            };
            Journal::appender(&target.path)
                .append(&record)
                .err()
                .map(|e| format!("task {}: {e}", result.task))
        });
        Solved {
            result,
            journal_error,
        }
    }
}

impl RemoteJob for SolveJob {
    const NAME: &'static str = "arc-batt.solve";
}

/// What one pass gives back: results in task order, the report when tasks ran, the number
/// read back, and journal errors.
struct Pass {
    results: Vec<TaskResult>,
    report: Option<RunReport>,
    resumed: usize,
    journal_errors: Vec<String>,
}

fn run_pass(
    exec: &Executor,
    tasks: &[&Task],
    cfgs: &[SearchConfig],
    library: &Library,
    resume: Option<&Resume>,
) -> Result<Pass, ArcError> {
    let mut slots: Vec<Option<TaskResult>> = vec![None; tasks.len()];
    if let Some(r) = resume {
        for (i, (t, c)) in tasks.iter().zip(cfgs).enumerate() {
            slots[i] = r.done.get(&r.target.key(t, c)).cloned();
        }
    }
    let resumed = slots.iter().filter(|s| s.is_some()).count();
    let todo: Vec<usize> = (0..tasks.len()).filter(|&i| slots[i].is_none()).collect();
    let mut report = None;
    let mut journal_errors = Vec::new();
    if !todo.is_empty() {
        let job = SolveJob {
            tasks: todo.iter().map(|&i| tasks[i].clone()).collect(),
            configs: todo.iter().map(|&i| cfgs[i].clone()).collect(),
            library: library.clone(),
            journal: resume.map(|r| r.target.clone()),
        };
        let out = exec.run(&job, todo.len())?;
        for (&i, r) in todo.iter().zip(out.results) {
            slots[i] = Some(match r {
                Ok(solved) => {
                    journal_errors.extend(solved.journal_error);
                    solved.result
                }
                Err(f) => TaskResult::failed(&tasks[i].id, f.to_string()),
            });
        }
        report = Some(out.report);
    }
    Ok(Pass {
        results: slots.into_iter().flatten().collect(),
        report,
        resumed,
        journal_errors,
    })
}

/// Solves `tasks` on `exec` (see the [module docs](self)).
pub fn solve_all(
    exec: &Executor,
    tasks: &[Task],
    cfg: &RunConfig,
    library: &Library,
) -> Result<RunResults, ArcError> {
    solve_with(exec, tasks, cfg, library, None)
}

/// [`solve_all`], keeping each task's result in the journal at `journal` (JSON lines, created
/// if needed) as soon as the task is done, and reading back the results the journal already
/// holds for the same task content, search settings and library instead of searching again:
/// a run killed part-way loses no finished task, and because the budget is counted in work
/// units the resumed results equal an uninterrupted run's. Searches stopped by the wall-clock
/// guard and failed ones are run again.
///
/// `code` names the code that searches (a binary passes a digest of its executable, say):
/// records another code computed are not reused, so a rebuilt program searches again.
pub fn solve_all_resumable(
    exec: &Executor,
    tasks: &[Task],
    cfg: &RunConfig,
    library: &Library,
    journal: &Path,
    code: &str,
) -> Result<RunResults, ArcError> {
    solve_with(exec, tasks, cfg, library, Some((journal, code)))
}

fn solve_with(
    exec: &Executor,
    tasks: &[Task],
    cfg: &RunConfig,
    library: &Library,
    journal: Option<(&Path, &str)>,
) -> Result<RunResults, ArcError> {
    cfg.search.validate()?;
    if tasks.is_empty() {
        return Err(ArcError::Config {
            field: "tasks",
            message: "no tasks to solve".into(),
        });
    }
    let (resume, journal_skipped) = match journal {
        Some((path, code)) => {
            let (r, skipped) = Resume::open(path, library, code)?;
            (Some(r), skipped)
        }
        None => (None, 0),
    };
    let refs: Vec<&Task> = tasks.iter().collect();
    let mut reports = Vec::new();
    if !cfg.shared_budget {
        let cfgs = vec![cfg.search.clone(); tasks.len()];
        let pass = run_pass(exec, &refs, &cfgs, library, resume.as_ref())?;
        reports.extend(pass.report);
        return Ok(RunResults {
            results: pass.results,
            reports,
            resumed: pass.resumed,
            journal_skipped,
            journal_errors: pass.journal_errors,
        });
    }
    let half = SearchConfig {
        budget_s: cfg.search.budget_s / 2.0,
        ..cfg.search.clone()
    };
    let cfgs = vec![half; tasks.len()];
    let first = run_pass(exec, &refs, &cfgs, library, resume.as_ref())?;
    let mut results = first.results;
    let mut resumed = first.resumed;
    let mut journal_errors = first.journal_errors;
    reports.extend(first.report);
    let total = cfg.search.budget_s * WORK_PER_SECOND * tasks.len() as f64;
    let spent: f64 = results.iter().map(|r| r.work as f64).sum();
    let again: Vec<usize> = (0..tasks.len())
        .filter(|&i| results[i].status == "budget" && !results[i].fits_demos)
        .collect();
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
        let second = run_pass(exec, &sub, &cfgs, library, resume.as_ref())?;
        for (k, r) in again.into_iter().zip(second.results) {
            let first = &results[k];
            results[k] = TaskResult {
                seconds: r.seconds + first.seconds,
                cpu_s: r.cpu_s + first.cpu_s,
                work: r.work + first.work,
                ..r
            };
        }
        resumed += second.resumed;
        journal_errors.extend(second.journal_errors);
        reports.extend(second.report);
    }
    Ok(RunResults {
        results,
        reports,
        resumed,
        journal_skipped,
        journal_errors,
    })
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

    /// What must not differ between a resumed and an uninterrupted run: everything but the
    /// timings.
    fn timeless(r: &[TaskResult]) -> Vec<TaskResult> {
        r.iter()
            .map(|x| TaskResult {
                seconds: 0.0,
                cpu_s: 0.0,
                ..x.clone()
            })
            .collect()
    }

    #[test]
    fn a_journal_keeps_finished_tasks_and_a_rerun_reads_them_back() {
        let ts = tasks();
        let dir = std::env::temp_dir().join(format!("arc-batt-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("run.jsonl");
        for shared_budget in [false, true] {
            let _ = std::fs::remove_file(&path);
            let cfg = RunConfig {
                search: SearchConfig {
                    budget_s: 0.2,
                    ..SearchConfig::default()
                },
                shared_budget,
            };
            let plain = solve_all(&exec(2), &ts, &cfg, &Library::new()).unwrap();
            let first =
                solve_all_resumable(&exec(2), &ts, &cfg, &Library::new(), &path, "test").unwrap();
            assert_eq!(first.resumed, 0);
            assert_eq!(timeless(&first.results), timeless(&plain.results));
            // A kill in the middle of the second record: the first is kept, the torn one is
            // skipped and its task searched again.
            let text = std::fs::read_to_string(&path).unwrap();
            let first_line = text.lines().next().unwrap();
            std::fs::write(&path, format!("{first_line}\n{{\"task\": \"up\", \"dig")).unwrap();
            let again =
                solve_all_resumable(&exec(1), &ts, &cfg, &Library::new(), &path, "test").unwrap();
            assert_eq!(again.resumed, 1, "shared budget {shared_budget}");
            assert_eq!(again.journal_skipped, 1);
            assert_eq!(timeless(&again.results), timeless(&plain.results));
            let done =
                solve_all_resumable(&exec(2), &ts, &cfg, &Library::new(), &path, "test").unwrap();
            assert_eq!(done.resumed, 2);
            assert!(done.reports.is_empty(), "nothing left to run");
            assert_eq!(timeless(&done.results), timeless(&plain.results));
            // Other settings or another library: searched again.
            let longer = RunConfig {
                search: SearchConfig {
                    budget_s: 0.25,
                    ..cfg.search.clone()
                },
                shared_budget,
            };
            let other = solve_all_resumable(&exec(2), &ts, &longer, &Library::new(), &path, "test")
                .unwrap();
            assert_eq!(other.resumed, 0);
            let mut lib = Library::new();
            lib.add("x", 1, "x1 = rot90(I)".parse().unwrap());
            let rebuilt =
                solve_all_resumable(&exec(2), &ts, &cfg, &Library::new(), &path, "other code")
                    .unwrap();
            assert_eq!(rebuilt.resumed, 0, "another code searches again");
            let with_lib = solve_all_resumable(&exec(2), &ts, &cfg, &lib, &path, "test").unwrap();
            assert_eq!(with_lib.resumed, 0);
        }
        // A record of a search the wall-clock guard stopped is not a result: searched again.
        let _ = std::fs::remove_file(&path);
        let cfg = RunConfig {
            search: SearchConfig {
                budget_s: 0.2,
                ..SearchConfig::default()
            },
            ..RunConfig::default()
        };
        solve_all_resumable(&exec(1), &ts, &cfg, &Library::new(), &path, "test").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replace("\"status\":\"complete\"", "\"status\":\"wall_clock\""),
        )
        .unwrap();
        let again =
            solve_all_resumable(&exec(1), &ts, &cfg, &Library::new(), &path, "test").unwrap();
        assert_eq!(again.resumed, 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn jobs_and_results_travel_to_worker_processes() {
        // Worker processes receive the job and send results as postcard, a format that is
        // not self-describing: every type must read back what it wrote.
        let ts = tasks();
        let mut library = Library::new();
        library.add("x", 1, "x1 = rot90(I)".parse().unwrap());
        let job = SolveJob {
            tasks: ts.clone(),
            configs: vec![SearchConfig::default(); 2],
            library: library.clone(),
            journal: Some(JournalTarget {
                path: "j.jsonl".into(),
                library: format!("{:016x}", library.digest()),
                code: "test".into(),
            }),
        };
        let back: SolveJob = postcard::from_bytes(&postcard::to_stdvec(&job).unwrap()).unwrap();
        assert_eq!(back.tasks, ts);
        assert_eq!(back.library, library);
        let result = solve_task(&ts[0], &SearchConfig::default(), &library);
        let solved = Solved {
            result: result.clone(),
            journal_error: None,
        };
        let back: Solved = postcard::from_bytes(&postcard::to_stdvec(&solved).unwrap()).unwrap();
        assert_eq!(back.result, result);
    }

    #[test]
    fn an_empty_task_list_is_an_error() {
        let e = solve_all(&exec(1), &[], &RunConfig::default(), &Library::new()).unwrap_err();
        assert!(e.to_string().contains("no tasks"), "{e}");
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
