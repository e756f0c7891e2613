//! Progress of the running command: the status line, the progress bar and the live loss
//! chart (log or linear).

use leptos::html::Canvas;
use leptos::prelude::*;

use super::charts::draw_losses;
use super::pixels::Quad;
use super::state::LabState;
use crate::lab::Phase;

/// Progress bar, status line and the live loss curve.
#[component]
pub fn TrainingProgress() -> impl IntoView {
    let state = expect_context::<LabState>();
    let canvas = NodeRef::<Canvas>::new();
    let (log_axis, set_log_axis) = signal(true);
    Effect::new(move |_| {
        let log = log_axis.get();
        state.lab.with(|lab| {
            if let Some(canvas) = canvas.get() {
                draw_losses(canvas, &lab.losses, log);
            }
        });
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
                Some(s) if what == "paused" => format!(
                    "paused after step {}/{}: Resume goes on with the same run",
                    s.step, s.total_steps
                ),
                Some(s) if what == "training" => {
                    let losses: Vec<String> = s
                        .losses
                        .iter()
                        .take(2)
                        .map(|(name, value)| format!("{name} loss {value:.5}"))
                        .collect();
                    let pace = s.pace().map_or_else(String::new, |(per_step, left)| {
                        format!(", {per_step:.0} ms/step, about {:.0} s left", left / 1000.0)
                    });
                    format!(
                        "training: epoch {}, step {}/{}{pace}, {}",
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
                <p class="hint">"Each loss term per training step: it should fall and then settle."
                    <label class="inline">
                        <input
                            type="checkbox"
                            data-testid="loss-log"
                            prop:checked=log_axis
                            on:change=move |ev| set_log_axis.set(event_target_checked(&ev))
                        />
                        " log scale"
                    </label>
                </p>
                <TrainingPreview />
                <canvas
                    node_ref=canvas
                    class="chart"
                    data-testid="loss-chart"
                    data-steps=move || state.lab.with(|lab| lab.losses.steps()).to_string()
                    width="640"
                    height="240"
                ></canvas>
            </div>
        </section>
    }
}

/// A few test images as the model in training generates them, redrawn every few seconds.
#[component]
fn TrainingPreview() -> impl IntoView {
    let state = expect_context::<LabState>();
    let preview = move || state.lab.with(|lab| lab.preview.clone());
    view! {
        <div class:hidden=move || preview().is_empty() data-testid="training-preview">
            <p class="hint">"What the model generates now (redrawn every 2 s; score: MSE, as the model's own score is fitted when training ends): input, generated, difference, difference over input."</p>
            <div class="samples preview">
                {move || preview()
                    .into_iter()
                    .map(|sample| {
                        let caption = format!("{} · MSE {:.5}", sample.label, sample.score);
                        let testids = ["preview-input", "preview-generated", "preview-difference", "preview-overlay"];
                        view! {
                            <figure class="sample" data-testid="preview-sample">
                                <Quad sample testids />
                                <figcaption>{caption}</figcaption>
                            </figure>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}
