//! After a run: AUC, threshold, the score histogram and sample images.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};

use super::charts::ScoreHistogram;
use super::state::RunState;
use crate::protocol::{RunResult, Sample};
use kizu_model::viz::{gray_rgba, heat_rgba};

/// The results of the last run, once there is one.
#[component]
pub fn Results() -> impl IntoView {
    let state = expect_context::<RunState>();
    move || {
        state
            .result
            .get()
            .map(|result| view! { <RunResults result /> })
    }
}

/// "0.912" or "n/a" for a rate that is undefined.
fn rate(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

#[component]
fn RunResults(result: RunResult) -> impl IntoView {
    let (chosen, set_chosen) = signal(0usize);
    let thresholds = StoredValue::new(result.thresholds.clone());
    let current = move || thresholds.with_value(|t| t.get(chosen.get()).cloned());
    let threshold_value = Signal::derive(move || current().map_or(f32::NAN, |t| t.threshold.value));
    let outcome = move || {
        current().map(|t| {
            let c = t.confusion;
            format!(
                "flags {} of {} anomalies and {} of {} normal images · precision {} · recall {} · F1 {} · accuracy {}",
                c.true_positives,
                c.true_positives + c.false_negatives,
                c.false_positives,
                c.false_positives + c.true_negatives,
                rate(c.precision()),
                rate(c.recall()),
                rate(c.f1()),
                rate(c.accuracy()),
            )
        })
    };
    let auc = result
        .auc
        .map_or_else(|| "n/a".to_owned(), |a| format!("{a:.4}"));
    let speed = format!(
        "training {:.0} images/s · scoring {:.0} images/s",
        result.throughput.train_images_per_second, result.throughput.score_images_per_second
    );
    let stopped = result.stopped_early.then(|| {
        format!(
            "stopped early after {} steps; results use what was learned",
            result.steps
        )
    });
    view! {
        <section class="results" aria-label="Results">
            <h2>"Results"</h2>
            {stopped.map(|s| view! { <p class="warning" data-testid="stopped-early">{s}</p> })}
            <p class="metrics">
                "ROC AUC " <strong data-testid="auc">{auc}</strong>
                " · threshold "
                <select
                    data-testid="threshold-method"
                    aria-label="Threshold method"
                    on:change=move |ev| {
                        if let Ok(i) = event_target_value(&ev).parse() {
                            set_chosen.set(i);
                        }
                    }
                >
                    {result
                        .thresholds
                        .iter()
                        .enumerate()
                        .map(|(i, t)| {
                            let label = format!("{} of training {}", t.method, result.score_label);
                            view! { <option value=i.to_string()>{label}</option> }
                        })
                        .collect_view()}
                </select>
                " = " <span data-testid="threshold">{move || format!("{:.5}", threshold_value.get())}</span>
            </p>
            <p data-testid="confusion">{outcome}</p>
            <p class="speed" data-testid="throughput">{speed}</p>
            <ScoreHistogram
                histogram=result.histogram.clone()
                threshold=threshold_value
                score_label=result.score_label.clone()
            />
            <h3>"Test samples: input, generated, difference"</h3>
            <div class="samples">
                {result
                    .samples
                    .into_iter()
                    .map(|sample| view! { <SampleCard sample threshold=threshold_value /> })
                    .collect_view()}
            </div>
        </section>
    }
}

#[component]
fn SampleCard(sample: Sample, threshold: Signal<f32>) -> impl IntoView {
    let class = if sample.is_anomaly {
        "sample anomalous"
    } else {
        "sample normal"
    };
    let kind = if sample.is_anomaly {
        "anomaly"
    } else {
        "normal"
    };
    let (digit, score) = (sample.digit, sample.score);
    let title = move || {
        let verdict = if score > threshold.get() {
            "flagged"
        } else {
            "passed"
        };
        format!("digit {digit} ({kind}) · score {score:.5} · {verdict}")
    };
    let side = sample.side as u32;
    view! {
        <figure class=class data-testid="sample">
            <div class="triptych">
                <Pixels testid="sample-input" rgba=gray_rgba(&sample.input) side />
                <Pixels testid="sample-generated" rgba=gray_rgba(&sample.generated) side />
                <Pixels testid="sample-difference" rgba=heat_rgba(&sample.difference) side />
            </div>
            <figcaption>{title}</figcaption>
        </figure>
    }
}

/// A square RGBA image drawn pixel for pixel (CSS scales it up, pixelated).
#[component]
fn Pixels(testid: &'static str, rgba: Vec<u8>, side: u32) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let Some(canvas) = canvas.get() else { return };
        let context = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok());
        let image =
            web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), side, side);
        if let (Some(context), Ok(image)) = (context, image) {
            let _ = context.put_image_data(&image, 0.0, 0.0);
        }
    });
    view! { <canvas node_ref=canvas data-testid=testid width=side height=side></canvas> }
}
