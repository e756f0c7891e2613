//! Kiosk mode (`?kiosk`): one model (a link's shipped checkpoint, else the best shipped
//! one), no settings; a big button to pick or photograph an image, the camera, and for
//! the latest image a big pass or flag with its heat map over the image. Large type for
//! a screen read from a step away.

use leptos::html::Input;
use leptos::prelude::*;

use super::camera::Camera;
use super::pixels::{views, Pixels};
use super::results::title;
use super::state::LabState;
use super::uploads::{on_drop, on_pick};
use crate::lab::Phase;
use crate::protocol::{Action, FileBytes, Sample};

/// The whole kiosk page.
#[component]
pub fn Kiosk() -> impl IntoView {
    let state = expect_context::<LabState>();
    let send = move |files: Vec<FileBytes>| state.send(Action::ScoreImages(files));
    let picker = NodeRef::<Input>::new();
    let ready = move || state.lab.with(|lab| lab.model.is_some() && !lab.is_busy());
    let model = move || state.lab.with(|lab| lab.model.as_ref().map(title));
    let status = move || {
        state.lab.with(|lab| match &lab.phase {
            Phase::Busy(what) => Some(format!("{what}…")),
            Phase::Failed(error) => Some(format!("failed: {error}")),
            _ => lab.notice.clone(),
        })
    };
    // The latest image, judged by the page's threshold (a link's method, say) if set,
    // else by the one the worker applied (the model's own).
    let latest = move || {
        state.lab.with(|lab| {
            let report = lab.scored.as_ref()?;
            let sample = report.images.last()?.clone();
            let threshold = lab.threshold_value().unwrap_or(report.threshold.value);
            Some((sample, threshold))
        })
    };
    view! {
        <section class="kiosk" aria-label="Check an image">
            <p class="kiosk-model" data-testid="kiosk-model">{move || model().unwrap_or_else(|| "loading the model…".into())}</p>
            <div class="kiosk-actions" on:dragover=|ev: web_sys::DragEvent| ev.prevent_default() on:drop=on_drop(send)>
                <label class="big-button">
                    "Check an image"
                    <input node_ref=picker data-testid="kiosk-file" type="file" accept="image/*" capture="environment" class="visually-hidden" disabled=move || !ready() on:change=on_pick(picker, send) />
                </label>
                <Camera on_snapshot=move |file| send(vec![file]) ready=Signal::derive(ready) />
            </div>
            {move || status().map(|s| view! { <p class="kiosk-status" role="status" data-testid="kiosk-status">{s}</p> })}
            {move || latest().map(|(sample, threshold)| view! { <Verdict sample threshold /> })}
        </section>
    }
}

/// One image's verdict, big: pass or flag (a word and a shape, not only a colour), the
/// heat map over the image beside the image itself.
#[component]
fn Verdict(sample: Sample, threshold: f32) -> impl IntoView {
    let flagged = sample.score > threshold;
    let side = sample.side as u32;
    let [input, _, _, over] = views(&sample);
    let (word, class) = if flagged {
        ("▲ FLAG", "verdict flag")
    } else {
        ("● PASS", "verdict pass")
    };
    view! {
        <div class=class data-testid="kiosk-verdict" data-flagged=flagged.to_string() data-score=sample.score.to_string() data-threshold=threshold.to_string()>
            <p class="verdict-word">{word}</p>
            <p class="verdict-detail">{format!("{} · score {:.5} · threshold {:.5}", sample.label, sample.score, threshold)}</p>
            <div class="kiosk-images">
                <figure><Pixels testid="kiosk-input" rgba=input side title="the image" /><figcaption>"the image"</figcaption></figure>
                <figure><Pixels testid="kiosk-heat" rgba=over side title="where it differs" /><figcaption>"where it differs from normal"</figcaption></figure>
            </div>
        </div>
    }
}
