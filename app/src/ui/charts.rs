//! The one charting layer (plotters on a canvas): every chart is drawn at the screen's
//! pixel density ([`fit_to_screen`]) and reports its [`Frame`], so pointer positions map
//! to data (dragging the threshold, hovering a point). Colours survive colour-blindness:
//! normal blue, anomalous orange (Okabe-Ito), and anomalies also differ in shape.

use kizu_model::data::series::SeriesTrace;
use kizu_model::metrics::CurvePoint;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use crate::lab::LossHistory;
use crate::plot::{short_number, Frame};
use crate::protocol::ModelView;

/// Normal images.
pub const NORMAL: RGBColor = RGBColor(0, 114, 178);
/// Anomalous images.
pub const ANOMALOUS: RGBColor = RGBColor(230, 159, 0);
/// Images without a label.
const UNLABELLED: RGBColor = RGBColor(110, 110, 110);
/// Most points drawn of a curve (a curve of 10,000 scores looks the same with fewer).
const CURVE_POINTS: usize = 2_000;

/// One colour per loss term, in report order.
const SERIES: [RGBColor; 5] = [
    NORMAL,
    ANOMALOUS,
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
];

/// Sizes the canvas's pixels to its size on screen times the device pixel ratio, so lines
/// and text are sharp; returns the ratio (every length drawn is multiplied by it).
fn fit_to_screen(canvas: &HtmlCanvasElement) -> f64 {
    let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio().max(1.0));
    let (w, h) = (canvas.client_width(), canvas.client_height());
    if w > 0 && h > 0 {
        canvas.set_width((f64::from(w) * ratio).round() as u32);
        canvas.set_height((f64::from(h) * ratio).round() as u32);
        ratio
    } else {
        // Not laid out (hidden): draw at the canvas's own size.
        1.0
    }
}

/// A drawing area over the whole canvas at screen density, cleared, with its ratio.
fn area(canvas: HtmlCanvasElement) -> Option<(DrawingArea<CanvasBackend, Shift>, f64)> {
    let ratio = fit_to_screen(&canvas);
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    // Drawing errors only mean a blank chart; the numbers are on the page in text.
    let _ = root.fill(&WHITE);
    Some((root, ratio))
}

/// Draws the labels of `chart`'s series in the one style of every chart.
fn draw_legend<CT: CoordTranslate>(chart: &mut ChartContext<'_, CanvasBackend, CT>, r: f64) {
    let _ = chart
        .configure_series_labels()
        .label_font(font(13.0, r))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw();
}

/// Text at `size` CSS pixels.
fn font(size: f64, ratio: f64) -> (&'static str, f64) {
    ("sans-serif", size * ratio)
}

/// Where a chart's plotting area lies in CSS pixels, with its axes' ranges.
fn frame_of<C: plotters::coord::CoordTranslate>(
    area: &DrawingArea<CanvasBackend, C>,
    x: (f64, f64),
    y: (f64, f64),
    ratio: f64,
) -> Frame {
    let (xs, ys) = area.get_pixel_range();
    Frame {
        left: f64::from(xs.start) / ratio,
        top: f64::from(ys.start) / ratio,
        width: f64::from(xs.end - xs.start) / ratio,
        height: f64::from(ys.end - ys.start) / ratio,
        x,
        y,
    }
}

/// The loss curve of every term, on a log or a linear axis.
pub fn draw_losses(canvas: HtmlCanvasElement, history: &LossHistory, log: bool) {
    let Some((root, r)) = area(canvas) else {
        return;
    };
    let values = || history.series.iter().flat_map(|(_, v)| v.iter().copied());
    let shown = |v: &f32| v.is_finite() && (!log || *v > 0.0);
    let max = values().filter(shown).fold(f32::MIN_POSITIVE, f32::max);
    let min = values().filter(shown).fold(max, f32::min);
    // Within one decade a log axis has no labelled tick: linear reads better there.
    let log = log && max / min >= 10.0;
    let steps = history.steps().max(2);
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(
            if log {
                "training losses (log scale)"
            } else {
                "training losses"
            },
            font(16.0, r),
        )
        .margin(8.0 * r)
        .x_label_area_size(34.0 * r)
        .y_label_area_size(56.0 * r);
    let series = |x: usize, v: f32| (x, v);
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            let _ = chart
                .configure_mesh()
                .x_desc("step")
                .x_labels(6)
                .y_labels(5)
                .label_style(font(13.0, r))
                .y_label_formatter(&|v: &f32| short_number(f64::from(*v)))
                .draw();
            for ((name, values), color) in history.series.iter().zip(SERIES.iter().cycle()) {
                let points = values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| shown(v))
                    .map(|(i, &v)| series(i, v));
                let line = LineSeries::new(points, color.stroke_width((1.5 * r) as u32));
                if let Ok(drawn) = chart.draw_series(line) {
                    let color = *color;
                    let w = 14 * r as i32;
                    drawn
                        .label(name.as_str())
                        .legend(move |(x, y)| PathElement::new([(x, y), (x + w, y)], color));
                }
            }
            if history.series.len() > 1 {
                draw_legend(&mut chart, r);
            }
        }};
    }
    if log {
        if let Ok(chart) =
            builder.build_cartesian_2d(0usize..steps, (min * 0.8..max * 1.25).log_scale())
        {
            draw!(chart);
        }
    } else {
        let top = if max > min { max * 1.05 } else { max + 1.0 };
        if let Ok(chart) = builder.build_cartesian_2d(0usize..steps, min.min(0.0)..top) {
            draw!(chart);
        }
    }
    let _ = root.present();
}

/// Test scores, normal vs anomalous, with the threshold line; returns where the scores lie.
pub fn draw_histogram(
    canvas: HtmlCanvasElement,
    view: &ModelView,
    threshold: f32,
) -> Option<Frame> {
    let (histogram, score_label) = (&view.histogram, &view.score_label);
    let (root, r) = area(canvas)?;
    let top = histogram
        .normal
        .iter()
        .chain(&histogram.anomalous)
        .copied()
        .max()
        .unwrap_or(1)
        .max(1);
    let ceiling = top + top / 10 + 1;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("test scores ({score_label})"), font(16.0, r))
        .margin(10.0 * r)
        .x_label_area_size(34.0 * r)
        .y_label_area_size(48.0 * r)
        .build_cartesian_2d(histogram.min..histogram.max, 0u32..ceiling)
        .ok()?;
    let _ = chart
        .configure_mesh()
        .y_desc(view.items().1)
        .x_labels(6)
        .label_style(font(13.0, r))
        .x_label_formatter(&|v: &f32| short_number(f64::from(*v)))
        .draw();
    let width = histogram.bin_width();
    for (counts, color, name) in [
        (&histogram.normal, NORMAL, "normal"),
        (&histogram.anomalous, ANOMALOUS, "anomalous"),
    ] {
        let bars = counts.iter().enumerate().map(|(i, &n)| {
            let x0 = histogram.min + i as f32 * width;
            Rectangle::new([(x0, 0), (x0 + width, n)], color.mix(0.5).filled())
        });
        if let Ok(series) = chart.draw_series(bars) {
            let s = (5.0 * r) as i32;
            series.label(name).legend(move |(x, y)| {
                Rectangle::new([(x, y - s), (x + 2 * s, y + s)], color.filled())
            });
        }
    }
    let line = LineSeries::new(
        [(threshold, 0), (threshold, ceiling)],
        BLACK.stroke_width((3.0 * r) as u32),
    );
    if let Ok(series) = chart.draw_series(line) {
        let w = (12.0 * r) as i32;
        series
            .label("threshold (drag it)")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + w, y)], BLACK.stroke_width(3)));
    }
    draw_legend(&mut chart, r);
    let frame = frame_of(
        chart.plotting_area(),
        (f64::from(histogram.min), f64::from(histogram.max)),
        (0.0, f64::from(ceiling)),
        r,
    );
    let _ = root.present();
    Some(frame)
}

/// Which curve: ROC (true against false positives) or precision against recall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveKind {
    /// True-positive rate against false-positive rate.
    Roc,
    /// Precision against recall.
    PrecisionRecall,
}

/// A ROC or PR curve with the operating point of the current threshold marked; `baseline`
/// is chance (the diagonal for ROC, the share of anomalies for PR).
pub fn draw_curve(
    canvas: HtmlCanvasElement,
    kind: CurveKind,
    points: &[CurvePoint],
    marked: Option<(f64, f64)>,
    baseline: f64,
    caption: &str,
) {
    let Some((root, r)) = area(canvas) else {
        return;
    };
    let (x_desc, y_desc) = match kind {
        CurveKind::Roc => ("false-positive rate", "true-positive rate"),
        CurveKind::PrecisionRecall => ("recall", "precision"),
    };
    let Ok(mut chart) = ChartBuilder::on(&root)
        .caption(caption, font(15.0, r))
        .margin(10.0 * r)
        .x_label_area_size(38.0 * r)
        .y_label_area_size(48.0 * r)
        .build_cartesian_2d(0.0..1.0f64, 0.0..1.0f64)
    else {
        return;
    };
    let _ = chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(6)
        .y_labels(6)
        .label_style(font(12.0, r))
        .draw();
    let chance = match kind {
        CurveKind::Roc => [(0.0, 0.0), (1.0, 1.0)],
        CurveKind::PrecisionRecall => [(0.0, baseline), (1.0, baseline)],
    };
    let _ = chart.draw_series(DashedLineSeries::new(
        chance,
        (6.0 * r) as u32,
        (4.0 * r) as u32,
        RGBColor(120, 120, 120).stroke_width(r as u32),
    ));
    let every = points.len().div_ceil(CURVE_POINTS).max(1);
    let start = match kind {
        CurveKind::Roc => Some((0.0, 0.0)),
        CurveKind::PrecisionRecall => points.first().map(|p| (0.0, p.precision)),
    };
    let curve = start.into_iter().chain(
        points
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0 || *i + 1 == points.len())
            .map(|(_, p)| match kind {
                CurveKind::Roc => (p.false_positive_rate, p.true_positive_rate),
                CurveKind::PrecisionRecall => (p.true_positive_rate, p.precision),
            }),
    );
    let _ = chart.draw_series(LineSeries::new(
        curve,
        NORMAL.stroke_width((2.0 * r) as u32),
    ));
    if let Some(point) = marked {
        let size = (7.0 * r) as i32;
        let _ = chart.draw_series([
            Circle::new(point, size, BLACK.filled()),
            Circle::new(point, size / 2, ANOMALOUS.filled()),
        ]);
    }
    let _ = root.present();
}

/// The latent codes' plane: normal images as blue dots, anomalies as orange triangles
/// (unlabelled images grey); returns where the points lie.
pub fn draw_latent(
    canvas: HtmlCanvasElement,
    points: &[[f32; 2]],
    is_anomaly: &[bool],
    explained: [f32; 2],
    highlighted: Option<usize>,
) -> Option<Frame> {
    let (root, r) = area(canvas)?;
    let range = |k: usize| {
        let (lo, hi) = points
            .iter()
            .map(|p| f64::from(p[k]))
            .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = ((hi - lo) * 0.05).max(1e-6);
        if lo <= hi {
            (lo - pad, hi + pad)
        } else {
            (-1.0, 1.0)
        }
    };
    let (x, y) = (range(0), range(1));
    let mut chart = ChartBuilder::on(&root)
        .margin(10.0 * r)
        .x_label_area_size(38.0 * r)
        .y_label_area_size(48.0 * r)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .ok()?;
    let _ = chart
        .configure_mesh()
        .x_desc(format!(
            "first axis ({:.0}% of the variance)",
            explained[0] * 100.0
        ))
        .y_desc(format!("second axis ({:.0}%)", explained[1] * 100.0))
        .x_labels(5)
        .y_labels(5)
        .label_style(font(12.0, r))
        .x_label_formatter(&|v| short_number(*v))
        .y_label_formatter(&|v| short_number(*v))
        .draw();
    let at = |p: &[f32; 2]| (f64::from(p[0]), f64::from(p[1]));
    let label = |i: usize| is_anomaly.get(i).copied();
    let dot = (2.5 * r) as i32;
    let normal = points
        .iter()
        .enumerate()
        .filter(|&(i, _)| label(i) != Some(true))
        .map(|(i, p)| {
            let colour = if label(i).is_some() {
                NORMAL
            } else {
                UNLABELLED
            };
            Circle::new(at(p), dot, colour.mix(0.7).filled())
        });
    if let Ok(series) = chart.draw_series(normal) {
        series
            .label("normal")
            .legend(move |(x, y)| Circle::new((x, y), dot + 1, NORMAL.filled()));
    }
    let triangle = (4.5 * r) as i32;
    let anomalous = points
        .iter()
        .enumerate()
        .filter(|&(i, _)| label(i) == Some(true))
        .map(|(_, p)| TriangleMarker::new(at(p), triangle, ANOMALOUS.filled()));
    if let Ok(series) = chart.draw_series(anomalous) {
        series
            .label("anomalous")
            .legend(move |(x, y)| TriangleMarker::new((x, y), triangle, ANOMALOUS.filled()));
    }
    if let Some(p) = highlighted.and_then(|i| points.get(i)) {
        let _ = chart.draw_series([Circle::new(
            at(p),
            (7.0 * r) as i32,
            BLACK.stroke_width((2.0 * r) as u32),
        )]);
    }
    if is_anomaly.iter().any(|&a| a) {
        draw_legend(&mut chart, r);
    }
    let frame = frame_of(chart.plotting_area(), x, y, r);
    let _ = root.present();
    Some(frame)
}

/// The step range a series trace covers, as chart coordinates.
fn trace_steps(trace: &SeriesTrace) -> (f64, f64) {
    let first = trace.first_step as f64;
    (first, first + (trace.points * trace.bucket).max(1) as f64)
}

/// A chart over the steps of `trace`'s test part with `y`'s range, its mesh drawn.
fn series_chart<'a>(
    root: &'a DrawingArea<CanvasBackend, Shift>,
    r: f64,
    caption: &str,
    trace: &SeriesTrace,
    y: (f64, f64),
) -> Option<ChartContext<'a, CanvasBackend, Cartesian2d<RangedCoordf64, RangedCoordf64>>> {
    let (x0, x1) = trace_steps(trace);
    let mut chart = ChartBuilder::on(root)
        .caption(caption, font(16.0, r))
        .margin(8.0 * r)
        .x_label_area_size(34.0 * r)
        .y_label_area_size(56.0 * r)
        .build_cartesian_2d(x0..x1, y.0..y.1)
        .ok()?;
    let _ = chart
        .configure_mesh()
        .x_desc("step")
        .x_labels(8)
        .x_label_formatter(&|v: &f64| format!("{v:.0}"))
        .y_labels(5)
        .label_style(font(13.0, r))
        .y_label_formatter(&|v: &f64| short_number(*v))
        .draw();
    Some(chart)
}

/// Shades the labelled anomalous points of `trace` across `y`.
fn shade_labels<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    trace: &SeriesTrace,
    y: (f64, f64),
) {
    let bucket = trace.bucket as f64;
    let shades = trace
        .labels
        .iter()
        .enumerate()
        .filter(|(_, &l)| l)
        .map(|(p, _)| {
            let x = trace.step_of(p) as f64;
            Rectangle::new([(x, y.0), (x + bucket, y.1)], ANOMALOUS.mix(0.25).filled())
        });
    let _ = chart.draw_series(shades);
}

/// One sensor's readings over the test part with the model's reconstruction laid over
/// them; labelled anomalous steps shaded orange.
pub fn draw_sensor(canvas: HtmlCanvasElement, trace: &SeriesTrace, sensor: usize) {
    let Some((root, r)) = area(canvas) else {
        return;
    };
    let values: Vec<f32> = trace.sensor(&trace.values, sensor).collect();
    let rebuilt: Vec<f32> = trace.sensor(&trace.reconstruction, sensor).collect();
    let (lo, hi) = values
        .iter()
        .chain(&rebuilt)
        .filter(|v| v.is_finite())
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return;
    }
    // Headroom above the data for the legend, so it hides no reading.
    let span = f64::from((hi - lo).max(1e-6));
    let y = (f64::from(lo) - span * 0.08, f64::from(hi) + span * 0.6);
    let name = trace.sensors.get(sensor).map_or("", String::as_str);
    let caption = format!("{name}: reading and reconstruction");
    let Some(mut chart) = series_chart(&root, r, &caption, trace, y) else {
        return;
    };
    shade_labels(&mut chart, trace, y);
    for (points, color, label) in [
        (&values, NORMAL, "reading"),
        (&rebuilt, SERIES[2], "reconstruction"),
    ] {
        let line = points
            .iter()
            .enumerate()
            .map(|(p, &v)| (trace.step_of(p) as f64, f64::from(v)));
        if let Ok(drawn) =
            chart.draw_series(LineSeries::new(line, color.stroke_width((1.2 * r) as u32)))
        {
            let w = (14.0 * r) as i32;
            drawn
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + w, y)], color));
        }
    }
    draw_legend(&mut chart, r);
    let _ = root.present();
}

/// Each test window's score at its middle step, normal windows blue, labelled anomalous
/// ones orange triangles, with the threshold line; the steps of windows above it shaded.
pub fn draw_window_scores(
    canvas: HtmlCanvasElement,
    trace: &SeriesTrace,
    scores: &[f32],
    is_anomaly: &[bool],
    threshold: f32,
) {
    let Some((root, r)) = area(canvas) else {
        return;
    };
    let top = scores
        .iter()
        .copied()
        .filter(|s| s.is_finite())
        .fold(threshold.max(f32::MIN_POSITIVE), f32::max);
    // Headroom above the highest score for the legend.
    let y = (0.0, f64::from(top) * 1.9);
    let caption = "window score over time (flagged windows shaded)";
    let Some(mut chart) = series_chart(&root, r, caption, trace, y) else {
        return;
    };
    let (x0, x1) = trace_steps(trace);
    // Flagged windows merged into runs of steps, so overlaps do not darken.
    let length = trace.window_length as f64;
    let mut runs: Vec<(f64, f64)> = Vec::new();
    for (&start, _) in trace
        .window_starts
        .iter()
        .zip(scores)
        .filter(|(_, &s)| s > threshold)
    {
        let (a, b) = (start as f64, start as f64 + length);
        match runs.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => runs.push((a, b)),
        }
    }
    let _ = chart.draw_series(runs.iter().map(|&(a, b)| {
        Rectangle::new(
            [(a, y.0), (b, y.1)],
            RGBColor(213, 94, 0).mix(0.18).filled(),
        )
    }));
    let middle = |w: usize| trace.window_starts[w] as f64 + length / 2.0;
    let line =
        (0..scores.len().min(trace.window_starts.len())).map(|w| (middle(w), f64::from(scores[w])));
    if let Ok(drawn) =
        chart.draw_series(LineSeries::new(line, NORMAL.stroke_width((1.2 * r) as u32)))
    {
        let w = (14.0 * r) as i32;
        drawn
            .label("window score")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + w, y)], NORMAL));
    }
    let size = (4.0 * r) as i32;
    let marked = (0..scores.len().min(trace.window_starts.len()))
        .filter(|&w| is_anomaly.get(w) == Some(&true))
        .map(|w| TriangleMarker::new((middle(w), f64::from(scores[w])), size, ANOMALOUS.filled()));
    if let Ok(drawn) = chart.draw_series(marked) {
        drawn
            .label("labelled anomalous window")
            .legend(move |(x, y)| TriangleMarker::new((x + 7, y), size, ANOMALOUS.filled()));
    }
    let t = f64::from(threshold);
    if let Ok(drawn) = chart.draw_series(LineSeries::new(
        [(x0, t), (x1, t)],
        BLACK.stroke_width((2.0 * r) as u32),
    )) {
        let w = (14.0 * r) as i32;
        drawn
            .label("threshold")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + w, y)], BLACK.stroke_width(2)));
    }
    draw_legend(&mut chart, r);
    let _ = root.present();
}
