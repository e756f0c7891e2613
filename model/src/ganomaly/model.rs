//! Networks: DCGAN encoder and decoder, the generator and the discriminator.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor};

use crate::combined::{latent_score_field, CombinedStatistics, LatentJudged, LatentScore};
use crate::detector::{fitting_size, Detector, DetectorConfig};
use crate::score::{latent_distance, Detection, ScoreKind};

/// Sides the networks are built for. The reference DCGAN halves the side down to 4x4 (so it
/// needs multiples of 16) with one pyramid layer per halving: two at 32, three at 64.
/// MNIST's 28 is padded to 32.
pub const INPUT_SIZES: [usize; 2] = [32, 64];
const LEAKY_SLOPE: f64 = 0.2;
/// GANomaly's own score, `mean((z - z^)^2)`: what its configuration and its detector report.
const SCORE_KIND: ScoreKind = ScoreKind::LatentDistance;

/// Sizes of GANomaly's networks (defaults from the reference code).
#[derive(Config, Debug, PartialEq)]
pub struct GanomalyConfig {
    /// Side of the square input, in pixels: one of [`INPUT_SIZES`] (another side builds the
    /// next one up, and smaller images are padded to it).
    #[config(default = 32)]
    pub input_size: usize,
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
    /// The score it is judged by: a neighbour score of the first encoder's latent
    /// (`Some(ScoreKind::Neighbour)`), fitted after training; `None` (and files from before
    /// it), its source's own latent distance `mean((z - z^)^2)`.
    pub score: Option<ScoreKind>,
}

impl GanomalyConfig {
    /// The side the networks are built for: the smallest of [`INPUT_SIZES`] that holds
    /// `input_size`, or the largest.
    pub fn built_size(&self) -> usize {
        fitting_size(&INPUT_SIZES, self.input_size)
    }

    /// Builds the generator on `device`.
    pub fn init(&self, device: &Device) -> Ganomaly {
        let size = self.built_size();
        let encoder = || Encoder::new(self.channels, self.features, self.latent, size, device);
        Ganomaly {
            encoder: encoder(),
            decoder: Decoder::new(self.channels, self.features, self.latent, size, device),
            re_encoder: (!self.shared_encoder).then(encoder),
            input_size: size,
            latent_score: LatentScore::unfitted(self.score, self.latent),
        }
    }

    /// Builds a fresh discriminator on `device`.
    pub fn init_discriminator(&self, device: &Device) -> Discriminator {
        Discriminator::new(self.channels, self.features, self.built_size(), device)
    }
}

impl DetectorConfig for GanomalyConfig {
    fn input_size(&self) -> usize {
        self.built_size()
    }

    fn channels(&self) -> usize {
        self.channels
    }

    fn score_kind(&self) -> ScoreKind {
        LatentScore::chosen_kind(self.score, SCORE_KIND)
    }

    fn for_input(self, size: usize, channels: usize) -> Self {
        let config = self.with_input_size(size).with_channels(channels);
        let built = config.built_size();
        config.with_input_size(built)
    }
}

/// Pyramid layers beyond the two of a 32x32 input: one per doubling of the side.
fn extra_pyramid_layers(size: usize) -> usize {
    (size / INPUT_SIZES[0]).max(1).ilog2() as usize
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

/// One more pyramid level of the encoder: stride-2 convolution, batch norm, LeakyReLU.
#[derive(Module, Debug)]
pub struct EncoderLevel {
    conv: Conv2d,
    norm: BatchNorm,
}

impl EncoderLevel {
    fn new(cin: usize, cout: usize, device: &Device) -> Self {
        Self {
            conv: conv(cin, cout, 2, 1, device),
            norm: BatchNormConfig::new(cout).init(device),
        }
    }

    /// # Shapes
    /// `[b, cin, s, s]` -> `[b, cout, s/2, s/2]`
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        leaky_relu(self.norm.forward(self.conv.forward(x)), LEAKY_SLOPE)
    }
}

/// One more pyramid level of the decoder: stride-2 transposed convolution, batch norm, ReLU.
#[derive(Module, Debug)]
pub struct DecoderLevel {
    deconv: ConvTranspose2d,
    norm: BatchNorm,
}

impl DecoderLevel {
    fn new(cin: usize, cout: usize, device: &Device) -> Self {
        Self {
            deconv: deconv(cin, cout, 2, 1, device),
            norm: BatchNormConfig::new(cout).init(device),
        }
    }

    /// # Shapes
    /// `[b, cin, s, s]` -> `[b, cout, 2s, 2s]`
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.norm.forward(self.deconv.forward(x)))
    }
}

/// DCGAN encoder: `[b, c, s, s]` -> features `[b, 4f * s/32, 4, 4]` and output
/// `[b, out, 1, 1]`.
#[derive(Module, Debug)]
pub struct Encoder {
    initial: Conv2d,
    pyramid_1: Conv2d,
    norm_1: BatchNorm,
    pyramid_2: Conv2d,
    norm_2: BatchNorm,
    last: Conv2d,
    /// The pyramid layers after `pyramid_2` of inputs larger than 32x32 (one at 64), each
    /// doubling the channels, as the reference adds them while the map is larger than 4x4.
    pyramid_more: Vec<EncoderLevel>,
}

impl Encoder {
    fn new(channels: usize, f: usize, out: usize, size: usize, device: &Device) -> Self {
        let extra = extra_pyramid_layers(size);
        Self {
            initial: conv(channels, f, 2, 1, device),
            pyramid_1: conv(f, 2 * f, 2, 1, device),
            norm_1: BatchNormConfig::new(2 * f).init(device),
            pyramid_2: conv(2 * f, 4 * f, 2, 1, device),
            norm_2: BatchNormConfig::new(4 * f).init(device),
            last: conv((4 * f) << extra, out, 1, 0, device),
            // After the 32x32 layers, so that at 32 the seeded weights are those without them.
            pyramid_more: (0..extra)
                .map(|i| EncoderLevel::new((4 * f) << i, (4 * f) << (i + 1), device))
                .collect(),
        }
    }

    /// # Shapes
    /// `[b, c, s, s]` -> (features `[b, 4f * s/32, 4, 4]`, output `[b, out]`)
    fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<2>) {
        let h = leaky_relu(self.initial.forward(x), LEAKY_SLOPE); // [b, f, s/2, s/2]
        let h = leaky_relu(self.norm_1.forward(self.pyramid_1.forward(h)), LEAKY_SLOPE); // [b, 2f, s/4, s/4]
        let h = leaky_relu(self.norm_2.forward(self.pyramid_2.forward(h)), LEAKY_SLOPE); // [b, 4f, s/8, s/8]
        let features = self
            .pyramid_more
            .iter()
            .fold(h, |h, level| level.forward(h)); // [b, 4f * s/32, 4, 4]
        let out = self.last.forward(features.clone()); // [b, out, 1, 1]
        (features, out.flatten(1, 3))
    }
}

/// DCGAN decoder: `[b, nz]` -> `[b, c, s, s]` in (-1, 1).
#[derive(Module, Debug)]
pub struct Decoder {
    initial: ConvTranspose2d,
    norm_0: BatchNorm,
    pyramid_1: ConvTranspose2d,
    norm_1: BatchNorm,
    pyramid_2: ConvTranspose2d,
    norm_2: BatchNorm,
    last: ConvTranspose2d,
    /// The pyramid layers before `pyramid_1` of outputs larger than 32x32 (one at 64), each
    /// halving the channels, as the reference starts wider for larger images.
    pyramid_more: Vec<DecoderLevel>,
}

impl Decoder {
    fn new(channels: usize, f: usize, latent: usize, size: usize, device: &Device) -> Self {
        let extra = extra_pyramid_layers(size);
        let top = (4 * f) << extra;
        Self {
            initial: deconv(latent, top, 1, 0, device),
            norm_0: BatchNormConfig::new(top).init(device),
            pyramid_1: deconv(4 * f, 2 * f, 2, 1, device),
            norm_1: BatchNormConfig::new(2 * f).init(device),
            pyramid_2: deconv(2 * f, f, 2, 1, device),
            norm_2: BatchNormConfig::new(f).init(device),
            last: deconv(f, channels, 2, 1, device),
            // After the 32x32 layers, so that at 32 the seeded weights are those without them.
            pyramid_more: (0..extra)
                .rev()
                .map(|i| DecoderLevel::new((4 * f) << (i + 1), (4 * f) << i, device))
                .collect(),
        }
    }

    /// # Shapes
    /// `[b, nz]` -> `[b, c, s, s]`
    fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let [batch, latent] = z.dims();
        let z = z.reshape([batch, latent, 1, 1]);
        let h = relu(self.norm_0.forward(self.initial.forward(z))); // [b, 4f * s/32, 4, 4]
        let h = self
            .pyramid_more
            .iter()
            .fold(h, |h, level| level.forward(h)); // [b, 4f, s/8, s/8]
        let h = relu(self.norm_1.forward(self.pyramid_1.forward(h))); // [b, 2f, s/4, s/4]
        let h = relu(self.norm_2.forward(self.pyramid_2.forward(h))); // [b, f, s/2, s/2]
        tanh(self.last.forward(h)) // [b, c, s, s]
    }
}

/// GANomaly's generator (encoder-decoder-encoder); build it with [`GanomalyConfig::init`].
#[derive(Module, Debug)]
pub struct Ganomaly {
    encoder: Encoder,
    decoder: Decoder,
    /// `None` when the second encoder shares the first one's weights.
    re_encoder: Option<Encoder>,
    input_size: usize,
    /// The neighbour score it is judged by, with its statistics (kept in the checkpoint
    /// header, not the weights); `None`: its source's latent distance.
    #[module(skip)]
    latent_score: Option<LatentScore>,
}

/// What one generator pass produces, in the model's [-1, 1] pixel range.
#[derive(Debug, Clone)]
pub struct GeneratorOutput {
    /// The generated image `x^`, `[b, c, s, s]`.
    pub generated: Tensor<4>,
    /// Latent of the input `z`, `[b, nz]`.
    pub latent: Tensor<2>,
    /// Latent of the generated image `z^`, `[b, nz]`.
    pub latent_of_generated: Tensor<2>,
}

impl Ganomaly {
    /// The first encoder: images in [-1, 1] `[b, c, s, s]` -> latents `[b, nz]`.
    pub fn encode(&self, x: Tensor<4>) -> Tensor<2> {
        self.encoder.forward(x).1
    }

    /// The decoder: latents `[b, nz]` -> images `[b, c, s, s]` in (-1, 1).
    pub fn decode(&self, z: Tensor<2>) -> Tensor<4> {
        self.decoder.forward(z)
    }

    /// Runs the generator on images in [-1, 1].
    ///
    /// # Shapes
    /// `x`: `[b, c, s, s]`
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

impl LatentJudged for Ganomaly {
    latent_score_field!();

    /// The source's detection, scored by `mean((z - z^)^2)`, with the first encoder's `z`.
    fn detect_with_latent(&self, input: Tensor<4>, clean: Tensor<4>) -> (Tensor<2>, Detection) {
        let out = self.generate(to_model_range(input));
        let reconstruction = out.generated.add_scalar(1.0).div_scalar(2.0); // back to [0, 1]
        let detection = Detection::from_reconstruction(clean, reconstruction)
            .with_model_score(latent_distance(out.latent.clone(), out.latent_of_generated));
        (out.latent, detection)
    }
}

impl Detector for Ganomaly {
    fn detect_from(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection {
        self.judged_detection(input, clean)
    }

    fn score_kind(&self) -> ScoreKind {
        self.judged_score_kind(SCORE_KIND)
    }

    fn combined_statistics(&self) -> Option<&CombinedStatistics> {
        self.judged_statistics()
    }

    fn input_size(&self) -> usize {
        self.input_size
    }
}

/// GANomaly's discriminator: the encoder shape with a one-channel sigmoid head.
#[derive(Module, Debug)]
pub struct Discriminator {
    encoder: Encoder,
}

impl Discriminator {
    /// A fresh discriminator for `channels`-channel `size` x `size` images (one of
    /// [`INPUT_SIZES`]), `features` base maps.
    pub fn new(channels: usize, features: usize, size: usize, device: &Device) -> Self {
        Self {
            encoder: Encoder::new(channels, features, 1, size, device),
        }
    }

    /// # Shapes
    /// `x`: `[b, c, s, s]` in [-1, 1] -> (probability real `[b]`, features
    /// `[b, 4f * s/32, 4, 4]`)
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<1>, Tensor<4>) {
        let (features, logit) = self.encoder.forward(x);
        (sigmoid(logit).flatten(0, 1), features)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_generates_its_own_shape() {
        let device = Device::flex();
        for (size, channels) in [(32, 1), (32, 3), (64, 1), (64, 3)] {
            let config = GanomalyConfig::new()
                .with_input_size(size)
                .with_channels(channels)
                .with_features(4)
                .with_latent(8);
            let model = config.init(&device);
            assert_eq!(model.input_size(), size);
            let out = model.generate(Tensor::zeros([2, channels, size, size], &device));
            assert_eq!(out.generated.dims(), [2, channels, size, size]);
            assert_eq!(out.latent_of_generated.dims(), [2, 8]);
            let (p, features) = config.init_discriminator(&device).forward(out.generated);
            assert_eq!(p.dims(), [2]);
            assert_eq!(features.dims(), [2, 4 * 4 * size / 32, 4, 4]);
        }
    }

    #[test]
    fn mnist_sides_build_the_32_network() {
        assert_eq!(GanomalyConfig::new().with_input_size(28).built_size(), 32);
        assert_eq!(GanomalyConfig::new().with_input_size(33).built_size(), 64);
    }
}
