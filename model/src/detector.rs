//! The one interface every trained model offers for scoring.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::aae::Aae;
use crate::anogan::AnoGan;
use crate::conv_ae::ConvAutoencoder;
use crate::data::Images;
use crate::fc::FcAutoencoder;
use crate::ganomaly::Ganomaly;
use crate::hotelling::Hotelling;
use crate::lstm_ae::LstmAutoencoder;
use crate::score::{Detection, ReadError, ScoreKind, Scores};
use crate::skip_ganomaly::SkipGanomaly;

/// A trained model that turns a batch of images into a [`Detection`].
pub trait Detector {
    /// Runs the model on a batch.
    ///
    /// # Shapes
    /// `x`: `[batch, channels, height, width]`, as the model was trained on.
    fn detect(&self, x: Tensor<4>) -> Detection;

    /// Side of the square images the model takes; smaller images are padded to it.
    fn input_size(&self) -> usize;

    /// The score this model is meant to be judged by: its own score where it has one.
    fn score_kind(&self) -> ScoreKind {
        ScoreKind::Mse
    }

    /// Statistics fitted on the training data that the score depends on (the AAE's T²).
    fn fitted_statistics(&self) -> Option<&Hotelling> {
        None
    }
}

/// Any of Kizu's trained detectors, e.g. as loaded from a checkpoint of unknown kind.
// One or two live per session: boxing the large variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum AnyDetector {
    /// The convolutional autoencoder or VAE.
    ConvAutoencoder(ConvAutoencoder),
    /// The fully connected autoencoder or VAE.
    FcAutoencoder(FcAutoencoder),
    /// GANomaly's generator.
    Ganomaly(Ganomaly),
    /// Skip-GANomaly's generator and discriminator.
    SkipGanomaly(SkipGanomaly),
    /// The adversarial autoencoder with its T² statistics.
    Aae(Aae),
    /// GANomaly's generator and discriminator, scored by AnoGAN's latent search.
    AnoGan(AnoGan),
    /// The LSTM autoencoder over image rows.
    LstmAutoencoder(LstmAutoencoder),
}

impl AnyDetector {
    fn inner(&self) -> &dyn Detector {
        match self {
            Self::ConvAutoencoder(m) => m,
            Self::FcAutoencoder(m) => m,
            Self::Ganomaly(m) => m,
            Self::SkipGanomaly(m) => m,
            Self::Aae(m) => m,
            Self::AnoGan(m) => m,
            Self::LstmAutoencoder(m) => m,
        }
    }
}

impl Detector for AnyDetector {
    fn detect(&self, x: Tensor<4>) -> Detection {
        self.inner().detect(x)
    }

    fn input_size(&self) -> usize {
        self.inner().input_size()
    }

    fn score_kind(&self) -> ScoreKind {
        self.inner().score_kind()
    }

    fn fitted_statistics(&self) -> Option<&Hotelling> {
        self.inner().fitted_statistics()
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
