//! The page: the current model's results, training, your images and checkpoint files.
//! Models run in the worker; the page folds its replies into one [`crate::lab::Lab`].

mod camera;
mod charts;
mod controls;
mod curves;
mod files;
mod gallery;
mod kept;
mod kiosk;
mod latent;
mod models;
mod offline;
mod pixels;
mod progress;
mod results;
mod series;
mod share;
mod state;
mod store;
mod threshold;
mod uploads;

use leptos::prelude::*;

use crate::lab::Opening;
use crate::protocol::BackendChoice;

pub use state::LabState;

use controls::Controls;
use kept::KeptModels;
use models::{CheckpointFiles, ShippedModels};
use results::Results;
use state::BackendBadge;
use uploads::{ScoreImages, TrainingImages};

/// The value of `key` in the address's query pairs, if it is there.
fn param<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The `backend` URL parameter; an unknown value is reported and treated as `auto`.
fn backend_from_url(query: &[(String, String)]) -> (BackendChoice, Option<String>) {
    match param(query, "backend") {
        None => (BackendChoice::Auto, None),
        Some(value) => match BackendChoice::from_param(value) {
            Some(choice) => (choice, None),
            None => (
                BackendChoice::Auto,
                Some(format!("ignored ?backend={value}: use cpu, webgpu or auto")),
            ),
        },
    }
}

/// The app's folder URL (the bundled data and checkpoints lie below it).
fn base_url() -> String {
    let page = window().location().href().unwrap_or_default();
    web_sys::Url::new_with_base("./", &page).map_or(page, |u| u.href())
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let query = share::query_pairs();
    let link = crate::link::read(&query, &controls::opening_form());
    let opening = match (&link.checkpoint, param(&query, "blank").is_some()) {
        (Some(file), _) => Opening::Shipped(file.clone()),
        (None, true) => Opening::Nothing,
        (None, false) => Opening::Best,
    };
    let (backend, url_warning) = backend_from_url(&query);
    let state = LabState::start(opening, backend);
    provide_context(state);
    if let Some(ids) = link.threshold.clone() {
        state
            .lab
            .update(|lab| lab.threshold_from_link(ids, link.checkpoint.clone()));
    }
    let from_link = link.form.is_some();
    provide_context(RwSignal::new(
        link.form.unwrap_or_else(controls::opening_form),
    ));
    state.send(crate::protocol::Action::Hello {
        base_url: base_url(),
        backend,
    });
    let kiosk = param(&query, "kiosk").is_some();
    let header = view! {
        <header>
            <h1>"Kizu " <span class="tagline">"anomaly detection lab"</span></h1>
            <BackendBadge />
            // A kiosk shows no settings.
            {(!kiosk).then(|| view! { <state::CpuSwitch forced=backend == BackendChoice::Cpu /> })}
        </header>
        <offline::OfflineSupport />
        {url_warning.map(|w| view! { <p class="warning" role="status">{w}</p> })}
    };
    if kiosk {
        // One model and one question; the link's notes still say what was ignored.
        return view! {
            {header}
            <share::LinkNotes from_link=false notes=link.notes />
            <kiosk::Kiosk />
        }
        .into_any();
    }
    view! {
        {header}
        <share::LinkNotes from_link notes=link.notes />
        <p class="intro" data-testid="intro">
            "A detector learns what normal images look like; it then regenerates every image as a normal one. "
            "Below: its score for each test image (histogram: normal blue, anomalous orange, threshold line), "
            "and for a few images the input, the generated image and where they differ (heat map)."
        </p>
        <main>
            <ShippedModels />
            <progress::TrainingProgress />
            <Results />
            <Controls />
            <TrainingImages />
            <series::SeriesFile />
            <ScoreImages />
            <CheckpointFiles />
            <KeptModels />
        </main>
    }
    .into_any()
}
