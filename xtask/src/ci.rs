//! `cargo xtask test` (and `cargo xtask ci`): every check CI runs, cheapest first, stopping at
//! the first failure.
//!
//! The cargo checks are the table [`CHECKS`]. MPI test programs are the table [`MPI_TESTS`]:
//! an entry there is built with cargo and run under
//! `mpirun --allow-run-as-root --oversubscribe -np N` for each N of [`MPI_RANKS`] when
//! `mpirun` is on `PATH` (`cargo xtask setup --mpi` installs it), and skipped with a note when
//! it is not.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// One cargo invocation of the test pipeline.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Short name printed with the step.
    pub name: &'static str,
    /// Arguments after `cargo`.
    pub args: &'static [&'static str],
    /// Extra environment variables for the command.
    pub env: &'static [(&'static str, &'static str)],
}

/// The cargo checks, in order (cheapest first).
pub const CHECKS: &[Check] = &[
    Check {
        name: "fmt",
        args: &["fmt", "--all", "--check"],
        env: &[],
    },
    Check {
        name: "clippy",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        env: &[],
    },
    Check {
        name: "test",
        args: TEST_ARGS,
        env: &[],
    },
    Check {
        name: "doc",
        args: &["doc", "--workspace", "--no-deps"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
];

/// The arguments of the test step; [`run_test_step`] adds a second pass for data-backed tests.
pub const TEST_ARGS: &[&str] = &["test", "--workspace"];

/// The prefix of the ignore reason of a test that needs reference data:
/// `#[ignore = "needs ../shared/<dir> ..."]`. The path after it is relative to the workspace root.
pub const NEEDS_DATA: &str = "needs ";

/// A test that `cargo test` reported as ignored, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredTest {
    /// The test's full name as libtest prints it (`module::name` for unit tests).
    pub name: String,
    /// The reason in its `#[ignore = "..."]`, empty when it gave none.
    pub reason: String,
}

impl IgnoredTest {
    /// The path the test needs (the first word after [`NEEDS_DATA`]), if its reason names one.
    pub fn needed_path(&self) -> Option<&str> {
        self.reason
            .strip_prefix(NEEDS_DATA)
            .and_then(|rest| rest.split_whitespace().next())
            .map(|p| p.trim_end_matches([',', ';', ')']))
    }
}

/// The ignored tests in libtest's output: lines `test NAME ... ignored[, REASON]`.
pub fn ignored_tests(output: &str) -> Vec<IgnoredTest> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("test ")?;
            let (name, verdict) = rest.split_once(" ... ")?;
            let reason = verdict.strip_prefix("ignored")?;
            Some(IgnoredTest {
                name: name.trim().to_string(),
                reason: reason.trim_start_matches(',').trim().to_string(),
            })
        })
        .collect()
}

/// The test step: `cargo test --workspace`, then, for the ignored tests whose reason says
/// they need reference data that is present (`../shared/...` beside the checkout in CI), a
/// second pass that runs exactly those; finally, every test that was not run and why.
fn run_test_step(root: &Path, ort: &Path) -> Result<()> {
    let mut cmd = crate::cargo_command(root, ort);
    cmd.args(TEST_ARGS).stdin(Stdio::null());
    let output = run_teeing(&mut cmd, "step `test`")?;
    let ignored = ignored_tests(&output);
    let (runnable, not_run): (Vec<&IgnoredTest>, Vec<&IgnoredTest>) = ignored
        .iter()
        .partition(|t| t.needed_path().is_some_and(|p| root.join(p).exists()));
    if !runnable.is_empty() {
        println!(
            "==> test: {} data-backed test(s) whose data is present: second pass",
            runnable.len()
        );
        let mut cmd = crate::cargo_command(root, ort);
        // `--tests`: the data-backed tests are unit and integration tests; doc tests are not
        // rebuilt for this pass.
        cmd.args(TEST_ARGS)
            .args(["--tests", "--", "--ignored", "--exact"])
            .args(runnable.iter().map(|t| t.name.as_str()))
            .stdin(Stdio::null());
        crate::run_streaming(&mut cmd, "step `test` (data-backed tests)")?;
    }
    print!("{}", not_run_summary(&not_run, runnable.len()));
    Ok(())
}

/// What the test step could not run, grouped by reason, for the end of its output.
pub fn not_run_summary(not_run: &[&IgnoredTest], data_backed_run: usize) -> String {
    let mut text = String::new();
    if data_backed_run > 0 {
        text.push_str(&format!(
            "    {data_backed_run} data-backed test(s) ran with their reference data\n"
        ));
    }
    if not_run.is_empty() {
        text.push_str("    every test ran; none was skipped\n");
        return text;
    }
    let mut reasons: Vec<(&str, usize)> = Vec::new();
    for t in not_run {
        let reason = if t.reason.is_empty() {
            "ignored without a reason"
        } else {
            t.reason.as_str()
        };
        match reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => reasons.push((reason, 1)),
        }
    }
    text.push_str(&format!(
        "    NOT RUN: {} test(s) did not run on this machine:\n",
        not_run.len()
    ));
    for (reason, n) in reasons {
        text.push_str(&format!("      {n} x {reason}\n"));
    }
    text
}

/// Runs `cmd` with its standard output copied to ours line by line and returned; fails with
/// a message naming `what` when it does not succeed.
fn run_teeing(cmd: &mut std::process::Command, what: &str) -> Result<String> {
    use std::io::{BufRead, BufReader, Write};
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {what}: {cmd:?}"))?;
    let mut captured = String::new();
    if let Some(out) = child.stdout.take() {
        let stdout = std::io::stdout();
        for line in BufReader::new(out).lines() {
            let line = line.with_context(|| format!("reading the output of {what}"))?;
            let mut lock = stdout.lock();
            let _ = writeln!(lock, "{line}");
            captured.push_str(&line);
            captured.push('\n');
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("waiting for {what}"))?;
    if status.success() {
        Ok(captured)
    } else {
        bail!("{what} failed ({status})")
    }
}

/// An integration test target that must run under `mpirun` (one process per rank). Such a
/// target is `harness = false` with its own `main`, since MPI is initialised once per
/// process; every rank runs the same executable and rank 0 reports.
#[derive(Debug, Clone, Copy)]
pub struct MpiTest {
    /// The cargo package that holds the test.
    pub package: &'static str,
    /// The integration test target (`tests/<test>.rs`).
    pub test: &'static str,
    /// Cargo features the test needs (usually `mpi`).
    pub features: &'static [&'static str],
    /// Extra `mpirun` arguments, before the executable.
    pub mpirun_args: &'static [&'static str],
    /// What a passing run looks like.
    pub expect: MpiExpect,
}

/// How the outcome of an MPI test run is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MpiExpect {
    /// `mpirun` exits with status 0.
    Success,
    /// One rank dies on purpose: with more than one rank, `mpirun` may fail, but every other
    /// rank must print a line containing the marker (and it must end, which the time-out
    /// enforces); with one rank, it must succeed.
    SurvivorsPrint(&'static str),
}

/// MPI test programs, run by `cargo xtask test` under `mpirun` with each of [`MPI_RANKS`]. A
/// crate whose `mpi` feature ships such a test adds its line here.
pub const MPI_TESTS: &[MpiTest] = &[
    MpiTest {
        package: "par-core",
        test: "mpi_conformance",
        features: &["mpi"],
        mpirun_args: &[],
        expect: MpiExpect::Success,
    },
    MpiTest {
        package: "par-core",
        test: "mpi_rank_loss",
        features: &["mpi"],
        // Open MPI's launcher would otherwise end every rank at once when one dies, before
        // the survivors can report; Slurm's srun lets them live by default.
        mpirun_args: &["--mca", "orte_abort_on_non_zero_status", "0"],
        expect: MpiExpect::SurvivorsPrint("rank-loss ok"),
    },
    MpiTest {
        package: "par-core",
        test: "mpi_peers",
        features: &["mpi"],
        mpirun_args: &[],
        expect: MpiExpect::Success,
    },
    MpiTest {
        package: "neuroevo",
        test: "mpi_islands",
        features: &["mpi"],
        mpirun_args: &[],
        expect: MpiExpect::Success,
    },
    MpiTest {
        package: "neuroevo",
        test: "mpi_islands_rank_loss",
        features: &["mpi"],
        mpirun_args: &["--mca", "orte_abort_on_non_zero_status", "0"],
        expect: MpiExpect::SurvivorsPrint("islands rank-loss ok"),
    },
    MpiTest {
        package: "mfg",
        test: "mpi",
        features: &["mpi"],
        mpirun_args: &[],
        expect: MpiExpect::Success,
    },
    MpiTest {
        package: "mfg",
        test: "mpi_sweep_kill",
        features: &["mpi"],
        mpirun_args: &["--mca", "orte_abort_on_non_zero_status", "0"],
        expect: MpiExpect::SurvivorsPrint("sweep-kill ok"),
    },
    MpiTest {
        package: "mpc",
        test: "mpi",
        features: &["mpi"],
        mpirun_args: &[],
        expect: MpiExpect::Success,
    },
    MpiTest {
        package: "mcts",
        test: "mpi",
        features: &["mpi"],
        mpirun_args: &[],
        expect: MpiExpect::Success,
    },
];

/// The rank counts every MPI test runs with.
pub const MPI_RANKS: &[u32] = &[1, 2, 4];

/// The longest one `mpirun` of a test may take before it counts as hung and is killed.
pub const MPI_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs the pipeline: setup, the [`CHECKS`], then the [`MPI_TESTS`].
pub fn run(root: &Path) -> Result<()> {
    let total = 1 + CHECKS.len() + usize::from(!MPI_TESTS.is_empty());
    let all = Instant::now();

    step(1, total, "setup", "cargo xtask setup");
    let start = Instant::now();
    let ort = crate::setup::ensure_onnxruntime(root).context("step `setup` failed")?;
    println!("    ORT_DYLIB_PATH={}", ort.display());
    done(start);

    for (i, check) in CHECKS.iter().enumerate() {
        let mut cmd = crate::cargo_command(root, &ort);
        cmd.args(check.args).stdin(Stdio::null());
        for (key, value) in check.env {
            let value = match std::env::var(key) {
                Ok(old) if !old.trim().is_empty() => format!("{old} {value}"),
                _ => (*value).to_string(),
            };
            cmd.env(key, value);
        }
        let env: String = check
            .env
            .iter()
            .map(|(k, v)| format!("{k}='{v}' "))
            .collect();
        step(
            i + 2,
            total,
            check.name,
            &format!("{env}cargo {}", check.args.join(" ")),
        );
        let start = Instant::now();
        let result = if check.args == TEST_ARGS {
            run_test_step(root, &ort)
        } else {
            crate::run_streaming(&mut cmd, &format!("step `{}`", check.name))
        };
        if let Err(e) = result {
            bail!(
                "{e:#} after {}; fix it and run `cargo xtask test` again",
                crate::seconds(start.elapsed())
            );
        }
        done(start);
    }

    if !MPI_TESTS.is_empty() {
        step(
            total,
            total,
            "mpi",
            &format!(
                "mpirun -np {} on {} test(s)",
                MPI_RANKS
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                MPI_TESTS.len()
            ),
        );
        let start = Instant::now();
        match crate::find_in_path("mpirun") {
            None => println!(
                "    skipped: `mpirun` is not on PATH (`cargo xtask setup --mpi` installs MPI)"
            ),
            Some(mpirun) => {
                for test in MPI_TESTS {
                    run_mpi_test(root, &ort, &mpirun, test)?;
                }
            }
        }
        done(start);
    }
    println!(
        "==> all {total} steps passed in {}",
        crate::seconds(all.elapsed())
    );
    Ok(())
}

fn step(i: usize, total: usize, name: &str, what: &str) {
    println!("==> [{i}/{total}] {name}: {what}");
}

fn done(start: Instant) {
    println!("    ok in {}", crate::seconds(start.elapsed()));
}

/// Builds one MPI test target and runs its executable under `mpirun` with each rank count.
fn run_mpi_test(root: &Path, ort: &Path, mpirun: &Path, test: &MpiTest) -> Result<()> {
    let mut build = crate::cargo_command(root, ort);
    build.args(["test", "-p", test.package, "--test", test.test, "--no-run"]);
    build.args(["--message-format=json-render-diagnostics"]);
    if !test.features.is_empty() {
        build.args(["--features", &test.features.join(",")]);
    }
    let output = build
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start {build:?}"))?;
    if !output.status.success() {
        bail!(
            "building MPI test `{}` of `{}` failed ({})",
            test.test,
            test.package,
            output.status
        );
    }
    let executables = test_executables(&String::from_utf8_lossy(&output.stdout), test.test);
    let Some(exe) = executables.last() else {
        bail!(
            "cargo built MPI test `{}` of `{}` but named no executable",
            test.test,
            test.package
        );
    };
    for &ranks in MPI_RANKS {
        let mut cmd = std::process::Command::new(mpirun);
        cmd.args(mpirun_args(test, ranks))
            .arg(exe)
            .current_dir(root)
            .env("ORT_DYLIB_PATH", ort)
            .stdin(Stdio::null());
        println!("    {cmd:?}");
        let what = format!(
            "MPI test `{}` of `{}` on {ranks} rank(s)",
            test.test, test.package
        );
        let start = Instant::now();
        let (status, output) = run_with_limit(&mut cmd, MPI_TIME_LIMIT, &what)?;
        judge(test.expect, ranks, status.as_ref(), &output)
            .with_context(|| format!("{what} (after {})", crate::seconds(start.elapsed())))?;
    }
    Ok(())
}

/// The `mpirun` arguments of `test` with `ranks` ranks (before the executable).
pub fn mpirun_args(test: &MpiTest, ranks: u32) -> Vec<String> {
    let mut args: Vec<String> = ["--allow-run-as-root", "--oversubscribe", "-np"]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
    args.push(ranks.to_string());
    args.extend(test.mpirun_args.iter().map(|s| (*s).to_string()));
    args
}

/// Whether a finished MPI test run passed: `status` is `None` when it was killed at the limit.
pub fn judge(
    expect: MpiExpect,
    ranks: u32,
    status: Option<&std::process::ExitStatus>,
    output: &str,
) -> Result<()> {
    let Some(status) = status else {
        bail!("it did not end within {MPI_TIME_LIMIT:?} and was killed: a hang");
    };
    match expect {
        MpiExpect::Success if status.success() => Ok(()),
        MpiExpect::Success => bail!("mpirun failed ({status})"),
        MpiExpect::SurvivorsPrint(_) if ranks == 1 => {
            if status.success() {
                Ok(())
            } else {
                bail!("mpirun failed ({status}) with one rank")
            }
        }
        MpiExpect::SurvivorsPrint(marker) => {
            let seen = output.lines().filter(|l| l.contains(marker)).count();
            let want = ranks as usize - 1;
            if seen == want {
                Ok(())
            } else {
                bail!("{seen} of the {want} surviving rank(s) printed `{marker}`")
            }
        }
    }
}

/// Runs `cmd`, copying its standard output and error to ours, killing it after `limit`;
/// returns its status (`None` when killed) and its standard output and error together.
fn run_with_limit(
    cmd: &mut std::process::Command,
    limit: std::time::Duration,
    what: &str,
) -> Result<(Option<std::process::ExitStatus>, String)> {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {what}: {cmd:?}"))?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let mut readers = Vec::new();
    let out = child
        .stdout
        .take()
        .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>);
    let err = child
        .stderr
        .take()
        .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>);
    for stream in [out, err].into_iter().flatten() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                println!("{line}");
                let _ = tx.send(line);
            }
        }));
    }
    drop(tx);
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .with_context(|| format!("waiting for {what}"))?
        {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    for r in readers {
        let _ = r.join();
    }
    let output: Vec<String> = rx.into_iter().collect();
    Ok((status, output.join("\n")))
}

/// The executables of test target `test` in cargo's `--message-format=json` output.
fn test_executables(messages: &str, test: &str) -> Vec<PathBuf> {
    target_executables(messages, test, "test")
}

/// The executables of target `name` of kind `kind` (`test`, `bench`) in cargo's
/// `--message-format=json` output.
pub(crate) fn target_executables(messages: &str, name: &str, kind: &str) -> Vec<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == kind))
        })
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_run_cheapest_first_and_deny_warnings() {
        let names: Vec<&str> = CHECKS.iter().map(|c| c.name).collect();
        assert_eq!(names, ["fmt", "clippy", "test", "doc"]);
        assert!(CHECKS[1].args.ends_with(&["--", "-D", "warnings"]));
        assert_eq!(CHECKS[3].env, [("RUSTDOCFLAGS", "-D warnings")]);
    }

    #[test]
    fn ignored_tests_and_their_reasons_are_read_from_libtest_output() {
        let out = "running 3 tests
test golden::costs_match ... ignored, needs ../shared/tinyphysics (run by cargo xtask test when present)
test voxel::avx512_lanes ... ignored, this CPU lacks AVX-512
test plain ... ok
test old ... ignored
test result: ok. 1 passed; 0 failed; 3 ignored";
        let t = ignored_tests(out);
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].name, "golden::costs_match");
        assert_eq!(t[0].needed_path(), Some("../shared/tinyphysics"));
        assert_eq!(t[1].needed_path(), None);
        assert_eq!(t[2].reason, "");
        let summary = not_run_summary(&[&t[1], &t[2], &t[1]], 4);
        assert!(summary.contains("4 data-backed test(s) ran"), "{summary}");
        assert!(summary.contains("NOT RUN: 3 test(s)"), "{summary}");
        assert!(summary.contains("2 x this CPU lacks AVX-512"), "{summary}");
        assert!(
            summary.contains("1 x ignored without a reason"),
            "{summary}"
        );
        assert!(not_run_summary(&[], 0).contains("none was skipped"));
    }

    #[test]
    fn mpi_tests_run_at_one_two_and_four_ranks_and_are_judged_by_their_expectation() {
        assert_eq!(MPI_RANKS, [1, 2, 4]);
        let loss = MPI_TESTS
            .iter()
            .find(|t| t.test == "mpi_rank_loss")
            .expect("registered");
        let args = mpirun_args(loss, 4);
        assert_eq!(
            args[..4],
            ["--allow-run-as-root", "--oversubscribe", "-np", "4"]
        );
        assert!(args.ends_with(&["orte_abort_on_non_zero_status".into(), "0".into()]));
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            let ok = std::process::ExitStatus::from_raw(0);
            let killed = std::process::ExitStatus::from_raw(137 << 8);
            let printed = "rank 0: rank-loss ok\nnoise\nrank 2: rank-loss ok\nrank 1: rank-loss ok";
            assert!(judge(loss.expect, 4, Some(&killed), printed).is_ok());
            let err = judge(loss.expect, 4, Some(&killed), "rank 0: rank-loss ok").unwrap_err();
            assert!(err.to_string().contains("1 of the 3"), "{err}");
            assert!(judge(loss.expect, 1, Some(&ok), "skipped").is_ok());
            assert!(judge(loss.expect, 1, Some(&killed), "").is_err());
            assert!(judge(MpiExpect::Success, 2, Some(&killed), "").is_err());
            assert!(judge(MpiExpect::Success, 2, Some(&ok), "").is_ok());
            let hang = judge(MpiExpect::Success, 2, None, "").unwrap_err();
            assert!(hang.to_string().contains("hang"), "{hang}");
        }
    }

    #[test]
    fn test_executables_come_from_cargo_json() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"par-core","kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","target":{"name":"mpi","kind":["test"]},"executable":"/t/debug/deps/mpi-abc"}
{"reason":"compiler-artifact","target":{"name":"other","kind":["test"]},"executable":"/t/debug/deps/other-abc"}
not json
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            test_executables(messages, "mpi"),
            [PathBuf::from("/t/debug/deps/mpi-abc")]
        );
        assert!(test_executables(messages, "par-core").is_empty());
    }
}
