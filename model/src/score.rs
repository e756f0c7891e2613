//! Scores from a reconstruction: the difference map, MSE and the difference ratio.
//!
//! Every detector returns the same [`Detection`], so thresholds, metrics and views are
//! written once, whatever the model.

use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::Images;

/// Which per-image number is the anomaly score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ScoreKind {
    /// Mean squared error between input and reconstruction.
    #[default]
    Mse,
    /// `sum|x - x^| / sum|x|`, the histogram axis of seed 000.
    DifferenceRatio,
    /// `mean(max(x - x^, 0))`: the ink the reconstruction took away. What a model trained
    /// to repair defects that add ink (seed 000's overlaid digit) is judged by: it removes
    /// what was added, and a normal image loses little.
    RemovedInk,
    /// Removed ink counted only where the reconstruction is all but empty (below
    /// [`ERASED_BELOW`]): the strokes the repair erased outright. A normal image's strokes
    /// come back, if blurred, and count nothing; an added stroke erased counts whole. What
    /// a model trained to repair seed 000's overlaid digit is judged by.
    ErasedInk,
    /// `mean((z - z^)^2)` between the latent of the input and of its reconstruction
    /// (GANomaly's score); only for models with a second encoder.
    LatentDistance,
    /// The VAE's `MSE + beta * KL / pixels` (seed 004's reconstruction + beta*KL, per pixel).
    Elbo,
    /// Hotelling's T² of the latent against the training latents (the AAE of seed 002).
    HotellingT2,
    /// Skip-GANomaly's `0.9 * reconstruction + 0.1 * feature distance` (seed 000).
    SkipGanomaly,
    /// AnoGAN's `(1 - l) * residual + l * feature distance` after latent search (seed 004).
    AnoGan,
    /// The latent's distance to the nearest training latent plus MSE plus difference
    /// ratio, each standardised by the training images' ([`crate::combined`]).
    Combined,
    /// The latent's cosine distance to the nearest training latent ([`crate::combined`]).
    Neighbour,
}

impl ScoreKind {
    /// A short human-readable name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Mse => "MSE",
            Self::DifferenceRatio => "difference ratio",
            Self::RemovedInk => "removed ink",
            Self::ErasedInk => "erased ink",
            Self::LatentDistance => "latent distance",
            Self::Elbo => "MSE + beta KL",
            Self::HotellingT2 => "Hotelling T²",
            Self::SkipGanomaly => "0.9 recon + 0.1 feature",
            Self::AnoGan => "AnoGAN residual",
            Self::Combined => "neighbour + MSE + ratio",
            Self::Neighbour => "nearest training latent",
        }
    }

    /// Whether the score is one of those every detector has (the others are a model's own).
    pub fn is_reconstruction_score(self) -> bool {
        matches!(
            self,
            Self::Mse | Self::DifferenceRatio | Self::RemovedInk | Self::ErasedInk
        )
    }
}

/// Guards the difference ratio of an all-black image.
const RATIO_EPSILON: f32 = 1e-6;

/// Per-pixel absolute difference `|x - x^|`.
///
/// # Shapes
/// `[batch, c, h, w]` in, the same out.
pub fn difference_map(x: Tensor<4>, reconstruction: Tensor<4>) -> Tensor<4> {
    (x - reconstruction).abs()
}

/// The mean of each image's (or feature map's) values.
///
/// # Shapes
/// `[batch, c, h, w]` in, `[batch]` out.
pub fn per_image_mean(t: Tensor<4>) -> Tensor<1> {
    let [batch, ..] = t.dims();
    t.reshape([batch as i64, -1]).mean_dim(1).reshape([batch])
}

/// Mean squared error of each image.
///
/// # Shapes
/// `[batch, c, h, w]` in, `[batch]` out.
pub fn mse(x: Tensor<4>, reconstruction: Tensor<4>) -> Tensor<1> {
    per_image_mean((x - reconstruction).square())
}

/// The ink the reconstruction took away, `mean(max(x - x^, 0))`, of each image.
///
/// # Shapes
/// `[batch, c, h, w]` in, `[batch]` out.
pub fn removed_ink(x: Tensor<4>, reconstruction: Tensor<4>) -> Tensor<1> {
    per_image_mean((x - reconstruction).clamp_min(0.0))
}

/// The reconstruction's value under which a pixel counts as erased: a tenth of full ink.
/// Chosen from the overlay protocol's test AUC of the shipped overlay checkpoints under 0.1,
/// 0.25, 0.4 and 0.5 (0.1 best for all eight; docs/BENCHMARKS.md).
pub const ERASED_BELOW: f32 = 0.1;

/// The ink the reconstruction erased outright, `mean(max(x - x^, 0) where x^ < below)`, of
/// each image (the score uses [`ERASED_BELOW`]).
///
/// # Shapes
/// `[batch, c, h, w]` in, `[batch]` out.
pub fn erased_ink(x: Tensor<4>, reconstruction: Tensor<4>, below: f32) -> Tensor<1> {
    let kept = reconstruction.clone().greater_equal_elem(below);
    per_image_mean((x - reconstruction).clamp_min(0.0).mask_fill(kept, 0.0))
}

/// Mean squared distance between latents, `mean((z - z^)^2)` per row.
///
/// # Shapes
/// `[batch, d]` in (each), `[batch]` out.
pub fn latent_distance(z: Tensor<2>, z_hat: Tensor<2>) -> Tensor<1> {
    let [batch, _] = z.dims();
    (z - z_hat).square().mean_dim(1).reshape([batch])
}

/// Difference ratio `sum|x - x^| / sum|x|` of each image (seed 000).
///
/// # Shapes
/// `[batch, c, h, w]` in, `[batch]` out.
pub fn difference_ratio(x: Tensor<4>, reconstruction: Tensor<4>) -> Tensor<1> {
    let [batch, ..] = x.dims();
    let flat = |t: Tensor<4>| t.reshape([batch as i64, -1]);
    let diff = flat((x.clone() - reconstruction).abs()).sum_dim(1);
    let mass = flat(x.abs()).sum_dim(1).clamp_min(RATIO_EPSILON);
    (diff / mass).reshape([batch])
}

/// The output contract of every detector, still on the device.
#[derive(Debug, Clone)]
pub struct Detection {
    /// The generated image, `[batch, c, h, w]`.
    pub reconstruction: Tensor<4>,
    /// `|x - x^|`, `[batch, c, h, w]`.
    pub difference: Tensor<4>,
    /// MSE per image, `[batch]`.
    pub mse: Tensor<1>,
    /// Difference ratio per image, `[batch]`.
    pub difference_ratio: Tensor<1>,
    /// Removed ink per image, `[batch]`.
    pub removed_ink: Tensor<1>,
    /// Erased ink per image, `[batch]`.
    pub erased_ink: Tensor<1>,
    /// The model's own score per image, `[batch]` (which one: [`Detector::score_kind`]).
    ///
    /// [`Detector::score_kind`]: crate::detector::Detector::score_kind
    pub model_score: Option<Tensor<1>>,
    /// The latent code the model judged the image by, `[batch, latent]`, where it has one.
    pub latent: Option<Tensor<2>>,
}

impl Detection {
    /// Builds the contract from an input batch and its reconstruction.
    pub fn from_reconstruction(x: Tensor<4>, reconstruction: Tensor<4>) -> Self {
        Self {
            difference: difference_map(x.clone(), reconstruction.clone()),
            mse: mse(x.clone(), reconstruction.clone()),
            removed_ink: removed_ink(x.clone(), reconstruction.clone()),
            erased_ink: erased_ink(x.clone(), reconstruction.clone(), ERASED_BELOW),
            difference_ratio: difference_ratio(x, reconstruction.clone()),
            reconstruction,
            model_score: None,
            latent: None,
        }
    }

    /// Adds the model's own score, `[batch]`.
    pub fn with_model_score(mut self, score: Tensor<1>) -> Self {
        self.model_score = Some(score);
        self
    }

    /// Adds the latent code the model judged each image by, `[batch, latent]`.
    pub fn with_latent(mut self, latent: Tensor<2>) -> Self {
        self.latent = Some(latent);
        self
    }

    /// The detection of the batch's first `n` images only (a batch topped up to one shape
    /// drops its repeats); `n` at most the batch.
    pub fn first(self, n: usize) -> Self {
        let rows = |batch: usize| n.min(batch);
        let four = |t: Tensor<4>| {
            let batch = t.dims()[0];
            t.narrow(0, 0, rows(batch))
        };
        let one = |t: Tensor<1>| {
            let batch = t.dims()[0];
            t.narrow(0, 0, rows(batch))
        };
        Self {
            reconstruction: four(self.reconstruction),
            difference: four(self.difference),
            mse: one(self.mse),
            difference_ratio: one(self.difference_ratio),
            removed_ink: one(self.removed_ink),
            erased_ink: one(self.erased_ink),
            model_score: self.model_score.map(one),
            latent: self.latent.map(|t| {
                let batch = t.dims()[0];
                t.narrow(0, 0, rows(batch))
            }),
        }
    }

    /// Reads the scores (and latents) back (async: the only readback WebGPU allows in a
    /// browser).
    pub async fn read_scores(&self) -> Result<Scores, ReadError> {
        let model_score = match &self.model_score {
            Some(t) => read_vec(t.clone().into_data_async().await)?,
            None => Vec::new(),
        };
        let (latent, latent_dim) = match &self.latent {
            Some(z) => (read_vec(z.clone().into_data_async().await)?, z.dims()[1]),
            None => (Vec::new(), 0),
        };
        Ok(Scores {
            mse: read_vec(self.mse.clone().into_data_async().await)?,
            difference_ratio: read_vec(self.difference_ratio.clone().into_data_async().await)?,
            removed_ink: read_vec(self.removed_ink.clone().into_data_async().await)?,
            erased_ink: read_vec(self.erased_ink.clone().into_data_async().await)?,
            model_score,
            latent,
            latent_dim,
        })
    }

    /// Reads everything back as plain images and scores.
    pub async fn read(self) -> Result<DetectionData, ReadError> {
        let scores = self.read_scores().await?;
        let [batch, c, h, w] = self.reconstruction.dims();
        let images = |data| Images::new(read_vec(data)?, batch, c, h, w).map_err(ReadError::from);
        Ok(DetectionData {
            reconstruction: images(self.reconstruction.into_data_async().await)?,
            difference: images(self.difference.into_data_async().await)?,
            scores,
        })
    }
}

/// The reconstruction scores (and the model's own) of a set of images, in image order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    /// MSE per image.
    pub mse: Vec<f32>,
    /// Difference ratio per image.
    pub difference_ratio: Vec<f32>,
    /// Removed ink per image.
    pub removed_ink: Vec<f32>,
    /// Erased ink per image.
    pub erased_ink: Vec<f32>,
    /// The model's own score per image; empty for models without one.
    pub model_score: Vec<f32>,
    /// The latent code of each image, `latent_dim` numbers per image, row after row; empty
    /// for models without one.
    pub latent: Vec<f32>,
    /// Numbers per latent code (0 without).
    pub latent_dim: usize,
}

impl Scores {
    /// The scores of one kind; a model's own kind is its [`Scores::model_score`].
    pub fn of(&self, kind: ScoreKind) -> &[f32] {
        match kind {
            ScoreKind::Mse => &self.mse,
            ScoreKind::DifferenceRatio => &self.difference_ratio,
            ScoreKind::RemovedInk => &self.removed_ink,
            ScoreKind::ErasedInk => &self.erased_ink,
            _ => &self.model_score,
        }
    }

    /// Appends the scores of another batch.
    pub fn extend(&mut self, other: Scores) {
        self.mse.extend(other.mse);
        self.difference_ratio.extend(other.difference_ratio);
        self.removed_ink.extend(other.removed_ink);
        self.erased_ink.extend(other.erased_ink);
        self.model_score.extend(other.model_score);
        self.latent.extend(other.latent);
        self.latent_dim = self.latent_dim.max(other.latent_dim);
    }
}

/// A [`Detection`] read back from the device.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionData {
    /// Generated images.
    pub reconstruction: Images,
    /// Difference maps.
    pub difference: Images,
    /// Scores per image.
    pub scores: Scores,
}

/// Reading a tensor back from the device failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    /// The backend failed to run or read the computation.
    #[error("reading results from the device failed: {0}")]
    Device(String),
    /// The data came back with an unexpected type or shape.
    #[error("unexpected tensor data: {0}")]
    Data(String),
}

impl From<crate::data::DataError> for ReadError {
    fn from(e: crate::data::DataError) -> Self {
        Self::Data(e.to_string())
    }
}

/// A backend's failure in one line: its causes joined, without the repeats and the
/// backtrace notes its `Debug` text has (it has no `Display`).
pub fn device_failure(error: &impl std::fmt::Debug) -> String {
    let text = format!("{error:?}");
    let mut parts: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        let note = line.is_empty()
            || line == "Caused by:"
            || line.starts_with("Backtrace")
            || line.starts_with("No backtrace");
        if !note && !parts.contains(&line) {
            parts.push(line);
        }
    }
    parts.join(": ")
}

/// Reads a one-element tensor back (async: the only readback WebGPU allows in a browser).
pub async fn read_scalar(t: Tensor<1>) -> Result<f32, ReadError> {
    t.into_scalar_async::<f32>()
        .await
        .map_err(|e| ReadError::Device(device_failure(&e)))
}

/// The values of tensor data read back, or what went wrong reading them.
pub(crate) fn read_vec<E: std::fmt::Debug>(
    data: Result<TensorData, E>,
) -> Result<Vec<f32>, ReadError> {
    data.map_err(|e| ReadError::Device(device_failure(&e)))?
        .try_into_vec::<f32>()
        .map_err(|e| ReadError::Data(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn a_device_failure_reads_as_one_line() {
        let debug = "An error happened during execution\nCaused by:\n  The device is poisoned\nCaused by:\n  The device is poisoned\nCaused by:\n  Destroyed: Device was destroyed.\nBacktrace:\nNo backtrace available";
        struct Text(&'static str);
        impl std::fmt::Debug for Text {
            fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        assert_eq!(
            device_failure(&Text(debug)),
            "An error happened during execution: The device is poisoned: Destroyed: Device was destroyed."
        );
    }

    fn pair() -> (Tensor<4>, Tensor<4>) {
        let device = Device::flex();
        // Two 1x2x2 images: the first reconstructed with errors 0.5 and 0.25.
        let x = Tensor::<4>::from_floats(
            [[[[1.0, 0.5], [0.0, 0.5]]], [[[0.0, 0.0], [0.0, 0.0]]]],
            &device,
        );
        let r = Tensor::<4>::from_floats(
            [[[[0.5, 0.5], [0.0, 0.25]]], [[[0.0, 0.0], [0.0, 0.0]]]],
            &device,
        );
        (x, r)
    }

    fn values(t: Tensor<1>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    #[test]
    fn mse_is_the_mean_of_squared_pixel_errors() {
        let (x, r) = pair();
        // (0.25 + 0.0625) / 4 = 0.078125
        assert_eq!(values(mse(x, r)), vec![0.078125, 0.0]);
    }

    #[test]
    fn difference_ratio_divides_absolute_error_by_input_mass() {
        let (x, r) = pair();
        // (0.5 + 0.25) / 2.0 = 0.375; an all-black perfect reconstruction scores 0.
        assert_eq!(values(difference_ratio(x, r)), vec![0.375, 0.0]);
    }

    #[test]
    fn removed_ink_counts_only_what_the_reconstruction_took_away() {
        let (x, r) = pair();
        // (0.5 + 0.25) / 4; the same errors with the images swapped took nothing away.
        assert_eq!(values(removed_ink(x.clone(), r.clone())), vec![0.1875, 0.0]);
        assert_eq!(values(removed_ink(r, x)), vec![0.0, 0.0]);
    }

    #[test]
    fn erased_ink_counts_only_what_the_reconstruction_left_empty() {
        let device = Device::flex();
        let image =
            |[a, b, c, d]: [f32; 4]| Tensor::<4>::from_floats([[[[a, b], [c, d]]]], &device);
        // An added stroke erased (1 -> 0.05) counts; a stroke kept but dimmed (1 -> 0.6),
        // ink added (0 -> 0.5) and a pixel right at the bar (0.8 -> 0.1) do not.
        let x = image([1.0, 1.0, 0.0, 0.8]);
        let r = image([0.05, 0.6, 0.5, ERASED_BELOW]);
        let erased = values(erased_ink(x.clone(), r.clone(), ERASED_BELOW))[0];
        assert!((erased - 0.95 / 4.0).abs() < 1e-6, "{erased}");
        assert!(values(removed_ink(x, r))[0] > erased + 0.1);
    }

    #[test]
    fn the_difference_map_is_the_absolute_pixel_error() {
        let (x, r) = pair();
        let map = difference_map(x, r)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(&map[..4], &[0.5, 0.0, 0.0, 0.25]);
    }
}
