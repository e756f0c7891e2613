//! One run on a sensor series (source 004 §4.4-4.5), shared by the CLI and the browser's
//! worker: the series windowed and split as the run's settings say ([`SeriesData`]), the
//! LSTM autoencoder trained on its normal training windows ([`train_series`], with the
//! image runs' fallback device and divergence watch), every window scored and summarised
//! like an image model's test set ([`evaluate_series`]), and what a page draws of it
//! ([`SeriesTrace`]: the readings with their reconstruction and each reading's error).

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{CheckpointMeta, TrainingRecord};
use crate::data::series::{
    errors_per_step, DemoSeries, Series, SeriesError, SeriesSplit, SeriesTrace, Standardisation,
    WindowFeatures, WindowSpec, Windows,
};
use crate::divergence::{Divergence, DivergenceWatch};
use crate::eval::{EvalError, Evaluation};
use crate::lstm_ae::{
    score_windows, LstmAutoencoder, LstmAutoencoderConfig, SensorErrorScale, SeriesTrainer,
    WindowScores,
};
use crate::run::{back_off, FellBack, Lifeboat, RunError, RunObserver};
use crate::score::ScoreKind;
use crate::settings::{RunSettings, SeriesOptions};
use crate::threshold::{fit, Threshold, ThresholdMethod};
use crate::train::{batch_rows, Trainer, TrainingConfig};
use crate::zoo::{ModelConfig, ModelKind};

/// The demo series' seed: the bundled demo is always the same series, so a link or a
/// checkpoint that names it names one series.
pub const DEMO_SEED: u64 = 11;
/// Most points a [`SeriesTrace`] holds per sensor: a longer test part is drawn in buckets
/// of steps (a page has no more pixels than that).
pub const TRACE_POINTS: usize = 3_000;

/// A series cut into a run's windows: its first part trains, the rest tests; and the
/// windows as the model reads them ([`WindowFeatures`]: each sensor's shape within the
/// window and its step-to-step differences, scaled on the training windows).
#[derive(Debug, Clone)]
pub struct SeriesData {
    /// Where it came from ("demo series", a file name).
    pub name: String,
    /// The readings.
    pub series: Series,
    /// How it is windowed, split and learned.
    pub options: SeriesOptions,
    /// The standardised windows of each part.
    pub split: SeriesSplit,
    /// How a window becomes the model's input.
    pub features: WindowFeatures,
    /// The training windows as the model reads them.
    pub train_input: Windows,
    /// The test windows as the model reads them.
    pub test_input: Windows,
}

impl SeriesData {
    /// `series` cut into windows as `options` say; refuses a stride longer than a window
    /// (steps between two windows would never be scored) and whatever
    /// [`SeriesSplit::new`] refuses.
    pub fn new(
        name: impl Into<String>,
        series: Series,
        options: SeriesOptions,
    ) -> Result<Self, RunError> {
        let split = split(&series, options, None)?;
        let features = WindowFeatures::fit(&split.train);
        Self::with(name.into(), series, options, split, features)
    }

    /// `series` as the model of `record` reads it: the same sensors (else refused), cut
    /// into its windows, standardised and scaled with its training statistics (not
    /// refitted: a level the model never saw must stand out).
    pub fn for_model(
        name: impl Into<String>,
        series: Series,
        record: &SeriesRecord,
    ) -> Result<Self, RunError> {
        record.check(&series).map_err(RunError::Setting)?;
        let split = split(&series, record.options, Some(record.standardisation()))?;
        let features = WindowFeatures {
            scale: record.feature_scale.clone(),
        };
        Self::with(name.into(), series, record.options, split, features)
    }

    fn with(
        name: String,
        series: Series,
        options: SeriesOptions,
        split: SeriesSplit,
        features: WindowFeatures,
    ) -> Result<Self, RunError> {
        let train_input = features.apply(&split.train)?;
        let test_input = features.apply(&split.test)?;
        Ok(Self {
            name,
            series,
            options,
            split,
            features,
            train_input,
            test_input,
        })
    }

    /// The bundled demo series ([`DemoSeries`] of [`DEMO_SEED`]) cut as `options` say.
    pub fn demo(options: SeriesOptions) -> Result<Self, RunError> {
        Self::new("demo series", DemoSeries::generate(DEMO_SEED).0, options)
    }

    /// Whether each test window holds a labelled anomaly (all `false` without labels).
    pub fn test_is_anomaly(&self) -> Vec<bool> {
        let test = &self.split.test;
        test.labels
            .clone()
            .unwrap_or_else(|| vec![false; test.count()])
    }

    /// Each test window's name: "steps 3104-3135 (2024-03-03T03:44)".
    pub fn test_names(&self) -> Vec<String> {
        let length = self.options.length;
        self.split
            .test
            .starts
            .iter()
            .map(|&start| {
                let steps = format!("steps {start}-{}", start + length - 1);
                match self.time(start) {
                    Some(time) => format!("{steps} ({time})"),
                    None => steps,
                }
            })
            .collect()
    }

    /// The timestamp of `step`, where the series has them.
    fn time(&self, step: usize) -> Option<&str> {
        self.series
            .timestamps
            .as_ref()
            .and_then(|t| t.get(step))
            .map(String::as_str)
    }

    /// What a checkpoint of a model trained on this data and judged by `error` records.
    pub fn record(&self, error: &SensorErrorScale) -> SeriesRecord {
        let standardisation = &self.split.standardisation;
        SeriesRecord {
            source: self.name.clone(),
            sensors: self.series.sensors.clone(),
            options: self.options,
            mean: standardisation.mean.clone(),
            std: standardisation.std.clone(),
            feature_scale: self.features.scale.clone(),
            error: error.clone(),
        }
    }
}

/// `series` split in time order into `options`' windows, standardised with the statistics
/// given or else fitted on its training part; refuses a stride longer than a window.
fn split(
    series: &Series,
    options: SeriesOptions,
    standardisation: Option<Standardisation>,
) -> Result<SeriesSplit, RunError> {
    if options.stride > options.length {
        return Err(RunError::Setting(format!(
            "a stride of {} steps skips steps between windows of {}: make it at most the \
             window length",
            options.stride, options.length
        )));
    }
    let spec = WindowSpec {
        length: options.length,
        stride: options.stride,
    };
    let fraction = options.train_fraction;
    Ok(match standardisation {
        Some(fitted) => SeriesSplit::with_standardisation(series, spec, fraction, fitted)?,
        None => SeriesSplit::new(series, spec, fraction)?,
    })
}

/// What a series model's checkpoint records of the data it learned: the sensors it reads
/// (in column order), how the series was windowed, the standardisation fitted on the
/// training part's normal steps, the scale of each input channel, and the sensor-error
/// statistics its windows are scored by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesRecord {
    /// Where the series came from ("demo series", a file name).
    pub source: String,
    /// The sensors, in the order the model reads them.
    pub sensors: Vec<String>,
    /// Window length, stride, training share and input noise.
    pub options: SeriesOptions,
    /// Each sensor's mean on the training part.
    pub mean: Vec<f32>,
    /// Each sensor's standard deviation there.
    pub std: Vec<f32>,
    /// Each input channel's spread over the training windows ([`WindowFeatures::scale`]).
    pub feature_scale: Vec<f32>,
    /// Each channel's log-error statistics over the training windows: a window's score is
    /// its most unusual channel's ([`SensorErrorScale`]).
    pub error: SensorErrorScale,
}

impl SeriesRecord {
    /// Whether `series` has the sensors the model reads, in its order; else what differs.
    pub fn check(&self, series: &Series) -> Result<(), String> {
        if series.sensors == self.sensors {
            Ok(())
        } else {
            Err(format!(
                "the model reads the sensors {}, the series has {}",
                self.sensors.join(", "),
                series.sensors.join(", ")
            ))
        }
    }

    /// The standardisation the model was trained with.
    pub fn standardisation(&self) -> Standardisation {
        Standardisation {
            mean: self.mean.clone(),
            std: self.std.clone(),
        }
    }
}

/// A trained series model with what it was trained with.
pub struct TrainedSeries {
    /// The LSTM autoencoder.
    pub model: LstmAutoencoder,
    /// Its architecture, fitted to the windows.
    pub config: LstmAutoencoderConfig,
    /// The run's training settings.
    pub training: TrainingConfig,
    /// Steps taken.
    pub steps: usize,
    /// Whether the observer stopped the run before its last step.
    pub stopped_early: bool,
    /// The loss of the last step.
    pub final_loss: Option<f32>,
    /// Training windows it learned from.
    pub train_windows: usize,
    /// Why the run was stopped as diverged, if it was (the model is the last good one).
    pub diverged: Option<Divergence>,
    /// Where the run moved to its fallback device, if it did (the model is there now).
    pub fell_back: Option<FellBack>,
}

/// The LSTM autoencoder `settings` describe, fitted to `data`'s windows.
fn network(settings: &RunSettings, data: &SeriesData) -> Result<LstmAutoencoderConfig, RunError> {
    if !settings.protocol.is_series() || settings.model != ModelKind::LstmAutoencoder {
        return Err(RunError::Setting(format!(
            "a sensor series trains the LSTM autoencoder, not a {} on {}",
            settings.model.label(),
            settings.protocol.label()
        )));
    }
    if settings.epochs == 0 || settings.batch_size == 0 {
        return Err(RunError::Setting(
            "epochs and batch size must be at least 1".into(),
        ));
    }
    match settings.model_config()? {
        ModelConfig::LstmAutoencoder(config) => {
            let channels = WindowFeatures::channels(data.series.sensor_count());
            Ok(config.for_series(data.options.length, channels))
        }
        other => Err(RunError::Setting(format!(
            "a sensor series trains the LSTM autoencoder, not a {}",
            other.model_kind().label()
        ))),
    }
}

/// Trains the LSTM autoencoder `settings` name on `data`'s normal training windows,
/// reporting every step to `observer`. With a `fallback` device (the CPU, for a run on
/// WebGPU) the run keeps a copy of itself there and goes on from it if a step fails, as
/// [`crate::run::train_falling_back`] does for images.
pub async fn train_series(
    settings: &RunSettings,
    data: &SeriesData,
    device: &Device,
    fallback: Option<&Device>,
    observer: &impl RunObserver,
) -> Result<TrainedSeries, RunError> {
    // Boxed: the step loop's future is large (see `run::train`).
    Box::pin(train_on(settings, data, device, fallback, observer)).await
}

async fn train_on(
    settings: &RunSettings,
    data: &SeriesData,
    device: &Device,
    fallback: Option<&Device>,
    observer: &impl RunObserver,
) -> Result<TrainedSeries, RunError> {
    let config = network(settings, data)?;
    let training = TrainingConfig::new()
        .with_epochs(settings.epochs)
        .with_batch_size(settings.batch_size)
        .with_learning_rate(settings.learning_rate())
        .with_learning_rate_schedule(Some(settings.learning_rate_schedule))
        .with_seed(settings.seed);
    let mut trainer = SeriesTrainer::new(&config, &training, &data.train_input, device)?
        .with_input_noise(settings.series.input_noise);
    let total = trainer.total_steps();
    let mut lifeboat = Lifeboat::for_run(&trainer, fallback, total / settings.epochs).await?;
    let (mut steps, mut final_loss, mut stopped_early) = (0, None, false);
    let (mut diverged, mut fell_back) = (None, None);
    let mut watch = DivergenceWatch::default();
    // The run two steps back: a loss that is not finite was computed with weights the step
    // before already spoiled.
    let mut two_back: Option<SeriesTrainer> = None;
    loop {
        let one_back = trainer.clone();
        let step = match trainer.step().await {
            Ok(step) => step,
            Err(error) => match lifeboat.take() {
                Some(boat) => {
                    // The copy's device is the one the run goes on on: its trainer holds it.
                    let (copy, event, _) = boat.take_over(steps + 1, error.to_string(), observer);
                    (trainer, steps, two_back) = (copy, event.resumed_from, None);
                    fell_back = Some(event);
                    continue;
                }
                None => return Err(error.into()),
            },
        };
        let Some(step) = step else {
            break;
        };
        observer.step(&step);
        observer.yield_now().await;
        if let Some(divergence) = watch.check(step.progress.step, &step.losses) {
            let at = step.progress.step;
            steps = back_off(&divergence, at, &mut trainer, two_back.take(), one_back);
            (diverged, stopped_early) = (Some(divergence), true);
            break;
        }
        two_back = Some(one_back);
        steps = step.progress.step;
        final_loss = step.losses.first().map(|&(_, loss)| loss);
        if observer.should_stop() {
            stopped_early = steps < step.progress.total_steps;
            break;
        }
        if let Some(boat) = lifeboat.as_mut().filter(|boat| boat.due(steps)) {
            boat.refresh(&trainer, steps).await;
        }
    }
    if steps == 0 && diverged.is_none() {
        return Err(RunError::NothingLearned);
    }
    let model = trainer.into_model().ok_or(RunError::NothingLearned)?;
    Ok(TrainedSeries {
        model,
        config,
        training,
        steps,
        stopped_early,
        final_loss,
        train_windows: data.split.train.count(),
        diverged,
        fell_back,
    })
}

/// What a series model's window scores are called.
pub const SCORE_LABEL: &str = "largest sensor error z-score";

/// A series model's evaluation: every test window's score (its most unusual input
/// channel's log error, standardised on the training windows: [`SensorErrorScale`])
/// summarised as an image model's test set is (thresholds, AUC, histogram; the
/// evaluation's score kind stays MSE, the error it starts from), the errors themselves, and
/// the trace a page draws.
pub struct SeriesEvaluated {
    /// Window scores, thresholds, AUC and histogram.
    pub evaluation: Evaluation,
    /// The statistics the scores are standardised by.
    pub error: SensorErrorScale,
    /// Each test window's errors.
    pub test: WindowScores,
    /// The test part's readings, reconstructions and errors, step by step.
    pub trace: SeriesTrace,
}

/// Scores `data`'s training windows (the thresholds: `own` first where the model has one,
/// then one per `methods`) and its test windows with `model`; `error` is the model's own
/// sensor-error scale where it has one, else it is fitted on the training windows. Windows
/// go in batches of the run's `batch_size` ([`batch_rows`]).
pub async fn evaluate_series(
    model: &LstmAutoencoder,
    data: &SeriesData,
    batch_size: usize,
    error: Option<&SensorErrorScale>,
    own: Option<Threshold>,
    methods: &[ThresholdMethod],
    device: &Device,
) -> Result<SeriesEvaluated, RunError> {
    // Sent at the shape the model trained at, so a GPU compiles no kernel again.
    let batch = batch_rows(batch_size, data.train_input.count());
    let train = score_windows(model, &data.train_input, batch, device).await?;
    let test = score_windows(model, &data.test_input, batch, device).await?;
    let error = match error {
        Some(error) => error.clone(),
        None => SensorErrorScale::fit(&train)?,
    };
    let train_scores = error.score(&train)?;
    let mut thresholds: Vec<Threshold> = own.into_iter().collect();
    for &method in methods {
        thresholds.push(fit(method, &train_scores).map_err(EvalError::from)?);
    }
    let evaluation = Evaluation::of_scores(
        ScoreKind::Mse,
        thresholds,
        error.score(&test)?,
        &data.test_is_anomaly(),
    )?
    .with_train_scores(train_scores);
    let trace = SeriesTrace::of(data, &test)?;
    Ok(SeriesEvaluated {
        evaluation,
        error,
        test,
        trace,
    })
}

impl TrainedSeries {
    /// What this model's checkpoint says besides its weights: the evaluation's first
    /// threshold, `settings`, the AUC and `data`'s [`SeriesRecord`].
    pub fn checkpoint_meta(
        &self,
        settings: &RunSettings,
        data: &SeriesData,
        evaluated: &SeriesEvaluated,
    ) -> Result<CheckpointMeta, RunError> {
        let threshold = *evaluated
            .evaluation
            .thresholds
            .first()
            .ok_or(EvalError::NoThresholdMethod)?;
        let record = TrainingRecord {
            config: self.training.clone(),
            steps: self.steps,
            anomaly_digit: None,
            train_images: self.train_windows,
            final_loss: self.final_loss,
            validation: None,
        };
        let mut meta = CheckpointMeta::new(
            &self.model,
            ModelConfig::LstmAutoencoder(self.config.clone()),
            ScoreKind::Mse,
            threshold,
            record,
        );
        meta.settings = Some(settings.clone());
        meta.auc = evaluated.evaluation.auc;
        meta.series = Some(data.record(&evaluated.error));
        Ok(meta)
    }
}

impl SeriesTrace {
    /// The trace of `data`'s test part as `scores` (its test inputs') reconstruct it.
    pub fn of(data: &SeriesData, scores: &WindowScores) -> Result<Self, SeriesError> {
        let windows = &data.split.test;
        let sensors = data.series.sensor_count();
        let channels = scores.sensors;
        let (length, steps) = (windows.length, data.series.steps());
        let (Some(&first), Some(&last)) = (windows.starts.first(), windows.starts.last()) else {
            return Err(SeriesError::NoTestWindow);
        };
        let end = last + length;
        let span = end - first;
        let bucket = span.div_ceil(TRACE_POINTS).max(1);
        let points = span.div_ceil(bucket);
        let standardisation = &data.split.standardisation;
        let mut values = vec![0.0; points * sensors];
        let mut reconstruction = vec![0.0; points * sensors];
        let mut errors = vec![0.0f32; points * sensors];
        for s in 0..sensors {
            let (mean, std) = (standardisation.mean[s], standardisation.std[s]);
            // The model rebuilds each window's shape (readings less the window's mean, in
            // channel s, scaled): the window's own mean puts it back at its level.
            let scale = data.features.scale.get(s).copied().unwrap_or(1.0);
            let rebuilt: Vec<f32> = column(&scores.reconstructions, channels, s)
                .chunks(length.max(1))
                .enumerate()
                .flat_map(|(w, shape)| {
                    let level = window_mean(windows.window(w), sensors, s);
                    shape.iter().map(move |&r| r * scale + level)
                })
                .collect();
            let rebuilt = errors_per_step(&rebuilt, &windows.starts, length, steps)?;
            // A sensor's error: its shape's and its differences' (channels s and
            // sensors + s).
            let mut squared = scores.of_sensor(s);
            for (e, d) in squared.iter_mut().zip(scores.of_sensor(sensors + s)) {
                *e += d;
            }
            let squared = errors_per_step(&squared, &windows.starts, length, steps)?;
            for p in 0..points {
                let bucket_steps = first + p * bucket..(first + (p + 1) * bucket).min(end);
                let n = bucket_steps.len() as f32;
                let at = p * sensors + s;
                for t in bucket_steps {
                    let value = data.series.value(t, s);
                    values[at] += value / n;
                    // Every step from the first window's start to the last one's end is
                    // covered (the stride is at most the window's length).
                    reconstruction[at] += rebuilt[t].map_or(value, |r| r * std + mean) / n;
                    errors[at] = errors[at].max(squared[t].unwrap_or(0.0));
                }
            }
        }
        let labels = match &data.series.labels {
            Some(labels) => (0..points)
                .map(|p| {
                    labels[first + p * bucket..(first + (p + 1) * bucket).min(end)].contains(&true)
                })
                .collect(),
            None => Vec::new(),
        };
        let times = data
            .time(first)
            .zip(data.time(end - 1))
            .map(|(a, b)| (a.to_owned(), b.to_owned()));
        Ok(Self {
            sensors: data.series.sensors.clone(),
            first_step: first,
            bucket,
            points,
            values,
            reconstruction,
            errors,
            labels,
            window_starts: windows.starts.clone(),
            window_length: length,
            times,
        })
    }
}

/// The mean of sensor `s` over a `[length, sensors]` window.
fn window_mean(window: &[f32], sensors: usize, s: usize) -> f32 {
    let readings = column(window, sensors, s);
    readings.iter().sum::<f32>() / readings.len().max(1) as f32
}

/// Sensor `s` of `[.., sensors]` readings, in order.
fn column(values: &[f32], sensors: usize, s: usize) -> Vec<f32> {
    values.iter().skip(s).step_by(sensors).copied().collect()
}

#[cfg(test)]
mod tests;
