//! The page: settings, training progress and results. Training runs in the worker.

mod charts;
mod controls;
mod results;
mod state;

use leptos::prelude::*;

pub use state::{Phase, RunState};

use controls::Controls;
use results::Results;
use state::BackendBadge;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let state = RunState::new();
    provide_context(state);
    let bridge = state::spawn_worker(state);
    provide_context(bridge);
    view! {
        <header>
            <h1>"Kizu " <span class="tagline">"anomaly detection lab"</span></h1>
            <BackendBadge />
        </header>
        <main>
            <Controls />
            <charts::TrainingProgress />
            <Results />
        </main>
    }
}
