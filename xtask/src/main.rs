//! Project automation for the workspace, run as `cargo xtask <command>`
//! (the alias lives in `.cargo/config.toml`).
//!
//! - `cargo xtask setup [--mpi]`: puts ONNX Runtime in `.ort/` (and, when asked, MPI from apt).
//! - `cargo xtask bench [--full] [--only NAME]... [--workers LIST] [--no-run] [--mpi]`: runs
//!   every registered benchmark scenario (with `--mpi`, the MPI scenarios under `mpirun` at 1,
//!   2 and 4 ranks) and writes `target/bench/report.md`, one JSON file and SVG plots per
//!   scenario.
//! - `cargo xtask results [--write]`: the README's benchmark table from the runs recorded under
//!   `bench-results/` by `cargo xtask bench --record`.
//! - `cargo xtask test` (and its alias `cargo xtask ci`): setup, format check, clippy with
//!   warnings denied, the test suite and the doc build, stopping at the first failure.

mod bench;
mod ci;
mod plot;
mod report;
mod results;
mod setup;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

/// The command line of `cargo xtask`.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Project automation: setup, bench, test, ci."
)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: XtaskCommand,
}

/// The sub-commands of `cargo xtask`.
#[derive(Debug, Subcommand)]
enum XtaskCommand {
    /// Install the native libraries the crates need into project-local folders; idempotent.
    Setup(setup::SetupArgs),
    /// Run the benchmark scenarios and write `target/bench/report.md` with JSON and SVG plots.
    Bench(bench::BenchArgs),
    /// Print (or, with --write, put into README.md) the benchmark table rendered from the
    /// newest runs recorded under bench-results/.
    Results(results::ResultsArgs),
    /// What CI runs: setup, fmt check, clippy (warnings denied), tests, doc build, MPI tests.
    Test,
    /// The same as `test`.
    Ci,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.command {
        XtaskCommand::Setup(args) => setup::run(&root, &args),
        XtaskCommand::Bench(args) => bench::run(&root, &args),
        XtaskCommand::Results(args) => results::run(&root, &args),
        XtaskCommand::Test | XtaskCommand::Ci => ci::run(&root),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's manifest folder.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// A `cargo` command run in the workspace root, using the same cargo that runs xtask, with
/// `ORT_DYLIB_PATH` pointing at the project's ONNX Runtime library.
fn cargo_command(root: &Path, ort_library: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).env("ORT_DYLIB_PATH", ort_library);
    cmd
}

/// Runs `cmd` with inherited standard streams and fails with a message naming `what` and the
/// exit status when it does not succeed.
fn run_streaming(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {what}: {cmd:?}"))?;
    if status.success() {
        Ok(())
    } else {
        anyhow::bail!("{what} failed ({status})")
    }
}

/// The first executable called `name` on `PATH`, if any.
fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// Whether `path` is a file that may be executed.
fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Formats a duration in seconds with one decimal, for step timings.
fn seconds(duration: std::time::Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn cli_parses_each_command() {
        let cli = Cli::try_parse_from(["xtask", "test"]).expect("test parses");
        assert!(matches!(cli.command, XtaskCommand::Test));
        let cli = Cli::try_parse_from(["xtask", "ci"]).expect("ci parses");
        assert!(matches!(cli.command, XtaskCommand::Ci));
        let cli = Cli::try_parse_from(["xtask", "setup", "--mpi"]).expect("setup parses");
        assert!(matches!(
            cli.command,
            XtaskCommand::Setup(setup::SetupArgs { mpi: true })
        ));
        let cli = Cli::try_parse_from([
            "xtask",
            "bench",
            "--full",
            "--only",
            "par-core",
            "--only",
            "mfg",
            "--workers",
            "1,3",
        ])
        .expect("bench parses");
        let XtaskCommand::Bench(args) = cli.command else {
            panic!("not bench")
        };
        assert!(args.full);
        assert_eq!(args.only, ["par-core", "mfg"]);
        assert_eq!(args.workers.0, [1, 3]);
        let cli = Cli::try_parse_from(["xtask", "bench", "--mpi"]).expect("bench --mpi parses");
        assert!(matches!(cli.command, XtaskCommand::Bench(ref a) if a.mpi && !a.full));
        assert!(Cli::try_parse_from(["xtask", "bench", "--workers", "0"]).is_err());
        assert!(Cli::try_parse_from(["xtask", "bench", "--workers", "1,,2"]).is_err());
        assert!(Cli::try_parse_from(["xtask", "nope"]).is_err());
    }

    #[test]
    fn workspace_root_holds_the_root_manifest() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(workspace_root().join("xtask").is_dir());
    }
}
