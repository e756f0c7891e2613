//! The network: fully connected encoder, (Gaussian) latent, mirrored decoder.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor};

use crate::combined::{self, latent_score_field, CombinedStatistics, LatentJudged, LatentScore};
use crate::detector::{Detector, DetectorConfig};
use crate::score::{Detection, ReadError, ScoreKind};
use crate::train::{Architecture, BatchSource, SelfSupervised};
use crate::vae;

/// Layer sizes of the fully connected autoencoder (defaults from seed 001).
#[derive(Config, Debug, PartialEq)]
pub struct FcAutoencoderConfig {
    /// Side of the square input image, in pixels.
    #[config(default = 28)]
    pub input_size: usize,
    /// Image channels.
    #[config(default = 1)]
    pub channels: usize,
    /// Widths of the hidden layers, input side first (seed 001: 256 and 128).
    #[config(default = "vec![256, 128]")]
    pub hidden: Vec<usize>,
    /// Latent dimensions (seed 001 detects with 64).
    #[config(default = 64)]
    pub latent: usize,
    /// The VAE: the encoder also gives a softplus sigma.
    #[config(default = false)]
    pub variational: bool,
    /// The VAE's `beta`: weight of the KL term in its loss and its score.
    #[config(default = 1.0)]
    pub kl_weight: f32,
    /// The score it is judged by: a neighbour score (`Some(ScoreKind::Combined)` or
    /// `Neighbour`), fitted after training; `None` (and files from before it), its
    /// source's own (MSE, or the VAE's MSE + beta KL).
    pub score: Option<ScoreKind>,
}

impl FcAutoencoderConfig {
    /// Builds the network with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> FcAutoencoder {
        let pixels = self.channels * self.input_size * self.input_size;
        let linear = |from, to| LinearConfig::new(from, to).init(device);
        // Widths along the encoder: pixels, hidden..., then the latent heads.
        let mut widths = vec![pixels];
        widths.extend(&self.hidden);
        let last = widths.last().copied().unwrap_or(pixels);
        let encoder = widths.windows(2).map(|w| linear(w[0], w[1])).collect();
        let mut decoder_widths: Vec<usize> = widths.iter().rev().copied().collect();
        decoder_widths.insert(0, self.latent);
        let decoder = decoder_widths
            .windows(2)
            .map(|w| linear(w[0], w[1]))
            .collect();
        FcAutoencoder {
            encoder,
            mu: linear(last, self.latent),
            sigma: self.variational.then(|| linear(last, self.latent)),
            decoder,
            input_size: self.input_size,
            channels: self.channels,
            kl_weight: self.kl_weight,
            latent_score: LatentScore::unfitted(self.score, self.latent),
        }
    }
}

impl DetectorConfig for FcAutoencoderConfig {
    fn input_size(&self) -> usize {
        self.input_size
    }

    fn channels(&self) -> usize {
        self.channels
    }

    fn score_kind(&self) -> ScoreKind {
        LatentScore::chosen_kind(self.score, vae::score_kind(self.variational))
    }

    /// Fully connected layers take any side as it is.
    fn for_input(self, size: usize, channels: usize) -> Self {
        self.with_input_size(size).with_channels(channels)
    }
}

impl Architecture for FcAutoencoderConfig {
    type Model = FcAutoencoder;

    fn build(&self, device: &Device) -> FcAutoencoder {
        self.init(device)
    }
}

/// Fully connected autoencoder or VAE; build it with [`FcAutoencoderConfig::init`].
#[derive(Module, Debug)]
pub struct FcAutoencoder {
    encoder: Vec<Linear>,
    mu: Linear,
    /// The VAE's sigma head; `None` for the plain autoencoder.
    sigma: Option<Linear>,
    /// Latent to pixels; the last layer ends in a sigmoid, the others in ReLU.
    decoder: Vec<Linear>,
    input_size: usize,
    channels: usize,
    kl_weight: f32,
    /// The neighbour score it is judged by, with its statistics (kept in the checkpoint
    /// header, not the weights); `None`: its source's score.
    #[module(skip)]
    latent_score: Option<LatentScore>,
}

impl FcAutoencoder {
    /// Encodes images to the latent mean and, for the VAE, the softplus sigma.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, size, size]`, pixels in [0, 1]
    /// - returns (`mu` `[batch, latent]`, `sigma` `[batch, latent]` for the VAE)
    pub fn encode(&self, x: Tensor<4>) -> (Tensor<2>, Option<Tensor<2>>) {
        let h = self
            .encoder
            .iter()
            .fold(x.flatten(1, 3), |h, layer| relu(layer.forward(h))); // [b, hidden]
        let sigma = self
            .sigma
            .as_ref()
            .map(|head| vae::sigma_from(head.forward(h.clone())));
        (self.mu.forward(h), sigma)
    }

    /// Decodes latent vectors to images.
    ///
    /// # Shapes
    /// - `z`: `[batch, latent]`
    /// - returns `[batch, channels, size, size]` in (0, 1)
    pub fn decode(&self, z: Tensor<2>) -> Tensor<4> {
        let [batch, _] = z.dims();
        let last = self.decoder.len().saturating_sub(1);
        let flat = self.decoder.iter().enumerate().fold(z, |h, (i, layer)| {
            let h = layer.forward(h);
            if i == last {
                sigmoid(h)
            } else {
                relu(h)
            }
        }); // [b, pixels]
        flat.reshape([batch, self.channels, self.input_size, self.input_size])
    }
}

impl LatentJudged for FcAutoencoder {
    latent_score_field!();

    /// Reconstructs from the latent mean, so scores are deterministic.
    fn detect_with_latent(&self, input: Tensor<4>, clean: Tensor<4>) -> (Tensor<2>, Detection) {
        let (mu, sigma) = self.encode(input);
        vae::autoencoder_detection(clean, mu, sigma, |z| self.decode(z), self.kl_weight)
    }
}

impl SelfSupervised for FcAutoencoder {
    /// The autoencoder: `MSE(x, x^)`; the VAE: per-image BCE + `beta` KL (seed 004).
    fn losses(&self, input: Tensor<4>, target: Tensor<4>) -> Vec<(&'static str, Tensor<1>)> {
        let (mu, sigma) = self.encode(input);
        vae::autoencoder_losses(mu, sigma, |z| self.decode(z), target, self.kl_weight)
    }

    /// Fits the neighbour score's statistics on the training images, where it is judged by
    /// one.
    async fn fit(self, source: &BatchSource, device: &Device) -> Result<Self, ReadError> {
        combined::fit_model(self, source, device).await
    }
}

impl Detector for FcAutoencoder {
    fn detect_from(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection {
        self.judged_detection(input, clean)
    }

    fn input_size(&self) -> usize {
        self.input_size
    }

    fn score_kind(&self) -> ScoreKind {
        self.judged_score_kind(vae::score_kind(self.sigma.is_some()))
    }

    fn combined_statistics(&self) -> Option<&CombinedStatistics> {
        self.judged_statistics()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_have_the_shapes_of_seed_001() {
        let device = Device::flex();
        let model = FcAutoencoderConfig::new()
            .with_latent(8)
            .with_variational(true)
            .init(&device);
        let (mu, sigma) = model.encode(Tensor::zeros([3, 1, 28, 28], &device));
        assert_eq!(mu.dims(), [3, 8]);
        assert_eq!(sigma.map(|s| s.dims()), Some([3, 8]));
        assert_eq!(model.decode(mu).dims(), [3, 1, 28, 28]);
        assert_eq!(model.encoder.len(), 2);
        assert_eq!(model.decoder.len(), 3);
    }
}
