//! MNIST in its original IDX format, gzip-compressed, parsed from bytes.
//!
//! The loader works on byte slices so that the same code serves the browser (bytes from
//! `fetch`) and native tools (bytes from disk).

use std::io::Read;

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

use super::{DataError, Images};

/// SHA-256 of the uncompressed bundled image file (`mnist10k-images-idx3-ubyte`).
pub const BUNDLED_IMAGES_SHA256: &str =
    "4e3355b0dd14bc12e53353f1d2789806361e6ef7350c92a8c5e778a74ea77696";
/// SHA-256 of the uncompressed bundled label file (`mnist10k-labels-idx1-ubyte`).
pub const BUNDLED_LABELS_SHA256: &str =
    "364de413ea4102745aa4d08a168e3501716cb789ace0f8b3033481882a00e25f";
/// File name of the bundled images, as shipped under `public/data/`.
pub const BUNDLED_IMAGES_FILE: &str = "mnist10k-images-idx3-ubyte.gz";
/// File name of the bundled labels, as shipped under `public/data/`.
pub const BUNDLED_LABELS_FILE: &str = "mnist10k-labels-idx1-ubyte.gz";

/// Decompressed size cap: far above MNIST's 47 MB training set, far below a gzip bomb.
pub const MAX_UNCOMPRESSED: u64 = 256 * 1024 * 1024;
const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// A labelled set of grayscale digits.
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    /// The images, pixels scaled to [0, 1].
    pub images: Images,
    /// One label (0-9) per image.
    pub labels: Vec<u8>,
}

/// A gzip file's content and the SHA-256 of that content.
///
/// Made here by [`Inflated::from_gzip`], or by a caller with faster means of its own (a
/// browser inflates and hashes natively, several times faster than this crate's code in
/// WebAssembly); [`Mnist::bundled_inflated`] trusts the digest to be that of the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inflated {
    /// The uncompressed bytes.
    pub bytes: Vec<u8>,
    /// Their SHA-256.
    pub sha256: [u8; 32],
}

impl Inflated {
    /// Uncompressed bytes with their SHA-256, hashed here.
    pub fn new(bytes: Vec<u8>) -> Self {
        let sha256 = Sha256::digest(&bytes).into();
        Self { bytes, sha256 }
    }

    /// Inflates `gz` (refusing more than [`MAX_UNCOMPRESSED`] bytes) and hashes the result;
    /// `file` names it in errors.
    pub fn from_gzip(file: &str, gz: &[u8]) -> Result<Self, DataError> {
        gunzip(file, gz).map(Self::new)
    }
}

impl Mnist {
    /// Parses the bundled subset and checks both files against their published SHA-256.
    pub fn bundled(images_gz: &[u8], labels_gz: &[u8]) -> Result<Self, DataError> {
        let images = Inflated::from_gzip(BUNDLED_IMAGES_FILE, images_gz)?;
        let labels = Inflated::from_gzip(BUNDLED_LABELS_FILE, labels_gz)?;
        Self::bundled_inflated(&images, &labels)
    }

    /// Parses the bundled subset from its two files already inflated, checking the digest
    /// each came with against the published SHA-256.
    pub fn bundled_inflated(images: &Inflated, labels: &Inflated) -> Result<Self, DataError> {
        check_sha256(BUNDLED_IMAGES_FILE, &images.sha256, BUNDLED_IMAGES_SHA256)?;
        check_sha256(BUNDLED_LABELS_FILE, &labels.sha256, BUNDLED_LABELS_SHA256)?;
        Self::from_idx(&images.bytes, &labels.bytes)
    }

    /// Parses any gzip-compressed IDX pair (no hash check).
    pub fn from_gz(images_gz: &[u8], labels_gz: &[u8]) -> Result<Self, DataError> {
        let images = gunzip("images", images_gz)?;
        let labels = gunzip("labels", labels_gz)?;
        Self::from_idx(&images, &labels)
    }

    /// Parses an uncompressed IDX pair: `idx3-ubyte` images and `idx1-ubyte` labels.
    pub fn from_idx(images: &[u8], labels: &[u8]) -> Result<Self, DataError> {
        let (dims, pixels) = parse_idx("images", images, IMAGES_MAGIC, 3)?;
        let (label_dims, labels) = parse_idx("labels", labels, LABELS_MAGIC, 1)?;
        let (count, height, width) = (dims[0], dims[1], dims[2]);
        if label_dims[0] != count {
            return Err(DataError::CountMismatch {
                images: count,
                labels: label_dims[0],
            });
        }
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
            return Err(DataError::LabelOutOfRange { index, label });
        }
        let pixels = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
        let images = Images::new(pixels, count, 1, height, width)?;
        Ok(Self {
            images,
            labels: labels.to_vec(),
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// Decompresses a gzip stream, refusing output past [`MAX_UNCOMPRESSED`].
fn gunzip(file: &str, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .take(MAX_UNCOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|source| DataError::Gzip {
            file: file.to_owned(),
            reason: source.to_string(),
        })?;
    if out.len() as u64 > MAX_UNCOMPRESSED {
        return Err(DataError::TooLarge {
            file: file.to_owned(),
            limit: MAX_UNCOMPRESSED,
        });
    }
    Ok(out)
}

/// Compares a digest with a published one (lowercase hex).
fn check_sha256(file: &str, digest: &[u8; 32], expected: &str) -> Result<(), DataError> {
    let found: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if found == expected {
        Ok(())
    } else {
        Err(DataError::HashMismatch {
            file: file.to_owned(),
            expected: expected.to_owned(),
            found,
        })
    }
}

/// Splits an IDX file into its dimensions and its body, checking the magic and the length.
fn parse_idx<'a>(
    file: &str,
    bytes: &'a [u8],
    magic: u32,
    rank: usize,
) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    let header_len = 4 + 4 * rank;
    let read_u32 = |at: usize| -> Option<u32> {
        let word: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(word))
    };
    let truncated = || DataError::Truncated {
        file: file.to_owned(),
        expected: header_len,
        found: bytes.len(),
    };
    let found = read_u32(0).ok_or_else(truncated)?;
    if found != magic {
        return Err(DataError::BadMagic {
            file: file.to_owned(),
            expected: magic,
            found,
        });
    }
    let dims = (0..rank)
        .map(|i| {
            read_u32(4 + 4 * i)
                .map(|d| d as usize)
                .ok_or_else(truncated)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let body_len = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(truncated)?;
    let body = &bytes[header_len..];
    if body.len() != body_len {
        return Err(DataError::Truncated {
            file: file.to_owned(),
            expected: header_len + body_len,
            found: bytes.len(),
        });
    }
    Ok((dims, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx_images(count: u32, side: u32) -> Vec<u8> {
        let mut v = IMAGES_MAGIC.to_be_bytes().to_vec();
        for d in [count, side, side] {
            v.extend(d.to_be_bytes());
        }
        v.extend((0..count * side * side).map(|i| (i % 256) as u8));
        v
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut v = LABELS_MAGIC.to_be_bytes().to_vec();
        v.extend((labels.len() as u32).to_be_bytes());
        v.extend(labels);
        v
    }

    #[test]
    fn parses_a_hand_made_idx_pair_and_scales_pixels() {
        let set = Mnist::from_idx(&idx_images(2, 2), &idx_labels(&[3, 7])).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.labels, vec![3, 7]);
        assert_eq!(
            set.images.image(1),
            &[4.0 / 255.0, 5.0 / 255.0, 6.0 / 255.0, 7.0 / 255.0]
        );
    }

    #[test]
    fn a_truncated_body_names_the_file_and_the_sizes() {
        let mut images = idx_images(2, 2);
        images.pop();
        let err = Mnist::from_idx(&images, &idx_labels(&[3, 7])).unwrap_err();
        assert_eq!(
            err,
            DataError::Truncated {
                file: "images".into(),
                expected: 24,
                found: 23
            }
        );
    }

    #[test]
    fn swapped_files_are_reported_by_their_magic() {
        let err = Mnist::from_idx(&idx_labels(&[1]), &idx_images(1, 2)).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::BadMagic {
                    found: LABELS_MAGIC,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn label_count_must_match_image_count() {
        let err = Mnist::from_idx(&idx_images(2, 2), &idx_labels(&[1])).unwrap_err();
        assert_eq!(
            err,
            DataError::CountMismatch {
                images: 2,
                labels: 1
            }
        );
    }

    #[test]
    fn labels_above_nine_are_refused() {
        let err = Mnist::from_idx(&idx_images(1, 2), &idx_labels(&[12])).unwrap_err();
        assert_eq!(
            err,
            DataError::LabelOutOfRange {
                index: 0,
                label: 12
            }
        );
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn inflating_gives_the_bytes_and_their_sha256() {
        let content = idx_labels(&[1, 2, 3]);
        let inflated = Inflated::from_gzip("labels", &gzip(&content)).unwrap();
        assert_eq!(inflated.bytes, content);
        assert_eq!(inflated.sha256, <[u8; 32]>::from(Sha256::digest(&content)));
    }

    #[test]
    fn inflated_files_are_judged_by_the_digest_they_came_with() {
        let images = Inflated {
            bytes: idx_images(1, 2),
            sha256: [0; 32],
        };
        let labels = Inflated {
            bytes: idx_labels(&[1]),
            sha256: [0; 32],
        };
        let err = Mnist::bundled_inflated(&images, &labels).unwrap_err();
        assert!(
            matches!(&err, DataError::HashMismatch { file, found, .. }
                if file == BUNDLED_IMAGES_FILE && found == &"00".repeat(32)),
            "{err}"
        );
    }

    #[test]
    fn bytes_that_are_not_gzip_are_refused() {
        let err = Mnist::from_gz(b"not gzip at all", b"").unwrap_err();
        assert!(matches!(err, DataError::Gzip { .. }), "{err}");
    }
}
