//! Metrics over plain score slices: ROC AUC, ROC and PR curves, average precision,
//! confusion at a threshold, score histograms, the mean and spread of scores.

/// (anomalies, normal images), or `None` when the inputs cannot rank: lengths differ,
/// a score is not finite, or a class is missing.
fn class_counts(scores: &[f32], is_anomaly: &[bool]) -> Option<(usize, usize)> {
    if scores.len() != is_anomaly.len() || scores.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let positives = is_anomaly.iter().filter(|&&a| a).count();
    let negatives = scores.len() - positives;
    (positives > 0 && negatives > 0).then_some((positives, negatives))
}

/// Mean and population standard deviation of `values`, in f64; `None` for no values.
pub fn mean_std(values: &[f32]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let variance = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    Some((mean, variance.sqrt()))
}

/// Area under the ROC curve for `scores` where `is_anomaly` marks the positives.
///
/// Computed as the Mann-Whitney U statistic with average ranks for ties, i.e. the chance
/// that a random anomaly scores above a random normal image (ties count half).
/// `None` when either class is missing or a score is not finite.
pub fn roc_auc(scores: &[f32], is_anomaly: &[bool]) -> Option<f64> {
    let (positives, negatives) = class_counts(scores, is_anomaly)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start..end (1-based: start+1..=end) share their average.
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|&&i| is_anomaly[i]).count();
        positive_rank_sum += average_rank * tied_positives as f64;
        start = end;
    }
    let p = positives as f64;
    let u = positive_rank_sum - p * (p + 1.0) / 2.0;
    Some(u / (p * negatives as f64))
}

/// One point of a ROC or PR curve: the outcome of flagging every score `>= threshold`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CurvePoint {
    /// The lowest score flagged at this point.
    pub threshold: f32,
    /// Share of normal images flagged.
    pub false_positive_rate: f64,
    /// Share of anomalies flagged (the recall).
    pub true_positive_rate: f64,
    /// Share of flagged images that are anomalies.
    pub precision: f64,
}

/// The ROC / PR operating points, from the highest threshold down to flagging everything.
///
/// One point per distinct score; `None` when a class is missing or a score is not finite.
pub fn curve(scores: &[f32], is_anomaly: &[bool]) -> Option<Vec<CurvePoint>> {
    let (positives, negatives) = class_counts(scores, is_anomaly)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut points = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if is_anomaly[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        // Emit once all images tied at this score are counted.
        let last_of_tie = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_tie {
            points.push(CurvePoint {
                threshold: scores[i],
                false_positive_rate: fp as f64 / negatives as f64,
                true_positive_rate: tp as f64 / positives as f64,
                precision: tp as f64 / (tp + fp) as f64,
            });
        }
    }
    Some(points)
}

/// Average precision: the PR curve summarised as `sum (R_k - R_{k-1}) * P_k` over the
/// points of [`curve`] (scikit-learn's definition, no interpolation).
pub fn average_precision(scores: &[f32], is_anomaly: &[bool]) -> Option<f64> {
    let points = curve(scores, is_anomaly)?;
    let mut previous_recall = 0.0;
    let mut sum = 0.0;
    for p in points {
        sum += (p.true_positive_rate - previous_recall) * p.precision;
        previous_recall = p.true_positive_rate;
    }
    Some(sum)
}

/// Outcomes of flagging `score > threshold` against the true labels (anomaly = positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Confusion {
    /// Anomalies flagged.
    pub true_positives: usize,
    /// Normal images flagged.
    pub false_positives: usize,
    /// Normal images passed.
    pub true_negatives: usize,
    /// Anomalies passed.
    pub false_negatives: usize,
}

impl Confusion {
    /// Counts outcomes at `threshold` (a score equal to the threshold passes).
    pub fn at(scores: &[f32], is_anomaly: &[bool], threshold: f32) -> Self {
        let mut c = Self::default();
        for (&score, &anomaly) in scores.iter().zip(is_anomaly) {
            match (score > threshold, anomaly) {
                (true, true) => c.true_positives += 1,
                (true, false) => c.false_positives += 1,
                (false, false) => c.true_negatives += 1,
                (false, true) => c.false_negatives += 1,
            }
        }
        c
    }

    /// Share of flagged images that are anomalies; `None` when nothing is flagged.
    pub fn precision(&self) -> Option<f64> {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Share of normal images flagged; `None` without normal images.
    pub fn false_positive_rate(&self) -> Option<f64> {
        ratio(
            self.false_positives,
            self.false_positives + self.true_negatives,
        )
    }

    /// Share of anomalies flagged; `None` without anomalies.
    pub fn recall(&self) -> Option<f64> {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// Harmonic mean of precision and recall; `None` when either is undefined or both are 0.
    pub fn f1(&self) -> Option<f64> {
        let (p, r) = (self.precision()?, self.recall()?);
        (p + r > 0.0).then(|| 2.0 * p * r / (p + r))
    }

    /// Share of images classified correctly; `None` without images.
    pub fn accuracy(&self) -> Option<f64> {
        ratio(self.true_positives + self.true_negatives, self.total())
    }

    /// Images counted.
    pub fn total(&self) -> usize {
        self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
    }
}

fn ratio(numerator: usize, denominator: usize) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Counts of normal and anomalous scores in equal-width bins.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Histogram {
    /// Lower edge of the first bin.
    pub min: f32,
    /// Upper edge of the last bin.
    pub max: f32,
    /// Normal images per bin.
    pub normal: Vec<u32>,
    /// Anomalous images per bin.
    pub anomalous: Vec<u32>,
}

impl Histogram {
    /// Bins both classes over a shared range that also covers `extra` (e.g. the threshold).
    ///
    /// Non-finite scores are left out. With no finite score at all the range is [0, 1].
    pub fn new(scores: &[f32], is_anomaly: &[bool], bins: usize, extra: &[f32]) -> Self {
        let bins = bins.max(1);
        let finite = scores
            .iter()
            .chain(extra)
            .copied()
            .filter(|s| s.is_finite());
        let (min, max) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), s| {
            (lo.min(s), hi.max(s))
        });
        let (min, max) = if min.is_finite() {
            (min, max)
        } else {
            (0.0, 1.0)
        };
        let max = if max > min { max } else { min + 1.0 };
        let mut normal = vec![0; bins];
        let mut anomalous = vec![0; bins];
        for (&s, &a) in scores.iter().zip(is_anomaly) {
            if !s.is_finite() {
                continue;
            }
            let bin = (((s - min) / (max - min) * bins as f32) as usize).min(bins - 1);
            if a {
                anomalous[bin] += 1;
            } else {
                normal[bin] += 1;
            }
        }
        Self {
            min,
            max,
            normal,
            anomalous,
        }
    }

    /// Width of one bin.
    pub fn bin_width(&self) -> f32 {
        (self.max - self.min) / self.normal.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_std_is_the_population_mean_and_deviation() {
        let (mean, std) = mean_std(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(mean, 2.5);
        assert!((std - 1.25f64.sqrt()).abs() < 1e-12);
        assert_eq!(mean_std(&[]), None);
    }

    #[test]
    fn perfect_separation_gives_one_and_reversed_gives_zero() {
        let labels = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &labels), Some(1.0));
        assert_eq!(roc_auc(&[0.8, 0.9, 0.1, 0.2], &labels), Some(0.0));
    }

    #[test]
    fn auc_matches_a_hand_count_of_ordered_pairs() {
        // Positives 0.8, 0.4; negatives 0.5, 0.3, 0.1.
        // Pairs won: 0.8 beats 3, 0.4 beats 2 -> 5 of 6.
        let scores = [0.8, 0.5, 0.4, 0.3, 0.1];
        let labels = [true, false, true, false, false];
        let auc = roc_auc(&scores, &labels).unwrap();
        assert!((auc - 5.0 / 6.0).abs() < 1e-12, "{auc}");
    }

    #[test]
    fn ties_count_half() {
        // One positive tied with one of two negatives: (1 + 0.5) / 2.
        assert_eq!(roc_auc(&[0.5, 0.5, 0.1], &[true, false, false]), Some(0.75));
        assert_eq!(roc_auc(&[0.3, 0.3], &[true, false]), Some(0.5));
    }

    #[test]
    fn auc_needs_both_classes_and_finite_scores() {
        assert_eq!(roc_auc(&[0.1, 0.2], &[false, false]), None);
        assert_eq!(roc_auc(&[0.1, f32::NAN], &[true, false]), None);
        assert_eq!(roc_auc(&[0.1], &[true, false]), None);
    }

    #[test]
    fn the_curve_walks_thresholds_down_with_ties_grouped() {
        let scores = [0.9, 0.8, 0.8, 0.3];
        let labels = [true, true, false, false];
        let points = curve(&scores, &labels).unwrap();
        let summary: Vec<(f32, f64, f64, f64)> = points
            .iter()
            .map(|p| {
                (
                    p.threshold,
                    p.false_positive_rate,
                    p.true_positive_rate,
                    p.precision,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (0.9, 0.0, 0.5, 1.0),
                (0.8, 0.5, 1.0, 2.0 / 3.0),
                (0.3, 1.0, 1.0, 0.5)
            ]
        );
        assert_eq!(curve(&scores, &[false; 4]), None);
    }

    #[test]
    fn average_precision_matches_a_hand_computation() {
        // Thresholds 0.9, 0.8, 0.7: (R, P) = (0.5, 1), (0.5, 0.5), (1, 2/3).
        // AP = 0.5 * 1 + 0 * 0.5 + 0.5 * 2/3 = 5/6.
        let ap = average_precision(&[0.9, 0.8, 0.7], &[true, false, true]).unwrap();
        assert!((ap - 5.0 / 6.0).abs() < 1e-12, "{ap}");
        let perfect = average_precision(&[0.9, 0.8, 0.1], &[true, true, false]).unwrap();
        assert_eq!(perfect, 1.0);
    }

    #[test]
    fn confusion_counts_and_rates_at_a_threshold() {
        let scores = [0.9, 0.6, 0.4, 0.2, 0.7];
        let labels = [true, true, true, false, false];
        let c = Confusion::at(&scores, &labels, 0.5);
        assert_eq!(
            c,
            Confusion {
                true_positives: 2,
                false_positives: 1,
                true_negatives: 1,
                false_negatives: 1
            }
        );
        assert_eq!(c.precision(), Some(2.0 / 3.0));
        assert_eq!(c.recall(), Some(2.0 / 3.0));
        assert!((c.f1().unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.accuracy(), Some(0.6));
        let none_flagged = Confusion::at(&scores, &labels, 1.0);
        assert_eq!(none_flagged.precision(), None);
        assert_eq!(none_flagged.f1(), None);
        assert_eq!(
            Confusion::at(&[0.5], &[true], 0.5).false_negatives,
            1,
            "equal passes"
        );
    }

    #[test]
    fn histogram_bins_each_class_over_a_shared_range() {
        let h = Histogram::new(&[0.0, 1.0, 2.0, 4.0], &[false, false, true, true], 4, &[]);
        assert_eq!((h.min, h.max), (0.0, 4.0));
        assert_eq!(h.normal, vec![1, 1, 0, 0]);
        assert_eq!(h.anomalous, vec![0, 0, 1, 1]);
        assert_eq!(h.bin_width(), 1.0);
    }

    #[test]
    fn histogram_range_covers_the_threshold() {
        let h = Histogram::new(&[1.0, 2.0], &[false, true], 2, &[5.0]);
        assert_eq!(h.max, 5.0);
    }
}
