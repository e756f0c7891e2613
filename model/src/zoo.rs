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

/// The largest image side any model is built for.
pub const MAX_INPUT_SIZE: usize = 64;

/// Why a model cannot be configured for images of a given shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InputShapeError {
    /// The side is 0 or larger than [`MAX_INPUT_SIZE`].
    #[error("{model} takes images of side 1 to {MAX_INPUT_SIZE} pixels, not {size}")]
    Size {
        /// The model asked for.
        model: ModelKind,
        /// The side asked for.
        size: usize,
    },
    /// Neither grayscale (1) nor RGB (3).
    #[error("{model} takes images of 1 (gray) or 3 (RGB) channels, not {channels}")]
    Channels {
        /// The model asked for.
        model: ModelKind,
        /// The channels asked for.
        channels: usize,
    },
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

    use super::{fitting_size, InputShapeError, ModelKind, Scale, MAX_INPUT_SIZE};
    use crate::aae::{self, AaeConfig, AaeTrainer, AaeTrainingConfig};
    use crate::anogan::{AnoGanConfig, AnoGanTrainer};
    use crate::checkpoint::ModelConfig;
    use crate::conv_ae::{self, ConvAeTrainer, ConvAutoencoderConfig};
    use crate::data::Images;
    use crate::detector::AnyDetector;
    use crate::fc::{FcAutoencoderConfig, FcTrainer};
    use crate::ganomaly::{self, GanomalyConfig, GanomalyTrainer, GanomalyTrainingConfig};
    use crate::lstm_ae::{LstmAeTrainer, LstmAutoencoderConfig};
    use crate::score::{ReadError, ScoreKind};
    use crate::skip_ganomaly::{
        self, SkipGanomalyConfig, SkipGanomalyTrainer, SkipGanomalyTrainingConfig,
    };
    use crate::train::{StepReport, Trainer, TrainingConfig};

    impl ModelKind {
        /// The configuration of this kind at `scale`, for grayscale images of its native size
        /// (28 or 32); [`ModelConfig::for_input`] adapts it to other images.
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

        /// This configuration for images of side `size` (1 to [`MAX_INPUT_SIZE`]) with
        /// `channels` channels (1 or 3): the input size becomes the smallest one the model is
        /// built for that holds `size` (smaller images are padded to it: 28 -> 32 for the
        /// GANs and the AAE), the channels are set, all other settings are kept.
        pub fn for_input(self, size: usize, channels: usize) -> Result<Self, InputShapeError> {
            let model = self.model_kind();
            if !(1..=MAX_INPUT_SIZE).contains(&size) {
                return Err(InputShapeError::Size { model, size });
            }
            if !matches!(channels, 1 | 3) {
                return Err(InputShapeError::Channels { model, channels });
            }
            let gan = |c: GanomalyConfig| {
                c.with_input_size(fitting_size(&ganomaly::INPUT_SIZES, size))
                    .with_channels(channels)
            };
            Ok(match self {
                Self::ConvAutoencoder(c) => Self::ConvAutoencoder(
                    c.with_input_size(fitting_size(&conv_ae::INPUT_SIZES, size))
                        .with_channels(channels),
                ),
                // Fully connected and recurrent layers take any side as it is.
                Self::FcAutoencoder(c) => {
                    Self::FcAutoencoder(c.with_input_size(size).with_channels(channels))
                }
                Self::LstmAutoencoder(c) => Self::LstmAutoencoder(
                    c.with_steps(size)
                        .with_features(size)
                        .with_channels(channels),
                ),
                Self::Ganomaly(c) => Self::Ganomaly(gan(c)),
                Self::AnoGan(mut c) => {
                    c.ganomaly = gan(c.ganomaly);
                    Self::AnoGan(c)
                }
                Self::SkipGanomaly(c) => Self::SkipGanomaly(
                    c.with_input_size(fitting_size(&skip_ganomaly::INPUT_SIZES, size))
                        .with_channels(channels),
                ),
                Self::Aae(c) => Self::Aae(
                    c.with_input_size(fitting_size(&aae::INPUT_SIZES, size))
                        .with_channels(channels),
                ),
            })
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

#[cfg(all(test, feature = "burn"))]
mod tests {
    use super::*;

    #[test]
    fn inputs_take_the_smallest_size_each_model_is_built_for() {
        let side = |kind: ModelKind, size| {
            let config = kind.config(Scale::Compact).for_input(size, 3);
            config.map(|c| (c.input_size(), c.channels()))
        };
        assert_eq!(side(ModelKind::ConvAutoencoder, 28), Ok((28, 3)));
        assert_eq!(side(ModelKind::ConvVae, 30), Ok((32, 3)));
        assert_eq!(side(ModelKind::ConvAutoencoder, 33), Ok((64, 3)));
        assert_eq!(side(ModelKind::Ganomaly, 28), Ok((32, 3)));
        assert_eq!(side(ModelKind::AnoGan, 64), Ok((64, 3)));
        assert_eq!(side(ModelKind::SkipGanomaly, 1), Ok((32, 3)));
        assert_eq!(side(ModelKind::Aae, 40), Ok((64, 3)));
        // Fully connected and recurrent layers take the side as it is.
        assert_eq!(side(ModelKind::FcVae, 40), Ok((40, 3)));
        assert_eq!(side(ModelKind::LstmAutoencoder, 64), Ok((64, 3)));
    }

    #[test]
    fn sides_above_64_and_two_channels_are_refused_by_name() {
        for kind in ModelKind::ALL {
            let config = kind.config(Scale::Compact);
            assert_eq!(
                config.clone().for_input(65, 1),
                Err(InputShapeError::Size {
                    model: kind,
                    size: 65
                })
            );
            assert_eq!(
                config.clone().for_input(0, 1),
                Err(InputShapeError::Size {
                    model: kind,
                    size: 0
                })
            );
            assert_eq!(
                config.for_input(32, 2),
                Err(InputShapeError::Channels {
                    model: kind,
                    channels: 2
                })
            );
        }
        let error = ModelKind::Ganomaly
            .config(Scale::Compact)
            .for_input(65, 1)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "GANomaly takes images of side 1 to 64 pixels, not 65"
        );
    }
}
