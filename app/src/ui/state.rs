//! The page's state in one signal ([`Lab`]) and its handle on the worker.

use gloo_worker::{Spawnable, WorkerBridge};
use leptos::prelude::*;

use crate::backend::{decide, probe_adapter};
use crate::lab::{Lab, Next, Opening};
use crate::protocol::{Action, BackendChoice, BackendKind, Command};
use crate::worker::{script_for, LabWorker};

/// The lab's state and the way to the worker, shared through context.
#[derive(Clone, Copy)]
pub struct LabState {
    /// Everything the page knows.
    pub lab: RwSignal<Lab>,
    bridge: StoredValue<Option<WorkerBridge<LabWorker>>, LocalStorage>,
    /// Commands made before the worker started, sent once it has.
    queued: StoredValue<Vec<Command>, LocalStorage>,
}

impl LabState {
    /// Starts the worker for `choice`: the WebGPU one (`worker-webgpu.js`) where the
    /// page finds a hardware adapter or `?backend=webgpu` asks, else the CPU one
    /// (`worker.js`, a fraction of the download). Replies update `lab`, and a reply that
    /// calls for another command sends it.
    pub fn start(opening: Opening, choice: BackendChoice) -> Self {
        let state = Self {
            lab: RwSignal::new(Lab::opening(opening)),
            bridge: StoredValue::new_local(None),
            queued: StoredValue::new_local(Vec::new()),
        };
        leptos::task::spawn_local(async move {
            let adapter = match choice {
                BackendChoice::Cpu => None,
                _ => probe_adapter().await,
            };
            let kind = decide(choice, adapter.as_ref()).kind;
            let bridge = LabWorker::spawner()
                .callback(move |reply| {
                    match state.lab.try_update(|lab| lab.apply(reply)).flatten() {
                        Some(Next::Send(action)) => state.send(action),
                        Some(Next::Keep(keep)) => super::kept::keep(state, keep),
                        None => {}
                    }
                })
                .as_module(false)
                .spawn(script_for(kind));
            for command in state
                .queued
                .try_update_value(std::mem::take)
                .unwrap_or_default()
            {
                bridge.send(command);
            }
            state.bridge.set_value(Some(bridge));
        });
        super::kept::load_list(state);
        state
    }

    /// Sends `action` to the worker as a new command (queued until the worker starts).
    pub fn send(&self, action: Action) {
        if let Some(command) = self.lab.try_update(|lab| lab.command(action)) {
            let unsent = self.bridge.with_value(|bridge| match bridge {
                Some(bridge) => {
                    bridge.send(command);
                    None
                }
                None => Some(command),
            });
            if let Some(command) = unsent {
                self.queued.update_value(|queued| queued.push(command));
            }
        }
    }
}

/// "Use the CPU": reloads the page with `?backend=cpu`, or without it, keeping the rest of
/// the address. A worker's backend is chosen when it starts (the CPU worker has no WebGPU
/// at all), and models trained here are kept in the browser, so nothing trained is lost.
#[component]
pub fn CpuSwitch(
    /// Whether the address forces the CPU now (`?backend=cpu`).
    forced: bool,
) -> impl IntoView {
    let state = expect_context::<LabState>();
    let busy = move || state.lab.with(|lab| lab.is_busy());
    let switch = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        let Ok(href) = window().location().href() else {
            return;
        };
        let Ok(url) = web_sys::Url::new(&href) else {
            return;
        };
        if on {
            url.search_params().set("backend", "cpu");
        } else {
            url.search_params().delete("backend");
        }
        let _ = window().location().set_href(&url.href());
    };
    view! {
        <label class="cpu-switch" title="Reloads the page on the CPU worker (or back to the automatic choice); models trained here stay under “Kept in this browser”">
            <input type="checkbox" data-testid="force-cpu" prop:checked=forced on:change=switch disabled=busy />
            " use the CPU"
        </label>
    }
}

/// Which backend runs, with the adapter and the reason.
#[component]
pub fn BackendBadge() -> impl IntoView {
    let state = expect_context::<LabState>();
    let label = move || match state.lab.with(|lab| lab.backend.clone()) {
        None => (
            "pending".to_owned(),
            "backend chosen when a model first runs".to_owned(),
        ),
        Some(info) => {
            let kind = match info.kind {
                BackendKind::WebGpu => "WebGPU",
                BackendKind::Cpu => "CPU",
            };
            let adapter = info
                .adapter
                .map(|a| format!(" · adapter: {a}"))
                .unwrap_or_default();
            (kind.to_owned(), format!("{}{adapter}", info.reason))
        }
    };
    view! {
        <div class="badge" data-testid="backend-badge" data-backend=move || label().0>
            <strong>{move || label().0}</strong>
            <span class="why">{move || label().1}</span>
        </div>
    }
}
