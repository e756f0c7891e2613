//! Each model's recipe, run short on real digits, beats chance with a margin on a digit
//! held out: a broken recipe or score fails here (the full ten-digit runs are the
//! benchmark command, `scripts/bench.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use burn::tensor::read_sync;
use std::cell::Cell;

use kizu_model::detector::{score_images, Detector, Normalised};
use kizu_model::eval::Evaluation;
use kizu_model::run::{self, evaluate_run, RunData, RunObserver, Trained};
use kizu_model::score::ScoreKind;
use kizu_model::settings::{DataProtocol, RunSettings};
use kizu_model::threshold::ThresholdMethod;
use kizu_model::train::StepReport;
use kizu_model::zoo::{ModelKind, Scale};
use kizu_tests::{bundled_mnist, device, Quiet};

/// `settings` (sized by the caller) trained on the bundled digits, with its data.
fn trained(settings: &RunSettings) -> (Trained, RunData) {
    let data = RunData::mnist(settings, &bundled_mnist()).unwrap();
    let trained = read_sync(run::train(settings, &data, &device(), &Quiet)).unwrap();
    (trained, data)
}

/// The evaluation of `trained` on `data`'s test images by `score` (its own for `None`), at
/// the max-of-normal threshold.
fn evaluation(trained: &Trained, data: &RunData, score: Option<ScoreKind>) -> Evaluation {
    read_sync(evaluate_run(
        trained,
        data,
        score,
        &[ThresholdMethod::MaxNormal],
        &device(),
    ))
    .unwrap()
    .evaluation
}

/// ROC AUCs of `model` at its recipe (compact scale), trained `epochs` on at most 2,000
/// digits with `digit` held out and tested on 800, by its own score and by each of `others`;
/// and the share of normal test digits its own score flags at the max-of-normal threshold.
fn aucs(model: ModelKind, digit: u8, epochs: usize, others: &[ScoreKind]) -> (Vec<f64>, f64) {
    let (trained, data) = trained(&RunSettings {
        model,
        scale: Scale::Compact,
        protocol: DataProtocol::OneClass { digit },
        epochs,
        max_train: Some(2000),
        max_test: Some(800),
        ..RunSettings::default()
    });
    let own = evaluation(&trained, &data, None);
    let confusion = own.confusion(data.split.as_ref(), &own.thresholds[0]);
    let flagged = confusion
        .false_positive_rate()
        .expect("normal digits in the test set");
    let aucs = std::iter::once(None)
        .chain(others.iter().copied().map(Some))
        .map(|score| {
            let auc = evaluation(&trained, &data, score).auc;
            auc.expect("both classes in the test set")
        })
        .collect();
    (aucs, flagged)
}

#[test]
fn the_fc_autoencoder_finds_held_out_ones_that_its_mse_misses() {
    // A 1 has little ink, so little to rebuild wrong: MSE ranks held-out 1s below normal
    // digits. The combined score's neighbour and ratio terms find them.
    let (aucs, _) = aucs(ModelKind::FcAutoencoder, 1, 3, &[ScoreKind::Mse]);
    let [combined, mse] = aucs[..] else {
        unreachable!("two scores asked for")
    };
    eprintln!("digit 1 held out: combined score AUC {combined:.3}, MSE {mse:.3}");
    assert!(
        combined > 0.65,
        "combined score AUC {combined:.3} (MSE {mse:.3})"
    );
    assert!(combined > mse + 0.2, "combined {combined:.3}, MSE {mse:.3}");
}

#[test]
fn the_conv_autoencoder_finds_by_its_latent_the_ones_it_rebuilds_too_well() {
    // The conv AE rebuilds held-out 1s almost perfectly (MSE AUC near 0.05 in the
    // benchmarks); the nearest training latent still tells them apart.
    let (aucs, flagged) = aucs(ModelKind::ConvAutoencoder, 1, 3, &[ScoreKind::Mse]);
    let [neighbour, mse] = aucs[..] else {
        unreachable!("two scores asked for")
    };
    eprintln!("digit 1 held out: neighbour score AUC {neighbour:.3}, MSE {mse:.3}");
    assert!(
        neighbour > 0.7,
        "neighbour score AUC {neighbour:.3} (MSE {mse:.3})"
    );
    assert!(
        neighbour > mse + 0.3,
        "neighbour {neighbour:.3}, MSE {mse:.3}"
    );
    // Training images are scored by their nearest other training latent, so the highest
    // of them is a threshold an unseen normal digit rarely passes (were a training image
    // its own neighbour, every training score would be 0 and every test image flagged).
    eprintln!("max-normal threshold flags {flagged:.3} of the normal test digits");
    assert!(flagged < 0.1, "{flagged:.3} of normal test digits flagged");
}

/// `model`'s recipe, one epoch on 2,000 digits, is judged by `score` and separates
/// held-out `digit`s with an AUC above `at_least`.
fn judged_by(model: ModelKind, score: ScoreKind, digit: u8, at_least: f64) {
    assert_eq!(model.config(Scale::Compact).score_kind(), score);
    let (aucs, flagged) = aucs(model, digit, 1, &[]);
    eprintln!(
        "{model}, digit {digit} held out: {score:?} score AUC {:.3}, max-normal flags {flagged:.3}",
        aucs[0]
    );
    assert!(aucs[0] > at_least, "{model}: AUC {:.3}", aucs[0]);
}

/// [`judged_by`] the nearest training latent.
fn judged_by_its_latent(model: ModelKind, digit: u8, at_least: f64) {
    judged_by(model, ScoreKind::Neighbour, digit, at_least);
}

#[test]
fn the_fc_vae_by_its_combined_score_beats_chance() {
    judged_by(ModelKind::FcVae, ScoreKind::Combined, 0, 0.75);
}

#[test]
fn the_conv_vae_by_its_latent_beats_chance() {
    judged_by_its_latent(ModelKind::ConvVae, 0, 0.8);
}

#[test]
fn ganomaly_by_its_encoders_latent_beats_chance() {
    judged_by_its_latent(ModelKind::Ganomaly, 0, 0.8);
}

#[test]
fn skip_ganomaly_by_its_unets_bottom_level_beats_chance() {
    judged_by_its_latent(ModelKind::SkipGanomaly, 0, 0.8);
}

#[test]
fn the_aae_by_its_latent_beats_chance() {
    judged_by_its_latent(ModelKind::Aae, 0, 0.8);
}

#[test]
fn anogan_by_its_searched_latent_beats_chance() {
    judged_by_its_latent(ModelKind::AnoGan, 0, 0.7);
}

#[test]
fn the_lstm_autoencoder_by_its_encoders_states_beats_chance() {
    judged_by_its_latent(ModelKind::LstmAutoencoder, 0, 0.85);
}

/// Stops the run after `after` steps.
struct StopAfter {
    after: usize,
    seen: Cell<usize>,
}

impl RunObserver for StopAfter {
    fn step(&self, _: &StepReport) {
        self.seen.set(self.seen.get() + 1);
    }
    fn should_stop(&self) -> bool {
        self.seen.get() >= self.after
    }
}

#[test]
fn a_validation_share_chooses_the_epoch_without_training_on_it() {
    let settings = RunSettings {
        model: ModelKind::ConvAutoencoder,
        scale: Scale::Compact,
        epochs: 3,
        max_train: Some(640),
        max_test: Some(64),
        validation: 0.2,
        ..RunSettings::default()
    };
    let (trained, data) = trained(&settings);
    assert_eq!(trained.train_images, 512, "a fifth of 640 held out");
    let choice = trained
        .validation
        .clone()
        .expect("validated after each epoch");
    assert_eq!(choice.images, 128);
    assert_eq!(
        choice.steps,
        [8, 16, 24],
        "after each epoch of 512 / 64 steps"
    );
    let best = choice
        .losses
        .iter()
        .enumerate()
        .filter(|(_, l)| l.is_finite())
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i);
    assert_eq!(Some(choice.chosen), best, "{:?}", choice.losses);

    // The model finished is the one chosen: it rebuilds the held-out images as validated.
    let (_, held_out) = data.split.train().hold_out(0.2, settings.seed);
    let detector = Normalised::new(&trained.model, &trained.training.normalisation);
    let scores = read_sync(score_images(&detector, &held_out, 64, &device())).unwrap();
    let mse = scores.of(ScoreKind::Mse);
    let mean = mse.iter().sum::<f32>() / mse.len() as f32;
    let kept = choice.losses[choice.chosen];
    assert!(
        (mean - kept).abs() <= 1e-4 * kept.max(1.0),
        "{mean} vs {kept}"
    );

    // Its checkpoint says how the epoch was chosen.
    let evaluated = read_sync(evaluate_run(
        &trained,
        &data,
        None,
        &[ThresholdMethod::MaxNormal],
        &device(),
    ))
    .unwrap();
    let meta = trained
        .checkpoint_meta(&settings, &data, &evaluated)
        .unwrap();
    assert_eq!(meta.training.validation, Some(choice));
    assert_eq!(meta.training.train_images, 512);

    // A run stopped mid-epoch is validated where it stopped.
    let stop = StopAfter {
        after: 5,
        seen: Cell::new(0),
    };
    let stopped = read_sync(run::train(&settings, &data, &device(), &stop)).unwrap();
    let choice = stopped.validation.expect("validated where it stopped");
    assert_eq!((choice.steps, choice.chosen), (vec![5], 0));
}

#[test]
fn a_model_learning_to_repair_overlaid_digits_is_judged_by_the_ink_it_erased() {
    // The overlay protocol's recipe, short: the conv AE learns to take a second, fainter
    // digit off each image; judged by erased ink, it ranks overlaid test digits above
    // clean ones better than by all the ink it removed (which counts its blur too).
    let (trained, data) = trained(&RunSettings {
        model: ModelKind::ConvAutoencoder,
        scale: Scale::Compact,
        protocol: DataProtocol::Overlay,
        pseudo_anomalies: true,
        epochs: 3,
        max_train: Some(2000),
        max_test: Some(800),
        ..RunSettings::default()
    });
    let auc = |score| {
        let auc = evaluation(&trained, &data, score).auc;
        auc.expect("both classes in the test set")
    };
    let (own, removed) = (auc(None), auc(Some(ScoreKind::RemovedInk)));
    eprintln!("overlay, 3 epochs: erased ink AUC {own:.4}, removed ink {removed:.4}");
    assert_eq!(trained.detector().score_kind(), ScoreKind::ErasedInk);
    assert!(own > 0.9, "erased ink AUC {own:.4}");
    assert!(
        own > removed,
        "erased {own:.4} against removed {removed:.4}"
    );
}
