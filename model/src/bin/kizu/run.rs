//! The CLI's side of a training run: its arguments as [`RunSettings`], the data they name,
//! and a progress bar over the model crate's shared run.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::{read_sync, Device};
use indicatif::{ProgressBar, ProgressStyle};
use kizu_model::checkpoint::Checkpoint;
use kizu_model::data::{
    BatchDecoder, DecodeLimits, ImageSplit, Layout, Mnist, Target, BUNDLED_IMAGES_FILE,
    BUNDLED_LABELS_FILE, TEST_FRACTION,
};
use kizu_model::run::{self, DataProtocol, Evaluated, RunData, RunObserver, RunSettings, Trained};
use kizu_model::settings::recipe_hyperparameters;
use kizu_model::threshold::ThresholdMethod;
use kizu_model::train::StepReport;

use crate::{AnyError, ProtocolArg, RunArgs};

impl RunArgs {
    /// The epochs asked for, or the model's recipe.
    pub(crate) fn epochs(&self) -> usize {
        self.epochs
            .unwrap_or_else(|| self.model.recipe_epochs(self.pseudo_anomalies))
    }

    /// The run these arguments describe, with `digit` held out on the one-class protocol.
    pub(crate) fn settings(&self, digit: u8) -> RunSettings {
        RunSettings {
            model: self.model,
            scale: self.scale,
            protocol: match (&self.images, self.protocol) {
                (Some(_), _) => DataProtocol::Images,
                (None, ProtocolArg::OneClass) => DataProtocol::OneClass { digit },
                (None, ProtocolArg::Overlay) => DataProtocol::Overlay,
                (None, ProtocolArg::Unseen) => DataProtocol::Unseen,
            },
            epochs: self.epochs(),
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            learning_rate_schedule: self.learning_rate_schedule.unwrap_or_default(),
            seed: self.seed,
            input_size: usize::from(self.input_size),
            channels: usize::from(self.channels),
            fit: self.fit,
            standardise: self.standardise,
            pseudo_anomalies: self.pseudo_anomalies,
            defects: self.defects.clone(),
            labelled_anomalies: self.labelled_anomalies,
            max_train: (self.max_train > 0).then_some(self.max_train),
            max_test: None,
            validation: self
                .validation
                .unwrap_or(match (&self.images, self.protocol) {
                    (None, ProtocolArg::Unseen) => 0.0,
                    _ => kizu_model::settings::RECIPE_VALIDATION,
                }),
            hyperparameters: recipe_hyperparameters(
                self.model,
                self.pseudo_anomalies,
                &self.hyperparameters,
            ),
            series: Default::default(),
        }
    }
}

/// The data `settings` name: the user's `--images` folder, or the bundled MNIST split
/// read from the `--data` folder.
pub(crate) fn load_split(run: &RunArgs, settings: &RunSettings) -> Result<RunData, AnyError> {
    load_data(run.images.as_deref(), &run.data, settings)
}

/// The data `settings` name: the `images` folder, or the bundled MNIST split read from
/// the `data` folder.
pub(crate) fn load_data(
    images: Option<&Path>,
    data: &Path,
    settings: &RunSettings,
) -> Result<RunData, AnyError> {
    if let Some(folder) = images {
        return load_images(folder, settings);
    }
    let read = |name: &str| {
        let path = data.join(name);
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mnist = Mnist::bundled(&read(BUNDLED_IMAGES_FILE)?, &read(BUNDLED_LABELS_FILE)?)?;
    Ok(RunData::mnist(settings, &mnist)?)
}

/// A trained model with the wall-clock time its training took.
pub(crate) struct Timed {
    pub(crate) trained: Trained,
    pub(crate) seconds: f64,
    /// Time to the end of the first epoch, which carries the warm-up (kernel compilation
    /// and autotuning on a GPU).
    pub(crate) first_epoch_seconds: f64,
}

/// A progress bar over the run's steps, noting when the first epoch ended.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    first_epoch_seconds: Cell<f64>,
}

impl RunObserver for Progress {
    fn step(&self, report: &StepReport) {
        if let Some(&(name, loss)) = report.losses.first() {
            self.bar.set_message(format!("{name} {loss:.5}"));
        }
        if report.progress.epoch == 0 {
            self.first_epoch_seconds
                .set(self.started.elapsed().as_secs_f64());
        }
        self.bar.set_length(report.progress.total_steps as u64);
        self.bar.set_position(report.progress.step as u64);
    }
}

pub(crate) fn train(
    settings: &RunSettings,
    data: &RunData,
    device: &Device,
) -> Result<Timed, AnyError> {
    let bar = ProgressBar::new(0).with_style(ProgressStyle::with_template(
        "{msg:>24} [{bar:30}] {pos}/{len} steps, {elapsed} elapsed, {eta} left",
    )?);
    let progress = Progress {
        bar,
        started: Instant::now(),
        first_epoch_seconds: Cell::new(0.0),
    };
    let trained = read_sync(run::train(settings, data, device, &progress))?;
    progress.bar.finish_and_clear();
    if let Some(divergence) = &trained.diverged {
        eprintln!(
            "stopped: {divergence}; kept the model after step {}",
            trained.steps
        );
    }
    if let Some(choice) = &trained.validation {
        let losses: Vec<String> = choice
            .steps
            .iter()
            .zip(&choice.losses)
            .map(|(step, loss)| format!("{loss:.5} after step {step}"))
            .collect();
        eprintln!(
            "validation MSE of {} held-out normal images: {}; kept the {}",
            choice.images,
            losses.join(", "),
            ordinal(choice.chosen + 1)
        );
    }
    Ok(Timed {
        trained,
        seconds: progress.started.elapsed().as_secs_f64(),
        first_epoch_seconds: progress.first_epoch_seconds.get(),
    })
}

impl Timed {
    /// "32x32x1 input" or "64x64x3 standardised input", for reports.
    pub(crate) fn input_label(&self) -> String {
        let config = &self.trained.config;
        let (size, channels) = (config.input_size(), config.channels());
        let scaling = match self.trained.training.normalisation {
            kizu_model::data::Normalisation::UnitRange => "",
            kizu_model::data::Normalisation::Standardise { .. } => " standardised",
        };
        format!("{size}x{size}x{channels}{scaling} input")
    }

    /// The model's evaluation on `data` by `run.score` (or its own score).
    pub(crate) fn evaluate(
        &self,
        run: &RunArgs,
        data: &RunData,
        device: &Device,
    ) -> Result<Evaluated, AnyError> {
        Ok(read_sync(run::evaluate_run(
            &self.trained,
            data,
            run.score,
            &ThresholdMethod::AFTER_TRAINING,
            device,
        ))?)
    }

    /// The compact checkpoint of the run and its evaluation, scored as [`Timed::evaluate`].
    pub(crate) fn compact(
        &self,
        run: &RunArgs,
        settings: &RunSettings,
        data: &RunData,
        full: &Evaluated,
        device: &Device,
    ) -> Result<(Checkpoint, Evaluated), AnyError> {
        Ok(read_sync(self.trained.compact_checkpoint(
            settings,
            data,
            full,
            run.score,
            &ThresholdMethod::AFTER_TRAINING,
            device,
        ))?)
    }
}

/// "1st", "2nd", "3rd", "4th"...
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Every file below `folder`, as paths relative to it ('/'-separated), sorted.
fn files_below(folder: &Path) -> Result<Vec<PathBuf>, AnyError> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Decodes a folder of images to the run's size and channels and splits it; every file
/// that cannot be used is reported (the same messages as the app) and skipped.
fn load_images(folder: &Path, settings: &RunSettings) -> Result<RunData, AnyError> {
    let files = files_below(folder)?;
    let relative: Vec<String> = files
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(folder).unwrap_or(p);
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    let target = Target::of(settings);
    let layout = Layout::of(relative.iter().map(String::as_str));
    let mut decoder = BatchDecoder::new(layout, DecodeLimits::default(), target);
    for (path, name) in files.iter().zip(&relative) {
        // Read one file at a time, so a large folder never sits in memory as bytes.
        match std::fs::read(path) {
            Ok(bytes) => decoder.push(name, &bytes),
            Err(e) => eprintln!("skipped {name}: {e}"),
        }
    }
    let batch = decoder.finish()?;
    for refusal in &batch.refused {
        eprintln!("skipped {refusal}");
    }
    for line in batch.summary.lines() {
        eprintln!("{}: {line}", folder.display());
    }
    let split = ImageSplit::new(&batch.set, settings.seed, TEST_FRACTION)?;
    Ok(RunData::images(settings, split)?)
}
