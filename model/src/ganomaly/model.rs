//! Networks: DCGAN encoder and decoder, the generator and the discriminator.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor};

use crate::detector::Detector;
use crate::score::{latent_distance, Detection, ScoreKind};

/// Side of the square input, in pixels (MNIST's 28 is padded to it).
pub const INPUT_SIZE: usize = 32;
const LEAKY_SLOPE: f64 = 0.2;

/// Sizes of GANomaly's networks (defaults from the reference code).
#[derive(Config, Debug, PartialEq)]
pub struct GanomalyConfig {
    /// Image channels.
    #[config(default = 1)]
    pub channels: usize,
    /// Latent dimensions (`nz`).
    #[config(default = 100)]
    pub latent: usize,
    /// Base feature maps of encoders and decoder (`ngf`, `ndf`).
    #[config(default = 64)]
    pub features: usize,
    /// Whether the second encoder shares the first one's weights.
    #[config(default = false)]
    pub shared_encoder: bool,
}

impl GanomalyConfig {
    /// Builds the generator on `device`.
    pub fn init(&self, device: &Device) -> Ganomaly {
        let encoder = || Encoder::new(self.channels, self.features, self.latent, device);
        Ganomaly {
            encoder: encoder(),
            decoder: Decoder::new(self.channels, self.features, self.latent, device),
            re_encoder: (!self.shared_encoder).then(encoder),
        }
    }

    /// Builds a fresh discriminator on `device`.
    pub fn init_discriminator(&self, device: &Device) -> Discriminator {
        Discriminator::new(self.channels, self.features, device)
    }
}

/// DCGAN's weight initialisation, `N(0, 0.02)`, as GANomaly's reference `weights_init`.
const DCGAN_INIT: Initializer = Initializer::Normal {
    mean: 0.0,
    std: 0.02,
};

fn conv(cin: usize, cout: usize, stride: usize, pad: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [4, 4])
        .with_initializer(DCGAN_INIT)
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .init(device)
}

fn deconv(cin: usize, cout: usize, stride: usize, pad: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([cin, cout], [4, 4])
        .with_initializer(DCGAN_INIT)
        .with_stride([stride, stride])
        .with_padding([pad, pad])
        .with_bias(false)
        .init(device)
}

/// DCGAN encoder: `[b, c, 32, 32]` -> features `[b, 4f, 4, 4]` and output `[b, out, 1, 1]`.
#[derive(Module, Debug)]
pub struct Encoder {
    initial: Conv2d,
    pyramid_1: Conv2d,
    norm_1: BatchNorm,
    pyramid_2: Conv2d,
    norm_2: BatchNorm,
    last: Conv2d,
}

impl Encoder {
    fn new(channels: usize, f: usize, out: usize, device: &Device) -> Self {
        Self {
            initial: conv(channels, f, 2, 1, device),
            pyramid_1: conv(f, 2 * f, 2, 1, device),
            norm_1: BatchNormConfig::new(2 * f).init(device),
            pyramid_2: conv(2 * f, 4 * f, 2, 1, device),
            norm_2: BatchNormConfig::new(4 * f).init(device),
            last: conv(4 * f, out, 1, 0, device),
        }
    }

    /// # Shapes
    /// `[b, c, 32, 32]` -> (features `[b, 4f, 4, 4]`, output `[b, out]`)
    fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<2>) {
        let h = leaky_relu(self.initial.forward(x), LEAKY_SLOPE); // [b, f, 16, 16]
        let h = leaky_relu(self.norm_1.forward(self.pyramid_1.forward(h)), LEAKY_SLOPE); // [b, 2f, 8, 8]
        let features = leaky_relu(self.norm_2.forward(self.pyramid_2.forward(h)), LEAKY_SLOPE); // [b, 4f, 4, 4]
        let out = self.last.forward(features.clone()); // [b, out, 1, 1]
        (features, out.flatten(1, 3))
    }
}

/// DCGAN decoder: `[b, nz]` -> `[b, c, 32, 32]` in (-1, 1).
#[derive(Module, Debug)]
pub struct Decoder {
    initial: ConvTranspose2d,
    norm_0: BatchNorm,
    pyramid_1: ConvTranspose2d,
    norm_1: BatchNorm,
    pyramid_2: ConvTranspose2d,
    norm_2: BatchNorm,
    last: ConvTranspose2d,
}

impl Decoder {
    fn new(channels: usize, f: usize, latent: usize, device: &Device) -> Self {
        Self {
            initial: deconv(latent, 4 * f, 1, 0, device),
            norm_0: BatchNormConfig::new(4 * f).init(device),
            pyramid_1: deconv(4 * f, 2 * f, 2, 1, device),
            norm_1: BatchNormConfig::new(2 * f).init(device),
            pyramid_2: deconv(2 * f, f, 2, 1, device),
            norm_2: BatchNormConfig::new(f).init(device),
            last: deconv(f, channels, 2, 1, device),
        }
    }

    /// # Shapes
    /// `[b, nz]` -> `[b, c, 32, 32]`
    fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let [batch, latent] = z.dims();
        let z = z.reshape([batch, latent, 1, 1]);
        let h = relu(self.norm_0.forward(self.initial.forward(z))); // [b, 4f, 4, 4]
        let h = relu(self.norm_1.forward(self.pyramid_1.forward(h))); // [b, 2f, 8, 8]
        let h = relu(self.norm_2.forward(self.pyramid_2.forward(h))); // [b, f, 16, 16]
        tanh(self.last.forward(h)) // [b, c, 32, 32]
    }
}

/// GANomaly's generator (encoder-decoder-encoder); build it with [`GanomalyConfig::init`].
#[derive(Module, Debug)]
pub struct Ganomaly {
    encoder: Encoder,
    decoder: Decoder,
    /// `None` when the second encoder shares the first one's weights.
    re_encoder: Option<Encoder>,
}

/// What one generator pass produces, in the model's [-1, 1] pixel range.
#[derive(Debug, Clone)]
pub struct GeneratorOutput {
    /// The generated image `x^`, `[b, c, 32, 32]`.
    pub generated: Tensor<4>,
    /// Latent of the input `z`, `[b, nz]`.
    pub latent: Tensor<2>,
    /// Latent of the generated image `z^`, `[b, nz]`.
    pub latent_of_generated: Tensor<2>,
}

impl Ganomaly {
    /// The first encoder: images in [-1, 1] `[b, c, 32, 32]` -> latents `[b, nz]`.
    pub fn encode(&self, x: Tensor<4>) -> Tensor<2> {
        self.encoder.forward(x).1
    }

    /// The decoder: latents `[b, nz]` -> images `[b, c, 32, 32]` in (-1, 1).
    pub fn decode(&self, z: Tensor<2>) -> Tensor<4> {
        self.decoder.forward(z)
    }

    /// Runs the generator on images in [-1, 1].
    ///
    /// # Shapes
    /// `x`: `[b, c, 32, 32]`
    pub fn generate(&self, x: Tensor<4>) -> GeneratorOutput {
        let (_, latent) = self.encoder.forward(x);
        let generated = self.decoder.forward(latent.clone());
        let re_encoder = self.re_encoder.as_ref().unwrap_or(&self.encoder);
        let (_, latent_of_generated) = re_encoder.forward(generated.clone());
        GeneratorOutput {
            generated,
            latent,
            latent_of_generated,
        }
    }
}

/// Maps [0, 1] pixels to the model's [-1, 1].
pub(crate) fn to_model_range(x: Tensor<4>) -> Tensor<4> {
    x.mul_scalar(2.0).sub_scalar(1.0)
}

impl Detector for Ganomaly {
    fn detect(&self, x: Tensor<4>) -> Detection {
        let out = self.generate(to_model_range(x.clone()));
        let reconstruction = out.generated.add_scalar(1.0).div_scalar(2.0); // back to [0, 1]
        Detection::from_reconstruction(x, reconstruction)
            .with_model_score(latent_distance(out.latent, out.latent_of_generated))
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::LatentDistance
    }

    fn input_size(&self) -> usize {
        INPUT_SIZE
    }
}

/// GANomaly's discriminator: the encoder shape with a one-channel sigmoid head.
#[derive(Module, Debug)]
pub struct Discriminator {
    encoder: Encoder,
}

impl Discriminator {
    /// A fresh discriminator for `channels`-channel 32x32 images, `features` base maps.
    pub fn new(channels: usize, features: usize, device: &Device) -> Self {
        Self {
            encoder: Encoder::new(channels, features, 1, device),
        }
    }

    /// # Shapes
    /// `x`: `[b, c, 32, 32]` in [-1, 1] -> (probability real `[b]`, features `[b, 4f, 4, 4]`)
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<1>, Tensor<4>) {
        let (features, logit) = self.encoder.forward(x);
        (sigmoid(logit).flatten(0, 1), features)
    }
}
