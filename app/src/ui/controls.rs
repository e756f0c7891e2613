//! Run settings and the Train / Stop buttons.

use leptos::prelude::*;

use super::state::{send, Bridge, RunState};
use crate::protocol::{BackendChoice, DataSize, ModelKind, Request, TrainRequest};

/// Upper bound on epochs from the form: a typo should not start an hour-long run.
const MAX_EPOCHS: usize = 200;
/// The bundled data, relative to the page (Trunk copies `public/data/` there).
const DATA_DIR: &str = "data/";

/// The `backend` URL parameter; an unknown value is reported and treated as `auto`.
fn backend_from_url() -> (BackendChoice, Option<String>) {
    let search = window().location().search().unwrap_or_default();
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
    match params.and_then(|p| p.get("backend")) {
        None => (BackendChoice::Auto, None),
        Some(value) => match BackendChoice::from_param(&value) {
            Some(choice) => (choice, None),
            None => (
                BackendChoice::Auto,
                Some(format!("ignored ?backend={value}: use cpu, webgpu or auto")),
            ),
        },
    }
}

/// Where the page is served from, with the bundled data below it in `data/`.
fn data_url() -> String {
    let page = window().location().href().unwrap_or_default();
    web_sys::Url::new_with_base(DATA_DIR, &page).map_or_else(|_| DATA_DIR.to_owned(), |u| u.href())
}

/// Settings form and run buttons.
#[component]
pub fn Controls() -> impl IntoView {
    let state = expect_context::<RunState>();
    let bridge = expect_context::<Bridge>();
    let (anomaly_digit, set_anomaly_digit) = signal(0u8);
    let (epochs, set_epochs) = signal(5usize);
    let (seed, set_seed) = signal(42u64);
    let (data_size, set_data_size) = signal(DataSize::Quick);
    let (model, set_model) = signal(ModelKind::ConvAutoencoder);
    let (backend, url_warning) = backend_from_url();

    let train = move |_| {
        state.start();
        send(
            bridge,
            Request::Train(TrainRequest {
                model: model.get(),
                anomaly_digit: anomaly_digit.get(),
                epochs: epochs.get(),
                seed: seed.get(),
                data_size: data_size.get(),
                backend,
                data_url: data_url(),
            }),
        );
    };
    let stop = move |_| {
        state.stopping.set(true);
        send(bridge, Request::Stop);
    };

    view! {
        <section class="controls" aria-label="Training settings">
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
            <label>
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
            <label>
                "Data "
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
            <button data-testid="train" on:click=train disabled=move || state.is_busy()>"Train"</button>
            <button
                data-testid="stop"
                on:click=stop
                disabled=move || !state.is_busy() || state.stopping.get()
            >
                "Stop"
            </button>
            {url_warning.map(|w| view! { <p class="warning" role="status">{w}</p> })}
        </section>
    }
}
