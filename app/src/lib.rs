//! Kizu in the browser: a Leptos page (main thread) and a training Web Worker.
//!
//! The page knows nothing of layers or tensors: it sends a [`protocol::Request`] to the
//! worker and renders the [`protocol::Response`]s. The worker runs `job` on Burn; the
//! page's module is built without the `training` feature and so without Burn.

pub mod backend;
#[cfg(feature = "training")]
pub mod job;
pub mod protocol;
#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;
