//! LSTM autoencoder of seed 004 (§4.4.2-4.4.3, time-series anomaly detection).
//!
//! An image `[b, c, h, w]` is read as a sequence of `h` time steps of `c * w` features, row
//! `t` of every plane in step `t` (MNIST: 28 rows of 28 pixels), so the model plugs into the
//! image pipeline.
//!
//! Encoder: stacked LSTM over the rows; the top layer's last hidden state -> Linear ->
//! latent `z`. Decoder: `z` repeated over the time steps is the input of a stacked LSTM
//! whose initial hidden state is `Linear(z)` in every layer (cells start at zero); a
//! Linear maps each step back to `c * w` features. Unlike the source, a sigmoid ends the
//! decoder of images, as pixels lie in [0, 1]; on sensor windows (`series.rs`) the output
//! is linear, as the source's, for standardised readings.
//!
//! Loss: `MSE(x, x^)`. Scores (see [`crate::score`]): the seed's `mean((x - x^)^2)` per
//! sequence (image), or the difference ratio `sum|x - x^| / sum|x|` of seed 000.

mod model;
mod series;
mod train;

pub use model::{LstmAutoencoder, LstmAutoencoderConfig};
pub use series::{score_windows, SensorErrorScale, SeriesModelError, SeriesTrainer, WindowScores};
pub use train::LstmAeTrainer;
