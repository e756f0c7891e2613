//! GANomaly on real digits: a few adversarial steps, inference, the output contract.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use burn::module::Module;
use burn::tensor::read_sync;
use kizu_model::checkpoint::{Checkpoint, CheckpointError, TrainingRecord};
use kizu_model::conv_ae::ConvAutoencoder;
use kizu_model::data::OneClassSplit;
use kizu_model::detector::{score_images, Detector};
use kizu_model::ganomaly::{Ganomaly, GanomalyConfig, GanomalyTrainer, GanomalyTrainingConfig};
use kizu_model::score::ScoreKind;
use kizu_model::threshold::{fit, ThresholdMethod};
use kizu_model::train::{Trainer, TrainingConfig};
use kizu_model::zoo::ModelConfig;
use kizu_tests::{bundled_mnist, device};

/// Small networks so the test stays fast; the reference sizes are the defaults.
fn small() -> GanomalyConfig {
    GanomalyConfig::new().with_features(8).with_latent(16)
}

fn split() -> OneClassSplit {
    OneClassSplit::new(&bundled_mnist(), 2, 4)
        .unwrap()
        .truncated(256, 64)
}

#[test]
fn reference_defaults_match_the_source() {
    let model = GanomalyConfig::new();
    assert_eq!(
        (model.latent, model.features, model.shared_encoder),
        (100, 64, false)
    );
    let training = GanomalyTrainingConfig::new(TrainingConfig::new());
    assert_eq!(
        (training.w_adv, training.w_con, training.w_enc),
        (1.0, 50.0, 1.0)
    );
    assert_eq!((training.beta_1, training.beta_2), (0.5, 0.999));
}

#[test]
fn adversarial_training_runs_and_the_reconstruction_loss_falls() {
    let split = split();
    let training = GanomalyTrainingConfig::new(
        TrainingConfig::new()
            .with_epochs(3)
            .with_batch_size(32)
            .with_learning_rate(2e-3)
            .with_seed(1),
    );
    let mut trainer = GanomalyTrainer::new(&small(), &training, &split.train, &device());
    assert_eq!(trainer.total_steps(), 24);
    let mut steps = Vec::new();
    while let Some(step) = read_sync(trainer.adversarial_step()).unwrap() {
        steps.push(step);
    }
    assert_eq!(steps.len(), 24);
    for s in &steps {
        let l = s.losses;
        for v in [
            l.generator,
            l.adversarial,
            l.contextual,
            l.encoder,
            l.discriminator,
        ] {
            assert!(v.is_finite(), "{l:?}");
        }
        let weighted = l.adversarial + 50.0 * l.contextual + l.encoder;
        assert!(
            (l.generator - weighted).abs() <= 1e-3 * weighted.max(1.0),
            "{l:?}"
        );
    }
    let contextual = |s: &[_]| {
        s.iter()
            .map(|x: &kizu_model::ganomaly::GanomalyStep| x.losses.contextual)
            .sum::<f32>()
            / s.len() as f32
    };
    let (first, last) = (contextual(&steps[..4]), contextual(&steps[20..]));
    assert!(last < 0.8 * first, "L1 did not fall: {first} -> {last}");

    let model = trainer.into_model().unwrap();
    let scores = read_sync(score_images(&model, &split.test, 32, &device())).unwrap();
    assert_eq!(scores.model_score.len(), split.test.len());
    assert!(scores
        .model_score
        .iter()
        .all(|s| s.is_finite() && *s >= 0.0));
}

#[test]
fn detection_pads_digits_to_32_pixels_and_reconstructs_in_0_1() {
    let model = small().init(&device());
    let images = split().test.padded_to(32).into_owned();
    let detection = read_sync(model.detect(images.tensor(0, 4, &device())).read()).unwrap();
    assert_eq!(detection.reconstruction.image_shape(), [1, 32, 32]);
    assert!(detection
        .reconstruction
        .pixels()
        .iter()
        .all(|p| (0.0..=1.0).contains(p)));
    assert_eq!(detection.scores.model_score.len(), 4);
}

#[test]
fn a_shared_second_encoder_has_fewer_weights() {
    let separate = small().init(&device()).num_params();
    let shared = small()
        .with_shared_encoder(true)
        .init(&device())
        .num_params();
    assert!(shared < separate, "{shared} vs {separate}");
}

#[test]
fn a_ganomaly_checkpoint_round_trips_and_refuses_to_load_as_another_kind() {
    let split = split();
    let config = small();
    let training =
        GanomalyTrainingConfig::new(TrainingConfig::new().with_epochs(1).with_batch_size(64));
    let mut trainer = GanomalyTrainer::new(&config, &training, &split.train, &device());
    while read_sync(trainer.adversarial_step()).unwrap().is_some() {}
    let model = trainer.into_model().unwrap();
    let scores = read_sync(score_images(&model, &split.test, 32, &device())).unwrap();
    let threshold = fit(ThresholdMethod::MaxNormal, &scores.model_score).unwrap();
    let record = TrainingRecord {
        config: training.training.clone(),
        steps: 4,
        anomaly_digit: Some(2),
        train_images: split.train.len(),
        final_loss: None,
        validation: None,
    };
    let bytes = Checkpoint::new(
        &model,
        ModelConfig::Ganomaly(config.clone()),
        ScoreKind::LatentDistance,
        threshold,
        record,
    )
    .unwrap()
    .to_bytes()
    .unwrap();

    let loaded = Checkpoint::from_bytes(&bytes).unwrap();
    assert_eq!(loaded.meta.input_size, 32);
    let restored = loaded.model::<Ganomaly>(&device()).unwrap();
    let restored_scores = read_sync(score_images(&restored, &split.test, 32, &device())).unwrap();
    assert_eq!(restored_scores, scores);
    assert_eq!(
        loaded.model::<ConvAutoencoder>(&device()).unwrap_err(),
        CheckpointError::WrongKind {
            expected: "ConvAutoencoder",
            found: "Ganomaly"
        }
    );
}
