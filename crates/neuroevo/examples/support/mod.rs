//! What the examples of this crate share beyond `par-cli` (exit policy, numeric parsers, atomic
//! outputs, run records): writing to standard output without panicking, and the fitness plot.

#![allow(dead_code)] // each example uses part of it

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes a line to standard output, returning the error (a broken pipe, which
/// `par_cli::main_with` turns into a quiet exit) instead of panicking.
pub fn out(line: &str) -> anyhow::Result<()> {
    let mut o = std::io::stdout().lock();
    writeln!(o, "{line}")?;
    o.flush()?;
    Ok(())
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
