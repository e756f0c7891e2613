//! Kizu's models: anomaly detectors trained on normal images only, backend-agnostic.
//!
//! Every function takes a Burn [`Device`](burn::tensor::Device); which one (WebGPU, the
//! CPU) is decided by the caller: the browser app, the CLI, the tests.
//!
//! Without the default `burn` feature only the pure parts build (data parsing, protocols,
//! thresholds, metrics, colour maps), so a web page can use them without linking Burn.

#[cfg(feature = "burn")]
pub mod checkpoint;
#[cfg(feature = "burn")]
pub mod conv_ae;
pub mod data;
#[cfg(feature = "burn")]
pub mod detector;
#[cfg(feature = "burn")]
pub mod eval;
#[cfg(feature = "burn")]
pub mod ganomaly;
pub mod metrics;
#[cfg(feature = "burn")]
pub mod score;
pub mod threshold;
#[cfg(feature = "burn")]
pub mod train;
pub mod viz;
