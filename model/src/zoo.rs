//! Every model kind behind one interface: pick a [`ModelKind`], get its configuration, train
//! it with [`AnyTrainer`] and score with the [`AnyDetector`] it yields. The CLI, the app and
//! the test sweep use this instead of naming each model.

use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg(feature = "burn")]
pub use self::networks::AnyTrainer;

/// The models of the source documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ModelKind {
    /// Fully connected autoencoder (seed 001).
    #[cfg_attr(feature = "cli", value(name = "fc-ae"))]
    FcAutoencoder,
    /// Fully connected VAE (seeds 001, 004).
    #[cfg_attr(feature = "cli", value(name = "fc-vae"))]
    FcVae,
    /// Convolutional autoencoder (seed 003).
    #[default]
    #[cfg_attr(feature = "cli", value(name = "conv-ae"))]
    ConvAutoencoder,
    /// Convolutional VAE (seed 003).
    #[cfg_attr(feature = "cli", value(name = "conv-vae"))]
    ConvVae,
    /// GANomaly (seed 000).
    Ganomaly,
    /// Skip-GANomaly (seed 000).
    SkipGanomaly,
    /// Adversarial autoencoder with Hotelling's T² (seed 002).
    Aae,
    /// AnoGAN's latent search over a GANomaly (seed 004).
    #[cfg_attr(feature = "cli", value(name = "anogan"))]
    AnoGan,
    /// LSTM autoencoder over image rows (seed 004).
    #[cfg_attr(feature = "cli", value(name = "lstm-ae"))]
    LstmAutoencoder,
}

/// How large to build a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Scale {
    /// The sizes of the source documents and reference code (e.g. GANomaly's 64 features).
    #[default]
    Reference,
    /// Fewer feature maps, for a browser tab on the CPU and the test suite.
    Compact,
}

impl ModelKind {
    /// Every kind, in the order the documents present them.
    pub const ALL: [ModelKind; 9] = [
        Self::FcAutoencoder,
        Self::FcVae,
        Self::ConvAutoencoder,
        Self::ConvVae,
        Self::Ganomaly,
        Self::SkipGanomaly,
        Self::Aae,
        Self::AnoGan,
        Self::LstmAutoencoder,
    ];

    /// Stable identifier for forms, links and the command line.
    pub fn id(self) -> &'static str {
        match self {
            Self::FcAutoencoder => "fc-ae",
            Self::FcVae => "fc-vae",
            Self::ConvAutoencoder => "conv-ae",
            Self::ConvVae => "conv-vae",
            Self::Ganomaly => "ganomaly",
            Self::SkipGanomaly => "skip-ganomaly",
            Self::Aae => "aae",
            Self::AnoGan => "anogan",
            Self::LstmAutoencoder => "lstm-ae",
        }
    }

    /// The kind with identifier `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.id() == id)
    }

    /// A short human-readable name.
    pub fn label(self) -> &'static str {
        match self {
            Self::FcAutoencoder => "FC autoencoder",
            Self::FcVae => "FC VAE",
            Self::ConvAutoencoder => "Conv autoencoder",
            Self::ConvVae => "Conv VAE",
            Self::Ganomaly => "GANomaly",
            Self::SkipGanomaly => "Skip-GANomaly",
            Self::Aae => "AAE + Hotelling T²",
            Self::AnoGan => "AnoGAN search",
            Self::LstmAutoencoder => "LSTM autoencoder",
        }
    }

    /// The Adam learning rate that trains this kind well on MNIST in a few epochs: 2e-4 for
    /// GANomaly, as its reference code; 3e-3 for the conv AE and 2e-3 for Skip-GANomaly's
    /// U-Net, measured (at 2e-4 the compact U-Net still outputs grey after 3 epochs:
    /// overlay AUC 0.05; at 2e-3 it reaches 0.999, see docs/BENCHMARKS.md).
    pub fn learning_rate(self) -> f64 {
        match self {
            Self::ConvAutoencoder => 3e-3,
            Self::SkipGanomaly => 2e-3,
            Self::Ganomaly | Self::AnoGan => 2e-4,
            Self::FcAutoencoder | Self::FcVae | Self::ConvVae | Self::Aae => 1e-3,
            Self::LstmAutoencoder => 1e-2,
        }
    }
}

/// The smallest of `sizes` (ascending) that holds images of side `size`, or the largest: the
/// side a model built for `sizes` is built at, smaller images being padded to it.
#[cfg(feature = "burn")]
pub(crate) fn fitting_size(sizes: &[usize], size: usize) -> usize {
    let fits = sizes.iter().copied().find(|&s| s >= size);
    fits.or(sizes.last().copied()).unwrap_or(size)
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(feature = "burn")]
mod networks {
    use burn::tensor::Device;

    use super::{ModelKind, Scale};
    use crate::aae::{AaeConfig, AaeTrainer, AaeTrainingConfig};
    use crate::anogan::{AnoGanConfig, AnoGanTrainer};
    use crate::checkpoint::ModelConfig;
    use crate::conv_ae::{ConvAeTrainer, ConvAutoencoderConfig};
    use crate::data::Images;
    use crate::detector::AnyDetector;
    use crate::fc::{FcAutoencoderConfig, FcTrainer};
    use crate::ganomaly::{GanomalyConfig, GanomalyTrainer, GanomalyTrainingConfig};
    use crate::lstm_ae::{LstmAeTrainer, LstmAutoencoderConfig};
    use crate::score::{ReadError, ScoreKind};
    use crate::skip_ganomaly::{
        SkipGanomalyConfig, SkipGanomalyTrainer, SkipGanomalyTrainingConfig,
    };
    use crate::train::{StepReport, Trainer, TrainingConfig};

    impl ModelKind {
        /// The configuration of this kind at `scale`, for grayscale images.
        pub fn config(self, scale: Scale) -> ModelConfig {
            let compact = scale == Scale::Compact;
            let gan_features = if compact { 16 } else { 64 };
            let ganomaly = GanomalyConfig::new().with_features(gan_features);
            match self {
                Self::FcAutoencoder => ModelConfig::FcAutoencoder(FcAutoencoderConfig::new()),
                Self::FcVae => {
                    ModelConfig::FcAutoencoder(FcAutoencoderConfig::new().with_variational(true))
                }
                Self::ConvAutoencoder => ModelConfig::ConvAutoencoder(ConvAutoencoderConfig::new()),
                Self::ConvVae => ModelConfig::ConvAutoencoder(
                    ConvAutoencoderConfig::new().with_variational(true),
                ),
                Self::Ganomaly => ModelConfig::Ganomaly(ganomaly),
                Self::SkipGanomaly => {
                    ModelConfig::SkipGanomaly(SkipGanomalyConfig::new().with_features(if compact {
                        8
                    } else {
                        64
                    }))
                }
                Self::Aae => {
                    ModelConfig::Aae(AaeConfig::new().with_features(if compact { 16 } else { 32 }))
                }
                Self::AnoGan => ModelConfig::AnoGan(AnoGanConfig::new(ganomaly)),
                Self::LstmAutoencoder => ModelConfig::LstmAutoencoder(LstmAutoencoderConfig::new()),
            }
        }
    }

    impl ModelConfig {
        /// Which kind this configuration builds.
        pub fn model_kind(&self) -> ModelKind {
            match self {
                Self::FcAutoencoder(c) if c.variational => ModelKind::FcVae,
                Self::FcAutoencoder(_) => ModelKind::FcAutoencoder,
                Self::ConvAutoencoder(c) if c.variational => ModelKind::ConvVae,
                Self::ConvAutoencoder(_) => ModelKind::ConvAutoencoder,
                Self::Ganomaly(_) => ModelKind::Ganomaly,
                Self::SkipGanomaly(_) => ModelKind::SkipGanomaly,
                Self::Aae(_) => ModelKind::Aae,
                Self::AnoGan(_) => ModelKind::AnoGan,
                Self::LstmAutoencoder(_) => ModelKind::LstmAutoencoder,
            }
        }

        /// The score this kind is judged by.
        pub fn score_kind(&self) -> ScoreKind {
            match self.model_kind() {
                ModelKind::FcAutoencoder | ModelKind::ConvAutoencoder => ScoreKind::Mse,
                ModelKind::LstmAutoencoder => ScoreKind::Mse,
                ModelKind::FcVae | ModelKind::ConvVae => ScoreKind::Elbo,
                ModelKind::Ganomaly => ScoreKind::LatentDistance,
                ModelKind::SkipGanomaly => ScoreKind::SkipGanomaly,
                ModelKind::Aae => ScoreKind::HotellingT2,
                ModelKind::AnoGan => ScoreKind::AnoGan,
            }
        }
    }

    /// A training run of any kind.
    // One lives per run: boxing the large variants would buy nothing.
    #[allow(clippy::large_enum_variant)]
    pub enum AnyTrainer {
        /// Conv AE or VAE.
        ConvAutoencoder(ConvAeTrainer),
        /// FC AE or VAE.
        FcAutoencoder(FcTrainer),
        /// GANomaly.
        Ganomaly(GanomalyTrainer),
        /// Skip-GANomaly.
        SkipGanomaly(SkipGanomalyTrainer),
        /// The AAE.
        Aae(AaeTrainer),
        /// The GANomaly behind an AnoGAN search.
        AnoGan(AnoGanTrainer),
        /// The LSTM autoencoder.
        LstmAutoencoder(LstmAeTrainer),
    }

    impl AnyTrainer {
        /// Starts a run of the model `config` describes on normal `images`; the GANs use Adam
        /// with betas 0.5 / 0.999 (their reference code), the AAE also uses `labelled_anomalies`
        /// (seed 002; others ignore them).
        pub fn new(
            config: &ModelConfig,
            training: &TrainingConfig,
            images: &Images,
            labelled_anomalies: &Images,
            device: &Device,
        ) -> Self {
            match config {
                ModelConfig::ConvAutoencoder(c) => {
                    Self::ConvAutoencoder(ConvAeTrainer::new(c, training, images, device))
                }
                ModelConfig::FcAutoencoder(c) => {
                    Self::FcAutoencoder(FcTrainer::new(c, training, images, device))
                }
                ModelConfig::Ganomaly(c) => {
                    let gan = GanomalyTrainingConfig::new(training.clone());
                    Self::Ganomaly(GanomalyTrainer::new(c, &gan, images, device))
                }
                ModelConfig::SkipGanomaly(c) => {
                    let gan = SkipGanomalyTrainingConfig::new(training.clone());
                    Self::SkipGanomaly(SkipGanomalyTrainer::new(c, &gan, images, device))
                }
                ModelConfig::Aae(c) => {
                    let aae = AaeTrainingConfig::new(training.clone());
                    Self::Aae(AaeTrainer::new(c, &aae, images, labelled_anomalies, device))
                }
                ModelConfig::AnoGan(c) => {
                    let gan = GanomalyTrainingConfig::new(training.clone());
                    Self::AnoGan(AnoGanTrainer::new(c, &gan, images, device))
                }
                ModelConfig::LstmAutoencoder(c) => {
                    Self::LstmAutoencoder(LstmAeTrainer::new(c, training, images, device))
                }
            }
        }
    }

    impl Trainer for AnyTrainer {
        type Model = AnyDetector;

        fn total_steps(&self) -> usize {
            match self {
                Self::ConvAutoencoder(t) => t.total_steps(),
                Self::FcAutoencoder(t) => t.total_steps(),
                Self::Ganomaly(t) => t.total_steps(),
                Self::SkipGanomaly(t) => t.total_steps(),
                Self::Aae(t) => t.total_steps(),
                Self::AnoGan(t) => t.total_steps(),
                Self::LstmAutoencoder(t) => t.total_steps(),
            }
        }

        async fn step(&mut self) -> Result<Option<StepReport>, ReadError> {
            match self {
                Self::ConvAutoencoder(t) => t.step().await,
                Self::FcAutoencoder(t) => t.step().await,
                Self::Ganomaly(t) => t.step().await,
                Self::SkipGanomaly(t) => t.step().await,
                Self::Aae(t) => t.step().await,
                Self::AnoGan(t) => t.step().await,
                Self::LstmAutoencoder(t) => t.step().await,
            }
        }

        fn into_model(self) -> Option<AnyDetector> {
            match self {
                Self::ConvAutoencoder(t) => t.into_model().map(AnyDetector::ConvAutoencoder),
                Self::FcAutoencoder(t) => t.into_model().map(AnyDetector::FcAutoencoder),
                Self::Ganomaly(t) => t.into_model().map(AnyDetector::Ganomaly),
                Self::SkipGanomaly(t) => t.into_model().map(AnyDetector::SkipGanomaly),
                Self::Aae(t) => t.into_model().map(AnyDetector::Aae),
                Self::AnoGan(t) => t.into_model().map(AnyDetector::AnoGan),
                Self::LstmAutoencoder(t) => t.into_model().map(AnyDetector::LstmAutoencoder),
            }
        }

        async fn finish(self) -> Result<Option<AnyDetector>, ReadError> {
            match self {
                Self::Aae(t) => Ok(t.finish().await?.map(AnyDetector::Aae)),
                other => Ok(other.into_model()),
            }
        }
    }
}
