//! Training the convolutional autoencoder (or VAE): the shared self-supervised trainer.

use burn::tensor::{Device, Tensor};

use super::{ConvAutoencoder, ConvAutoencoderConfig};
use crate::combined;
use crate::score::ReadError;
use crate::train::{Architecture, BatchSource, SelfSupervised, SelfSupervisedTrainer};
use crate::vae;

/// Trains a [`ConvAutoencoder`] on normal images, one Adam step per step.
pub type ConvAeTrainer = SelfSupervisedTrainer<ConvAutoencoder>;

impl Architecture for ConvAutoencoderConfig {
    type Model = ConvAutoencoder;

    fn build(&self, device: &Device) -> ConvAutoencoder {
        self.init(device)
    }
}

impl SelfSupervised for ConvAutoencoder {
    /// The autoencoder: `MSE(x, x^)`. The VAE: per-image BCE + `beta` KL, as seed 003/004.
    fn losses(&self, input: Tensor<4>, target: Tensor<4>) -> Vec<(&'static str, Tensor<1>)> {
        let (mu, sigma) = self.encode_distribution(input);
        vae::autoencoder_losses(mu, sigma, |z| self.decode(z), target, self.kl_weight())
    }

    /// Fits the neighbour score's statistics on the training images, where it is judged by
    /// one.
    async fn fit(self, source: &BatchSource, device: &Device) -> Result<Self, ReadError> {
        combined::fit_model(self, source, device).await
    }
}
