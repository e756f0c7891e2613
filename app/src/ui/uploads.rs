//! Your own images: a folder of good (and defect) images to train on, and images to score
//! with the current model.

use leptos::html::Input;
use leptos::prelude::*;

use super::camera::Camera;
use super::files;
use super::results::SampleCard;
use super::state::LabState;
use crate::protocol::{Action, FileBytes, Fit, Refused};

/// Side uploaded images are brought to unless the user picks another.
pub const DEFAULT_SIDE: usize = 64;
/// Sides a user can pick.
const SIDES: [usize; 3] = [28, 32, 64];

/// Calls `send` with the files of a drop (folders walked).
pub fn on_drop(send: impl Fn(Vec<FileBytes>) + Copy + 'static) -> impl Fn(web_sys::DragEvent) {
    move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        let Some(transfer) = ev.data_transfer() else {
            return;
        };
        let started = files::start_drop(&transfer);
        leptos::task::spawn_local(async move {
            let dropped = files::read_dropped(started).await;
            if !dropped.is_empty() {
                send(dropped);
            }
        });
    }
}

/// Calls `send` with the files chosen in `picker`, then clears it.
pub fn on_pick(
    picker: NodeRef<Input>,
    send: impl Fn(Vec<FileBytes>) + Copy + 'static,
) -> impl Fn(web_sys::Event) + Copy {
    move |_| {
        let Some(input) = picker.get() else { return };
        leptos::task::spawn_local(async move {
            let chosen = files::from_input(&input).await;
            input.set_value("");
            if !chosen.is_empty() {
                send(chosen);
            }
        });
    }
}

/// A folder of good images (and defects) to train on.
#[component]
pub fn TrainingImages() -> impl IntoView {
    let state = expect_context::<LabState>();
    let (side, set_side) = signal(DEFAULT_SIDE);
    let (rgb, set_rgb) = signal(true);
    let (fit, set_fit) = signal(Fit::Resize);
    let send = move |files: Vec<FileBytes>| {
        state.send(Action::LoadImages {
            files,
            side: side.get_untracked(),
            channels: if rgb.get_untracked() { 3 } else { 1 },
            fit: fit.get_untracked(),
        });
    };
    let (file_picker, folder_picker) = (NodeRef::<Input>::new(), NodeRef::<Input>::new());
    let report = move || state.lab.with(|lab| lab.upload.clone());
    let busy = move || state.lab.with(|lab| lab.is_busy());
    // The folder picker's attribute is not in Leptos's list of known ones.
    Effect::new(move |_| {
        if let Some(input) = folder_picker.get() {
            let _ = input.set_attribute("webkitdirectory", "");
        }
    });
    view! {
        <section class="uploads" aria-label="Your images">
            <h2>"Your images"</h2>
            <p class="hint">
                "Good images train the model; a share of them and any defects test it. "
                "A folder laid out as train/good, test/good, test/<defect> (MVTec AD) or good/ plus defect folders is understood; loose files are good images."
            </p>
            <div class="form">
                <label>
                    "Size "
                    <select data-testid="upload-side" on:change=move |ev| {
                        if let Ok(s) = event_target_value(&ev).parse() { set_side.set(s) }
                    }>
                        {SIDES.into_iter().map(|s| view! { <option value=s.to_string() selected=move || side.get() == s>{format!("{s} x {s}")}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    "Fit "
                    <select data-testid="upload-fit" on:change=move |ev| {
                        if let Some(f) = Fit::from_id(&event_target_value(&ev)) { set_fit.set(f) }
                    }>
                        {Fit::ALL.into_iter().map(|f| view! { <option value=f.id() selected=move || fit.get() == f>{f.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    <input type="checkbox" data-testid="upload-rgb" prop:checked=rgb on:change=move |ev| set_rgb.set(event_target_checked(&ev)) />
                    " colour (RGB)"
                </label>
                <label>"Images " <input node_ref=file_picker data-testid="upload-files" type="file" multiple accept="image/*" disabled=busy on:change=on_pick(file_picker, send) /></label>
                <label>"A folder " <input node_ref=folder_picker data-testid="upload-folder" type="file" disabled=busy on:change=on_pick(folder_picker, send) /></label>
            </div>
            <div class="dropzone" data-testid="dropzone" on:dragover=|ev: web_sys::DragEvent| ev.prevent_default() on:drop=on_drop(send)>
                "or drop images and folders here"
            </div>
            {move || report().map(|r| view! {
                <div data-testid="upload-report">
                    <p><strong>{format!("{} images loaded ({} good) at {}x{}x{}, {}", r.loaded, r.good, r.input.0, r.input.0, r.input.1, r.fit.id())}</strong></p>
                    <ul class="summary">{r.summary.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
                    <RefusedList refused=r.refused />
                    <p class="hint">"Pick “Your images” as the data below and press Train."</p>
                </div>
            })}
        </section>
    }
}

/// Files refused for one reason: each on its line when few share it, else one line
/// with the count and the first names (8,500 files over a limit are not 8,500 lines).
fn refused_line(reason: &str, files: &[&str]) -> impl IntoView {
    const EACH: usize = 3;
    if files.len() <= EACH {
        return files
            .iter()
            .map(|file| view! { <li data-testid="refused-file">{format!("{file}: {reason}")}</li> })
            .collect_view()
            .into_any();
    }
    let named = files[..EACH].join(", ");
    let more = files.len() - EACH;
    view! {
        <li data-testid="refused-group">{format!("{} files: {reason} ({named} and {more} more)", files.len())}</li>
    }
    .into_any()
}

/// Files that could not be used, with their reasons.
#[component]
fn RefusedList(refused: Vec<Refused>) -> impl IntoView {
    (!refused.is_empty()).then(|| {
        view! {
            <div class="refused" data-testid="refused">
                <p class="warning">{match refused.len() { 1 => "1 file could not be used:".to_owned(), n => format!("{n} files could not be used:") }}</p>
                <ul>{Refused::grouped(&refused).into_iter().map(|(reason, files)| refused_line(reason, &files)).collect_view()}</ul>
            </div>
        }
    })
}

/// Images scored by the current model: each with its maps, score and verdict.
#[component]
pub fn ScoreImages() -> impl IntoView {
    let state = expect_context::<LabState>();
    let send = move |files: Vec<FileBytes>| state.send(Action::ScoreImages(files));
    let picker = NodeRef::<Input>::new();
    let report = move || state.lab.with(|lab| lab.scored.clone());
    let ready = move || state.lab.with(|lab| lab.model.is_some() && !lab.is_busy());
    view! {
        <section class="scoring" aria-label="Score images">
            <h2>"Check images with the model"</h2>
            <div class="form">
                <label>"Images to check " <input node_ref=picker data-testid="score-files" type="file" multiple accept="image/*" disabled=move || !ready() on:change=on_pick(picker, send) /></label>
            </div>
            <div class="dropzone" on:dragover=|ev: web_sys::DragEvent| ev.prevent_default() on:drop=on_drop(send)>
                "or drop images to check here"
            </div>
            <Camera on_snapshot=move |file| send(vec![file]) ready=Signal::derive(ready) />
            {move || report().map(|r| {
                let threshold = Signal::derive(move || r.threshold.value);
                view! {
                    <p data-testid="score-threshold" data-value=r.threshold.value.to_string()>{format!("threshold {:.5}: images scoring above it are flagged", r.threshold.value)}</p>
                    <RefusedList refused=r.refused />
                    <div class="samples" data-testid="scored">
                        {r.images.into_iter().map(|sample| view! { <SampleCard sample threshold /> }).collect_view()}
                    </div>
                }
            })}
        </section>
    }
}
