//! The threshold the page shows, and how the user sets it: the model's own, one of the
//! model crate's six methods with its parameter, or moved by hand (dragged or with keys).
//! Plain state, tested natively; the fitting is `kizu_model::threshold`'s.

use kizu_model::threshold::{fit_labelled, ThresholdMethod};

use crate::protocol::ModelView;

/// Steps the arrow keys take across the histogram's range.
pub const KEY_STEPS: f32 = 100.0;

/// Where the page's threshold comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Choice {
    /// The one the model keeps in its checkpoint (fitted when it was trained).
    Own,
    /// Fitted on this page by one of the threshold methods.
    Method(ThresholdMethod),
    /// Set by hand.
    Manual,
}

/// The threshold in use, where it came from, and what the page says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Steered {
    /// How it was set.
    pub choice: Choice,
    /// Scores above it are flagged.
    pub value: f32,
    /// What the user should know about it (the fallback a method used, the data it was
    /// fitted on).
    pub note: Option<String>,
}

impl Steered {
    /// The model's own threshold.
    pub fn own(view: &ModelView) -> Option<Self> {
        let own = view.thresholds.first()?;
        Some(Self {
            choice: Choice::Own,
            value: own.threshold.value,
            note: None,
        })
    }

    /// `method` fitted on `view`'s scores: the unsupervised methods on the normal
    /// training scores, F1 and Youden's J on the labelled test scores (the only labelled
    /// anomalies a run has). Says which fallback was used, if any.
    pub fn fitted(view: &ModelView, method: ThresholdMethod) -> Result<Self, String> {
        let normal_test: Vec<f32> = labelled(view, false);
        let anomalous: Vec<f32> = labelled(view, true);
        let (normal, mut notes) = if method.is_supervised() {
            let note = "fitted on the test set's labels: the best this model can do, not a threshold chosen without them".to_owned();
            (normal_test, vec![note])
        } else if view.train_scores.is_empty() {
            let note =
                "no training scores in this view: fitted on the normal test scores".to_owned();
            (normal_test, vec![note])
        } else {
            (view.train_scores.clone(), Vec::new())
        };
        let anomalous = if method.is_supervised() {
            anomalous
        } else {
            Vec::new()
        };
        let threshold = fit_labelled(method, &normal, &anomalous).map_err(|e| e.to_string())?;
        if threshold.method != method {
            notes = vec![format!(
                "{} needs labelled anomalies and this test set has none: used {} instead",
                method.label(),
                threshold.method.label()
            )];
        }
        Ok(Self {
            choice: Choice::Method(method),
            value: threshold.value,
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        })
    }

    /// Set by hand to `value`.
    pub fn manual(value: f32) -> Self {
        Self {
            choice: Choice::Manual,
            value,
            note: None,
        }
    }

    /// The threshold a link or the picker names by ids: a method's id and parameter text
    /// (fitted on `view`), or `manual` and the value.
    pub fn from_ids(view: &ModelView, (id, parameter): &(String, String)) -> Result<Self, String> {
        match named(id, parameter)? {
            Named::Method(m) => Self::fitted(view, m),
            Named::Manual(value) => Ok(Self::manual(value)),
        }
    }

    /// Its ids as a link carries them; `None` for the model's own (a link's default).
    pub fn ids(&self) -> Option<(String, String)> {
        match self.choice {
            Choice::Own => None,
            Choice::Manual => Some(("manual".into(), self.value.to_string())),
            Choice::Method(m) => {
                let (id, parameter) = m.ids();
                Some((id.into(), parameter))
            }
        }
    }

    /// Moved by `steps` key presses of `view`'s histogram range / [`KEY_STEPS`], kept
    /// inside the range.
    pub fn nudged(&self, view: &ModelView, steps: i32) -> Self {
        let (min, max) = (view.histogram.min, view.histogram.max);
        let step = (max - min) / KEY_STEPS;
        Self::manual((self.value + step * steps as f32).clamp(min, max))
    }

    /// Moved `steps` distinct test scores up (positive) or down: each step flags the
    /// images of one score fewer or more, so it walks the ROC and PR curves point by
    /// point, from everything flagged (just below the lowest score) to nothing (the
    /// highest).
    pub fn along_scores(&self, view: &ModelView, steps: i32) -> Self {
        let mut scores: Vec<f32> = view
            .test_scores
            .iter()
            .copied()
            .filter(|s| s.is_finite())
            .collect();
        scores.sort_by(f32::total_cmp);
        scores.dedup();
        let Some(&lowest) = scores.first() else {
            return self.clone();
        };
        let stops: Vec<f32> = std::iter::once(lowest.next_down()).chain(scores).collect();
        // The last stop at or below the threshold flags the same images as it does.
        let at = stops.partition_point(|&s| s <= self.value) as i64 - 1;
        let to = (at + i64::from(steps)).clamp(0, stops.len() as i64 - 1);
        Self::manual(stops[to as usize])
    }
}

/// Key presses a key stands for on a threshold slider: the arrows one, Page Up/Down ten,
/// Home/End as many as it takes to reach an end; `None` for any other key.
pub fn key_steps(key: &str) -> Option<i32> {
    const TO_THE_END: i32 = i32::MAX / 2;
    match key {
        "ArrowLeft" | "ArrowDown" => Some(-1),
        "ArrowRight" | "ArrowUp" => Some(1),
        "PageDown" => Some(-10),
        "PageUp" => Some(10),
        "Home" => Some(-TO_THE_END),
        "End" => Some(TO_THE_END),
        _ => None,
    }
}

/// The test scores of normal (`anomalous` false) or anomalous images.
fn labelled(view: &ModelView, anomalous: bool) -> Vec<f32> {
    view.test_scores
        .iter()
        .zip(&view.test_is_anomaly)
        .filter(|(_, &a)| a == anomalous)
        .map(|(&s, _)| s)
        .collect()
}

/// What a threshold's ids name before any scores are seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Named {
    /// A method to fit.
    Method(ThresholdMethod),
    /// A value set by hand.
    Manual(f32),
}

/// The threshold `id` and `parameter` name (`manual` and a value, or a method), or why
/// they name none.
pub fn named(id: &str, parameter: &str) -> Result<Named, String> {
    if id == "manual" {
        return match parameter.trim().parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(Named::Manual(v)),
            _ => Err(format!(
                "a threshold set by hand needs a number, not “{parameter}”"
            )),
        };
    }
    ThresholdMethod::from_ids(id, parameter).map(Named::Method)
}

#[cfg(test)]
pub(crate) mod tests {
    use kizu_model::metrics::{Confusion, Histogram};
    use kizu_model::threshold::Threshold;

    use super::*;
    use crate::protocol::{DataProtocol, ModelKind, ModelOrigin, ThresholdView};

    pub(crate) fn view(train: &[f32], test: &[f32], labels: &[bool]) -> ModelView {
        ModelView {
            series: None,
            origin: ModelOrigin::Trained,
            model: ModelKind::ConvAutoencoder,
            settings: None,
            protocol: DataProtocol::OneClass { digit: 0 },
            input: (28, 1),
            score_label: "MSE".into(),
            thresholds: vec![ThresholdView {
                method: "max of normal".into(),
                threshold: Threshold {
                    value: 0.35,
                    method: ThresholdMethod::MaxNormal,
                },
                confusion: None,
            }],
            auc: None,
            test_scores: test.to_vec(),
            test_is_anomaly: labels.to_vec(),
            test_names: Vec::new(),
            train_scores: train.to_vec(),
            latent: None,
            evaluated_on: None,
            histogram: Histogram::new(test, labels, 10, &[0.0, 1.0]),
            samples: Vec::new(),
            steps: None,
            stopped_early: false,
            diverged: None,
            throughput: None,
        }
    }

    #[test]
    fn unsupervised_methods_fit_on_the_training_scores() {
        let train: Vec<f32> = (0..=10).map(|i| i as f32 / 10.0).collect();
        let v = view(&train, &[0.1, 0.9], &[false, true]);
        let p = Steered::fitted(&v, ThresholdMethod::Percentile(90.0)).unwrap();
        assert!((p.value - 0.9).abs() < 1e-6, "{p:?}");
        assert_eq!(p.note, None);
        let max = Steered::fitted(&v, ThresholdMethod::MaxNormal).unwrap();
        assert_eq!(max.value, 1.0);
        let fpr = Steered::fitted(&v, ThresholdMethod::TargetFalsePositiveRate(0.2)).unwrap();
        assert!((fpr.value - 0.8).abs() < 1e-6, "2 of 11 above: {fpr:?}");
    }

    #[test]
    fn supervised_methods_use_the_test_labels_and_say_so() {
        let v = view(&[0.1], &[0.1, 0.2, 0.6, 0.8], &[false, false, true, true]);
        let f1 = Steered::fitted(&v, ThresholdMethod::F1Max).unwrap();
        assert!((f1.value - 0.4).abs() < 1e-6, "{f1:?}");
        assert!(f1.note.unwrap().contains("test set's labels"));
        let c = Confusion::at(&v.test_scores, &v.test_is_anomaly, f1.value);
        assert_eq!((c.true_positives, c.false_positives), (2, 0));
    }

    #[test]
    fn a_method_that_cannot_apply_names_its_fallback() {
        let v = view(&[0.1, 0.3], &[0.1, 0.2], &[false, false]);
        let j = Steered::fitted(&v, ThresholdMethod::YoudenJ).unwrap();
        assert_eq!(j.value, 0.2, "max of the normal test scores");
        let note = j.note.unwrap();
        assert!(
            note.contains("best Youden's J needs labelled anomalies"),
            "{note}"
        );
        assert!(note.contains("max of normal"), "{note}");
    }

    #[test]
    fn a_threshold_reads_back_from_its_ids() {
        let v = view(&[0.1, 0.2], &[0.1, 0.9], &[false, true]);
        let ids = ("percentile".to_owned(), "50".to_owned());
        let fitted = Steered::from_ids(&v, &ids).unwrap();
        assert_eq!(fitted.ids(), Some(ids));
        let by_hand = Steered::from_ids(&v, &("manual".into(), "0.4".into())).unwrap();
        assert_eq!((by_hand.value, by_hand.choice), (0.4, Choice::Manual));
        assert!(Steered::from_ids(&v, &("manual".into(), "NaN".into())).is_err());
        assert!(Steered::from_ids(&v, &("percentile".into(), "101".into())).is_err());
        assert_eq!(Steered::own(&v).unwrap().ids(), None);
    }

    #[test]
    fn keys_move_the_threshold_by_a_hundredth_of_the_range_and_stop_at_its_ends() {
        let v = view(&[0.1], &[0.0, 1.0], &[false, true]);
        let start = Steered::own(&v).unwrap();
        assert_eq!(start.value, 0.35);
        let up = start.nudged(&v, 5);
        assert!((up.value - 0.40).abs() < 1e-6, "{up:?}");
        assert_eq!(up.choice, Choice::Manual);
        assert_eq!(up.nudged(&v, -1000).value, 0.0);
        assert_eq!(up.nudged(&v, 1000).value, 1.0);
        let end = key_steps("End").unwrap();
        assert_eq!(up.nudged(&v, end).value, 1.0);
        assert_eq!(up.nudged(&v, -end).value, 0.0);
        assert_eq!(key_steps("PageDown"), Some(-10));
        assert_eq!(key_steps("a"), None);
    }

    #[test]
    fn along_the_scores_each_step_flags_one_score_more_or_fewer() {
        let test = [0.2, 0.5, 0.5, 0.9];
        let v = view(&[0.1], &test, &[false, false, true, true]);
        let flagged = |s: &Steered| test.iter().filter(|&&t| t > s.value).count();
        let start = Steered::manual(0.3);
        assert_eq!(flagged(&start), 3);
        let up = start.along_scores(&v, 1);
        assert_eq!(
            (up.value, flagged(&up)),
            (0.5, 1),
            "both 0.5s pass together"
        );
        assert_eq!(up.choice, Choice::Manual);
        let down = start.along_scores(&v, -1);
        assert!(down.value < 0.2 && flagged(&down) == 4, "{down:?}");
        assert_eq!(
            start.along_scores(&v, -1000),
            down,
            "stops below the lowest"
        );
        let top = start.along_scores(&v, key_steps("End").unwrap());
        assert_eq!((top.value, flagged(&top)), (0.9, 0));
        assert_eq!(top.along_scores(&v, -2).value, 0.2);
    }
}
