//! [`ModelConfig`]: the configuration of any model kind, as a checkpoint stores it.

use serde::{Deserialize, Serialize};

use super::{fitting_size, InputShapeError, ModelKind, Scale, MAX_INPUT_SIZE};
use crate::aae::{self, AaeConfig};
use crate::anogan::AnoGanConfig;
use crate::conv_ae::{self, ConvAutoencoderConfig};
use crate::fc::FcAutoencoderConfig;
use crate::ganomaly::{self, GanomalyConfig};
use crate::lstm_ae::LstmAutoencoderConfig;
use crate::score::ScoreKind;
use crate::skip_ganomaly::{self, SkipGanomalyConfig};

/// The architecture of a checkpoint, with its full configuration.
// Its serde form is the checkpoint header's `model`: the tag, the content and the variant
// names are the file format, so renaming any of them refuses every file written before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "config")]
pub enum ModelConfig {
    /// The convolutional autoencoder (or VAE) of seed 003.
    ConvAutoencoder(ConvAutoencoderConfig),
    /// The fully connected autoencoder (or VAE) of seed 001.
    FcAutoencoder(FcAutoencoderConfig),
    /// GANomaly's generator (seed 000).
    Ganomaly(GanomalyConfig),
    /// Skip-GANomaly's U-Net and discriminator (seed 000).
    SkipGanomaly(SkipGanomalyConfig),
    /// The adversarial autoencoder (seed 002).
    Aae(AaeConfig),
    /// AnoGAN's latent search over a GANomaly (seed 004).
    AnoGan(AnoGanConfig),
    /// The LSTM autoencoder of seed 004, over image rows.
    LstmAutoencoder(LstmAutoencoderConfig),
}

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
            Self::ConvVae => {
                ModelConfig::ConvAutoencoder(ConvAutoencoderConfig::new().with_variational(true))
            }
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
    /// The model kind's name, as it appears in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ConvAutoencoder(_) => "ConvAutoencoder",
            Self::FcAutoencoder(_) => "FcAutoencoder",
            Self::Ganomaly(_) => "Ganomaly",
            Self::SkipGanomaly(_) => "SkipGanomaly",
            Self::Aae(_) => "Aae",
            Self::AnoGan(_) => "AnoGan",
            Self::LstmAutoencoder(_) => "LstmAutoencoder",
        }
    }

    /// The configuration named `kind` (as [`ModelConfig::kind`] gives it) with every setting
    /// at its default: what a checkpoint's missing settings are read as.
    pub(crate) fn defaults(kind: &str) -> Option<Self> {
        Some(match kind {
            "ConvAutoencoder" => Self::ConvAutoencoder(ConvAutoencoderConfig::new()),
            "FcAutoencoder" => Self::FcAutoencoder(FcAutoencoderConfig::new()),
            "Ganomaly" => Self::Ganomaly(GanomalyConfig::new()),
            "SkipGanomaly" => Self::SkipGanomaly(SkipGanomalyConfig::new()),
            "Aae" => Self::Aae(AaeConfig::new()),
            "AnoGan" => Self::AnoGan(AnoGanConfig::new(GanomalyConfig::new())),
            "LstmAutoencoder" => Self::LstmAutoencoder(LstmAutoencoderConfig::new()),
            _ => return None,
        })
    }

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

    /// Side of the square input, in pixels: the configured size, as the network is built
    /// for it (a convolutional model configured between its sizes builds the next one up).
    pub fn input_size(&self) -> usize {
        match self {
            Self::ConvAutoencoder(c) => c.built_size(),
            Self::FcAutoencoder(c) => c.input_size,
            Self::Ganomaly(c) => c.built_size(),
            Self::SkipGanomaly(c) => c.built_size(),
            Self::Aae(c) => c.built_size(),
            Self::AnoGan(c) => c.ganomaly.built_size(),
            Self::LstmAutoencoder(c) => c.steps,
        }
    }

    /// Input channels.
    pub fn channels(&self) -> usize {
        match self {
            Self::ConvAutoencoder(c) => c.channels,
            Self::FcAutoencoder(c) => c.channels,
            Self::Ganomaly(c) => c.channels,
            Self::SkipGanomaly(c) => c.channels,
            Self::Aae(c) => c.channels,
            Self::AnoGan(c) => c.ganomaly.channels,
            Self::LstmAutoencoder(c) => c.channels,
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
