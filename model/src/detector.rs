//! The one interface every trained model offers for scoring.

use burn::tensor::{Device, Tensor, TensorData};

use crate::combined::CombinedStatistics;
use crate::data::{Images, Normalisation, MIN_STD};
use crate::hotelling::Hotelling;
use crate::score::{Detection, ReadError, ScoreKind, Scores};
use crate::train::fixed_batches;

/// A trained model that turns a batch of images into a [`Detection`].
pub trait Detector {
    /// Runs the model on a batch of images that are both its input and the reference its
    /// reconstruction is compared with.
    ///
    /// # Shapes
    /// `x`: `[batch, channels, height, width]`, pixels in [0, 1], as the model was trained on.
    fn detect(&self, x: Tensor<4>) -> Detection {
        self.detect_from(x.clone(), x)
    }

    /// Runs the model on `input` (e.g. standardised) and compares its reconstruction with
    /// `clean`, the same images in [0, 1]: difference maps and errors stay in pixel units
    /// whatever the input scaling.
    ///
    /// # Shapes
    /// `input`, `clean`: `[batch, channels, height, width]`.
    fn detect_from(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection;

    /// Side of the square images the model takes; smaller images are padded to it.
    fn input_size(&self) -> usize;

    /// The score this model is meant to be judged by: its own score where it has one.
    // No default: each model states it, as its configuration (`DetectorConfig`) does.
    fn score_kind(&self) -> ScoreKind;

    /// Statistics fitted on the training data that the score depends on (the AAE's T²).
    fn fitted_statistics(&self) -> Option<&Hotelling> {
        None
    }

    /// The combined score's statistics, for models judged by it.
    fn combined_statistics(&self) -> Option<&CombinedStatistics> {
        None
    }
}

/// A model's configuration: the one source of its detector's input shape and score kind.
// The detector built from it reports the same values, and code over any model (the zoo,
// checkpoints) asks the configuration instead of deciding per kind.
pub trait DetectorConfig {
    /// Side of the square images the network is built for; smaller images are padded to it.
    fn input_size(&self) -> usize;

    /// Image channels.
    fn channels(&self) -> usize;

    /// The score the detector is judged by: its own score where it has one.
    fn score_kind(&self) -> ScoreKind;

    /// This configuration for images of side `size` with `channels` channels, every other
    /// setting kept; it stores the side the network is built for (28 -> 32 for the GANs),
    /// so that a checkpoint's configuration states what its detector takes.
    fn for_input(self, size: usize, channels: usize) -> Self
    where
        Self: Sized;
}

/// The smallest of `sizes` (ascending) that holds images of side `size`, or the largest: the
/// side a model built for `sizes` is built at, smaller images being padded to it.
pub(crate) fn fitting_size(sizes: &[usize], size: usize) -> usize {
    let fits = sizes.iter().copied().find(|&s| s >= size);
    fits.or(sizes.last().copied()).unwrap_or(size)
}

/// A detector fed the way it was trained: its inputs scaled by the run's
/// [`Normalisation`] (e.g. standardised), its reconstructions and difference maps still
/// compared with the [0, 1] images.
#[derive(Debug, Clone, Copy)]
pub struct Normalised<'a, D> {
    detector: &'a D,
    normalisation: &'a Normalisation,
}

impl<'a, D: Detector> Normalised<'a, D> {
    /// `detector` with its inputs scaled by `normalisation` (whose channel count must be
    /// the detector's, as a checkpoint checks on loading).
    pub fn new(detector: &'a D, normalisation: &'a Normalisation) -> Self {
        Self {
            detector,
            normalisation,
        }
    }
}

impl<D: Detector> Detector for Normalised<'_, D> {
    fn detect_from(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection {
        self.detector
            .detect_from(normalise(self.normalisation, input), clean)
    }

    fn input_size(&self) -> usize {
        self.detector.input_size()
    }

    fn score_kind(&self) -> ScoreKind {
        self.detector.score_kind()
    }

    fn fitted_statistics(&self) -> Option<&Hotelling> {
        self.detector.fitted_statistics()
    }

    fn combined_statistics(&self) -> Option<&CombinedStatistics> {
        self.detector.combined_statistics()
    }
}

/// `normalisation` applied to a batch on its device (what [`Normalisation::apply`] does
/// to images on the CPU).
///
/// # Shapes
/// `x`: `[batch, channels, h, w]` with as many channels as `normalisation` has statistics.
pub fn normalise(normalisation: &Normalisation, x: Tensor<4>) -> Tensor<4> {
    let Normalisation::Standardise { mean, std } = normalisation else {
        return x;
    };
    let device = x.device();
    let per_channel = |values: Vec<f32>| {
        let c = values.len();
        Tensor::<4>::from_data(TensorData::new(values, [1, c, 1, 1]), &device)
    };
    let std = std.iter().map(|s| s.max(MIN_STD)).collect();
    (x - per_channel(mean.clone())) / per_channel(std)
}

/// Runs `detector` on images `rows` sent as a batch of `size` (topped up by repeating the
/// last image, [`Images::batch_tensor`]) and keeps the detection of `rows` only: a run that
/// sends every batch at its training batch size compiles its GPU kernels once.
pub fn detect_rows(
    detector: &impl Detector,
    images: &Images,
    rows: std::ops::Range<usize>,
    size: usize,
    device: &Device,
) -> Detection {
    let n = rows.len();
    detector
        .detect(images.batch_tensor(rows, size, device))
        .first(n)
}

/// Scores `images` in batches of exactly `batch_size` (the last one topped up, its repeats
/// dropped), reading each batch back before the next.
pub async fn score_images(
    detector: &impl Detector,
    images: &Images,
    batch_size: usize,
    device: &Device,
) -> Result<Scores, ReadError> {
    let images = images.padded_to(detector.input_size());
    let mut scores = Scores::default();
    for rows in fixed_batches(images.len(), batch_size) {
        let detection = detect_rows(detector, &images, rows, batch_size, device);
        scores.extend(detection.read_scores().await?);
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_normalisation_matches_the_cpu_one() {
        let device = Device::flex();
        // Two RGB 1x2 images with different statistics per channel.
        let images = Images::new(
            vec![0.1, 0.9, 0.3, 0.0, 0.6, 0.2, 0.8, 1.0, 0.4, 0.5, 0.7, 0.35],
            2,
            3,
            1,
            2,
        )
        .unwrap();
        let norm = Normalisation::fit_standardise(&images).unwrap();
        let on_device = normalise(&norm, images.tensor(0, 2, &device))
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let on_cpu = norm.apply(&images).unwrap();
        for (d, c) in on_device.iter().zip(on_cpu.pixels()) {
            assert!(
                (d - c).abs() < 1e-5,
                "{on_device:?} != {:?}",
                on_cpu.pixels()
            );
        }
        let unchanged = normalise(&Normalisation::UnitRange, images.tensor(0, 2, &device));
        assert_eq!(
            unchanged.into_data().try_into_vec::<f32>().unwrap(),
            images.pixels()
        );
    }

    /// Halves its input; remembers the batch size of every call.
    #[derive(Default)]
    struct Halving(std::cell::RefCell<Vec<usize>>);

    impl Detector for Halving {
        fn detect_from(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection {
            let [batch, ..] = input.dims();
            self.0.borrow_mut().push(batch);
            let latent = input.clone().reshape([batch as i64, -1]);
            Detection::from_reconstruction(clean, input.mul_scalar(0.5))
                .with_model_score(latent.clone().sum_dim(1).reshape([batch]))
                .with_latent(latent)
        }

        fn input_size(&self) -> usize {
            2
        }

        fn score_kind(&self) -> ScoreKind {
            ScoreKind::Mse
        }
    }

    #[test]
    fn scoring_sends_one_batch_shape_and_drops_the_repeats() {
        let device = Device::flex();
        let pixels: Vec<f32> = (0..40).map(|i| (i % 7) as f32 / 7.0).collect();
        let images = Images::new(pixels, 10, 1, 2, 2).unwrap();
        let batched = Halving::default();
        let scores = burn::tensor::read_sync(score_images(&batched, &images, 4, &device)).unwrap();
        // 4 + 4 + 2 images, the last batch topped up to 4.
        assert_eq!(*batched.0.borrow(), vec![4, 4, 4]);
        let one_by_one = Halving::default();
        let single =
            burn::tensor::read_sync(score_images(&one_by_one, &images, 1, &device)).unwrap();
        assert_eq!(one_by_one.0.borrow().len(), 10);
        assert_eq!(scores.mse.len(), 10);
        assert_eq!(scores, single);
        assert_eq!(scores.latent.len(), 10 * 4);
        assert_eq!(scores.model_score.len(), 10);
    }
}
