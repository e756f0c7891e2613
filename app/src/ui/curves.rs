//! ROC and precision-recall curves of the test scores, with the current threshold marked.

use kizu_model::metrics::{average_precision, curve};
use leptos::html::Canvas;
use leptos::prelude::*;

use super::charts::{draw_curve, CurveKind};
use super::state::LabState;
use super::threshold::threshold_keys;
use crate::protocol::ModelView;
use crate::steer::Steered;

/// Both curves side by side, with the AUC and average precision they summarise.
#[component]
pub fn Curves(view: ModelView) -> impl IntoView {
    let state = expect_context::<LabState>();
    let points = curve(&view.test_scores, &view.test_is_anomaly);
    let items = view.items().1;
    let Some(points) = points else {
        return view! { <p class="hint" data-testid="curves-missing">{format!("ROC and PR curves need test {items} of both kinds.")}</p> }.into_any();
    };
    let average = average_precision(&view.test_scores, &view.test_is_anomaly);
    let anomalies = view.test_is_anomaly.iter().filter(|&&a| a).count();
    let prevalence = anomalies as f64 / view.test_is_anomaly.len().max(1) as f64;
    let auc = view
        .auc
        .map_or_else(|| "n/a".to_owned(), |a| format!("{a:.4}"));
    let ap = average.map_or_else(|| "n/a".to_owned(), |a| format!("{a:.4}"));
    let points = StoredValue::new(points);
    let roc = NodeRef::<Canvas>::new();
    let pr = NodeRef::<Canvas>::new();
    let (roc_caption, pr_caption) = (
        format!("ROC curve · AUC {auc}"),
        format!("precision-recall · AP {ap}"),
    );
    Effect::new(move |_| {
        let confusion = state
            .lab
            .with(|lab| lab.threshold_value().and_then(|t| lab.confusion_at(t)));
        let at_roc = confusion.and_then(|c| Some((c.false_positive_rate()?, c.recall()?)));
        let at_pr = confusion.and_then(|c| Some((c.recall()?, c.precision().unwrap_or(1.0))));
        points.with_value(|points| {
            if let Some(canvas) = roc.get() {
                draw_curve(canvas, CurveKind::Roc, points, at_roc, 0.0, &roc_caption);
            }
            if let Some(canvas) = pr.get() {
                draw_curve(
                    canvas,
                    CurveKind::PrecisionRecall,
                    points,
                    at_pr,
                    prevalence,
                    &pr_caption,
                );
            }
        });
    });
    // Focused, either curve walks the threshold along its points, one test score a step.
    let on_key = threshold_keys(state, Steered::along_scores);
    let threshold = move || {
        state
            .lab
            .with(|lab| lab.threshold_value())
            .map_or_else(String::new, |t| t.to_string())
    };
    view! {
        <div class="curves-section">
            <p class="hint">{format!("Every threshold at once: ROC plots the share of anomalies caught against the share of normal {items} flagged (the dashed diagonal is chance; the area under it is the AUC); precision-recall plots how many flags are right against how many anomalies are caught (dashed: the share of anomalies). The dot is the threshold above; focus a curve and the arrow keys walk it one test score at a time.")}</p>
            <p class="metrics">
                "ROC AUC " <strong data-testid="roc-auc">{auc}</strong>
                " · average precision " <strong data-testid="average-precision">{ap}</strong>
            </p>
            <div class="curves">
                <canvas node_ref=roc class="chart square" data-testid="roc-curve" width="420" height="400"
                    tabindex="0" role="slider" aria-label="Threshold along the ROC curve: the arrow keys move it one test score at a time"
                    aria-valuenow=threshold on:keydown=on_key></canvas>
                <canvas node_ref=pr class="chart square" data-testid="pr-curve" width="420" height="400"
                    tabindex="0" role="slider" aria-label="Threshold along the precision-recall curve: the arrow keys move it one test score at a time"
                    aria-valuenow=threshold on:keydown=on_key></canvas>
            </div>
        </div>
    }
    .into_any()
}
