//! The offline service worker (`sw.js`, written at build time by
//! `scripts/service-worker.sh`): registered on every visit, so the next one works with the
//! network off. A new version installs beside the running one and waits; a banner offers
//! to reload into it, so a page never runs with another version's worker.

use js_sys::Promise;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::state::LabState;
use crate::js::{call, get};

fn on(target: &JsValue, event: &str, handler: impl FnMut() + 'static) {
    let handler = Closure::<dyn FnMut()>::new(handler);
    call(
        target,
        "addEventListener",
        &[JsValue::from_str(event), handler.as_ref().clone()],
    );
    // Listens for the page's lifetime.
    handler.forget();
}

/// The browser's service worker container, where it has one (secure origins only).
fn container() -> Option<JsValue> {
    get(&window().navigator().into(), "serviceWorker")
}

/// Whether this version of the app works with the network off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offline {
    /// No service worker here (the browser allows one on https and localhost only).
    Unsupported,
    /// The service worker is downloading the build's files.
    Saving,
    /// Every file is in the browser's cache.
    Ready,
    /// The install failed (a file missing, or not as this build wrote it).
    Failed,
}

impl Offline {
    /// What a kiosk's operator needs to know before cutting the network.
    fn message(self) -> &'static str {
        match self {
            Self::Unsupported => "Offline use needs an https or localhost address.",
            Self::Saving => "Saving this version for offline use…",
            Self::Ready => "Works offline: this version is saved in the browser.",
            Self::Failed => "Not saved for offline use: a file did not arrive as this version has it. The next visit tries again.",
        }
    }
}

/// Registers the service worker; says whether the app works offline, and shows "reload"
/// when a new version is waiting.
#[component]
pub fn OfflineSupport() -> impl IntoView {
    let state = expect_context::<LabState>();
    let registration = StoredValue::new_local(None::<JsValue>);
    let (update_waiting, set_update_waiting) = signal(false);
    let (offline, set_offline) = signal(None::<Offline>);
    // Registered once the page has its first results (or is idle without a model): its
    // install downloads every file of the build, which would otherwise compete with the
    // first visit's own downloads (page open to results went from 1.4 s to 2.3 s).
    Effect::new(move |registered: Option<bool>| {
        if registered == Some(true) {
            return true;
        }
        let settled = state
            .lab
            .with(|lab| !lab.is_busy() && !lab.catalog.entries.is_empty());
        if settled {
            register(registration, set_update_waiting, set_offline);
        }
        settled
    });
    let reload = move |_| {
        let (Some(container), Some(waiting)) = (
            container(),
            registration.with_value(|r| r.as_ref().and_then(|r| get(r, "waiting"))),
        ) else {
            return;
        };
        on(&container, "controllerchange", || {
            let _ = window().location().reload();
        });
        call(
            &waiting,
            "postMessage",
            &[JsValue::from_str("kizu-activate")],
        );
    };
    view! {
        {move || {
            offline
                .get()
                .map(|o| {
                    let state = format!("{o:?}").to_lowercase();
                    view! {
                        <p class="offline" data-testid="offline-state" data-state=state>
                            {o.message()}
                        </p>
                    }
                })
        }}
        <Show when=move || update_waiting.get()>
            <p class="warning" role="status" data-testid="update-ready">
                "A new version of Kizu is ready. "
                <button on:click=reload>"Reload"</button>
            </p>
        </Show>
    }
}

/// Registers the service worker and keeps its registration; `set_update_waiting` hears
/// of a new version waiting, `set_offline` whether this one works offline.
fn register(
    registration: StoredValue<Option<JsValue>, LocalStorage>,
    set_update_waiting: WriteSignal<bool>,
    set_offline: WriteSignal<Option<Offline>>,
) {
    leptos::task::spawn_local(async move {
        let Some(container) = container() else {
            set_offline.set(Some(Offline::Unsupported));
            return;
        };
        let Some(promise) = call(&container, "register", &[JsValue::from_str("./sw.js")]) else {
            set_offline.set(Some(Offline::Failed));
            return;
        };
        let Ok(reg) = JsFuture::from(Promise::from(promise)).await else {
            set_offline.set(Some(Offline::Failed));
            return;
        };
        // A version already active serves offline; else this first install decides.
        if get(&reg, "active").is_some() {
            set_offline.set(Some(Offline::Ready));
        } else if let Some(installing) = get(&reg, "installing") {
            set_offline.set(Some(Offline::Saving));
            let worker = installing.clone();
            on(&installing, "statechange", move || {
                match get(&worker, "state").and_then(|s| s.as_string()).as_deref() {
                    Some("activated") => set_offline.set(Some(Offline::Ready)),
                    Some("redundant") => set_offline.set(Some(Offline::Failed)),
                    _ => {}
                }
            });
        }
        // Waiting, with this page served by the version before it: an update, not a first visit.
        let check = {
            let (reg, container) = (reg.clone(), container.clone());
            move || {
                if get(&reg, "waiting").is_some() && get(&container, "controller").is_some() {
                    set_update_waiting.set(true);
                }
            }
        };
        check();
        let found = reg.clone();
        on(&reg, "updatefound", move || {
            if let Some(installing) = get(&found, "installing") {
                on(&installing, "statechange", check.clone());
            }
        });
        registration.set_value(Some(reg));
    });
}
