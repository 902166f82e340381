//! The benchmark result schema shared by every crate's scenarios and by `cargo xtask bench`.
//!
//! A scenario is a `harness = false` bench target (for example `crates/par-core/benches/scenarios.rs`)
//! that measures, then writes one [`ScenarioReport`] as `<out>/<scenario>.json`. `xtask bench`
//! runs every registered scenario, reads those files back, renders the [`Plot`]s as SVG and
//! writes `report.md`. The JSON schema is stable:
//!
//! ```json
//! {"scenario": "par-core", "quick": true, "machine": {"cores": 2, "cpu": "..."},
//!  "metrics": [{"name": "threads_dispatch_us", "value": 1.2, "unit": "us",
//!               "better": "lower", "target": 10.0}],
//!  "plots": [...], "tables": [...], "notes": [...]}
//! ```
//!
//! `target` is present only when an issue names one. Metric names are snake_case and stable.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Which direction of a metric is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Smaller values are better (times, overheads, errors).
    Lower,
    /// Larger values are better (throughput, efficiency, speed-up).
    Higher,
}

/// One measured number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Stable snake_case name, for example `threads_dispatch_us`.
    pub name: String,
    /// The measured value.
    pub value: f64,
    /// Unit, for example `us`, `ms`, `s`, `ratio`, `1/s`.
    pub unit: String,
    /// Which direction is better.
    pub better: Better,
    /// The target an issue names, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
}

impl Metric {
    /// A metric without a target.
    pub fn new(
        name: impl Into<String>,
        value: f64,
        unit: impl Into<String>,
        better: Better,
    ) -> Self {
        Self {
            name: name.into(),
            value,
            unit: unit.into(),
            better,
            target: None,
        }
    }

    /// The same metric with a target.
    #[must_use]
    pub fn with_target(mut self, target: f64) -> Self {
        self.target = Some(target);
        self
    }

    /// Whether the target is met: `None` when there is no target or the value is not finite.
    pub fn target_met(&self) -> Option<bool> {
        let target = self.target?;
        if !self.value.is_finite() {
            return Some(false);
        }
        Some(match self.better {
            Better::Lower => self.value <= target,
            Better::Higher => self.value >= target,
        })
    }
}

/// The machine a scenario ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Logical cores available to the process.
    pub cores: usize,
    /// CPU model name (from `/proc/cpuinfo` on Linux), or `unknown`.
    pub cpu: String,
}

impl Machine {
    /// Reads the current machine's description.
    pub fn detect() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        Self { cores, cpu }
    }
}

/// One line of a [`Plot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// `(x, y)` points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// A line plot that `xtask bench` renders as `<scenario>-<name>.svg`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plot {
    /// File-name stem, snake_case, unique within the scenario.
    pub name: String,
    /// Title drawn above the plot.
    pub title: String,
    /// X-axis label.
    pub x_label: String,
    /// Y-axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    #[serde(default)]
    pub log_x: bool,
    /// Logarithmic y axis.
    #[serde(default)]
    pub log_y: bool,
    /// The lines.
    pub series: Vec<Series>,
}

/// A table that `xtask bench` writes into `report.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Heading above the table.
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells, each as long as `header`.
    pub rows: Vec<Vec<String>>,
}

/// Everything one scenario measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// Scenario name, equal to the registry name in `xtask` (for example `par-core`).
    pub scenario: String,
    /// Whether this was the quick run (the default) rather than `--full`.
    pub quick: bool,
    /// Where it ran.
    pub machine: Machine,
    /// The headline numbers.
    pub metrics: Vec<Metric>,
    /// Plots to render.
    #[serde(default)]
    pub plots: Vec<Plot>,
    /// Tables for the report.
    #[serde(default)]
    pub tables: Vec<Table>,
    /// Free-text remarks (what was measured, what was scaled down in the quick run).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl ScenarioReport {
    /// An empty report for `scenario` on this machine.
    pub fn new(scenario: impl Into<String>, quick: bool) -> Self {
        Self {
            scenario: scenario.into(),
            quick,
            machine: Machine::detect(),
            metrics: Vec::new(),
            plots: Vec::new(),
            tables: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Writes `<dir>/<scenario>.json` (creating `dir`) and returns the path.
    pub fn write(&self, dir: &Path) -> io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.json", self.scenario));
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        std::fs::write(&path, text)?;
        Ok(path)
    }

    /// Reads a report written by [`ScenarioReport::write`].
    pub fn read(path: &Path) -> io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        serde_json::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })
    }
}

/// The command line every scenario binary accepts, as `xtask bench` passes it:
/// `[--full] [--workers 1,2,4] [--out DIR]` (cargo's own `--bench` flag is ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchArgs {
    /// Run the seed-scale workloads instead of the quick ones.
    pub full: bool,
    /// Worker counts to measure (default `1,2,4`).
    pub workers: Vec<usize>,
    /// Output folder (default `target/bench` under the workspace root).
    pub out: PathBuf,
}

impl BenchArgs {
    /// Parses `std::env::args()`, returning a message naming the bad argument on error.
    pub fn from_env() -> Result<Self, String> {
        Self::parse(std::env::args().skip(1))
    }

    /// Parses an argument list (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut out = Self {
            full: false,
            workers: vec![1, 2, 4],
            out: default_out_dir(),
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--full" => out.full = true,
                "--quick" => out.full = false,
                "--bench" => {}
                "--workers" => {
                    let list = args.next().ok_or("--workers needs a list such as 1,2,4")?;
                    out.workers = parse_workers(&list)?;
                }
                "--out" => out.out = PathBuf::from(args.next().ok_or("--out needs a folder")?),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(out)
    }
}

fn parse_workers(list: &str) -> Result<Vec<usize>, String> {
    let workers = list
        .split(',')
        .map(|w| match w.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("--workers: `{w}` is not a positive integer")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if workers.is_empty() {
        return Err("--workers: empty list".into());
    }
    Ok(workers)
}

/// `target/bench` under the workspace root (found from `CARGO_MANIFEST_DIR` at build time of
/// the caller is not available here, so the current directory's `target/bench` is used unless
/// `PAR_BENCH_OUT` is set).
fn default_out_dir() -> PathBuf {
    std::env::var_os("PAR_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_targets_respect_direction() {
        let lower = Metric::new("t", 5.0, "us", Better::Lower).with_target(10.0);
        assert_eq!(lower.target_met(), Some(true));
        let higher = Metric::new("e", 0.9, "ratio", Better::Higher).with_target(0.95);
        assert_eq!(higher.target_met(), Some(false));
        assert_eq!(Metric::new("x", 1.0, "s", Better::Lower).target_met(), None);
        let nan = Metric::new("n", f64::NAN, "s", Better::Lower).with_target(1.0);
        assert_eq!(nan.target_met(), Some(false));
    }

    #[test]
    fn report_json_has_the_stable_schema() {
        let mut r = ScenarioReport::new("demo", true);
        r.metrics
            .push(Metric::new("a_b", 1.5, "ms", Better::Lower).with_target(2.0));
        r.metrics.push(Metric::new("c", 3.0, "1/s", Better::Higher));
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(v["scenario"], "demo");
        assert_eq!(v["quick"], true);
        assert!(v["machine"]["cores"].as_u64().unwrap() >= 1);
        assert_eq!(v["metrics"][0]["better"], "lower");
        assert_eq!(v["metrics"][0]["target"], 2.0);
        assert!(v["metrics"][1].get("target").is_none());
        let back: ScenarioReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn bench_args_parse_and_reject() {
        let a =
            BenchArgs::parse(["--bench", "--full", "--workers", "1,3"].map(String::from)).unwrap();
        assert!(a.full);
        assert_eq!(a.workers, vec![1, 3]);
        assert!(BenchArgs::parse(["--workers", "0"].map(String::from)).is_err());
        assert!(BenchArgs::parse(["--nope"].map(String::from)).is_err());
    }
}
