//! The latent space: every test image's latent code on the two axes of most variance
//! (PCA, in the model crate), coloured and shaped by label; hover names the image.

use leptos::ev::{KeyboardEvent, PointerEvent};
use leptos::html::Canvas;
use leptos::prelude::*;

use super::charts::draw_latent;
use super::state::LabState;
use crate::gallery::{self, LabelFilter, VerdictFilter};
use crate::plot::Frame;
use crate::protocol::ModelView;

/// Pixels within which the pointer picks a point.
const PICK_RADIUS: f64 = 10.0;

/// The scatter of the test set's latent codes, for a model with a latent.
#[component]
pub fn LatentSpace(view: ModelView) -> impl IntoView {
    let state = expect_context::<LabState>();
    let Some(latent) = view.latent.clone() else {
        return view! { <p class="hint" data-testid="latent-missing">"This model has no latent codes to show."</p> }.into_any();
    };
    let view = StoredValue::new(view);
    let latent = StoredValue::new(latent);
    let canvas = NodeRef::<Canvas>::new();
    let frame = StoredValue::new(None::<Frame>);
    let (hovered, set_hovered) = signal(None::<usize>);
    Effect::new(move |_| {
        let highlighted = hovered.get();
        let Some(canvas) = canvas.get() else {
            return;
        };
        // A task of its own: with thousands of points this is the costliest view to draw,
        // and a model's arrival lays out every view at once (one 83 ms task at 10,000
        // test images when drawn with the rest).
        gloo_timers::callback::Timeout::new(0, move || {
            // The view may have gone meanwhile (another model opened): then nothing to draw.
            let drawn = latent.try_with_value(|l| {
                view.try_with_value(|v| {
                    draw_latent(
                        canvas,
                        &l.points,
                        &v.test_is_anomaly,
                        l.explained,
                        highlighted,
                    )
                })
            });
            if let Some(drawn) = drawn.flatten() {
                let _ = frame.try_set_value(drawn);
            }
        })
        .forget();
    });
    // The point under a pointer at (x, y), CSS pixels from the canvas's corner.
    let pick = move |x: i32, y: i32| {
        let f = frame.get_value()?;
        latent.with_value(|l| {
            let points = l.points.iter().map(|p| (f64::from(p[0]), f64::from(p[1])));
            f.nearest(points, f64::from(x), f64::from(y), PICK_RADIUS)
        })
    };
    let description = move || {
        let index = hovered.get()?;
        let threshold = state
            .lab
            .with(|lab| lab.threshold_value())
            .unwrap_or(f32::NAN);
        view.with_value(|v| {
            let score = v.test_scores.get(index).copied()?;
            let name = match v.test_names.get(index) {
                Some(name) => format!("test image {index}: {name}"),
                None => format!("test image {index}"),
            };
            let kind = match v.test_is_anomaly.get(index) {
                Some(true) => " · anomaly",
                Some(false) => " · normal",
                None => "",
            };
            let verdict = if score > threshold {
                "flagged"
            } else {
                "passed"
            };
            Some(format!("{name}{kind} · score {score:.5} · {verdict}"))
        })
    };
    let dim = latent.with_value(|l| l.dim);
    view! {
        <div class="latent-section">
            <p class="hint">{format!("Each test image's {dim}-number latent code, flattened onto its two directions of most variance (PCA): normal images blue dots, anomalies orange triangles. Where anomalies land apart from the normal cloud, the latent alone tells them apart. Hover a point to name it (or focus the chart and use the arrow keys, most anomalous first); click it (or press Enter) to open it in the gallery.")}</p>
            <canvas
                node_ref=canvas
                class="chart square"
                data-testid="latent-scatter"
                width="520"
                height="460"
                on:pointermove=move |ev: PointerEvent| set_hovered.set(pick(ev.offset_x(), ev.offset_y()))
                on:pointerleave=move |_| set_hovered.set(None)
                tabindex="0"
                aria-label="Latent space: arrow keys walk through the test images, most anomalous first; Enter opens one in the gallery"
                on:keydown=move |ev: KeyboardEvent| {
                    let delta = match ev.key().as_str() {
                        "ArrowRight" | "ArrowDown" => 1,
                        "ArrowLeft" | "ArrowUp" => -1,
                        "PageDown" => 10,
                        "PageUp" => -10,
                        "Home" => isize::MIN,
                        "End" => isize::MAX,
                        "Enter" => {
                            if let Some(index) = hovered.get_untracked() {
                                state.lab.update(|lab| lab.gallery.open(Some(index)));
                            }
                            return;
                        }
                        _ => return,
                    };
                    ev.prevent_default();
                    let order = view.with_value(|v| gallery::order(v, f32::INFINITY, LabelFilter::All, VerdictFilter::All));
                    set_hovered.set(gallery::step_in(&order, hovered.get_untracked(), delta));
                }
                on:click=move |ev| {
                    if let Some(index) = pick(ev.offset_x(), ev.offset_y()) {
                        state.lab.update(|lab| lab.gallery.open(Some(index)));
                    }
                }
            ></canvas>
            <p data-testid="latent-hover" aria-live="polite">{move || description().unwrap_or_else(|| "hover a point".to_owned())}</p>
        </div>
    }
    .into_any()
}
