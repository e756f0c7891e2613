//! Models kept in this browser: kept when trained or opened from a file, listed to reopen,
//! rename or delete; the storage's failures (a full quota) are shown, never fatal.

use leptos::prelude::*;

use super::state::LabState;
use super::store;
use crate::lab::{Keep, StoreEvent};
use crate::library::{check_name, KeptId, KeptModel, StoreError};
use crate::protocol::Action;

/// Runs a storage operation, then folds its outcome (or its failure) into the page.
fn with_store<T: 'static>(
    state: LabState,
    doing: &'static str,
    operation: impl std::future::Future<Output = Result<T, StoreError>> + 'static,
    then: impl FnOnce(T) -> Option<StoreEvent> + 'static,
) {
    leptos::task::spawn_local(async move {
        let event = match operation.await {
            Ok(value) => then(value),
            Err(error) => Some(StoreEvent::Failed { doing, error }),
        };
        if let Some(event) = event {
            state.lab.update(|lab| lab.apply_store(event));
        }
    });
}

/// Reads the list of kept models into the page.
pub fn load_list(state: LabState) {
    with_store(state, "reading the kept models", store::list(), |list| {
        Some(StoreEvent::Listed(list))
    });
}

/// Keeps a model the worker exported for it.
pub fn keep(state: LabState, keep: Box<Keep>) {
    with_store(
        state,
        "keeping the model",
        async move { store::keep(&keep.view, &keep.checkpoint).await },
        |kept| Some(StoreEvent::Kept(kept)),
    );
}

/// Reopens a kept model in the worker.
fn reopen(state: LabState, id: KeptId) {
    with_store(
        state,
        "reopening the model",
        store::load(id),
        move |(kept, view, bytes)| {
            state.send(Action::Restore {
                id,
                name: kept.name,
                checkpoint: bytes,
                view: view.map(Box::new),
            });
            None
        },
    );
}

/// The kept models, to reopen, rename or delete.
#[component]
pub fn KeptModels() -> impl IntoView {
    let state = expect_context::<LabState>();
    let kept = move || state.lab.with(|lab| lab.kept.clone());
    let notice = move || state.lab.with(|lab| lab.storage_notice.clone());
    view! {
        <section class="kept" aria-label="Kept in this browser">
            <h2>"Kept in this browser"</h2>
            {move || notice().map(|n| view! { <p class="hint" data-testid="storage-notice" role="status">{n}</p> })}
            <Show
                when=move || !kept().is_empty()
                fallback=|| view! { <p class="hint">"Models you train or open from a file are kept here, in this browser only."</p> }
            >
                <ul class="kept-list" data-testid="kept">
                    <For each=kept key=|k| (k.id, k.name.clone()) let:model>
                        <KeptRow model />
                    </For>
                </ul>
            </Show>
        </section>
    }
}

/// One kept model: its name (editable), what it is, and what can be done with it.
#[component]
fn KeptRow(model: KeptModel) -> impl IntoView {
    let state = expect_context::<LabState>();
    let id = model.id;
    let (name, set_name) = signal(model.name.clone());
    let busy = move || state.lab.with(|lab| lab.is_busy());
    let rename = move |_| match check_name(&name.get_untracked()) {
        Ok(new) => with_store(
            state,
            "renaming",
            async move { store::rename(id, &new).await.map(|()| new) },
            move |name| Some(StoreEvent::Renamed { id, name }),
        ),
        Err(e) => state
            .lab
            .update(|lab| lab.storage_notice = Some(e.to_string())),
    };
    let delete = move |_| {
        with_store(state, "deleting", store::delete(id), move |()| {
            Some(StoreEvent::Deleted(id))
        })
    };
    let saved = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(model.saved_ms))
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED);
    view! {
        <li data-testid="kept-model">
            <input
                data-testid="kept-name"
                aria-label="Name"
                prop:value=name
                on:input=move |ev| set_name.set(event_target_value(&ev))
            />
            <span class="details">{model.details()} " · kept " {String::from(saved)}</span>
            <button data-testid="kept-open" on:click=move |_| reopen(state, id) disabled=busy>"Open"</button>
            <button data-testid="kept-rename" on:click=rename>"Rename"</button>
            <button data-testid="kept-delete" on:click=delete>"Delete"</button>
        </li>
    }
}
