//! The threshold: a picker of the six methods with their parameters, the histogram whose
//! line is dragged (pointer or touch) or moved with the arrow keys, and what it flags.

use kizu_model::threshold::ThresholdMethod;
use leptos::ev::{KeyboardEvent, PointerEvent};
use leptos::html::Canvas;
use leptos::prelude::*;

use super::charts::draw_histogram;
use super::state::LabState;
use crate::plot::Frame;
use crate::protocol::ModelView;
use crate::steer::{self, Choice, Steered};

/// "0.912" or "n/a" for a rate that is undefined.
fn rate(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

/// The picker, the histogram and the outcome at the threshold.
#[component]
pub fn ThresholdControl(view: ModelView) -> impl IntoView {
    let state = expect_context::<LabState>();
    let items = view.items().1;
    let view = StoredValue::new(view);
    let threshold = Signal::derive(move || {
        state
            .lab
            .with(|lab| lab.threshold_value())
            .unwrap_or(f32::NAN)
    });
    let outcome = move || {
        state.lab.with(|lab| lab.confusion_at(threshold.get())).map(|c| {
            view! {
                <table class="confusion" data-testid="confusion-matrix">
                    <tr><th></th><th scope="col">"flagged"</th><th scope="col">"passed"</th></tr>
                    <tr><th scope="row">"anomalous"</th>
                        <td data-testid="true-positives">{c.true_positives}</td>
                        <td data-testid="false-negatives">{c.false_negatives}</td></tr>
                    <tr><th scope="row">"normal"</th>
                        <td data-testid="false-positives">{c.false_positives}</td>
                        <td data-testid="true-negatives">{c.true_negatives}</td></tr>
                </table>
                <p data-testid="confusion">
                    {format!(
                        "flags {} of {} anomalies and {} of {} normal {items} · precision {} · recall {} · F1 {} · accuracy {}",
                        c.true_positives,
                        c.true_positives + c.false_negatives,
                        c.false_positives,
                        c.false_positives + c.true_negatives,
                        rate(c.precision()),
                        rate(c.recall()),
                        rate(c.f1()),
                        rate(c.accuracy()),
                    )}
                </p>
            }
        })
    };
    let note = move || {
        state
            .lab
            .with(|lab| lab.threshold.as_ref().and_then(|t| t.note.clone()))
    };
    view! {
        <div class="threshold">
            <MethodPicker view />
            <p class="metrics">
                "threshold = " <strong data-testid="threshold" data-value=move || threshold.get().to_string()>{move || format!("{:.5}", threshold.get())}</strong>
            </p>
            {move || note().map(|n| view! { <p class="hint" data-testid="threshold-note">{n}</p> })}
            <p class="hint">{format!("Histogram of the test scores: normal {items} blue, anomalies orange. Those right of the black line are flagged. Drag the line, or focus the chart and use the arrow keys (Page Up/Down: bigger steps).")}</p>
            <DraggableHistogram view />
            {outcome}
        </div>
    }
}

/// The six methods (and the model's own), with a parameter field where the method has one.
#[component]
fn MethodPicker(view: StoredValue<ModelView>) -> impl IntoView {
    let state = expect_context::<LabState>();
    let own = view.with_value(|v| {
        v.thresholds
            .first()
            .map(|t| t.method.clone())
            .unwrap_or_default()
    });
    // Opens on the threshold in use (a link's method, say), else the model's own.
    let (id, parameter) = state
        .lab
        .with_untracked(|lab| lab.threshold.as_ref().and_then(Steered::ids))
        .filter(|(id, _)| id != "manual")
        .unwrap_or_else(|| ("own".to_owned(), String::new()));
    let (method_id, set_method_id) = signal(id);
    let (parameter_text, set_parameter_text) = signal(parameter);
    let (error, set_error) = signal(None::<String>);
    // A threshold moved by hand shows as "set by hand" in the picker.
    let manual = move || {
        state.lab.with(|lab| {
            matches!(
                lab.threshold.as_ref().map(|t| t.choice),
                Some(Choice::Manual)
            )
        })
    };
    let apply = move || {
        let id = method_id.get_untracked();
        if id == "own" {
            set_error.set(None);
            if let Some(own) = view.with_value(Steered::own) {
                state.lab.update(|lab| lab.steer(own));
            }
            return;
        }
        let fitted = ThresholdMethod::from_ids(&id, &parameter_text.get_untracked())
            .and_then(|method| view.with_value(|v| Steered::fitted(v, method)));
        match fitted {
            Ok(threshold) => {
                set_error.set(None);
                state.lab.update(|lab| lab.steer(threshold));
            }
            // Refused next to its field; the threshold stays as it was.
            Err(e) => set_error.set(Some(e)),
        }
    };
    let parameter = move || ThresholdMethod::parameter(&method_id.get());
    view! {
        <p class="form">
            <label>
                "threshold method "
                <select
                    data-testid="threshold-method"
                    aria-label="Threshold method"
                    prop:value=move || if manual() { "manual".to_owned() } else { method_id.get() }
                    on:change=move |ev| {
                        let id = event_target_value(&ev);
                        if let Some(p) = ThresholdMethod::parameter(&id) {
                            set_parameter_text.set(p.default.to_string());
                        }
                        set_method_id.set(id);
                        apply();
                    }
                >
                    <option value="own">{format!("the model's own: {own} of its training scores")}</option>
                    {ThresholdMethod::IDS
                        .iter()
                        .map(|(id, label)| view! { <option value=*id>{*label}</option> })
                        .collect_view()}
                    <option value="manual" disabled=true>"set by hand"</option>
                </select>
            </label>
            {move || parameter().map(|p| view! {
                <label>
                    {p.name} " "
                    <input
                        type="number"
                        data-testid="threshold-parameter"
                        step="any"
                        min=p.min.to_string()
                        max=p.max.to_string()
                        prop:value=parameter_text
                        on:change=move |ev| {
                            set_parameter_text.set(event_target_value(&ev));
                            apply();
                        }
                    />
                </label>
            })}
            {move || error.get().map(|e| view! { <span class="field-error" role="alert" data-testid="threshold-parameter-error">{e}</span> })}
        </p>
    }
}

/// A threshold slider's key handler: the keys of [`steer::key_steps`] move the threshold
/// by `step` (across the histogram's range, or along the test scores).
pub(super) fn threshold_keys(
    state: LabState,
    step: fn(&Steered, &ModelView, i32) -> Steered,
) -> impl Fn(KeyboardEvent) + Copy {
    move |ev: KeyboardEvent| {
        let Some(steps) = steer::key_steps(&ev.key()) else {
            return;
        };
        ev.prevent_default();
        state.lab.update(|lab| {
            if let (Some(t), Some(v)) = (lab.threshold.as_ref(), lab.model.as_ref()) {
                let moved = step(t, v, steps);
                lab.steer(moved);
            }
        });
    }
}

/// The score histogram with a threshold line that follows the pointer and the keys.
#[component]
fn DraggableHistogram(view: StoredValue<ModelView>) -> impl IntoView {
    let state = expect_context::<LabState>();
    let canvas = NodeRef::<Canvas>::new();
    let frame = StoredValue::new(None::<Frame>);
    let (dragging, set_dragging) = signal(false);
    let threshold = move || {
        state
            .lab
            .with(|lab| lab.threshold_value())
            .unwrap_or(f32::NAN)
    };
    Effect::new(move |_| {
        let value = threshold();
        if let Some(canvas) = canvas.get() {
            let drawn = view.with_value(|v| draw_histogram(canvas, v, value));
            frame.set_value(drawn);
        }
    });
    let move_to = move |ev: &PointerEvent| {
        if let Some(f) = frame.get_value() {
            let value = f.x_at(f64::from(ev.offset_x())) as f32;
            state.lab.update(|lab| lab.steer(Steered::manual(value)));
        }
    };
    let on_down = move |ev: PointerEvent| {
        if let Some(target) = canvas.get() {
            // Keep receiving moves when the pointer (a finger) leaves the canvas.
            let _ = target.set_pointer_capture(ev.pointer_id());
        }
        set_dragging.set(true);
        move_to(&ev);
    };
    let on_move = move |ev: PointerEvent| {
        if dragging.get_untracked() {
            move_to(&ev);
        }
    };
    let on_key = threshold_keys(state, Steered::nudged);
    let (min, max) = view.with_value(|v| (v.histogram.min, v.histogram.max));
    view! {
        <canvas
            node_ref=canvas
            class="chart draggable"
            data-testid="histogram"
            width="640"
            height="280"
            tabindex="0"
            role="slider"
            aria-label="Threshold: drag the line or use the arrow keys"
            aria-valuemin=min.to_string()
            aria-valuemax=max.to_string()
            aria-valuenow=move || threshold().to_string()
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=move |_| set_dragging.set(false)
            on:pointercancel=move |_| set_dragging.set(false)
            on:keydown=on_key
        ></canvas>
    }
}
