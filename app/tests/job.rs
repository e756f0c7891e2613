//! The worker's run, driven natively: every step reported, stop honoured, results complete.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use std::cell::{Cell, RefCell};

use burn::tensor::read_sync;
use kizu_app::job::{train_and_evaluate, Host, JobError, SAMPLES_PER_CLASS};
use kizu_app::protocol::{BackendChoice, DataSize, ModelKind, Response, RunResult, TrainRequest};
use kizu_tests::{bundled_mnist, device};

/// Records what the job reports; asks to stop at its `stop_after`-th poll (one poll per step).
struct TestHost {
    responses: RefCell<Vec<Response>>,
    stop_after: usize,
    steps: Cell<usize>,
    polls: Cell<usize>,
    started: std::time::Instant,
}

impl TestHost {
    fn stopping_after(stop_after: usize) -> Self {
        Self {
            responses: RefCell::default(),
            stop_after,
            steps: Cell::new(0),
            polls: Cell::new(0),
            started: std::time::Instant::now(),
        }
    }
}

impl Host for TestHost {
    fn emit(&self, response: Response) {
        if let Response::Steps(reports) = &response {
            self.steps.set(self.steps.get() + reports.len());
        }
        self.responses.borrow_mut().push(response);
    }
    fn should_stop(&self) -> bool {
        self.polls.set(self.polls.get() + 1);
        self.polls.get() >= self.stop_after
    }
    async fn pause(&self) {}
    fn now_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }
}

fn run(request: &TrainRequest, host: &TestHost) -> Result<RunResult, JobError> {
    read_sync(train_and_evaluate(
        request,
        &bundled_mnist(),
        &device(),
        host,
    ))
}

fn request() -> TrainRequest {
    TrainRequest {
        model: ModelKind::ConvAutoencoder,
        anomaly_digit: 4,
        epochs: 1,
        seed: 5,
        data_size: DataSize::Quick,
        backend: BackendChoice::Cpu,
        data_url: String::new(),
    }
}

#[test]
fn a_quick_run_reports_every_step_and_returns_views_and_a_finite_auc() {
    let host = TestHost::stopping_after(usize::MAX);
    let result = run(&request(), &host).unwrap();
    // 1,000 training images in batches of 32.
    assert_eq!(host.steps.get(), 32);
    assert_eq!(result.steps, 32);
    assert!(!result.stopped_early);
    assert!(result.auc.is_some_and(f64::is_finite));
    let counted: u32 = result
        .histogram
        .normal
        .iter()
        .chain(&result.histogram.anomalous)
        .sum();
    assert_eq!(counted, 500);
    assert_eq!(result.samples.len(), 2 * SAMPLES_PER_CLASS);
    assert_eq!(result.thresholds.len(), 2);
    for view in &result.thresholds {
        assert_eq!(view.confusion.total(), 500);
    }
    assert!(
        result.thresholds[0].confusion.false_positives
            <= result.thresholds[1].confusion.false_positives,
        "the max threshold flags no more normals than the 95th percentile"
    );
    assert!(result.throughput.train_images_per_second > 0.0);
    assert!(result.throughput.score_images_per_second > 0.0);
    for sample in &result.samples {
        assert_eq!(sample.is_anomaly, sample.digit == 4);
        for image in [&sample.input, &sample.generated, &sample.difference] {
            assert_eq!(image.len(), 28 * 28);
        }
        assert!(
            sample.generated.iter().any(|&p| p > 0),
            "a reconstruction is not blank"
        );
    }
}

#[test]
fn stop_keeps_what_was_learned_and_still_evaluates() {
    let host = TestHost::stopping_after(5);
    let result = run(&request(), &host).unwrap();
    assert!(result.stopped_early);
    assert_eq!(result.steps, 5);
    assert_eq!(
        host.steps.get(),
        5,
        "every step taken is reported, the last ones at the stop"
    );
    assert!(result.auc.is_some());
    let phases: Vec<_> = host
        .responses
        .borrow()
        .iter()
        .filter(|r| matches!(r, Response::Phase(_)))
        .cloned()
        .collect();
    assert_eq!(phases, vec![Response::Phase("scoring".into())]);
}

#[test]
fn an_invalid_digit_is_an_error_not_a_panic() {
    let host = TestHost::stopping_after(usize::MAX);
    let bad = TrainRequest {
        anomaly_digit: 11,
        ..request()
    };
    let err = run(&bad, &host).unwrap_err();
    assert!(err.to_string().contains("0-9"), "{err}");
}

#[test]
fn ganomaly_reports_generator_and_discriminator_losses_and_scores_latent_distance() {
    let host = TestHost::stopping_after(6);
    let request = TrainRequest {
        model: ModelKind::Ganomaly,
        ..request()
    };
    let result = run(&request, &host).unwrap();
    assert_eq!(result.steps, 6);
    assert_eq!(result.score_label, "latent distance");
    assert!(result.auc.is_some_and(f64::is_finite));
    let responses = host.responses.borrow();
    let first_step = responses.iter().find_map(|r| match r {
        Response::Steps(steps) => steps.first().cloned(),
        _ => None,
    });
    let names: Vec<String> = first_step
        .unwrap()
        .losses
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(&names[..2], ["generator", "discriminator"]);
    let sample = &result.samples[0];
    assert_eq!(
        sample.side, 32,
        "digits are padded to GANomaly's 32x32 input"
    );
    assert_eq!(sample.input.len(), 32 * 32);
    assert_eq!(sample.generated.len(), 32 * 32);
}
