//! Drawing 8-bit images on canvases: a sample's input, generated image and heat maps.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};

use kizu_model::viz::{inferno_rgba, overlay_rgba, planar_rgba};

use crate::protocol::Sample;

/// The four views of a sample, as RGBA: input, generated, heat map, heat map over input.
pub fn views(sample: &Sample) -> [Vec<u8>; 4] {
    let input = planar_rgba(&sample.input, sample.channels);
    let generated = planar_rgba(&sample.generated, sample.channels);
    // The difference arrives scaled to the model's fixed heat-map scale (255 = 1).
    let values: Vec<f32> = sample
        .difference
        .iter()
        .map(|&d| f32::from(d) / 255.0)
        .collect();
    let heat = inferno_rgba(&values, 1.0);
    let over = overlay_rgba(&input, &heat, &values, 1.0);
    [input, generated, heat, over]
}

/// A sample's four views side by side: input, generated, difference, difference over the
/// input; `testids` name the four canvases.
#[component]
pub fn Quad(sample: Sample, testids: [&'static str; 4]) -> impl IntoView {
    let side = sample.side as u32;
    let [input, generated, heat, over] = views(&sample);
    view! {
        <div class="quad">
            <Pixels testid=testids[0] rgba=input side title="input" />
            <Pixels testid=testids[1] rgba=generated side title="generated" />
            <Pixels testid=testids[2] rgba=heat side title="difference" />
            <Pixels testid=testids[3] rgba=over side title="difference over the input" />
        </div>
    }
}

/// A square RGBA image drawn pixel for pixel (CSS scales it up, pixelated).
#[component]
pub fn Pixels(
    testid: &'static str,
    rgba: Vec<u8>,
    side: u32,
    #[prop(optional)] title: &'static str,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let Some(canvas) = canvas.get() else { return };
        let context = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok());
        let image =
            web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), side, side);
        if let (Some(context), Ok(image)) = (context, image) {
            let _ = context.put_image_data(&image, 0.0, 0.0);
        }
    });
    view! { <canvas node_ref=canvas data-testid=testid width=side height=side title=title></canvas> }
}
