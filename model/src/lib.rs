//! Kizu's models: anomaly detectors trained on normal images only, backend-agnostic.
//!
//! Every function takes a Burn [`Device`](burn::tensor::Device); which one (WebGPU, the
//! CPU) is decided by the caller: the browser app, the CLI, the tests.
//!
//! Without the default `burn` feature only the pure parts build (data parsing, protocols,
//! synthetic defects, normalisation and resizing, thresholds, metrics, colour maps), so a
//! web page can use them without linking Burn.

#[cfg(feature = "burn")]
pub mod aae;
#[cfg(feature = "burn")]
pub mod anogan;
pub mod catalog;
#[cfg(feature = "burn")]
pub mod checkpoint;
#[cfg(feature = "burn")]
pub mod combined;
#[cfg(feature = "burn")]
pub mod conv_ae;
pub mod data;
#[cfg(feature = "burn")]
pub mod detector;
pub mod divergence;
#[cfg(feature = "burn")]
pub mod eval;
#[cfg(feature = "burn")]
pub mod fc;
#[cfg(feature = "burn")]
mod gan;
#[cfg(feature = "burn")]
pub mod ganomaly;
pub mod hotelling;
#[cfg(feature = "burn")]
pub mod lstm_ae;
pub mod metrics;
pub mod pca;
#[cfg(feature = "burn")]
pub mod precision;
#[cfg(feature = "burn")]
pub mod readback;
#[cfg(feature = "burn")]
pub mod run;
#[cfg(feature = "burn")]
pub mod score;
#[cfg(feature = "burn")]
pub mod series_run;
pub mod settings;
#[cfg(feature = "burn")]
pub mod skip_ganomaly;
pub mod threshold;
#[cfg(feature = "burn")]
pub mod train;
#[cfg(feature = "burn")]
pub mod vae;
pub mod viz;
pub mod zoo;
