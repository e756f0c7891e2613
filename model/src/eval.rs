//! Evaluation on a protocol: threshold from normal training scores, AUC and histogram on test.

use burn::tensor::Device;

use crate::data::Protocol;
use crate::detector::{score_images, Detector};
use crate::metrics::{roc_auc, Confusion, Histogram};
use crate::score::{ReadError, ScoreKind};
use crate::threshold::{fit, Threshold, ThresholdError, ThresholdMethod};

/// Bins of the score histogram.
pub const HISTOGRAM_BINS: usize = 40;

/// How a detector did on the test set of a split.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The score used.
    pub score_kind: ScoreKind,
    /// Thresholds fitted on the normal training images, one per method asked for.
    pub thresholds: Vec<Threshold>,
    /// Scores of the normal training images the thresholds were fitted on; empty when
    /// the test set was scored against thresholds fitted before ([`evaluate_test`]).
    pub train_scores: Vec<f32>,
    /// Scores of the test images, in test order.
    pub test_scores: Vec<f32>,
    /// The latent code of each test image, `latent_dim` numbers each, in test order; empty
    /// for models without one.
    pub test_latents: Vec<f32>,
    /// Numbers per latent code (0 without).
    pub latent_dim: usize,
    /// ROC AUC on the test set; `None` if it lacks a class or a score is not finite.
    pub auc: Option<f64>,
    /// Histogram of test scores, normal vs anomalous, over a range that covers the thresholds.
    pub histogram: Histogram,
}

/// Why an evaluation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// Running the model or reading its results failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The training scores cannot support a threshold.
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
    /// No threshold method was given.
    #[error("no threshold method given")]
    NoThresholdMethod,
}

/// Scores the training and test images of `split` (any [`Protocol`]) and summarises the
/// test scores.
///
/// `methods` must not be empty; each gives one threshold fitted on the training scores.
pub async fn evaluate(
    detector: &impl Detector,
    split: &(impl Protocol + ?Sized),
    score_kind: ScoreKind,
    methods: &[ThresholdMethod],
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation, EvalError> {
    let train = score_images(detector, split.train(), batch_size, device).await?;
    let thresholds = methods
        .iter()
        .map(|&method| fit(method, train.of(score_kind)))
        .collect::<Result<Vec<_>, _>>()?;
    let evaluation =
        evaluate_test(detector, split, score_kind, thresholds, batch_size, device).await?;
    Ok(evaluation.with_train_scores(train.of(score_kind).to_vec()))
}

/// Scores the test images of `split` and summarises them against `thresholds` fitted
/// before (e.g. the one a checkpoint keeps).
pub async fn evaluate_test(
    detector: &impl Detector,
    split: &(impl Protocol + ?Sized),
    score_kind: ScoreKind,
    thresholds: Vec<Threshold>,
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation, EvalError> {
    if thresholds.is_empty() {
        return Err(EvalError::NoThresholdMethod);
    }
    let test = score_images(detector, split.test(), batch_size, device).await?;
    let evaluation = Evaluation::of_scores(
        score_kind,
        thresholds,
        test.of(score_kind).to_vec(),
        split.test_is_anomaly(),
    )?;
    Ok(Evaluation {
        test_latents: test.latent,
        latent_dim: test.latent_dim,
        ..evaluation
    })
}

impl Evaluation {
    /// The summary of `test_scores` (labelled by `test_is_anomaly`) against `thresholds`
    /// fitted before, for scores made elsewhere (a sensor series' windows); no latents.
    pub fn of_scores(
        score_kind: ScoreKind,
        thresholds: Vec<Threshold>,
        test_scores: Vec<f32>,
        test_is_anomaly: &[bool],
    ) -> Result<Self, EvalError> {
        if thresholds.is_empty() {
            return Err(EvalError::NoThresholdMethod);
        }
        let values: Vec<f32> = thresholds.iter().map(|t| t.value).collect();
        Ok(Self {
            score_kind,
            auc: roc_auc(&test_scores, test_is_anomaly),
            histogram: Histogram::new(&test_scores, test_is_anomaly, HISTOGRAM_BINS, &values),
            thresholds,
            train_scores: Vec::new(),
            test_scores,
            test_latents: Vec::new(),
            latent_dim: 0,
        })
    }

    /// The same evaluation with the normal training scores its thresholds come from.
    pub fn with_train_scores(mut self, scores: Vec<f32>) -> Self {
        self.train_scores = scores;
        self
    }

    /// Outcomes on the test set at `threshold`.
    pub fn confusion(&self, split: &(impl Protocol + ?Sized), threshold: &Threshold) -> Confusion {
        Confusion::at(&self.test_scores, split.test_is_anomaly(), threshold.value)
    }
}
