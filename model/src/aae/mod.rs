//! Adversarial autoencoder with Hotelling's T² (seed 002).
//!
//! A deterministic convolutional autoencoder (32x32 input, 3 conv blocks, a bottleneck of
//! at least 12 dimensions — the seed's best setting; 64x64 inputs take a fourth block, so
//! the last map is 4x4 at both) whose latent is pushed towards
//! `N(0, I)` by a latent discriminator: samples of `N(0, I)` are "real", encodings "fake".
//!
//! Losses per step: autoencoder `MSE(x, x^) + w_adv * BCE(D(E(x)), 1)
//! [+ w_rim * mean(1 / (|E(a)|² + 1e-2))]` over optional labelled anomalies `a` (about
//! 0.5 % of training, the seed's best share), an inverse-norm term in the style of Deep
//! SAD that pushes them to the rim of the Gaussian; discriminator
//! `(BCE(D(z_prior), 1) + BCE(D(E(x)), 0)) / 2`.
//!
//! Score: Hotelling's `T² = (z - mu)ᵀ Σ⁻¹ (z - mu)` of the latent against the mean and
//! covariance of the training latents, fitted when training finishes and stored with the
//! model ([`crate::hotelling`]).

mod model;
mod train;

pub use model::{Aae, AaeConfig, LatentDiscriminator, INPUT_SIZES};
pub use train::{AaeTrainer, AaeTrainingConfig};
