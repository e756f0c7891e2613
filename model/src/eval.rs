//! Evaluation on a protocol: threshold from normal training scores, AUC and histogram on test.

use burn::tensor::Device;

use crate::data::OneClassSplit;
use crate::detector::{score_images, Detector};
use crate::metrics::{roc_auc, Histogram};
use crate::score::{ReadError, ScoreKind};
use crate::threshold::{fit, Threshold, ThresholdError, ThresholdMethod};

/// Bins of the score histogram.
pub const HISTOGRAM_BINS: usize = 40;

/// How a detector did on the test set of a split.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The score used.
    pub score_kind: ScoreKind,
    /// Threshold fitted on the normal training images.
    pub threshold: Threshold,
    /// Scores of the test images, in test order.
    pub test_scores: Vec<f32>,
    /// ROC AUC on the test set; `None` if it lacks a class or a score is not finite.
    pub auc: Option<f64>,
    /// Histogram of test scores, normal vs anomalous, over a range that covers the threshold.
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
}

/// Scores the training and test images of `split` and summarises the test scores.
pub async fn evaluate(
    detector: &impl Detector,
    split: &OneClassSplit,
    score_kind: ScoreKind,
    method: ThresholdMethod,
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation, EvalError> {
    let train = score_images(detector, &split.train, batch_size, device).await?;
    let threshold = fit(method, train.of(score_kind))?;
    let test = score_images(detector, &split.test, batch_size, device).await?;
    let test_scores = test.of(score_kind).to_vec();
    Ok(Evaluation {
        score_kind,
        threshold,
        auc: roc_auc(&test_scores, &split.test_is_anomaly),
        histogram: Histogram::new(
            &test_scores,
            &split.test_is_anomaly,
            HISTOGRAM_BINS,
            &[threshold.value],
        ),
        test_scores,
    })
}
