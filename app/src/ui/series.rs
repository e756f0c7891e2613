//! Sensor series: a CSV file to train on (with what to do about missing cells), and a
//! series model's own views: each sensor's readings with the reconstruction, the window
//! score over time with the threshold, and the sensor x time error heat map. The
//! histogram and curves are the image models' own (a window is a test item).

use leptos::html::{Canvas, Input};
use leptos::prelude::*;
use wasm_bindgen::{Clamped, JsCast};

use super::charts::{draw_sensor, draw_window_scores};
use super::state::LabState;
use super::uploads::on_pick;
use crate::protocol::{Action, FileBytes, Missing, ModelView, SeriesTrace};

/// Heat-map rows per sensor, in CSS pixels.
const HEAT_ROW: usize = 18;

/// A CSV file of sensor readings to train on.
#[component]
pub fn SeriesFile() -> impl IntoView {
    let state = expect_context::<LabState>();
    let (missing, set_missing) = signal(Missing::Refuse);
    let picker = NodeRef::<Input>::new();
    let send = move |files: Vec<FileBytes>| {
        if let Some(file) = files.into_iter().next() {
            state.send(Action::LoadSeries {
                file,
                missing: missing.get_untracked(),
            });
        }
    };
    let report = move || {
        state.lab.with(|lab| lab.series.clone()).map(|r| {
            let labels = r.anomalous_steps.map_or_else(
                || "no label column".to_owned(),
                |n| format!("{n} steps labelled anomalous"),
            );
            let changed = match (r.dropped_rows.len(), r.filled_cells) {
                (0, 0) => String::new(),
                (dropped, filled) => format!(
                    " · {dropped} rows dropped{} · {filled} cells filled",
                    r.dropped_rows
                        .first()
                        .map_or(String::new(), |row| format!(" (first: row {row})"))
                ),
            };
            view! {
                <p data-testid="series-loaded">
                    {format!(
                        "{}: {} steps of {} sensors ({}) · {labels}{changed}. Choose “Sensor series: your CSV” above and train.",
                        r.file,
                        r.steps,
                        r.sensors.len(),
                        r.sensors.join(", ")
                    )}
                </p>
            }
        })
    };
    view! {
        <section class="series-file" aria-label="Your sensor series">
            <h2>"Your sensor series"</h2>
            <p class="hint">
                "A CSV file: a header row naming each column, one row per time step. A column named timestamp (or time, date) is shown, not learned; "
                "a column named label (or anomaly) marks anomalous steps with 1 or anomaly, for the AUC. Every other column is a sensor. "
                "The first part of the file trains (normal steps only), the rest is tested."
            </p>
            <label>
                "Missing cells "
                <select
                    data-testid="series-missing"
                    on:change=move |ev| {
                        if let Some(m) = Missing::from_id(&event_target_value(&ev)) {
                            set_missing.set(m);
                        }
                    }
                >
                    {Missing::ALL
                        .into_iter()
                        .map(|m| view! { <option value=m.id() selected=move || missing.get() == m>{m.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            " "
            <label>
                "CSV file "
                <input node_ref=picker data-testid="series-picker" type="file" accept=".csv,text/csv" on:change=on_pick(picker, send) />
            </label>
            {report}
        </section>
    }
}

/// A series model's views: pick a sensor to see its readings and reconstruction; the
/// window scores follow the page's threshold.
#[component]
pub fn SeriesViews(view: ModelView, trace: SeriesTrace) -> impl IntoView {
    let state = expect_context::<LabState>();
    let trace = StoredValue::new(trace);
    let view = StoredValue::new(view);
    let (sensor, set_sensor) = signal(0usize);
    let sensor_canvas = NodeRef::<Canvas>::new();
    let scores_canvas = NodeRef::<Canvas>::new();
    let threshold = move || {
        state
            .lab
            .with(|lab| lab.threshold_value())
            .unwrap_or(f32::NAN)
    };
    Effect::new(move |_| {
        let chosen = sensor.get();
        if let Some(canvas) = sensor_canvas.get() {
            trace.with_value(|t| draw_sensor(canvas, t, chosen));
        }
    });
    Effect::new(move |_| {
        let value = threshold();
        if let Some(canvas) = scores_canvas.get() {
            trace.with_value(|t| {
                view.with_value(|v| {
                    draw_window_scores(canvas, t, &v.test_scores, &v.test_is_anomaly, value)
                })
            });
        }
    });
    let flagged = move || {
        let value = threshold();
        view.with_value(|v| v.test_scores.iter().filter(|&&s| s > value).count())
    };
    let windows = view.with_value(|v| v.test_scores.len());
    let span = trace.with_value(|t| match &t.times {
        Some((from, to)) => format!("steps from {} ({from} to {to})", t.first_step),
        None => format!("steps from {}", t.first_step),
    });
    let sensors = trace.with_value(|t| t.sensors.clone());
    view! {
        <div class="series-views" data-testid="series-views">
            <h3>"Sensors over the test part"</h3>
            <p class="hint">{format!("The test part, {span}. Blue: the readings; green: what the model rebuilt from each window; orange bands: steps labelled anomalous. Where the two lines part, the model has not seen such readings.")}</p>
            <label>
                "Sensor "
                <select
                    data-testid="series-sensor"
                    on:change=move |ev| {
                        if let Ok(s) = event_target_value(&ev).parse() {
                            set_sensor.set(s);
                        }
                    }
                >
                    {sensors
                        .iter()
                        .enumerate()
                        .map(|(i, name)| view! { <option value=i.to_string()>{name.clone()}</option> })
                        .collect_view()}
                </select>
            </label>
            <canvas class="chart" node_ref=sensor_canvas data-testid="series-chart"></canvas>
            <h3>"Window score over time"</h3>
            <p class="hint" data-testid="series-flagged">
                {move || format!("{} of {windows} test windows are above the threshold (shaded); move the threshold on the histogram below.", flagged())}
            </p>
            <canvas class="chart" node_ref=scores_canvas data-testid="series-scores"></canvas>
            <h3>"Error per sensor and step"</h3>
            <p class="hint">"Each row a sensor, each column a step of the test part: dark where the model rebuilt the sensor's shape and its step-to-step changes, bright where it could not (their squared error in units of their usual spread; the brightest colour is the 99.5th percentile of this map, as in every heat map here)."</p>
            <HeatMap trace=trace.get_value() />
        </div>
    }
}

/// The squared error of every reading, sensors as rows and steps as columns, through the
/// inferno colour map, brightest at the heat maps' one scale of the map's own values
/// ([`kizu_model::viz::difference_scale`]).
#[component]
fn HeatMap(trace: SeriesTrace) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let (points, sensors) = (trace.points, trace.sensors.len());
    let names = trace.sensors.clone();
    Effect::new(move |_| {
        let Some(canvas) = canvas.get() else { return };
        // Rows of sensors: the trace is [points, sensors].
        let mut rows = Vec::with_capacity(points * sensors);
        for s in 0..sensors {
            rows.extend(trace.sensor(&trace.errors, s));
        }
        let rgba = kizu_model::viz::inferno_rgba(&rows, kizu_model::viz::difference_scale(&rows));
        let context = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok());
        let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
            Clamped(&rgba),
            points as u32,
            sensors as u32,
        );
        if let (Some(context), Ok(image)) = (context, image) {
            let _ = context.put_image_data(&image, 0.0, 0.0);
        }
    });
    let height = format!("height: {}px", sensors * HEAT_ROW);
    view! {
        <div class="heatmap">
            <ol class="heatmap-sensors" style=height.clone()>
                {names.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
            </ol>
            <canvas node_ref=canvas data-testid="series-heatmap" width=points height=sensors style=height></canvas>
        </div>
    }
}
