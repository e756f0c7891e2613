//! Tests of the windows: counts, starts and labels of small hand-made series, the boundary,
//! standardisation on normal training steps, edge cases, scores mapped back to steps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// `steps` steps of one sensor reading `t` at step `t`, labelled anomalous at `anomalies`.
fn ramp(steps: usize, anomalies: &[usize]) -> Series {
    let values = (0..steps).map(|t| t as f32).collect();
    let labels = (0..steps).map(|t| anomalies.contains(&t)).collect();
    Series::new(vec!["x".into()], None, values, Some(labels)).unwrap()
}

fn spec(length: usize, stride: usize) -> WindowSpec {
    WindowSpec { length, stride }
}

#[test]
fn windows_start_every_stride_inside_each_part() {
    let split = SeriesSplit::new(&ramp(10, &[]), spec(3, 1), 0.6).unwrap();
    assert_eq!(split.boundary, 6);
    assert_eq!(split.train.starts, [0, 1, 2, 3]);
    assert_eq!(split.test.starts, [6, 7]);
    assert_eq!(split.train.shape(), [4, 3, 1]);
    assert_eq!(split.test.values.len(), 2 * 3);

    let split = SeriesSplit::new(&ramp(10, &[]), spec(3, 2), 0.6).unwrap();
    assert_eq!(split.train.starts, [0, 2]);
    assert_eq!(split.test.starts, [6]);

    let split = SeriesSplit::new(&ramp(20, &[]), spec(4, 3), 0.5).unwrap();
    assert_eq!(split.train.starts, [0, 3, 6]);
    assert_eq!(split.test.starts, [10, 13, 16]);
}

#[test]
fn no_window_straddles_the_boundary() {
    for (steps, fraction, length, stride) in [
        (50, 0.5, 7, 1),
        (51, 0.37, 5, 3),
        (100, 0.8, 10, 4),
        (33, 0.5, 16, 16),
    ] {
        let split = SeriesSplit::new(&ramp(steps, &[]), spec(length, stride), fraction).unwrap();
        let b = split.boundary;
        assert_eq!(b, (steps as f64 * fraction) as usize);
        assert!(split.train.starts.iter().all(|&s| s + length <= b));
        assert!(split
            .test
            .starts
            .iter()
            .all(|&s| s >= b && s + length <= steps));
        assert_eq!(split.train.count(), (b - length) / stride + 1);
        assert_eq!(split.test.count(), (steps - b - length) / stride + 1);
        // Windows hold their own steps, in order: the ramp's standardised values rise by
        // 1/std per step.
        let std = split.standardisation.std[0];
        let mean = split.standardisation.mean[0];
        for (w, &start) in split.test.starts.iter().enumerate() {
            let expected: Vec<f32> = (start..start + length)
                .map(|t| (t as f32 - mean) / std)
                .collect();
            assert_eq!(split.test.window(w), expected.as_slice());
        }
    }
}

#[test]
fn a_window_is_anomalous_if_any_of_its_steps_is() {
    let split = SeriesSplit::new(&ramp(12, &[9]), spec(3, 1), 0.5).unwrap();
    assert_eq!(split.test.starts, [6, 7, 8, 9]);
    assert_eq!(split.test.labels.unwrap(), [false, true, true, true]);
    assert_eq!(split.train.labels.unwrap(), [false; 4]);
}

#[test]
fn training_leaves_out_windows_with_a_labelled_anomaly() {
    let split = SeriesSplit::new(&ramp(12, &[2]), spec(2, 1), 0.5).unwrap();
    assert_eq!(split.train.starts, [0, 3, 4]);
    // An unlabelled series keeps every window and has no window labels.
    let unlabelled = Series {
        labels: None,
        ..ramp(12, &[])
    };
    let split = SeriesSplit::new(&unlabelled, spec(2, 1), 0.5).unwrap();
    assert_eq!(split.train.starts, [0, 1, 2, 3, 4]);
    assert_eq!(split.train.labels, None);
    assert_eq!(split.test.labels, None);
}

#[test]
fn standardisation_is_fitted_on_normal_training_steps_only() {
    // Normal readings alternate 0 and 2 (mean 1, std 1); step 3 is a labelled 1000, and
    // the test part reads 50 (it must not move the statistics either).
    let mut values: Vec<f32> = (0..10)
        .map(|t| if t % 2 == 0 { 0.0 } else { 2.0 })
        .collect();
    values[3] = 1000.0;
    values.extend([50.0; 10]);
    let labels = (0..20).map(|t| t == 3).collect();
    let series = Series::new(vec!["x".into()], None, values, Some(labels)).unwrap();
    let split = SeriesSplit::new(&series, spec(2, 1), 0.5).unwrap();
    // Normal steps 0..10 but 3: five 0s and four 2s.
    let mean = 8.0 / 9.0;
    let var = (5.0 * mean * mean + 4.0 * (2.0 - mean) * (2.0 - mean)) / 9.0;
    let fitted = &split.standardisation;
    assert!((fitted.mean[0] - mean).abs() < 1e-6, "{fitted:?}");
    assert!((fitted.std[0] - f32::sqrt(var)).abs() < 1e-6, "{fitted:?}");
    // Applied to the test part as well.
    assert!((split.test.values[0] - (50.0 - mean) / f32::sqrt(var)).abs() < 1e-4);
    // Without its label the anomaly drags the mean far off.
    let unlabelled = Standardisation::fit(
        &Series {
            labels: None,
            ..series.clone()
        },
        0..10,
    )
    .unwrap();
    assert!(unlabelled.mean[0] > 100.0);
}

#[test]
fn a_split_with_given_statistics_uses_them_and_refuses_another_sensor_count() {
    let series = ramp(20, &[]);
    let given = Standardisation {
        mean: vec![100.0],
        std: vec![2.0],
    };
    let split = SeriesSplit::with_standardisation(&series, spec(4, 2), 0.5, given.clone()).unwrap();
    let fitted = SeriesSplit::new(&series, spec(4, 2), 0.5).unwrap();
    assert_eq!(split.standardisation, given);
    assert_eq!(
        (split.boundary, &split.train.starts),
        (fitted.boundary, &fitted.train.starts)
    );
    assert_eq!(split.test.starts, fitted.test.starts);
    // Step 10 (the first test step) reads 10: (10 - 100) / 2.
    assert_eq!(split.test.values[0], -45.0);
    let two = Standardisation {
        mean: vec![0.0, 0.0],
        std: vec![1.0, 1.0],
    };
    assert!(matches!(
        SeriesSplit::with_standardisation(&series, spec(4, 2), 0.5, two),
        Err(SeriesError::Shape { .. })
    ));
}

#[test]
fn a_constant_sensor_gets_a_spread_of_one() {
    let values = (0..8).flat_map(|t| [5.0, t as f32]).collect();
    let series = Series::new(vec!["flat".into(), "t".into()], None, values, None).unwrap();
    let split = SeriesSplit::new(&series, spec(2, 2), 0.5).unwrap();
    assert_eq!(split.standardisation.mean[0], 5.0);
    assert_eq!(split.standardisation.std[0], 1.0);
    assert!(split.train.values.iter().step_by(2).all(|&v| v == 0.0));
    assert!(split.test.values.iter().all(|v| v.is_finite()));
}

#[test]
fn edge_cases_are_refused_with_their_numbers() {
    let series = ramp(10, &[]);
    let err = |spec, fraction| SeriesSplit::new(&series, spec, fraction).unwrap_err();
    assert_eq!(
        err(spec(0, 1), 0.5),
        SeriesError::ZeroWindow { what: "length" }
    );
    assert_eq!(
        err(spec(2, 0), 0.5),
        SeriesError::ZeroWindow { what: "stride" }
    );
    for fraction in [0.0, 1.0, -0.5, f64::NAN] {
        assert!(matches!(
            err(spec(2, 1), fraction),
            SeriesError::Fraction { .. }
        ));
    }
    assert_eq!(
        err(spec(4, 1), 0.3),
        SeriesError::WindowTooLong {
            length: 4,
            part: "training",
            steps: 3
        }
    );
    assert_eq!(
        err(spec(2, 1), 0.9),
        SeriesError::WindowTooLong {
            length: 2,
            part: "test",
            steps: 1
        }
    );
    // Every training window of 3 steps in 0..5 holds step 2.
    let err = SeriesSplit::new(&ramp(10, &[2]), spec(3, 1), 0.5).unwrap_err();
    assert_eq!(err, SeriesError::NoTrainingWindow { windows: 3 });
    assert!(err.to_string().contains("all 3 windows"), "{err}");
}

#[test]
fn cutting_checks_the_range_the_statistics_and_the_size() {
    let series = ramp(10, &[]);
    let fitted = Standardisation::fit(&series, 0..10).unwrap();
    let windows = Windows::cut(&series, 2..10, spec(4, 2), &fitted, Keep::All).unwrap();
    assert_eq!(windows.starts, [2, 4, 6]);
    assert_eq!(
        Windows::cut(&series, 5..11, spec(2, 1), &fitted, Keep::All),
        Err(SeriesError::OutOfRange {
            start: 5,
            end: 11,
            steps: 10
        })
    );
    let two = Standardisation {
        mean: vec![0.0; 2],
        std: vec![1.0; 2],
    };
    assert!(matches!(
        Windows::cut(&series, 0..10, spec(2, 1), &two, Keep::All),
        Err(SeriesError::Shape {
            expected: 1,
            found: 2,
            ..
        })
    ));
    assert_eq!(
        Standardisation::fit(&ramp(4, &[1, 2]), 1..3),
        Err(SeriesError::NoNormalSteps { start: 1, end: 3 })
    );
    // Refused before anything is allocated: 15,001 windows of 15,000 steps.
    let long = ramp(30_000, &[]);
    let fitted = Standardisation::fit(&long, 0..100).unwrap();
    let err = Windows::cut(&long, 0..30_000, spec(15_000, 1), &fitted, Keep::All).unwrap_err();
    assert!(matches!(
        err,
        SeriesError::TooManyWindowValues {
            windows: 15_001,
            ..
        }
    ));
}

#[test]
fn a_steps_score_is_the_mean_of_the_windows_covering_it() {
    let scores = score_per_step(&[1.0, 3.0, 5.0], &[0, 1, 2], 2, 4).unwrap();
    assert_eq!(scores, [Some(1.0), Some(2.0), Some(4.0), Some(5.0)]);
    // Steps no window covers (between strided windows, the tail) have no score.
    let scores = score_per_step(&[1.0, 2.0], &[0, 3], 2, 6).unwrap();
    assert_eq!(
        scores,
        [Some(1.0), Some(1.0), None, Some(2.0), Some(2.0), None]
    );
    assert_eq!(
        score_per_step(&[1.0], &[0, 1], 2, 4),
        Err(SeriesError::ScoreCount {
            scores: 1,
            expected: 2
        })
    );
    assert_eq!(
        score_per_step(&[1.0], &[3], 2, 4),
        Err(SeriesError::OutOfRange {
            start: 3,
            end: 5,
            steps: 4
        })
    );
    assert_eq!(
        score_per_step(&[], &[], 0, 4),
        Err(SeriesError::ZeroWindow { what: "length" })
    );
}

#[test]
fn the_mean_keeps_a_one_step_anomaly_peaked_where_it_is() {
    // Windows of 5 at stride 1 over 20 steps; only windows holding step 10 score 1.
    let starts: Vec<usize> = (0..=15).collect();
    let window_scores: Vec<f32> = starts
        .iter()
        .map(|&s| if (s..s + 5).contains(&10) { 1.0 } else { 0.0 })
        .collect();
    let per_step = score_per_step(&window_scores, &starts, 5, 20).unwrap();
    let peak = per_step[10].unwrap();
    assert_eq!(peak, 1.0);
    assert!(per_step[8].unwrap() < peak && per_step[12].unwrap() < peak);
    assert_eq!(per_step[5], Some(0.0));
}

#[test]
fn per_step_errors_average_over_the_windows_covering_each_step() {
    let errors = errors_per_step(&[1.0, 2.0, 3.0, 4.0], &[0, 1], 2, 3).unwrap();
    assert_eq!(errors, [Some(1.0), Some(2.5), Some(4.0)]);
    assert_eq!(
        errors_per_step(&[1.0, 2.0, 3.0], &[0, 1], 2, 3),
        Err(SeriesError::ScoreCount {
            scores: 3,
            expected: 4
        })
    );
}

/// Two windows of 3 steps x 2 sensors: sensor 0 rises by 1 a step (window 0 from 0,
/// window 1 from 10), sensor 1 is stuck at 5.
fn two_windows() -> Windows {
    let mut values = Vec::new();
    for base in [0.0, 10.0] {
        for t in 0..3 {
            values.extend([base + t as f32, 5.0]);
        }
    }
    Windows {
        values,
        starts: vec![0, 3],
        labels: Some(vec![false, true]),
        length: 3,
        sensors: 2,
    }
}

#[test]
fn features_are_centred_shapes_then_differences_each_scaled_by_its_training_spread() {
    let windows = two_windows();
    let features = WindowFeatures::fit(&windows);
    assert_eq!(WindowFeatures::channels(2), 4);
    // Centred sensor 0 reads -1, 0, 1 in both windows: spread sqrt(2/3). Its differences
    // read 0, 1, 1: spread sqrt(2/9). The stuck sensor's channels are constant: 1.
    let expected = [(2.0f32 / 3.0).sqrt(), 1.0, (2.0f32 / 9.0).sqrt(), 1.0];
    for (got, want) in features.scale.iter().zip(expected) {
        assert!((got - want).abs() < 1e-6, "{:?}", features.scale);
    }
    let out = features.apply(&windows).unwrap();
    assert_eq!(out.shape(), [2, 3, 4]);
    assert_eq!(
        (out.starts.clone(), out.labels.clone()),
        (windows.starts, windows.labels)
    );
    // The window's level (0 or 10) is gone: both windows come out the same.
    assert_eq!(out.window(0), out.window(1));
    let scaled = |v: f32, k: usize| v / expected[k];
    let step1 = &out.window(0)[4..8];
    for (got, want) in step1.iter().zip([scaled(0.0, 0), 0.0, scaled(1.0, 2), 0.0]) {
        assert!((got - want).abs() < 1e-6, "{step1:?}");
    }
    // A first step has no difference inside its window.
    assert_eq!(out.window(0)[2..4], [0.0, 0.0]);
}

#[test]
fn features_refuse_windows_of_another_sensor_count() {
    let features = WindowFeatures {
        scale: vec![1.0; 6],
    };
    assert_eq!(
        features.apply(&two_windows()),
        Err(SeriesError::Shape {
            what: "feature scales",
            expected: 4,
            found: 6
        })
    );
}
