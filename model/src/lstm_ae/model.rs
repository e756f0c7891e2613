//! The network: LSTM encoder over image rows, latent, LSTM decoder back to rows.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Lstm, LstmConfig, LstmState};
use burn::tensor::activation::sigmoid;
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{Device, Tensor};

use crate::combined::{latent_score_field, CombinedStatistics, LatentJudged, LatentScore};
use crate::detector::{Detector, DetectorConfig};
use crate::score::{Detection, ScoreKind};

/// The LSTM autoencoder has no score of its own: it is judged by its reconstruction's MSE
/// (seed 004's `mean((x - x^)^2)` per sequence), in its configuration and its detector.
const SCORE_KIND: ScoreKind = ScoreKind::Mse;
/// Bands of rows the encoder's states are averaged over for its neighbour score.
const BANDS: usize = 4;

/// Sizes of the LSTM autoencoder (defaults from seed 004, sequences of MNIST rows).
#[derive(Config, Debug, PartialEq)]
pub struct LstmAutoencoderConfig {
    /// Image channels: each time step reads the same row of every plane.
    #[config(default = 1)]
    pub channels: usize,
    /// Pixels per row of one plane: the image width (a step has `channels * features`).
    #[config(default = 28)]
    pub features: usize,
    /// Time steps: the image height (the side images are padded to).
    #[config(default = 28)]
    pub steps: usize,
    /// Hidden units of every LSTM layer (`hidden_dim`).
    #[config(default = 64)]
    pub hidden: usize,
    /// Latent dimensions (`latent_dim`).
    #[config(default = 32)]
    pub latent: usize,
    /// Stacked LSTM layers in the encoder and in the decoder (`num_layers`), at least 1.
    #[config(default = 2)]
    pub layers: usize,
    /// The score it is judged by: a neighbour score of the encoder's states
    /// (`Some(ScoreKind::Neighbour)`), fitted after training; `None` (and files from before
    /// it), the reconstruction's MSE.
    pub score: Option<ScoreKind>,
    /// Whether the decoder ends linearly, as source 004's does (`Some(true)`: standardised
    /// sensor readings); `None`/`Some(false)` (and files from before it), a sigmoid for
    /// pixels in [0, 1].
    pub linear_output: Option<bool>,
}

impl LstmAutoencoderConfig {
    /// Builds the network with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> LstmAutoencoder {
        // At least one layer: without one there is no hidden state to encode.
        let layers = self.layers.max(1);
        let stack = |d_input: usize| {
            (0..layers)
                .map(|i| {
                    let d_in = if i == 0 { d_input } else { self.hidden };
                    LstmConfig::new(d_in, self.hidden, true).init(device)
                })
                .collect::<Vec<_>>()
        };
        let per_step = self.channels * self.features;
        LstmAutoencoder {
            encoder: stack(per_step),
            to_latent: LinearConfig::new(self.hidden, self.latent).init(device),
            to_hidden: LinearConfig::new(self.latent, self.hidden).init(device),
            decoder: stack(self.latent),
            to_features: LinearConfig::new(self.hidden, per_step).init(device),
            steps: self.steps,
            channels: self.channels,
            features: self.features,
            linear_output: self.linear_output.unwrap_or(false),
            latent_score: LatentScore::unfitted(self.score, self.state_dim()),
        }
    }

    /// Dimensions of what its neighbour score compares: the top encoder layer's states,
    /// averaged over each of four bands of rows.
    pub fn state_dim(&self) -> usize {
        self.hidden * BANDS
    }
}

impl DetectorConfig for LstmAutoencoderConfig {
    fn input_size(&self) -> usize {
        self.steps
    }

    fn channels(&self) -> usize {
        self.channels
    }

    fn score_kind(&self) -> ScoreKind {
        LatentScore::chosen_kind(self.score, SCORE_KIND)
    }

    /// Recurrent layers take any side as it is: one step per row, one feature per column.
    fn for_input(self, size: usize, channels: usize) -> Self {
        self.with_steps(size)
            .with_features(size)
            .with_channels(channels)
    }
}

/// LSTM autoencoder (seed 004); build it with [`LstmAutoencoderConfig::init`].
#[derive(Module, Debug)]
pub struct LstmAutoencoder {
    encoder: Vec<Lstm>,
    to_latent: Linear,
    to_hidden: Linear,
    decoder: Vec<Lstm>,
    to_features: Linear,
    steps: usize,
    channels: usize,
    features: usize,
    /// Whether the decoder ends without the sigmoid (standardised readings, not pixels).
    linear_output: bool,
    /// The neighbour score it is judged by, with its statistics (kept in the checkpoint
    /// header, not the weights); `None`: MSE.
    #[module(skip)]
    latent_score: Option<LatentScore>,
}

impl LstmAutoencoder {
    /// Encodes images, read row by row, to latent vectors.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, steps, features]`, pixels in [0, 1] (or standardised
    ///   readings)
    /// - returns `[batch, latent]`
    pub fn encode(&self, x: Tensor<4>) -> Tensor<2> {
        self.encode_with_states(x).0
    }

    /// Encodes images to latent vectors, with the top encoder layer's states over the rows.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, steps, features]`
    /// - returns (`[batch, latent]`, `[batch, steps, hidden]`)
    fn encode_with_states(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<3>) {
        let [batch, channels, steps, width] = x.dims();
        // Step t reads row t of every plane, plane after plane.
        let mut h = x.swap_dims(1, 2).reshape([batch, steps, channels * width]); // [b, steps, c * features]
        for lstm in &self.encoder {
            h = lstm.forward(h, None).0; // [b, steps, hidden]
        }
        // The top layer's output at the last step is its last hidden state.
        let last = h
            .clone()
            .narrow(1, steps.saturating_sub(1), 1)
            .squeeze_dim::<2>(1); // [b, hidden]
        (self.to_latent.forward(last), h) // [b, latent]
    }

    /// Decodes latent vectors to `steps` rows of an image.
    ///
    /// # Shapes
    /// - `z`: `[batch, latent]`
    /// - returns `[batch, channels, steps, features]`, pixels in (0, 1), or any value with a
    ///   linear output
    pub fn decode(&self, z: Tensor<2>, steps: usize) -> Tensor<4> {
        let hidden = self.to_hidden.forward(z.clone()); // [b, hidden]
                                                        // Every layer starts from the same hidden state, cells from zero (seed 004).
        let initial = LstmState::new(hidden.zeros_like(), hidden);
        let mut h = z.unsqueeze_dim::<3>(1).repeat_dim(1, steps); // [b, steps, latent]
        for lstm in &self.decoder {
            h = lstm.forward(h, Some(initial.clone())).0; // [b, steps, hidden]
        }
        let rows = self.to_features.forward(h); // [b, steps, c * features]
        let rows = if self.linear_output {
            rows
        } else {
            sigmoid(rows)
        };
        let [batch, _, _] = rows.dims();
        rows.reshape([batch, steps, self.channels, self.features])
            .swap_dims(1, 2) // [b, c, steps, features]
    }

    /// Features each time step reads: `channels * features` (a window's sensors).
    pub fn features_per_step(&self) -> usize {
        self.channels * self.features
    }

    /// Reconstructs images through the latent bottleneck.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, steps, features]`
    /// - returns (reconstruction `[batch, channels, steps, features]`, latent `[batch, latent]`)
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<2>) {
        let [_, _, steps, _] = x.dims();
        let z = self.encode(x);
        (self.decode(z.clone(), steps), z)
    }
}

impl LatentJudged for LstmAutoencoder {
    latent_score_field!();

    /// The reconstruction's detection, with the top encoder layer's states averaged over
    /// four bands of rows: the last state alone (the latent) barely varies in direction,
    /// the states along the rows keep where the strokes are.
    fn detect_with_latent(&self, input: Tensor<4>, clean: Tensor<4>) -> (Tensor<2>, Detection) {
        let [_, _, steps, _] = input.dims();
        let (z, states) = self.encode_with_states(input);
        let reconstruction = self.decode(z, steps);
        let [batch, _, hidden] = states.dims();
        let bands = adaptive_avg_pool2d(
            states.swap_dims(1, 2).reshape([batch, hidden, steps, 1]),
            [BANDS, 1],
        ); // [b, hidden, 4, 1]
        (
            bands.reshape([batch, hidden * BANDS]),
            Detection::from_reconstruction(clean, reconstruction),
        )
    }
}

impl Detector for LstmAutoencoder {
    fn detect_from(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection {
        self.judged_detection(input, clean)
    }

    fn combined_statistics(&self) -> Option<&CombinedStatistics> {
        self.judged_statistics()
    }

    fn input_size(&self) -> usize {
        self.steps
    }

    fn score_kind(&self) -> ScoreKind {
        self.judged_score_kind(SCORE_KIND)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_in_as_steps_and_come_back_as_an_image() {
        let device = Device::flex();
        let config = LstmAutoencoderConfig::new().with_hidden(16).with_latent(8);
        let model = config.init(&device);
        let x = Tensor::<4>::zeros([3, 1, 28, 28], &device);
        let (reconstruction, latent) = model.forward(x);
        assert_eq!(reconstruction.dims(), [3, 1, 28, 28]);
        assert_eq!(latent.dims(), [3, 8]);
        assert_eq!(model.input_size(), 28);
    }

    #[test]
    fn one_layer_and_short_sequences_work_too() {
        let device = Device::flex();
        let model = LstmAutoencoderConfig::new()
            .with_features(5)
            .with_steps(7)
            .with_hidden(4)
            .with_latent(3)
            .with_layers(1)
            .init(&device);
        let x = Tensor::<4>::ones([2, 1, 7, 5], &device);
        let detection = model.detect(x);
        assert_eq!(detection.reconstruction.dims(), [2, 1, 7, 5]);
        assert_eq!(detection.mse.dims(), [2]);
    }

    #[test]
    fn a_linear_output_leaves_the_range_a_sigmoid_keeps() {
        let device = Device::flex();
        let config = LstmAutoencoderConfig::new()
            .with_features(5)
            .with_steps(8)
            .with_hidden(8)
            .with_latent(4);
        let x = Tensor::<4>::ones([4, 1, 8, 5], &device) * 3.0;
        let values = |model: LstmAutoencoder| {
            let (reconstruction, _) = model.forward(x.clone());
            reconstruction
                .into_data()
                .try_into_vec::<f32>()
                .unwrap_or_default()
        };
        device.seed(3);
        let squashed = values(config.init(&device));
        assert!(squashed.iter().all(|v| *v > 0.0 && *v < 1.0));
        device.seed(3);
        let linear = values(config.with_linear_output(Some(true)).init(&device));
        assert_eq!(linear.len(), squashed.len());
        assert!(linear.iter().any(|v| *v <= 0.0), "{linear:?}");
    }

    #[test]
    fn colour_planes_are_read_side_by_side_in_each_step() {
        let device = Device::flex();
        let model = LstmAutoencoderConfig::new()
            .with_channels(3)
            .with_features(64)
            .with_steps(64)
            .with_hidden(8)
            .with_latent(4)
            .init(&device);
        assert_eq!(model.input_size(), 64);
        let x = Tensor::<4>::ones([2, 3, 64, 64], &device);
        let (reconstruction, latent) = model.forward(x);
        assert_eq!(reconstruction.dims(), [2, 3, 64, 64]);
        assert_eq!(latent.dims(), [2, 4]);
    }
}
