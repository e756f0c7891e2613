//! Canvas charts (plotters): the live loss curve and the score histogram.

use kizu_model::metrics::Histogram;
use leptos::html::Canvas;
use leptos::prelude::*;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;

use super::state::LabState;
use crate::lab::{LossHistory, Phase};

/// Blue and orange: told apart with any colour vision.
const NORMAL: RGBColor = RGBColor(0, 114, 178);
const ANOMALOUS: RGBColor = RGBColor(230, 159, 0);

/// Progress bar, status line and the live loss curve.
#[component]
pub fn TrainingProgress() -> impl IntoView {
    let state = expect_context::<LabState>();
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let losses = state.lab.with(|lab| lab.losses.clone());
        if let Some(canvas) = canvas.get() {
            draw_losses(canvas, &losses);
        }
    });
    let fraction = move || {
        state.lab.with(|lab| {
            lab.last_step
                .as_ref()
                .map_or(0.0, |s| s.step as f64 / s.total_steps.max(1) as f64)
        })
    };
    let status = move || {
        state.lab.with(|lab| match &lab.phase {
            Phase::Idle => "Open a trained model above, or train one below.".to_owned(),
            Phase::Busy(what) => match &lab.last_step {
                Some(s) if what == "training" => {
                    let losses: Vec<String> = s
                        .losses
                        .iter()
                        .take(2)
                        .map(|(name, value)| format!("{name} loss {value:.5}"))
                        .collect();
                    format!(
                        "training: epoch {}, step {}/{}, {}",
                        s.epoch + 1,
                        s.step,
                        s.total_steps,
                        losses.join(", ")
                    )
                }
                _ => format!("{what}…"),
            },
            Phase::Done => "done".to_owned(),
            Phase::Failed(message) => format!("failed: {message}"),
        })
    };
    let notice = move || state.lab.with(|lab| lab.notice.clone());
    let has_losses = move || state.lab.with(|lab| lab.losses.steps() > 0 || lab.training);
    view! {
        <section class="progress" aria-label="Progress">
            <p data-testid="status" role="status" aria-live="polite">{status}</p>
            {move || notice().map(|n| view! { <p class="warning" data-testid="notice" role="alert">{n}</p> })}
            <div class:hidden=move || !has_losses()>
                <progress data-testid="progress" max="1" value=move || fraction().to_string()></progress>
                <canvas node_ref=canvas data-testid="loss-chart" width="640" height="220"></canvas>
            </div>
        </section>
    }
}

/// A histogram of test scores, normal vs anomalous, with the threshold line.
#[component]
pub fn ScoreHistogram(
    histogram: Histogram,
    threshold: Signal<f32>,
    score_label: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let threshold = threshold.get();
        if let Some(canvas) = canvas.get() {
            draw_histogram(canvas, &histogram, threshold, &score_label);
        }
    });
    view! { <canvas node_ref=canvas data-testid="histogram" width="640" height="260"></canvas> }
}

/// One colour per loss term, in report order.
const SERIES: [RGBColor; 5] = [
    NORMAL,
    ANOMALOUS,
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
];

fn draw_losses(canvas: web_sys::HtmlCanvasElement, history: &LossHistory) {
    let Some(backend) = CanvasBackend::with_canvas_object(canvas) else {
        return;
    };
    let root = backend.into_drawing_area();
    // Drawing errors only mean a blank chart; the numbers are in the status line.
    let _ = root.fill(&WHITE);
    let values = || history.series.iter().flat_map(|(_, v)| v.iter().copied());
    let positive = |v: &f32| v.is_finite() && *v > 0.0;
    let max = values().filter(positive).fold(f32::MIN_POSITIVE, f32::max);
    let min = values().filter(positive).fold(max, f32::min);
    // A log axis keeps terms of different sizes (GANomaly's G and D) readable.
    let Ok(mut chart) = ChartBuilder::on(&root)
        .caption("training losses (log scale)", ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(64)
        .build_cartesian_2d(
            0usize..history.steps().max(2),
            (min * 0.8..max * 1.25).log_scale(),
        )
    else {
        return;
    };
    let _ = chart.configure_mesh().x_desc("step").draw();
    for ((name, series), color) in history.series.iter().zip(SERIES.iter().cycle()) {
        let points = series
            .iter()
            .enumerate()
            .filter(|(_, v)| positive(v))
            .map(|(i, &v)| (i, v));
        if let Ok(drawn) = chart.draw_series(LineSeries::new(points, color)) {
            let color = *color;
            drawn
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 12, y)], color));
        }
    }
    if history.series.len() > 1 {
        let _ = chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw();
    }
    let _ = root.present();
}

fn draw_histogram(
    canvas: web_sys::HtmlCanvasElement,
    histogram: &Histogram,
    threshold: f32,
    score_label: &str,
) {
    let Some(backend) = CanvasBackend::with_canvas_object(canvas) else {
        return;
    };
    let root = backend.into_drawing_area();
    let _ = root.fill(&WHITE);
    let top = histogram
        .normal
        .iter()
        .chain(&histogram.anomalous)
        .copied()
        .max()
        .unwrap_or(1)
        .max(1);
    let Ok(mut chart) = ChartBuilder::on(&root)
        .caption(format!("test scores ({score_label})"), ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(44)
        .build_cartesian_2d(histogram.min..histogram.max, 0u32..top + top / 10 + 1)
    else {
        return;
    };
    let _ = chart.configure_mesh().y_desc("images").draw();
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
            series.label(name).legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
            });
        }
    }
    if let Ok(series) = chart.draw_series(LineSeries::new(
        [(threshold, 0), (threshold, top + top / 10)],
        BLACK.stroke_width(2),
    )) {
        series
            .label("threshold")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 10, y)], BLACK));
    }
    let _ = chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw();
    let _ = root.present();
}
