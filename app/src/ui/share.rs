//! Share links in the page: what a link asked for (and what of it was ignored), with
//! Reproduce, and "Copy link" for the form as it stands. The reading and writing of the
//! settings is `crate::link`'s; this only touches the address bar and the clipboard.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::state::LabState;
use crate::form::{DataChoice, Form};
use crate::link;
use crate::protocol::{Action, ModelOrigin};

/// The query of the page's address as (key, value) pairs, decoded.
pub fn query_pairs() -> Vec<(String, String)> {
    let search = window().location().search().unwrap_or_default();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return Vec::new();
    };
    let Ok(Some(entries)) = js_sys::try_iter(&params) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pair: js_sys::Array = entry.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

/// This page's address with `pairs` as its query (encoded by the browser).
fn address_with(pairs: &[(String, String)]) -> Option<String> {
    let url = web_sys::Url::new(&window().location().href().ok()?).ok()?;
    let params = web_sys::UrlSearchParams::new().ok()?;
    for (key, value) in pairs {
        params.append(key, value);
    }
    url.set_hash("");
    url.set_search(&String::from(params.to_string()));
    Some(url.href())
}

/// What a link brought: its settings are in the form, with Reproduce; what was ignored.
#[component]
pub fn LinkNotes(from_link: bool, notes: Vec<String>) -> impl IntoView {
    let state = expect_context::<LabState>();
    let form = expect_context::<RwSignal<Form>>();
    let busy = move || state.lab.with(|lab| lab.is_busy());
    let reproduce = move |_| {
        let shape = state.lab.with_untracked(|lab| lab.upload_shape());
        match form.with_untracked(|f| f.settings(shape)) {
            Ok(settings) => state.send(Action::Train(settings)),
            // The form shows why beside its fields.
            Err(errors) => state.lab.update(|lab| {
                lab.notice = errors
                    .first()
                    .map(|e| format!("cannot reproduce yet: {}", e.message));
            }),
        }
    };
    let late = move || state.lab.with(|lab| lab.link_note.clone());
    let notes = move || {
        let all: Vec<String> = notes.iter().cloned().chain(late()).collect();
        (!all.is_empty()).then(|| {
            view! {
                <ul class="warning" role="status" data-testid="link-notes">
                    {all.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
                </ul>
            }
        })
    };
    view! {
        {from_link.then(|| view! {
            <p class="link-banner" data-testid="link-banner">
                "This link's settings are in the form below. "
                <button data-testid="reproduce" on:click=reproduce disabled=busy>"Reproduce"</button>
            </p>
        })}
        {notes}
    }
}

/// "Copy link": the form (and the threshold and shipped checkpoint in use) as an address.
#[component]
pub fn ShareLink() -> impl IntoView {
    let state = expect_context::<LabState>();
    let form = expect_context::<RwSignal<Form>>();
    let (address, set_address) = signal(String::new());
    let (copied, set_copied) = signal(None::<bool>);
    let copy = move |_| {
        let (threshold, checkpoint) = state.lab.with_untracked(|lab| {
            let checkpoint = match lab.model.as_ref().map(|m| &m.origin) {
                Some(ModelOrigin::Shipped(file)) => Some(file.clone()),
                _ => None,
            };
            (lab.threshold.as_ref().and_then(|t| t.ids()), checkpoint)
        });
        let pairs =
            form.with_untracked(|f| link::pairs(f, threshold.as_ref(), checkpoint.as_deref()));
        let Some(url) = address_with(&pairs) else {
            return;
        };
        set_address.set(url.clone());
        set_copied.set(None);
        let promise = window().navigator().clipboard().write_text(&url);
        wasm_bindgen_futures::spawn_local(async move {
            let done = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
            set_copied.set(Some(done));
        });
    };
    let images = move || form.with(|f| f.data == DataChoice::Images);
    view! {
        <div class="form share">
            <button data-testid="copy-link" on:click=copy title="An address that fills this form (and the threshold in use) in anyone's browser">
                "Copy link"
            </button>
            <input
                data-testid="share-link"
                class="share-link"
                type="text"
                readonly=true
                aria-label="Link to these settings"
                prop:value=address
                class:hidden=move || address.with(String::is_empty)
            />
            {move || match copied.get() {
                Some(true) => Some(view! { <span class="hint" data-testid="copy-status">"copied"</span> }),
                Some(false) => Some(view! { <span class="hint" data-testid="copy-status">"select the link and copy it"</span> }),
                None => None,
            }}
            {move || images().then(|| view! {
                <span class="hint">"Your images cannot travel in a link: whoever opens it loads their own."</span>
            })}
        </div>
    }
}
