//! The current model: what it is, its AUC, threshold, score histogram and sample images.

use leptos::prelude::*;

use super::charts::ScoreHistogram;
use super::pixels::{views, Pixels};
use super::state::LabState;
use crate::protocol::{ModelOrigin, ModelView, Sample};

/// The results of the session's model, once there is one.
#[component]
pub fn Results() -> impl IntoView {
    let state = expect_context::<LabState>();
    let model = Memo::new(move |_| state.lab.with(|lab| lab.model.clone()));
    move || model.get().map(|view| view! { <ModelResults view /> })
}

/// "0.912" or "n/a" for a rate that is undefined.
fn rate(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

/// "GANomaly, shipped checkpoint ganomaly-digit0.kizu, on digit 0 held out".
fn title(view: &ModelView) -> String {
    let origin = match &view.origin {
        ModelOrigin::Trained => "trained here".to_owned(),
        ModelOrigin::Shipped(file) => format!("pretrained ({file})"),
        ModelOrigin::Imported(file) => format!("from your file {file}"),
        ModelOrigin::Kept { name, .. } => format!("kept in this browser (“{name}”)"),
    };
    format!(
        "{} · {origin} · {} · {}x{}x{} input",
        view.model.label(),
        view.protocol.label(),
        view.input.0,
        view.input.0,
        view.input.1
    )
}

#[component]
fn ModelResults(view: ModelView) -> impl IntoView {
    let state = expect_context::<LabState>();
    let (chosen, set_chosen) = signal(0usize);
    let thresholds = StoredValue::new(view.thresholds.clone());
    let threshold_value = Signal::derive(move || {
        thresholds.with_value(|t| t.get(chosen.get()).map_or(f32::NAN, |t| t.threshold.value))
    });
    let outcome = move || {
        state.lab.with(|lab| lab.confusion_at(threshold_value.get())).map(|c| {
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
    let auc = view
        .auc
        .map_or_else(|| "n/a".to_owned(), |a| format!("{a:.4}"));
    let speed = view.throughput.map(|t| {
        format!(
            "training {:.0} images/s · scoring {:.0} images/s",
            t.train_images_per_second, t.score_images_per_second
        )
    });
    let stopped = view.stopped_early.then(|| {
        format!(
            "stopped early after {} steps; results use what was learned",
            view.steps.unwrap_or(0)
        )
    });
    let score_label = view.score_label.clone();
    view! {
        <section class="results" aria-label="Results">
            <h2 data-testid="model-title">{title(&view)}</h2>
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
                    {view
                        .thresholds
                        .iter()
                        .enumerate()
                        .map(|(i, t)| {
                            let label = format!("{} of training {}", t.method, score_label);
                            view! { <option value=i.to_string()>{label}</option> }
                        })
                        .collect_view()}
                </select>
                " = " <span data-testid="threshold">{move || format!("{:.5}", threshold_value.get())}</span>
            </p>
            <p data-testid="confusion">{outcome}</p>
            {speed.map(|s| view! { <p class="speed" data-testid="throughput">{s}</p> })}
            <ScoreHistogram
                histogram=view.histogram.clone()
                threshold=threshold_value
                score_label=view.score_label.clone()
            />
            <h3>"Test samples: input, generated, difference, difference over input"</h3>
            <p class="hint">"The heat map is dark where the model regenerates the image faithfully and bright where it cannot: on the same scale for every image of this model."</p>
            <div class="samples">
                {view
                    .samples
                    .into_iter()
                    .map(|sample| view! { <SampleCard sample threshold=threshold_value /> })
                    .collect_view()}
            </div>
        </section>
    }
}

/// One image with its four views, its score and the verdict at `threshold`.
#[component]
pub fn SampleCard(sample: Sample, threshold: Signal<f32>) -> impl IntoView {
    let class = match sample.is_anomaly {
        Some(true) => "sample anomalous",
        Some(false) => "sample normal",
        None => "sample",
    };
    let kind = match sample.is_anomaly {
        Some(true) => " (anomaly)",
        Some(false) => " (normal)",
        None => "",
    };
    let (label, score) = (sample.label.clone(), sample.score);
    let verdict = move || {
        if score > threshold.get() {
            "flagged"
        } else {
            "passed"
        }
    };
    let caption = {
        let label = label.clone();
        move || format!("{label}{kind} · score {score:.5} · {}", verdict())
    };
    let side = sample.side as u32;
    let [input, generated, heat, over] = views(&sample);
    view! {
        <figure class=class data-testid="sample" data-verdict=verdict data-label=label.clone() data-score=score.to_string()>
            <div class="quad">
                <Pixels testid="sample-input" rgba=input side title="input" />
                <Pixels testid="sample-generated" rgba=generated side title="generated" />
                <Pixels testid="sample-difference" rgba=heat side title="difference" />
                <Pixels testid="sample-overlay" rgba=over side title="difference over the input" />
            </div>
            <figcaption>{caption}</figcaption>
        </figure>
    }
}
