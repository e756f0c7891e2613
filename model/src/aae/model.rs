//! Networks: convolutional encoder and decoder, the latent discriminator.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};

use crate::combined::{latent_score_field, CombinedStatistics, LatentJudged, LatentScore};
use crate::detector::{fitting_size, Detector, DetectorConfig};
use crate::hotelling::Hotelling;
use crate::score::{Detection, ScoreKind};

/// Sides the network is built for: seed 002's best 32 with three stride-2 blocks, 64 with a
/// fourth. MNIST's 28 is padded to 32.
pub const INPUT_SIZES: [usize; 2] = [32, 64];
const LEAKY_SLOPE: f64 = 0.2;
/// Side of the feature map after the last block: 32 / 2^3, 64 / 2^4.
const BOTTOM: usize = 4;
/// The AAE's own score, Hotelling's T² of the latent: what its configuration and its
/// detector report.
const SCORE_KIND: ScoreKind = ScoreKind::HotellingT2;

/// Sizes of the adversarial autoencoder (seed 002: 3 blocks, bottleneck >= 12).
#[derive(Config, Debug, PartialEq)]
pub struct AaeConfig {
    /// Side of the square input, in pixels: one of [`INPUT_SIZES`] (another side builds the
    /// next one up, and smaller images are padded to it).
    #[config(default = 32)]
    pub input_size: usize,
    /// Image channels.
    #[config(default = 1)]
    pub channels: usize,
    /// Feature maps of the first block (doubled per block).
    #[config(default = 32)]
    pub features: usize,
    /// Bottleneck dimensions; seed 002 found at least 12 needed.
    #[config(default = 16)]
    pub latent: usize,
    /// Hidden width of the latent discriminator.
    #[config(default = 64)]
    pub discriminator_hidden: usize,
    /// The score it is judged by: a neighbour score of its latent
    /// (`Some(ScoreKind::Neighbour)`), fitted after training; `None` (and files from before
    /// it), its source's Hotelling T².
    pub score: Option<ScoreKind>,
}

impl AaeConfig {
    /// The side the network is built for: the smallest of [`INPUT_SIZES`] that holds
    /// `input_size`, or the largest.
    pub fn built_size(&self) -> usize {
        fitting_size(&INPUT_SIZES, self.input_size)
    }

    /// Builds the autoencoder on `device`; its T² statistics start as `N(0, I)`.
    pub fn init(&self, device: &Device) -> Aae {
        let (c, f, d) = (self.channels, self.features, self.latent);
        let size = self.built_size();
        // Blocks after the third: one per doubling of 32, so the last map stays 4x4.
        let extra = (size / INPUT_SIZES[0]).max(1).ilog2() as usize;
        let conv = |cin, cout| {
            Conv2dConfig::new([cin, cout], [4, 4])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        let deconv = |cin, cout| {
            ConvTranspose2dConfig::new([cin, cout], [4, 4])
                .with_stride([2, 2])
                .with_padding([1, 1])
                .init(device)
        };
        let norm = |n| BatchNormConfig::new(n).init(device);
        let flat = ((4 * f) << extra) * BOTTOM * BOTTOM;
        Aae {
            enc_1: conv(c, f),
            enc_2: conv(f, 2 * f),
            enc_norm_2: norm(2 * f),
            enc_3: conv(2 * f, 4 * f),
            enc_norm_3: norm(4 * f),
            to_latent: LinearConfig::new(flat, d).init(device),
            from_latent: LinearConfig::new(d, flat).init(device),
            dec_3: deconv(4 * f, 2 * f),
            dec_norm_3: norm(2 * f),
            dec_2: deconv(2 * f, f),
            dec_norm_2: norm(f),
            dec_1: deconv(f, c),
            features: f,
            hotelling: Hotelling::standard(d),
            // After the 32x32 layers, so that at 32 the seeded weights are those without them.
            enc_more: (0..extra)
                .map(|i| Block {
                    conv: conv((4 * f) << i, (4 * f) << (i + 1)),
                    norm: norm((4 * f) << (i + 1)),
                })
                .collect(),
            dec_more: (0..extra)
                .rev()
                .map(|i| DeconvBlock {
                    deconv: deconv((4 * f) << (i + 1), (4 * f) << i),
                    norm: norm((4 * f) << i),
                })
                .collect(),
            input_size: size,
            latent_score: LatentScore::unfitted(self.score, d),
        }
    }

    /// Builds a fresh latent discriminator on `device`.
    pub fn init_discriminator(&self, device: &Device) -> LatentDiscriminator {
        let h = self.discriminator_hidden;
        LatentDiscriminator {
            hidden_1: LinearConfig::new(self.latent, h).init(device),
            hidden_2: LinearConfig::new(h, h).init(device),
            out: LinearConfig::new(h, 1).init(device),
        }
    }
}

impl DetectorConfig for AaeConfig {
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

/// The adversarial autoencoder; build it with [`AaeConfig::init`].
#[derive(Module, Debug)]
pub struct Aae {
    enc_1: Conv2d,
    enc_2: Conv2d,
    enc_norm_2: BatchNorm,
    enc_3: Conv2d,
    enc_norm_3: BatchNorm,
    to_latent: Linear,
    from_latent: Linear,
    dec_3: ConvTranspose2d,
    dec_norm_3: BatchNorm,
    dec_2: ConvTranspose2d,
    dec_norm_2: BatchNorm,
    dec_1: ConvTranspose2d,
    features: usize,
    /// T² statistics of the training latents (kept in the checkpoint header, not the weights).
    #[module(skip)]
    hotelling: Hotelling,
    /// Encoder blocks after `enc_3` of inputs larger than 32x32 (one at 64), `4f -> 8f`.
    enc_more: Vec<Block>,
    /// Decoder blocks before `dec_3`, mirroring `enc_more`.
    dec_more: Vec<DeconvBlock>,
    input_size: usize,
    /// The neighbour score it is judged by, with its statistics (kept in the checkpoint
    /// header, not the weights); `None`: its source's T².
    #[module(skip)]
    latent_score: Option<LatentScore>,
}

/// One more encoder block: stride-2 convolution, batch norm (LeakyReLU in the forward pass).
#[derive(Module, Debug)]
pub struct Block {
    conv: Conv2d,
    norm: BatchNorm,
}

/// One more decoder block: stride-2 transposed convolution, batch norm (LeakyReLU after).
#[derive(Module, Debug)]
pub struct DeconvBlock {
    deconv: ConvTranspose2d,
    norm: BatchNorm,
}

impl Aae {
    /// Encodes images to latent vectors.
    ///
    /// # Shapes
    /// `x`: `[b, c, s, s]` in [0, 1] -> `[b, latent]`
    pub fn encode(&self, x: Tensor<4>) -> Tensor<2> {
        let h = leaky_relu(self.enc_1.forward(x), LEAKY_SLOPE); // [b, f, s/2, s/2]
        let h = leaky_relu(self.enc_norm_2.forward(self.enc_2.forward(h)), LEAKY_SLOPE); // [b, 2f, s/4, s/4]
        let h = leaky_relu(self.enc_norm_3.forward(self.enc_3.forward(h)), LEAKY_SLOPE); // [b, 4f, s/8, s/8]
        let h = self.enc_more.iter().fold(h, |h, block| {
            leaky_relu(block.norm.forward(block.conv.forward(h)), LEAKY_SLOPE)
        }); // [b, 4f * s/32, 4, 4]
        self.to_latent.forward(h.flatten(1, 3))
    }

    /// Decodes latent vectors to images.
    ///
    /// # Shapes
    /// `z`: `[b, latent]` -> `[b, c, s, s]` in (0, 1)
    pub fn decode(&self, z: Tensor<2>) -> Tensor<4> {
        let [batch, _] = z.dims();
        let bottom_maps = (4 * self.features) << self.dec_more.len();
        let h = self
            .from_latent
            .forward(z)
            .reshape([batch, bottom_maps, BOTTOM, BOTTOM]);
        let h = leaky_relu(h, LEAKY_SLOPE); // [b, 4f * s/32, 4, 4]
        let h = self.dec_more.iter().fold(h, |h, block| {
            leaky_relu(block.norm.forward(block.deconv.forward(h)), LEAKY_SLOPE)
        }); // [b, 4f, s/8, s/8]
        let h = leaky_relu(self.dec_norm_3.forward(self.dec_3.forward(h)), LEAKY_SLOPE); // [b, 2f, s/4, s/4]
        let h = leaky_relu(self.dec_norm_2.forward(self.dec_2.forward(h)), LEAKY_SLOPE); // [b, f, s/2, s/2]
        sigmoid(self.dec_1.forward(h)) // [b, c, s, s]
    }

    /// The T² statistics the score uses.
    pub fn hotelling(&self) -> &Hotelling {
        &self.hotelling
    }

    /// The same model scored against `statistics` (fitted on its training latents).
    pub fn with_hotelling(mut self, statistics: Hotelling) -> Self {
        self.hotelling = statistics;
        self
    }

    /// Hotelling's T² of each latent.
    ///
    /// # Shapes
    /// `z`: `[b, latent]` -> `[b]`
    pub fn t2(&self, z: Tensor<2>) -> Tensor<1> {
        let [batch, dim] = z.dims();
        let device = z.device();
        let h = &self.hotelling;
        let mean = Tensor::<1>::from_data(TensorData::new(h.mean.clone(), [dim]), &device);
        let inverse = Tensor::<2>::from_data(
            TensorData::new(h.inverse_covariance.clone(), [dim, dim]),
            &device,
        );
        let d = z - mean.unsqueeze::<2>(); // [b, d]
        (d.clone().matmul(inverse) * d).sum_dim(1).reshape([batch])
    }
}

impl LatentJudged for Aae {
    latent_score_field!();

    /// The source's detection, scored by T², with the latent.
    fn detect_with_latent(&self, input: Tensor<4>, clean: Tensor<4>) -> (Tensor<2>, Detection) {
        let z = self.encode(input);
        let reconstruction = self.decode(z.clone());
        let detection = Detection::from_reconstruction(clean, reconstruction)
            .with_model_score(self.t2(z.clone()));
        (z, detection)
    }
}

impl Detector for Aae {
    fn detect_from(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection {
        self.judged_detection(input, clean)
    }

    fn input_size(&self) -> usize {
        self.input_size
    }

    fn score_kind(&self) -> ScoreKind {
        self.judged_score_kind(SCORE_KIND)
    }

    fn combined_statistics(&self) -> Option<&CombinedStatistics> {
        self.judged_statistics()
    }

    fn fitted_statistics(&self) -> Option<&Hotelling> {
        Some(&self.hotelling)
    }
}

/// The latent discriminator: is `z` a sample of `N(0, I)` or an encoding?
#[derive(Module, Debug)]
pub struct LatentDiscriminator {
    hidden_1: Linear,
    hidden_2: Linear,
    out: Linear,
}

impl LatentDiscriminator {
    /// # Shapes
    /// `z`: `[b, latent]` -> probability of "prior sample" `[b]`
    pub fn forward(&self, z: Tensor<2>) -> Tensor<1> {
        let h = leaky_relu(self.hidden_1.forward(z), LEAKY_SLOPE);
        let h = leaky_relu(self.hidden_2.forward(h), LEAKY_SLOPE);
        sigmoid(self.out.forward(h)).flatten(0, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_blocks_to_the_bottleneck_and_back() {
        let device = Device::flex();
        let config = AaeConfig::new().with_features(4).with_latent(12);
        let model = config.init(&device);
        let z = model.encode(Tensor::zeros([2, 1, 32, 32], &device));
        assert_eq!(z.dims(), [2, 12]);
        assert_eq!(model.decode(z.clone()).dims(), [2, 1, 32, 32]);
        assert_eq!(config.init_discriminator(&device).forward(z).dims(), [2]);
    }

    #[test]
    fn four_blocks_at_64() {
        let device = Device::flex();
        for channels in [1, 3] {
            let config = AaeConfig::new()
                .with_input_size(64)
                .with_channels(channels)
                .with_features(4)
                .with_latent(12);
            let model = config.init(&device);
            assert_eq!(model.input_size(), 64);
            let z = model.encode(Tensor::zeros([2, channels, 64, 64], &device));
            assert_eq!(z.dims(), [2, 12]);
            assert_eq!(model.decode(z).dims(), [2, channels, 64, 64]);
        }
    }

    #[test]
    fn t2_against_the_prior_is_the_squared_norm() {
        let device = Device::flex();
        let model = AaeConfig::new()
            .with_features(4)
            .with_latent(2)
            .init(&device);
        let t2 = model.t2(Tensor::from_floats([[3.0, 4.0], [0.0, 1.0]], &device));
        assert_eq!(
            t2.into_data().try_into_vec::<f32>().unwrap(),
            vec![25.0, 1.0]
        );
    }
}
