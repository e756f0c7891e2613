//! The convolutional autoencoder on real digits: training, scoring, checkpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use burn::tensor::read_sync;
use kizu_model::checkpoint::{Checkpoint, CheckpointError, TrainingRecord};
use kizu_model::conv_ae::{ConvAeTrainer, ConvAutoencoder, ConvAutoencoderConfig};
use kizu_model::data::OneClassSplit;
use kizu_model::detector::score_images;
use kizu_model::eval::evaluate;
use kizu_model::score::ScoreKind;
use kizu_model::threshold::ThresholdMethod;
use kizu_model::train::{Trainer, TrainingConfig};
use kizu_model::zoo::ModelConfig;
use kizu_tests::{bundled_mnist, device};

/// Digit 2 held out: a digit a conv AE tells from the others (1s it cannot: they are
/// the easiest digit to reconstruct, see docs/BENCHMARKS.md).
fn small_split() -> OneClassSplit {
    OneClassSplit::new(&bundled_mnist(), 2, 3)
        .unwrap()
        .truncated(1024, 400)
}

fn train(
    split: &OneClassSplit,
    epochs: usize,
) -> (ConvAutoencoder, ConvAutoencoderConfig, Vec<f32>) {
    let config = ConvAutoencoderConfig::new().with_latent(16);
    let training = TrainingConfig::new()
        .with_epochs(epochs)
        .with_batch_size(32)
        .with_learning_rate(3e-3)
        .with_seed(9);
    let mut trainer = ConvAeTrainer::new(&config, &training, &split.train, &device());
    let mut losses = Vec::new();
    while let Some(step) = read_sync(trainer.step()).unwrap() {
        assert_eq!(step.losses[0].0, "reconstruction");
        losses.push(step.losses[0].1);
    }
    (trainer.into_model().unwrap(), config, losses)
}

#[test]
fn loss_falls_over_a_few_dozen_steps_on_real_digits() {
    let (_, _, losses) = train(&small_split(), 2);
    assert_eq!(losses.len(), 64);
    assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
    let mean = |s: &[f32]| s.iter().sum::<f32>() / s.len() as f32;
    let (first, last) = (mean(&losses[..8]), mean(&losses[56..]));
    assert!(
        last < 0.6 * first,
        "loss did not fall: {first} -> {last}: {losses:?}"
    );
}

#[test]
fn the_trained_model_tells_held_out_twos_from_other_digits_better_than_chance() {
    let split = small_split();
    let (model, _, _) = train(&split, 2);
    let evaluation = read_sync(evaluate(
        &model,
        &split,
        ScoreKind::Mse,
        &[
            ThresholdMethod::MaxNormal,
            ThresholdMethod::Percentile(95.0),
        ],
        128,
        &device(),
    ))
    .unwrap();
    let auc = evaluation.auc.expect("both classes are in the test set");
    assert!(auc > 0.7, "AUC {auc}");
    let total: u32 = evaluation
        .histogram
        .normal
        .iter()
        .chain(&evaluation.histogram.anomalous)
        .sum();
    assert_eq!(total as usize, split.test.len());
    let [max, p95] = [
        evaluation.thresholds[0].value,
        evaluation.thresholds[1].value,
    ];
    assert!(
        max >= p95,
        "the highest normal score is above its 95th percentile: {max} < {p95}"
    );
    assert!(evaluation.histogram.min <= p95 && max <= evaluation.histogram.max);
    let at_max = evaluation.confusion(&split, &evaluation.thresholds[0]);
    assert_eq!(
        at_max.true_positives + at_max.false_negatives,
        split.test_is_anomaly.iter().filter(|&&a| a).count()
    );
}

#[test]
fn a_checkpoint_round_trip_gives_identical_scores() {
    let split = small_split();
    let (model, config, losses) = train(&split, 1);
    let scores = read_sync(score_images(&model, &split.test, 100, &device())).unwrap();
    let threshold =
        kizu_model::threshold::fit(ThresholdMethod::Percentile(95.0), &scores.mse).unwrap();
    let record = TrainingRecord {
        config: TrainingConfig::new(),
        steps: losses.len(),
        anomaly_digit: Some(2),
        train_images: split.train.len(),
        final_loss: losses.last().copied(),
        validation: None,
    };
    let checkpoint = Checkpoint::new(
        &model,
        ModelConfig::ConvAutoencoder(config.clone()),
        ScoreKind::Mse,
        threshold,
        record,
    )
    .unwrap();
    let bytes = checkpoint.to_bytes().unwrap();

    let loaded = Checkpoint::from_bytes(&bytes).unwrap();
    assert_eq!(loaded.meta, checkpoint.meta);
    let restored = loaded.model::<ConvAutoencoder>(&device()).unwrap();
    let restored_scores = read_sync(score_images(&restored, &split.test, 100, &device())).unwrap();
    assert_eq!(restored_scores, scores);

    // A fresh model scores differently: the comparison above is not vacuous.
    let fresh = config.init(&device());
    let fresh_scores = read_sync(score_images(&fresh, &split.test, 100, &device())).unwrap();
    assert_ne!(fresh_scores, scores);
}

#[test]
fn damaged_checkpoints_are_refused_with_the_reason() {
    let split = small_split().truncated(64, 10);
    let (model, config, _) = train(&split, 1);
    let record = TrainingRecord {
        config: TrainingConfig::new(),
        steps: 2,
        anomaly_digit: None,
        train_images: 64,
        final_loss: None,
        validation: None,
    };
    let threshold = kizu_model::threshold::fit(ThresholdMethod::MaxNormal, &[0.5]).unwrap();
    let bytes = Checkpoint::new(
        &model,
        ModelConfig::ConvAutoencoder(config.clone()),
        ScoreKind::Mse,
        threshold,
        record,
    )
    .unwrap()
    .to_bytes()
    .unwrap();

    let cut = &bytes[..bytes.len() - 100];
    assert!(matches!(
        Checkpoint::from_bytes(cut),
        Err(CheckpointError::Truncated { .. })
    ));

    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    assert_eq!(
        Checkpoint::from_bytes(&flipped),
        Err(CheckpointError::Corrupted)
    );

    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&99u32.to_le_bytes());
    assert!(matches!(
        Checkpoint::from_bytes(&newer),
        Err(CheckpointError::NewerFormat { found: 99, .. })
    ));

    assert_eq!(
        Checkpoint::from_bytes(b"PNG\x89 not ours"),
        Err(CheckpointError::NotACheckpoint)
    );
}
