//! Training the LSTM autoencoder: the shared self-supervised trainer.

use burn::tensor::{Device, Tensor};

use super::{LstmAutoencoder, LstmAutoencoderConfig};
use crate::combined;
use crate::score::ReadError;
use crate::train::{Architecture, BatchSource, SelfSupervised, SelfSupervisedTrainer};

/// Trains an [`LstmAutoencoder`] on normal images, one Adam step per step.
pub type LstmAeTrainer = SelfSupervisedTrainer<LstmAutoencoder>;

impl Architecture for LstmAutoencoderConfig {
    type Model = LstmAutoencoder;

    fn build(&self, device: &Device) -> LstmAutoencoder {
        self.init(device)
    }
}

impl SelfSupervised for LstmAutoencoder {
    /// `MSE(x, x^)` over every step and feature (seed 004's reconstruction loss).
    fn losses(&self, input: Tensor<4>, target: Tensor<4>) -> Vec<(&'static str, Tensor<1>)> {
        let (reconstruction, _) = self.forward(input);
        vec![("reconstruction", (reconstruction - target).square().mean())]
    }

    /// Fits the neighbour score's statistics on the training images, where it is judged by
    /// one.
    async fn fit(self, source: &BatchSource, device: &Device) -> Result<Self, ReadError> {
        combined::fit_model(self, source, device).await
    }
}
