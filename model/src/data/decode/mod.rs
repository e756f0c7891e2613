//! Users' image files to model inputs: PNG, JPEG, BMP, WebP and GIF bytes to `[c, h, w]`
//! pixels in [0, 1], with limits checked before anything large is allocated.
//!
//! Every file is untrusted: the size is checked before parsing, the declared pixel count
//! from the header before decoding, and the decoder runs under [`image::Limits`], so a
//! small file declaring 40,000 x 40,000 pixels is refused without allocating them.

use std::io::Cursor;

use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer, ImageDecoder, ImageError, ImageReader, Luma, Rgb};

use crate::settings::{Fit, RunSettings};

use super::{DataError, ImageSet, Images, Layout, LayoutSummary, Placement, Skip, LUMA_WEIGHTS};

/// How much of each file, and how many files, decoding accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest file read, in bytes.
    pub max_file_bytes: usize,
    /// Largest image decoded, in pixels (width x height, as the header declares).
    pub max_pixels: u64,
    /// Most image files of one batch decoded, whatever their size; those after are refused.
    pub max_files: usize,
    /// Most bytes the decoded batch may take (f32 values at the target's shape): with
    /// bigger targets fewer files fit ([`DecodeLimits::files_for`]).
    pub max_decoded_bytes: u64,
}

impl Default for DecodeLimits {
    /// 20 MiB per file (a high-quality 24-megapixel JPEG is about 10 MB); 40 megapixels
    /// (a 7,700 x 5,200 camera frame; decoding it takes at most 320 MB, 16-bit RGBA);
    /// 400 MiB decoded: 2,133 files at 3 x 128 x 128 (an MVTec AD category has at most
    /// about 500), and the cap of 20,000 files at 1 x 32 x 32.
    fn default() -> Self {
        Self {
            max_file_bytes: 20 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_files: 20_000,
            max_decoded_bytes: 400 * 1024 * 1024,
        }
    }
}

impl DecodeLimits {
    /// Most image files one batch decodes to `target`: the file cap, or fewer where their
    /// decoded values would pass [`Self::max_decoded_bytes`].
    pub fn files_for(&self, target: &Target) -> usize {
        let per_image = (target.side * target.side * target.channels.max(1) * 4).max(1) as u64;
        let fit = usize::try_from(self.max_decoded_bytes / per_image).unwrap_or(usize::MAX);
        self.max_files.min(fit)
    }
}

/// The shape every decoded image gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Height and width, in pixels (at least 1).
    pub side: usize,
    /// 1 (gray, the luma of [`LUMA_WEIGHTS`]) or 3 (RGB).
    pub channels: usize,
    /// How a non-square image is made square.
    pub fit: Fit,
}

impl Target {
    /// The shape a run's images are decoded to.
    pub fn of(settings: &RunSettings) -> Self {
        Self {
            side: settings.input_size,
            channels: settings.channels,
            fit: settings.fit,
        }
    }
}

/// Why a file was not decoded; each names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The file has no bytes.
    #[error("{file}: empty file (0 bytes)")]
    Empty {
        /// The file.
        file: String,
    },
    /// The file is larger than [`DecodeLimits::max_file_bytes`].
    #[error("{file}: {bytes} bytes, more than the {limit}-byte limit for one image")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The content is no image format known (its name may still end in `.png`).
    #[error("{file}: not an image (the content is not PNG, JPEG, BMP, WebP or GIF)")]
    NotAnImage {
        /// The file.
        file: String,
    },
    /// A known image format, or a feature of one, that is not read here (TIFF, a
    /// 12-bit JPEG).
    #[error("{file}: an image that cannot be read here ({reason})")]
    Unsupported {
        /// The file.
        file: String,
        /// What is not supported.
        reason: String,
    },
    /// The header declares more pixels than [`DecodeLimits::max_pixels`].
    #[error("{file}: {width} x {height} pixels, more than the limit of {limit} pixels")]
    TooManyPixels {
        /// The file.
        file: String,
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The limit.
        limit: u64,
    },
    /// The decoder failed part-way: a truncated or corrupt file.
    #[error("{file}: damaged or truncated image ({reason})")]
    Damaged {
        /// The file.
        file: String,
        /// What the decoder said.
        reason: String,
    },
    /// The batch already holds [`DecodeLimits::files_for`] its target image files.
    #[error("{file}: not read, the batch already holds its limit of {limit} image files")]
    TooMany {
        /// The file.
        file: String,
        /// The limit.
        limit: usize,
    },
    /// The target shape cannot be made.
    #[error("{file}: cannot make a {side} x {side} image with {channels} channels (the side must be at least 1, the channels 1 or 3)")]
    Target {
        /// The file.
        file: String,
        /// The side asked for.
        side: usize,
        /// The channels asked for.
        channels: usize,
    },
}

impl DecodeError {
    /// The file refused.
    pub fn file(&self) -> &str {
        match self {
            Self::Empty { file }
            | Self::TooLarge { file, .. }
            | Self::NotAnImage { file }
            | Self::Unsupported { file, .. }
            | Self::TooManyPixels { file, .. }
            | Self::Damaged { file, .. }
            | Self::TooMany { file, .. }
            | Self::Target { file, .. } => file,
        }
    }
}

/// Decodes one image file to a set of one image of `target`'s shape, pixels in [0, 1].
///
/// EXIF orientation is applied; transparency is composited over black (the padding and
/// MNIST's background are black, so a transparent margin reads as background); 16-bit and
/// palette images are converted; of an animated GIF or WebP, the first frame is read.
pub fn decode_image(
    name: &str,
    bytes: &[u8],
    limits: &DecodeLimits,
    target: &Target,
) -> Result<Images, DecodeError> {
    let file = || name.to_owned();
    let side = match u32::try_from(target.side) {
        Ok(side) if side > 0 && matches!(target.channels, 1 | 3) => side,
        _ => {
            return Err(DecodeError::Target {
                file: file(),
                side: target.side,
                channels: target.channels,
            })
        }
    };
    if bytes.is_empty() {
        return Err(DecodeError::Empty { file: file() });
    }
    if bytes.len() > limits.max_file_bytes {
        return Err(DecodeError::TooLarge {
            file: file(),
            bytes: bytes.len(),
            limit: limits.max_file_bytes,
        });
    }
    // Reading 16 bytes of a slice cannot fail; the error is mapped rather than assumed.
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| damaged(name, &e))?;
    let Some(format) = reader.format() else {
        return Err(DecodeError::NotAnImage { file: file() });
    };
    if !format.reading_enabled() {
        return Err(DecodeError::Unsupported {
            file: file(),
            reason: format!(
                "{} is not one of the formats read: PNG, JPEG, BMP, WebP, GIF",
                format!("{format:?}").to_uppercase()
            ),
        });
    }
    reader.limits(image_limits(limits));
    // The decoder has read the header only: the dimensions are checked before the pixels
    // are allocated.
    let mut decoder = reader.into_decoder().map_err(|e| image_error(name, e))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(DecodeError::TooManyPixels {
            file: file(),
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    if width == 0 || height == 0 {
        return Err(DecodeError::Damaged {
            file: file(),
            reason: format!("the header declares {width} x {height} pixels"),
        });
    }
    // An unreadable EXIF block leaves the pixels readable: they are shown as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| image_error(name, e))?;
    image.apply_orientation(orientation);
    let image =
        over_black(fitted(image, target.fit)).resize_exact(side, side, FilterType::Triangle);
    planar(image, target.channels).ok_or_else(|| DecodeError::Target {
        file: file(),
        side: target.side,
        channels: target.channels,
    })
}

/// Why a file of a batch was not loaded: skipped by the layout or refused by the decoder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not an image to load, by its path.
    #[error(transparent)]
    Skipped(Skip),
    /// An image file that did not decode.
    #[error(transparent)]
    Unreadable(DecodeError),
}

impl Refusal {
    /// The file refused.
    pub fn file(&self) -> &str {
        match self {
            Self::Skipped(skip) => skip.file(),
            Self::Unreadable(error) => error.file(),
        }
    }
}

/// What a folder's files gave: the images that decoded, every file refused with its
/// reason, and counts of the decoded images per folder and of the skipped files.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedBatch {
    /// The decoded images, in the order given.
    pub set: ImageSet,
    /// Every file not loaded, in the order given.
    pub refused: Vec<Refusal>,
    /// Decoded images per part and class, and skipped files per reason.
    pub summary: LayoutSummary,
}

/// Decodes a folder's files one at a time, so a caller reading them from disk holds one
/// file's bytes at once; [`decode_batch`] when they are all at hand.
#[derive(Debug, Clone)]
pub struct BatchDecoder {
    layout: Layout,
    limits: DecodeLimits,
    target: Target,
    attempted: usize,
    pixels: Vec<f32>,
    names: Vec<String>,
    placements: Vec<Placement>,
    refused: Vec<Refusal>,
    summary: LayoutSummary,
}

impl BatchDecoder {
    /// A decoder placing files by `layout` (see [`Layout::of`]).
    pub fn new(layout: Layout, limits: DecodeLimits, target: Target) -> Self {
        Self {
            layout,
            limits,
            target,
            attempted: 0,
            pixels: Vec::new(),
            names: Vec::new(),
            placements: Vec::new(),
            refused: Vec::new(),
            summary: LayoutSummary::default(),
        }
    }

    /// Places and decodes the file at `path`, or records why not.
    pub fn push(&mut self, path: &str, bytes: &[u8]) {
        let placement = match self.layout.place(path) {
            Ok(placement) => placement,
            Err(skip) => {
                self.summary.add_skip(&skip);
                self.refused.push(Refusal::Skipped(skip));
                return;
            }
        };
        let limit = self.limits.files_for(&self.target);
        if self.attempted >= limit {
            self.refused.push(Refusal::Unreadable(DecodeError::TooMany {
                file: path.to_owned(),
                limit,
            }));
            return;
        }
        self.attempted += 1;
        match decode_image(path, bytes, &self.limits, &self.target) {
            Ok(image) => {
                self.pixels.extend_from_slice(image.pixels());
                self.names.push(path.to_owned());
                self.summary.add(&placement);
                self.placements.push(placement);
            }
            Err(error) => self.refused.push(Refusal::Unreadable(error)),
        }
    }

    /// The batch so far.
    ///
    /// Fails only if the decoded pixels do not make one set of the target's shape, which
    /// [`push`](Self::push) rules out; the check stays rather than being assumed.
    pub fn finish(self) -> Result<DecodedBatch, DataError> {
        let side = self.target.side;
        let images = Images::new(
            self.pixels,
            self.names.len(),
            self.target.channels,
            side,
            side,
        )?;
        Ok(DecodedBatch {
            set: ImageSet::new(images, self.names, self.placements)?,
            refused: self.refused,
            summary: self.summary,
        })
    }
}

/// Decodes a folder's files, given as (relative path, bytes): each is placed by the
/// selection's [`Layout`], decoded to `target`, or refused with its reason; image files
/// past [`DecodeLimits::files_for`] the target are refused as [`DecodeError::TooMany`].
///
/// Fails only as [`BatchDecoder::finish`] does.
pub fn decode_batch<P: AsRef<str>, B: AsRef<[u8]>>(
    files: impl IntoIterator<Item = (P, B)>,
    limits: &DecodeLimits,
    target: &Target,
) -> Result<DecodedBatch, DataError> {
    let files: Vec<(P, B)> = files.into_iter().collect();
    let layout = Layout::of(files.iter().map(|(path, _)| path.as_ref()));
    let mut decoder = BatchDecoder::new(layout, *limits, *target);
    for (path, bytes) in &files {
        decoder.push(path.as_ref(), bytes.as_ref());
    }
    decoder.finish()
}

/// The decoder's own limits: a buffer of `max_pixels` 16-bit RGBA pixels (the largest
/// sample the formats read give), plus 16 MiB of working memory.
fn image_limits(limits: &DecodeLimits) -> image::Limits {
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(
        limits
            .max_pixels
            .saturating_mul(8)
            .saturating_add(16 * 1024 * 1024),
    );
    image_limits
}

fn damaged(name: &str, reason: &impl std::fmt::Display) -> DecodeError {
    DecodeError::Damaged {
        file: name.to_owned(),
        reason: reason.to_string(),
    }
}

/// The decoder's error as the reason a file is refused.
fn image_error(name: &str, error: ImageError) -> DecodeError {
    match error {
        ImageError::Unsupported(e) => DecodeError::Unsupported {
            file: name.to_owned(),
            reason: e.to_string(),
        },
        // The declared size passed; the decoder's own working memory did not.
        ImageError::Limits(e) => DecodeError::Unsupported {
            file: name.to_owned(),
            reason: format!("decoding needs more memory than allowed: {e}"),
        },
        error => damaged(name, &error),
    }
}

/// The image cropped as `fit` says (the largest centred square for [`Fit::CentreCrop`]).
fn fitted(image: DynamicImage, fit: Fit) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    match fit {
        Fit::CentreCrop if width != height => {
            let side = width.min(height);
            image.crop_imm((width - side) / 2, (height - side) / 2, side, side)
        }
        _ => image,
    }
}

/// The image composited over black: gray stays gray, 8 bits stay 8, wider samples become
/// 16 bits; an image without alpha is returned as it is.
fn over_black(image: DynamicImage) -> DynamicImage {
    // Straight (not premultiplied) alpha, as PNG, WebP and GIF store it.
    fn times8(value: u8, alpha: u8) -> u8 {
        ((u32::from(value) * u32::from(alpha) + 127) / 255) as u8
    }
    fn times16(value: u16, alpha: u16) -> u16 {
        ((u64::from(value) * u64::from(alpha) + 32_767) / 65_535) as u16
    }
    let (width, height) = (image.width(), image.height());
    match image {
        DynamicImage::ImageLumaA8(gray) => {
            DynamicImage::ImageLuma8(ImageBuffer::from_fn(width, height, |x, y| {
                let [l, a] = gray.get_pixel(x, y).0;
                Luma([times8(l, a)])
            }))
        }
        DynamicImage::ImageLumaA16(gray) => {
            DynamicImage::ImageLuma16(ImageBuffer::from_fn(width, height, |x, y| {
                let [l, a] = gray.get_pixel(x, y).0;
                Luma([times16(l, a)])
            }))
        }
        DynamicImage::ImageRgba8(rgba) => {
            DynamicImage::ImageRgb8(ImageBuffer::from_fn(width, height, |x, y| {
                let [r, g, b, a] = rgba.get_pixel(x, y).0;
                Rgb([times8(r, a), times8(g, a), times8(b, a)])
            }))
        }
        other if other.color().has_alpha() => {
            let rgba = other.into_rgba16();
            DynamicImage::ImageRgb16(ImageBuffer::from_fn(width, height, |x, y| {
                let [r, g, b, a] = rgba.get_pixel(x, y).0;
                Rgb([times16(r, a), times16(g, a), times16(b, a)])
            }))
        }
        other => other,
    }
}

/// One image as `[channels, height, width]` in [0, 1]: gray takes the luma of
/// [`LUMA_WEIGHTS`] (a gray source's own value), RGB the three planes. `None` only if
/// `channels` is neither 1 nor 3.
fn planar(image: DynamicImage, channels: usize) -> Option<Images> {
    let gray_source = !image.color().has_color();
    let rgb = image.into_rgb32f();
    let (width, height) = (rgb.width() as usize, rgb.height() as usize);
    let pixels: Vec<f32> = match channels {
        1 if gray_source => rgb.pixels().map(|p| p.0[0]).collect(),
        1 => rgb
            .pixels()
            .map(|p| p.0.iter().zip(LUMA_WEIGHTS).map(|(v, w)| v * w).sum())
            .collect(),
        3 => (0..3)
            .flat_map(|c| rgb.pixels().map(move |p| p.0[c]))
            .collect(),
        _ => return None,
    };
    let pixels = pixels.into_iter().map(|v| v.clamp(0.0, 1.0)).collect();
    Images::new(pixels, 1, channels, height, width).ok()
}

#[cfg(test)]
mod tests;
