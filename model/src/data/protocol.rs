//! Evaluation protocols: which images train a detector and which test it.

use rand::seq::{index, SliceRandom};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::defects::overlay;
use super::{DataError, Images, Mnist};

/// Share of the normal images held out for testing.
pub const TEST_FRACTION: f64 = 0.2;

/// The one-class protocol (GANomaly's MNIST protocol): one digit is the anomaly.
///
/// The normal images (every other digit) are shuffled with the seed; 80 % train, 20 % test.
/// The test set also holds every image of the anomalous digit. Training sees no anomaly.
#[derive(Debug, Clone, PartialEq)]
pub struct OneClassSplit {
    /// The digit treated as the anomaly.
    pub anomaly_digit: u8,
    /// Normal training images.
    pub train: Images,
    /// Labels (digits) of the training images.
    pub train_digits: Vec<u8>,
    /// Test images: held-out normals and every anomaly, shuffled together.
    pub test: Images,
    /// Digit of each test image.
    pub test_digits: Vec<u8>,
    /// Whether each test image is an anomaly.
    pub test_is_anomaly: Vec<bool>,
}

impl OneClassSplit {
    /// Splits `set` with `anomaly_digit` as the anomaly, shuffling with `seed`.
    pub fn new(set: &Mnist, anomaly_digit: u8, seed: u64) -> Result<Self, DataError> {
        if anomaly_digit > 9 {
            return Err(DataError::Protocol(format!(
                "the anomalous digit must be 0-9, got {anomaly_digit}"
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (normal, anomalous): (Vec<usize>, Vec<usize>) =
            (0..set.len()).partition(|&i| set.labels[i] != anomaly_digit);
        let (train_idx, mut test_idx) = hold_out(normal, &mut rng);
        test_idx.extend(anomalous);
        test_idx.shuffle(&mut rng);
        let digits = |idx: &[usize]| idx.iter().map(|&i| set.labels[i]).collect::<Vec<_>>();
        Ok(Self {
            anomaly_digit,
            train: set.images.select(&train_idx),
            train_digits: digits(&train_idx),
            test: set.images.select(&test_idx),
            test_is_anomaly: test_idx
                .iter()
                .map(|&i| set.labels[i] == anomaly_digit)
                .collect(),
            test_digits: digits(&test_idx),
        })
    }

    /// Keeps at most `max_train` training and `max_test` test images (a quick demo run).
    ///
    /// Both sets are already shuffled, so their first images are a fair sample; the test
    /// sample keeps the anomaly share of the full test set.
    pub fn truncated(mut self, max_train: usize, max_test: usize) -> Self {
        keep_first(&mut self.train, max_train);
        self.train_digits.truncate(max_train);
        keep_first(&mut self.test, max_test);
        self.test_digits.truncate(max_test);
        self.test_is_anomaly.truncate(max_test);
        self
    }
}

/// Seen vs unseen (sources 001 and 003): every digit is normal; the test set holds
/// training images the model learns from ("seen", counted normal) and as many held-out
/// images it never sees ("unseen", counted as anomalies), shuffled together. The score
/// histogram is then the sources' figure of training against unseen error, and the AUC says
/// how far apart they are (0.5: the model generalises to new digits perfectly).
///
/// All images are shuffled with the seed; 80 % train, 20 % held out. The seen test images
/// are the first training images, so keeping fewer training images keeps them seen.
#[derive(Debug, Clone, PartialEq)]
pub struct UnseenSplit {
    /// Training images.
    pub train: Images,
    /// Labels (digits) of the training images.
    pub train_digits: Vec<u8>,
    /// Test images: seen (training) and unseen (held-out) ones, shuffled together.
    pub test: Images,
    /// Digit of each test image.
    pub test_digits: Vec<u8>,
    /// Whether each test image is unseen (the "anomaly" of this protocol).
    pub test_is_anomaly: Vec<bool>,
    /// For a seen test image, its position among the training images.
    pub test_train_position: Vec<Option<usize>>,
}

impl UnseenSplit {
    /// Splits `set` with `seed`: as many seen test images as unseen ones.
    pub fn new(set: &Mnist, seed: u64) -> Result<Self, DataError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (train_idx, unseen) = hold_out((0..set.len()).collect(), &mut rng);
        let seen = unseen.len().min(train_idx.len());
        // (index into the set, position among the training images if seen)
        let mut test: Vec<(usize, Option<usize>)> = (0..seen)
            .map(|p| (train_idx[p], Some(p)))
            .chain(unseen.into_iter().map(|i| (i, None)))
            .collect();
        test.shuffle(&mut rng);
        let test_idx: Vec<usize> = test.iter().map(|&(i, _)| i).collect();
        let digits = |idx: &[usize]| idx.iter().map(|&i| set.labels[i]).collect::<Vec<_>>();
        Ok(Self {
            train: set.images.select(&train_idx),
            train_digits: digits(&train_idx),
            test: set.images.select(&test_idx),
            test_digits: digits(&test_idx),
            test_is_anomaly: test.iter().map(|(_, p)| p.is_none()).collect(),
            test_train_position: test.into_iter().map(|(_, p)| p).collect(),
        })
    }

    /// Keeps at most `max_train` training and `max_test` test images; a seen test image
    /// whose training image is no longer kept is dropped (it would no longer be seen).
    pub fn truncated(mut self, max_train: usize, max_test: usize) -> Self {
        keep_first(&mut self.train, max_train);
        self.train_digits.truncate(max_train);
        let kept: Vec<usize> = (0..self.test.len())
            .filter(|&i| self.test_train_position[i].is_none_or(|p| p < max_train))
            .take(max_test)
            .collect();
        self.test = self.test.select(&kept);
        self.test_digits = pick(&kept, &self.test_digits);
        self.test_is_anomaly = pick(&kept, &self.test_is_anomaly);
        self.test_train_position = pick(&kept, &self.test_train_position);
        self
    }
}

/// The overlay protocol (seed 000's evaluation): every digit is normal, and an anomaly
/// is a normal digit with a second one laid over it at about 50 % brightness.
///
/// All images are shuffled with the seed; 80 % train, 20 % test. Half of the test images
/// (rounded down, chosen with the seed) get another test image of a different digit
/// overlaid at [`OVERLAY_BRIGHTNESS`](super::OVERLAY_BRIGHTNESS), as the pseudo-anomaly
/// [`Defect::Overlay`](super::Defect::Overlay) does, and are the anomalies. Training sees
/// no anomaly.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlaySplit {
    /// Training images (all clean).
    pub train: Images,
    /// Labels (digits) of the training images.
    pub train_digits: Vec<u8>,
    /// Test images: held-out digits, half of them with a second digit overlaid.
    pub test: Images,
    /// Digit of each test image (for an anomaly, the digit underneath).
    pub test_digits: Vec<u8>,
    /// Whether each test image is an anomaly (has a second digit overlaid).
    pub test_is_anomaly: Vec<bool>,
    /// The digit overlaid on each test image; `None` for the normal ones.
    pub test_overlay_digits: Vec<Option<u8>>,
}

impl OverlaySplit {
    /// Splits `set` and makes the overlay anomalies, all with `seed`.
    pub fn new(set: &Mnist, seed: u64) -> Result<Self, DataError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (train_idx, test_idx) = hold_out((0..set.len()).collect(), &mut rng);
        let n = test_idx.len();
        if n < 2 {
            return Err(DataError::Protocol(format!(
                "the overlay protocol needs at least 2 test images to overlay one on another; \
                 {} images leave {n}",
                set.len()
            )));
        }
        let digits = |idx: &[usize]| idx.iter().map(|&i| set.labels[i]).collect::<Vec<_>>();
        let test_digits = digits(&test_idx);
        let clean = set.images.select(&test_idx);
        let len = clean.image_len();
        let mut pixels = clean.pixels().to_vec();
        let mut test_overlay_digits = vec![None; n];
        for i in index::sample(&mut rng, n, n / 2) {
            let j = partner(&test_digits, i, &mut rng);
            overlay(&mut pixels[i * len..(i + 1) * len], clean.image(j));
            test_overlay_digits[i] = Some(test_digits[j]);
        }
        let [channels, height, width] = clean.image_shape();
        Ok(Self {
            train: set.images.select(&train_idx),
            train_digits: digits(&train_idx),
            test: Images::new(pixels, n, channels, height, width)?,
            test_digits,
            test_is_anomaly: test_overlay_digits.iter().map(Option::is_some).collect(),
            test_overlay_digits,
        })
    }

    /// Keeps at most `max_train` training and `max_test` test images (a quick demo run).
    ///
    /// The anomalies are spread at random through the test set, so its first images keep
    /// about the same anomaly share.
    pub fn truncated(mut self, max_train: usize, max_test: usize) -> Self {
        keep_first(&mut self.train, max_train);
        self.train_digits.truncate(max_train);
        keep_first(&mut self.test, max_test);
        self.test_digits.truncate(max_test);
        self.test_is_anomaly.truncate(max_test);
        self.test_overlay_digits.truncate(max_test);
        self
    }
}

/// Shuffles `indices` and holds [`TEST_FRACTION`] of them out: `(train, test)`.
/// What an evaluation needs of a protocol: normal training images and labelled test images.
pub trait Protocol {
    /// Normal training images.
    fn train(&self) -> &Images;
    /// Test images.
    fn test(&self) -> &Images;
    /// Whether each test image is an anomaly.
    fn test_is_anomaly(&self) -> &[bool];
    /// What test image `index` is, for captions ("digit 3", "scratch").
    fn test_label(&self, index: usize) -> String {
        let anomalous = self.test_is_anomaly().get(index).copied().unwrap_or(false);
        if anomalous { "anomaly" } else { "normal" }.to_owned()
    }
}

impl Protocol for OneClassSplit {
    fn train(&self) -> &Images {
        &self.train
    }
    fn test(&self) -> &Images {
        &self.test
    }
    fn test_is_anomaly(&self) -> &[bool] {
        &self.test_is_anomaly
    }
    fn test_label(&self, index: usize) -> String {
        format!("digit {}", self.test_digits[index])
    }
}

impl Protocol for UnseenSplit {
    fn train(&self) -> &Images {
        &self.train
    }
    fn test(&self) -> &Images {
        &self.test
    }
    fn test_is_anomaly(&self) -> &[bool] {
        &self.test_is_anomaly
    }
    fn test_label(&self, index: usize) -> String {
        let seen = if self.test_is_anomaly[index] {
            "unseen"
        } else {
            "seen"
        };
        format!("digit {} ({seen})", self.test_digits[index])
    }
}

impl Protocol for OverlaySplit {
    fn train(&self) -> &Images {
        &self.train
    }
    fn test(&self) -> &Images {
        &self.test
    }
    fn test_is_anomaly(&self) -> &[bool] {
        &self.test_is_anomaly
    }
    fn test_label(&self, index: usize) -> String {
        match self.test_overlay_digits[index] {
            Some(over) => format!("digit {} + {over} overlaid", self.test_digits[index]),
            None => format!("digit {}", self.test_digits[index]),
        }
    }
}

fn hold_out(mut indices: Vec<usize>, rng: &mut ChaCha8Rng) -> (Vec<usize>, Vec<usize>) {
    indices.shuffle(rng);
    let n_test = (indices.len() as f64 * TEST_FRACTION).round() as usize;
    let train = indices.split_off(n_test);
    (train, indices)
}

/// Keeps the first `max` images (the sets are shuffled, so they are a fair sample).
fn keep_first(images: &mut Images, max: usize) {
    if images.len() > max {
        *images = images.select(&(0..max).collect::<Vec<_>>());
    }
}

/// `values` at `positions`.
fn pick<T: Copy>(positions: &[usize], values: &[T]) -> Vec<T> {
    positions.iter().map(|&i| values[i]).collect()
}

/// A position other than `i`, drawn uniformly among those of a different digit (an
/// overlaid copy of the same digit can be all but invisible); any other position if
/// every image shows the same digit.
fn partner(digits: &[u8], i: usize, rng: &mut ChaCha8Rng) -> usize {
    let others: Vec<usize> = (0..digits.len())
        .filter(|&j| digits[j] != digits[i])
        .collect();
    if others.is_empty() {
        let j = rng.random_range(0..digits.len() - 1);
        return if j >= i { j + 1 } else { j };
    }
    others[rng.random_range(0..others.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{bundled_for_tests, OVERLAY_BRIGHTNESS};

    fn digit_counts(digits: &[u8]) -> [usize; 10] {
        let mut counts = [0; 10];
        for &d in digits {
            counts[usize::from(d)] += 1;
        }
        counts
    }

    #[test]
    fn unseen_split_tests_on_as_many_training_images_as_held_out_ones() {
        let set = bundled_for_tests();
        let split = UnseenSplit::new(&set, 42).unwrap();
        assert_eq!(split.train.len(), 8000);
        assert_eq!(split.test.len(), 4000);
        assert_eq!(split.test_is_anomaly.iter().filter(|&&a| a).count(), 2000);
        // A seen test image is exactly its training image; an unseen one is in no position.
        for i in 0..split.test.len() {
            match split.test_train_position[i] {
                Some(p) => {
                    assert!(!split.test_is_anomaly[i]);
                    assert_eq!(split.test.image(i), split.train.image(p));
                    assert_eq!(split.test_digits[i], split.train_digits[p]);
                }
                None => assert!(split.test_is_anomaly[i]),
            }
        }
        assert_eq!(
            split.test_label(0).split(' ').count(),
            3,
            "{}",
            split.test_label(0)
        );
        // Fewer training images: every seen test image is still one that trains.
        let small = split.truncated(300, 200);
        assert_eq!((small.train.len(), small.test.len()), (300, 200));
        assert!(small.test_train_position.iter().flatten().all(|&p| p < 300));
        let seen = small.test_is_anomaly.iter().filter(|&&a| !a).count();
        assert!(
            seen > 0 && seen < 200,
            "both kinds kept: {seen} seen of 200"
        );
    }

    #[test]
    fn overlay_split_holds_out_a_fifth_and_overlays_half_of_it() {
        let set = bundled_for_tests();
        let split = OverlaySplit::new(&set, 42).unwrap();
        assert_eq!((split.train.len(), split.train_digits.len()), (8000, 8000));
        assert_eq!(split.test.len(), 2000);
        assert_eq!(split.test_digits.len(), 2000);
        assert_eq!(split.test_overlay_digits.len(), 2000);
        assert_eq!(split.test_is_anomaly.iter().filter(|&&a| a).count(), 1000);
        // Every image is used once: the two sides together hold the set's digits.
        let mut all = split.train_digits.clone();
        all.extend(&split.test_digits);
        assert_eq!(digit_counts(&all), digit_counts(&set.labels));
        for i in 0..2000 {
            let overlaid = split.test_overlay_digits[i];
            assert_eq!(overlaid.is_some(), split.test_is_anomaly[i]);
            assert_ne!(overlaid, Some(split.test_digits[i]), "same digit at {i}");
        }
        assert!(split.test.pixels().iter().all(|p| (0.0..=1.0).contains(p)));
        // Anomalies are spread through the test set, not bunched at one end.
        let first_half = split.test_is_anomaly[..1000].iter().filter(|&&a| a).count();
        assert!((400..=600).contains(&first_half), "{first_half}");
    }

    #[test]
    fn an_anomaly_is_its_image_plus_half_another_test_image() {
        // Image k is one-hot at pixel k, so every pixel says where it came from.
        let n = 50;
        let mut pixels = vec![0.0; n * n];
        for k in 0..n {
            pixels[k * n + k] = 1.0;
        }
        let set = Mnist {
            images: Images::new(pixels, n, 1, 1, n).unwrap(),
            labels: (0..n).map(|k| (k % 10) as u8).collect(),
        };
        let split = OverlaySplit::new(&set, 4).unwrap();
        assert_eq!((split.train.len(), split.test.len()), (40, 10));
        let source = |image: &[f32], value: f32| -> Vec<usize> {
            (0..n).filter(|&k| image[k] == value).collect()
        };
        let sources: Vec<usize> = (0..10)
            .map(|i| source(split.test.image(i), 1.0)[0])
            .collect();
        for i in 0..10 {
            let image = split.test.image(i);
            assert_eq!(source(image, 1.0), vec![sources[i]]);
            assert_eq!(set.labels[sources[i]], split.test_digits[i]);
            let half = source(image, OVERLAY_BRIGHTNESS);
            match split.test_overlay_digits[i] {
                None => assert!(half.is_empty(), "normal image {i} has an overlay"),
                Some(digit) => {
                    assert_eq!(half.len(), 1);
                    assert!(sources.contains(&half[0]), "overlay not from the test set");
                    assert_eq!(set.labels[half[0]], digit);
                }
            }
        }
        assert_eq!(split.test_is_anomaly.iter().filter(|&&a| a).count(), 5);
    }

    #[test]
    fn overlay_split_is_deterministic_per_seed() {
        let set = bundled_for_tests();
        let a = OverlaySplit::new(&set, 9).unwrap();
        assert_eq!(a, OverlaySplit::new(&set, 9).unwrap());
        assert_ne!(a.test, OverlaySplit::new(&set, 10).unwrap().test);
    }

    #[test]
    fn truncating_an_overlay_split_keeps_the_columns_aligned() {
        let split = OverlaySplit::new(&bundled_for_tests(), 1)
            .unwrap()
            .truncated(300, 200);
        assert_eq!((split.train.len(), split.train_digits.len()), (300, 300));
        assert_eq!(split.test.len(), 200);
        assert_eq!(split.test_digits.len(), 200);
        assert_eq!(split.test_is_anomaly.len(), 200);
        assert_eq!(split.test_overlay_digits.len(), 200);
        let anomalies = split.test_is_anomaly.iter().filter(|&&a| a).count();
        assert!((70..=130).contains(&anomalies), "{anomalies} of 200");
    }

    #[test]
    fn a_set_too_small_to_overlay_is_refused() {
        let images = Images::new(vec![0.5; 5 * 4], 5, 1, 2, 2).unwrap();
        let set = Mnist {
            images,
            labels: vec![1, 2, 3, 4, 5],
        };
        let err = OverlaySplit::new(&set, 0).unwrap_err();
        assert!(matches!(err, DataError::Protocol(_)), "{err}");
        assert!(err.to_string().contains("at least 2"), "{err}");
    }

    #[test]
    fn one_class_split_holds_out_normals_and_every_anomaly() {
        let set = bundled_for_tests();
        let sevens = set.labels.iter().filter(|&&d| d == 7).count();
        let split = OneClassSplit::new(&set, 7, 42).unwrap();
        let n_test_normal = ((set.len() - sevens) as f64 * TEST_FRACTION).round() as usize;
        assert_eq!(split.train.len(), set.len() - sevens - n_test_normal);
        assert!(!split.train_digits.contains(&7));
        assert_eq!(split.test.len(), n_test_normal + sevens);
        assert_eq!(split.test_is_anomaly.iter().filter(|&&a| a).count(), sevens);
        let truncated = split.truncated(100, 50);
        assert_eq!((truncated.train.len(), truncated.test.len()), (100, 50));
        assert_eq!(truncated.test_is_anomaly.len(), 50);
    }
}
