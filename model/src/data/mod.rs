//! Data: image sets, the bundled MNIST subset, the evaluation protocols, synthetic
//! defects for pseudo-anomaly training and the pixel transforms (normalisation, resizing,
//! channel conversion); users' own folders (their layout, their split and, with the
//! `decode` feature, their image files); multivariate sensor series ([`series`]). Pure
//! Rust: all of it builds without Burn.

#[cfg(feature = "decode")]
mod decode;
mod defects;
mod image_set;
mod images;
mod layout;
mod mnist;
mod protocol;
pub mod series;
mod transform;

#[cfg(feature = "decode")]
pub use decode::{
    decode_batch, decode_image, BatchDecoder, DecodeError, DecodeLimits, DecodedBatch, Refusal,
    Target,
};

pub use defects::{corrupt, Defect, PseudoAnomalies, OVERLAY_BRIGHTNESS};
pub use image_set::{ImageSet, ImageSplit};
pub use images::Images;
pub use layout::{
    place, ImageClass, Layout, LayoutSummary, Part, Placement, Skip, GOOD_FOLDERS,
    IMAGE_EXTENSIONS, MASK_FOLDERS,
};
pub use mnist::{
    Inflated, Mnist, BUNDLED_IMAGES_FILE, BUNDLED_IMAGES_SHA256, BUNDLED_LABELS_FILE,
    BUNDLED_LABELS_SHA256, MAX_UNCOMPRESSED,
};
pub use protocol::{OneClassSplit, OverlaySplit, Protocol, UnseenSplit, TEST_FRACTION};
pub use transform::{Normalisation, LUMA_WEIGHTS, MIN_STD};

/// The bundled MNIST subset, read from the repository's `public/data/` (unit tests only).
#[cfg(test)]
pub(crate) fn bundled_for_tests() -> Mnist {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/data");
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    match Mnist::bundled(&read(BUNDLED_IMAGES_FILE), &read(BUNDLED_LABELS_FILE)) {
        Ok(set) => set,
        Err(e) => panic!("the bundled data does not load: {e}"),
    }
}

/// What was wrong with a data file, an image set or a transform's parameters.
// Not `Eq`: `Fraction` carries the offending `f32`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// The bytes are not a valid gzip stream.
    #[error("{file}: not a valid gzip file ({reason})")]
    Gzip {
        /// Which file.
        file: String,
        /// What the decoder said.
        reason: String,
    },
    /// The file decompresses to more than the loader accepts.
    #[error("{file}: decompresses to more than {limit} bytes")]
    TooLarge {
        /// Which file.
        file: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file is shorter (or longer) than its header says.
    #[error("{file}: truncated or padded, expected {expected} bytes, found {found}")]
    Truncated {
        /// Which file.
        file: String,
        /// Bytes the header announces.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The file does not start with the IDX magic number of its kind.
    #[error(
        "{file}: not an IDX file of this kind (magic {found:#010x}, expected {expected:#010x})"
    )]
    BadMagic {
        /// Which file.
        file: String,
        /// The magic number expected.
        expected: u32,
        /// The magic number found.
        found: u32,
    },
    /// The file's content is not the published one.
    #[error("{file}: SHA-256 mismatch (expected {expected}, found {found}); the file is damaged or not the bundled one")]
    HashMismatch {
        /// Which file.
        file: String,
        /// The published hash.
        expected: String,
        /// The hash of the bytes given.
        found: String,
    },
    /// Image and label files disagree on the number of samples.
    #[error("{images} images but {labels} labels")]
    CountMismatch {
        /// Images in the image file.
        images: usize,
        /// Labels in the label file.
        labels: usize,
    },
    /// A label is not a digit.
    #[error("label {index} is {label}, not a digit 0-9")]
    LabelOutOfRange {
        /// Position of the label.
        index: usize,
        /// Its value.
        label: u8,
    },
    /// Pixel buffer and declared shape disagree.
    #[error("{pixels} pixels do not make {count} images of {channels}x{height}x{width}")]
    Shape {
        /// Pixels given.
        pixels: usize,
        /// Images declared.
        count: usize,
        /// Channels per image.
        channels: usize,
        /// Image height.
        height: usize,
        /// Image width.
        width: usize,
    },
    /// A user's folder holds no normal image, so a detector has nothing to learn from.
    #[error("no normal (good) images to train on: put them in a good/ or train/good/ folder, or drop images outside any folder")]
    NoNormalImages,
    /// A protocol parameter is out of range.
    #[error("invalid protocol: {0}")]
    Protocol(String),
    /// A share parameter is outside [0, 1] or not a number.
    #[error("{name} must be a number between 0 and 1, got {value}")]
    Fraction {
        /// Which parameter.
        name: &'static str,
        /// The value given.
        value: f32,
    },
    /// The pseudo-anomaly configuration lists no defect kind to draw from.
    #[error("pseudo-anomalies: `kinds` is empty; list at least one defect kind")]
    NoDefectKinds,
    /// An operation needs at least one image (or pixel) and got none.
    #[error("{what}: the image set is empty")]
    Empty {
        /// What needed the images.
        what: &'static str,
    },
    /// Images have a different channel count than the operation expects.
    #[error("{what} expects {expected}-channel images, got {found} channels")]
    ChannelMismatch {
        /// What expected them.
        what: &'static str,
        /// Channels expected.
        expected: usize,
        /// Channels of the images given.
        found: usize,
    },
    /// Standardisation statistics with a different number of means and deviations.
    #[error("standardisation has {means} means but {stds} standard deviations")]
    StatisticsLength {
        /// Number of per-channel means.
        means: usize,
        /// Number of per-channel standard deviations.
        stds: usize,
    },
    /// A channel conversion other than gray <-> RGB (or none) was asked for.
    #[error("cannot convert {from}-channel images to {to} channels (only 1 <-> 3)")]
    ChannelConversion {
        /// Channels of the images given.
        from: usize,
        /// Channels asked for.
        to: usize,
    },
    /// A resize to or from an image with no pixels.
    #[error("cannot resize {from_height}x{from_width} images to {to_height}x{to_width}: every side must be at least 1")]
    ZeroSize {
        /// Height of the images given.
        from_height: usize,
        /// Width of the images given.
        from_width: usize,
        /// Height asked for.
        to_height: usize,
        /// Width asked for.
        to_width: usize,
    },
}
