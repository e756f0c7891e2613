//! The bundled MNIST subset and the one-class protocol, on the real files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use kizu_model::data::{DataError, Mnist, OneClassSplit};
use kizu_tests::{bundled_bytes, bundled_mnist};

const PER_DIGIT: [usize; 10] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

#[test]
fn the_bundled_subset_has_its_published_counts() {
    let mnist = bundled_mnist();
    assert_eq!(mnist.len(), 10_000);
    assert_eq!(mnist.images.image_shape(), [1, 28, 28]);
    for (digit, &expected) in PER_DIGIT.iter().enumerate() {
        let count = mnist.labels.iter().filter(|&&l| l == digit as u8).count();
        assert_eq!(count, expected, "digit {digit}");
    }
    let max = mnist.images.pixels().iter().copied().fold(0.0, f32::max);
    assert_eq!(max, 1.0, "pixels are scaled to [0, 1]");
}

#[test]
fn a_changed_byte_fails_the_hash_check() {
    let (images, labels) = bundled_bytes();
    // Re-compress a one-pixel change so that only the hash can catch it.
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&images[..]), &mut raw).unwrap();
    raw[1000] ^= 1;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, &raw).unwrap();
    let tampered = encoder.finish().unwrap();
    let err = Mnist::bundled(&tampered, &labels).unwrap_err();
    assert!(
        matches!(err, DataError::HashMismatch { ref file, .. } if file.contains("images")),
        "{err}"
    );
    assert!(
        err.to_string().contains("mnist10k-images"),
        "the message names the file: {err}"
    );
}

#[test]
fn a_truncated_download_is_an_error_not_a_panic() {
    let (images, labels) = bundled_bytes();
    let err = Mnist::bundled(&images[..images.len() / 2], &labels).unwrap_err();
    assert!(matches!(err, DataError::Gzip { .. }), "{err}");
    let err = Mnist::bundled(&labels, &images).unwrap_err();
    assert!(matches!(err, DataError::HashMismatch { .. }), "{err}");
}

#[test]
fn one_class_split_trains_on_80_percent_of_normals_and_tests_on_the_rest_plus_every_anomaly() {
    let mnist = bundled_mnist();
    let split = OneClassSplit::new(&mnist, 7, 1).unwrap();
    let normals = 10_000 - PER_DIGIT[7];
    let test_normals = (normals as f64 * 0.2).round() as usize;
    assert_eq!(split.train.len(), normals - test_normals);
    assert_eq!(split.test.len(), test_normals + PER_DIGIT[7]);
    assert!(
        split.train_digits.iter().all(|&d| d != 7),
        "no anomaly in training"
    );
    let anomalies = split.test_is_anomaly.iter().filter(|&&a| a).count();
    assert_eq!(anomalies, PER_DIGIT[7]);
    let flagged_sevens = split.test_digits.iter().zip(&split.test_is_anomaly);
    assert!(flagged_sevens.into_iter().all(|(&d, &a)| (d == 7) == a));
}

#[test]
fn the_split_is_a_function_of_the_seed() {
    let mnist = bundled_mnist();
    let a = OneClassSplit::new(&mnist, 3, 11).unwrap();
    let b = OneClassSplit::new(&mnist, 3, 11).unwrap();
    let c = OneClassSplit::new(&mnist, 3, 12).unwrap();
    assert_eq!(a.train_digits, b.train_digits);
    assert_eq!(a.train, b.train);
    assert_ne!(a.train_digits, c.train_digits);
    assert!(OneClassSplit::new(&mnist, 10, 1).is_err());
}

#[test]
fn truncation_keeps_the_first_images_of_each_set() {
    let split = OneClassSplit::new(&bundled_mnist(), 0, 5).unwrap();
    let small = split.clone().truncated(100, 50);
    assert_eq!((small.train.len(), small.test.len()), (100, 50));
    assert_eq!(small.test_is_anomaly, split.test_is_anomaly[..50]);
    assert_eq!(small.train.image(99), split.train.image(99));
}
