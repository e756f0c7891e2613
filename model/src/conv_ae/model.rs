//! The network: encoder, latent, mirrored decoder.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, sigmoid};
use burn::tensor::{Device, Tensor};

use crate::detector::Detector;
use crate::score::{Detection, ScoreKind};
use crate::vae;

/// Side of the square input image, in pixels.
pub const INPUT_SIZE: usize = 28;

/// Layer sizes of the convolutional autoencoder (defaults from seed 003).
#[derive(Config, Debug, PartialEq)]
pub struct ConvAutoencoderConfig {
    /// Image channels (1 for grayscale).
    #[config(default = 1)]
    pub channels: usize,
    /// Channels of layer 2 (14x14).
    #[config(default = 4)]
    pub features_2: usize,
    /// Channels of layer 3 (7x7).
    #[config(default = 16)]
    pub features_3: usize,
    /// Channels of layer 4 (4x4).
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
}

impl ConvAutoencoderConfig {
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
        ConvAutoencoder {
            enc1: conv(c, f2, 4, 1),
            enc_norm2: BatchNormConfig::new(f2).init(device),
            enc2: conv(f2, f3, 4, 1),
            enc_norm3: BatchNormConfig::new(f3).init(device),
            enc3: conv(f3, f4, 3, 1),
            enc4: conv(f4, d, 3, 0),
            enc4_sigma: self.variational.then(|| conv(f4, d, 3, 0)),
            dec4: deconv(d, f4, 3, 0, 1),
            dec3: deconv(f4, f3, 3, 1, 0),
            dec_norm3: BatchNormConfig::new(f3).init(device),
            dec2: deconv(f3, f2, 4, 1, 0),
            dec_norm2: BatchNormConfig::new(f2).init(device),
            dec1: deconv(f2, c, 4, 1, 0),
            leaky_slope: self.leaky_slope,
            kl_weight: self.kl_weight,
        }
    }
}

/// Convolutional autoencoder (seed 003); build it with [`ConvAutoencoderConfig::init`].
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
}

impl ConvAutoencoder {
    /// Encodes images to latent vectors (the VAE's posterior means).
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, 28, 28]`, pixels in [0, 1]
    /// - returns `[batch, latent]`
    pub fn encode(&self, x: Tensor<4>) -> Tensor<2> {
        self.encode_distribution(x).0
    }

    /// Encodes images to the latent mean and, for the VAE, the softplus sigma.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, 28, 28]`
    /// - returns (`mu` `[batch, latent]`, `sigma` `[batch, latent]` for the VAE)
    pub fn encode_distribution(&self, x: Tensor<4>) -> (Tensor<2>, Option<Tensor<2>>) {
        let a = self.leaky_slope;
        let h = leaky_relu(self.enc_norm2.forward(self.enc1.forward(x)), a); // [b, 4, 14, 14]
        let h = leaky_relu(self.enc_norm3.forward(self.enc2.forward(h)), a); // [b, 16, 7, 7]
        let h = leaky_relu(self.enc3.forward(h), a); // [b, 32, 4, 4]
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
    /// - returns `[batch, channels, 28, 28]`, pixels in (0, 1)
    pub fn decode(&self, z: Tensor<2>) -> Tensor<4> {
        let a = self.leaky_slope;
        let [batch, latent] = z.dims();
        let z = z.reshape([batch, latent, 1, 1]);
        let h = leaky_relu(self.dec4.forward(z), a); // [b, 32, 4, 4]
        let h = leaky_relu(self.dec_norm3.forward(self.dec3.forward(h)), a); // [b, 16, 7, 7]
        let h = leaky_relu(self.dec_norm2.forward(self.dec2.forward(h)), a); // [b, 4, 14, 14]
        sigmoid(self.dec1.forward(h)) // [b, c, 28, 28]
    }

    /// Reconstructs images through the latent bottleneck.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, 28, 28]`
    /// - returns (reconstruction `[batch, channels, 28, 28]`, latent `[batch, latent]`)
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<2>) {
        let z = self.encode(x);
        (self.decode(z.clone()), z)
    }
}

impl Detector for ConvAutoencoder {
    /// Reconstructs from the latent mean, so scores are deterministic; the VAE adds its
    /// `MSE + beta * KL / pixels` score.
    fn detect(&self, x: Tensor<4>) -> Detection {
        let (mu, sigma) = self.encode_distribution(x.clone());
        vae::autoencoder_detection(x, mu, sigma, |z| self.decode(z), self.kl_weight)
    }

    fn input_size(&self) -> usize {
        INPUT_SIZE
    }

    fn score_kind(&self) -> ScoreKind {
        match self.enc4_sigma {
            Some(_) => ScoreKind::Elbo,
            None => ScoreKind::Mse,
        }
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
}
