//! A training run of the CLI: the protocol's images, the trained model and its evaluation.

use std::time::Instant;

use burn::tensor::{read_sync, Device};
use indicatif::{ProgressBar, ProgressStyle};
use kizu_model::checkpoint::ModelConfig;
use kizu_model::data::{
    Images, Mnist, Normalisation, OneClassSplit, OverlaySplit, Protocol, PseudoAnomalies,
    BUNDLED_IMAGES_FILE, BUNDLED_LABELS_FILE,
};
use kizu_model::detector::{AnyDetector, Detector, Normalised};
use kizu_model::eval::{evaluate, Evaluation};
use kizu_model::score::ScoreKind;
use kizu_model::threshold::ThresholdMethod;
use kizu_model::train::{Trainer, TrainingConfig};
use kizu_model::zoo::AnyTrainer;

use crate::{AnyError, ProtocolArg, RunArgs};

/// A protocol's images, plus labelled anomalies for the models that train with some.
pub(crate) struct Split {
    pub(crate) protocol: Box<dyn Protocol>,
    pub(crate) labelled: Images,
}

pub(crate) fn load_split(run: &RunArgs, digit: u8) -> Result<Split, AnyError> {
    let read = |name: &str| {
        let path = run.data.join(name);
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut mnist = Mnist::bundled(&read(BUNDLED_IMAGES_FILE)?, &read(BUNDLED_LABELS_FILE)?)?;
    let side = usize::from(run.input_size);
    mnist.images = mnist
        .images
        .resized(side, side)?
        .to_channels(usize::from(run.channels))?;
    let max_train = if run.max_train > 0 {
        run.max_train
    } else {
        usize::MAX
    };
    if run.protocol == ProtocolArg::Overlay {
        let split = OverlaySplit::new(&mnist, run.seed)?.truncated(max_train, usize::MAX);
        return Ok(Split {
            protocol: Box::new(split),
            labelled: Images::new(Vec::new(), 0, usize::from(run.channels), side, side)?,
        });
    }
    let mut split = OneClassSplit::new(&mnist, digit, run.seed)?.truncated(max_train, usize::MAX);
    // Labelled anomalies (seed 002) are taken out of the test set, so that no image is
    // both trained on and tested.
    let wanted = (split.train.len() as f64 * run.labelled_anomalies).round() as usize;
    let anomalous: Vec<usize> = (0..split.test.len())
        .filter(|&i| split.test_is_anomaly[i])
        .take(wanted)
        .collect();
    let labelled = split.test.select(&anomalous);
    let keep: Vec<usize> = (0..split.test.len())
        .filter(|i| !anomalous.contains(i))
        .collect();
    split.test = split.test.select(&keep);
    split.test_digits = keep.iter().map(|&i| split.test_digits[i]).collect();
    split.test_is_anomaly = keep.iter().map(|&i| split.test_is_anomaly[i]).collect();
    Ok(Split {
        protocol: Box::new(split),
        labelled,
    })
}

pub(crate) struct Trained {
    pub(crate) model: AnyDetector,
    pub(crate) config: ModelConfig,
    pub(crate) training: TrainingConfig,
    pub(crate) steps: usize,
    pub(crate) final_loss: Option<f32>,
    pub(crate) seconds: f64,
    /// Time to the end of the first epoch, which carries the warm-up (kernel compilation
    /// and autotuning on a GPU).
    pub(crate) first_epoch_seconds: f64,
}

impl Trained {
    /// The model fed as it was trained (its inputs normalised).
    pub(crate) fn detector(&self) -> Normalised<'_, AnyDetector> {
        Normalised::new(&self.model, &self.training.normalisation)
    }

    /// "32x32x1 input" or "64x64x3 standardised input", for reports.
    pub(crate) fn input_label(&self) -> String {
        let (size, channels) = (self.config.input_size(), self.config.channels());
        let scaling = match self.training.normalisation {
            Normalisation::UnitRange => "",
            Normalisation::Standardise { .. } => " standardised",
        };
        format!("{size}x{size}x{channels}{scaling} input")
    }

    /// Scores `split` with the model and summarises it (see [`evaluate_model`]).
    pub(crate) fn evaluate(
        &self,
        split: &dyn Protocol,
        score: Option<ScoreKind>,
        device: &Device,
    ) -> Result<Evaluation, AnyError> {
        evaluate_model(&self.detector(), split, score, device)
    }
}

pub(crate) fn train(run: &RunArgs, data: &Split, device: &Device) -> Result<Trained, AnyError> {
    let config = run
        .model
        .config(run.scale)
        .for_input(usize::from(run.input_size), usize::from(run.channels))?;
    let normalisation = if run.standardise {
        Normalisation::fit_standardise(data.protocol.train())?
    } else {
        Normalisation::UnitRange
    };
    let training = TrainingConfig::new()
        .with_normalisation(normalisation)
        .with_epochs(run.epochs)
        .with_batch_size(run.batch_size)
        .with_learning_rate(run.learning_rate.unwrap_or(run.model.learning_rate()))
        .with_seed(run.seed)
        .with_pseudo_anomalies(run.pseudo_anomalies.then(PseudoAnomalies::default));
    let mut trainer = AnyTrainer::new(
        &config,
        &training,
        data.protocol.train(),
        &data.labelled,
        device,
    );
    let bar =
        ProgressBar::new(trainer.total_steps() as u64).with_style(ProgressStyle::with_template(
            "{msg:>24} [{bar:30}] {pos}/{len} steps, {elapsed} elapsed, {eta} left",
        )?);
    let started = Instant::now();
    let mut final_loss = None;
    let mut steps = 0;
    let mut first_epoch_seconds = 0.0;
    while let Some(step) = read_sync(trainer.step())? {
        let (name, loss) = step.losses[0];
        steps = step.progress.step;
        if step.progress.epoch == 0 {
            first_epoch_seconds = started.elapsed().as_secs_f64();
        }
        final_loss = Some(loss);
        bar.set_message(format!("{name} {loss:.5}"));
        bar.inc(1);
    }
    let model = read_sync(trainer.finish())?.ok_or("training produced no model")?;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    Ok(Trained {
        model,
        config,
        training,
        steps,
        final_loss,
        seconds,
        first_epoch_seconds,
    })
}

pub(crate) fn evaluate_model(
    model: &impl Detector,
    split: &dyn Protocol,
    score: Option<ScoreKind>,
    device: &Device,
) -> Result<Evaluation, AnyError> {
    let own = model.score_kind();
    let kind = score.unwrap_or(own);
    if !kind.is_reconstruction_score() && kind != own {
        return Err(format!(
            "this model has no {} score (its own is {})",
            kind.label(),
            own.label()
        )
        .into());
    }
    Ok(read_sync(evaluate(
        model,
        split,
        kind,
        &[ThresholdMethod::MaxNormal],
        256,
        device,
    ))?)
}
