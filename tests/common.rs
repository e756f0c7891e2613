//! Helpers shared by the native integration tests: the bundled digits, the test device.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use burn::tensor::Device;
use kizu_model::data::{Mnist, BUNDLED_IMAGES_FILE, BUNDLED_LABELS_FILE};

/// The repository's `public/data/` folder, where the app's bundled data lives.
pub fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("public")
        .join("data")
}

/// Raw bytes of the bundled gzip files: (images, labels).
pub fn bundled_bytes() -> (Vec<u8>, Vec<u8>) {
    let read = |name: &str| {
        let path = data_dir().join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    (read(BUNDLED_IMAGES_FILE), read(BUNDLED_LABELS_FILE))
}

/// The bundled MNIST subset, hash-checked.
pub fn bundled_mnist() -> Mnist {
    let (images, labels) = bundled_bytes();
    Mnist::bundled(&images, &labels).expect("the bundled data loads")
}

/// The CPU device the tests run on (the default CPU backend of Kizu).
pub fn device() -> Device {
    Device::flex()
}

/// A run observer that shows nothing and never stops the run.
pub struct Quiet;

impl kizu_model::run::RunObserver for Quiet {
    fn step(&self, _: &kizu_model::train::StepReport) {}
}
