//! One training run, from settings to a trained, evaluated detector and its checkpoint:
//! the data a run's [`RunSettings`] name, the model adapted to their size and channels, the
//! step loop (driven by a [`RunObserver`] that shows progress and may stop it), the
//! evaluation and the checkpoint. The `kizu` CLI and the browser's worker both run this.

use std::future::Future;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{Checkpoint, CheckpointError, CheckpointMeta, TrainingRecord};
use crate::data::{DataError, Images, Normalisation, PseudoAnomalies};
use crate::detector::{detect_rows, score_images, Detector, Normalised};
use crate::divergence::{Divergence, DivergenceWatch};
use crate::eval::{evaluate, EvalError, Evaluation};
use crate::metrics::mean_std;
use crate::score::{read_vec, ReadError, ScoreKind};
use crate::threshold::ThresholdMethod;
use crate::train::{fixed_batches, StepReport, Trainer, TrainingConfig};
use crate::viz::DEFAULT_DIFFERENCE_SCALE;
use crate::zoo::{AnyDetector, AnyTrainer, InputShapeError, ModelConfig};

mod data;

pub use self::data::RunData;
pub use crate::settings::{DataProtocol, RunSettings};

/// Training images whose difference maps fix a model's heat-map scale.
const SCALE_SAMPLE: usize = 256;

impl RunSettings {
    /// The model's configuration for these settings' images.
    ///
    /// A model trained with pseudo-anomalies learns to repair them, so it is judged by what
    /// it repaired (on the overlay protocol the latent's nearest neighbour scores 0.64, MSE
    /// 0.97: docs/BENCHMARKS.md): by the ink it erased where every defect it learned to
    /// repair adds ink (seed 000's overlaid digit; a normal image's strokes come back, a
    /// repaired one's added strokes do not), else by the MSE between the input and its
    /// reconstruction.
    pub fn model_config(&self) -> Result<ModelConfig, RunError> {
        let mut config = self
            .model
            .config(self.scale)
            .for_input(self.input_size, self.channels)?;
        for (id, &value) in &self.hyperparameters {
            match self.model.hyperparameters().iter().find(|h| h.id == id) {
                // Checked here, set on the training by `train`.
                Some(h) if h.loss_weight => {
                    h.check(value).map_err(RunError::Setting)?;
                }
                _ => {
                    config = config
                        .with_hyperparameter(id, value)
                        .map_err(RunError::Setting)?;
                }
            }
        }
        Ok(if self.pseudo_anomalies {
            config.with_score(Some(self.repair_score()))
        } else {
            config
        })
    }

    /// What a model trained with these settings' pseudo-anomalies is judged by (see
    /// [`RunSettings::model_config`]).
    pub fn repair_score(&self) -> ScoreKind {
        if self.defect_kinds().iter().all(|d| d.only_adds_ink()) {
            ScoreKind::ErasedInk
        } else {
            ScoreKind::Mse
        }
    }
}

/// Why a run could not be prepared, trained or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// The data cannot make the run's split.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The model cannot take the data's images.
    #[error(transparent)]
    Shape(#[from] InputShapeError),
    /// Reading results back from the device failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Evaluation failed.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// Writing the checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Setting(String),
    /// The sensor series cannot make the run's windows.
    #[error(transparent)]
    Series(#[from] crate::data::series::SeriesError),
    /// The windows do not fit the model.
    #[error(transparent)]
    SeriesModel(#[from] crate::lstm_ae::SeriesModelError),
    /// Stopped before the first step: nothing was learned.
    #[error("stopped before the first training step: nothing was learned")]
    NothingLearned,
}

/// What a run reports to whoever drives it, and asks of it.
pub trait RunObserver {
    /// One optimiser step was taken.
    fn step(&self, report: &StepReport);
    /// Whether to stop after the current step.
    fn should_stop(&self) -> bool {
        false
    }
    /// Lets the host breathe between steps (a browser delivers messages then).
    fn yield_now(&self) -> impl Future<Output = ()> {
        async {}
    }
    /// Whether to be shown the model as it is after this step ([`RunObserver::preview`]).
    fn wants_preview(&self, _report: &StepReport) -> bool {
        false
    }
    /// The model as it is now on `device`, fed as it trains: its reconstructions show what
    /// it has learned so far (its scores are not fitted yet).
    fn preview(
        &self,
        _model: &Normalised<'_, AnyDetector>,
        _device: &Device,
    ) -> impl Future<Output = ()> {
        async {}
    }
    /// The run's device failed and it goes on, on the fallback device, from its last copy.
    fn fell_back(&self, _event: &FellBack) {}
}

/// A run's move to its fallback device after its own device failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FellBack {
    /// The step that failed.
    pub failed_at: usize,
    /// The step the run went on from: its last copy on the fallback device.
    pub resumed_from: usize,
    /// What failed.
    pub reason: String,
}

/// A trained model with what it was trained with.
pub struct Trained {
    /// The detector.
    pub model: AnyDetector,
    /// Its architecture.
    pub config: ModelConfig,
    /// The run's training settings (with the fitted normalisation).
    pub training: TrainingConfig,
    /// Steps taken.
    pub steps: usize,
    /// Whether the observer stopped the run before its last step.
    pub stopped_early: bool,
    /// The main loss of the last step.
    pub final_loss: Option<f32>,
    /// Training images it learned from (the validation share excluded).
    pub train_images: usize,
    /// How the epoch was chosen, when a share of the training images was held out.
    pub validation: Option<EpochChoice>,
    /// Why the run was stopped as diverged, if it was (the model is the last good one).
    pub diverged: Option<Divergence>,
    /// Where the run moved to its fallback device, if it did (the model is there now).
    pub fell_back: Option<FellBack>,
}

impl Trained {
    /// The model fed as it was trained (its inputs normalised).
    pub fn detector(&self) -> Normalised<'_, AnyDetector> {
        Normalised::new(&self.model, &self.training.normalisation)
    }

    /// Rows in every batch the run sent, and that scoring it sends
    /// ([`TrainingConfig::batch_rows`]).
    pub fn batch_rows(&self) -> usize {
        self.training.batch_rows(self.train_images)
    }
}

/// Trains the model `settings` name on `data`, reporting every step to `observer`.
pub async fn train(
    settings: &RunSettings,
    data: &RunData,
    device: &Device,
    observer: &impl RunObserver,
) -> Result<Trained, RunError> {
    // Boxed: the step loop's future is large, and a debug build's 2 MB test thread (or a
    // caller's own large future) would overflow with it inline.
    Box::pin(train_on(settings, data, device, None, observer)).await
}

/// [`train`] on an accelerator that may fail mid-run (a lost WebGPU device, an operation
/// that fails): the run keeps a copy of itself on `fallback` (the CPU), refreshed every
/// quarter epoch, and if a step fails it goes on there from that copy, told to `observer`
/// and recorded in [`Trained::fell_back`].
pub async fn train_falling_back(
    settings: &RunSettings,
    data: &RunData,
    device: &Device,
    fallback: &Device,
    observer: &impl RunObserver,
) -> Result<Trained, RunError> {
    Box::pin(train_on(settings, data, device, Some(fallback), observer)).await
}

async fn train_on(
    settings: &RunSettings,
    data: &RunData,
    device: &Device,
    fallback: Option<&Device>,
    observer: &impl RunObserver,
) -> Result<Trained, RunError> {
    if settings.protocol == DataProtocol::Unseen && settings.validation > 0.0 {
        return Err(RunError::Setting(
            "seen vs unseen tests on the training images themselves: hold none out for \
             validation (a validation share of 0)"
                .into(),
        ));
    }
    if settings.epochs == 0 || settings.batch_size == 0 {
        return Err(RunError::Setting(
            "epochs and batch size must be at least 1".into(),
        ));
    }
    let config = settings.model_config()?;
    let normalisation = if settings.standardise {
        Normalisation::fit_standardise(data.split.train())?
    } else {
        Normalisation::UnitRange
    };
    let training = TrainingConfig::new()
        .with_normalisation(normalisation)
        .with_epochs(settings.epochs)
        .with_batch_size(settings.batch_size)
        .with_learning_rate(settings.learning_rate())
        .with_learning_rate_schedule(Some(settings.learning_rate_schedule))
        .with_seed(settings.seed)
        .with_pseudo_anomalies(
            settings
                .pseudo_anomalies
                .then(|| PseudoAnomalies::of_kinds(&settings.defect_kinds())),
        )
        .with_loss_weights(settings.loss_weights());
    let (fit_images, held_out) = data
        .split
        .train()
        .hold_out(settings.validation, settings.seed);
    let mut trainer = AnyTrainer::new(&config, &training, &fit_images, &data.labelled, device);
    let batch_rows = training.batch_rows(fit_images.len());
    let mut chooser =
        (!held_out.is_empty()).then(|| EpochChooser::new(held_out, &training, batch_rows));
    let steps_per_epoch = trainer.total_steps() / settings.epochs.max(1);
    let mut device = device.clone();
    let mut lifeboat = Lifeboat::for_run(&trainer, fallback, steps_per_epoch).await?;
    let mut fell_back = None;
    let (mut steps, mut final_loss, mut stopped_early) = (0, None, false);
    let mut watch = DivergenceWatch::default();
    let mut diverged = None;
    // The run as it was two steps back: a loss is computed with the weights the step
    // before left, so when it is not finite those weights are already bad.
    let mut two_back: Option<AnyTrainer> = None;
    loop {
        let one_back = trainer.clone();
        let outcome = trainer.step().await;
        #[cfg(test)]
        let outcome = tests::injected_failure(outcome);
        let step = match outcome {
            Ok(step) => step,
            Err(error) => match lifeboat.take() {
                Some(boat) => {
                    let (copy, event, fallback) =
                        boat.take_over(steps + 1, error.to_string(), observer);
                    // Every copy made on the failed device went with it.
                    (trainer, steps, device) = (copy, event.resumed_from, fallback);
                    two_back = None;
                    if let Some(chooser) = chooser.as_mut() {
                        chooser.forget_copies();
                    }
                    fell_back = Some(event);
                    continue;
                }
                None => return Err(error.into()),
            },
        };
        let Some(step) = step else {
            break;
        };
        observer.step(&step);
        observer.yield_now().await;
        if observer.wants_preview(&step) {
            if let Some(model) = trainer.clone().into_model() {
                observer
                    .preview(&Normalised::new(&model, &training.normalisation), &device)
                    .await;
            }
        }
        if let Some(divergence) = watch.check(step.progress.step, &step.losses) {
            let at = step.progress.step;
            steps = back_off(&divergence, at, &mut trainer, two_back.take(), one_back);
            diverged = Some(divergence);
            stopped_early = true;
            if let Some(chooser) = chooser.as_mut() {
                chooser.consider(&trainer, steps, &device).await?;
            }
            break;
        }
        two_back = Some(one_back);
        steps = step.progress.step;
        final_loss = step.losses.first().map(|&(_, loss)| loss);
        let epoch_ended = steps_per_epoch > 0 && steps % steps_per_epoch == 0;
        if let Some(chooser) = chooser.as_mut().filter(|_| epoch_ended) {
            chooser.consider(&trainer, steps, &device).await?;
        }
        if observer.should_stop() {
            stopped_early = step.progress.step < step.progress.total_steps;
            if let Some(chooser) = chooser.as_mut().filter(|_| !epoch_ended) {
                chooser.consider(&trainer, steps, &device).await?;
            }
            break;
        }
        if let Some(boat) = lifeboat.as_mut().filter(|boat| boat.due(steps)) {
            boat.refresh(&trainer, steps).await;
        }
    }
    if steps == 0 && diverged.is_none() {
        return Err(RunError::NothingLearned);
    }
    let (trainer, validation) = match chooser {
        Some(chooser) => chooser.choice(trainer),
        None => (trainer, None),
    };
    let model = trainer.finish().await?.ok_or(RunError::NothingLearned)?;
    Ok(Trained {
        model,
        config,
        training,
        steps,
        stopped_early,
        final_loss,
        train_images: fit_images.len(),
        validation,
        diverged,
        fell_back,
    })
}

/// A copy of a run on its fallback device, refreshed as the run goes (every quarter
/// epoch): what a run whose device fails goes on from.
pub(crate) struct Lifeboat<T> {
    /// The fallback device.
    pub(crate) device: Device,
    /// The run as it was after [`Lifeboat::steps`], on [`Lifeboat::device`].
    pub(crate) copy: T,
    /// Steps the copy had taken.
    pub(crate) steps: usize,
    /// Steps between two copies.
    every: usize,
}

impl<T: Trainer> Lifeboat<T> {
    /// The run before its first step, copied to `fallback` where the run has one.
    pub(crate) async fn for_run(
        trainer: &T,
        fallback: Option<&Device>,
        steps_per_epoch: usize,
    ) -> Result<Option<Self>, RunError> {
        let Some(device) = fallback else {
            return Ok(None);
        };
        let copy = trainer
            .copy_to(device)
            .await
            .map_err(|e| RunError::Read(ReadError::Device(e.to_string())))?;
        Ok(Some(Self {
            device: device.clone(),
            copy,
            steps: 0,
            every: (steps_per_epoch / 4).max(1),
        }))
    }

    /// The run's own device failed at step `failed_at` (`reason`): the copy goes on, on
    /// the fallback device, and `observer` is told; returns the copy, the event and the
    /// device.
    pub(crate) fn take_over(
        self,
        failed_at: usize,
        reason: String,
        observer: &impl RunObserver,
    ) -> (T, FellBack, Device) {
        let event = FellBack {
            failed_at,
            resumed_from: self.steps,
            reason,
        };
        observer.fell_back(&event);
        (self.copy, event, self.device)
    }

    /// Whether the copy is a quarter epoch old at `steps`.
    pub(crate) fn due(&self, steps: usize) -> bool {
        steps >= self.steps + self.every
    }

    /// Copies the run as it is after `steps`; a copy that cannot be read back is not kept
    /// (the next step will tell whether the device failed).
    pub(crate) async fn refresh(&mut self, trainer: &T, steps: usize) {
        if let Ok(copy) = trainer.copy_to(&self.device).await {
            (self.copy, self.steps) = (copy, steps);
        }
    }
}

/// Where a diverged run stops, `step` being the step whose losses diverged: a loss that
/// is not finite was computed with weights the step before already spoiled, so `trainer`
/// goes back to the run two steps back (`two_back`, or `one_back` if there is none yet);
/// any other divergence keeps the current weights. Returns the steps the kept run took.
pub(crate) fn back_off<T>(
    divergence: &Divergence,
    step: usize,
    trainer: &mut T,
    two_back: Option<T>,
    one_back: T,
) -> usize {
    if matches!(divergence, Divergence::NotFinite { .. }) {
        *trainer = two_back.unwrap_or(one_back);
        step.saturating_sub(2)
    } else {
        step
    }
}

/// How the epoch was chosen: the held-out normal images' mean reconstruction error after
/// each epoch, and which one was kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochChoice {
    /// Images held out.
    pub images: usize,
    /// Optimiser steps before each validation (one per epoch, and where the run stopped).
    pub steps: Vec<usize>,
    /// Mean MSE of the held-out images at each of them.
    pub losses: Vec<f32>,
    /// Index of the one kept (the lowest finite loss).
    pub chosen: usize,
}

/// Chooses the epoch without looking at the test set: after each one, a copy of the run
/// reconstructs normal training images it never trains on, and the copy that does so best
/// is the one finished (its statistics fitted, its scores judged).
struct EpochChooser {
    images: Images,
    normalisation: Normalisation,
    batch_rows: usize,
    steps: Vec<usize>,
    losses: Vec<f32>,
    best: Option<(usize, AnyTrainer)>,
}

impl EpochChooser {
    fn new(images: Images, training: &TrainingConfig, batch_rows: usize) -> Self {
        Self {
            images,
            normalisation: training.normalisation.clone(),
            batch_rows,
            steps: Vec::new(),
            losses: Vec::new(),
            best: None,
        }
    }

    /// Validates the run as it stands after `steps`, keeping a copy if it is the best yet.
    async fn consider(
        &mut self,
        trainer: &AnyTrainer,
        steps: usize,
        device: &Device,
    ) -> Result<(), RunError> {
        let Some(model) = trainer.clone().into_model() else {
            return Ok(());
        };
        let detector = Normalised::new(&model, &self.normalisation);
        let scores = score_images(&detector, &self.images, self.batch_rows, device).await?;
        let mse = scores.of(ScoreKind::Mse);
        let loss = mean_std(mse).map_or(f32::NAN, |(mean, _)| mean as f32);
        let best = self.best.as_ref().map(|&(i, _)| self.losses[i]);
        if loss.is_finite() && best.is_none_or(|best| loss < best) {
            self.best = Some((self.losses.len(), trainer.clone()));
        }
        self.steps.push(steps);
        self.losses.push(loss);
        Ok(())
    }

    /// Forgets the copy kept so far (its device failed); later epochs compete among
    /// themselves.
    fn forget_copies(&mut self) {
        self.best = None;
    }

    /// The run to finish (the best copy, or `last` if none validated) and the record.
    fn choice(self, last: AnyTrainer) -> (AnyTrainer, Option<EpochChoice>) {
        let Some((chosen, trainer)) = self.best else {
            return (last, None);
        };
        let choice = EpochChoice {
            images: self.images.len(),
            steps: self.steps,
            losses: self.losses,
            chosen,
        };
        (trainer, Some(choice))
    }
}

/// A trained model's evaluation on its run's data, with its fixed heat-map scale.
pub struct Evaluated {
    /// Scores, thresholds, AUC and histogram.
    pub evaluation: Evaluation,
    /// The difference at which the heat map saturates, from the training images.
    pub difference_scale: f32,
}

/// Scores the run's training images (thresholds, heat-map scale) and test images.
///
/// `score` picks another score than the model's own (MSE or difference ratio); `methods`
/// are the thresholds to fit, the first being the one a checkpoint keeps.
pub async fn evaluate_run(
    trained: &Trained,
    data: &RunData,
    score: Option<ScoreKind>,
    methods: &[ThresholdMethod],
    device: &Device,
) -> Result<Evaluated, RunError> {
    let detector = trained.detector();
    let own = detector.score_kind();
    let kind = score.unwrap_or(own);
    if !kind.is_reconstruction_score() && kind != own {
        return Err(RunError::Setting(format!(
            "this model has no {} score (its own is {})",
            kind.label(),
            own.label()
        )));
    }
    let evaluation = evaluate(
        &detector,
        data.split.as_ref(),
        kind,
        methods,
        trained.batch_rows(),
        device,
    )
    .await?;
    let difference_scale =
        difference_scale(&detector, data.split.train(), trained.batch_rows(), device).await?;
    Ok(Evaluated {
        evaluation,
        difference_scale,
    })
}

/// The heat-map scale of `detector`: a high percentile of the per-pixel differences of
/// (up to [`SCALE_SAMPLE`]) normal images, so that maps compare across batches; sent in
/// batches of `batch` images.
pub async fn difference_scale(
    detector: &impl Detector,
    normal: &Images,
    batch: usize,
    device: &Device,
) -> Result<f32, RunError> {
    let n = normal.len().min(SCALE_SAMPLE);
    if n == 0 {
        return Ok(DEFAULT_DIFFERENCE_SCALE);
    }
    let images = normal.padded_to(detector.input_size());
    let mut differences = Vec::new();
    for rows in fixed_batches(n, batch) {
        let detection = detect_rows(detector, &images, rows, batch, device);
        differences.extend(read_vec(detection.difference.into_data_async().await)?);
    }
    Ok(crate::viz::difference_scale(&differences))
}

impl Trained {
    /// What this model's checkpoint says besides its weights: its evaluation's first
    /// threshold, `settings`, the AUC and the heat-map scale.
    pub fn checkpoint_meta(
        &self,
        settings: &RunSettings,
        data: &RunData,
        evaluated: &Evaluated,
    ) -> Result<CheckpointMeta, RunError> {
        let threshold = *evaluated
            .evaluation
            .thresholds
            .first()
            .ok_or(EvalError::NoThresholdMethod)?;
        let record = TrainingRecord {
            config: self.training.clone(),
            steps: self.steps,
            anomaly_digit: match settings.protocol {
                DataProtocol::OneClass { digit } => Some(digit),
                _ => None,
            },
            train_images: self.train_images,
            final_loss: self.final_loss,
            validation: self.validation.clone(),
        };
        let mut meta = CheckpointMeta::new(
            &self.model,
            self.config.clone(),
            evaluated.evaluation.score_kind,
            threshold,
            record,
        );
        // So that scoring brings new images to the training images' scale, padding included.
        meta.image_size = Some(data.image_size);
        meta.difference_scale = Some(evaluated.difference_scale);
        meta.settings = Some(settings.clone());
        meta.auc = evaluated.evaluation.auc;
        Ok(meta)
    }

    /// The same run with `model` in place of its trained model (e.g. that model reloaded
    /// from a checkpoint).
    pub fn with_model(&self, model: AnyDetector) -> Trained {
        Trained {
            model,
            config: self.config.clone(),
            training: self.training.clone(),
            steps: self.steps,
            stopped_early: self.stopped_early,
            final_loss: self.final_loss,
            train_images: self.train_images,
            validation: self.validation.clone(),
            diverged: self.diverged.clone(),
            fell_back: self.fell_back.clone(),
        }
    }

    /// This model's checkpoint stored [`Precision::Compact`](crate::precision::Precision),
    /// with the evaluation of what that file holds: its thresholds and AUC are the compact
    /// model's, scored like `evaluated` by `score` with `methods`, to compare with it.
    pub async fn compact_checkpoint(
        &self,
        settings: &RunSettings,
        data: &RunData,
        evaluated: &Evaluated,
        score: Option<ScoreKind>,
        methods: &[ThresholdMethod],
        device: &Device,
    ) -> Result<(Checkpoint, Evaluated), RunError> {
        let compact = self.checkpoint(settings, data, evaluated)?.compact()?;
        let reloaded = self.with_model(compact.detector(device)?);
        let evaluated = evaluate_run(&reloaded, data, score, methods, device).await?;
        let checkpoint = reloaded.checkpoint(settings, data, &evaluated)?.compact()?;
        Ok((checkpoint, evaluated))
    }

    /// The checkpoint of this model (see [`Trained::checkpoint_meta`]); reads the weights
    /// back synchronously, so not on WebGPU in a browser.
    pub fn checkpoint(
        &self,
        settings: &RunSettings,
        data: &RunData,
        evaluated: &Evaluated,
    ) -> Result<Checkpoint, RunError> {
        let meta = self.checkpoint_meta(settings, data, evaluated)?;
        Ok(Checkpoint::of_detector(&self.model, meta)?)
    }
}

#[cfg(test)]
mod tests;
