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
mod tests {
    use image::codecs::gif::GifEncoder;
    use image::codecs::jpeg::JpegEncoder;
    use image::codecs::webp::WebPEncoder;
    use image::{
        Delay, ExtendedColorType, Frame, ImageEncoder, ImageFormat, Luma, LumaA, Rgb, RgbImage,
        Rgba, RgbaImage,
    };

    use super::*;
    use crate::data::{ImageClass, Part};

    const GRAY: Target = Target {
        side: 4,
        channels: 1,
        fit: Fit::Resize,
    };
    const RGB: Target = Target {
        side: 4,
        channels: 3,
        fit: Fit::Resize,
    };

    fn decode(bytes: &[u8], target: &Target) -> Result<Images, DecodeError> {
        decode_image("x", bytes, &DecodeLimits::default(), target)
    }

    fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    }

    /// A 4 x 4 gray ramp: pixel (x, y) is 16 * (4y + x).
    fn ramp() -> DynamicImage {
        DynamicImage::ImageLuma8(ImageBuffer::from_fn(4, 4, |x, y| {
            Luma([(16 * (4 * y + x)) as u8])
        }))
    }

    fn ramp_values() -> Vec<f32> {
        (0..16).map(|k| (16 * k) as f32 / 255.0).collect()
    }

    fn assert_close(found: &[f32], expected: &[f32], tolerance: f32) {
        assert_eq!(found.len(), expected.len());
        for (i, (f, e)) in found.iter().zip(expected).enumerate() {
            assert!((f - e).abs() <= tolerance, "pixel {i}: {f} vs {e}");
        }
    }

    /// A PNG chunk: length, type, data and the CRC of type and data.
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
        out
    }

    /// A PNG written by hand: `colour` is the IHDR colour type, `rows` the unfiltered
    /// scanlines (each gets filter byte 0).
    fn png_by_hand(
        width: u32,
        height: u32,
        colour: u8,
        palette: &[u8],
        rows: &[Vec<u8>],
    ) -> Vec<u8> {
        use std::io::Write;
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, colour, 0, 0, 0]);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        for row in rows {
            zlib.write_all(&[0]).unwrap();
            zlib.write_all(row).unwrap();
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &ihdr));
        if !palette.is_empty() {
            png.extend(chunk(b"PLTE", palette));
        }
        png.extend(chunk(b"IDAT", &zlib.finish().unwrap()));
        png.extend(chunk(b"IEND", &[]));
        png
    }

    #[test]
    fn gray_png_decodes_to_its_values() {
        let image = decode(&encoded(ramp(), ImageFormat::Png), &GRAY).unwrap();
        assert_eq!((image.len(), image.image_shape()), (1, [1, 4, 4]));
        assert_close(image.pixels(), &ramp_values(), 1e-6);
        // Gray to RGB repeats the plane.
        let rgb = decode(&encoded(ramp(), ImageFormat::Png), &RGB).unwrap();
        assert_eq!(rgb.image_shape(), [3, 4, 4]);
        for plane in rgb.pixels().chunks(16) {
            assert_close(plane, &ramp_values(), 1e-6);
        }
    }

    #[test]
    fn rgb_becomes_planar_and_gray_takes_the_luma() {
        let image = DynamicImage::ImageRgb8(ImageBuffer::from_pixel(4, 4, Rgb([255, 128, 0])));
        let png = encoded(image, ImageFormat::Png);
        let rgb = decode(&png, &RGB).unwrap();
        assert_close(&rgb.pixels()[..16], &[1.0; 16], 1e-6);
        assert_close(&rgb.pixels()[16..32], &[128.0 / 255.0; 16], 1e-6);
        assert_close(&rgb.pixels()[32..], &[0.0; 16], 1e-6);
        let gray = decode(&png, &GRAY).unwrap();
        let luma = LUMA_WEIGHTS[0] + LUMA_WEIGHTS[1] * 128.0 / 255.0;
        assert_close(gray.pixels(), &[luma; 16], 1e-6);
    }

    #[test]
    fn transparency_is_composited_over_black() {
        let image = RgbaImage::from_fn(4, 4, |x, _| match x {
            0 | 1 => Rgba([255, 255, 255, 0]),
            _ => Rgba([255, 255, 255, 255]),
        });
        let png = encoded(DynamicImage::ImageRgba8(image), ImageFormat::Png);
        let gray = decode(&png, &GRAY).unwrap();
        for row in gray.pixels().chunks(4) {
            assert_close(row, &[0.0, 0.0, 1.0, 1.0], 1e-6);
        }
        let half = DynamicImage::ImageLumaA8(ImageBuffer::from_pixel(4, 4, LumaA([200, 128])));
        let gray = decode(&encoded(half, ImageFormat::Png), &GRAY).unwrap();
        assert_close(gray.pixels(), &[100.0 / 255.0; 16], 1e-6);
    }

    #[test]
    fn sixteen_bit_and_palette_pngs_are_converted() {
        let deep = DynamicImage::ImageLuma16(ImageBuffer::from_fn(4, 4, |x, _| {
            Luma([[0, 65_535, 32_768, 1][x as usize]])
        }));
        let gray = decode(&encoded(deep, ImageFormat::Png), &GRAY).unwrap();
        let row = [0.0, 1.0, 32_768.0 / 65_535.0, 1.0 / 65_535.0];
        assert_close(gray.pixels(), &row.repeat(4), 1e-6);

        let palette = [0, 0, 0, 255, 0, 0, 0, 0, 255];
        let rows: Vec<Vec<u8>> = (0..4).map(|_| vec![0, 1, 2, 1]).collect();
        let png = png_by_hand(4, 4, 3, &palette, &rows);
        let rgb = decode(&png, &RGB).unwrap();
        let (red, green, blue) = (
            &rgb.pixels()[..4],
            &rgb.pixels()[16..20],
            &rgb.pixels()[32..36],
        );
        assert_eq!(red, [0.0, 1.0, 0.0, 1.0]);
        assert_eq!(green, [0.0; 4]);
        assert_eq!(blue, [0.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn jpeg_bmp_and_webp_decode() {
        let flat = |v: u8| DynamicImage::ImageRgb8(ImageBuffer::from_pixel(8, 8, Rgb([v, v, v])));
        let jpeg = encoded(flat(200), ImageFormat::Jpeg);
        assert_close(
            decode(&jpeg, &GRAY).unwrap().pixels(),
            &[200.0 / 255.0; 16],
            0.02,
        );
        let bmp = encoded(ramp().to_rgb8().into(), ImageFormat::Bmp);
        assert_close(decode(&bmp, &GRAY).unwrap().pixels(), &ramp_values(), 1e-5);
        let mut webp = Vec::new();
        let rgb = ramp().to_rgb8();
        WebPEncoder::new_lossless(&mut webp)
            .write_image(rgb.as_raw(), 4, 4, ExtendedColorType::Rgb8)
            .unwrap();
        assert_eq!(&webp[8..12], b"WEBP");
        assert_close(decode(&webp, &GRAY).unwrap().pixels(), &ramp_values(), 1e-5);
    }

    #[test]
    fn an_animated_gif_gives_its_first_frame() {
        let frame = |v: u8| {
            let image = RgbaImage::from_pixel(4, 4, Rgba([v, 0, 0, 255]));
            Frame::from_parts(image, 0, 0, Delay::from_numer_denom_ms(100, 1))
        };
        let mut gif = Vec::new();
        GifEncoder::new(&mut gif)
            .encode_frames([frame(255), frame(0)])
            .unwrap();
        let rgb = decode(&gif, &RGB).unwrap();
        assert_close(&rgb.pixels()[..16], &[1.0; 16], 1e-6);
    }

    #[test]
    fn exif_orientation_is_honoured() {
        // 16 x 8: left half dark, right half bright. EXIF orientation 6 says "rotate 90°
        // clockwise to display", which puts the left half on top.
        let image = RgbImage::from_fn(16, 8, |x, _| {
            let v = if x < 8 { 0 } else { 255 };
            Rgb([v, v, v])
        });
        // A little-endian TIFF header with one IFD entry: tag 0x0112 (orientation), type 3
        // (SHORT), count 1, value 6.
        let exif = [
            b'I', b'I', 42, 0, 8, 0, 0, 0, // header, IFD at 8
            1, 0, // one entry
            0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, // orientation = 6
            0, 0, 0, 0, // no next IFD
        ];
        let mut jpeg = Vec::new();
        let mut encoder = JpegEncoder::new_with_quality(&mut jpeg, 95);
        encoder.set_exif_metadata(exif.to_vec()).unwrap();
        encoder
            .write_image(image.as_raw(), 16, 8, ExtendedColorType::Rgb8)
            .unwrap();
        let gray = decode(&jpeg, &GRAY).unwrap();
        let rows: Vec<f32> = gray
            .pixels()
            .chunks(4)
            .map(|row| row.iter().sum::<f32>() / 4.0)
            .collect();
        assert!(rows[0] < 0.1 && rows[3] > 0.9, "rows {rows:?}");
        let columns: Vec<f32> = (0..4)
            .map(|c| (0..4).map(|r| gray.pixels()[4 * r + c]).sum::<f32>() / 4.0)
            .collect();
        assert!((columns[0] - columns[3]).abs() < 0.1, "columns {columns:?}");
    }

    #[test]
    fn centre_crop_keeps_the_centre() {
        // 12 x 4: a bright 4 x 4 square in the middle, dark sides.
        let image = DynamicImage::ImageLuma8(ImageBuffer::from_fn(12, 4, |x, _| {
            Luma([if (4..8).contains(&x) { 255 } else { 0 }])
        }));
        let png = encoded(image, ImageFormat::Png);
        let crop = Target {
            fit: Fit::CentreCrop,
            ..GRAY
        };
        assert_close(decode(&png, &crop).unwrap().pixels(), &[1.0; 16], 1e-6);
        // Resizing the whole keeps the dark sides.
        let whole = decode(&png, &GRAY).unwrap();
        assert!(whole.pixels()[0] < 0.1 && whole.pixels()[3] < 0.1);
    }

    #[test]
    fn broken_files_are_refused_with_their_reason() {
        let limits = DecodeLimits::default();
        let err = |bytes: &[u8]| decode_image("dir/f.png", bytes, &limits, &GRAY).unwrap_err();
        assert!(matches!(err(&[]), DecodeError::Empty { .. }));
        assert!(matches!(
            err(b"just some text, no pixels"),
            DecodeError::NotAnImage { .. }
        ));
        let png = encoded(
            DynamicImage::ImageLuma8(ImageBuffer::from_fn(64, 64, |x, y| {
                Luma([(x * 7 + y * 13) as u8])
            })),
            ImageFormat::Png,
        );
        let truncated = err(&png[..png.len() / 2]);
        assert!(
            matches!(truncated, DecodeError::Damaged { .. }),
            "{truncated}"
        );
        assert!(
            truncated.to_string().starts_with("dir/f.png: damaged"),
            "{truncated}"
        );
        let tiff = err(b"II*\0\x08\0\0\0\0\0\0\0\0\0\0\0");
        assert!(matches!(tiff, DecodeError::Unsupported { .. }), "{tiff}");
        assert!(tiff.to_string().contains("TIFF"), "{tiff}");
        let small = DecodeLimits {
            max_file_bytes: 10,
            ..limits
        };
        let big = decode_image("big.png", &png, &small, &GRAY).unwrap_err();
        assert!(
            matches!(big, DecodeError::TooLarge { limit: 10, .. }),
            "{big}"
        );
        let bad_target = Target {
            channels: 2,
            ..GRAY
        };
        assert!(matches!(
            decode_image("t.png", &png, &limits, &bad_target),
            Err(DecodeError::Target { .. })
        ));
        for error in [truncated, tiff, big] {
            assert!(!error.file().is_empty());
        }
    }

    #[test]
    fn a_huge_declared_size_is_refused_from_the_header() {
        // 40,000 x 40,000 gray pixels declared in a file of under 100 bytes: decoding would
        // allocate 1.6 GB.
        let png = png_by_hand(40_000, 40_000, 0, &[], &[vec![0; 4]]);
        assert!(png.len() < 100);
        let err = decode(&png, &GRAY).unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooManyPixels {
                file: "x".into(),
                width: 40_000,
                height: 40_000,
                limit: DecodeLimits::default().max_pixels,
            }
        );
        // The same from a BMP header (54 bytes, no pixel data).
        let mut bmp = encoded(ramp().to_rgb8().into(), ImageFormat::Bmp)[..54].to_vec();
        bmp[18..22].copy_from_slice(&40_000i32.to_le_bytes());
        bmp[22..26].copy_from_slice(&40_000i32.to_le_bytes());
        let err = decode(&bmp, &GRAY).unwrap_err();
        assert!(
            matches!(err, DecodeError::TooManyPixels { width: 40_000, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_batch_loads_the_good_files_and_names_each_refused_one() {
        let png = encoded(ramp(), ImageFormat::Png);
        let files: Vec<(String, Vec<u8>)> = vec![
            ("widgets/good/a.png".into(), png.clone()),
            ("widgets/good/b.png".into(), png.clone()),
            ("widgets/scratch/c.png".into(), png.clone()),
            ("widgets/good/empty.png".into(), Vec::new()),
            ("widgets/good/cut.png".into(), png[..png.len() / 2].to_vec()),
            ("widgets/good/text.png".into(), b"hello".to_vec()),
            ("widgets/.DS_Store".into(), vec![0; 8]),
            ("widgets/readme.txt".into(), b"hi".to_vec()),
        ];
        let batch = decode_batch(files, &DecodeLimits::default(), &GRAY).unwrap();
        assert_eq!(batch.set.len(), 3);
        assert_eq!(
            batch.set.names(),
            [
                "widgets/good/a.png",
                "widgets/good/b.png",
                "widgets/scratch/c.png"
            ]
        );
        assert_eq!(
            batch.set.placements()[2].class,
            ImageClass::Defect("scratch".into())
        );
        assert_close(batch.set.images().image(2), &ramp_values(), 1e-6);
        let refused: Vec<&str> = batch.refused.iter().map(Refusal::file).collect();
        assert_eq!(
            refused,
            [
                "widgets/good/empty.png",
                "widgets/good/cut.png",
                "widgets/good/text.png",
                "widgets/.DS_Store",
                "widgets/readme.txt"
            ]
        );
        for refusal in &batch.refused {
            assert!(refusal.to_string().starts_with(refusal.file()), "{refusal}");
        }
        assert_eq!(batch.summary.count(Part::Unassigned, &ImageClass::Good), 2);
        assert_eq!(batch.summary.skipped(), 2);
    }

    #[test]
    fn files_past_the_limit_are_refused_as_too_many() {
        let png = encoded(ramp(), ImageFormat::Png);
        let files = (0..4).map(|k| (format!("good/{k}.png"), png.as_slice()));
        let limits = DecodeLimits {
            max_files: 3,
            ..DecodeLimits::default()
        };
        let batch = decode_batch(files, &limits, &RGB).unwrap();
        assert_eq!(batch.set.len(), 3);
        assert_eq!(batch.set.images().image_shape(), [3, 4, 4]);
        assert!(matches!(
            &batch.refused[..],
            [Refusal::Unreadable(DecodeError::TooMany { file, limit: 3 })] if file == "good/3.png"
        ));
        // Bigger images, fewer files: the decoded batch stays within its bytes.
        let limits = DecodeLimits::default();
        let big = Target {
            side: 128,
            channels: 3,
            fit: Fit::Resize,
        };
        assert_eq!(limits.files_for(&big), 2_133);
        let small = Target {
            side: 32,
            channels: 1,
            fit: Fit::Resize,
        };
        assert_eq!(limits.files_for(&small), 20_000);
        // An empty batch is an empty set of the target's shape.
        let none = decode_batch(Vec::<(String, Vec<u8>)>::new(), &limits, &GRAY).unwrap();
        assert!(none.set.is_empty() && none.refused.is_empty());
    }

    #[test]
    fn no_input_bytes_panic() {
        // Every prefix of every format, and bytes flipped in the middle of each.
        let rgba = DynamicImage::ImageRgba8(RgbaImage::from_fn(8, 8, |x, y| {
            Rgba([x as u8 * 30, y as u8 * 30, 7, 200])
        }));
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Bmp,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            let image = if format == ImageFormat::Jpeg {
                rgba.to_rgb8().into()
            } else {
                rgba.clone()
            };
            let bytes = encoded(image, format);
            for end in 0..bytes.len() {
                let _ = decode(&bytes[..end], &RGB);
            }
            for at in 0..bytes.len() {
                let mut flipped = bytes.clone();
                flipped[at] ^= 0x5a;
                let _ = decode(&flipped, &RGB);
            }
        }
    }
}
