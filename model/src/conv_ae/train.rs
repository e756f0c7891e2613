//! Training the convolutional autoencoder (or VAE): the shared self-supervised trainer.

use burn::tensor::{Device, Tensor};

use super::{ConvAutoencoder, ConvAutoencoderConfig};
use crate::train::{Architecture, SelfSupervised, SelfSupervisedTrainer};
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
        match self.encode_distribution(input) {
            (mu, None) => {
                let reconstruction = self.decode(mu);
                vec![("reconstruction", (reconstruction - target).square().mean())]
            }
            (mu, Some(sigma)) => {
                let posterior = vae::Gaussian { mu, sigma };
                let reconstruction = self.decode(posterior.sample());
                vae::losses(reconstruction, target, &posterior, self.kl_weight())
            }
        }
    }
}
