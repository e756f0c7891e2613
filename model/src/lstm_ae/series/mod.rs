//! The LSTM autoencoder on sensor windows (source 004 §4.4.3, §4.5.1): trained on the
//! standardised training windows of a [`SeriesSplit`](crate::data::series::SeriesSplit),
//! one Adam step per [`Trainer::step`], then judged per window by `mean((x - x^)^2)`, with
//! each reading's squared error kept so a user sees when and in which sensor a window
//! went wrong.
//!
//! A window `[length, sensors]` goes in as a one-channel image `[1, length, sensors]`: one
//! time step per row, one feature per sensor. The decoder ends linearly, as the source's:
//! standardised readings are not confined to [0, 1].

use std::sync::Arc;

use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Tensor, TensorData};

use super::{LstmAutoencoder, LstmAutoencoderConfig};
use crate::data::series::Windows;
use crate::readback::{copy_some, ReadbackError};
use crate::score::{per_image_mean, read_vec, ReadError};
use crate::train::{
    fixed_batches, self_supervised_step, BatchSchedule, LearningRate, StepReport, Trainer,
    TrainingConfig,
};

/// Why windows could not be trained on or scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeriesModelError {
    /// There is no window to train on.
    #[error("no window to train on: the training part holds no normal window")]
    NoWindows,
    /// The windows have another number of sensors than the model reads per step.
    #[error("the windows have {found} sensors, the model reads {expected} per step")]
    Sensors {
        /// Features per step of the model.
        expected: usize,
        /// Sensors per step of the windows.
        found: usize,
    },
    /// Reading results back from the device failed.
    #[error(transparent)]
    Read(#[from] ReadError),
}

impl LstmAutoencoderConfig {
    /// This configuration's sizes (hidden, latent, layers) for windows of `length` steps of
    /// `sensors` readings: one channel, a linear output, judged by its MSE.
    pub fn for_series(self, length: usize, sensors: usize) -> Self {
        self.with_channels(1)
            .with_steps(length)
            .with_features(sensors)
            .with_linear_output(Some(true))
            .with_score(None)
    }
}

/// Trains an [`LstmAutoencoder`] on normal sensor windows, one Adam step per
/// [`Trainer::step`], over batches of windows reshuffled every epoch (the order is fixed
/// by [`TrainingConfig::seed`]).
///
/// Of the [`TrainingConfig`] it reads the epochs, batch size, learning rate (and its
/// schedule) and seed; the
/// windows come standardised, so its normalisation and pseudo-anomalies do not apply.
#[derive(Clone)]
pub struct SeriesTrainer {
    model: Option<LstmAutoencoder>,
    /// The model's configuration, fitted to the windows (a copy of the run builds one).
    config: LstmAutoencoderConfig,
    optimizer: ModuleOptimizer,
    schedule: BatchSchedule,
    /// Shared, not copied, by the copies of the run.
    windows: Arc<Windows>,
    rate: LearningRate,
    /// Spread of the noise added to each training input; 0: none.
    input_noise: f64,
    device: Device,
}

impl SeriesTrainer {
    /// Starts a run on `windows` with `config`'s sizes fitted to them
    /// ([`LstmAutoencoderConfig::for_series`]); `device` is any Burn device (autodiff is
    /// enabled here).
    pub fn new(
        config: &LstmAutoencoderConfig,
        training: &TrainingConfig,
        windows: &Windows,
        device: &Device,
    ) -> Result<Self, SeriesModelError> {
        if windows.count() == 0 {
            return Err(SeriesModelError::NoWindows);
        }
        let config = config.clone().for_series(windows.length, windows.sensors);
        let device = device.clone().autodiff();
        device.seed(training.seed);
        Ok(Self {
            model: Some(config.init(&device)),
            config,
            optimizer: AdamConfig::new().init(),
            schedule: BatchSchedule::new(windows.count(), training),
            windows: Arc::new(windows.clone()),
            rate: training.rate(),
            input_noise: 0.0,
            device,
        })
    }

    /// Adds Gaussian noise of spread `std` to every training input, the clean window as
    /// the target (a denoising autoencoder: it learns the shapes windows share, not each
    /// training window's own noise); 0 or less, none.
    pub fn with_input_noise(mut self, std: f64) -> Self {
        self.input_noise = std.max(0.0);
        self
    }

    /// The configuration the model was built with (fitted to the windows).
    pub fn config(&self) -> &LstmAutoencoderConfig {
        &self.config
    }
}

impl Trainer for SeriesTrainer {
    type Model = LstmAutoencoder;

    fn total_steps(&self) -> usize {
        self.schedule.total_steps()
    }

    /// One Adam step on the next batch of windows; the loss is that before the update.
    async fn step(&mut self) -> Result<Option<StepReport>, ReadError> {
        let Some((indices, progress)) = self.schedule.next_batch() else {
            return Ok(None);
        };
        let x = window_tensor(&self.windows, indices.iter().copied(), &self.device); // [b, 1, length, sensors]
        let input = if self.input_noise > 0.0 {
            x.clone() + x.random_like(Distribution::Normal(0.0, self.input_noise))
        // [b, 1, length, sensors]
        } else {
            x.clone()
        };
        let losses = self_supervised_step(
            &mut self.model,
            &mut self.optimizer,
            self.rate.at(progress),
            input,
            x,
        )
        .await?;
        Ok(losses.map(|losses| StepReport {
            progress,
            images: indices.len(),
            losses,
        }))
    }

    fn into_model(self) -> Option<LstmAutoencoder> {
        self.model.map(|m| m.valid())
    }

    async fn copy_to(&self, device: &Device) -> Result<Self, ReadbackError> {
        let device = device.clone().autodiff();
        Ok(Self {
            model: copy_some(self.model.as_ref(), |d| self.config.init(d), &device).await?,
            config: self.config.clone(),
            optimizer: AdamConfig::new().init(),
            schedule: self.schedule.clone(),
            windows: self.windows.clone(),
            rate: self.rate,
            input_noise: self.input_noise,
            device,
        })
    }
}

/// The windows at `indices` as a `[n, 1, length, sensors]` tensor on `device`.
fn window_tensor(
    windows: &Windows,
    indices: impl IntoIterator<Item = usize>,
    device: &Device,
) -> Tensor<4> {
    let values: Vec<f32> = indices
        .into_iter()
        .flat_map(|i| windows.window(i).iter().copied())
        .collect();
    let n = values.len() / (windows.length * windows.sensors).max(1);
    let data = TensorData::new(values, [n, 1, windows.length, windows.sensors]);
    Tensor::from_data(data, device)
}

/// Reconstruction errors of a set of windows, read back, in window order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WindowScores {
    /// Each window's score, `mean((x - x^)^2)` over its steps and sensors, `[count]`.
    pub mse: Vec<f32>,
    /// Each reading's squared error `(x - x^)^2`, `[count, length, sensors]`.
    pub squared_errors: Vec<f32>,
    /// Each reading as the model rebuilt it (standardised, like the windows),
    /// `[count, length, sensors]`.
    pub reconstructions: Vec<f32>,
    /// Steps per window.
    pub length: usize,
    /// Sensors per step.
    pub sensors: usize,
}

impl WindowScores {
    /// Each step's squared error averaged over the sensors, `[count, length]` (what
    /// [`errors_per_step`](crate::data::series::errors_per_step) maps onto the series).
    pub fn per_step(&self) -> Vec<f32> {
        self.squared_errors
            .chunks(self.sensors.max(1))
            .map(|step| step.iter().sum::<f32>() / self.sensors.max(1) as f32)
            .collect()
    }

    /// The squared error of `sensor` at each step, `[count, length]`; empty for a sensor
    /// out of range.
    pub fn of_sensor(&self, sensor: usize) -> Vec<f32> {
        if sensor >= self.sensors {
            return Vec::new();
        }
        self.squared_errors
            .chunks(self.sensors)
            .map(|step| step[sensor])
            .collect()
    }
}

impl WindowScores {
    /// Each window's mean squared error per sensor, `[count, sensors]`.
    pub fn per_sensor_mean(&self) -> Vec<f32> {
        let (length, sensors) = (self.length.max(1), self.sensors.max(1));
        self.squared_errors
            .chunks(length * sensors)
            .flat_map(|window| {
                (0..sensors).map(move |s| {
                    window.iter().skip(s).step_by(sensors).sum::<f32>() / length as f32
                })
            })
            .collect()
    }
}

/// Smallest mean squared error taken to its logarithm: a sensor reproduced exactly.
const MIN_ERROR: f32 = 1e-12;
/// Smallest spread of a sensor's log error: a sensor whose error never varied would make
/// any change infinitely unusual.
const MIN_LOG_SPREAD: f32 = 1e-3;

/// Each sensor's (feature channel's) log mean squared error over normal windows: its mean
/// and spread, fitted on the training windows; a window scores by its most unusual
/// sensor, in either direction (issue 12).
///
/// Standardised per sensor, since sensors are reconstructed unequally well (a raw sum
/// lets the worst-fitted one hide the others); in logarithms, since errors are skewed and
/// span decades; both ways, since a frozen sensor or a vanished noise leaves less error
/// than normal windows ever do (the decoder reproduces its flat line), not more.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SensorErrorScale {
    /// Each sensor's mean of `ln(mean squared error)` over the windows it was fitted on.
    pub mean: Vec<f32>,
    /// Each sensor's spread of it, at least [`MIN_LOG_SPREAD`].
    pub std: Vec<f32>,
}

impl SensorErrorScale {
    /// Fits each sensor's log-error statistics on `scores` of normal (training) windows.
    pub fn fit(scores: &WindowScores) -> Result<Self, SeriesModelError> {
        let sensors = scores.sensors.max(1);
        let logs = log_errors(scores);
        let n = logs.len() / sensors;
        if n == 0 {
            return Err(SeriesModelError::NoWindows);
        }
        let (mut mean, mut std) = (Vec::with_capacity(sensors), Vec::with_capacity(sensors));
        for s in 0..sensors {
            let values = || logs.iter().skip(s).step_by(sensors).map(|&v| f64::from(v));
            let m = values().sum::<f64>() / n as f64;
            let var = values().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64;
            mean.push(m as f32);
            std.push((var.sqrt() as f32).max(MIN_LOG_SPREAD));
        }
        Ok(Self { mean, std })
    }

    /// Each window's standardised log error per sensor, `[count, sensors]`: positive when
    /// a sensor is reconstructed worse than normal, negative when better.
    pub fn z_scores(&self, scores: &WindowScores) -> Result<Vec<f32>, SeriesModelError> {
        if scores.sensors != self.mean.len() {
            return Err(SeriesModelError::Sensors {
                expected: self.mean.len(),
                found: scores.sensors,
            });
        }
        let sensors = self.mean.len();
        Ok(log_errors(scores)
            .iter()
            .enumerate()
            .map(|(i, &v)| (v - self.mean[i % sensors]) / self.std[i % sensors])
            .collect())
    }

    /// Each window's score, `[count]`: its largest absolute z-score over the sensors.
    pub fn score(&self, scores: &WindowScores) -> Result<Vec<f32>, SeriesModelError> {
        let z = self.z_scores(scores)?;
        Ok(z.chunks(self.mean.len().max(1))
            .map(|w| w.iter().fold(0.0f32, |m, v| m.max(v.abs())))
            .collect())
    }

    /// Each window's most unusual sensor (the one its score comes from), `[count]`.
    pub fn worst_sensor(&self, scores: &WindowScores) -> Result<Vec<usize>, SeriesModelError> {
        let z = self.z_scores(scores)?;
        Ok(z.chunks(self.mean.len().max(1))
            .map(|w| {
                (0..w.len())
                    .max_by(|&a, &b| w[a].abs().total_cmp(&w[b].abs()))
                    .unwrap_or(0)
            })
            .collect())
    }
}

/// `ln` of each window's mean squared error per sensor, `[count, sensors]`.
fn log_errors(scores: &WindowScores) -> Vec<f32> {
    scores
        .per_sensor_mean()
        .iter()
        .map(|e| e.max(MIN_ERROR).ln())
        .collect()
}

/// Scores `windows` with `model` on `device`, in batches of exactly `batch_size` windows
/// (the last one topped up), reading the results back asynchronously.
pub async fn score_windows(
    model: &LstmAutoencoder,
    windows: &Windows,
    batch_size: usize,
    device: &Device,
) -> Result<WindowScores, SeriesModelError> {
    if model.features_per_step() != windows.sensors {
        return Err(SeriesModelError::Sensors {
            expected: model.features_per_step(),
            found: windows.sensors,
        });
    }
    let mut scores = WindowScores {
        mse: Vec::with_capacity(windows.count()),
        squared_errors: Vec::with_capacity(windows.values.len()),
        reconstructions: Vec::with_capacity(windows.values.len()),
        length: windows.length,
        sensors: windows.sensors,
    };
    let batch_size = batch_size.max(1);
    for rows in fixed_batches(windows.count(), batch_size) {
        let n = rows.len();
        // Topped up to one shape by repeating the last window; the repeats are dropped.
        let padded = rows
            .clone()
            .chain(std::iter::repeat_n(rows.end - 1, batch_size - n));
        let x = window_tensor(windows, padded, device); // [batch_size, 1, length, sensors]
        let (reconstruction, _) = model.forward(x.clone());
        let (x, reconstruction) = (x.narrow(0, 0, n), reconstruction.narrow(0, 0, n)); // [n, 1, length, sensors]
        let squared = (x - reconstruction.clone()).square(); // [n, 1, length, sensors]
        let mse = per_image_mean(squared.clone()); // [n]
        scores.mse.extend(read_vec(mse.into_data_async().await)?);
        scores
            .squared_errors
            .extend(read_vec(squared.into_data_async().await)?);
        scores
            .reconstructions
            .extend(read_vec(reconstruction.into_data_async().await)?);
    }
    Ok(scores)
}

#[cfg(test)]
mod tests;
