//! Networks: the U-Net generator and the detector that pairs it with the discriminator.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor};

use crate::detector::Detector;
use crate::ganomaly::{to_model_range, Discriminator};
use crate::score::{per_image_mean, Detection, ScoreKind};

/// Side of the square input, in pixels (MNIST's 28 is padded to it).
pub const INPUT_SIZE: usize = 32;

/// Sizes of Skip-GANomaly's networks and its score weight.
#[derive(Config, Debug, PartialEq)]
pub struct SkipGanomalyConfig {
    /// Image channels.
    #[config(default = 1)]
    pub channels: usize,
    /// Feature maps of the U-Net's first level (doubled per level) and of the discriminator.
    #[config(default = 64)]
    pub features: usize,
    /// `l` of the score `l * reconstruction + (1 - l) * feature distance`.
    #[config(default = 0.9)]
    pub score_weight: f32,
}

impl SkipGanomalyConfig {
    /// Builds the U-Net generator on `device`.
    pub fn init_generator(&self, device: &Device) -> UNet {
        let (c, f) = (self.channels, self.features);
        let up = |cin, cout| {
            ConvTranspose2dConfig::new([cin, cout], [2, 2])
                .with_stride([2, 2])
                .init(device)
        };
        UNet {
            down_1: DoubleConv::new(c, f, device),
            down_2: DoubleConv::new(f, 2 * f, device),
            bottom: DoubleConv::new(2 * f, 4 * f, device),
            up_2: up(4 * f, 2 * f),
            merge_2: DoubleConv::new(4 * f, 2 * f, device),
            up_1: up(2 * f, f),
            merge_1: DoubleConv::new(2 * f, f, device),
            out: Conv2dConfig::new([f, c], [1, 1]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        }
    }

    /// Builds a fresh discriminator (GANomaly's) on `device`.
    pub fn init_discriminator(&self, device: &Device) -> Discriminator {
        Discriminator::new(self.channels, self.features, INPUT_SIZE, device)
    }

    /// Builds the detector, generator and discriminator, on `device`.
    pub fn init(&self, device: &Device) -> SkipGanomaly {
        SkipGanomaly::new(
            self.init_generator(device),
            self.init_discriminator(device),
            self.score_weight,
        )
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

/// The U-Net generator: two down levels, a bottom, two up levels joined to the down ones.
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
}

impl UNet {
    /// Generates `x^` from images in [-1, 1].
    ///
    /// # Shapes
    /// `x`: `[b, c, 32, 32]` -> `[b, c, 32, 32]` in (-1, 1)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let skip_1 = self.down_1.forward(x); // [b, f, 32, 32]
        let skip_2 = self.down_2.forward(self.pool.forward(skip_1.clone())); // [b, 2f, 16, 16]
        let bottom = self.bottom.forward(self.pool.forward(skip_2.clone())); // [b, 4f, 8, 8]
        let up_2 = self.up_2.forward(bottom); // [b, 2f, 16, 16]
        let h = self.merge_2.forward(Tensor::cat(vec![skip_2, up_2], 1)); // [b, 2f, 16, 16]
        let up_1 = self.up_1.forward(h); // [b, f, 32, 32]
        let h = self.merge_1.forward(Tensor::cat(vec![skip_1, up_1], 1)); // [b, f, 32, 32]
        tanh(self.out.forward(h)) // [b, c, 32, 32]
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
}

impl SkipGanomaly {
    /// Pairs a trained generator with its discriminator.
    pub fn new(generator: UNet, discriminator: Discriminator, score_weight: f32) -> Self {
        Self {
            generator,
            discriminator,
            score_weight,
        }
    }
}

impl Detector for SkipGanomaly {
    fn detect(&self, x: Tensor<4>) -> Detection {
        let input = to_model_range(x.clone());
        let generated = self.generator.forward(input.clone());
        let (_, real) = self.discriminator.forward(input);
        let (_, fake) = self.discriminator.forward(generated.clone());
        let reconstruction = generated.add_scalar(1.0).div_scalar(2.0); // back to [0, 1]
        let detection = Detection::from_reconstruction(x, reconstruction);
        // The residual is the mean of the difference map the detection already holds.
        let residual = per_image_mean(detection.difference.clone());
        let feature = per_image_mean((real - fake).square());
        let l = self.score_weight;
        detection.with_model_score(residual.mul_scalar(l) + feature.mul_scalar(1.0 - l))
    }

    fn input_size(&self) -> usize {
        INPUT_SIZE
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::SkipGanomaly
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
}
