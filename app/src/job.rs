//! One training run from request to result, independent of where it runs.
//!
//! The worker drives it in the browser; native tests drive it with a plain host. It only
//! orchestrates: models, scores and metrics come from `kizu-model`.

use burn::tensor::Device;
use kizu_model::data::{Images, Mnist, OneClassSplit};
use kizu_model::detector::Detector;
use kizu_model::eval::{evaluate, Evaluation};
use kizu_model::score::ScoreKind;
use kizu_model::threshold::ThresholdMethod;
use kizu_model::train::{Trainer, TrainingConfig};
use kizu_model::viz::to_u8;
use kizu_model::zoo::{AnyTrainer, Scale};

use crate::protocol::{
    Response, RunResult, Sample, StepReport, ThresholdView, Throughput, TrainRequest,
};

/// Test images of each class shown after a run.
pub const SAMPLES_PER_CLASS: usize = 4;
/// Images per training step.
const BATCH_SIZE: usize = 32;
/// Images per scoring batch.
const SCORE_BATCH: usize = 250;
/// Thresholds offered after a run: seed 000's strict one first, then the 95th percentile.
const THRESHOLD_METHODS: [ThresholdMethod; 2] = [
    ThresholdMethod::MaxNormal,
    ThresholdMethod::Percentile(95.0),
];
/// Shortest time between two progress reports: the page redraws on each one.
const REPORT_INTERVAL_MS: f64 = 100.0;

/// What a run needs from where it runs.
pub trait Host {
    /// Sends a message to the page.
    fn emit(&self, response: Response);
    /// Whether the user asked to stop.
    fn should_stop(&self) -> bool;
    /// Lets the host breathe between steps (the browser handles messages then).
    fn pause(&self) -> impl std::future::Future<Output = ()>;
    /// A clock in milliseconds, for throughput figures.
    fn now_ms(&self) -> f64;
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The request is not valid for the data.
    #[error("invalid request: {0}")]
    Request(#[from] kizu_model::data::DataError),
    /// Reading a result back from the device failed.
    #[error(transparent)]
    Read(#[from] kizu_model::score::ReadError),
    /// Evaluation failed.
    #[error(transparent)]
    Eval(#[from] kizu_model::eval::EvalError),
    /// Training was stopped before its first step: there is nothing to evaluate.
    #[error("stopped before the first training step: nothing was learned")]
    NothingLearned,
}

/// Trains the requested model, reporting every step, then evaluates it.
pub async fn train_and_evaluate<H: Host>(
    request: &TrainRequest,
    mnist: &Mnist,
    device: &Device,
    host: &H,
) -> Result<RunResult, JobError> {
    let (max_train, max_test) = request.data_size.limits();
    let split = OneClassSplit::new(mnist, request.anomaly_digit, request.seed)?
        .truncated(max_train, max_test);
    let training = TrainingConfig::new()
        .with_epochs(request.epochs)
        .with_batch_size(BATCH_SIZE)
        .with_seed(request.seed);
    let config = request.model.config(Scale::Compact);
    let training = training.with_learning_rate(request.model.learning_rate());
    let no_labelled_anomalies = Images::new(Vec::new(), 0, 1, 28, 28)?;
    let trainer = AnyTrainer::new(
        &config,
        &training,
        &split.train,
        &no_labelled_anomalies,
        device,
    );
    run(trainer, config.score_kind(), &split, device, host).await
}

/// Drives any trainer to the end (or a stop), then scores and summarises.
async fn run<T: Trainer, H: Host>(
    mut trainer: T,
    score_kind: ScoreKind,
    split: &OneClassSplit,
    device: &Device,
    host: &H,
) -> Result<RunResult, JobError> {
    let mut steps = 0;
    let mut trained_images = 0;
    let mut stopped_early = false;
    let train_started = host.now_ms();
    let mut pending = Vec::new();
    let mut last_report = train_started;
    while let Some(step) = trainer.step().await? {
        steps = step.progress.step;
        trained_images += step.images;
        let last_step = step.progress.step == step.progress.total_steps;
        pending.push(StepReport {
            epoch: step.progress.epoch,
            step: step.progress.step,
            total_steps: step.progress.total_steps,
            losses: step
                .losses
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        });
        let now = host.now_ms();
        if now - last_report >= REPORT_INTERVAL_MS || last_step {
            host.emit(Response::Steps(std::mem::take(&mut pending)));
            last_report = now;
        }
        host.pause().await;
        if host.should_stop() {
            stopped_early = !last_step;
            break;
        }
    }
    if !pending.is_empty() {
        host.emit(Response::Steps(pending));
    }
    if steps == 0 {
        return Err(JobError::NothingLearned);
    }
    let train_ms = host.now_ms() - train_started;
    let model = trainer.finish().await?.ok_or(JobError::NothingLearned)?;
    host.emit(Response::Phase("scoring".into()));
    host.pause().await;
    let score_started = host.now_ms();
    let evaluation = evaluate(
        &model,
        split,
        score_kind,
        &THRESHOLD_METHODS,
        SCORE_BATCH,
        device,
    )
    .await?;
    let score_ms = host.now_ms() - score_started;
    let scored_images = split.train.len() + split.test.len();
    let samples = samples(&model, split, &evaluation, device).await?;
    Ok(RunResult {
        stopped_early,
        steps,
        auc: evaluation.auc,
        score_label: evaluation.score_kind.label().to_owned(),
        thresholds: evaluation
            .thresholds
            .iter()
            .map(|t| ThresholdView {
                method: t.method.label(),
                threshold: *t,
                confusion: evaluation.confusion(split, t),
            })
            .collect(),
        histogram: evaluation.histogram,
        samples,
        throughput: Throughput {
            train_images_per_second: per_second(trained_images, train_ms),
            score_images_per_second: per_second(scored_images, score_ms),
        },
    })
}

fn per_second(images: usize, ms: f64) -> f64 {
    if ms > 0.0 {
        images as f64 * 1000.0 / ms
    } else {
        f64::NAN
    }
}

/// The first few normal and anomalous test images with their reconstructions.
async fn samples(
    model: &impl Detector,
    split: &OneClassSplit,
    evaluation: &Evaluation,
    device: &Device,
) -> Result<Vec<Sample>, JobError> {
    let pick = |anomalous: bool| {
        (0..split.test.len())
            .filter(move |&i| split.test_is_anomaly[i] == anomalous)
            .take(SAMPLES_PER_CLASS)
    };
    let indices: Vec<usize> = pick(false).chain(pick(true)).collect();
    let selected = split.test.select(&indices);
    let images = selected.padded_to(model.input_size());
    let detection = model
        .detect(images.tensor(0, images.len(), device))
        .read()
        .await?;
    let max_difference = detection
        .difference
        .pixels()
        .iter()
        .copied()
        .fold(0.0, f32::max);
    let [_, side, _] = images.image_shape();
    Ok(indices
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let score = evaluation.test_scores[i];
            Sample {
                digit: split.test_digits[i],
                is_anomaly: split.test_is_anomaly[i],
                score,
                side,
                input: to_u8(images.image(k), 1.0),
                generated: to_u8(detection.reconstruction.image(k), 1.0),
                difference: to_u8(detection.difference.image(k), max_difference),
            }
        })
        .collect())
}
