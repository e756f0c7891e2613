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
use crate::train::{self_supervised_step, BatchSchedule, StepReport, Trainer, TrainingConfig};

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
/// Of the [`TrainingConfig`] it reads the epochs, batch size, learning rate and seed; the
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
    learning_rate: f64,
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
            learning_rate: training.learning_rate,
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
            self.learning_rate,
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
            learning_rate: self.learning_rate,
            input_noise: self.input_noise,
            device,
        })
    }
}

/// The windows at `indices` as a `[n, 1, length, sensors]` tensor on `device`.
fn window_tensor(
    windows: &Windows,
    indices: impl ExactSizeIterator<Item = usize>,
    device: &Device,
) -> Tensor<4> {
    let n = indices.len();
    let mut values = Vec::with_capacity(n * windows.length * windows.sensors);
    for i in indices {
        values.extend_from_slice(windows.window(i));
    }
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

/// Scores `windows` with `model` on `device`, `batch_size` windows at a time, reading the
/// results back asynchronously.
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
    let mut start = 0;
    while start < windows.count() {
        let end = (start + batch_size).min(windows.count());
        let x = window_tensor(windows, start..end, device); // [b, 1, length, sensors]
        let (reconstruction, _) = model.forward(x.clone()); // [b, 1, length, sensors]
        let squared = (x - reconstruction.clone()).square(); // [b, 1, length, sensors]
        let mse = per_image_mean(squared.clone()); // [b]
        scores.mse.extend(read_vec(mse.into_data_async().await)?);
        scores
            .squared_errors
            .extend(read_vec(squared.into_data_async().await)?);
        scores
            .reconstructions
            .extend(read_vec(reconstruction.into_data_async().await)?);
        start = end;
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use burn::tensor::read_sync;

    /// Six windows of 4 steps x 2 sensors: window `w` holds `w` everywhere but its second
    /// sensor's last step, `-w`.
    fn windows() -> Windows {
        let (count, length, sensors) = (6, 4, 2);
        let mut values = Vec::new();
        for w in 0..count {
            for t in 0..length {
                for s in 0..sensors {
                    let last = t == length - 1 && s == 1;
                    values.push(if last { -(w as f32) } else { w as f32 } * 0.5);
                }
            }
        }
        Windows {
            values,
            starts: (0..count).map(|w| w * 2).collect(),
            labels: None,
            length,
            sensors,
        }
    }

    fn small() -> LstmAutoencoderConfig {
        LstmAutoencoderConfig::new()
            .with_hidden(8)
            .with_latent(4)
            .with_layers(1)
    }

    #[test]
    fn windows_go_in_as_one_channel_images_in_order() {
        let windows = windows();
        let x = window_tensor(&windows, [4, 1].into_iter(), &Device::flex());
        assert_eq!(x.dims(), [2, 1, 4, 2]);
        let values = x.into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(&values[..8], windows.window(4));
        assert_eq!(&values[8..], windows.window(1));
    }

    #[test]
    fn the_config_fits_the_windows_with_a_linear_output() {
        let config = small()
            .with_channels(3)
            .with_score(Some(crate::score::ScoreKind::Neighbour))
            .for_series(32, 5);
        assert_eq!(
            (
                config.channels,
                config.steps,
                config.features,
                config.hidden
            ),
            (1, 32, 5, 8)
        );
        assert_eq!((config.linear_output, config.score), (Some(true), None));
    }

    #[test]
    fn a_run_takes_one_step_per_batch_of_windows() {
        let training = TrainingConfig::new()
            .with_epochs(2)
            .with_batch_size(4)
            .with_learning_rate(1e-2)
            .with_seed(5);
        let mut trainer =
            SeriesTrainer::new(&small(), &training, &windows(), &Device::flex()).unwrap();
        assert_eq!(trainer.total_steps(), 4);
        let mut reports = Vec::new();
        while let Some(report) = read_sync(trainer.step()).unwrap() {
            reports.push(report);
        }
        let sizes: Vec<usize> = reports.iter().map(|r| r.images).collect();
        assert_eq!(sizes, [4, 2, 4, 2]);
        assert_eq!(reports[3].progress.step, 4);
        assert!(reports
            .iter()
            .all(|r| r.losses[0].0 == "reconstruction" && r.losses[0].1.is_finite()));
        assert_eq!(trainer.into_model().unwrap().features_per_step(), 2);
    }

    #[test]
    fn the_batches_are_the_same_for_a_seed() {
        // The weights' initialisation is seeded too, but Burn's CPU generator is shared by
        // the tests running in parallel, so only the batch order is compared here.
        let batches = |seed| {
            let training = TrainingConfig::new().with_batch_size(4).with_seed(seed);
            let trainer =
                SeriesTrainer::new(&small(), &training, &windows(), &Device::flex()).unwrap();
            let mut schedule = trainer.schedule.clone();
            std::iter::from_fn(|| schedule.next_batch().map(|(indices, _)| indices))
                .collect::<Vec<_>>()
        };
        assert_eq!(batches(5), batches(5));
        assert_ne!(batches(5), batches(6));
    }

    /// Scores of windows of 2 steps x 2 sensors whose squared errors are `errors[w]` at
    /// every step of sensor 0 and `errors[w] * 10` of sensor 1.
    fn constant_scores(errors: &[f32]) -> WindowScores {
        WindowScores {
            mse: errors.iter().map(|e| e * 5.5).collect(),
            squared_errors: errors
                .iter()
                .flat_map(|&e| [e, e * 10.0, e, e * 10.0])
                .collect(),
            reconstructions: Vec::new(),
            length: 2,
            sensors: 2,
        }
    }

    #[test]
    fn per_sensor_means_average_each_sensors_steps() {
        let scores = WindowScores {
            mse: vec![0.0; 2],
            squared_errors: vec![1.0, 2.0, 3.0, 6.0, 0.0, 0.0, 4.0, 8.0],
            reconstructions: Vec::new(),
            length: 2,
            sensors: 2,
        };
        assert_eq!(scores.per_sensor_mean(), [2.0, 4.0, 2.0, 4.0]);
    }

    #[test]
    fn the_error_scale_scores_the_most_unusual_sensor_both_ways() {
        let normal = constant_scores(&[0.5, 1.0, 2.0, 1.0]);
        let scale = SensorErrorScale::fit(&normal).unwrap();
        // ln(0.5), ln(1), ln(2), ln(1): mean 0, spread ln(2) / sqrt(2); sensor 1 + ln(10).
        let spread = std::f32::consts::LN_2 / 2f32.sqrt();
        assert!(scale.mean[0].abs() < 1e-6 && (scale.mean[1] - 10f32.ln()).abs() < 1e-5);
        assert!(
            scale.std.iter().all(|s| (s - spread).abs() < 1e-5),
            "{scale:?}"
        );
        // A normal window, one four times worse, one whose error vanished (a flat line).
        let test = constant_scores(&[1.0, 4.0, 1e-4]);
        let z = scale.z_scores(&test).unwrap();
        assert!(z[0].abs() < 1e-5 && z[1].abs() < 1e-4, "{z:?}");
        assert!((z[2] - 2.0 * 2f32.sqrt()).abs() < 1e-4, "{z:?}");
        let score = scale.score(&test).unwrap();
        assert!(
            score[0] < 1e-4 && score[1] > 2.0 && score[2] > 10.0,
            "{score:?}"
        );
        // Sensor 1 alone goes wrong in a window: it is the worst.
        let mut one = constant_scores(&[1.0]);
        one.squared_errors[1] = 1000.0;
        assert_eq!(scale.worst_sensor(&one).unwrap(), [1]);
        // Another sensor count, or nothing to fit on, is refused.
        let other = WindowScores {
            sensors: 3,
            ..WindowScores::default()
        };
        assert_eq!(
            scale.score(&other),
            Err(SeriesModelError::Sensors {
                expected: 2,
                found: 3
            })
        );
        assert_eq!(
            SensorErrorScale::fit(&constant_scores(&[])),
            Err(SeriesModelError::NoWindows)
        );
    }

    #[test]
    fn a_constant_error_gets_the_smallest_spread() {
        let scale = SensorErrorScale::fit(&constant_scores(&[1.0, 1.0])).unwrap();
        assert_eq!(scale.std, [MIN_LOG_SPREAD, MIN_LOG_SPREAD]);
    }

    #[test]
    fn a_denoising_run_trains_on_noisy_inputs() {
        let training = TrainingConfig::new().with_batch_size(6).with_seed(5);
        let mut trainer = SeriesTrainer::new(&small(), &training, &windows(), &Device::flex())
            .unwrap()
            .with_input_noise(0.5);
        assert_eq!(trainer.input_noise, 0.5);
        let report = read_sync(trainer.step()).unwrap().unwrap();
        assert!(report.losses[0].1.is_finite());
        let none = SeriesTrainer::new(&small(), &training, &windows(), &Device::flex())
            .unwrap()
            .with_input_noise(-1.0);
        assert_eq!(none.input_noise, 0.0);
    }

    #[test]
    fn no_window_is_refused() {
        let empty = Windows {
            values: Vec::new(),
            starts: Vec::new(),
            labels: None,
            length: 4,
            sensors: 2,
        };
        let refused = SeriesTrainer::new(&small(), &TrainingConfig::new(), &empty, &Device::flex());
        assert!(matches!(refused, Err(SeriesModelError::NoWindows)));
    }

    #[test]
    fn scores_are_the_mean_of_each_windows_squared_errors() {
        let device = Device::flex();
        let windows = windows();
        let model = small().for_series(4, 2).init(&device);
        let scores = read_sync(score_windows(&model, &windows, 4, &device)).unwrap();
        assert_eq!(scores.mse.len(), 6);
        assert_eq!(scores.squared_errors.len(), 6 * 4 * 2);
        // Each squared error is that of the reconstruction it comes with.
        for (i, (&x, &r)) in windows
            .values
            .iter()
            .zip(&scores.reconstructions)
            .enumerate()
        {
            assert!(((x - r).powi(2) - scores.squared_errors[i]).abs() < 1e-4);
        }
        for (w, mse) in scores.mse.iter().enumerate() {
            let own = &scores.squared_errors[w * 8..(w + 1) * 8];
            let mean = own.iter().sum::<f32>() / 8.0;
            assert!((mse - mean).abs() < 1e-5, "window {w}: {mse} vs {mean}");
        }
        let per_step = scores.per_step();
        assert_eq!(per_step.len(), 6 * 4);
        let (a, b) = (scores.of_sensor(0), scores.of_sensor(1));
        assert_eq!((a.len(), b.len()), (24, 24));
        assert!((per_step[3] - (a[3] + b[3]) / 2.0).abs() < 1e-6);
        assert!(scores.of_sensor(2).is_empty());
        // A model of another sensor count refuses the windows.
        let other = small().for_series(4, 3).init(&device);
        assert_eq!(
            read_sync(score_windows(&other, &windows, 4, &device)).unwrap_err(),
            SeriesModelError::Sensors {
                expected: 3,
                found: 2
            }
        );
    }
}
