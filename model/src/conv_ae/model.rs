//! The network: encoder, latent, mirrored decoder.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, sigmoid};
use burn::tensor::{Device, Tensor};

use crate::combined::{latent_score_field, CombinedStatistics, LatentJudged, LatentScore};
use crate::detector::{fitting_size, Detector, DetectorConfig};
use crate::score::{Detection, ScoreKind};
use crate::vae;

/// Sides the network is built for: 28 (seed 003's MNIST), 32 with the same layers, 64 with
/// one more stride-2 layer at the input and at the output.
pub const INPUT_SIZES: [usize; 3] = [28, 32, 64];

/// Layer sizes of the convolutional autoencoder (defaults from seed 003).
#[derive(Config, Debug, PartialEq)]
pub struct ConvAutoencoderConfig {
    /// Side of the square input, in pixels: one of [`INPUT_SIZES`] (another side builds the
    /// next one up, and smaller images are padded to it).
    #[config(default = 28)]
    pub input_size: usize,
    /// Image channels (1 for grayscale).
    #[config(default = 1)]
    pub channels: usize,
    /// Channels of layer 2 (14x14 at 28, 16x16 at 32 and 64) and of the extra layer at 64.
    #[config(default = 4)]
    pub features_2: usize,
    /// Channels of layer 3 (7x7 at 28, 8x8 at 32 and 64).
    #[config(default = 16)]
    pub features_3: usize,
    /// Channels of layer 4 (4x4 at every size).
    #[config(default = 32)]
    pub features_4: usize,
    /// Latent dimensions; seed 003 detects with 64 and visualises with 2 or 3.
    #[config(default = 64)]
    pub latent: usize,
    /// Negative slope of every LeakyReLU.
    #[config(default = 0.2)]
    pub leaky_slope: f64,
    /// The convolutional VAE of seed 003: the last layer also gives a softplus sigma.
    #[config(default = false)]
    pub variational: bool,
    /// The VAE's `beta`: weight of the KL term in its loss and its score.
    #[config(default = 1.0)]
    pub kl_weight: f32,
    /// The score it is judged by: a neighbour score (`Some(ScoreKind::Neighbour)` or
    /// `Combined`), fitted after training; `None` (and files from before it), its
    /// source's own (MSE, or the VAE's MSE + beta KL).
    pub score: Option<ScoreKind>,
}

impl ConvAutoencoderConfig {
    /// The side the network is built for: the smallest of [`INPUT_SIZES`] that holds
    /// `input_size`, or the largest.
    pub fn built_size(&self) -> usize {
        fitting_size(&INPUT_SIZES, self.input_size)
    }

    /// Builds the network with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> ConvAutoencoder {
        let conv = |cin, cout, k, pad| {
            Conv2dConfig::new([cin, cout], [k, k])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .init(device)
        };
        let deconv = |cin, cout, k, pad, pad_out| {
            ConvTranspose2dConfig::new([cin, cout], [k, k])
                .with_stride([2, 2])
                .with_padding([pad, pad])
                .with_padding_out([pad_out, pad_out])
                .init(device)
        };
        let (c, f2, f3, f4, d) = (
            self.channels,
            self.features_2,
            self.features_3,
            self.features_4,
            self.latent,
        );
        let size = self.built_size();
        // At 64 one more stride-2 layer takes the image to 32x32 with `f2` channels first, so
        // the seed's layers see a 32x32 map of `f2` channels instead of the image.
        let wide = size > 32;
        let outer = if wide { f2 } else { c };
        // Layer 3 halves 7x7 (from 28) and 8x8 (from 32) both to 4x4: its mirror gives 7x7
        // and needs one more row and column of output to give 8x8.
        let pad_out_3 = usize::from(size != 28);
        ConvAutoencoder {
            enc1: conv(outer, f2, 4, 1),
            enc_norm2: BatchNormConfig::new(f2).init(device),
            enc2: conv(f2, f3, 4, 1),
            enc_norm3: BatchNormConfig::new(f3).init(device),
            enc3: conv(f3, f4, 3, 1),
            enc4: conv(f4, d, 3, 0),
            enc4_sigma: self.variational.then(|| conv(f4, d, 3, 0)),
            dec4: deconv(d, f4, 3, 0, 1),
            dec3: deconv(f4, f3, 3, 1, pad_out_3),
            dec_norm3: BatchNormConfig::new(f3).init(device),
            dec2: deconv(f3, f2, 4, 1, 0),
            dec_norm2: BatchNormConfig::new(f2).init(device),
            dec1: deconv(f2, outer, 4, 1, 0),
            leaky_slope: self.leaky_slope,
            kl_weight: self.kl_weight,
            // Created after the seed's layers, so that at 28 and 32 the seeded weights are
            // those of the network without them.
            enc_in: wide.then(|| conv(c, f2, 4, 1)),
            dec_out: wide.then(|| deconv(f2, c, 4, 1, 0)),
            input_size: size,
            latent_score: LatentScore::unfitted(self.score, self.latent),
        }
    }
}

impl DetectorConfig for ConvAutoencoderConfig {
    fn input_size(&self) -> usize {
        self.built_size()
    }

    fn channels(&self) -> usize {
        self.channels
    }

    fn score_kind(&self) -> ScoreKind {
        LatentScore::chosen_kind(self.score, vae::score_kind(self.variational))
    }

    fn for_input(self, size: usize, channels: usize) -> Self {
        let config = self.with_input_size(size).with_channels(channels);
        let built = config.built_size();
        config.with_input_size(built)
    }
}

/// Convolutional autoencoder (seed 003); build it with [`ConvAutoencoderConfig::init`].
///
/// Side of the feature maps after each layer, input `s`: 28 -> 14, 7, 4, 1;
/// 32 -> 16, 8, 4, 1; 64 -> 32 (`enc_in`), then as 32. The decoder mirrors them.
#[derive(Module, Debug)]
pub struct ConvAutoencoder {
    enc1: Conv2d,
    enc_norm2: BatchNorm,
    enc2: Conv2d,
    enc_norm3: BatchNorm,
    enc3: Conv2d,
    enc4: Conv2d,
    /// The VAE's sigma head beside `enc4`; `None` for the plain autoencoder.
    enc4_sigma: Option<Conv2d>,
    dec4: ConvTranspose2d,
    dec3: ConvTranspose2d,
    dec_norm3: BatchNorm,
    dec2: ConvTranspose2d,
    dec_norm2: BatchNorm,
    dec1: ConvTranspose2d,
    leaky_slope: f64,
    kl_weight: f32,
    /// At 64: the stride-2 layer before `enc1`, image to `[b, f2, 32, 32]`.
    enc_in: Option<Conv2d>,
    /// At 64: the stride-2 layer after `dec1`, `[b, f2, 32, 32]` to the image.
    dec_out: Option<ConvTranspose2d>,
    input_size: usize,
    /// The neighbour score it is judged by, with its statistics (kept in the checkpoint
    /// header, not the weights); `None`: its source's score.
    #[module(skip)]
    latent_score: Option<LatentScore>,
}

impl ConvAutoencoder {
    /// Encodes images to latent vectors (the VAE's posterior means).
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, s, s]`, pixels in [0, 1]
    /// - returns `[batch, latent]`
    pub fn encode(&self, x: Tensor<4>) -> Tensor<2> {
        self.encode_distribution(x).0
    }

    /// Encodes images to the latent mean and, for the VAE, the softplus sigma.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, s, s]`
    /// - returns (`mu` `[batch, latent]`, `sigma` `[batch, latent]` for the VAE)
    pub fn encode_distribution(&self, x: Tensor<4>) -> (Tensor<2>, Option<Tensor<2>>) {
        let a = self.leaky_slope;
        let x = match &self.enc_in {
            Some(layer) => leaky_relu(layer.forward(x), a), // [b, f2, 32, 32]
            None => x,
        };
        let h = leaky_relu(self.enc_norm2.forward(self.enc1.forward(x)), a); // [b, f2, 14|16, 14|16]
        let h = leaky_relu(self.enc_norm3.forward(self.enc2.forward(h)), a); // [b, f3, 7|8, 7|8]
        let h = leaky_relu(self.enc3.forward(h), a); // [b, f4, 4, 4]
        let sigma = self
            .enc4_sigma
            .as_ref()
            .map(|head| vae::sigma_from(head.forward(h.clone()).flatten(1, 3)));
        let mu = self.enc4.forward(h); // [b, latent, 1, 1]
        (mu.flatten(1, 3), sigma)
    }

    /// The VAE's `beta` (weight of the KL term).
    pub fn kl_weight(&self) -> f32 {
        self.kl_weight
    }

    /// Decodes latent vectors to images.
    ///
    /// # Shapes
    /// - `z`: `[batch, latent]`
    /// - returns `[batch, channels, s, s]`, pixels in (0, 1)
    pub fn decode(&self, z: Tensor<2>) -> Tensor<4> {
        let a = self.leaky_slope;
        let [batch, latent] = z.dims();
        let z = z.reshape([batch, latent, 1, 1]);
        let h = leaky_relu(self.dec4.forward(z), a); // [b, f4, 4, 4]
        let h = leaky_relu(self.dec_norm3.forward(self.dec3.forward(h)), a); // [b, f3, 7|8, 7|8]
        let h = leaky_relu(self.dec_norm2.forward(self.dec2.forward(h)), a); // [b, f2, 14|16, 14|16]
        match &self.dec_out {
            // At 64 `dec1` gives `[b, f2, 32, 32]`, a hidden layer like the encoder's mirror.
            Some(layer) => sigmoid(layer.forward(leaky_relu(self.dec1.forward(h), a))), // [b, c, 64, 64]
            None => sigmoid(self.dec1.forward(h)), // [b, c, s, s]
        }
    }

    /// Reconstructs images through the latent bottleneck.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, s, s]`
    /// - returns (reconstruction `[batch, channels, s, s]`, latent `[batch, latent]`)
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<2>) {
        let z = self.encode(x);
        (self.decode(z.clone()), z)
    }
}

impl LatentJudged for ConvAutoencoder {
    latent_score_field!();

    /// Reconstructs from the latent mean, so scores are deterministic.
    fn detect_with_latent(&self, input: Tensor<4>, clean: Tensor<4>) -> (Tensor<2>, Detection) {
        let (mu, sigma) = self.encode_distribution(input);
        vae::autoencoder_detection(clean, mu, sigma, |z| self.decode(z), self.kl_weight)
    }
}

impl Detector for ConvAutoencoder {
    /// The VAE adds its `MSE + beta * KL / pixels` score, unless judged by its latent.
    fn detect_from(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection {
        self.judged_detection(input, clean)
    }

    fn input_size(&self) -> usize {
        self.input_size
    }

    fn score_kind(&self) -> ScoreKind {
        self.judged_score_kind(vae::score_kind(self.enc4_sigma.is_some()))
    }

    fn combined_statistics(&self) -> Option<&CombinedStatistics> {
        self.judged_statistics()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_have_the_shapes_of_seed_003() {
        let device = Device::flex();
        let model = ConvAutoencoderConfig::new().with_latent(8).init(&device);
        let x = Tensor::<4>::zeros([3, 1, 28, 28], &device);
        let (reconstruction, latent) = model.forward(x);
        assert_eq!(reconstruction.dims(), [3, 1, 28, 28]);
        assert_eq!(latent.dims(), [3, 8]);
    }

    #[test]
    fn every_size_comes_back_at_its_own_shape() {
        let device = Device::flex();
        for (size, channels) in [(28, 3), (32, 1), (32, 3), (64, 1), (64, 3)] {
            let model = ConvAutoencoderConfig::new()
                .with_input_size(size)
                .with_channels(channels)
                .with_latent(8)
                .with_variational(true)
                .init(&device);
            assert_eq!(model.input_size(), size);
            let x = Tensor::<4>::zeros([2, channels, size, size], &device);
            let (mu, sigma) = model.encode_distribution(x.clone());
            assert_eq!(sigma.map(|s| s.dims()), Some([2, 8]));
            assert_eq!(model.decode(mu).dims(), [2, channels, size, size], "{size}");
        }
    }

    #[test]
    fn a_side_between_sizes_builds_the_next_one_up() {
        let device = Device::flex();
        let config = ConvAutoencoderConfig::new().with_input_size(40);
        assert_eq!(config.built_size(), 64);
        assert_eq!(config.init(&device).input_size(), 64);
        assert_eq!(config.with_input_size(100).built_size(), 64);
    }
}
