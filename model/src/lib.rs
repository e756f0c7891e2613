//! Kizu's models: anomaly detectors trained on normal images only, backend-agnostic.
//!
//! Every function takes a Burn [`Device`](burn::tensor::Device); which one (WebGPU, the
//! CPU) is decided by the caller: the browser app, the CLI, the tests.

pub mod checkpoint;
pub mod conv_ae;
pub mod data;
pub mod detector;
pub mod eval;
pub mod metrics;
pub mod score;
pub mod threshold;
pub mod train;
pub mod viz;
