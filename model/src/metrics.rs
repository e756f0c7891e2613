//! Metrics over plain score slices: ROC AUC, confusion at a threshold, score histograms.

/// Area under the ROC curve for `scores` where `is_anomaly` marks the positives.
///
/// Computed as the Mann-Whitney U statistic with average ranks for ties, i.e. the chance
/// that a random anomaly scores above a random normal image (ties count half).
/// `None` when either class is missing or a score is not finite.
pub fn roc_auc(scores: &[f32], is_anomaly: &[bool]) -> Option<f64> {
    if scores.len() != is_anomaly.len() || scores.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let positives = is_anomaly.iter().filter(|&&a| a).count();
    let negatives = scores.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
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
