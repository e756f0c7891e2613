//! The LSTM autoencoder on real digits, rows read as time steps: training, scoring,
//! checkpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use burn::tensor::read_sync;
use kizu_model::checkpoint::{Checkpoint, CheckpointError, TrainingRecord};
use kizu_model::conv_ae::ConvAutoencoder;
use kizu_model::data::OneClassSplit;
use kizu_model::detector::{score_images, Detector};
use kizu_model::lstm_ae::{LstmAeTrainer, LstmAutoencoder, LstmAutoencoderConfig};
use kizu_model::score::ScoreKind;
use kizu_model::threshold::{fit, ThresholdMethod};
use kizu_model::train::{Trainer, TrainingConfig};
use kizu_model::zoo::ModelConfig;
use kizu_tests::{bundled_mnist, device};

/// Small networks so the tests stay fast; seed 004's sizes are the defaults.
fn small() -> LstmAutoencoderConfig {
    LstmAutoencoderConfig::new()
        .with_hidden(32)
        .with_latent(16)
        .with_layers(1)
}

fn split() -> OneClassSplit {
    OneClassSplit::new(&bundled_mnist(), 2, 5)
        .unwrap()
        .truncated(256, 64)
}

fn train(split: &OneClassSplit, epochs: usize) -> (LstmAutoencoder, TrainingConfig, Vec<f32>) {
    let training = TrainingConfig::new()
        .with_epochs(epochs)
        .with_batch_size(32)
        .with_learning_rate(1e-2)
        .with_seed(7);
    let mut trainer = LstmAeTrainer::new(&small(), &training, &split.train, &device());
    let mut losses = Vec::new();
    while let Some(step) = read_sync(trainer.step()).unwrap() {
        assert_eq!(step.losses[0].0, "reconstruction");
        losses.push(step.losses[0].1);
    }
    assert_eq!(losses.len(), trainer.total_steps());
    (trainer.into_model().unwrap(), training, losses)
}

#[test]
fn defaults_match_seed_004_on_mnist_rows() {
    let c = LstmAutoencoderConfig::new();
    assert_eq!(
        (c.features, c.steps, c.hidden, c.latent, c.layers),
        (28, 28, 64, 32, 2)
    );
}

#[test]
fn loss_falls_over_a_few_steps_on_real_digits() {
    let (_, _, losses) = train(&split(), 2);
    assert_eq!(losses.len(), 16);
    assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
    let mean = |s: &[f32]| s.iter().sum::<f32>() / s.len() as f32;
    let (first, last) = (mean(&losses[..4]), mean(&losses[12..]));
    assert!(
        last < 0.8 * first,
        "loss did not fall: {first} -> {last}: {losses:?}"
    );
}

#[test]
fn detection_reconstructs_28_rows_in_0_1_with_finite_scores() {
    let split = split();
    let model = small().init(&device());
    assert_eq!(model.input_size(), 28);
    let detection = read_sync(model.detect(split.test.tensor(0, 4, &device())).read()).unwrap();
    assert_eq!(detection.reconstruction.image_shape(), [1, 28, 28]);
    assert!(detection
        .reconstruction
        .pixels()
        .iter()
        .all(|p| (0.0..=1.0).contains(p)));

    let scores = read_sync(score_images(&model, &split.test, 32, &device())).unwrap();
    assert_eq!(scores.mse.len(), split.test.len());
    assert!(scores.mse.iter().all(|s| s.is_finite() && *s >= 0.0));
    assert!(scores.difference_ratio.iter().all(|s| s.is_finite()));
    assert!(scores.model_score.is_empty());
}

#[test]
fn a_checkpoint_round_trip_gives_identical_scores() {
    let split = split();
    let (model, training, losses) = train(&split, 1);
    let scores = read_sync(score_images(&model, &split.test, 32, &device())).unwrap();
    let threshold = fit(ThresholdMethod::Percentile(95.0), &scores.mse).unwrap();
    let record = TrainingRecord {
        config: training,
        steps: losses.len(),
        anomaly_digit: Some(2),
        train_images: split.train.len(),
        final_loss: losses.last().copied(),
        validation: None,
    };
    let checkpoint = Checkpoint::new(
        &model,
        ModelConfig::LstmAutoencoder(small()),
        ScoreKind::Mse,
        threshold,
        record,
    )
    .unwrap();
    assert_eq!(checkpoint.meta.model.kind(), "LstmAutoencoder");
    assert_eq!(
        (checkpoint.meta.input_size, checkpoint.meta.channels),
        (28, 1)
    );
    let bytes = checkpoint.to_bytes().unwrap();

    let loaded = Checkpoint::from_bytes(&bytes).unwrap();
    assert_eq!(loaded.meta, checkpoint.meta);
    let restored = loaded.model::<LstmAutoencoder>(&device()).unwrap();
    let restored_scores = read_sync(score_images(&restored, &split.test, 32, &device())).unwrap();
    assert_eq!(restored_scores, scores);

    // A fresh model scores differently: the comparison above is not vacuous.
    let fresh = small().init(&device());
    let fresh_scores = read_sync(score_images(&fresh, &split.test, 32, &device())).unwrap();
    assert_ne!(fresh_scores, scores);

    assert_eq!(
        loaded.model::<ConvAutoencoder>(&device()).unwrap_err(),
        CheckpointError::WrongKind {
            expected: "ConvAutoencoder",
            found: "LstmAutoencoder"
        }
    );
}
