//! Tests of the LSTM autoencoder on windows: the trainer, scores and the sensor-error scale.

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
    let x = window_tensor(&windows, [4, 1], &Device::flex());
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
    let mut trainer = SeriesTrainer::new(&small(), &training, &windows(), &Device::flex()).unwrap();
    assert_eq!(trainer.total_steps(), 4);
    let mut reports = Vec::new();
    while let Some(report) = read_sync(trainer.step()).unwrap() {
        reports.push(report);
    }
    let sizes: Vec<usize> = reports.iter().map(|r| r.images).collect();
    // Six windows: the second batch of each epoch is topped up to the one shape.
    assert_eq!(sizes, [4, 4, 4, 4]);
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
        let trainer = SeriesTrainer::new(&small(), &training, &windows(), &Device::flex()).unwrap();
        let mut schedule = trainer.schedule.clone();
        std::iter::from_fn(|| schedule.next_batch().map(|(indices, _)| indices)).collect::<Vec<_>>()
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
    // Six windows in batches of 4 (the second topped up) score as they do one by one.
    let single = read_sync(score_windows(&model, &windows, 1, &device)).unwrap();
    for (a, b) in scores.mse.iter().zip(&single.mse) {
        assert!((a - b).abs() < 1e-6, "{a} one by one: {b}");
    }
    assert_eq!(scores.reconstructions.len(), single.reconstructions.len());
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
