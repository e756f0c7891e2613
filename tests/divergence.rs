//! A run whose loss stops being finite is stopped as diverged, and what it keeps is the
//! last model whose losses were finite: usable, its scores finite.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use burn::tensor::read_sync;

use kizu_model::divergence::Divergence;
use kizu_model::run::{self, evaluate_run, RunData};
use kizu_model::settings::{DataProtocol, RunSettings};
use kizu_model::threshold::ThresholdMethod;
use kizu_model::zoo::{ModelKind, Scale};
use kizu_tests::{bundled_mnist, device, Quiet};

fn settings(learning_rate: f64) -> RunSettings {
    RunSettings {
        model: ModelKind::ConvAutoencoder,
        scale: Scale::Compact,
        protocol: DataProtocol::OneClass { digit: 3 },
        epochs: 1,
        batch_size: 32,
        learning_rate: Some(learning_rate),
        max_train: Some(320),
        max_test: Some(100),
        ..RunSettings::default()
    }
}

#[test]
fn a_huge_learning_rate_is_stopped_as_diverged_with_the_last_good_weights_kept() {
    let settings = settings(1e6);
    let data = RunData::mnist(&settings, &bundled_mnist()).unwrap();
    let trained = read_sync(run::train(&settings, &data, &device(), &Quiet)).unwrap();
    let Some(Divergence::NotFinite { term, step, .. }) = &trained.diverged else {
        panic!("not reported as diverged: {:?}", trained.diverged);
    };
    assert_eq!(term, "reconstruction");
    assert!(trained.stopped_early);
    // The model kept is the one from before the step whose weights made the bad loss.
    assert_eq!(trained.steps, step - 2, "rolled back two steps from {step}");
    let evaluated = read_sync(evaluate_run(
        &trained,
        &data,
        None,
        &[ThresholdMethod::MaxNormal],
        &device(),
    ))
    .expect("the kept model scores");
    let scores = &evaluated.evaluation.test_scores;
    assert!(scores.iter().all(|s| s.is_finite()), "{scores:?}");
    assert!(evaluated.evaluation.auc.is_some());
}

#[test]
fn a_sound_run_is_not_diverged() {
    let settings = settings(1e-3);
    let data = RunData::mnist(&settings, &bundled_mnist()).unwrap();
    let trained = read_sync(run::train(&settings, &data, &device(), &Quiet)).unwrap();
    assert_eq!(trained.diverged, None);
    assert!(!trained.stopped_early);
    assert_eq!(trained.steps, 10);
}
