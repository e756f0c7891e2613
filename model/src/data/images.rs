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
}
