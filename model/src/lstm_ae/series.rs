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
use burn::tensor::{Device, Tensor, TensorData};

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
            device,
        })
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
        let losses = self_supervised_step(
            &mut self.model,
            &mut self.optimizer,
            self.learning_rate,
            x.clone(),
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
