//! Tests of a series run: training, scoring, the checkpoint's record, the trace.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use burn::tensor::read_sync;

use super::*;
use crate::settings::DataProtocol;

/// A short labelled series: two sensors, a sine and its double, a jump on step 70.
fn small() -> SeriesData {
    let steps = 96;
    let mut values = Vec::new();
    for t in 0..steps {
        let x = (t as f32 * 0.4).sin() + if t == 70 { 5.0 } else { 0.0 };
        values.extend([x, 2.0 * x]);
    }
    let labels = (0..steps).map(|t| t == 70).collect();
    let series = Series::new(vec!["a".into(), "b".into()], None, values, Some(labels)).unwrap();
    let windows = SeriesOptions {
        length: 8,
        stride: 4,
        train_fraction: 0.5,
        input_noise: 0.0,
    };
    SeriesData::new("small", series, windows).unwrap()
}

fn settings() -> RunSettings {
    let mut settings = RunSettings::series_recipe(DataProtocol::DemoSeries);
    settings.epochs = 2;
    settings.batch_size = 4;
    settings.hyperparameters.insert("hidden".into(), 8.0);
    settings.hyperparameters.insert("latent".into(), 4.0);
    settings
}

struct Quiet;
impl RunObserver for Quiet {
    fn step(&self, _: &crate::train::StepReport) {}
}

#[test]
fn a_run_trains_scores_and_records_its_series() {
    let data = small();
    let device = Device::flex();
    let trained = read_sync(train_series(&settings(), &data, &device, None, &Quiet)).unwrap();
    assert_eq!(trained.steps, 2 * data.split.train.count().div_ceil(4));
    // Two channels per sensor: its shape and its differences.
    assert_eq!(trained.model.features_per_step(), 4);
    let methods = [ThresholdMethod::MaxNormal];
    let evaluated = read_sync(evaluate_series(
        &trained.model,
        &data,
        settings().batch_size,
        None,
        None,
        &methods,
        &device,
    ))
    .unwrap();
    let evaluation = &evaluated.evaluation;
    assert_eq!(evaluation.test_scores.len(), data.split.test.count());
    assert_eq!(evaluation.train_scores.len(), data.split.train.count());
    assert_eq!(evaluation.thresholds[0].method, ThresholdMethod::MaxNormal);
    assert!(evaluation.auc.is_some());
    // The scores are the fitted sensor-error scale's.
    let scores = |input: &Windows| {
        let raw = read_sync(score_windows(&trained.model, input, 8, &device)).unwrap();
        evaluated.error.score(&raw).unwrap()
    };
    assert_eq!(evaluation.test_scores, scores(&data.test_input));
    assert_eq!(evaluation.train_scores, scores(&data.train_input));
    let meta = trained
        .checkpoint_meta(&settings(), &data, &evaluated)
        .unwrap();
    let record = meta.series.as_ref().unwrap();
    assert_eq!((record.sensors.len(), record.options), (2, data.options));
    assert_eq!(
        (&record.feature_scale, &record.error),
        (&data.features.scale, &evaluated.error)
    );
    assert_eq!(record.standardisation(), data.split.standardisation);
    assert!(record.check(&data.series).is_ok());
    let mut renamed = data.series.clone();
    renamed.sensors[1] = "c".into();
    assert!(record.check(&renamed).unwrap_err().contains("a, c"));
    assert!(SeriesData::for_model("renamed", renamed, record).is_err());
    // Another series of the same sensors is read with the model's own statistics.
    let mut shifted = data.series.clone();
    shifted.values.iter_mut().for_each(|v| *v += 10.0);
    let reread = SeriesData::for_model("shifted", shifted, record).unwrap();
    assert_eq!(reread.split.standardisation, data.split.standardisation);
    let (a, b) = (reread.split.test.window(0), data.split.test.window(0));
    assert!((a[0] - b[0] - 10.0 / record.std[0]).abs() < 1e-3);
    assert_eq!(reread.features, data.features);
    // ... and scored against the model's own threshold and error scale.
    let again = read_sync(evaluate_series(
        &trained.model,
        &data,
        settings().batch_size,
        Some(&record.error),
        Some(meta.threshold),
        &[],
        &device,
    ))
    .unwrap();
    assert_eq!(again.evaluation.test_scores, evaluation.test_scores);
    assert_eq!(again.evaluation.thresholds, [meta.threshold]);
}

#[test]
fn only_the_lstm_autoencoder_trains_on_a_series() {
    let mut other = settings();
    other.model = ModelKind::ConvAutoencoder;
    let refused = read_sync(train_series(
        &other,
        &small(),
        &Device::flex(),
        None,
        &Quiet,
    ));
    assert!(matches!(refused, Err(RunError::Setting(m)) if m.contains("LSTM")));
    let windows = SeriesOptions {
        length: 8,
        stride: 9,
        train_fraction: 0.5,
        input_noise: 0.0,
    };
    let skipping = SeriesData::new("s", small().series, windows);
    assert!(matches!(skipping, Err(RunError::Setting(m)) if m.contains("stride")));
}

#[test]
fn the_trace_maps_windows_back_to_steps_in_the_files_units() {
    let data = small();
    let test = &data.split.test;
    let count = test.count();
    let (length, sensors, channels) = (test.length, 2, 4);
    // A "reconstruction" equal to the inputs themselves: no error anywhere but the two
    // readings set off below.
    let mut scores = WindowScores {
        mse: vec![0.0; count],
        squared_errors: vec![0.0; data.test_input.values.len()],
        reconstructions: data.test_input.values.clone(),
        length,
        sensors: channels,
    };
    // Window 0, its step 1: sensor b's shape and its difference channel.
    scores.squared_errors[channels + 1] = 4.0;
    scores.squared_errors[channels + sensors + 1] = 1.0;
    let trace = SeriesTrace::of(&data, &scores).unwrap();
    assert_eq!(trace.first_step, test.starts[0]);
    assert_eq!(trace.bucket, 1);
    assert_eq!(
        trace.points,
        test.starts[count - 1] + length - test.starts[0]
    );
    // The rebuilt shapes, put back at each window's level, are the readings.
    for (v, r) in trace.values.iter().zip(&trace.reconstruction) {
        assert!((v - r).abs() < 1e-3, "{v} vs {r}");
    }
    let b: Vec<f32> = trace.sensor(&trace.values, 1).collect();
    assert!((b[3] - data.series.value(trace.step_of(3), 1)).abs() < 1e-6);
    // Step 1 of the first window is covered by it alone: both of b's channels count.
    let errors: Vec<f32> = trace.sensor(&trace.errors, 1).collect();
    assert_eq!(errors[1], 5.0);
    assert_eq!(trace.sensor(&trace.errors, 0).fold(0.0f32, f32::max), 0.0);
    assert_eq!(trace.labels.iter().filter(|&&l| l).count(), 1);
    assert!(trace.labels[70 - trace.first_step]);
}
