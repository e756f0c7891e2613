//! Evaluation protocols: which images train a detector and which test it.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

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
        let (mut normal, anomalous): (Vec<usize>, Vec<usize>) =
            (0..set.len()).partition(|&i| set.labels[i] != anomaly_digit);
        normal.shuffle(&mut rng);
        let n_test_normal = (normal.len() as f64 * TEST_FRACTION).round() as usize;
        let train_idx = normal.split_off(n_test_normal);
        let mut test_idx = normal;
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
        if self.train.len() > max_train {
            let keep: Vec<usize> = (0..max_train).collect();
            self.train = self.train.select(&keep);
            self.train_digits.truncate(max_train);
        }
        if self.test.len() > max_test {
            let keep: Vec<usize> = (0..max_test).collect();
            self.test = self.test.select(&keep);
            self.test_digits.truncate(max_test);
            self.test_is_anomaly.truncate(max_test);
        }
        self
    }
}
