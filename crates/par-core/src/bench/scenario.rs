//! The skeleton every scenario binary shares: arguments, the declared metrics, checkpoints, and
//! a report that survives a failure.

use std::error::Error;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::time::Instant;

use super::{BenchArgs, Declared, ScenarioReport};

/// The error a scenario body returns: anything that explains itself (`anyhow::Error`, an
/// `io::Error`, a crate's error enum, a `String`).
pub type ScenarioError = Box<dyn Error + Send + Sync>;

/// What a scenario body works with: its arguments and its report.
#[derive(Debug)]
pub struct ScenarioRun {
    /// The command line as `xtask bench` passed it.
    pub args: BenchArgs,
    /// The report being filled; every declared metric will be listed in the file.
    pub report: ScenarioReport,
    started: Instant,
}

impl ScenarioRun {
    /// Whether this is the quick run (the default) rather than `--full`.
    pub fn quick(&self) -> bool {
        !self.args.full
    }

    /// Writes the report as it stands, so that a later failure loses nothing measured so far;
    /// declared metrics not yet measured are listed as "not reached". A write error is printed,
    /// not fatal (the final write will report it).
    pub fn checkpoint(&self) {
        self.write(NOT_REACHED);
    }

    fn write(&self, reason: &str) -> bool {
        let mut report = self.report.finalized(reason);
        report.provenance.wall_s = Some(self.started.elapsed().as_secs_f64());
        match report.write(&self.args.out) {
            Ok(_) => true,
            Err(e) => {
                eprintln!(
                    "{}: could not write the report to {}: {e}",
                    self.report.scenario,
                    self.args.out.display()
                );
                false
            }
        }
    }
}

const NOT_REACHED: &str =
    "not reached: the scenario was still running, or was killed before measuring it";

/// Runs a scenario: parses the bench arguments, writes a first report in which every declared
/// metric is "not reached", runs `body`, and writes the final report. When `body` fails or
/// panics, what it measured is kept, every declared metric it did not measure says why, the
/// failure is added to the notes, and the exit code is non-zero.
///
/// ```no_run
/// use par_core::bench::{Better, Declared, Metric, repeat, run_scenario};
///
/// const TARGETS: &[Declared] =
///     &[Declared::new("sort_ms", "ms", Better::Lower, "sorting 1e6 numbers").target(100.0)];
///
/// fn main() -> std::process::ExitCode {
///     run_scenario("demo", TARGETS, |run| {
///         let n = if run.quick() { 100_000 } else { 1_000_000 };
///         let stats = repeat(5, || {
///             let mut v: Vec<u64> = (0..n).rev().collect();
///             v.sort_unstable();
///         });
///         let mut m = Metric::from_stats("sort_ms", stats.scaled(1e3), "ms", Better::Lower);
///         if run.quick() {
///             m = m.with_workload(format!("{n} numbers"));
///         }
///         run.report.push(m);
///         Ok(())
///     })
/// }
/// ```
pub fn run_scenario(
    name: &str,
    declared: &[Declared],
    body: impl FnOnce(&mut ScenarioRun) -> Result<(), ScenarioError>,
) -> ExitCode {
    match BenchArgs::from_env() {
        Ok(args) => run_with(name, declared, args, body),
        Err(e) => {
            eprintln!("{name} scenarios: {e}");
            ExitCode::from(2)
        }
    }
}

/// [`run_scenario`] with arguments already parsed.
pub(crate) fn run_with(
    name: &str,
    declared: &[Declared],
    args: BenchArgs,
    body: impl FnOnce(&mut ScenarioRun) -> Result<(), ScenarioError>,
) -> ExitCode {
    let mut report = ScenarioReport::new(name, !args.full).with_declared(declared);
    report.provenance = super::Provenance::now();
    let mut run = ScenarioRun {
        args,
        report,
        started: Instant::now(),
    };
    if !run.write(NOT_REACHED) {
        return ExitCode::FAILURE;
    }
    let load_at_start = super::load_average();
    let outcome = catch_unwind(AssertUnwindSafe(|| body(&mut run)));
    run.report.notes.push(format!(
        "Load average (1, 5, 15 min) at the start: {load_at_start}; at the end: {} (on a \
         machine shared with other work, parallel figures move with it).",
        super::load_average()
    ));
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(error_chain(e.as_ref())),
        Err(payload) => Some(format!("panicked: {}", panic_message(payload.as_ref()))),
    };
    let reason = match &failure {
        None => "the scenario did not measure it".to_string(),
        Some(why) => {
            run.report.notes.push(format!("The scenario failed: {why}"));
            format!("the scenario failed before measuring it: {why}")
        }
    };
    let written = run.write(&reason);
    print_summary(&run.report.finalized(&reason));
    match failure {
        None if written => ExitCode::SUCCESS,
        None => ExitCode::FAILURE,
        Some(why) => {
            eprintln!("{name}: FAILED: {why}");
            ExitCode::FAILURE
        }
    }
}

/// `error: cause: cause ...` of an error and its sources.
fn error_chain(e: &(dyn Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// The metrics on standard error, one line each, as the run ends.
fn print_summary(report: &ScenarioReport) {
    eprintln!("\n{} metrics:", report.scenario);
    for m in &report.metrics {
        let value = m.value.map_or_else(
            || {
                format!(
                    "not measured ({})",
                    m.not_measured.as_deref().unwrap_or("?")
                )
            },
            |v| format!("{v:.6} {}", m.unit),
        );
        let spread = m
            .stats
            .map(|s| format!("  [min {:.4}, max {:.4}, {} reps]", s.min, s.max, s.reps))
            .unwrap_or_default();
        let met = match m.target_met() {
            Some(true) => "  target met",
            Some(false) => "  target NOT met",
            None => "",
        };
        eprintln!("  {:<44} {value}{spread}{met}", m.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("reading the fixture")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    fn args(dir: &std::path::Path) -> BenchArgs {
        BenchArgs {
            full: false,
            workers: vec![1, 2],
            out: dir.to_path_buf(),
            mpi_part: None,
            mpi_assemble: None,
        }
    }

    const TABLE: &[Declared] = &[
        Declared::new("first", "s", super::super::Better::Lower, "measured first").target(1.0),
        Declared::new("second", "s", super::super::Better::Lower, "never reached").target(1.0),
    ];

    #[test]
    fn a_failing_scenario_keeps_what_it_measured_and_says_why_the_rest_is_missing() {
        let dir = std::env::temp_dir().join(format!("par-core-scenario-{}", std::process::id()));
        let code = run_with("demo", TABLE, args(&dir), |run| {
            run.report.push(super::super::Metric::new(
                "first",
                0.5,
                "s",
                super::super::Better::Lower,
            ));
            run.checkpoint();
            let on_disk = ScenarioReport::read(&dir.join("demo.json")).unwrap();
            assert_eq!(on_disk.metrics[0].value, Some(0.5));
            assert_eq!(
                on_disk.metrics[1].not_measured.as_deref(),
                Some(NOT_REACHED)
            );
            panic!("the fixture is corrupt");
        });
        assert_eq!(code, ExitCode::FAILURE);
        let r = ScenarioReport::read(&dir.join("demo.json")).unwrap();
        assert_eq!(r.metrics[0].target_met(), Some(true));
        let why = r.metrics[1].not_measured.as_deref().unwrap();
        assert!(why.contains("the fixture is corrupt"), "{why}");
        assert!(r.notes.iter().any(|n| n.contains("panicked")));
        assert!(r.provenance.wall_s.is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_finished_scenario_lists_unmeasured_declared_metrics() {
        let dir = std::env::temp_dir().join(format!("par-core-scenario-ok-{}", std::process::id()));
        let code = run_with("demo", TABLE, args(&dir), |run| {
            run.report.not_measured("first", "no data here");
            Ok(())
        });
        assert_eq!(code, ExitCode::SUCCESS);
        let r = ScenarioReport::read(&dir.join("demo.json")).unwrap();
        assert_eq!(r.metrics[0].not_measured.as_deref(), Some("no data here"));
        assert_eq!(
            r.metrics[1].not_measured.as_deref(),
            Some("the scenario did not measure it")
        );
        let code = run_with("demo", TABLE, args(&dir), |_| Err("bad input".into()));
        assert_eq!(code, ExitCode::FAILURE);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn error_chains_name_every_cause() {
        let e = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(error_chain(&e), "reading the fixture: disk on fire");
    }

    #[test]
    fn panic_messages_are_recovered() {
        let p = catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "boom 7");
        let p = catch_unwind(|| std::panic::panic_any(3u8)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "a panic without a message");
    }
}
