//! What every example binary of this crate shares, kept in one module so that a workspace-wide
//! crate for these concerns can replace it: validated numeric options, the exit policy (errors
//! with their chain of causes, a closed standard output as a quiet exit, no panic reaching the
//! user), run metadata for self-describing outputs, and the fitness plot.

#![allow(dead_code)] // each example uses part of it

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

/// Runs `body`, printing an error with its chain of causes and exiting 1, treating a broken
/// pipe on standard output as a quiet exit, and turning a panic into an error message (exit
/// 101) instead of a backtrace.
pub fn main_with(body: impl FnOnce() -> anyhow::Result<()> + std::panic::UnwindSafe) -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        let at = info
            .location()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        eprintln!("error: internal error{at}: {msg} (please report it)");
    }));
    match std::panic::catch_unwind(body) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::from(101),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes a line to standard output, returning the error (a broken pipe) instead of panicking.
pub fn out(line: &str) -> anyhow::Result<()> {
    let mut o = std::io::stdout().lock();
    writeln!(o, "{line}")?;
    o.flush()?;
    Ok(())
}

/// A clap value parser for an integer in `lo..=hi`, naming the limits when it fails.
pub fn int_in<T>(lo: T, hi: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy + Send + Sync + 'static,
{
    move |s: &str| {
        let v: T = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a whole number (expected {lo}..={hi})"))?;
        if v < lo || v > hi {
            return Err(format!("{v} is out of range: must be in {lo}..={hi}"));
        }
        Ok(v)
    }
}

/// A clap value parser for a finite number in `[lo, hi]`, naming the limits when it fails.
pub fn float_in(
    lo: f64,
    hi: f64,
) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let v: f64 = s.trim().parse().map_err(|_| {
            format!("`{s}` is not a number (expected a finite value in [{lo}, {hi}])")
        })?;
        if !v.is_finite() || v < lo || v > hi {
            return Err(format!(
                "{v} is out of range: must be a finite value in [{lo}, {hi}]"
            ));
        }
        Ok(v)
    }
}

/// Who made a result file and how: enough to reproduce it.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// Tool name and version.
    pub tool: String,
    /// Git commit of the source, when known (with `-dirty` when the tree had changes).
    pub commit: Option<String>,
    /// The command line.
    pub command_line: Vec<String>,
    /// UTC start time.
    pub started: String,
    /// The machine.
    pub machine: MachineInfo,
}

/// The machine a run used.
#[derive(Debug, Clone, Serialize)]
pub struct MachineInfo {
    /// Host name.
    pub hostname: String,
    /// Logical cores.
    pub cores: usize,
    /// CPU model.
    pub cpu: String,
    /// Operating system and architecture.
    pub os: String,
}

impl Provenance {
    /// The provenance of this process.
    pub fn now(tool: &str) -> Self {
        let p = par_core::bench::Provenance::now();
        let m = par_core::bench::Machine::detect();
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        Self {
            tool: format!("{tool} {}", env!("CARGO_PKG_VERSION")),
            commit: p
                .commit
                .map(|c| if p.dirty { format!("{c}-dirty") } else { c }),
            command_line: std::env::args().collect(),
            started: p.date,
            machine: MachineInfo {
                hostname,
                cores: m.cores,
                cpu: m.cpu,
                os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            },
        }
    }
}

/// One line of a fitness plot.
pub struct Line {
    /// Legend.
    pub label: String,
    /// `(evaluations, fitness)`.
    pub points: Vec<(f64, f64)>,
}

/// Draws fitness against evaluations as an SVG file (written atomically).
pub fn plot_fitness(path: &Path, title: &str, lines: &[Line]) -> anyhow::Result<()> {
    use plotters::prelude::*;
    let pts = lines.iter().flat_map(|l| l.points.iter());
    let (mut x1, mut y0, mut y1) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in pts {
        if y.is_finite() && y > f64::MIN / 2.0 {
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    }
    if !y0.is_finite() {
        (y0, y1) = (0.0, 1.0);
    }
    if y1 - y0 < 1e-12 {
        y1 = y0 + 1.0;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x1, y0..y1 + 0.05 * (y1 - y0))
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
        chart
            .configure_mesh()
            .x_desc("evaluations")
            .y_desc("fitness")
            .draw()
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
        for (i, l) in lines.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    l.points.iter().copied().filter(|p| p.1 > f64::MIN / 2.0),
                    color.stroke_width(2),
                ))
                .map_err(|e| anyhow::anyhow!("plot: {e}"))?
                .label(l.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
        root.present().map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    }
    neuroevo::files::write_atomic(path, svg.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
