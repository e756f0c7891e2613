//! The training form: data, model and run settings, Train and Stop.

use leptos::prelude::*;

use super::state::LabState;
use crate::protocol::{Action, DataProtocol, DataSize, Fit, ModelKind, RunSettings};

/// Upper bound on epochs from the form: a typo should not start an hour-long run.
const MAX_EPOCHS: usize = 200;
/// Upper bound on images per step from the form.
const MAX_BATCH: usize = 512;
/// The model the form starts with.
const DEFAULT_MODEL: ModelKind = ModelKind::ConvAutoencoder;

/// Which data the form trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataChoice {
    OneClass,
    Overlay,
    Images,
}

impl DataChoice {
    const ALL: [(Self, &'static str, &'static str); 3] = [
        (
            Self::OneClass,
            "one-class",
            "Digits: one digit is the anomaly",
        ),
        (
            Self::Overlay,
            "overlay",
            "Digits: overlaid digits are the anomaly",
        ),
        (Self::Images, "images", "Your images (loaded below)"),
    ];
}

/// Settings form and run buttons.
#[component]
pub fn Controls() -> impl IntoView {
    let state = expect_context::<LabState>();
    // The form opens on the quick demo of the default model.
    let demo = RunSettings::quick_demo(DEFAULT_MODEL, DataProtocol::OneClass { digit: 0 });
    let (data, set_data) = signal(DataChoice::OneClass);
    let (anomaly_digit, set_anomaly_digit) = signal(0u8);
    let (epochs, set_epochs) = signal(demo.epochs);
    let (batch_size, set_batch_size) = signal(demo.batch_size);
    let (seed, set_seed) = signal(demo.seed);
    let (data_size, set_data_size) = signal(DataSize::of_limits(demo.max_train, demo.max_test));
    let (model, set_model) = signal(DEFAULT_MODEL);
    let busy = move || state.lab.with(|lab| lab.is_busy());
    let training = move || state.lab.with(|lab| lab.training);
    let stopping = move || state.lab.with(|lab| lab.stopping);

    let train = move |_| {
        let (max_train, max_test) = data_size.get().limits();
        let digits = ((28, 1), Fit::Resize);
        let (protocol, ((input_size, channels), fit)) = match data.get() {
            DataChoice::OneClass => (
                DataProtocol::OneClass {
                    digit: anomaly_digit.get(),
                },
                digits,
            ),
            DataChoice::Overlay => (DataProtocol::Overlay, digits),
            DataChoice::Images => {
                // The shape the images were loaded at.
                let shape = state
                    .lab
                    .with(|lab| lab.upload.as_ref().map(|u| (u.input, u.fit)))
                    .unwrap_or(((super::uploads::DEFAULT_SIDE, 3), Fit::Resize));
                (DataProtocol::Images, shape)
            }
        };
        state.send(Action::Train(RunSettings {
            model: model.get(),
            scale: kizu_model::zoo::Scale::Compact,
            protocol,
            epochs: epochs.get(),
            batch_size: batch_size.get(),
            seed: seed.get(),
            input_size,
            channels,
            fit,
            max_train,
            max_test,
            ..RunSettings::default()
        }));
    };
    let stop = move |_| state.send(Action::Stop);
    // The quick demo of the chosen model: its epochs, amount of data and batch size.
    let quick_demo = move |_| {
        let demo = RunSettings::quick_demo(model.get(), DataProtocol::Overlay);
        set_epochs.set(demo.epochs);
        set_batch_size.set(demo.batch_size);
        set_seed.set(demo.seed);
        set_data_size.set(DataSize::of_limits(demo.max_train, demo.max_test));
    };

    view! {
        <section class="controls" aria-label="Training settings">
            <h2>"Train a model"</h2>
            <div class="form">
            <label>
                "Data "
                <select
                    data-testid="data"
                    on:change=move |ev| {
                        let id = event_target_value(&ev);
                        if let Some((choice, _, _)) = DataChoice::ALL.iter().find(|(_, i, _)| *i == id) {
                            set_data.set(*choice);
                        }
                    }
                >
                    {DataChoice::ALL
                        .into_iter()
                        .map(|(choice, id, label)| view! { <option value=id selected=move || data.get() == choice>{label}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Model "
                <select
                    data-testid="model"
                    on:change=move |ev| {
                        if let Some(m) = ModelKind::from_id(&event_target_value(&ev)) {
                            set_model.set(m);
                        }
                    }
                >
                    {ModelKind::ALL
                        .into_iter()
                        .map(|m| view! { <option value=m.id() selected=move || model.get() == m>{m.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class:hidden=move || data.get() != DataChoice::OneClass>
                "Anomalous digit "
                <select
                    data-testid="digit"
                    on:change=move |ev| {
                        if let Ok(d) = event_target_value(&ev).parse() {
                            set_anomaly_digit.set(d);
                        }
                    }
                >
                    {(0..=9u8)
                        .map(|d| view! { <option value=d.to_string() selected=move || anomaly_digit.get() == d>{d}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Epochs "
                <input
                    data-testid="epochs"
                    type="number"
                    min="1"
                    max=MAX_EPOCHS.to_string()
                    prop:value=move || epochs.get().to_string()
                    on:change=move |ev| {
                        if let Ok(e) = event_target_value(&ev).parse::<usize>() {
                            set_epochs.set(e.clamp(1, MAX_EPOCHS));
                        }
                    }
                />
            </label>
            <label>
                "Batch "
                <input
                    data-testid="batch-size"
                    type="number"
                    min="1"
                    max=MAX_BATCH.to_string()
                    prop:value=move || batch_size.get().to_string()
                    on:change=move |ev| {
                        if let Ok(b) = event_target_value(&ev).parse::<usize>() {
                            set_batch_size.set(b.clamp(1, MAX_BATCH));
                        }
                    }
                />
            </label>
            <label>
                "Seed "
                <input
                    data-testid="seed"
                    type="number"
                    min="0"
                    prop:value=move || seed.get().to_string()
                    on:change=move |ev| {
                        if let Ok(s) = event_target_value(&ev).parse() {
                            set_seed.set(s);
                        }
                    }
                />
            </label>
            <label class:hidden=move || data.get() == DataChoice::Images>
                "Amount "
                <select
                    data-testid="data-size"
                    on:change=move |ev| {
                        if let Some(size) = DataSize::from_id(&event_target_value(&ev)) {
                            set_data_size.set(size);
                        }
                    }
                >
                    {DataSize::ALL
                        .into_iter()
                        .map(|s| view! { <option value=s.id() selected=move || data_size.get() == s>{s.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <button
                data-testid="preset-quick"
                title="The chosen model's quick demo: under a minute in this tab, even on a CPU"
                on:click=quick_demo
                disabled=busy
            >
                "Quick demo settings"
            </button>
            <button data-testid="train" on:click=train disabled=busy>"Train"</button>
            <button data-testid="stop" on:click=stop disabled=move || !training() || stopping()>
                "Stop"
            </button>
            </div>
        </section>
    }
}
