//! Data: image sets, the bundled MNIST subset and the evaluation protocols.

mod images;
mod mnist;
mod protocol;

pub use images::Images;
pub use mnist::{
    Mnist, BUNDLED_IMAGES_FILE, BUNDLED_IMAGES_SHA256, BUNDLED_LABELS_FILE, BUNDLED_LABELS_SHA256,
};
pub use protocol::{OneClassSplit, TEST_FRACTION};

/// What was wrong with a data file or an image set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// A protocol parameter is out of range.
    #[error("invalid protocol: {0}")]
    Protocol(String),
}
