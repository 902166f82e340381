//! SVG rendering of a scenario's [`Plot`]s with plotters' SVG backend.
//!
//! Text needs no font feature: without `ttf`/`ab_glyph`, plotters estimates text extents from
//! the font size, and the SVG holds `<text>` elements that the viewer lays out.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;

use par_core::bench::Plot;

/// Line colours (Tableau 10), distinguishable on white and by most colour-blind readers.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Width and height of every plot, in pixels.
const SIZE: (u32, u32) = (800, 500);

/// Renders `plot` as an SVG file at `path`. Points that are not finite (or not positive on a
/// logarithmic axis) are left out; a plot with no point left is an error.
pub fn render(plot: &Plot, path: &Path) -> Result<()> {
    let series = drawable_series(plot);
    let points = series.iter().flat_map(|(_, p)| p.iter().copied());
    let (x, y) =
        bounds(points, plot.log_x, plot.log_y).ok_or_else(|| anyhow!("no drawable points"))?;
    let (mut corner, covered) = legend_corner(&series, x, y, plot.log_x, plot.log_y);
    let y = if covered > 0 {
        // Every corner would hide some line: raise the top of the y axis to make room.
        let y = headroom(y, legend_size(&series).1, plot.log_y);
        corner = legend_corner(&series, x, y, plot.log_x, plot.log_y).0;
        y
    } else {
        y
    };
    let x_ticks = integer_ticks(&series, plot.log_x);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let (xr, yr) = (x.0..x.1, y.0..y.1);
    match (plot.log_x, plot.log_y) {
        (false, false) => draw(&root, plot, &series, (corner, x_ticks), xr, yr)?,
        (true, false) => draw(&root, plot, &series, (corner, x_ticks), xr.log_scale(), yr)?,
        (false, true) => draw(&root, plot, &series, (corner, x_ticks), xr, yr.log_scale())?,
        (true, true) => draw(
            &root,
            plot,
            &series,
            (corner, x_ticks),
            xr.log_scale(),
            yr.log_scale(),
        )?,
    }
    root.present().map_err(plot_error)?;
    Ok(())
}

fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("plotters: {e}")
}

/// A labelled line of points.
type Line = (String, Vec<(f64, f64)>);

/// The series with undrawable points removed; empty series are kept so that their label
/// still shows in the legend.
fn drawable_series(plot: &Plot) -> Vec<Line> {
    let ok = |v: f64, log: bool| v.is_finite() && (!log || v > 0.0);
    plot.series
        .iter()
        .map(|s| {
            let points = s
                .points
                .iter()
                .copied()
                .filter(|&(x, y)| ok(x, plot.log_x) && ok(y, plot.log_y))
                .collect();
            (s.label.clone(), points)
        })
        .collect()
}

/// Padded `(x range, y range)` around the points, or `None` when there are none.
fn bounds(
    points: impl Iterator<Item = (f64, f64)>,
    log_x: bool,
    log_y: bool,
) -> Option<((f64, f64), (f64, f64))> {
    let mut b: Option<((f64, f64), (f64, f64))> = None;
    for (x, y) in points {
        let ((x0, x1), (y0, y1)) = b.unwrap_or(((x, x), (y, y)));
        b = Some(((x0.min(x), x1.max(x)), (y0.min(y), y1.max(y))));
    }
    let (x, y) = b?;
    Some((pad(x, log_x), pad(y, log_y)))
}

/// Widens a range by 5% each side (a factor on log axes), and a single value to a visible span.
fn pad((lo, hi): (f64, f64), log: bool) -> (f64, f64) {
    if log {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo / 2.0, hi * 2.0)
        };
        let f = (hi / lo).powf(0.05);
        (lo / f, hi * f)
    } else {
        let span = hi - lo;
        if span > 0.0 {
            (lo - 0.05 * span, hi + 0.05 * span)
        } else {
            let half = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo - half, hi + half)
        }
    }
}

/// On a linear x axis whose points all sit on a few integers (worker counts), the number of
/// x labels that puts one label on each integer; `None` otherwise.
fn integer_ticks(series: &[Line], log_x: bool) -> Option<usize> {
    let xs = || series.iter().flat_map(|(_, p)| p.iter().map(|&(x, _)| x));
    if log_x || !xs().all(|x| x.fract() == 0.0) {
        return None;
    }
    let lo = xs().fold(f64::INFINITY, f64::min);
    let hi = xs().fold(f64::NEG_INFINITY, f64::max);
    let span = hi - lo;
    (span.is_finite() && span <= 12.0).then(|| span as usize + 1)
}

/// The plot corner where the legend box covers the least of the lines, and how many line
/// samples it covers there.
///
/// The box size comes from [`legend_size`]; each line is sampled along its segments in axis
/// units (log axes in log units).
fn legend_corner(
    series: &[Line],
    x: (f64, f64),
    y: (f64, f64),
    log_x: bool,
    log_y: bool,
) -> (SeriesLabelPosition, usize) {
    let unit = |v: f64, (lo, hi): (f64, f64), log: bool| {
        if log {
            (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
        } else {
            (v - lo) / (hi - lo)
        }
    };
    let (width, height) = legend_size(series);
    let mut samples = Vec::new();
    for (_, points) in series {
        let unit_points: Vec<(f64, f64)> = points
            .iter()
            .map(|&(px, py)| (unit(px, x, log_x), unit(py, y, log_y)))
            .collect();
        samples.extend(unit_points.iter().copied());
        for pair in unit_points.windows(2) {
            let ((u0, v0), (u1, v1)) = (pair[0], pair[1]);
            samples.extend((1..50).map(|k| {
                let t = f64::from(k) / 50.0;
                (u0 + t * (u1 - u0), v0 + t * (v1 - v0))
            }));
        }
    }
    // In order of preference when several corners are equally free.
    let corners = [
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let covered = |right: bool, upper: bool| {
        samples
            .iter()
            .filter(|&&(u, v)| {
                let in_u = if right { u >= 1.0 - width } else { u <= width };
                let in_v = if upper {
                    v >= 1.0 - height
                } else {
                    v <= height
                };
                in_u && in_v
            })
            .count()
    };
    let mut best = (SeriesLabelPosition::UpperLeft, usize::MAX);
    for (position, right, upper) in corners {
        let n = covered(right, upper);
        if n < best.1 {
            best = (position, n);
        }
    }
    best
}

/// The legend box's estimated `(width, height)` as fractions of the plot area (about
/// 700 x 390 pixels; a legend row is about 20 pixels high, a character about 7 wide).
fn legend_size(series: &[Line]) -> (f64, f64) {
    let longest = series
        .iter()
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(0);
    let width = ((7 * longest + 45) as f64 / 700.0).min(1.0);
    let height = ((20 * series.len() + 15) as f64 / 390.0).min(0.8);
    (width, height)
}

/// The range with its top raised so that the old range fills only the lower
/// `1 - fraction - 0.03` of the axis (in log units on a log axis).
fn headroom((lo, hi): (f64, f64), fraction: f64, log: bool) -> (f64, f64) {
    let keep = 1.0 - (fraction + 0.03).clamp(0.0, 0.8);
    if log {
        (lo, lo * (hi / lo).powf(1.0 / keep))
    } else {
        (lo, lo + (hi - lo) / keep)
    }
}

fn draw<X, Y>(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    plot: &Plot,
    series: &[Line],
    (corner, x_ticks): (SeriesLabelPosition, Option<usize>),
    x: X,
    y: Y,
) -> Result<()>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(&plot.title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(x, y)
        .map_err(plot_error)?;
    let integer_label = |v: &f64| format!("{v:.0}");
    let mut mesh = chart.configure_mesh();
    if let Some(n) = x_ticks {
        mesh.x_labels(n).x_label_formatter(&integer_label);
    }
    mesh.x_desc(&plot.x_label)
        .y_desc(&plot.y_label)
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 14))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(plot_error)?;
    for (i, (label, points)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label(label)
            .legend(move |(lx, ly)| {
                PathElement::new(vec![(lx, ly), (lx + 20, ly)], color.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(plot_error)?;
    }
    chart
        .configure_series_labels()
        .position(corner)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use par_core::bench::Series;

    fn plot(log_x: bool, log_y: bool, series: Vec<Series>) -> Plot {
        Plot {
            name: "p".into(),
            title: "Speed-up against workers".into(),
            x_label: "workers".into(),
            y_label: "speed-up".into(),
            log_x,
            log_y,
            series,
        }
    }

    #[test]
    fn renders_svg_with_text_for_every_axis_kind() {
        let dir = std::env::temp_dir().join(format!("xtask-plot-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let s = vec![
            Series {
                label: "threads".into(),
                points: vec![(1.0, 1.0), (2.0, 1.9), (4.0, 2.0)],
            },
            Series {
                label: "processes".into(),
                points: vec![(1.0, 0.8), (2.0, f64::NAN), (4.0, 1.5)],
            },
        ];
        for (lx, ly) in [(false, false), (true, false), (false, true), (true, true)] {
            let path = dir.join(format!("p-{lx}-{ly}.svg"));
            render(&plot(lx, ly, s.clone()), &path).expect("renders");
            let svg = std::fs::read_to_string(&path).expect("svg written");
            assert!(svg.starts_with("<svg"), "{svg}");
            for text in [
                "Speed-up against workers",
                "workers",
                "speed-up",
                "threads",
                "processes",
            ] {
                assert!(
                    svg.contains(&format!(">{text}<")) || svg.contains(&format!(">\n{text}\n<")),
                    "{text} missing"
                );
            }
        }
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn a_plot_without_points_is_an_error() {
        let path = std::env::temp_dir().join("xtask-plot-test-empty.svg");
        let neg = vec![Series {
            label: "neg".into(),
            points: vec![(-1.0, 1.0)],
        }];
        assert!(render(&plot(true, false, neg), &path).is_err());
        assert!(render(&plot(false, false, vec![]), &path).is_err());
    }

    #[test]
    fn bounds_pad_and_handle_single_points() {
        let b = bounds([(1.0, 2.0), (3.0, 4.0)].into_iter(), false, false).expect("points");
        assert!((b.0.0 - 0.9).abs() < 1e-12 && (b.0.1 - 3.1).abs() < 1e-12);
        let single = bounds([(0.0, 5.0)].into_iter(), false, false).expect("points");
        assert!(single.0.0 < 0.0 && single.0.1 > 0.0 && single.1.0 < 5.0 && single.1.1 > 5.0);
        let log = bounds([(1.0, 10.0), (100.0, 10.0)].into_iter(), true, true).expect("points");
        assert!(log.0.0 > 0.0 && log.0.0 < 1.0 && log.1.0 > 0.0 && log.1.1 > 10.0);
        assert!(bounds(std::iter::empty(), false, false).is_none());
    }

    #[test]
    fn integer_x_values_get_one_label_each() {
        let workers = vec![("a".to_string(), vec![(1.0, 1.0), (2.0, 1.9), (4.0, 2.0)])];
        assert_eq!(integer_ticks(&workers, false), Some(4));
        assert_eq!(integer_ticks(&workers, true), None);
        let fractional = vec![("a".to_string(), vec![(0.5, 1.0), (2.0, 1.9)])];
        assert_eq!(integer_ticks(&fractional, false), None);
        let wide = vec![("a".to_string(), vec![(1.0, 1.0), (100.0, 1.9)])];
        assert_eq!(integer_ticks(&wide, false), None);
    }

    #[test]
    fn headroom_frees_the_top_of_the_axis() {
        assert_eq!(headroom((0.0, 1.0), 0.47, false), (0.0, 2.0));
        let (lo, hi) = headroom((1.0, 100.0), 0.47, true);
        assert!(lo == 1.0 && (hi - 10_000.0).abs() < 1e-6);
        // Lines everywhere: after the headroom an upper corner is free.
        let lines: Vec<Line> = (0..4)
            .map(|i| {
                let v = f64::from(i) / 3.0;
                (format!("series {i}"), vec![(0.0, v), (1.0, 1.0 - v)])
            })
            .collect();
        let (_, covered) = legend_corner(&lines, (0.0, 1.0), (0.0, 1.0), false, false);
        assert!(covered > 0);
        let y = headroom((0.0, 1.0), legend_size(&lines).1, false);
        let (_, covered) = legend_corner(&lines, (0.0, 1.0), y, false, false);
        assert_eq!(covered, 0);
    }

    #[test]
    fn legend_avoids_the_lines() {
        let line = |points: &[(f64, f64)]| ("a label".to_string(), points.to_vec());
        let unit = (0.0, 1.0);
        // A rising line leaves the upper-left corner free.
        let rising = [line(&[(0.0, 0.0), (1.0, 1.0)])];
        let corner = legend_corner(&rising, unit, unit, false, false).0;
        assert!(matches!(corner, SeriesLabelPosition::UpperLeft));
        // A line along the top leaves the lower corners; lower-right is preferred.
        let top = [line(&[(0.0, 1.0), (1.0, 1.0)])];
        let corner = legend_corner(&top, unit, unit, false, false).0;
        assert!(matches!(corner, SeriesLabelPosition::LowerRight));
        // Segments count, not only points: a line crossing the lower-right corner between
        // points far from it rules that corner out.
        let crossing = [
            line(&[(0.0, 1.0), (1.0, 1.0)]),
            line(&[(0.8, 0.0), (1.0, 0.2)]),
        ];
        let corner = legend_corner(&crossing, unit, unit, false, false).0;
        assert!(matches!(corner, SeriesLabelPosition::LowerLeft));
    }
}
