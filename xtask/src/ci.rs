//! `cargo xtask test` (and `cargo xtask ci`): every check CI runs, cheapest first, stopping at
//! the first failure.
//!
//! The cargo checks are the table [`CHECKS`]. MPI test programs are the table [`MPI_TESTS`]:
//! an entry there is built with cargo and run under
//! `mpirun --allow-run-as-root --oversubscribe -np 4` when `mpirun` is on `PATH`
//! (`cargo xtask setup --mpi` installs it), and skipped with a note when it is not.

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
        args: &["test", "--workspace"],
        env: &[],
    },
    Check {
        name: "doc",
        args: &["doc", "--workspace", "--no-deps"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
];

/// An integration test target that must run under `mpirun` (one process per rank). Such a
/// target is usually `harness = false` with its own `main`, since MPI is initialised once per
/// process; every rank runs the same executable and rank 0 reports.
#[derive(Debug, Clone, Copy)]
pub struct MpiTest {
    /// The cargo package that holds the test.
    pub package: &'static str,
    /// The integration test target (`tests/<test>.rs`).
    pub test: &'static str,
    /// Cargo features the test needs (usually `mpi`).
    pub features: &'static [&'static str],
}

/// MPI test programs, run by `cargo xtask test` under `mpirun` with [`MPI_RANKS`] ranks. A
/// crate whose `mpi` feature ships such a test adds its line here; while the table is empty
/// the pipeline has no MPI step.
pub const MPI_TESTS: &[MpiTest] = &[];

/// The number of MPI ranks the MPI tests run with.
pub const MPI_RANKS: u32 = 4;

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
        if let Err(e) = crate::run_streaming(&mut cmd, &format!("step `{}`", check.name)) {
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
            &format!("mpirun -np {MPI_RANKS} on {} test(s)", MPI_TESTS.len()),
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

/// Builds one MPI test target and runs its executable under `mpirun`.
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
    let mut cmd = std::process::Command::new(mpirun);
    cmd.args([
        "--allow-run-as-root",
        "--oversubscribe",
        "-np",
        &MPI_RANKS.to_string(),
    ])
    .arg(exe)
    .current_dir(root)
    .env("ORT_DYLIB_PATH", ort)
    .stdin(Stdio::null());
    println!("    {cmd:?}");
    crate::run_streaming(
        &mut cmd,
        &format!("MPI test `{}` of `{}`", test.test, test.package),
    )
}

/// The executables of test target `test` in cargo's `--message-format=json` output.
fn test_executables(messages: &str, test: &str) -> Vec<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == test)
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "test"))
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
