//! [`AnyTrainer`]: a training run of any model kind.

use burn::tensor::Device;

use super::{AnyDetector, ModelConfig, ModelKind};
use crate::aae::{AaeTrainer, AaeTrainingConfig};
use crate::anogan::AnoGanTrainer;
use crate::conv_ae::ConvAeTrainer;
use crate::data::Images;
use crate::fc::FcTrainer;
use crate::ganomaly::{GanomalyTrainer, GanomalyTrainingConfig};
use crate::lstm_ae::LstmAeTrainer;
use crate::readback::ReadbackError;
use crate::score::ReadError;
use crate::skip_ganomaly::{SkipGanomalyTrainer, SkipGanomalyTrainingConfig};
use crate::train::{StepReport, Trainer, TrainingConfig};

/// A training run of any kind.
// One lives per run: boxing the large variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
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
                let gan = ganomaly_training(training);
                Self::Ganomaly(GanomalyTrainer::new(c, &gan, images, device))
            }
            ModelConfig::SkipGanomaly(c) => {
                let gan = skip_ganomaly_training(training);
                Self::SkipGanomaly(SkipGanomalyTrainer::new(c, &gan, images, device))
            }
            ModelConfig::Aae(c) => {
                let aae = aae_training(training);
                Self::Aae(AaeTrainer::new(c, &aae, images, labelled_anomalies, device))
            }
            ModelConfig::AnoGan(c) => {
                let gan = ganomaly_training(training);
                Self::AnoGan(AnoGanTrainer::new(c, &gan, images, device))
            }
            ModelConfig::LstmAutoencoder(c) => {
                Self::LstmAutoencoder(LstmAeTrainer::new(c, training, images, device))
            }
        }
    }
}

/// GANomaly's training with the run's loss weights (its defaults for the others).
fn ganomaly_training(training: &TrainingConfig) -> GanomalyTrainingConfig {
    let c = GanomalyTrainingConfig::new(training.clone());
    let w = |id, default| training.loss_weight(id).unwrap_or(default);
    GanomalyTrainingConfig {
        w_adv: w("w-adv", c.w_adv),
        w_con: w("w-con", c.w_con),
        w_enc: w("w-enc", c.w_enc),
        ..c
    }
}

/// Skip-GANomaly's training with the run's loss weights.
fn skip_ganomaly_training(training: &TrainingConfig) -> SkipGanomalyTrainingConfig {
    let c = SkipGanomalyTrainingConfig::new(training.clone());
    let w = |id, default| training.loss_weight(id).unwrap_or(default);
    SkipGanomalyTrainingConfig {
        w_adv: w("w-adv", c.w_adv),
        w_con: w("w-con", c.w_con),
        w_lat: w("w-lat", c.w_lat),
        ..c
    }
}

/// The AAE's training with the run's loss weights.
fn aae_training(training: &TrainingConfig) -> AaeTrainingConfig {
    let c = AaeTrainingConfig::new(training.clone());
    let w = |id, default| training.loss_weight(id).unwrap_or(default);
    AaeTrainingConfig {
        w_adv: w("w-adv", c.w_adv),
        w_rim: w("w-rim", c.w_rim),
        ..c
    }
}

/// The loss weight `id` a `kind` trains with under `training` (the trainer's default
/// unless the run sets it), if the kind has that weight.
pub fn loss_weight(kind: ModelKind, id: &str, training: &TrainingConfig) -> Option<f32> {
    match kind {
        ModelKind::Ganomaly | ModelKind::AnoGan => {
            let c = ganomaly_training(training);
            match id {
                "w-adv" => Some(c.w_adv),
                "w-con" => Some(c.w_con),
                "w-enc" => Some(c.w_enc),
                _ => None,
            }
        }
        ModelKind::SkipGanomaly => {
            let c = skip_ganomaly_training(training);
            match id {
                "w-adv" => Some(c.w_adv),
                "w-con" => Some(c.w_con),
                "w-lat" => Some(c.w_lat),
                _ => None,
            }
        }
        ModelKind::Aae => {
            let c = aae_training(training);
            match id {
                "w-adv" => Some(c.w_adv),
                "w-rim" => Some(c.w_rim),
                _ => None,
            }
        }
        _ => None,
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

    async fn copy_to(&self, device: &Device) -> Result<Self, ReadbackError> {
        // Boxed as `finish` is, for the same reason.
        Ok(match self {
            Self::ConvAutoencoder(t) => Self::ConvAutoencoder(Box::pin(t.copy_to(device)).await?),
            Self::FcAutoencoder(t) => Self::FcAutoencoder(Box::pin(t.copy_to(device)).await?),
            Self::Ganomaly(t) => Self::Ganomaly(Box::pin(t.copy_to(device)).await?),
            Self::SkipGanomaly(t) => Self::SkipGanomaly(Box::pin(t.copy_to(device)).await?),
            Self::Aae(t) => Self::Aae(Box::pin(t.copy_to(device)).await?),
            Self::AnoGan(t) => Self::AnoGan(Box::pin(t.copy_to(device)).await?),
            Self::LstmAutoencoder(t) => Self::LstmAutoencoder(Box::pin(t.copy_to(device)).await?),
        })
    }

    async fn finish(self) -> Result<Option<AnyDetector>, ReadError> {
        // Boxed: each kind's fit is a large future, and inline they would all sit in this
        // one's frame (a debug build's 2 MB test thread overflows).
        Ok(match self {
            Self::ConvAutoencoder(t) => Box::pin(t.finish())
                .await?
                .map(AnyDetector::ConvAutoencoder),
            Self::FcAutoencoder(t) => Box::pin(t.finish()).await?.map(AnyDetector::FcAutoencoder),
            Self::Ganomaly(t) => Box::pin(t.finish()).await?.map(AnyDetector::Ganomaly),
            Self::SkipGanomaly(t) => Box::pin(t.finish()).await?.map(AnyDetector::SkipGanomaly),
            Self::Aae(t) => Box::pin(t.finish()).await?.map(AnyDetector::Aae),
            Self::AnoGan(t) => Box::pin(t.finish()).await?.map(AnyDetector::AnoGan),
            Self::LstmAutoencoder(t) => Box::pin(t.finish())
                .await?
                .map(AnyDetector::LstmAutoencoder),
        })
    }
}
