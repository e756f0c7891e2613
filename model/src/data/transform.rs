//! Pixel transforms: input normalisation, resizing and gray <-> RGB conversion.

use serde::{Deserialize, Serialize};

use super::{DataError, Images};

/// ITU-R BT.601 luma weights of R, G and B (the weights of PIL's and OpenCV's gray).
pub const LUMA_WEIGHTS: [f32; 3] = [0.299, 0.587, 0.114];

/// Smallest standard deviation standardisation divides by: one grey level of an 8-bit
/// image, so a channel that is constant on the fitted set does not blow up tiny
/// differences elsewhere (a one-level change stays at one sigma).
pub const MIN_STD: f32 = 1.0 / 255.0;

/// How pixels are scaled before they reach a model; saved with it, and inverted to show
/// reconstructions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum Normalisation {
    /// Pixels as loaded, in [0, 1] (the default): apply and invert change nothing.
    #[default]
    UnitRange,
    /// `(x - mean[c]) / std[c]` per channel: mean 0 and variance 1 on the fitted set
    /// (seed 000's standardisation).
    Standardise {
        /// Mean of each channel.
        mean: Vec<f32>,
        /// Standard deviation of each channel; at least [`MIN_STD`] is used.
        std: Vec<f32>,
    },
}

impl Normalisation {
    /// Per-channel mean and (population) standard deviation of `images`, floored at
    /// [`MIN_STD`].
    pub fn fit_standardise(images: &Images) -> Result<Self, DataError> {
        let [channels, height, width] = images.image_shape();
        let plane = height * width;
        if images.is_empty() || plane == 0 {
            return Err(DataError::Empty {
                what: "fitting standardisation",
            });
        }
        // Two passes in f64: a single-pass sum of squares loses precision on large sets.
        let per_channel = (images.len() * plane) as f64;
        let mut sums = vec![0.0f64; channels];
        for (i, values) in images.pixels().chunks(plane).enumerate() {
            sums[i % channels] += values.iter().map(|&p| f64::from(p)).sum::<f64>();
        }
        let mean: Vec<f64> = sums.iter().map(|s| s / per_channel).collect();
        let mut squares = vec![0.0f64; channels];
        for (i, values) in images.pixels().chunks(plane).enumerate() {
            let m = mean[i % channels];
            squares[i % channels] += values
                .iter()
                .map(|&p| (f64::from(p) - m).powi(2))
                .sum::<f64>();
        }
        Ok(Self::Standardise {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: squares
                .iter()
                .map(|&s| ((s / per_channel).sqrt() as f32).max(MIN_STD))
                .collect(),
        })
    }

    /// The images as the model sees them.
    pub fn apply(&self, images: &Images) -> Result<Images, DataError> {
        self.map(images, |x, mean, std| (x - mean) / std)
    }

    /// Back to display pixels (the inverse of [`apply`](Self::apply)), e.g. for
    /// reconstructions.
    pub fn invert(&self, images: &Images) -> Result<Images, DataError> {
        self.map(images, |x, mean, std| x * std + mean)
    }

    /// Applies `f(pixel, mean, std)` with each pixel's channel statistics.
    fn map(&self, images: &Images, f: impl Fn(f32, f32, f32) -> f32) -> Result<Images, DataError> {
        let Self::Standardise { mean, std } = self else {
            return Ok(images.clone());
        };
        let [channels, height, width] = images.image_shape();
        if mean.len() != std.len() {
            return Err(DataError::StatisticsLength {
                means: mean.len(),
                stds: std.len(),
            });
        }
        if mean.len() != channels {
            return Err(DataError::ChannelMismatch {
                what: "standardisation",
                expected: mean.len(),
                found: channels,
            });
        }
        let plane = (height * width).max(1);
        let f = &f;
        let pixels = images
            .pixels()
            .chunks(plane)
            .enumerate()
            .flat_map(|(i, values)| {
                let c = i % channels;
                // `max` also replaces a NaN deviation from a hand-edited file.
                let (m, s) = (mean[c], std[c].max(MIN_STD));
                values.iter().map(move |&x| f(x, m, s))
            })
            .collect();
        Images::new(pixels, images.len(), channels, height, width)
    }
}

impl Images {
    /// The images resampled to `height` x `width` with a bilinear (triangle) filter.
    ///
    /// Upscaling is plain bilinear interpolation with pixel centres aligned (PyTorch's
    /// `align_corners=False`) and edge pixels repeated. Downscaling widens the triangle
    /// to the scale factor, as PIL does, so every source pixel contributes and thin
    /// strokes do not vanish (64 -> 28 would otherwise skip pixels).
    pub fn resized(&self, height: usize, width: usize) -> Result<Images, DataError> {
        let [channels, from_height, from_width] = self.image_shape();
        if [height, width, from_height, from_width].contains(&0) {
            return Err(DataError::ZeroSize {
                from_height,
                from_width,
                to_height: height,
                to_width: width,
            });
        }
        if (height, width) == (from_height, from_width) {
            return Ok(self.clone());
        }
        let columns = taps(from_width, width);
        let rows = taps(from_height, height);
        let mut pixels = Vec::with_capacity(self.len() * channels * height * width);
        // Separable: each row is resampled across, then each column of the result down.
        let mut across = vec![0.0f32; from_height * width];
        for plane in self.pixels().chunks(from_height * from_width) {
            for (line, out) in plane.chunks(from_width).zip(across.chunks_mut(width)) {
                for (o, taps) in out.iter_mut().zip(&columns) {
                    *o = taps.iter().map(|&(i, w)| w * line[i]).sum();
                }
            }
            for taps in &rows {
                pixels.extend((0..width).map(|c| {
                    taps.iter()
                        .map(|&(r, w)| w * across[r * width + c])
                        .sum::<f32>()
                }));
            }
        }
        Images::new(pixels, self.len(), channels, height, width)
    }

    /// The images with `channels` channels: gray -> RGB repeats the plane, RGB -> gray
    /// takes the luma ([`LUMA_WEIGHTS`]); the same count returns a copy.
    pub fn to_channels(&self, channels: usize) -> Result<Images, DataError> {
        let [from, height, width] = self.image_shape();
        let plane = height * width;
        let pixels: Vec<f32> = match (from, channels) {
            _ if from == channels => return Ok(self.clone()),
            (1, 3) => self
                .pixels()
                .chunks(plane.max(1))
                .flat_map(|gray| gray.iter().chain(gray).chain(gray).copied())
                .collect(),
            (3, 1) => self
                .pixels()
                .chunks(3 * plane.max(1))
                .flat_map(|rgb| {
                    let (r, gb) = rgb.split_at(plane);
                    let (g, b) = gb.split_at(plane);
                    let [wr, wg, wb] = LUMA_WEIGHTS;
                    (0..plane).map(move |i| wr * r[i] + wg * g[i] + wb * b[i])
                })
                .collect(),
            _ => {
                return Err(DataError::ChannelConversion { from, to: channels });
            }
        };
        Images::new(pixels, self.len(), channels, height, width)
    }
}

/// For each output position along an axis of `from` -> `to` pixels, the source pixels
/// and their weights (summing to 1). Positions past an edge repeat the edge pixel.
fn taps(from: usize, to: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = from as f32 / to as f32;
    // The triangle's half-width in source pixels: 1 when upscaling, the scale otherwise.
    let support = scale.max(1.0);
    let last = from as i64 - 1;
    (0..to)
        .map(|o| {
            let centre = (o as f32 + 0.5) * scale - 0.5;
            let first = (centre - support).ceil() as i64;
            let end = (centre + support).floor() as i64;
            let mut taps: Vec<(usize, f32)> = (first..=end)
                .filter_map(|i| {
                    let w = 1.0 - ((i as f32 - centre) / support).abs();
                    (w > 0.0).then_some((i.clamp(0, last) as usize, w))
                })
                .collect();
            // Never zero: the source pixel nearest the centre is less than one support away.
            let total: f32 = taps.iter().map(|&(_, w)| w).sum();
            for tap in &mut taps {
                tap.1 /= total;
            }
            taps
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(
        pixels: &[f32],
        count: usize,
        channels: usize,
        height: usize,
        width: usize,
    ) -> Images {
        Images::new(pixels.to_vec(), count, channels, height, width).unwrap()
    }

    fn assert_close(found: &[f32], expected: &[f32]) {
        assert_eq!(found.len(), expected.len());
        for (i, (f, e)) in found.iter().zip(expected).enumerate() {
            assert!((f - e).abs() < 1e-5, "pixel {i}: {f} != {e}\n{found:?}");
        }
    }

    #[test]
    fn fitted_statistics_of_a_hand_built_set() {
        // Two 2-channel 1x2 images: channel 0 holds 0, 1, 2, 3; channel 1 is constant.
        let set = images(&[0.0, 1.0, 0.5, 0.5, 2.0, 3.0, 0.5, 0.5], 2, 2, 1, 2);
        let Normalisation::Standardise { mean, std } =
            Normalisation::fit_standardise(&set).unwrap()
        else {
            panic!("not a standardisation");
        };
        assert_close(&mean, &[1.5, 0.5]);
        // Population deviation of 0..=3 is sqrt(1.25); the constant channel gets the floor.
        assert_close(&std, &[1.25f32.sqrt(), MIN_STD]);
    }

    #[test]
    fn standardise_then_invert_round_trips() {
        let set = images(
            &[0.1, 0.9, 0.3, 0.0, 0.6, 0.2, 0.8, 1.0, 0.4, 0.5, 0.7, 0.35],
            2,
            3,
            1,
            2,
        );
        let norm = Normalisation::fit_standardise(&set).unwrap();
        let standard = norm.apply(&set).unwrap();
        // Mean 0, variance 1 per channel on the fitted set.
        let Normalisation::Standardise { mean, std } =
            Normalisation::fit_standardise(&standard).unwrap()
        else {
            panic!("not a standardisation");
        };
        assert_close(&mean, &[0.0; 3]);
        assert_close(&std, &[1.0; 3]);
        assert_close(norm.invert(&standard).unwrap().pixels(), set.pixels());
    }

    #[test]
    fn unit_range_changes_nothing() {
        let set = images(&[0.0, 0.25, 1.0], 3, 1, 1, 1);
        assert_eq!(Normalisation::default(), Normalisation::UnitRange);
        assert_eq!(Normalisation::UnitRange.apply(&set).unwrap(), set);
        assert_eq!(Normalisation::UnitRange.invert(&set).unwrap(), set);
    }

    #[test]
    fn wrong_statistics_or_an_empty_set_are_refused() {
        let gray = images(&[0.5; 4], 1, 1, 2, 2);
        let rgb = Normalisation::Standardise {
            mean: vec![0.5; 3],
            std: vec![0.2; 3],
        };
        assert_eq!(
            rgb.apply(&gray).unwrap_err(),
            DataError::ChannelMismatch {
                what: "standardisation",
                expected: 3,
                found: 1
            }
        );
        let uneven = Normalisation::Standardise {
            mean: vec![0.5],
            std: vec![],
        };
        assert_eq!(
            uneven.invert(&gray).unwrap_err(),
            DataError::StatisticsLength { means: 1, stds: 0 }
        );
        let none = images(&[], 0, 1, 2, 2);
        let err = Normalisation::fit_standardise(&none).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn normalisation_serialises_with_its_statistics() {
        let norm = Normalisation::Standardise {
            mean: vec![0.13],
            std: vec![0.31],
        };
        let json = serde_json::to_string(&norm).unwrap();
        assert_eq!(json, r#"{"Standardise":{"mean":[0.13],"std":[0.31]}}"#);
        assert_eq!(serde_json::from_str::<Normalisation>(&json).unwrap(), norm);
        assert_eq!(
            serde_json::to_string(&Normalisation::UnitRange).unwrap(),
            r#""UnitRange""#
        );
    }

    #[test]
    fn a_constant_image_stays_constant_at_any_size() {
        let set = images(&[0.37; 2 * 3 * 7 * 5], 2, 3, 7, 5);
        for (h, w) in [(28, 28), (32, 32), (64, 64), (3, 2), (1, 1)] {
            let out = set.resized(h, w).unwrap();
            assert_eq!(out.image_shape(), [3, h, w]);
            assert_eq!(out.len(), 2);
            assert_close(out.pixels(), &vec![0.37; 2 * 3 * h * w]);
        }
    }

    #[test]
    fn two_by_two_to_four_by_four_is_bilinear() {
        let set = images(&[0.0, 1.0, 2.0, 3.0], 1, 1, 2, 2);
        #[rustfmt::skip]
        let expected = [
            0.0, 0.25, 0.75, 1.0,
            0.5, 0.75, 1.25, 1.5,
            1.5, 1.75, 2.25, 2.5,
            2.0, 2.25, 2.75, 3.0,
        ];
        assert_close(set.resized(4, 4).unwrap().pixels(), &expected);
    }

    #[test]
    fn downscaling_averages_instead_of_skipping() {
        // Plain bilinear would sample source pixels 1 and 4 (both 0) and lose the stripes;
        // the widened triangle weighs 1/9, 2/9, 3/9, 2/9, 1/9 around them.
        let stripes = images(&[1.0, 0.0, 0.0, 1.0, 0.0, 0.0], 1, 1, 1, 6);
        assert_close(
            stripes.resized(1, 2).unwrap().pixels(),
            &[4.0 / 9.0, 2.0 / 9.0],
        );
    }

    #[test]
    fn resizing_to_or_from_nothing_is_refused() {
        let set = images(&[0.0; 4], 1, 1, 2, 2);
        assert!(matches!(set.resized(0, 4), Err(DataError::ZeroSize { .. })));
        assert_eq!(set.resized(2, 2).unwrap(), set);
    }

    #[test]
    fn rgb_to_gray_takes_the_luma() {
        // One 1x2 RGB image: pixel 0 is (0.2, 0.4, 0.6), pixel 1 pure red.
        let rgb = images(&[0.2, 1.0, 0.4, 0.0, 0.6, 0.0], 1, 3, 1, 2);
        let gray = rgb.to_channels(1).unwrap();
        assert_eq!(gray.image_shape(), [1, 1, 2]);
        assert_close(gray.pixels(), &[0.0598 + 0.2348 + 0.0684, 0.299]);
    }

    #[test]
    fn gray_to_rgb_repeats_the_plane() {
        let gray = images(&[0.1, 0.2, 0.3, 0.4], 2, 1, 1, 2);
        let rgb = gray.to_channels(3).unwrap();
        assert_eq!(
            rgb.pixels(),
            &[0.1, 0.2, 0.1, 0.2, 0.1, 0.2, 0.3, 0.4, 0.3, 0.4, 0.3, 0.4]
        );
        // Gray -> RGB -> gray is lossless: the luma weights sum to 1.
        assert_close(rgb.to_channels(1).unwrap().pixels(), gray.pixels());
        assert_eq!(gray.to_channels(1).unwrap(), gray);
        assert_eq!(
            gray.to_channels(2).unwrap_err(),
            DataError::ChannelConversion { from: 1, to: 2 }
        );
    }
}
