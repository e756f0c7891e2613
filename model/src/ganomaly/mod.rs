//! GANomaly (seed 000; Akçay et al. 2018), in the layout of its reference code.
//!
//! Generator: encoder `G_E` -> latent `z` -> decoder `G_D` -> `x^` -> encoder `E` -> `z^`
//! (the second encoder separate or shared with the first, an option). Discriminator: the
//! encoder shape with a one-channel head and a sigmoid, returning (probability, features).
//! DCGAN blocks, inputs scaled to [-1, 1] inside the model, `tanh` output. As the reference,
//! the encoders halve a 32x32 input to 4x4 in three stride-2 layers (`f, 2f, 4f` maps) and
//! add one pyramid layer per doubling of the side (`8f` at 64); the decoder mirrors them.
//!
//! Losses (seed 000, eqs. 1-4): generator
//! `w_adv * MSE(f(x), f(x^)) + w_con * L1(x, x^) + w_enc * MSE(z, z^)`, discriminator
//! `(BCE(D(x), 1) + BCE(D(x^), 0)) / 2`; the discriminator is re-initialised when its
//! loss collapses below `1e-5`, as the reference does.
//!
//! Scores: `mean((z - z^)^2)` ([`ScoreKind::LatentDistance`](crate::score::ScoreKind)),
//! or the difference ratio `sum|x - x^| / sum|x|` of seed 000's histograms.

mod model;
mod train;

pub(crate) use model::to_model_range;
pub use model::{Discriminator, Ganomaly, GanomalyConfig, INPUT_SIZES};
pub use train::{GanomalyLosses, GanomalyStep, GanomalyTrainer, GanomalyTrainingConfig};
