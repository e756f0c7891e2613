//! Networks: the U-Net generator and the detector that pairs it with the discriminator.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{Device, Tensor};

use crate::combined::{latent_score_field, CombinedStatistics, LatentJudged, LatentScore};
use crate::detector::{fitting_size, Detector, DetectorConfig};
use crate::ganomaly::{to_model_range, Discriminator};
use crate::score::{per_image_mean, Detection, ScoreKind};

/// Sides the networks are built for: the U-Net pools 32x32 down to an 8x8 bottom in two
/// levels and takes one more level per doubling; the discriminator is GANomaly's, which
/// needs multiples of 16. MNIST's 28 is padded to 32.
pub const INPUT_SIZES: [usize; 2] = [32, 64];
/// Skip-GANomaly's own score: what its configuration and its detector report.
const SCORE_KIND: ScoreKind = ScoreKind::SkipGanomaly;
/// Side the U-Net's 8x8 bottom features of an input are pooled to for its neighbour score.
const POOLED: usize = 2;

/// Sizes of Skip-GANomaly's networks and its score weight.
#[derive(Config, Debug, PartialEq)]
pub struct SkipGanomalyConfig {
    /// Side of the square input, in pixels: one of [`INPUT_SIZES`] (another side builds the
    /// next one up, and smaller images are padded to it).
    #[config(default = 32)]
    pub input_size: usize,
    /// Image channels.
    #[config(default = 1)]
    pub channels: usize,
    /// Feature maps of the U-Net's first level (doubled per level) and of the discriminator.
    #[config(default = 64)]
    pub features: usize,
    /// `l` of the score `l * reconstruction + (1 - l) * feature distance`.
    #[config(default = 0.9)]
    pub score_weight: f32,
    /// The score it is judged by: a neighbour score of the U-Net's bottom features of the
    /// input (`Some(ScoreKind::Neighbour)`), fitted after training; `None` (and files from
    /// before it), its source's weighted residual and feature distance.
    pub score: Option<ScoreKind>,
}

impl SkipGanomalyConfig {
    /// The side the networks are built for: the smallest of [`INPUT_SIZES`] that holds
    /// `input_size`, or the largest.
    pub fn built_size(&self) -> usize {
        fitting_size(&INPUT_SIZES, self.input_size)
    }

    /// Builds the U-Net generator on `device`.
    pub fn init_generator(&self, device: &Device) -> UNet {
        let (c, f) = (self.channels, self.features);
        let size = self.built_size();
        // Levels below the second one: one per doubling of 32, so the bottom stays 8x8.
        let extra = (size / INPUT_SIZES[0]).max(1).ilog2() as usize;
        // Level `k` (from 1) has `f << (k - 1)` maps; the bottom is one level below the last.
        let maps = |level: usize| f << (level - 1);
        let up = |cin, cout| {
            ConvTranspose2dConfig::new([cin, cout], [2, 2])
                .with_stride([2, 2])
                .init(device)
        };
        let bottom_level = 3 + extra;
        UNet {
            down_1: DoubleConv::new(c, f, device),
            down_2: DoubleConv::new(f, 2 * f, device),
            bottom: DoubleConv::new(maps(bottom_level - 1), maps(bottom_level), device),
            up_2: up(4 * f, 2 * f),
            merge_2: DoubleConv::new(4 * f, 2 * f, device),
            up_1: up(2 * f, f),
            merge_1: DoubleConv::new(2 * f, f, device),
            out: Conv2dConfig::new([f, c], [1, 1]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            // After the 32x32 layers, so that at 32 the seeded weights are those without them.
            down_more: (3..bottom_level)
                .map(|k| DoubleConv::new(maps(k - 1), maps(k), device))
                .collect(),
            up_more: (3..bottom_level)
                .map(|k| up(maps(k + 1), maps(k)))
                .collect(),
            merge_more: (3..bottom_level)
                .map(|k| DoubleConv::new(2 * maps(k), maps(k), device))
                .collect(),
            input_size: size,
        }
    }

    /// Builds a fresh discriminator (GANomaly's) on `device`.
    pub fn init_discriminator(&self, device: &Device) -> Discriminator {
        Discriminator::new(self.channels, self.features, self.built_size(), device)
    }

    /// Builds the detector, generator and discriminator, on `device`.
    pub fn init(&self, device: &Device) -> SkipGanomaly {
        SkipGanomaly::new(
            self.init_generator(device),
            self.init_discriminator(device),
            self,
        )
    }

    /// Dimensions of what its neighbour score compares: the U-Net's bottom level
    /// (`4f * s/32` maps of 8x8), pooled to 2x2.
    pub fn feature_dim(&self) -> usize {
        4 * self.features * self.built_size() / INPUT_SIZES[0] * POOLED * POOLED
    }
}

impl DetectorConfig for SkipGanomalyConfig {
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

/// Two 3x3 convolutions, each with batch normalisation and ReLU (a U-Net level).
#[derive(Module, Debug)]
pub struct DoubleConv {
    conv_1: Conv2d,
    norm_1: BatchNorm,
    conv_2: Conv2d,
    norm_2: BatchNorm,
}

impl DoubleConv {
    fn new(cin: usize, cout: usize, device: &Device) -> Self {
        let conv = |cin, cout| {
            Conv2dConfig::new([cin, cout], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        Self {
            conv_1: conv(cin, cout),
            norm_1: BatchNormConfig::new(cout).init(device),
            conv_2: conv(cout, cout),
            norm_2: BatchNormConfig::new(cout).init(device),
        }
    }

    /// # Shapes
    /// `[b, cin, s, s]` -> `[b, cout, s, s]`
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let h = relu(self.norm_1.forward(self.conv_1.forward(x)));
        relu(self.norm_2.forward(self.conv_2.forward(h)))
    }
}

/// The U-Net generator: two down levels at 32x32 (three at 64x64), an 8x8 bottom, as many
/// up levels joined to the down ones.
#[derive(Module, Debug)]
pub struct UNet {
    down_1: DoubleConv,
    down_2: DoubleConv,
    bottom: DoubleConv,
    up_2: ConvTranspose2d,
    merge_2: DoubleConv,
    up_1: ConvTranspose2d,
    merge_1: DoubleConv,
    out: Conv2d,
    pool: MaxPool2d,
    /// Down levels below `down_2` of inputs larger than 32x32 (level 3 at 64), `2f -> 4f`.
    down_more: Vec<DoubleConv>,
    /// Up-sampling into each level of `down_more` (from the level below), same order.
    up_more: Vec<ConvTranspose2d>,
    /// Each level of `down_more`'s merge of its skip and its up-sampling, same order.
    merge_more: Vec<DoubleConv>,
    input_size: usize,
}

impl UNet {
    /// Generates `x^` from images in [-1, 1].
    ///
    /// # Shapes
    /// `x`: `[b, c, s, s]` -> `[b, c, s, s]` in (-1, 1)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_with_bottom(x).0
    }

    /// Generates `x^` from images in [-1, 1], with the bottom level's features.
    ///
    /// # Shapes
    /// `x`: `[b, c, s, s]` -> (`[b, c, s, s]` in (-1, 1), `[b, 4f * s/32, 8, 8]`)
    pub fn forward_with_bottom(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let skip_1 = self.down_1.forward(x); // [b, f, s, s]
        let skip_2 = self.down_2.forward(self.pool.forward(skip_1.clone())); // [b, 2f, s/2, s/2]
        let mut deeper = Vec::with_capacity(self.down_more.len());
        let mut h = skip_2.clone();
        for down in &self.down_more {
            h = down.forward(self.pool.forward(h)); // [b, 4f, 16, 16] at 64
            deeper.push(h.clone());
        }
        let bottom = self.bottom.forward(self.pool.forward(h)); // [b, 4f * s/32, 8, 8]
        let mut h = bottom.clone();
        let levels = self.up_more.iter().zip(&self.merge_more).zip(deeper);
        for ((up, merge), skip) in levels.rev() {
            h = merge.forward(Tensor::cat(vec![skip, up.forward(h)], 1)); // [b, 4f, 16, 16] at 64
        }
        let up_2 = self.up_2.forward(h); // [b, 2f, s/2, s/2]
        let h = self.merge_2.forward(Tensor::cat(vec![skip_2, up_2], 1)); // [b, 2f, s/2, s/2]
        let up_1 = self.up_1.forward(h); // [b, f, s, s]
        let h = self.merge_1.forward(Tensor::cat(vec![skip_1, up_1], 1)); // [b, f, s, s]
        (tanh(self.out.forward(h)), bottom) // [b, c, s, s]
    }
}

/// The trained detector: generator plus the discriminator whose features it is scored by.
#[derive(Module, Debug)]
pub struct SkipGanomaly {
    /// The U-Net.
    pub generator: UNet,
    /// The discriminator, for the feature distance of the score.
    pub discriminator: Discriminator,
    score_weight: f32,
    /// The neighbour score it is judged by, with its statistics (kept in the checkpoint
    /// header, not the weights); `None`: its source's score.
    #[module(skip)]
    latent_score: Option<LatentScore>,
}

impl SkipGanomaly {
    /// Pairs a trained generator with its discriminator, scored as `config` says (its
    /// neighbour score unfitted).
    pub fn new(generator: UNet, discriminator: Discriminator, config: &SkipGanomalyConfig) -> Self {
        Self {
            generator,
            discriminator,
            score_weight: config.score_weight,
            latent_score: LatentScore::unfitted(config.score, config.feature_dim()),
        }
    }
}

impl LatentJudged for SkipGanomaly {
    latent_score_field!();

    /// The source's detection, scored by `l` residual + `(1 - l)` feature distance, with
    /// the U-Net's bottom features of the input pooled to 2x2 (the skips bypass them, but
    /// they are the deepest summary of the image it has).
    fn detect_with_latent(&self, input: Tensor<4>, clean: Tensor<4>) -> (Tensor<2>, Detection) {
        let (generated, bottom) = self.generator.forward_with_bottom(to_model_range(input));
        // The discriminator was trained on clean images in the model's range.
        let (_, real) = self.discriminator.forward(to_model_range(clean.clone()));
        let (_, fake) = self.discriminator.forward(generated.clone());
        let reconstruction = generated.add_scalar(1.0).div_scalar(2.0); // back to [0, 1]
        let detection = Detection::from_reconstruction(clean, reconstruction);
        // The residual is the mean of the difference map the detection already holds.
        let residual = per_image_mean(detection.difference.clone());
        let feature = per_image_mean((real - fake).square());
        let l = self.score_weight;
        let latent = adaptive_avg_pool2d(bottom, [POOLED, POOLED]).flatten(1, 3); // [b, 4f * s/32 * 4]
        let detection =
            detection.with_model_score(residual.mul_scalar(l) + feature.mul_scalar(1.0 - l));
        (latent, detection)
    }
}

impl Detector for SkipGanomaly {
    fn detect_from(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection {
        self.judged_detection(input, clean)
    }

    fn input_size(&self) -> usize {
        self.generator.input_size
    }

    fn score_kind(&self) -> ScoreKind {
        self.judged_score_kind(SCORE_KIND)
    }

    fn combined_statistics(&self) -> Option<&CombinedStatistics> {
        self.judged_statistics()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_u_net_keeps_the_image_shape() {
        let device = Device::flex();
        let generator = SkipGanomalyConfig::new()
            .with_features(4)
            .init_generator(&device);
        let out = generator.forward(Tensor::zeros([2, 1, 32, 32], &device));
        assert_eq!(out.dims(), [2, 1, 32, 32]);
    }

    #[test]
    fn a_64_input_takes_one_more_level() {
        let device = Device::flex();
        for channels in [1, 3] {
            let config = SkipGanomalyConfig::new()
                .with_input_size(64)
                .with_channels(channels)
                .with_features(2);
            let model = config.init(&device);
            assert_eq!(model.input_size(), 64);
            assert_eq!(model.generator.down_more.len(), 1);
            let x = Tensor::zeros([2, channels, 64, 64], &device);
            assert_eq!(model.generator.forward(x).dims(), [2, channels, 64, 64]);
        }
    }
}
