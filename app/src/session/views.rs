//! The views a session sends the page: a model's summary with its evaluation, and
//! images drawn as 8-bit planes with their reconstructions and heat maps.

use burn::tensor::Device;
use kizu_model::checkpoint::CheckpointMeta;
use kizu_model::data::{Images, Protocol};
use kizu_model::detector::Detector;
use kizu_model::eval::Evaluation;
use kizu_model::pca::Projection;
use kizu_model::run::RunSettings;
use kizu_model::score::ScoreKind;
use kizu_model::viz::{channel_mean, to_u8};

use super::{run_error, Failure, SAMPLES_PER_CLASS};
use crate::protocol::{LatentMap, ModelOrigin, ModelView, Sample, ThresholdView};

/// What a model was tested on: whether each test item (an image, a series' window) is
/// an anomaly, and its name.
pub(super) struct Tested<'a> {
    /// Each test item's label, in test order.
    pub is_anomaly: &'a [bool],
    /// Each one's name ("digit 3 #17", "steps 3104-3135").
    pub names: Vec<String>,
}

impl<'a> Tested<'a> {
    /// The test images of `split`.
    pub fn images(split: &'a dyn Protocol) -> Self {
        Self {
            is_anomaly: split.test_is_anomaly(),
            names: (0..split.test().len())
                .map(|i| split.test_label(i))
                .collect(),
        }
    }
}

/// The page's view of a model described by `meta`, evaluated on `tested` (or on nothing),
/// which `evaluated_on` makes again.
pub(super) fn model_view(
    origin: ModelOrigin,
    meta: &CheckpointMeta,
    tested: Option<Tested<'_>>,
    evaluation: Evaluation,
    samples: Vec<Sample>,
    evaluated_on: Option<RunSettings>,
) -> ModelView {
    let (labelled, names) = tested.map_or((&[][..], Vec::new()), |t| (t.is_anomaly, t.names));
    let has_both = labelled.iter().any(|&a| a) && labelled.iter().any(|&a| !a);
    // A model without a latent, or codes that cannot be projected, gets no map.
    let latent = Projection::fit(&evaluation.test_latents, evaluation.latent_dim)
        .ok()
        .map(|projection| LatentMap {
            points: projection.project(&evaluation.test_latents),
            explained: projection.explained.map(|e| e as f32),
            dim: projection.dim,
        });
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
        test_names: names,
        train_scores: evaluation.train_scores,
        latent,
        evaluated_on,
        histogram: evaluation.histogram,
        samples,
        steps: None,
        stopped_early: false,
        diverged: None,
        throughput: None,
        series: None,
    }
}

/// The first few normal and anomalous test images with their reconstructions.
pub(super) async fn samples(
    model: &impl Detector,
    test: &TestImages,
    score: ScoreKind,
    scale: f32,
    device: &Device,
) -> Result<Vec<Sample>, Failure> {
    test.draw(model, &test.first(SAMPLES_PER_CLASS), score, scale, device)
        .await
}

/// A model's test images, kept to draw any of them again (the gallery).
pub(super) struct TestImages {
    /// The images, as the model is shown them.
    pub images: Images,
    /// Each one's name ("digit 3 #17").
    pub names: Vec<String>,
    /// Whether each is an anomaly.
    pub is_anomaly: Vec<bool>,
}

impl TestImages {
    /// The positions of the first `per_class` normal and then anomalous images.
    pub fn first(&self, per_class: usize) -> Vec<usize> {
        let pick = |anomalous: bool| {
            (0..self.images.len())
                .filter(move |&i| self.is_anomaly[i] == anomalous)
                .take(per_class)
        };
        pick(false).chain(pick(true)).collect()
    }

    /// The test images of `split`.
    pub fn of(split: &dyn Protocol) -> Self {
        Self {
            images: split.test().clone(),
            names: (0..split.test().len())
                .map(|i| split.test_label(i))
                .collect(),
            is_anomaly: split.test_is_anomaly().to_vec(),
        }
    }

    /// Draws the images at `indices` (see [`draw`]).
    pub async fn draw(
        &self,
        model: &impl Detector,
        indices: &[usize],
        score: ScoreKind,
        scale: f32,
        device: &Device,
    ) -> Result<Vec<Sample>, Failure> {
        let labels: Vec<(String, Option<bool>)> = indices
            .iter()
            .map(|&i| (self.names[i].clone(), Some(self.is_anomaly[i])))
            .collect();
        draw(model, &self.images, indices, &labels, score, scale, device).await
    }
}

/// Runs `model` on `images[indices]` and turns input, reconstruction and difference into
/// 8-bit planes with the image's `score`; the difference is averaged over channels and
/// saturates at `scale`.
pub(super) async fn draw(
    model: &impl Detector,
    images: &Images,
    indices: &[usize],
    labels: &[(String, Option<bool>)],
    score: ScoreKind,
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
    let scores = detection.scores.of(score);
    let [channels, side, _] = padded.image_shape();
    Ok((0..indices.len())
        .map(|k| {
            let mean = channel_mean(detection.difference.image(k), channels);
            Sample {
                label: labels[k].0.clone(),
                is_anomaly: labels[k].1,
                score: scores.get(k).copied().unwrap_or(f32::NAN),
                side,
                channels,
                input: to_u8(padded.image(k), 1.0),
                generated: to_u8(detection.reconstruction.image(k), 1.0),
                difference: to_u8(&mean, scale),
            }
        })
        .collect())
}
