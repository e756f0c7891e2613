//! The LSTM autoencoder on the demo sensor series (source 004 §4.4-4.5): windows in,
//! reconstruction errors per window, step and sensor out; a short run's loss falls; a
//! trained model ranks the test part's anomalous windows above its normal ones, for every
//! injected kind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use burn::tensor::read_sync;
use kizu_model::data::series::{
    errors_per_step, score_per_step, AnomalyKind, DemoSeries, InjectedAnomaly, SeriesSplit,
    WindowSpec, Windows,
};
use kizu_model::lstm_ae::LstmAutoencoderConfig;
use kizu_model::lstm_ae::{score_windows, LstmAutoencoder, SeriesTrainer, WindowScores};
use kizu_model::metrics::roc_auc;
use kizu_model::train::{Trainer, TrainingConfig};
use kizu_tests::device;

/// The demo series' seed.
const SERIES_SEED: u64 = 11;
/// The recipe's windows.
const SPEC: WindowSpec = WindowSpec {
    length: 32,
    stride: 4,
};

/// The recipe's network: small enough to train in seconds on the CPU.
fn network() -> LstmAutoencoderConfig {
    LstmAutoencoderConfig::new()
        .with_hidden(64)
        .with_latent(32)
        .with_layers(1)
}

/// The recipe's training run.
fn training() -> TrainingConfig {
    TrainingConfig::new()
        .with_epochs(30)
        .with_batch_size(32)
        .with_learning_rate(5e-3)
        .with_seed(3)
}

/// The demo series split in half, cut into the recipe's windows.
fn demo() -> (SeriesSplit, Vec<InjectedAnomaly>) {
    let (series, anomalies) = DemoSeries::generate(SERIES_SEED);
    (SeriesSplit::new(&series, SPEC, 0.5).unwrap(), anomalies)
}

/// Trains on `windows` to the end, returning the model and each step's loss.
fn train(windows: &Windows, training: &TrainingConfig) -> (LstmAutoencoder, Vec<f32>) {
    let mut trainer = SeriesTrainer::new(&network(), training, windows, &device()).unwrap();
    let mut losses = Vec::with_capacity(trainer.total_steps());
    while let Some(step) = read_sync(trainer.step()).unwrap() {
        assert_eq!(step.losses[0].0, "reconstruction");
        losses.push(step.losses[0].1);
    }
    assert_eq!(losses.len(), trainer.total_steps());
    (trainer.into_model().unwrap(), losses)
}

fn score(model: &LstmAutoencoder, windows: &Windows) -> WindowScores {
    read_sync(score_windows(model, windows, 128, &device())).unwrap()
}

fn mean(values: &[f32]) -> f32 {
    values.iter().sum::<f32>() / values.len() as f32
}

/// The `q`-quantile (0..=1) of `values`, the nearest rank below.
fn quantile(values: &[f32], q: f64) -> f32 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted[((sorted.len() - 1) as f64 * q).floor() as usize]
}

#[test]
fn windows_come_back_as_errors_per_window_step_and_sensor() {
    let (split, _) = demo();
    let (train_windows, test_windows) = (&split.train, &split.test);
    let [count, length, sensors] = test_windows.shape();
    assert_eq!((length, sensors), (32, 5));
    let model = network().for_series(length, sensors).init(&device());
    let scores = score(&model, test_windows);
    assert_eq!(scores.mse.len(), count);
    assert_eq!(scores.squared_errors.len(), count * length * sensors);
    assert_eq!(scores.per_step().len(), count * length);
    assert_eq!(scores.of_sensor(DemoSeries::FLOW).len(), count * length);
    assert!(scores.mse.iter().all(|s| s.is_finite() && *s >= 0.0));
    // Mapped back onto the series: the training part is not covered by test windows.
    let steps = DemoSeries::STEPS;
    let per_step = errors_per_step(&scores.per_step(), &test_windows.starts, length, steps);
    let per_step = per_step.unwrap();
    assert!(per_step[..split.boundary].iter().all(Option::is_none));
    assert!(per_step[split.boundary..split.boundary + length]
        .iter()
        .all(Option::is_some));
    let per_window = score_per_step(&scores.mse, &test_windows.starts, length, steps).unwrap();
    assert_eq!(per_window.len(), steps);
    assert!(train_windows.count() > 0);
}

#[test]
fn the_loss_falls_over_a_short_run() {
    let (split, _) = demo();
    let short = training().with_epochs(1);
    let (_, losses) = train(&split.train, &short);
    assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
    let quarter = losses.len() / 4;
    let (first, last) = (
        mean(&losses[..quarter]),
        mean(&losses[losses.len() - quarter..]),
    );
    eprintln!(
        "loss over one epoch ({} steps): {first:.4} -> {last:.4}",
        losses.len()
    );
    assert!(last < 0.7 * first, "loss did not fall: {first} -> {last}");
}

/// Over the test part's windows (a window is anomalous when any of its steps is): the ROC
/// AUC of the window MSE is above 0.80, and the median score of the windows overlapping a
/// spike or a level shift is above the 95th percentile of the normal windows' scores (most
/// of them would be flagged at a threshold letting 5 % of normal windows through).
///
/// Issue 12's goal is higher, and not met: AUC above 0.95 and every kind above the normal
/// windows. This recipe measures an AUC of 0.857 (spikes 2.1x and level shifts 3.0x the
/// normal 95th percentile; frozen sensors 0.8x, noise bursts 1.1x, broken correlations 0.8x),
/// and every figure is printed so a better recipe can be measured against it.
#[test]
fn a_trained_model_finds_spikes_and_level_shifts_and_ranks_windows_well() {
    let started = std::time::Instant::now();
    let (split, anomalies) = demo();
    let (model, losses) = train(&split.train, &training());
    let scores = score(&model, &split.test);
    let labels = split.test.labels.clone().unwrap();
    let auc = roc_auc(&scores.mse, &labels).unwrap();
    let normal: Vec<f32> = scores
        .mse
        .iter()
        .zip(&labels)
        .filter(|(_, &l)| !l)
        .map(|(&s, _)| s)
        .collect();
    let p95 = quantile(&normal, 0.95);
    eprintln!(
        "{} training windows, {} test windows ({} anomalous), {} steps, final loss {:.4}",
        split.train.count(),
        split.test.count(),
        labels.iter().filter(|&&l| l).count(),
        losses.len(),
        losses.last().unwrap()
    );
    eprintln!(
        "window AUC {auc:.4}; normal windows: median {:.4}, 95th percentile {p95:.4}",
        quantile(&normal, 0.5)
    );
    let mut failures = Vec::new();
    for kind in AnomalyKind::ALL {
        let overlaps = |start: usize| {
            anomalies
                .iter()
                .any(|a| a.kind == kind && a.start < start + SPEC.length && start < a.end)
        };
        let of_kind: Vec<f32> = split
            .test
            .starts
            .iter()
            .zip(&scores.mse)
            .filter(|(&start, _)| overlaps(start))
            .map(|(_, &s)| s)
            .collect();
        let median = quantile(&of_kind, 0.5);
        let flagged = of_kind.iter().filter(|&&s| s > p95).count();
        let mut both = normal.clone();
        both.extend(&of_kind);
        let mut kind_labels = vec![false; normal.len()];
        kind_labels.extend(vec![true; of_kind.len()]);
        let kind_auc = roc_auc(&both, &kind_labels).unwrap();
        eprintln!(
            "{kind:?}: {} windows, median {median:.4} ({:.1}x the normal 95th percentile), {flagged} above it, AUC vs normal {kind_auc:.4}",
            of_kind.len(),
            median / p95
        );
        if matches!(kind, AnomalyKind::Spike | AnomalyKind::LevelShift) && median <= p95 {
            failures.push(kind);
        }
    }
    // Where the normal error comes from: each sensor's mean squared error on the training
    // windows and on the test part's normal windows (the demo's drift moves the test part
    // away from the training part's statistics).
    let train_scores = score(&model, &split.train);
    for (sensor, name) in DemoSeries::SENSORS.iter().enumerate() {
        let test_normal: Vec<f32> = scores
            .of_sensor(sensor)
            .chunks(SPEC.length)
            .zip(&labels)
            .filter(|(_, &l)| !l)
            .flat_map(|(errors, _)| errors.to_vec())
            .collect();
        eprintln!(
            "{name}: squared error {:.4} on training windows, {:.4} on normal test windows",
            mean(&train_scores.of_sensor(sensor)),
            mean(&test_normal)
        );
    }
    eprintln!("took {:.1} s", started.elapsed().as_secs_f32());
    assert!(auc > 0.80, "window AUC {auc}");
    assert!(failures.is_empty(), "not above normal: {failures:?}");
}
