//! `target/bench/report.md`: the scenarios' metrics, tables, notes and plot links as Markdown.

use std::fmt::Write as _;
use std::time::Duration;

pub use par_core::bench::utc_timestamp;
use par_core::bench::{Better, Machine, Metric, ScenarioReport, Table};

/// How a scenario's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioStatus {
    /// It ran (or, with `--no-run`, its JSON was found) and its report was read.
    Ok,
    /// It did not run, for the reason given.
    Skipped(String),
    /// It failed, for the reason given.
    Failed(String),
}

/// What `report.md` says about one scenario.
#[derive(Debug, Clone)]
pub struct ScenarioSummary {
    /// Registry name.
    pub name: String,
    /// Cargo package.
    pub package: String,
    /// How its run ended.
    pub status: ScenarioStatus,
    /// Wall time of its `cargo bench` run (after the build), when it ran.
    pub wall: Option<Duration>,
    /// Its JSON report, when read.
    pub report: Option<ScenarioReport>,
    /// Rendered plots: `(title, SVG file name beside report.md)`.
    pub plots: Vec<(String, String)>,
    /// Problems found while reading or rendering it (listed in the report, not fatal).
    pub problems: Vec<String>,
}

/// Everything `report.md` shows.
#[derive(Debug, Clone)]
pub struct ReportPage {
    /// The machine xtask ran on.
    pub machine: Machine,
    /// When, as `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// Whether this was a `--full` run.
    pub full: bool,
    /// The worker counts, as passed to the scenarios (`1,2,4`).
    pub workers: String,
    /// The scenarios, in registry order.
    pub scenarios: Vec<ScenarioSummary>,
}

/// The SVG file name of plot `plot` of scenario `scenario`: `<scenario>-<plot>.svg`, with any
/// character other than ASCII letters, digits, `-` and `_` replaced by `_`.
pub fn plot_file_name(scenario: &str, plot: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("{}-{}.svg", clean(scenario), clean(plot))
}

/// A number with about four significant digits, without exponent for everyday magnitudes.
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let magnitude = v.abs().log10().floor();
    if !(-3.0..6.0).contains(&magnitude) {
        return format!("{v:.3e}");
    }
    // magnitude is in -3..6, so decimals is in 0..=6.
    let decimals = (3.0 - magnitude).max(0.0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A table cell: pipes escaped, line breaks flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn target_cell(metric: &Metric) -> String {
    match metric.target {
        None => "–".to_string(),
        Some(t) => {
            let sign = match metric.better {
                Better::Lower => "≤",
                Better::Higher => "≥",
            };
            format!("{sign} {}", format_value(t))
        }
    }
}

fn met_cell(metric: &Metric) -> &'static str {
    match (metric.target_met(), metric.value) {
        (Some(false), None) => "✗ (not measured)",
        (Some(true), _) => "✓",
        (Some(false), _) => "✗",
        (None, _) => "–",
    }
}

/// The value, `not measured`, and a warning sign on a measurement artefact.
fn value_cell(metric: &Metric) -> String {
    match metric.value {
        None => "not measured".to_string(),
        Some(v) if metric.artefact().is_some() => format!("{} ⚠ artefact", format_value(v)),
        Some(v) => format_value(v),
    }
}

/// `min – max (reps)` of a metric from repetitions, or `–`.
fn spread_cell(metric: &Metric) -> String {
    metric.stats.map_or_else(
        || "–".to_string(),
        |s| {
            format!(
                "{} – {} ({})",
                format_value(s.min),
                format_value(s.max),
                s.reps
            )
        },
    )
}

fn status_cell(status: &ScenarioStatus) -> String {
    match status {
        ScenarioStatus::Ok => "ok".to_string(),
        ScenarioStatus::Skipped(why) => format!("skipped: {}", cell(why)),
        ScenarioStatus::Failed(why) => format!("**failed**: {}", cell(why)),
    }
}

fn wall_cell(wall: Option<Duration>) -> String {
    wall.map_or_else(|| "–".to_string(), crate::seconds)
}

fn write_table(out: &mut String, table: &Table) {
    let _ = writeln!(out, "#### {}\n", table.title);
    let header: Vec<String> = table.header.iter().map(|h| cell(h)).collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len().max(1)));
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

fn write_scenario(out: &mut String, s: &ScenarioSummary) {
    let _ = writeln!(out, "## {}\n", s.name);
    let Some(report) = &s.report else {
        let _ = writeln!(out, "{}\n", status_cell(&s.status));
        return;
    };
    let mode = if report.quick { "quick" } else { "full" };
    let wall = s.wall.map_or_else(String::new, |w| {
        format!(
            ", wall time {} (the run, after the build)",
            crate::seconds(w)
        )
    });
    let _ = writeln!(out, "Package `{}`, {mode} run{wall}.\n", s.package);
    if s.status != ScenarioStatus::Ok {
        let _ = writeln!(out, "Status: {}\n", status_cell(&s.status));
    }
    let p = &report.provenance;
    if let Some(commit) = &p.commit {
        let dirty = if p.dirty {
            " with uncommitted changes"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "Code: commit `{commit}`{dirty}; started {}.\n",
            if p.date.is_empty() {
                "at an unknown time"
            } else {
                &p.date
            }
        );
    }
    if report.metrics.is_empty() {
        out.push_str("No metrics.\n\n");
    } else {
        out.push_str(
            "| Metric | Value | Unit | Min – max (reps) | Target | Met | Workload |\n\
             |---|---:|---|---:|---:|:---:|---|\n",
        );
        for m in &report.metrics {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} | {} |",
                cell(&m.name),
                value_cell(m),
                cell(&m.unit),
                spread_cell(m),
                target_cell(m),
                met_cell(m),
                m.workload.as_deref().map_or_else(|| "–".to_string(), cell)
            );
        }
        out.push('\n');
        let unmeasured: Vec<&Metric> = report
            .metrics
            .iter()
            .filter(|m| m.value.is_none())
            .collect();
        if !unmeasured.is_empty() {
            out.push_str("**Not measured** (each counts as not met):\n\n");
            for m in unmeasured {
                let why = m.not_measured.as_deref().unwrap_or("no reason given");
                let _ = writeln!(out, "- `{}`: {}", m.name, why.replace('\n', " "));
            }
            out.push('\n');
        }
        let artefacts: Vec<(&Metric, String)> = report
            .metrics
            .iter()
            .filter_map(|m| m.artefact().map(|a| (m, a)))
            .collect();
        if !artefacts.is_empty() {
            out.push_str("**Measurement artefacts** (values above what the hardware allows):\n\n");
            for (m, why) in artefacts {
                let _ = writeln!(out, "- `{}`: {why}", m.name);
            }
            out.push('\n');
        }
        let described: Vec<&Metric> = report
            .metrics
            .iter()
            .filter(|m| m.about.is_some())
            .collect();
        if !described.is_empty() {
            out.push_str("<details><summary>What each declared metric measures</summary>\n\n");
            for m in described {
                let _ = writeln!(
                    out,
                    "- `{}`: {}",
                    m.name,
                    m.about.as_deref().unwrap_or_default().replace('\n', " ")
                );
            }
            out.push_str("\n</details>\n\n");
        }
    }
    for table in &report.tables {
        write_table(out, table);
    }
    if !s.plots.is_empty() {
        out.push_str("#### Plots\n\n");
        for (title, file) in &s.plots {
            let _ = writeln!(out, "- [{}]({file})", cell(title));
        }
        out.push('\n');
        for (title, file) in &s.plots {
            let _ = writeln!(out, "![{}]({file})\n", cell(title));
        }
    }
    if !report.notes.is_empty() {
        out.push_str("#### Notes\n\n");
        for note in &report.notes {
            let _ = writeln!(out, "- {}", note.replace('\n', " "));
        }
        out.push('\n');
    }
    if report.machine != Machine::detect() {
        let _ = writeln!(
            out,
            "Measured on: {} cores, {}.\n",
            report.machine.cores,
            cell(&report.machine.cpu)
        );
    }
    if !s.problems.is_empty() {
        out.push_str("#### Problems\n\n");
        for p in &s.problems {
            let _ = writeln!(out, "- {}", p.replace('\n', " "));
        }
        out.push('\n');
    }
}

/// The whole `report.md`.
pub fn render(page: &ReportPage) -> String {
    let mut out = String::from("# Benchmark report\n\n");
    let mode = if page.full {
        "full (`--full`)"
    } else {
        "quick (the default; `--full` for seed-scale workloads)"
    };
    let _ = writeln!(
        out,
        "- Machine: {} cores, {}",
        page.machine.cores,
        cell(&page.machine.cpu)
    );
    let _ = writeln!(out, "- Date: {}", page.date);
    let _ = writeln!(out, "- Mode: {mode}");
    let _ = writeln!(out, "- Workers: {}", page.workers);
    out.push_str(
        "- Written by `cargo xtask bench`; one JSON file per scenario beside this file.\n\n",
    );
    out.push_str(
        "| Scenario | Package | Status | Targets met | Wall time |\n|---|---|---|---|---:|\n",
    );
    for s in &page.scenarios {
        let _ = writeln!(
            out,
            "| [{}](#{}) | `{}` | {} | {} | {} |",
            s.name,
            anchor(&s.name),
            s.package,
            status_cell(&s.status),
            targets_met(s),
            wall_cell(s.wall)
        );
    }
    out.push('\n');
    for s in &page.scenarios {
        write_scenario(&mut out, s);
    }
    out
}

/// `met/with-target` for a scenario's metrics, or `–`.
fn targets_met(s: &ScenarioSummary) -> String {
    let Some(report) = &s.report else {
        return "–".to_string();
    };
    let checked: Vec<bool> = report
        .metrics
        .iter()
        .filter_map(Metric::target_met)
        .collect();
    if checked.is_empty() {
        return "–".to_string();
    }
    let unmeasured = report
        .metrics
        .iter()
        .filter(|m| m.target.is_some() && m.value.is_none())
        .count();
    let mut text = format!(
        "{}/{}",
        checked.iter().filter(|m| **m).count(),
        checked.len()
    );
    if unmeasured > 0 {
        let _ = write!(text, " ({unmeasured} not measured)");
    }
    text
}

/// The GitHub-style heading anchor of a scenario name.
fn anchor(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// A short plain-text summary for the terminal: one line per scenario.
pub fn summary_lines(page: &ReportPage) -> String {
    let mut out = String::new();
    for s in &page.scenarios {
        let status = match &s.status {
            ScenarioStatus::Ok => "ok".to_string(),
            ScenarioStatus::Skipped(why) => format!("skipped ({why})"),
            ScenarioStatus::Failed(why) => format!("FAILED ({why})"),
        };
        let _ = writeln!(
            out,
            "{:<10} {:<8} targets met {:<6} {status}",
            s.name,
            wall_cell(s.wall),
            targets_met(s)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use par_core::bench::{Plot, Series};

    fn sample_report() -> ScenarioReport {
        let mut r = ScenarioReport::new("par-core", true);
        r.metrics.push(
            Metric::new("threads_dispatch_us", 1.234_56, "us", Better::Lower).with_target(10.0),
        );
        let stats = par_core::bench::Stats {
            median: 0.9,
            min: 0.85,
            max: 0.93,
            reps: 5,
        };
        r.metrics.push(
            Metric::efficiency("threads_efficiency_2w_1ms", stats)
                .with_target(0.95)
                .with_workload("400 tasks"),
        );
        r.metrics.push(
            Metric::not_measured(
                "golden_max_rel_err",
                "ratio",
                Better::Lower,
                "../shared/tinyphysics is absent",
            )
            .with_target(1e-6),
        );
        let two = par_core::bench::Stats {
            median: 2.1,
            min: 2.0,
            max: 2.2,
            reps: 3,
        };
        r.metrics.push(Metric::speedup("sweep_speedup_2w", two, 2));
        r.metrics
            .push(Metric::new("tasks_per_s", 123_456.0, "1/s", Better::Higher));
        r.tables.push(Table {
            title: "Break-even".into(),
            header: vec!["N".into(), "task | time".into()],
            rows: vec![vec!["10".into(), "1 ms".into()]],
        });
        r.plots.push(Plot {
            name: "speedup".into(),
            title: "Speed-up".into(),
            x_label: "workers".into(),
            y_label: "speed-up".into(),
            log_x: false,
            log_y: false,
            series: vec![Series {
                label: "threads".into(),
                points: vec![(1.0, 1.0), (2.0, 1.9)],
            }],
        });
        r.notes.push("quick run: 100 tasks".into());
        r
    }

    fn sample_page() -> ReportPage {
        ReportPage {
            machine: Machine::detect(),
            date: "2026-11-21 11:00 UTC".into(),
            full: false,
            workers: "1,2,4".into(),
            scenarios: vec![
                ScenarioSummary {
                    name: "par-core".into(),
                    package: "par-core".into(),
                    status: ScenarioStatus::Ok,
                    wall: Some(Duration::from_millis(12_345)),
                    report: Some(sample_report()),
                    plots: vec![("Speed-up".into(), "par-core-speedup.svg".into())],
                    problems: vec![],
                },
                ScenarioSummary {
                    name: "mfg".into(),
                    package: "mfg".into(),
                    status: ScenarioStatus::Skipped(
                        "no crates/mfg/benches/scenarios.rs yet".into(),
                    ),
                    wall: None,
                    report: None,
                    plots: vec![],
                    problems: vec![],
                },
                ScenarioSummary {
                    name: "mcts".into(),
                    package: "mcts".into(),
                    status: ScenarioStatus::Failed(
                        "scenario `mcts` failed (exit status: 101)".into(),
                    ),
                    wall: Some(Duration::from_secs(3)),
                    report: None,
                    plots: vec![],
                    problems: vec![],
                },
            ],
        }
    }

    #[test]
    fn report_lists_metrics_with_targets_and_marks() {
        let md = render(&sample_page());
        assert!(md.starts_with("# Benchmark report\n"));
        assert!(md.contains("- Date: 2026-11-21 11:00 UTC"));
        assert!(md.contains("- Mode: quick"));
        assert!(
            md.contains("| `threads_dispatch_us` | 1.235 | us | – | ≤ 10 | ✓ | – |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| `threads_efficiency_2w_1ms` | 0.9 | ratio | 0.85 – 0.93 (5) | ≥ 0.95 | ✗ | 400 tasks |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| `tasks_per_s` | 123456 | 1/s | – | – | – | – |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| `golden_max_rel_err` | not measured | ratio | – | ≤ 1.000e-6 | ✗ (not measured) | – |"
            ),
            "{md}"
        );
        assert!(md.contains("- `golden_max_rel_err`: ../shared/tinyphysics is absent"));
        assert!(
            md.contains("| `sweep_speedup_2w` | 2.1 ⚠ artefact |"),
            "{md}"
        );
        assert!(md.contains("- `sweep_speedup_2w`: 2.100 exceeds 2"), "{md}");
        assert!(
            md.contains(
                "| [par-core](#par-core) | `par-core` | ok | 1/3 (1 not measured) | 12.3 s |"
            ),
            "{md}"
        );
    }

    #[test]
    fn report_shows_tables_notes_plots_skips_and_failures() {
        let md = render(&sample_page());
        assert!(
            md.contains("#### Break-even\n\n| N | task \\| time |\n|---|---|\n| 10 | 1 ms |"),
            "{md}"
        );
        assert!(md.contains("- quick run: 100 tasks"));
        assert!(md.contains("- [Speed-up](par-core-speedup.svg)"));
        assert!(md.contains("![Speed-up](par-core-speedup.svg)"));
        assert!(md.contains("skipped: no crates/mfg/benches/scenarios.rs yet"));
        assert!(md.contains("**failed**: scenario `mcts` failed (exit status: 101)"));
        assert!(md.contains("## mcts"));
    }

    #[test]
    fn values_have_about_four_significant_digits() {
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(1.23456), "1.235");
        assert_eq!(format_value(12.0), "12");
        assert_eq!(format_value(0.012_345), "0.01235");
        assert_eq!(format_value(123_456.7), "123457");
        assert_eq!(format_value(-2.5), "-2.5");
        assert_eq!(format_value(1.0e-7), "1.000e-7");
        assert_eq!(format_value(f64::NAN), "NaN");
    }

    #[test]
    fn plot_file_names_are_safe() {
        assert_eq!(
            plot_file_name("par-core", "speedup"),
            "par-core-speedup.svg"
        );
        assert_eq!(plot_file_name("mfg", "../x y"), "mfg-___x_y.svg");
    }

    #[test]
    fn summary_has_one_line_per_scenario() {
        let text = summary_lines(&sample_page());
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains("FAILED"));
    }
}
