//! The current model: what it is, its AUC, threshold, score histogram and sample images.

use leptos::prelude::*;

use super::curves::Curves;
use super::gallery::GalleryView;
use super::latent::LatentSpace;
use super::pixels::Quad;
use super::series::SeriesViews;
use super::state::LabState;
use super::threshold::ThresholdControl;
use crate::protocol::{ModelOrigin, ModelView, Sample};

/// The results of the session's model, once there is one.
#[component]
pub fn Results() -> impl IntoView {
    let state = expect_context::<LabState>();
    let model = Memo::new(move |_| state.lab.with(|lab| lab.model.clone()));
    move || model.get().map(|view| view! { <ModelResults view /> })
}

/// "GANomaly, shipped checkpoint ganomaly-digit0.kizu, on digit 0 held out".
/// "Conv autoencoder · pretrained (file) · digit 0 held out · 28x28x1 input".
pub fn title(view: &ModelView) -> String {
    let origin = match &view.origin {
        ModelOrigin::Trained => "trained here".to_owned(),
        ModelOrigin::Shipped(file) => format!("pretrained ({file})"),
        ModelOrigin::Imported(file) => format!("from your file {file}"),
        ModelOrigin::Kept { name, .. } => format!("kept in this browser (“{name}”)"),
    };
    let input = match &view.series {
        Some(trace) => format!(
            "windows of {} steps x {} sensors",
            trace.window_length,
            trace.sensors.len()
        ),
        None => format!("{}x{}x{} input", view.input.0, view.input.0, view.input.1),
    };
    format!(
        "{} · {origin} · {} · {input}",
        view.model.label(),
        view.protocol.label(),
    )
}

#[component]
fn ModelResults(view: ModelView) -> impl IntoView {
    let state = expect_context::<LabState>();
    let threshold = Signal::derive(move || {
        state
            .lab
            .with(|lab| lab.threshold_value())
            .unwrap_or(f32::NAN)
    });
    let auc = view
        .auc
        .map_or_else(|| "n/a".to_owned(), |a| format!("{a:.4}"));
    // A series model's test items are windows.
    let (one, item) = view.items();
    let speed = view.throughput.map(|t| {
        format!(
            "training {:.0} {item}/s · scoring {:.0} {item}/s",
            t.train_images_per_second, t.score_images_per_second
        )
    });
    let stopped = match &view.diverged {
        Some(why) => Some(format!(
            "training diverged and was stopped: {why}. The results below use the last good weights, after step {}.",
            view.steps.unwrap_or(0)
        )),
        None => view.stopped_early.then(|| {
            format!(
                "stopped early after {} steps; results use what was learned",
                view.steps.unwrap_or(0)
            )
        }),
    };
    let diverged = view.diverged.is_some();
    let series = view.series.clone();
    let images = series.is_none();
    let test_count = view.test_scores.len();
    let score_label = view.score_label.clone();
    let csv_view = view.clone();
    view! {
        <section class="results" aria-label="Results">
            <h2 data-testid="model-title">{title(&view)}</h2>
            {stopped.map(|s| view! { <p class="warning" role="alert" data-testid="stopped-early" data-diverged=diverged.to_string()>{s}</p> })}
            <p class="metrics">
                "ROC AUC " <strong data-testid="auc">{auc}</strong>
                {format!(" on {test_count} test {item}, scored by ")}
                <span data-testid="score-label">{score_label}</span>
                {format!(" · 0.5 is chance, 1.0 ranks every anomaly above every normal {one}")}
            </p>
            {speed.map(|s| view! { <p class="speed" data-testid="throughput">{s}</p> })}
            <p>
                <button data-testid="download-scores" on:click=move |_| download_scores(&csv_view)>
                    "Download the scores (CSV)"
                </button>
                <span class="hint">" every training and test score with its label, to check any number here elsewhere"</span>
            </p>
            {series.map(|trace| view! { <SeriesViews view=view.clone() trace=*trace /> })}
            <h3>"Threshold"</h3>
            <ThresholdControl view=view.clone() />
            <h3>"Curves"</h3>
            <Curves view=view.clone() />
            {images.then(|| view! { <ImageViews view threshold /> })}
        </section>
    }
}

/// An image model's own views: its latent space, sample images and the gallery.
#[component]
fn ImageViews(view: ModelView, threshold: Signal<f32>) -> impl IntoView {
    view! {
        <h3>"Latent space"</h3>
        <LatentSpace view=view.clone() />
        <h3>"Test samples: input, generated, difference, difference over input"</h3>
        <p class="hint">"The heat map is dark where the model regenerates the image faithfully and bright where it cannot: on the same scale for every image of this model."</p>
        <div class="samples">
            {view
                .samples
                .into_iter()
                .map(|sample| view! { <SampleCard sample threshold /> })
                .collect_view()}
        </div>
        <GalleryView />
    }
}

/// Hands the user the scores of `view` as a CSV file.
fn download_scores(view: &ModelView) {
    let file = crate::protocol::FileBytes {
        path: crate::scores::file_name(view),
        bytes: crate::scores::csv(view).into_bytes(),
    };
    // A refused download leaves nothing to report: the browser shows its own reason.
    let _ = super::files::download(&file);
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
    let testids = [
        "sample-input",
        "sample-generated",
        "sample-difference",
        "sample-overlay",
    ];
    view! {
        <figure class=class data-testid="sample" data-verdict=verdict data-label=label.clone() data-score=score.to_string()>
            <Quad sample testids />
            <figcaption>{caption}</figcaption>
        </figure>
    }
}
