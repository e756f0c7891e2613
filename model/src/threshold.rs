//! Decision thresholds, fitted on scores of normal images and, for the supervised
//! methods, a few labelled anomalies (seed 004's threshold methods).
//!
//! Every method documents its fallback when the data cannot support it; a fitted
//! [`Threshold`] records the method that actually produced it.

use serde::{Deserialize, Serialize};

use crate::metrics::{mean_std, Confusion};

/// How a threshold is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ThresholdMethod {
    /// The highest normal score (seeds 000, 001): no normal training image is flagged.
    MaxNormal,
    /// The p-th percentile of normal scores (p in [0, 100]), linearly interpolated.
    Percentile(f64),
    /// Mean + k standard deviations of the normal scores (k = 3 in seed 004).
    MeanStd(f64),
    /// The lowest threshold that flags at most this share (in [0, 1]) of normal images.
    TargetFalsePositiveRate(f64),
    /// The threshold with the best F1 on labelled scores; without anomalies, [`Self::MaxNormal`].
    F1Max,
    /// The threshold with the best Youden's J (TPR - FPR) on labelled scores; without
    /// anomalies, [`Self::MaxNormal`].
    YoudenJ,
}

impl ThresholdMethod {
    /// A short human-readable name.
    pub fn label(&self) -> String {
        match self {
            Self::MaxNormal => "max of normal".into(),
            Self::Percentile(p) => format!("{p}th percentile"),
            Self::MeanStd(k) => format!("mean + {k} sigma"),
            Self::TargetFalsePositiveRate(r) => format!("{}% false positives", r * 100.0),
            Self::F1Max => "best F1".into(),
            Self::YoudenJ => "best Youden's J".into(),
        }
    }

    /// Whether the method needs labelled anomalies (it falls back to max of normal without).
    pub fn is_supervised(&self) -> bool {
        matches!(self, Self::F1Max | Self::YoudenJ)
    }

    /// The threshold a trained model keeps (in its checkpoint) and is first shown with:
    /// the 95th percentile of its normal training scores. The sources' max of normal is
    /// set by the oddest training image (MNIST has digits that look like another), so it
    /// grows with the training set and, on the shipped one-class models, flags 1-6 % of
    /// the held-out digits; the percentile's cost is stated (about 5 % of normal images
    /// flagged) and it flags 60-84 % of them (docs/BENCHMARKS.md, session 13).
    pub const DEFAULT: Self = Self::Percentile(95.0);

    /// The thresholds a finished run fits: the one it keeps, then the sources' strict one.
    pub const AFTER_TRAINING: [Self; 2] = [Self::DEFAULT, Self::MaxNormal];

    /// The methods of [`Self::AFTER_TRAINING`] other than `kept`: what an opened model is
    /// shown beside the threshold its checkpoint keeps.
    pub fn beside(kept: Self) -> impl Iterator<Item = Self> {
        Self::AFTER_TRAINING.into_iter().filter(move |&m| m != kept)
    }

    /// The six methods' ids (in forms, links and `kizu threshold`) with their labels.
    pub const IDS: [(&'static str, &'static str); 6] = [
        ("max-normal", "max of normal (source 000)"),
        ("percentile", "percentile of normal"),
        ("mean-std", "mean + k sigma (source 004)"),
        ("target-fpr", "target false-positive rate"),
        ("f1-max", "best F1"),
        ("youden-j", "best Youden's J"),
    ];

    /// The parameter of the method with this id, if it has one.
    pub fn parameter(id: &str) -> Option<Parameter> {
        let (name, min, max, default) = match id {
            "percentile" => ("percentile", 0.0, 100.0, 95.0),
            "mean-std" => ("k", 0.0, 10.0, 3.0),
            "target-fpr" => ("false-positive rate (%)", 0.0, 100.0, 5.0),
            _ => return None,
        };
        Some(Parameter {
            name,
            min,
            max,
            default,
        })
    }

    /// The method an id and its parameter text name (the false-positive rate in percent);
    /// an unknown id, or a parameter out of range or unreadable, is refused with the
    /// reason, naming the parameter.
    pub fn from_ids(id: &str, value: &str) -> Result<Self, String> {
        let number = || -> Result<f64, String> {
            let Some(p) = Self::parameter(id) else {
                return Ok(0.0);
            };
            let v: f64 = value
                .trim()
                .parse()
                .map_err(|_| format!("{} must be a number, not “{value}”", p.name))?;
            if !(p.min..=p.max).contains(&v) || !v.is_finite() {
                return Err(format!(
                    "{} must be between {} and {}",
                    p.name, p.min, p.max
                ));
            }
            Ok(v)
        };
        Ok(match id {
            "max-normal" => Self::MaxNormal,
            "percentile" => Self::Percentile(number()?),
            "mean-std" => Self::MeanStd(number()?),
            "target-fpr" => Self::TargetFalsePositiveRate(number()? / 100.0),
            "f1-max" => Self::F1Max,
            "youden-j" => Self::YoudenJ,
            other => return Err(format!("no threshold method “{other}”")),
        })
    }

    /// Its id and parameter text (the inverse of [`Self::from_ids`]).
    pub fn ids(self) -> (&'static str, String) {
        match self {
            Self::MaxNormal => ("max-normal", String::new()),
            Self::Percentile(p) => ("percentile", p.to_string()),
            Self::MeanStd(k) => ("mean-std", k.to_string()),
            Self::TargetFalsePositiveRate(r) => ("target-fpr", (r * 100.0).to_string()),
            Self::F1Max => ("f1-max", String::new()),
            Self::YoudenJ => ("youden-j", String::new()),
        }
    }
}

/// A method's parameter: its name, range and the sources' default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parameter {
    /// What it is ("percentile").
    pub name: &'static str,
    /// Smallest allowed.
    pub min: f64,
    /// Largest allowed.
    pub max: f64,
    /// The default (the sources' where they give one).
    pub default: f64,
}

/// A fitted threshold: scores above it are anomalies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// The score boundary.
    pub value: f32,
    /// The method that produced it (the fallback, if the requested one could not run).
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
    /// No normal score to fit on.
    #[error("no normal scores to fit a threshold on")]
    Empty,
    /// A score is NaN or infinite.
    #[error("score {index} is not finite ({value})")]
    NotFinite {
        /// Position of the score (normal scores first, then anomalous ones).
        index: usize,
        /// Its value.
        value: f32,
    },
    /// A method parameter is out of its range.
    #[error("{0}")]
    BadParameter(String),
}

/// Fits a threshold on the scores of normal images only (supervised methods fall back).
pub fn fit(method: ThresholdMethod, normal_scores: &[f32]) -> Result<Threshold, ThresholdError> {
    fit_labelled(method, normal_scores, &[])
}

/// Fits a threshold on normal scores and, for [`ThresholdMethod::is_supervised`] methods,
/// the scores of labelled anomalies.
pub fn fit_labelled(
    method: ThresholdMethod,
    normal: &[f32],
    anomalous: &[f32],
) -> Result<Threshold, ThresholdError> {
    if normal.is_empty() {
        return Err(ThresholdError::Empty);
    }
    if let Some((index, &value)) = normal
        .iter()
        .chain(anomalous)
        .enumerate()
        .find(|(_, s)| !s.is_finite())
    {
        return Err(ThresholdError::NotFinite { index, value });
    }
    let max_normal = || Threshold {
        value: normal.iter().copied().fold(f32::MIN, f32::max),
        method: ThresholdMethod::MaxNormal,
    };
    let fitted = |value| Ok(Threshold { value, method });
    match method {
        ThresholdMethod::MaxNormal => Ok(max_normal()),
        ThresholdMethod::Percentile(p) => {
            if !(0.0..=100.0).contains(&p) {
                return Err(ThresholdError::BadParameter(format!(
                    "percentile {p} is outside 0-100"
                )));
            }
            fitted(percentile(normal, p))
        }
        ThresholdMethod::MeanStd(k) => {
            if !k.is_finite() {
                return Err(ThresholdError::BadParameter(format!(
                    "k = {k} is not finite"
                )));
            }
            let (mean, std) = mean_std(normal).unwrap_or((f64::NAN, f64::NAN));
            fitted((mean + k * std) as f32)
        }
        ThresholdMethod::TargetFalsePositiveRate(rate) => {
            if !(0.0..=1.0).contains(&rate) {
                return Err(ThresholdError::BadParameter(format!(
                    "false-positive rate {rate} is outside 0-1"
                )));
            }
            let mut sorted = normal.to_vec();
            sorted.sort_by(f32::total_cmp);
            // At most floor(rate * n) normal scores may lie above the threshold.
            let allowed = (rate * sorted.len() as f64).floor() as usize;
            fitted(sorted[sorted.len() - 1 - allowed.min(sorted.len() - 1)])
        }
        ThresholdMethod::F1Max | ThresholdMethod::YoudenJ => {
            let objective = |c: &Confusion| match method {
                ThresholdMethod::F1Max => c.f1().unwrap_or(0.0),
                _ => c.recall().unwrap_or(0.0) - c.false_positive_rate().unwrap_or(0.0),
            };
            Ok(best_threshold(normal, anomalous, objective)
                .map_or_else(max_normal, |value| Threshold { value, method }))
        }
    }
}

/// The candidate threshold (midway between consecutive distinct scores) that maximises
/// `objective`; the lowest one on ties. `None` without anomalies or distinct scores.
fn best_threshold(
    normal: &[f32],
    anomalous: &[f32],
    objective: impl Fn(&Confusion) -> f64,
) -> Option<f32> {
    if anomalous.is_empty() {
        return None;
    }
    let scores: Vec<f32> = normal.iter().chain(anomalous).copied().collect();
    let labels: Vec<bool> = (0..scores.len()).map(|i| i >= normal.len()).collect();
    let mut distinct = scores.clone();
    distinct.sort_by(f32::total_cmp);
    distinct.dedup();
    let mut best: Option<(f64, f32)> = None;
    for pair in distinct.windows(2) {
        let candidate = pair[0] + (pair[1] - pair[0]) / 2.0;
        let value = objective(&Confusion::at(&scores, &labels, candidate));
        if best.is_none_or(|(b, _)| value > b) {
            best = Some((value, candidate));
        }
    }
    best.map(|(_, threshold)| threshold)
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
    fn every_method_reads_back_from_its_ids() {
        for (id, parameter) in [
            ("max-normal", ""),
            ("percentile", "90"),
            ("mean-std", "2.5"),
            ("target-fpr", "5"),
            ("f1-max", ""),
            ("youden-j", ""),
        ] {
            let m = ThresholdMethod::from_ids(id, parameter).unwrap();
            let (back, text) = m.ids();
            assert_eq!(
                (back, ThresholdMethod::from_ids(back, &text).unwrap()),
                (id, m)
            );
        }
        assert_eq!(ThresholdMethod::IDS.len(), 6);
        for (id, _) in ThresholdMethod::IDS {
            let parameter =
                ThresholdMethod::parameter(id).map_or(String::new(), |p| p.default.to_string());
            assert_eq!(
                ThresholdMethod::from_ids(id, &parameter).unwrap().ids().0,
                id
            );
        }
        assert_eq!(
            ThresholdMethod::DEFAULT.ids(),
            ("percentile", "95".to_owned())
        );
        let beside = |kept| ThresholdMethod::beside(kept).collect::<Vec<_>>();
        assert_eq!(
            beside(ThresholdMethod::DEFAULT),
            [ThresholdMethod::MaxNormal]
        );
        assert_eq!(
            beside(ThresholdMethod::MaxNormal),
            [ThresholdMethod::DEFAULT]
        );
        assert_eq!(
            beside(ThresholdMethod::MeanStd(3.0)),
            ThresholdMethod::AFTER_TRAINING
        );
    }

    #[test]
    fn out_of_range_parameters_are_refused_with_the_parameter_named() {
        let refused = |id, value| ThresholdMethod::from_ids(id, value).unwrap_err();
        assert!(refused("percentile", "101").contains("percentile must be between 0 and 100"));
        assert!(refused("mean-std", "k").contains("k must be a number"));
        assert!(refused("target-fpr", "-1").contains("between 0 and 100"));
        assert!(refused("nope", "").contains("no threshold method “nope”"));
        assert_eq!(
            ThresholdMethod::from_ids("target-fpr", "5"),
            Ok(ThresholdMethod::TargetFalsePositiveRate(0.05))
        );
        assert_eq!(
            ThresholdMethod::from_ids("mean-std", " 2.5 "),
            Ok(ThresholdMethod::MeanStd(2.5))
        );
    }

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
        assert!(matches!(
            fit(ThresholdMethod::Percentile(120.0), &[1.0]),
            Err(ThresholdError::BadParameter(_))
        ));
        assert!(matches!(
            fit(ThresholdMethod::TargetFalsePositiveRate(1.5), &[1.0]),
            Err(ThresholdError::BadParameter(_))
        ));
    }

    #[test]
    fn mean_plus_k_sigma_uses_the_population_deviation() {
        // mean 5, population sigma 2.
        let scores = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(
            fit(ThresholdMethod::MeanStd(3.0), &scores).unwrap().value,
            11.0
        );
        assert_eq!(
            fit(ThresholdMethod::MeanStd(0.0), &scores).unwrap().value,
            5.0
        );
    }

    #[test]
    fn target_false_positive_rate_flags_at_most_that_share_of_normals() {
        let scores: Vec<f32> = (1..=10).map(|i| i as f32).collect();
        let t = fit(ThresholdMethod::TargetFalsePositiveRate(0.2), &scores).unwrap();
        assert_eq!(t.value, 8.0, "9 and 10 lie above: 2 of 10");
        let t = fit(ThresholdMethod::TargetFalsePositiveRate(0.25), &scores).unwrap();
        assert_eq!(t.value, 8.0, "2.5 rounds down to 2 false positives");
        let t = fit(ThresholdMethod::TargetFalsePositiveRate(0.0), &scores).unwrap();
        assert_eq!(t.value, 10.0);
    }

    #[test]
    fn f1_max_and_youden_pick_the_separating_gap() {
        let normal = [0.1, 0.2, 0.3, 0.6];
        let anomalous = [0.5, 0.7, 0.8];
        // Flagging > 0.4 catches all 3 anomalies and 1 normal: F1 = 6/7, J = 0.75.
        // Flagging > 0.65 catches 2 anomalies, no normal: F1 = 0.8, J = 2/3.
        let f1 = fit_labelled(ThresholdMethod::F1Max, &normal, &anomalous).unwrap();
        assert_eq!(
            f1,
            Threshold {
                value: 0.4,
                method: ThresholdMethod::F1Max
            }
        );
        let j = fit_labelled(ThresholdMethod::YoudenJ, &normal, &anomalous).unwrap();
        assert_eq!(
            j,
            Threshold {
                value: 0.4,
                method: ThresholdMethod::YoudenJ
            }
        );
    }

    #[test]
    fn supervised_methods_fall_back_to_max_normal_without_anomalies() {
        for method in [ThresholdMethod::F1Max, ThresholdMethod::YoudenJ] {
            let t = fit(method, &[0.1, 0.4, 0.2]).unwrap();
            assert_eq!(
                t,
                Threshold {
                    value: 0.4,
                    method: ThresholdMethod::MaxNormal
                }
            );
        }
    }

    #[test]
    fn a_non_finite_anomaly_score_is_reported_after_the_normal_ones() {
        let err = fit_labelled(ThresholdMethod::F1Max, &[0.1, 0.2], &[f32::INFINITY]);
        assert!(matches!(
            err,
            Err(ThresholdError::NotFinite { index: 2, .. })
        ));
    }
}
