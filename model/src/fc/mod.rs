//! Fully connected autoencoder and VAE on flattened images (seed 001; seed 004 §4.1-4.2).
//!
//! Encoder `784 -> 256 -> 128 -> latent` with ReLU (seed 001's four-layer layout, hidden
//! sizes 256 and 128, 64 latent dimensions for detection), mirrored decoder ending in a
//! sigmoid. The autoencoder's loss is `MSE(x, x^)`; its score the reconstruction error.
//!
//! With `variational`, the encoder gives `mu` and `sigma = softplus(.)` (seed 001 §3.2.1),
//! the decoder takes `z = mu + sigma * eps`; loss `BCE(x, x^) + beta * KL` with
//! `KL = 1/2 sum(mu^2 + sigma^2 - 1 - 2 ln sigma)` (seed 004, eq. for `D_KL`); score
//! `MSE(x, x^(mu)) + beta * KL / pixels` ([`ScoreKind::Elbo`](crate::score::ScoreKind)),
//! the textbook's reconstruction + beta*KL.

mod model;

pub use model::{FcAutoencoder, FcAutoencoderConfig};

use crate::train::SelfSupervisedTrainer;

/// Trains an [`FcAutoencoder`] (or VAE) on normal images, one Adam step per step.
pub type FcTrainer = SelfSupervisedTrainer<FcAutoencoder>;
