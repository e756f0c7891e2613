//! A batch of same-sized images as one flat pixel buffer.

use std::borrow::Cow;

use super::DataError;

/// Same-sized images in one row-major buffer, `[count, channels, height, width]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Images {
    pixels: Vec<f32>,
    count: usize,
    channels: usize,
    height: usize,
    width: usize,
}

impl Images {
    /// Wraps a pixel buffer, checking that it holds exactly `count` images of the given shape.
    pub fn new(
        pixels: Vec<f32>,
        count: usize,
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Self, DataError> {
        let expected = [count, channels, height, width]
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if expected != Some(pixels.len()) {
            return Err(DataError::Shape {
                pixels: pixels.len(),
                count,
                channels,
                height,
                width,
            });
        }
        Ok(Self {
            pixels,
            count,
            channels,
            height,
            width,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// `[channels, height, width]` of one image.
    pub fn image_shape(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }

    /// Pixels per image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The pixels of image `index`; panics if it is out of range, like slice indexing.
    pub fn image(&self, index: usize) -> &[f32] {
        let n = self.image_len();
        &self.pixels[index * n..(index + 1) * n]
    }

    /// All pixels, image after image.
    pub fn pixels(&self) -> &[f32] {
        &self.pixels
    }

    /// A new set made of the images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_len());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        Self {
            pixels,
            count: indices.len(),
            ..*self
        }
    }

    /// Splits off a share of the images, drawn with `seed`: `(kept, held_out)`, each in the
    /// original order. At least one image is held out for a share above 0 and one kept.
    pub fn hold_out(&self, share: f64, seed: u64) -> (Self, Self) {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let held = if share > 0.0 && self.count > 1 {
            ((self.count as f64 * share.min(1.0)).round() as usize).clamp(1, self.count - 1)
        } else {
            0
        };
        let mut order: Vec<usize> = (0..self.count).collect();
        order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let (mut out, mut kept) = (order[..held].to_vec(), order[held..].to_vec());
        out.sort_unstable();
        kept.sort_unstable();
        (self.select(&kept), self.select(&out))
    }

    /// The same images centred on a `side` x `side` black canvas (28 -> 32 for the
    /// DCGAN-shaped models); images already that large are borrowed unchanged.
    pub fn padded_to(&self, side: usize) -> Cow<'_, Self> {
        if self.height >= side && self.width >= side {
            return Cow::Borrowed(self);
        }
        let (top, left) = ((side - self.height) / 2, (side - self.width) / 2);
        let mut pixels = vec![0.0; self.count * self.channels * side * side];
        for (plane, source) in self.pixels.chunks(self.height * self.width).enumerate() {
            for (row, line) in source.chunks(self.width).enumerate() {
                let at = plane * side * side + (top + row) * side + left;
                pixels[at..at + self.width].copy_from_slice(line);
            }
        }
        Cow::Owned(Self {
            pixels,
            height: side,
            width: side,
            ..*self
        })
    }

    /// Images `start..end` as a `[n, channels, height, width]` tensor on `device`.
    #[cfg(feature = "burn")]
    pub fn tensor(
        &self,
        start: usize,
        end: usize,
        device: &burn::tensor::Device,
    ) -> burn::tensor::Tensor<4> {
        use burn::tensor::{Tensor, TensorData};
        let n = self.image_len();
        let data = TensorData::new(
            self.pixels[start * n..end * n].to_vec(),
            [end - start, self.channels, self.height, self.width],
        );
        Tensor::from_data(data, device)
    }

    /// Images `rows` as a `[size, channels, height, width]` tensor on `device`, topped up
    /// to `size` by repeating the last of them: every batch a run sends then has one shape,
    /// and a GPU backend compiles (and tunes) its kernels for it once. `rows` holds at
    /// least one image and at most `size`.
    #[cfg(feature = "burn")]
    pub fn batch_tensor(
        &self,
        rows: std::ops::Range<usize>,
        size: usize,
        device: &burn::tensor::Device,
    ) -> burn::tensor::Tensor<4> {
        use burn::tensor::{Tensor, TensorData};
        let n = self.image_len();
        let mut pixels = self.pixels[rows.start * n..rows.end * n].to_vec();
        let last = self.image(rows.end - 1).to_vec();
        for _ in rows.len()..size {
            pixels.extend_from_slice(&last);
        }
        let size = size.max(rows.len());
        let data = TensorData::new(pixels, [size, self.channels, self.height, self.width]);
        Tensor::from_data(data, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_centres_each_image() {
        let images = Images::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 2, 1, 2, 2).unwrap();
        let padded = images.padded_to(4);
        assert_eq!(padded.image_shape(), [1, 4, 4]);
        #[rustfmt::skip]
        assert_eq!(padded.image(1), &[
            0.0, 0.0, 0.0, 0.0,
            0.0, 5.0, 6.0, 0.0,
            0.0, 7.0, 8.0, 0.0,
            0.0, 0.0, 0.0, 0.0,
        ]);
        assert!(matches!(images.padded_to(2), Cow::Borrowed(same) if *same == images));
    }

    #[test]
    fn a_held_out_share_is_drawn_by_the_seed_and_never_kept() {
        let images = Images::new((0..20).map(|v| v as f32).collect(), 20, 1, 1, 1).unwrap();
        let (kept, held) = images.hold_out(0.25, 7);
        assert_eq!((kept.len(), held.len()), (15, 5));
        let mut all: Vec<f32> = kept.pixels().iter().chain(held.pixels()).copied().collect();
        all.sort_by(f32::total_cmp);
        assert_eq!(
            all,
            images.pixels(),
            "every image once, in one part or the other"
        );
        assert!(
            held.pixels().windows(2).all(|w| w[0] < w[1]),
            "original order"
        );
        assert_eq!(images.hold_out(0.25, 7), (kept, held.clone()));
        assert_ne!(
            images.hold_out(0.25, 8).1,
            held,
            "another seed draws others"
        );
        assert_eq!(images.hold_out(0.0, 7).1.len(), 0);
        assert_eq!(
            images.hold_out(0.001, 7).1.len(),
            1,
            "a share above 0 holds one out"
        );
        assert_eq!(images.hold_out(1.0, 7).0.len(), 1, "one is always kept");
    }
}
