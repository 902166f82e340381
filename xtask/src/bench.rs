//! `cargo xtask bench`: runs the registered benchmark scenarios, then renders their JSON
//! reports into `target/bench/report.md` and SVG plots.
//!
//! A scenario is a `harness = false` bench target named `scenarios` in a crate
//! (`crates/<crate>/benches/scenarios.rs`) that writes `<out>/<scenario>.json` with
//! `par_core::bench::ScenarioReport::write`. A crate registers it by adding a line to
//! [`REGISTRY`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use par_core::bench::{Machine, ScenarioReport};

use crate::report::{self, ReportPage, ScenarioStatus, ScenarioSummary};

/// One benchmark scenario: a bench target of a workspace package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    /// Registry name, also the JSON file stem (`target/bench/<name>.json`).
    pub name: &'static str,
    /// The cargo package that holds the bench target.
    pub package: &'static str,
    /// The package's folder, relative to the workspace root.
    pub dir: &'static str,
    /// The `harness = false` bench target.
    pub bench: &'static str,
}

impl Scenario {
    /// The bench target's source file, relative to the workspace root.
    pub fn source(&self) -> PathBuf {
        Path::new(self.dir)
            .join("benches")
            .join(format!("{}.rs", self.bench))
    }
}

/// Every scenario, in the order they run. A crate adds its line here.
pub const REGISTRY: &[Scenario] = &[
    Scenario {
        name: "par-core",
        package: "par-core",
        dir: "crates/par-core",
        bench: "scenarios",
    },
    Scenario {
        name: "mfg",
        package: "mfg",
        dir: "crates/mfg",
        bench: "scenarios",
    },
    Scenario {
        name: "mcts",
        package: "mcts",
        dir: "crates/mcts",
        bench: "scenarios",
    },
    Scenario {
        name: "inspection",
        package: "inspection",
        dir: "crates/inspection",
        bench: "scenarios",
    },
    Scenario {
        name: "mpc",
        package: "mpc",
        dir: "crates/mpc",
        bench: "scenarios",
    },
    Scenario {
        name: "arc-batt",
        package: "arc-batt",
        dir: "crates/arc-batt",
        bench: "scenarios",
    },
    Scenario {
        name: "neuroevo",
        package: "neuroevo",
        dir: "crates/neuroevo",
        bench: "scenarios",
    },
];

/// A scenario measured under `mpirun` (`cargo xtask bench --mpi`): a `harness = false` bench
/// target built with `features`, run with `--mpi-part DIR` under `mpirun -np R` for each R of
/// [`crate::ci::MPI_RANKS`], then once with `--mpi-assemble DIR`, which writes the scenario's
/// JSON (see `par_core::bench::mpi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpiScenario {
    /// The scenario (its name is the JSON file stem).
    pub scenario: Scenario,
    /// Cargo features the bench target needs (usually `mpi`).
    pub features: &'static [&'static str],
}

/// The MPI scenarios, in the order they run. A crate that runs on MPI adds its line here
/// (its bench `mpi`, built with its feature `mpi`).
pub const MPI_REGISTRY: &[MpiScenario] = &[
    MpiScenario {
        scenario: Scenario {
            name: "par-core-mpi",
            package: "par-core",
            dir: "crates/par-core",
            bench: "mpi",
        },
        features: &["mpi"],
    },
    MpiScenario {
        scenario: Scenario {
            name: "mfg-mpi",
            package: "mfg",
            dir: "crates/mfg",
            bench: "mpi",
        },
        features: &["mpi"],
    },
    MpiScenario {
        scenario: Scenario {
            name: "mpc-mpi",
            package: "mpc",
            dir: "crates/mpc",
            bench: "mpi",
        },
        features: &["mpi"],
    },
    MpiScenario {
        scenario: Scenario {
            name: "mcts-mpi",
            package: "mcts",
            dir: "crates/mcts",
            bench: "mpi",
        },
        features: &["mpi"],
    },
    MpiScenario {
        scenario: Scenario {
            name: "neuroevo-mpi",
            package: "neuroevo",
            dir: "crates/neuroevo",
            bench: "mpi",
        },
        features: &["mpi"],
    },
];

/// A list of positive worker counts, written `1,2,4` on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerList(pub Vec<usize>);

impl fmt::Display for WorkerList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(usize::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

/// Parses `1,2,4` into a [`WorkerList`] (par-core's parser: every entry a positive integer).
fn parse_workers(list: &str) -> Result<WorkerList, String> {
    par_core::bench::parse_workers(list).map(WorkerList)
}

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Run the seed-scale workloads instead of the quick ones.
    #[arg(long)]
    pub full: bool,
    /// Run only this scenario (repeatable); the default is every registered scenario.
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// Worker counts to measure, comma-separated.
    #[arg(long, value_name = "LIST", default_value = "1,2,4", value_parser = parse_workers)]
    pub workers: WorkerList,
    /// Do not run anything: render report.md and the plots from the JSON files already in
    /// target/bench.
    #[arg(long)]
    pub no_run: bool,
    /// Run the MPI scenarios instead (under `mpirun` with 1, 2 and 4 ranks; needs
    /// `cargo xtask setup --mpi`): MPI against threads, and the scaling model.
    #[arg(long)]
    pub mpi: bool,
    /// After the run, copy the JSON files, report.md and plots into
    /// `bench-results/<quick|full>/<YYYY-MM-DD-HHMM>/`, the committed record that README
    /// figures quote.
    #[arg(long)]
    pub record: bool,
}

/// The scenarios of `registry` named in `only` (all of them when `only` is empty), in
/// registry order; an unknown name is an error that lists the known ones.
pub fn select<'a>(registry: &'a [Scenario], only: &[String]) -> Result<Vec<&'a Scenario>> {
    let unknown: Vec<&str> = only
        .iter()
        .filter(|name| !registry.iter().any(|s| s.name == name.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = registry.iter().map(|s| s.name).collect();
        bail!(
            "unknown scenario(s) {}; known: {}",
            unknown.join(", "),
            known.join(", ")
        );
    }
    Ok(registry
        .iter()
        .filter(|s| only.is_empty() || only.iter().any(|o| o == s.name))
        .collect())
}

/// The arguments passed to a scenario binary after `--`.
fn scenario_args(args: &BenchArgs, out_dir: &Path) -> Vec<String> {
    let mut list = Vec::new();
    if args.full {
        list.push("--full".to_string());
    }
    list.extend(["--workers".to_string(), args.workers.to_string()]);
    list.extend(["--out".to_string(), out_dir.display().to_string()]);
    list
}

/// Runs `cargo xtask bench`.
pub fn run(root: &Path, args: &BenchArgs) -> Result<()> {
    let mpi_scenarios: Vec<Scenario> = MPI_REGISTRY.iter().map(|m| m.scenario).collect();
    let registry: &[Scenario] = if args.mpi { &mpi_scenarios } else { REGISTRY };
    let selected = select(registry, &args.only)?;
    let out_dir = root.join("target").join("bench");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out_dir.display()))?;
    let ort_library = if args.no_run {
        None
    } else {
        Some(crate::setup::ensure_onnxruntime(root)?)
    };

    // The plain scenarios are built in one cargo invocation (one feature resolution for all of
    // them, so that no package's build undoes another's) and their executables run directly.
    let built = match &ort_library {
        Some(ort) if !args.mpi => Some(build_scenarios(root, &selected, ort)),
        _ => None,
    };
    let mut summaries = Vec::new();
    for scenario in selected {
        let json = out_dir.join(format!("{}.json", scenario.name));
        let (status, wall) = match &ort_library {
            None if json.is_file() => (ScenarioStatus::Ok, None),
            None => {
                let why = format!("no target/bench/{}.json (--no-run)", scenario.name);
                (ScenarioStatus::Skipped(why), None)
            }
            Some(_) if !root.join(scenario.source()).is_file() => {
                let why = format!("no {} yet", scenario.source().display());
                println!("==> {}: skipped ({why})", scenario.name);
                (ScenarioStatus::Skipped(why), None)
            }
            Some(ort) if args.mpi => run_mpi_scenario(root, scenario, args, &out_dir, &json, ort),
            Some(ort) => {
                let exe = match &built {
                    Some(Ok(exes)) => exes
                        .iter()
                        .find(|(name, _)| *name == scenario.name)
                        .map(|(_, exe)| exe.as_path())
                        .ok_or_else(|| format!("the build listed no bench `{}`", scenario.bench)),
                    Some(Err(e)) => Err(e.clone()),
                    None => Err("not built".to_string()),
                };
                run_scenario(root, scenario, args, &out_dir, &json, ort, exe)
            }
        };
        summaries.push(load_and_plot(
            scenario, status, wall, &json, &out_dir, args.full,
        ));
    }

    let page = ReportPage {
        machine: Machine::detect(),
        date: report::utc_timestamp(std::time::SystemTime::now()),
        full: args.full,
        workers: args.workers.to_string(),
        scenarios: summaries,
    };
    let report_path = out_dir.join("report.md");
    std::fs::write(&report_path, report::render(&page))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", report_path.display()))?;

    println!("\n{}", report::summary_lines(&page));
    println!("report: {}", report_path.display());
    if args.record {
        let folder = record(root, &out_dir, &page)?;
        println!("recorded: {}", display(&folder));
    }
    let failed: Vec<&str> = page
        .scenarios
        .iter()
        .filter(|s| matches!(s.status, ScenarioStatus::Failed(_)))
        .map(|s| s.name.as_str())
        .collect();
    if !failed.is_empty() {
        bail!(
            "{} scenario(s) failed: {} (see {})",
            failed.len(),
            failed.join(", "),
            display(&report_path)
        );
    }
    Ok(())
}

/// Copies this run's files (the selected scenarios' JSON and plots, and `report.md`) into
/// `bench-results/<quick|full>/<YYYY-MM-DD-HHMM>/` and returns that folder.
fn record(root: &Path, out_dir: &Path, page: &ReportPage) -> Result<PathBuf> {
    let stamp: String = page
        .date
        .trim_end_matches(" UTC")
        .chars()
        .map(|c| if c == ' ' { '-' } else { c })
        .filter(|c| *c != ':')
        .collect();
    let kind = if page.full { "full" } else { "quick" };
    let folder = root.join("bench-results").join(kind).join(stamp);
    std::fs::create_dir_all(&folder)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", folder.display()))?;
    let mut files = vec![out_dir.join("report.md")];
    for s in page.scenarios.iter().filter(|s| s.report.is_some()) {
        files.push(out_dir.join(format!("{}.json", s.name)));
        files.extend(s.plots.iter().map(|(_, file)| out_dir.join(file)));
    }
    for file in files {
        let Some(name) = file.file_name() else {
            continue;
        };
        std::fs::copy(&file, folder.join(name)).map_err(|e| {
            anyhow::anyhow!(
                "cannot copy {} into {}: {e}",
                file.display(),
                folder.display()
            )
        })?;
    }
    Ok(folder)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Builds the bench targets of `scenarios` whose source exists in one `cargo bench --no-run`
/// and returns each scenario's executable, or why the build failed.
fn build_scenarios(
    root: &Path,
    scenarios: &[&Scenario],
    ort_library: &Path,
) -> Result<Vec<(&'static str, PathBuf)>, String> {
    let present: Vec<&Scenario> = scenarios
        .iter()
        .copied()
        .filter(|s| root.join(s.source()).is_file())
        .collect();
    if present.is_empty() {
        return Ok(Vec::new());
    }
    let mut build = crate::cargo_command(root, ort_library);
    build.arg("bench");
    for s in &present {
        build.args(["-p", s.package]);
    }
    for bench in present
        .iter()
        .map(|s| s.bench)
        .collect::<std::collections::BTreeSet<_>>()
    {
        build.args(["--bench", bench]);
    }
    build.args(["--no-run", "--message-format=json-render-diagnostics"]);
    let names: Vec<&str> = present.iter().map(|s| s.name).collect();
    println!(
        "==> building the scenarios {} in one cargo build",
        names.join(", ")
    );
    let start = Instant::now();
    let output = build
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!("building the scenarios failed ({})", output.status));
    }
    println!("    built in {}", crate::seconds(start.elapsed()));
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    // (source, executable) of every artifact that is an executable, sources canonical once.
    let messages = String::from_utf8_lossy(&output.stdout);
    let executables: Vec<(PathBuf, PathBuf)> = messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter_map(|m| {
            let exe = m["executable"].as_str()?;
            let source = m["target"]["src_path"].as_str()?;
            Some((canonical(Path::new(source)), PathBuf::from(exe)))
        })
        .collect();
    present
        .iter()
        .map(|s| {
            let source = root.join(s.source());
            let wanted = canonical(&source);
            executables
                .iter()
                .find(|(src, _)| *src == wanted)
                .map(|(_, exe)| (s.name, exe.clone()))
                .ok_or_else(|| format!("the build gave no executable for {}", display(&source)))
        })
        .collect()
}

/// Runs one scenario's bench target, streaming its output, and returns its status and wall time.
fn run_scenario(
    root: &Path,
    scenario: &Scenario,
    args: &BenchArgs,
    out_dir: &Path,
    json: &Path,
    ort_library: &Path,
    exe: Result<&Path, String>,
) -> (ScenarioStatus, Option<Duration>) {
    // A stale file from an earlier run must not pass for this run's results.
    if let Err(e) = std::fs::remove_file(json)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return (
            ScenarioStatus::Failed(format!("cannot remove old {}: {e}", display(json))),
            None,
        );
    }
    let exe = match exe {
        Ok(exe) => exe,
        Err(why) => return (ScenarioStatus::Failed(why), None),
    };
    // As `cargo bench` runs it: from the package's folder, with `--bench` first.
    let mut cmd = std::process::Command::new(exe);
    let scenario_args = scenario_args(args, out_dir);
    cmd.current_dir(root.join(scenario.dir))
        .env("ORT_DYLIB_PATH", ort_library)
        .arg("--bench")
        .args(&scenario_args);
    println!(
        "==> {}: {} --bench {}",
        scenario.name,
        display(exe),
        scenario_args.join(" ")
    );
    let start = Instant::now();
    let result = crate::run_streaming(&mut cmd, &format!("scenario `{}`", scenario.name));
    let wall = start.elapsed();
    println!("    {} finished in {}", scenario.name, crate::seconds(wall));
    let status = match result {
        Ok(()) => ScenarioStatus::Ok,
        Err(e) => ScenarioStatus::Failed(format!("{e:#}")),
    };
    (status, Some(wall))
}

/// Runs one MPI scenario: builds its bench target with its features, measures under
/// `mpirun` at each rank count, then assembles the parts into the scenario's JSON.
fn run_mpi_scenario(
    root: &Path,
    scenario: &Scenario,
    args: &BenchArgs,
    out_dir: &Path,
    json: &Path,
    ort_library: &Path,
) -> (ScenarioStatus, Option<Duration>) {
    let failed = |why: String| (ScenarioStatus::Failed(why), None);
    let Some(mpi) = MPI_REGISTRY.iter().find(|m| m.scenario == *scenario) else {
        return failed(format!("{} is not an MPI scenario", scenario.name));
    };
    let Some(mpirun) = crate::find_in_path("mpirun") else {
        let why = "`mpirun` is not on PATH (`cargo xtask setup --mpi` installs MPI)".to_string();
        println!("==> {}: skipped ({why})", scenario.name);
        return (ScenarioStatus::Skipped(why), None);
    };
    let parts = out_dir.join("mpi-parts").join(scenario.name);
    for stale in [json, parts.as_path()] {
        let removed = if stale.is_dir() {
            std::fs::remove_dir_all(stale)
        } else {
            std::fs::remove_file(stale)
        };
        if let Err(e) = removed
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return failed(format!("cannot remove old {}: {e}", display(stale)));
        }
    }
    let mut build = crate::cargo_command(root, ort_library);
    build.args([
        "bench",
        "-p",
        scenario.package,
        "--bench",
        scenario.bench,
        "--no-run",
    ]);
    build.args(["--features", &mpi.features.join(",")]);
    build.args(["--message-format=json-render-diagnostics"]);
    println!("==> {}: {build:?}", scenario.name);
    let output = match build.stderr(std::process::Stdio::inherit()).output() {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            return failed(format!(
                "building scenario `{}` failed ({})",
                scenario.name, o.status
            ));
        }
        Err(e) => return failed(format!("could not start cargo: {e}")),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(exe) = crate::ci::target_executables(&stdout, scenario.bench, "bench").pop() else {
        return failed(format!(
            "cargo built `{}` but named no executable",
            scenario.bench
        ));
    };
    let full: &[&str] = if args.full { &["--full"] } else { &[] };
    let start = Instant::now();
    for &ranks in crate::ci::MPI_RANKS {
        let mut cmd = std::process::Command::new(&mpirun);
        // No binding: rank 0 runs the Threads baseline with as many workers as there are
        // ranks, which Open MPI's default binding of a rank to one core would squeeze.
        cmd.args([
            "--allow-run-as-root",
            "--oversubscribe",
            "--bind-to",
            "none",
        ])
        .args(["-np", &ranks.to_string()])
        .arg(&exe)
        .arg("--mpi-part")
        .arg(&parts)
        .args(full)
        .current_dir(root)
        .env("ORT_DYLIB_PATH", ort_library);
        println!("==> {}: {ranks} rank(s): {cmd:?}", scenario.name);
        if let Err(e) = crate::run_streaming(
            &mut cmd,
            &format!("scenario `{}` on {ranks} rank(s)", scenario.name),
        ) {
            return (
                ScenarioStatus::Failed(format!("{e:#}")),
                Some(start.elapsed()),
            );
        }
    }
    let mut assemble = std::process::Command::new(&exe);
    assemble
        .arg("--mpi-assemble")
        .arg(&parts)
        .arg("--out")
        .arg(out_dir)
        .args(full)
        .current_dir(root);
    let result = crate::run_streaming(
        &mut assemble,
        &format!("assembling scenario `{}`", scenario.name),
    );
    let wall = start.elapsed();
    println!("    {} finished in {}", scenario.name, crate::seconds(wall));
    match result {
        Ok(()) => (ScenarioStatus::Ok, Some(wall)),
        Err(e) => (ScenarioStatus::Failed(format!("{e:#}")), Some(wall)),
    }
}

/// Reads a scenario's JSON report (when its run did not fail) and renders its plots.
fn load_and_plot(
    scenario: &Scenario,
    status: ScenarioStatus,
    wall: Option<Duration>,
    json: &Path,
    out_dir: &Path,
    full: bool,
) -> ScenarioSummary {
    let mut summary = ScenarioSummary {
        name: scenario.name.to_string(),
        package: scenario.package.to_string(),
        status,
        wall,
        report: None,
        plots: Vec::new(),
        problems: Vec::new(),
    };
    if matches!(summary.status, ScenarioStatus::Skipped(_)) {
        return summary;
    }
    // A failed scenario still leaves the metrics it measured and says why the others are missing.
    let report = match ScenarioReport::read(json) {
        Ok(report) => report,
        Err(_) if summary.status != ScenarioStatus::Ok => return summary,
        Err(e) => {
            summary.status = ScenarioStatus::Failed(format!("cannot read {}: {e}", display(json)));
            return summary;
        }
    };
    if report.scenario != scenario.name {
        summary.problems.push(format!(
            "the JSON names scenario `{}`, the registry `{}`",
            report.scenario, scenario.name
        ));
    }
    if report.quick == full {
        let (asked, got) = if full {
            ("--full", "quick")
        } else {
            ("quick", "full")
        };
        summary.problems.push(format!(
            "a {asked} run was asked for but the JSON says {got}"
        ));
    }
    remove_old_plots(scenario, out_dir, &mut summary.problems);
    for plot in &report.plots {
        let file = report::plot_file_name(scenario.name, &plot.name);
        match crate::plot::render(plot, &out_dir.join(&file)) {
            Ok(()) => summary.plots.push((plot.title.clone(), file)),
            Err(e) => summary
                .problems
                .push(format!("plot `{}` not rendered: {e:#}", plot.name)),
        }
    }
    summary.report = Some(report);
    summary
}

/// Removes the SVG files an earlier run wrote for `scenario`, so that the folder holds only the
/// plots of this report.
fn remove_old_plots(scenario: &Scenario, out_dir: &Path, problems: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(out_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_plot_of(name, scenario.name, REGISTRY)
            && let Err(e) = std::fs::remove_file(entry.path())
        {
            problems.push(format!("cannot remove old plot {name}: {e}"));
        }
    }
}

/// Whether `file` is an SVG plot of scenario `scenario` (`<scenario>-<plot>.svg`), and not of
/// another registered scenario whose name starts with `<scenario>-`.
fn is_plot_of(file: &str, scenario: &str, registry: &[Scenario]) -> bool {
    let owns = |name: &str| file.ends_with(".svg") && file.starts_with(&format!("{name}-"));
    owns(scenario)
        && !registry
            .iter()
            .any(|s| s.name.len() > scenario.len() && owns(s.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_defaults_to_everything_in_registry_order() {
        let all = select(REGISTRY, &[]).expect("no filter");
        assert_eq!(all.len(), REGISTRY.len());
        assert_eq!(all[0].name, "par-core");
    }

    #[test]
    fn select_filters_by_name_and_keeps_registry_order() {
        let only = ["mpc".to_string(), "par-core".to_string()];
        let picked: Vec<&str> = select(REGISTRY, &only)
            .expect("known")
            .iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(picked, ["par-core", "mpc"]);
    }

    #[test]
    fn select_rejects_unknown_names_and_lists_known_ones() {
        let err = select(REGISTRY, &["nope".to_string()])
            .expect_err("unknown")
            .to_string();
        assert!(err.contains("nope") && err.contains("par-core"), "{err}");
    }

    #[test]
    fn registry_names_are_unique_and_sources_follow_the_pattern() {
        for (i, a) in REGISTRY.iter().enumerate() {
            assert!(
                REGISTRY[i + 1..].iter().all(|b| b.name != a.name),
                "duplicate {}",
                a.name
            );
        }
        assert_eq!(
            REGISTRY[0].source(),
            Path::new("crates/par-core/benches/scenarios.rs")
        );
    }

    #[test]
    fn old_plots_are_matched_by_scenario_prefix() {
        let registry = [
            Scenario {
                name: "mc",
                package: "mc",
                dir: "crates/mc",
                bench: "scenarios",
            },
            Scenario {
                name: "mc-az",
                package: "mc",
                dir: "crates/mc",
                bench: "az",
            },
        ];
        assert!(is_plot_of("mc-speedup.svg", "mc", &registry));
        assert!(!is_plot_of("mc-az-speedup.svg", "mc", &registry));
        assert!(is_plot_of("mc-az-speedup.svg", "mc-az", &registry));
        assert!(!is_plot_of("mc.json", "mc", &registry));
        assert!(!is_plot_of("mcts-x.svg", "mc", &registry));
    }

    #[test]
    fn mpi_scenarios_are_named_apart_from_the_others() {
        for m in MPI_REGISTRY {
            assert!(REGISTRY.iter().all(|s| s.name != m.scenario.name));
            assert!(m.features.contains(&"mpi"), "{}", m.scenario.name);
        }
        let mpi: Vec<Scenario> = MPI_REGISTRY.iter().map(|m| m.scenario).collect();
        assert_eq!(select(&mpi, &[]).expect("all").len(), MPI_REGISTRY.len());
        assert!(select(&mpi, &["mfg".to_string()]).is_err());
    }

    #[test]
    fn workers_parse_and_print() {
        assert_eq!(parse_workers("1,2,4"), Ok(WorkerList(vec![1, 2, 4])));
        assert_eq!(parse_workers(" 3 "), Ok(WorkerList(vec![3])));
        assert!(parse_workers("0").is_err());
        assert!(parse_workers("").is_err());
        assert!(parse_workers("1,x").is_err());
        assert_eq!(WorkerList(vec![1, 2, 4]).to_string(), "1,2,4");
    }

    #[test]
    fn scenario_args_follow_the_bench_contract() {
        let args = BenchArgs {
            full: true,
            only: vec![],
            workers: WorkerList(vec![1, 2]),
            no_run: false,
            mpi: false,
            record: false,
        };
        let list = scenario_args(&args, Path::new("/w/target/bench"));
        assert_eq!(
            list,
            ["--full", "--workers", "1,2", "--out", "/w/target/bench"]
        );
        let parsed = par_core::bench::BenchArgs::parse(list).expect("par-core accepts them");
        assert!(parsed.full);
        assert_eq!(parsed.workers, [1, 2]);
        assert_eq!(parsed.out, Path::new("/w/target/bench"));
        let quick = BenchArgs {
            full: false,
            ..args
        };
        assert_eq!(scenario_args(&quick, Path::new("o"))[0], "--workers");
    }
}
