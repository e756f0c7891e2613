//! The page's state in one signal ([`Lab`]) and its handle on the worker.

use gloo_worker::{Spawnable, WorkerBridge};
use leptos::prelude::*;

use crate::lab::{Lab, Next};
use crate::protocol::{Action, BackendKind};
use crate::worker::LabWorker;

/// The lab's state and the way to the worker, shared through context.
#[derive(Clone, Copy)]
pub struct LabState {
    /// Everything the page knows.
    pub lab: RwSignal<Lab>,
    bridge: StoredValue<Option<WorkerBridge<LabWorker>>, LocalStorage>,
}

impl LabState {
    /// Starts the worker (Trunk builds it as `worker.js`); replies update `lab`, and a
    /// reply that calls for another command sends it.
    pub fn start(open_best: bool) -> Self {
        let state = Self {
            lab: RwSignal::new(Lab::new(open_best)),
            bridge: StoredValue::new_local(None),
        };
        let bridge = LabWorker::spawner()
            .callback(
                move |reply| match state.lab.try_update(|lab| lab.apply(reply)).flatten() {
                    Some(Next::Send(action)) => state.send(action),
                    Some(Next::Keep(keep)) => super::kept::keep(state, keep),
                    None => {}
                },
            )
            .as_module(false)
            .spawn("./worker.js");
        state.bridge.set_value(Some(bridge));
        super::kept::load_list(state);
        state
    }

    /// Sends `action` to the worker as a new command.
    pub fn send(&self, action: Action) {
        if let Some(command) = self.lab.try_update(|lab| lab.command(action)) {
            self.bridge.with_value(|bridge| {
                if let Some(bridge) = bridge {
                    bridge.send(command);
                }
            });
        }
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
