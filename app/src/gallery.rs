//! The gallery of every test image, most anomalous first: its order, filters and pages,
//! and the images drawn so far. Plain state, tested natively; the worker draws the images.

use std::collections::BTreeMap;

use crate::protocol::{GalleryImages, ModelView, Sample};

/// Images per gallery page.
pub const PAGE_SIZE: usize = 24;

/// Which test images by their label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelFilter {
    /// Every image.
    #[default]
    All,
    /// Normal images only.
    Normal,
    /// Anomalies only.
    Anomalous,
}

/// Which test images by the verdict at the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VerdictFilter {
    /// Every image.
    #[default]
    All,
    /// Scored above the threshold.
    Flagged,
    /// At or below it.
    Passed,
}

impl LabelFilter {
    /// The filter of a menu id ("normal", "anomalous"; anything else: every image).
    pub fn from_id(id: &str) -> Self {
        match id {
            "normal" => Self::Normal,
            "anomalous" => Self::Anomalous,
            _ => Self::All,
        }
    }
}

impl VerdictFilter {
    /// The filter of a menu id ("flagged", "passed"; anything else: every image).
    pub fn from_id(id: &str) -> Self {
        match id {
            "flagged" => Self::Flagged,
            "passed" => Self::Passed,
            _ => Self::All,
        }
    }
}

/// What the gallery shows and has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Gallery {
    /// The label filter.
    pub labels: LabelFilter,
    /// The verdict filter.
    pub verdicts: VerdictFilter,
    /// The page shown, from 0.
    pub page: usize,
    /// Test images drawn so far, by test position.
    pub images: BTreeMap<usize, Sample>,
    /// The image opened in detail, by test position.
    pub selected: Option<usize>,
    /// Whether a request for images is out.
    pub pending: bool,
    /// Whether the last request was refused or failed (no retry until the page changes).
    pub stalled: bool,
}

/// Test positions of `view`'s images that pass the filters at `threshold`, highest score
/// first (ties in test order).
pub fn order(
    view: &ModelView,
    threshold: f32,
    labels: LabelFilter,
    verdicts: VerdictFilter,
) -> Vec<usize> {
    let scores = &view.test_scores;
    let is_anomaly = |i: usize| view.test_is_anomaly.get(i).copied();
    let mut kept: Vec<usize> = (0..scores.len())
        .filter(|&i| match labels {
            LabelFilter::All => true,
            LabelFilter::Normal => is_anomaly(i) == Some(false),
            LabelFilter::Anomalous => is_anomaly(i) == Some(true),
        })
        .filter(|&i| match verdicts {
            VerdictFilter::All => true,
            VerdictFilter::Flagged => scores[i] > threshold,
            VerdictFilter::Passed => scores[i] <= threshold,
        })
        .collect();
    kept.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    kept
}

/// The image `delta` places from `current` in `order` (the first one when there is no
/// current one), kept inside it: how the keys walk through images.
pub fn step_in(order: &[usize], current: Option<usize>, delta: isize) -> Option<usize> {
    let last = order.len().checked_sub(1)?;
    let at = match current.and_then(|c| order.iter().position(|&i| i == c)) {
        Some(at) => at.saturating_add_signed(delta).min(last),
        None => 0,
    };
    Some(order[at])
}

impl Gallery {
    /// The positions on the page shown, of `ordered` ones.
    pub fn page_of<'a>(&self, ordered: &'a [usize]) -> &'a [usize] {
        let start = (self.page * PAGE_SIZE).min(ordered.len());
        &ordered[start..(start + PAGE_SIZE).min(ordered.len())]
    }

    /// Pages there are of `count` images (at least one, maybe empty).
    pub fn pages(count: usize) -> usize {
        count.div_ceil(PAGE_SIZE).max(1)
    }

    /// Of `wanted` positions (and the one opened), those not drawn yet.
    pub fn missing(&self, wanted: &[usize]) -> Vec<usize> {
        let mut missing: Vec<usize> = wanted
            .iter()
            .copied()
            .chain(self.selected)
            .filter(|i| !self.images.contains_key(i))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    /// Keeps images the worker drew.
    pub fn add(&mut self, drawn: GalleryImages) {
        self.pending = false;
        self.images
            .extend(drawn.indices.into_iter().zip(drawn.samples));
    }

    /// Sets the filters and goes back to the first page.
    pub fn filter(&mut self, labels: LabelFilter, verdicts: VerdictFilter) {
        self.labels = labels;
        self.verdicts = verdicts;
        self.go_to(0);
    }

    /// Shows page `page` (a stalled gallery asks again).
    pub fn go_to(&mut self, page: usize) {
        self.page = page;
        self.stalled = false;
    }

    /// Opens the image at test position `index` in detail (`None` closes it).
    pub fn open(&mut self, index: Option<usize>) {
        self.selected = index;
        self.stalled = false;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::steer::tests::view;

    /// A 1x1 test sample with `score`.
    pub(crate) fn sample(score: f32) -> Sample {
        Sample {
            label: format!("image {score}"),
            is_anomaly: None,
            score,
            side: 1,
            channels: 1,
            input: vec![0],
            generated: vec![0],
            difference: vec![0],
        }
    }

    #[test]
    fn the_most_anomalous_come_first_ties_in_test_order() {
        let v = view(
            &[],
            &[0.2, 0.9, 0.5, 0.9, 0.1],
            &[false, true, false, true, false],
        );
        assert_eq!(
            order(&v, 0.3, LabelFilter::All, VerdictFilter::All),
            [1, 3, 2, 0, 4]
        );
    }

    #[test]
    fn filters_by_label_and_by_verdict_at_the_threshold() {
        let v = view(
            &[],
            &[0.2, 0.9, 0.5, 0.4, 0.1],
            &[false, true, false, true, false],
        );
        let o = |l, v2, t| order(&v, t, l, v2);
        assert_eq!(o(LabelFilter::Anomalous, VerdictFilter::All, 0.3), [1, 3]);
        assert_eq!(o(LabelFilter::Normal, VerdictFilter::All, 0.3), [2, 0, 4]);
        assert_eq!(o(LabelFilter::All, VerdictFilter::Flagged, 0.45), [1, 2]);
        assert_eq!(o(LabelFilter::All, VerdictFilter::Passed, 0.45), [3, 0, 4]);
        // The verdict moves with the threshold: a false alarm (normal, flagged).
        assert_eq!(o(LabelFilter::Normal, VerdictFilter::Flagged, 0.3), [2]);
        // Unlabelled images pass only the "all" label filter.
        let unlabelled = view(&[], &[0.2, 0.9], &[]);
        assert_eq!(
            order(&unlabelled, 0.5, LabelFilter::All, VerdictFilter::All),
            [1, 0]
        );
        assert!(order(&unlabelled, 0.5, LabelFilter::Normal, VerdictFilter::All).is_empty());
    }

    #[test]
    fn keys_walk_through_images_in_order_and_stop_at_the_ends() {
        let order = [3, 1, 2];
        assert_eq!(step_in(&order, None, 1), Some(3), "the first one to start");
        assert_eq!(step_in(&order, Some(3), 1), Some(1));
        assert_eq!(step_in(&order, Some(2), 1), Some(2));
        assert_eq!(step_in(&order, Some(1), -5), Some(3));
        assert_eq!(step_in(&order, Some(1), isize::MAX), Some(2), "End");
        assert_eq!(step_in(&order, Some(2), isize::MIN), Some(3), "Home");
        assert_eq!(step_in(&[], None, 1), None);
    }

    #[test]
    fn pages_hold_page_size_images_and_ask_only_for_those_not_drawn() {
        let ordered: Vec<usize> = (0..50).rev().collect();
        let mut g = Gallery::default();
        assert_eq!(Gallery::pages(50), 3);
        assert_eq!(Gallery::pages(0), 1);
        assert_eq!(g.page_of(&ordered).len(), PAGE_SIZE);
        g.page = 2;
        assert_eq!(g.page_of(&ordered), [1, 0]);
        g.page = 7;
        assert!(g.page_of(&ordered).is_empty());
        g.add(GalleryImages {
            indices: vec![1, 5],
            samples: vec![sample(0.1), sample(0.5)],
        });
        g.selected = Some(9);
        assert_eq!(g.missing(&[0, 1, 5, 7]), [0, 7, 9]);
        g.page = 2;
        g.filter(LabelFilter::Normal, VerdictFilter::Flagged);
        assert_eq!(g.page, 0, "a new filter starts at the first page");
    }
}
