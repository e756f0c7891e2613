//! Models to open: the shipped checkpoints, and checkpoint files to download or upload.

use leptos::html::Input;
use leptos::prelude::*;

use super::files;
use super::state::LabState;
use crate::protocol::{Action, ModelOrigin};

/// The shipped checkpoints, one click to open.
#[component]
pub fn ShippedModels() -> impl IntoView {
    let state = expect_context::<LabState>();
    let (chosen, set_chosen) = signal(None::<String>);
    let entries = move || state.lab.with(|lab| lab.catalog.entries.clone());
    // The menu shows the shipped model that is open, if one is.
    let open_file = move || {
        state
            .lab
            .with(|lab| match lab.model.as_ref().map(|m| &m.origin) {
                Some(ModelOrigin::Shipped(file)) => Some(file.clone()),
                _ => None,
            })
    };
    let open = move |_| {
        let file = chosen
            .get()
            .or_else(open_file)
            .or_else(|| entries().first().map(|e| e.file.clone()));
        if let Some(file) = file {
            state.send(Action::OpenShipped { file });
        }
    };
    let busy = move || state.lab.with(|lab| lab.is_busy());
    view! {
        <section class="shipped" aria-label="Pretrained models">
            <label>
                "Pretrained model "
                <select
                    data-testid="shipped"
                    on:change=move |ev| set_chosen.set(Some(event_target_value(&ev)))
                >
                    {move || {
                        entries()
                            .into_iter()
                            .map(|e| {
                                let file = e.file.clone();
                                let is_open = {
                                    let file = file.clone();
                                    move || open_file().as_deref() == Some(file.as_str())
                                };
                                view! { <option value=file selected=is_open>{e.label()}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
            <button data-testid="open-shipped" on:click=open disabled=busy>"Open"</button>
        </section>
    }
}

/// Download the current model as a `.kizu` file, or open one.
#[component]
pub fn CheckpointFiles() -> impl IntoView {
    let state = expect_context::<LabState>();
    let picker = NodeRef::<Input>::new();
    Effect::new(move |_| {
        if let Some(file) = state.lab.with(|lab| lab.download.clone()) {
            // A refused download leaves nothing to report: the browser shows its own reason.
            let _ = files::download(&file);
        }
    });
    let import = move |_| {
        let Some(input) = picker.get() else { return };
        leptos::task::spawn_local(async move {
            if let Some(file) = files::from_input(&input).await.into_iter().next() {
                state.send(Action::ImportCheckpoint(file));
            }
            input.set_value("");
        });
    };
    let has_model = move || state.lab.with(|lab| lab.model.is_some());
    let busy = move || state.lab.with(|lab| lab.is_busy());
    view! {
        <section class="checkpoints" aria-label="Checkpoint files">
            <h2>"Keep or share a model"</h2>
            <button
                data-testid="export"
                on:click=move |_| state.send(Action::ExportCheckpoint)
                disabled=move || !has_model() || busy()
            >
                "Download the model (.kizu)"
            </button>
            <label>
                "Open a .kizu file "
                <input node_ref=picker data-testid="import" type="file" accept=".kizu" disabled=busy on:change=import />
            </label>
        </section>
    }
}
