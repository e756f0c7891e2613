//! Every test image, most anomalous first, in pages; filters by label and verdict; one
//! image opened in detail (input, generated, difference, heat map over the input).

use leptos::prelude::*;

use super::pixels::{views, Pixels};
use super::results::SampleCard;
use super::state::LabState;
use crate::gallery::{Gallery, LabelFilter, VerdictFilter};
use crate::protocol::Sample;

/// The gallery of the current model's test images.
#[component]
pub fn GalleryView() -> impl IntoView {
    let state = expect_context::<LabState>();
    // Sorted once per change of the lab, for the page and the request alike.
    let order = Memo::new(move |_| state.lab.with(|lab| lab.gallery_order()));
    // Ask the worker for the images the page (or the opened one) lacks, when it is free.
    Effect::new(move |_| {
        let request = order.with(|order| state.lab.with(|lab| lab.gallery_request(order)));
        if let Some(action) = request {
            state.send(action);
        }
    });
    let page = move || state.lab.with(|lab| lab.gallery.page);
    let pages = move || Gallery::pages(order.with(Vec::len));
    let shown = move || {
        let order = order.get();
        state.lab.with(|lab| lab.gallery.page_of(&order).to_vec())
    };
    let threshold = Signal::derive(move || {
        state
            .lab
            .with(|lab| lab.threshold_value())
            .unwrap_or(f32::NAN)
    });
    let go = move |delta: isize| {
        let last = pages().saturating_sub(1);
        state.lab.update(|lab| {
            let page = lab.gallery.page.saturating_add_signed(delta).min(last);
            lab.gallery.go_to(page);
        });
    };
    let set_labels = move |id: String| {
        state.lab.update(|lab| {
            let verdicts = lab.gallery.verdicts;
            lab.gallery.filter(LabelFilter::from_id(&id), verdicts);
        });
    };
    let set_verdicts = move |id: String| {
        state.lab.update(|lab| {
            let labels = lab.gallery.labels;
            lab.gallery.filter(labels, VerdictFilter::from_id(&id));
        });
    };
    let detail = move || {
        state.lab.with(|lab| {
            let index = lab.gallery.selected?;
            Some((index, lab.gallery.images.get(&index).cloned()))
        })
    };
    view! {
        <section class="gallery" aria-label="Gallery" data-testid="gallery">
            <h3>"Gallery: every test image, most anomalous first"</h3>
            <p class="hint">"Each tile is a test image with its difference heat map laid over it, and its score; an orange border is an anomaly, a bold score is flagged at the threshold. Click one for its detail."</p>
            <p class="form">
                <label>"show "
                    <select data-testid="gallery-labels" on:change=move |ev| set_labels(event_target_value(&ev))>
                        <option value="all">"every image"</option>
                        <option value="normal">"normal images"</option>
                        <option value="anomalous">"anomalies"</option>
                    </select>
                </label>
                <label>" that are "
                    <select data-testid="gallery-verdicts" on:change=move |ev| set_verdicts(event_target_value(&ev))>
                        <option value="all">"flagged or passed"</option>
                        <option value="flagged">"flagged"</option>
                        <option value="passed">"passed"</option>
                    </select>
                </label>
                <button data-testid="gallery-previous" disabled=move || page() == 0 on:click=move |_| go(-1)>"previous"</button>
                <span data-testid="gallery-page">{move || format!("page {} of {} ({} images)", page() + 1, pages(), order.with(Vec::len))}</span>
                <button data-testid="gallery-next" disabled=move || { page() + 1 >= pages() } on:click=move |_| go(1)>"next"</button>
            </p>
            {move || detail().map(|(index, sample)| view! { <Detail index sample threshold /> })}
            <div class="tiles">
                <For each=shown key=|&index| index let:index>
                    <Tile index threshold />
                </For>
            </div>
        </section>
    }
}

/// One test image: its heat map over the input (once drawn) and its score.
#[component]
fn Tile(index: usize, threshold: Signal<f32>) -> impl IntoView {
    let state = expect_context::<LabState>();
    let (score, is_anomaly, name) = state.lab.with_untracked(|lab| {
        let model = lab.model.as_ref();
        (
            model
                .and_then(|m| m.test_scores.get(index).copied())
                .unwrap_or(f32::NAN),
            model.and_then(|m| m.test_is_anomaly.get(index).copied()),
            model
                .and_then(|m| m.test_names.get(index).cloned())
                .unwrap_or_default(),
        )
    });
    let sample = move || {
        state
            .lab
            .with(|lab| lab.gallery.images.get(&index).cloned())
    };
    let verdict = move || {
        if score > threshold.get() {
            "flagged"
        } else {
            "passed"
        }
    };
    let class = match is_anomaly {
        Some(true) => "tile anomalous",
        Some(false) => "tile normal",
        None => "tile",
    };
    let title = format!("test image {index}: {name} · score {score:.5}");
    view! {
        <button
            class=class
            data-testid="gallery-item"
            data-index=index.to_string()
            data-score=score.to_string()
            data-verdict=verdict
            title=title
            on:click=move |_| state.lab.update(|lab| lab.gallery.open(Some(index)))
        >
            {move || match sample() {
                Some(sample) => {
                    let side = sample.side as u32;
                    let [_, _, _, over] = views(&sample);
                    view! { <Pixels testid="gallery-image" rgba=over side title="heat map over the input" /> }.into_any()
                }
                None => view! { <span class="placeholder">"…"</span> }.into_any(),
            }}
            <span class="score">{format!("{score:.4}")}</span>
        </button>
    }
}

/// The opened image's four views, or a note while it is drawn.
#[component]
fn Detail(index: usize, sample: Option<Sample>, threshold: Signal<f32>) -> impl IntoView {
    let state = expect_context::<LabState>();
    view! {
        <div class="detail" data-testid="gallery-detail" data-index=index.to_string()>
            {match sample {
                Some(sample) => view! { <SampleCard sample threshold /> }.into_any(),
                None => view! { <p class="hint">"drawing the image…"</p> }.into_any(),
            }}
            <button data-testid="gallery-close" on:click=move |_| state.lab.update(|lab| lab.gallery.open(None))>"close"</button>
        </div>
    }
}
