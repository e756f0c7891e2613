//! Convolutional autoencoder of seed 003 (conv AE on MNIST).
//!
//! Encoder `28x28x1 -> 14x14x4 -> 7x7x16 -> 4x4xH -> 1x1xd`: kernels 4, 4, 3, 3, all with
//! stride 2, LeakyReLU after every layer, batch normalisation in layers 2 and 3; the
//! decoder mirrors it with transposed convolutions and ends in a sigmoid. The same layers
//! take 32x32 inputs (`32 -> 16 -> 8 -> 4 -> 1`, the mirror of layer 3 with one more output
//! row); 64x64 inputs get one more stride-2 layer (kernel 4, `f2` channels) at each end.
//!
//! Loss: `MSE(x, x^)`. Scores (see [`crate::score`]): `MSE(x, x^)` per image, or the
//! difference ratio `sum|x - x^| / sum|x|` of seed 000.
//!
//! With `variational` it is seed 003's convolutional VAE: the last encoder layer has a
//! second head giving `sigma = softplus(.)`, the decoder takes the reparametrised sample
//! `z = mu + sigma * eps`; loss `BCE(x, x^) + beta * KL(N(mu, sigma^2) || N(0, I))` with
//! `KL = 1/2 sum(mu^2 + sigma^2 - 1 - 2 ln sigma)` (seed 004 §4.2); score
//! `MSE(x, x^(mu)) + beta * KL / pixels` ([`crate::vae`]).

mod model;
mod train;

pub use model::{ConvAutoencoder, ConvAutoencoderConfig, INPUT_SIZES};
pub use train::ConvAeTrainer;
