//! The one interface every trained model offers for scoring.

use burn::tensor::{Device, Tensor};

use crate::conv_ae::ConvAutoencoder;
use crate::data::Images;
use crate::score::{Detection, ReadError, Scores};

/// A trained model that turns a batch of images into a [`Detection`].
pub trait Detector {
    /// Runs the model on a batch.
    ///
    /// # Shapes
    /// `x`: `[batch, channels, height, width]`, as the model was trained on.
    fn detect(&self, x: Tensor<4>) -> Detection;

    /// Side of the square images the model takes; smaller images are padded to it.
    fn input_size(&self) -> usize;
}

impl Detector for ConvAutoencoder {
    fn detect(&self, x: Tensor<4>) -> Detection {
        let (reconstruction, _) = self.forward(x.clone());
        Detection::from_reconstruction(x, reconstruction)
    }

    fn input_size(&self) -> usize {
        crate::conv_ae::INPUT_SIZE
    }
}

/// Scores `images` in batches of `batch_size`, reading each batch back before the next.
pub async fn score_images(
    detector: &impl Detector,
    images: &Images,
    batch_size: usize,
    device: &Device,
) -> Result<Scores, ReadError> {
    let images = images.padded_to(detector.input_size());
    let mut scores = Scores::default();
    let batch_size = batch_size.max(1);
    let mut start = 0;
    while start < images.len() {
        let end = (start + batch_size).min(images.len());
        let detection = detector.detect(images.tensor(start, end, device));
        scores.extend(detection.read_scores().await?);
        start = end;
    }
    Ok(scores)
}
