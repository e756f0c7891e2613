//! Decision thresholds fitted on the scores of normal training images.

use serde::{Deserialize, Serialize};

/// How a threshold is chosen from normal scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ThresholdMethod {
    /// The highest normal score (seeds 000, 001): no normal training image is flagged.
    MaxNormal,
    /// The p-th percentile of normal scores (p in [0, 100]), linearly interpolated.
    Percentile(f64),
}

impl ThresholdMethod {
    /// A short human-readable name.
    pub fn label(&self) -> String {
        match self {
            Self::MaxNormal => "max of normal".into(),
            Self::Percentile(p) => format!("{p}th percentile"),
        }
    }
}

/// A fitted threshold: scores above it are anomalies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// The score boundary.
    pub value: f32,
    /// How it was chosen.
    pub method: ThresholdMethod,
}

impl Threshold {
    /// Whether `score` is flagged as an anomaly.
    pub fn is_anomaly(&self, score: f32) -> bool {
        score > self.value
    }
}

/// Why a threshold could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThresholdError {
    /// No score to fit on.
    #[error("no normal scores to fit a threshold on")]
    Empty,
    /// A score is NaN or infinite.
    #[error("score {index} is not finite ({value})")]
    NotFinite {
        /// Position of the score.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// The percentile is outside [0, 100].
    #[error("percentile {0} is outside 0-100")]
    BadPercentile(f64),
}

/// Fits a threshold on the scores of normal images.
pub fn fit(method: ThresholdMethod, normal_scores: &[f32]) -> Result<Threshold, ThresholdError> {
    if normal_scores.is_empty() {
        return Err(ThresholdError::Empty);
    }
    if let Some((index, &value)) = normal_scores
        .iter()
        .enumerate()
        .find(|(_, s)| !s.is_finite())
    {
        return Err(ThresholdError::NotFinite { index, value });
    }
    let value = match method {
        ThresholdMethod::MaxNormal => normal_scores.iter().copied().fold(f32::MIN, f32::max),
        ThresholdMethod::Percentile(p) => {
            if !(0.0..=100.0).contains(&p) {
                return Err(ThresholdError::BadPercentile(p));
            }
            percentile(normal_scores, p)
        }
    };
    Ok(Threshold { value, method })
}

/// The p-th percentile with linear interpolation between ranks (numpy's default).
fn percentile(scores: &[f32], p: f64) -> f32 {
    let mut sorted = scores.to_vec();
    sorted.sort_by(f32::total_cmp);
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let t = (rank - lo as f64) as f32;
    sorted[lo] + (sorted[hi] - sorted[lo]) * t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_normal_is_the_largest_score() {
        let t = fit(ThresholdMethod::MaxNormal, &[0.3, 0.9, 0.1]).unwrap();
        assert_eq!(t.value, 0.9);
        assert!(!t.is_anomaly(0.9));
        assert!(t.is_anomaly(0.91));
    }

    #[test]
    fn percentile_interpolates_between_ranks() {
        // 0..=10: the 95th percentile lies halfway between 9 and 10.
        let scores: Vec<f32> = (0..=10).map(|i| i as f32).collect();
        assert_eq!(
            fit(ThresholdMethod::Percentile(95.0), &scores)
                .unwrap()
                .value,
            9.5
        );
        assert_eq!(
            fit(ThresholdMethod::Percentile(50.0), &scores)
                .unwrap()
                .value,
            5.0
        );
        assert_eq!(
            fit(ThresholdMethod::Percentile(100.0), &[2.0, 1.0])
                .unwrap()
                .value,
            2.0
        );
    }

    #[test]
    fn bad_inputs_are_refused_with_a_reason() {
        assert_eq!(
            fit(ThresholdMethod::MaxNormal, &[]),
            Err(ThresholdError::Empty)
        );
        assert!(matches!(
            fit(ThresholdMethod::MaxNormal, &[0.1, f32::NAN]),
            Err(ThresholdError::NotFinite { index: 1, .. })
        ));
        assert_eq!(
            fit(ThresholdMethod::Percentile(120.0), &[1.0]),
            Err(ThresholdError::BadPercentile(120.0))
        );
    }
}
