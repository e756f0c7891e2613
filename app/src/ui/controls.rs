//! The training form: every option of `kizu train` (data, model, size, input, training
//! options, batch, learning rate, epochs, seed), two presets, Train, Pause and Stop. The
//! checking is `crate::form`'s; a refused field says why beside it.

use kizu_model::data::Defect;
use kizu_model::zoo::Scale;
use leptos::prelude::*;

use super::share::ShareLink;
use super::state::LabState;
use crate::form::{hyperparameter_field, DataChoice, FieldError, Form, DIGIT_SIDES};
use crate::protocol::{
    Action, DataProtocol, DataSize, LearningRateSchedule, ModelKind, RunSettings,
};

/// The model the form starts with.
const DEFAULT_MODEL: ModelKind = ModelKind::ConvAutoencoder;

/// The form as a page opens without a link: the quick demo of the default model.
pub fn opening_form() -> Form {
    Form::from_settings(&RunSettings::quick_demo(
        DEFAULT_MODEL,
        DataProtocol::OneClass { digit: 0 },
    ))
}

/// The reason `field` is refused, if it is.
fn error_of(errors: &[FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.clone())
}

/// Settings form and run buttons.
#[component]
pub fn Controls() -> impl IntoView {
    let state = expect_context::<LabState>();
    let form = expect_context::<RwSignal<Form>>();
    let images = move || state.lab.with(|lab| lab.upload_shape());
    let checked = Memo::new(move |_| form.with(|f| f.settings(images())));
    let errors = move || checked.with(|c| c.as_ref().err().cloned().unwrap_or_default());
    let busy = move || state.lab.with(|lab| lab.is_busy());
    let training = move || state.lab.with(|lab| lab.training);
    let stopping = move || state.lab.with(|lab| lab.stopping);
    let paused = move || state.lab.with(|lab| lab.paused);
    let train = move |_| {
        // A refused form is never sent; its fields say why.
        if let Ok(settings) = checked.get_untracked() {
            state.send(Action::Train(settings));
        }
    };
    let error = move |field: &'static str| {
        move || {
            error_of(&errors(), field).map(|m| {
                view! { <span class="field-error" role="alert" data-testid=format!("field-error-{field}")>{m}</span> }
            })
        }
    };
    let text_field = move |field: &'static str,
                           label: &'static str,
                           get: fn(&Form) -> String,
                           set: fn(&mut Form, String)| {
        view! {
            <label>
                {label} " "
                <input
                    data-testid=field
                    type="text"
                    inputmode="decimal"
                    prop:value=move || form.with(get)
                    on:change=move |ev| form.update(|f| set(f, event_target_value(&ev)))
                />
                {error(field)}
            </label>
        }
    };
    let digits = move || form.with(|f| f.data != DataChoice::Images && !f.data.is_series());
    let series = move || form.with(|f| f.data.is_series());

    view! {
        <section class="controls" aria-label="Training settings">
            <h2>"Train a model"</h2>
            <p class="hint">"Presets fill the form for the chosen model and data: the quick demo trains in under a minute in this tab; “as in the source” uses the documents' sizes and recipe (slow in a browser)."</p>
            <div class="form">
                <label>
                    "Data "
                    <select
                        data-testid="data"
                        on:change=move |ev| {
                            let id = event_target_value(&ev);
                            if let Some((choice, _, _)) = DataChoice::ALL.iter().find(|(_, i, _)| *i == id) {
                                form.update(|f| {
                                    let was_series = f.data.is_series();
                                    f.data = *choice;
                                    // A series trains its own model and recipe; back on images, the default model's.
                                    if choice.is_series() && !was_series {
                                        *f = Form::from_settings(&RunSettings::series_recipe(f.protocol()));
                                    } else if !choice.is_series() && was_series {
                                        *f = Form::from_settings(&RunSettings::quick_demo(DEFAULT_MODEL, f.protocol()));
                                    }
                                });
                            }
                        }
                    >
                        {DataChoice::ALL
                            .into_iter()
                            .map(|(choice, id, label)| view! { <option value=id selected=move || form.with(|f| f.data == choice)>{label}</option> })
                            .collect_view()}
                    </select>
                    {error("data")}
                </label>
                <label class:hidden=move || form.with(|f| f.data != DataChoice::OneClass)>
                    "Anomalous digit "
                    <select
                        data-testid="digit"
                        on:change=move |ev| {
                            if let Ok(d) = event_target_value(&ev).parse() {
                                form.update(|f| f.digit = d);
                            }
                        }
                    >
                        {(0..=9u8)
                            .map(|d| view! { <option value=d.to_string() selected=move || form.with(|f| f.digit == d)>{d}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class:hidden=move || !digits()>
                    "Amount "
                    <select
                        data-testid="data-size"
                        on:change=move |ev| {
                            if let Some(size) = DataSize::from_id(&event_target_value(&ev)) {
                                form.update(|f| f.size = size);
                            }
                        }
                    >
                        {DataSize::ALL
                            .into_iter()
                            .map(|s| view! { <option value=s.id() selected=move || form.with(|f| f.size == s)>{s.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class:hidden=move || !digits()>
                    "Input "
                    <select
                        data-testid="input-size"
                        on:change=move |ev| {
                            if let Ok(side) = event_target_value(&ev).parse() {
                                form.update(|f| f.input_size = side);
                            }
                        }
                    >
                        {DIGIT_SIDES
                            .into_iter()
                            .map(|s| view! { <option value=s.to_string() selected=move || form.with(|f| f.input_size == s)>{format!("{s} x {s}")}</option> })
                            .collect_view()}
                    </select>
                    {error("input-size")}
                </label>
                <label class:hidden=move || !digits()>
                    "Channels "
                    <select
                        data-testid="channels"
                        on:change=move |ev| {
                            if let Ok(c) = event_target_value(&ev).parse() {
                                form.update(|f| f.channels = c);
                            }
                        }
                    >
                        <option value="1" selected=move || form.with(|f| f.channels == 1)>"1 (gray)"</option>
                        <option value="3" selected=move || form.with(|f| f.channels == 3)>"3 (RGB)"</option>
                    </select>
                </label>
            </div>
            <div class="form" class:hidden=move || !series()>
                {text_field("window", "Window (steps)", |f| f.window.clone(), |f, v| f.window = v)}
                {text_field("stride", "Stride (steps)", |f| f.stride.clone(), |f, v| f.stride = v)}
                {text_field("train-fraction", "Training share", |f| f.train_fraction.clone(), |f, v| f.train_fraction = v)}
            </div>
            <div class="form">
                <label>
                    "Model "
                    <select
                        data-testid="model"
                        on:change=move |ev| {
                            if let Some(m) = ModelKind::from_id(&event_target_value(&ev)) {
                                form.update(|f| f.model = m);
                            }
                        }
                    >
                        {ModelKind::ALL
                            .into_iter()
                            .map(|m| view! { <option value=m.id() selected=move || form.with(|f| f.model == m)>{m.label()}</option> })
                            .collect_view()}
                    </select>
                    {error("model")}
                </label>
                <label>
                    "Size "
                    <select
                        data-testid="scale"
                        on:change=move |ev| {
                            let scale = if event_target_value(&ev) == "reference" { Scale::Reference } else { Scale::Compact };
                            form.update(|f| f.scale = scale);
                        }
                    >
                        <option value="compact" selected=move || form.with(|f| f.scale == Scale::Compact)>"compact (for a browser tab)"</option>
                        <option value="reference" selected=move || form.with(|f| f.scale == Scale::Reference)>"as in the source"</option>
                    </select>
                </label>
                {text_field("epochs", "Epochs", |f| f.epochs.clone(), |f, v| f.epochs = v)}
                {text_field("batch-size", "Batch", |f| f.batch_size.clone(), |f, v| f.batch_size = v)}
                <label>
                    "Learning rate "
                    <input
                        data-testid="learning-rate"
                        type="text"
                        inputmode="decimal"
                        placeholder=move || form.with(|f| format!("{} (the model's)", f.model.learning_rate(f.pseudo_anomalies)))
                        prop:value=move || form.with(|f| f.learning_rate.clone())
                        on:change=move |ev| form.update(|f| f.learning_rate = event_target_value(&ev))
                    />
                    {error("learning-rate")}
                </label>
                <label>
                    "Schedule "
                    <select
                        data-testid="learning-rate-schedule"
                        on:change=move |ev| {
                            if let Some(s) = LearningRateSchedule::from_id(&event_target_value(&ev)) {
                                form.update(|f| f.learning_rate_schedule = s);
                            }
                        }
                    >
                        {LearningRateSchedule::ALL
                            .into_iter()
                            .map(|s| view! { <option value=s.id() selected=move || form.with(|f| f.learning_rate_schedule == s)>{s.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                {text_field("seed", "Seed", |f| f.seed.clone(), |f, v| f.seed = v)}
                <span class:hidden=series>
                    {text_field("validation", "Validation share", |f| f.validation.clone(), |f, v| f.validation = v)}
                </span>
                <span class:hidden=move || form.with(|f| f.model != ModelKind::Aae)>
                    {text_field("labelled-anomalies", "Labelled anomalies (share)", |f| f.labelled_anomalies.clone(), |f, v| f.labelled_anomalies = v)}
                </span>
            </div>
            <fieldset class="form hyperparameters">
                <legend>{move || form.with(|f| format!("{}'s own settings (empty: the default shown)", f.model.label()))}</legend>
                {move || {
                    let (model, scale) = form.with(|f| (f.model, f.scale));
                    model
                        .hyperparameters()
                        .iter()
                        .map(|h| {
                            let (id, field) = (h.id, hyperparameter_field(h.id));
                            view! {
                                <label>
                                    {h.label} " "
                                    <input
                                        data-testid=field
                                        type="text"
                                        inputmode="decimal"
                                        placeholder=h.default_at(scale).to_string()
                                        title=format!("{} to {}", h.min, h.max)
                                        prop:value=move || form.with(|f| f.hyperparameters.get(id).cloned().unwrap_or_default())
                                        on:change=move |ev| form.update(|f| {
                                            f.hyperparameters.insert(id.to_owned(), event_target_value(&ev));
                                        })
                                    />
                                    {error(field)}
                                </label>
                            }
                        })
                        .collect_view()
                }}
            </fieldset>
            <div class="form" class:hidden=series>
                <label>
                    <input
                        type="checkbox"
                        data-testid="standardise"
                        prop:checked=move || form.with(|f| f.standardise)
                        on:change=move |ev| form.update(|f| f.standardise = event_target_checked(&ev))
                    />
                    " standardise inputs"
                </label>
                <label>
                    <input
                        type="checkbox"
                        data-testid="pseudo-anomalies"
                        prop:checked=move || form.with(|f| f.pseudo_anomalies)
                        on:change=move |ev| form.update(|f| f.pseudo_anomalies = event_target_checked(&ev))
                    />
                    " train with pseudo-anomalies (source 000)"
                </label>
                <fieldset class="defects" class:hidden=move || form.with(|f| !f.pseudo_anomalies)>
                    <legend>"defects drawn (none ticked: the data's default)"</legend>
                    {Defect::ALL
                        .into_iter()
                        .map(|d| view! {
                            <label>
                                <input
                                    type="checkbox"
                                    data-testid=format!("defect-{}", d.label().replace(' ', "-"))
                                    prop:checked=move || form.with(|f| f.defects.contains(&d))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        form.update(|f| {
                                            f.defects.retain(|k| *k != d);
                                            if on {
                                                f.defects.push(d);
                                            }
                                        });
                                    }
                                />
                                " " {d.label()}
                            </label>
                        })
                        .collect_view()}
                </fieldset>
            </div>
            <div class="form">
                <button
                    data-testid="preset-quick"
                    title="The chosen model's quick demo: under a minute in this tab, even on a CPU"
                    on:click=move |_| form.update(|f| *f = f.quick_demo())
                    disabled=busy
                >
                    "Quick demo settings"
                </button>
                <button
                    data-testid="preset-source"
                    title="The chosen model as the source documents train it: their sizes and recipe"
                    on:click=move |_| form.update(|f| *f = f.as_in_source())
                    disabled=busy
                >
                    "As in the source"
                </button>
                <button data-testid="train" on:click=train disabled=busy>"Train"</button>
                <button
                    data-testid="pause"
                    on:click=move |_| state.send(if paused() { Action::Resume } else { Action::Pause })
                    disabled=move || !training() || stopping()
                >
                    {move || if paused() { "Resume" } else { "Pause" }}
                </button>
                <button data-testid="stop" on:click=move |_| state.send(Action::Stop) disabled=move || !training() || stopping()>
                    "Stop"
                </button>
            </div>
            <ShareLink />
        </section>
    }
}
