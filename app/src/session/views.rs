//! The views a session sends the page: a model's summary with its evaluation, and
//! images drawn as 8-bit planes with their reconstructions and heat maps.

use burn::tensor::Device;
use kizu_model::checkpoint::CheckpointMeta;
use kizu_model::data::{Images, Protocol};
use kizu_model::detector::Detector;
use kizu_model::eval::Evaluation;
use kizu_model::viz::{channel_mean, to_u8};

use super::{run_error, Failure, SAMPLES_PER_CLASS};
use crate::protocol::{ModelOrigin, ModelView, Sample, ThresholdView};

/// The page's view of a model described by `meta`, evaluated on test images labelled
/// `labelled`.
pub(super) fn model_view(
    origin: ModelOrigin,
    meta: &CheckpointMeta,
    labelled: &[bool],
    evaluation: Evaluation,
    samples: Vec<Sample>,
) -> ModelView {
    let has_both = labelled.iter().any(|&a| a) && labelled.iter().any(|&a| !a);
    ModelView {
        origin,
        model: meta.model.model_kind(),
        settings: meta.settings.clone(),
        protocol: meta.protocol(),
        input: (meta.input_size, meta.channels),
        score_label: evaluation.score_kind.label().to_owned(),
        thresholds: evaluation
            .thresholds
            .iter()
            .map(|t| ThresholdView {
                method: t.method.label(),
                threshold: *t,
                confusion: (!labelled.is_empty()).then(|| {
                    kizu_model::metrics::Confusion::at(&evaluation.test_scores, labelled, t.value)
                }),
            })
            .collect(),
        auc: evaluation.auc.filter(|_| has_both),
        test_scores: evaluation.test_scores,
        test_is_anomaly: labelled.to_vec(),
        histogram: evaluation.histogram,
        samples,
        steps: None,
        stopped_early: false,
        throughput: None,
    }
}

/// The first few normal and anomalous test images with their reconstructions.
pub(super) async fn samples(
    model: &impl Detector,
    split: &dyn Protocol,
    evaluation: &Evaluation,
    scale: f32,
    device: &Device,
) -> Result<Vec<Sample>, Failure> {
    let labelled = split.test_is_anomaly();
    let pick = |anomalous: bool| {
        (0..split.test().len())
            .filter(move |&i| labelled[i] == anomalous)
            .take(SAMPLES_PER_CLASS)
    };
    let indices: Vec<usize> = pick(false).chain(pick(true)).collect();
    let labels: Vec<(String, Option<bool>)> = indices
        .iter()
        .map(|&i| (split.test_label(i), Some(labelled[i])))
        .collect();
    let scores: Vec<f32> = indices.iter().map(|&i| evaluation.test_scores[i]).collect();
    let selected = split.test().select(&indices);
    let all: Vec<usize> = (0..indices.len()).collect();
    draw(model, &selected, &all, &labels, &scores, scale, device).await
}

/// Runs `model` on `images[indices]` and turns input, reconstruction and difference into
/// 8-bit planes; the difference is averaged over channels and saturates at `scale`.
pub(super) async fn draw(
    model: &impl Detector,
    images: &Images,
    indices: &[usize],
    labels: &[(String, Option<bool>)],
    scores: &[f32],
    scale: f32,
    device: &Device,
) -> Result<Vec<Sample>, Failure> {
    if indices.is_empty() {
        return Ok(Vec::new());
    }
    let selected = images.select(indices);
    let padded = selected.padded_to(model.input_size());
    let detection = model
        .detect(padded.tensor(0, padded.len(), device))
        .read()
        .await
        .map_err(run_error)?;
    let [channels, side, _] = padded.image_shape();
    Ok((0..indices.len())
        .map(|k| {
            let mean = channel_mean(detection.difference.image(k), channels);
            Sample {
                label: labels[k].0.clone(),
                is_anomaly: labels[k].1,
                score: scores[k],
                side,
                channels,
                input: to_u8(padded.image(k), 1.0),
                generated: to_u8(detection.reconstruction.image(k), 1.0),
                difference: to_u8(&mean, scale),
            }
        })
        .collect())
}
