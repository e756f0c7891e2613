//! Kizu in the browser: a Leptos page (main thread) and a training Web Worker.
//!
//! The page knows nothing of layers or tensors: it sends [`protocol::Command`]s to the
//! worker and folds the [`protocol::Reply`]s into its [`lab::Lab`] state. The worker runs
//! the `session` on Burn; the page's module is built without the `training` feature and
//! so without Burn.

pub mod backend;
#[cfg(all(target_arch = "wasm32", feature = "training"))]
pub mod builtins;
pub mod control;
pub mod form;
pub mod gallery;
#[cfg(target_arch = "wasm32")]
pub mod js;
pub mod lab;
pub mod library;
pub mod link;
pub mod plot;
pub mod protocol;
pub mod scores;
#[cfg(feature = "training")]
pub mod session;
pub mod steer;
#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;
