//! `kizu`: the native command-line tool: train any model into a checkpoint, evaluate it per
//! held-out digit, score a folder of images, benchmark the backends.
#![allow(deprecated)] // Device::ndarray() is deprecated in Burn 0.22; it is benchmarked on purpose.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::{read_sync, Device};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use kizu_model::checkpoint::{Checkpoint, ModelConfig, TrainingRecord};
use kizu_model::data::{
    Images, Mnist, Normalisation, OneClassSplit, OverlaySplit, Protocol, PseudoAnomalies,
    BUNDLED_IMAGES_FILE, BUNDLED_LABELS_FILE,
};
use kizu_model::detector::{score_images, AnyDetector, Detector, Normalised};
use kizu_model::eval::{evaluate, Evaluation};
use kizu_model::metrics::average_precision;
use kizu_model::score::ScoreKind;
use kizu_model::threshold::ThresholdMethod;
use kizu_model::train::{Trainer, TrainingConfig};
use kizu_model::viz;
use kizu_model::zoo::{AnyTrainer, ModelKind, Scale};

#[derive(Parser)]
#[command(name = "kizu", version, about = "Kizu anomaly detection, natively")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model on the one-class MNIST protocol and write a checkpoint.
    Train {
        #[command(flatten)]
        run: RunArgs,
        /// Where to write the checkpoint.
        #[arg(long)]
        out: PathBuf,
    },
    /// Train a model once per held-out digit and print its ROC AUC and average precision.
    Eval {
        #[command(flatten)]
        run: RunArgs,
        /// Digits to hold out in turn.
        #[arg(long, num_args = 1.., default_values_t = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])]
        digits: Vec<u8>,
    },
    /// Score every image of a folder with a checkpoint: a CSV of scores and a PNG
    /// difference map per image.
    Score {
        /// The checkpoint to score with.
        #[arg(long)]
        checkpoint: PathBuf,
        /// Folder of PNG or JPEG images.
        #[arg(long)]
        images: PathBuf,
        /// Folder for `scores.csv` and the difference maps (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Backend to score on.
        #[arg(long, value_enum, default_value_t = Backend::Auto)]
        backend: Backend,
    },
    /// Train and score on each backend; print images/s and AUC.
    Bench {
        #[command(flatten)]
        run: RunArgs,
        /// Backends to measure.
        #[arg(long, value_enum, num_args = 1.., default_values = ["auto"])]
        backends: Vec<Backend>,
    },
}

#[derive(clap::Args, Clone)]
struct RunArgs {
    /// The model to train.
    #[arg(long, value_enum, default_value_t = ModelKind::ConvAutoencoder)]
    model: ModelKind,
    /// Reference sizes of the sources, or compact ones (what the browser trains).
    #[arg(long, value_enum, default_value_t = Scale::Reference)]
    scale: Scale,
    /// The evaluation protocol.
    #[arg(long, value_enum, default_value_t = ProtocolArg::OneClass)]
    protocol: ProtocolArg,
    /// Train with pseudo-anomalies (seed 000): defects on half of each batch's inputs,
    /// the clean images as targets.
    #[arg(long)]
    pseudo_anomalies: bool,
    /// The digit treated as the anomaly (trained without it).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=9))]
    digit: u8,
    /// Passes over the training set.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Images per step.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Adam learning rate; the model's own default if not given.
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Seed of the split, the weights and the batch order.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Keep at most this many training images (0: all).
    #[arg(long, default_value_t = 0)]
    max_train: usize,
    /// Side the images are resized to (MNIST's is 28); models that cannot be built for it
    /// take the next size up, the images padded.
    #[arg(long, default_value_t = 28, value_parser = clap::value_parser!(u16).range(1..=64))]
    input_size: u16,
    /// Image channels: 1 (grayscale) or 3 (RGB; gray images are repeated into 3 planes).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=3))]
    channels: u8,
    /// Standardise the inputs (mean 0, variance 1 per channel, fitted on the training
    /// images and stored in the checkpoint) instead of feeding pixels in [0, 1].
    #[arg(long)]
    standardise: bool,
    /// Share of the training set given as labelled anomalies (the AAE; seed 002 used 0.005).
    #[arg(long, default_value_t = 0.0)]
    labelled_anomalies: f64,
    /// Folder with the bundled MNIST files.
    #[arg(long, default_value = "public/data")]
    data: PathBuf,
    /// The score to judge by: MSE, difference ratio, or the model's own (the default).
    #[arg(long, value_enum)]
    score: Option<ScoreKind>,
    /// Backend for `train` and `eval`.
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    backend: Backend,
}

#[derive(Clone, Copy, ValueEnum, Debug, PartialEq, Eq)]
enum Backend {
    /// The GPU where the tool was built with one (`gpu` feature) and the machine has a
    /// hardware adapter; flex otherwise.
    Auto,
    /// Burn's flex CPU backend (~40x faster conv gradients than ndarray).
    Flex,
    /// Burn's ndarray CPU backend.
    Ndarray,
    /// Burn's wgpu GPU backend (Vulkan where the machine has it).
    #[cfg(feature = "gpu")]
    Gpu,
}

impl Backend {
    /// The device this backend runs on, and the backend actually chosen (for `Auto`).
    fn device(self) -> Result<(Device, Backend), AnyError> {
        match self {
            Self::Auto => Ok(auto_device()),
            Self::Flex => Ok((Device::flex(), self)),
            Self::Ndarray => Ok((Device::ndarray(), self)),
            #[cfg(feature = "gpu")]
            Self::Gpu => Ok((gpu_device()?, self)),
        }
    }
}

/// The GPU if there is a hardware one, else flex; says which on stderr.
fn auto_device() -> (Device, Backend) {
    #[cfg(feature = "gpu")]
    match gpu_device() {
        Ok(device) => return (device, Backend::Gpu),
        Err(e) => eprintln!("no GPU ({e}); training on the CPU (flex)"),
    }
    (Device::flex(), Backend::Flex)
}

/// Burn's wgpu device on a hardware adapter; an error for none or a software one (a
/// software rasteriser trains slower than flex).
#[cfg(feature = "gpu")]
fn gpu_device() -> Result<Device, AnyError> {
    use burn::tensor::wgpu::wgpu::DeviceType;
    let (device, setup) = Device::wgpu_options().init_with_setup()?;
    let info = setup.adapter.get_info();
    if info.device_type == DeviceType::Cpu {
        return Err(format!("adapter {} is a software one", info.name).into());
    }
    eprintln!("GPU: {} ({:?})", info.name, info.backend);
    Ok(device)
}

impl RunArgs {
    /// "digit 3 held out" or "overlay", for reports.
    fn protocol_label(&self, digit: u8) -> String {
        match self.protocol {
            ProtocolArg::OneClass => format!("digit {digit} held out"),
            ProtocolArg::Overlay => "overlay".into(),
        }
    }
}

type AnyError = Box<dyn std::error::Error>;

fn main() -> Result<(), AnyError> {
    match Cli::parse().command {
        Command::Train { run, out } => train_command(&run, &out),
        Command::Eval { run, digits } => eval_command(&run, &digits),
        Command::Score {
            checkpoint,
            images,
            out,
            backend,
        } => score_command(&checkpoint, &images, &out, backend),
        Command::Bench { run, backends } => {
            for backend in backends {
                bench(&run, backend)?;
            }
            Ok(())
        }
    }
}

/// The evaluation protocols of the sources.
#[derive(Clone, Copy, ValueEnum, Debug, PartialEq, Eq)]
enum ProtocolArg {
    /// One digit is the anomaly, trained without it (GANomaly's MNIST protocol).
    OneClass,
    /// Every digit is normal; anomalies are test digits with a second digit overlaid at
    /// 50 % brightness (seed 000's pseudo-anomalies).
    Overlay,
}

/// A protocol's images, plus labelled anomalies for the models that train with some.
struct Split {
    protocol: Box<dyn Protocol>,
    labelled: Images,
}

fn load_split(run: &RunArgs, digit: u8) -> Result<Split, AnyError> {
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

struct Trained {
    model: AnyDetector,
    config: ModelConfig,
    training: TrainingConfig,
    steps: usize,
    final_loss: Option<f32>,
    seconds: f64,
    /// Time to the end of the first epoch, which carries the warm-up (kernel compilation
    /// and autotuning on a GPU).
    first_epoch_seconds: f64,
}

impl Trained {
    /// The model fed as it was trained (its inputs normalised).
    fn detector(&self) -> Normalised<'_, AnyDetector> {
        Normalised::new(&self.model, &self.training.normalisation)
    }

    /// "32x32x1 input" or "64x64x3 standardised input", for reports.
    fn input_label(&self) -> String {
        let (size, channels) = (self.config.input_size(), self.config.channels());
        let scaling = match self.training.normalisation {
            Normalisation::UnitRange => "",
            Normalisation::Standardise { .. } => " standardised",
        };
        format!("{size}x{size}x{channels}{scaling} input")
    }

    /// Scores `split` with the model and summarises it (see [`evaluate_model`]).
    fn evaluate(
        &self,
        split: &dyn Protocol,
        score: Option<ScoreKind>,
        device: &Device,
    ) -> Result<Evaluation, AnyError> {
        evaluate_model(&self.detector(), split, score, device)
    }
}

fn train(run: &RunArgs, data: &Split, device: &Device) -> Result<Trained, AnyError> {
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

fn evaluate_model(
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

fn train_command(run: &RunArgs, out: &Path) -> Result<(), AnyError> {
    let data = load_split(run, run.digit)?;
    let (device, _) = run.backend.device()?;
    let trained = train(run, &data, &device)?;
    let evaluation = trained.evaluate(data.protocol.as_ref(), run.score, &device)?;
    let threshold = evaluation.thresholds[0];
    let record = TrainingRecord {
        config: trained.training.clone(),
        steps: trained.steps,
        anomaly_digit: (run.protocol == ProtocolArg::OneClass).then_some(run.digit),
        train_images: data.protocol.train().len(),
        final_loss: trained.final_loss,
    };
    let mut checkpoint = Checkpoint::from_detector(
        &trained.model,
        trained.config.clone(),
        evaluation.score_kind,
        threshold,
        record,
    )?;
    // So that `score` brings new images to the training images' scale, padding included.
    checkpoint.meta.image_size = Some(usize::from(run.input_size));
    let bytes = checkpoint.to_bytes()?;
    std::fs::write(out, &bytes)?;
    println!(
        "{} ({}): AUC {}, threshold {:.5} ({}); wrote {} ({} KB)",
        run.model,
        run.protocol_label(run.digit),
        format_auc(evaluation.auc),
        threshold.value,
        threshold.method.label(),
        out.display(),
        bytes.len() / 1024
    );
    Ok(())
}

fn eval_command(run: &RunArgs, digits: &[u8]) -> Result<(), AnyError> {
    let (device, _) = run.backend.device()?;
    // The overlay protocol has no held-out digit: one run.
    let digits = if run.protocol == ProtocolArg::Overlay {
        &digits[..1.min(digits.len())]
    } else {
        digits
    };
    let mut aucs = Vec::new();
    let mut table =
        String::from("| protocol | ROC AUC | average precision | train s |\n|---|---|---|---|\n");
    for &digit in digits {
        let data = load_split(run, digit)?;
        let trained = train(run, &data, &device)?;
        let evaluation = trained.evaluate(data.protocol.as_ref(), run.score, &device)?;
        let ap = average_precision(&evaluation.test_scores, data.protocol.test_is_anomaly());
        let label = run.protocol_label(digit);
        eprintln!(
            "{} ({label}): AUC {}",
            run.model,
            format_auc(evaluation.auc)
        );
        writeln!(
            table,
            "| {label} | {} | {} | {:.0} |",
            format_auc(evaluation.auc),
            ap.map_or("n/a".into(), |a| format!("{a:.3}")),
            trained.seconds
        )?;
        aucs.extend(evaluation.auc);
    }
    let mean = aucs.iter().sum::<f64>() / aucs.len().max(1) as f64;
    println!(
        "{} ({:?} scale, {} epoch(s), batch {}, seed {}, score {}): mean AUC {mean:.3}\n\n{table}",
        run.model,
        run.scale,
        run.epochs,
        run.batch_size,
        run.seed,
        run.score
            .unwrap_or(run.model.config(run.scale).score_kind())
            .label()
    );
    Ok(())
}

fn score_command(
    checkpoint: &Path,
    folder: &Path,
    out: &Path,
    backend: Backend,
) -> Result<(), AnyError> {
    let bytes = std::fs::read(checkpoint).map_err(|e| format!("{}: {e}", checkpoint.display()))?;
    let checkpoint = Checkpoint::from_bytes(&bytes)?;
    let (device, _) = backend.device()?;
    let model = checkpoint.detector(&device)?;
    let model = Normalised::new(&model, checkpoint.meta.normalisation());
    let (size, channels) = (checkpoint.meta.input_size, checkpoint.meta.channels);
    std::fs::create_dir_all(out)?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let bar = ProgressBar::new(paths.len() as u64);
    let mut csv = String::from("file,score,threshold,anomaly\n");
    let mut skipped = 0;
    for path in &paths {
        bar.inc(1);
        // A bad file is reported and skipped: it never stops the batch.
        let image = match load_image(path, checkpoint.meta.image_size(), channels) {
            Ok(image) => image.padded_to(size).into_owned(),
            Err(e) => {
                bar.suspend(|| eprintln!("skipped {}: {e}", path.display()));
                skipped += 1;
                continue;
            }
        };
        let detection = read_sync(model.detect(image.tensor(0, 1, &device)).read())?;
        let score = detection.scores.of(checkpoint.meta.score)[0];
        let threshold = checkpoint.meta.threshold;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        writeln!(
            csv,
            "{name},{score},{},{}",
            threshold.value,
            threshold.is_anomaly(score)
        )?;
        // Channels summed into one map; differences of 1 (black vs white) saturate.
        let plane = size * size;
        let difference = detection.difference.image(0);
        let summed: Vec<f32> = (0..plane)
            .map(|i| (0..channels).map(|c| difference[c * plane + i]).sum())
            .collect();
        let map = viz::heat_rgba(&viz::to_u8(&summed, channels as f32));
        let png = out.join(format!("{name}.difference.png"));
        image::save_buffer(
            &png,
            &map,
            size as u32,
            size as u32,
            image::ExtendedColorType::Rgba8,
        )?;
    }
    bar.finish_and_clear();
    std::fs::write(out.join("scores.csv"), csv)?;
    println!(
        "scored {} of {} files ({} skipped) with {}; wrote {}",
        paths.len() - skipped,
        paths.len(),
        skipped,
        checkpoint.meta.model.kind(),
        out.join("scores.csv").display()
    );
    Ok(())
}

/// Decodes an image file to the checkpoint's input: `size` x `size`, gray or RGB, in [0, 1].
fn load_image(path: &Path, size: usize, channels: usize) -> Result<Images, AnyError> {
    let decoded = image::open(path)?;
    let resized = decoded.resize_exact(
        size as u32,
        size as u32,
        image::imageops::FilterType::Triangle,
    );
    let pixels: Vec<f32> = if channels == 1 {
        resized.to_luma32f().into_raw()
    } else {
        // Planar [c, h, w] from interleaved RGB.
        let rgb = resized.to_rgb32f().into_raw();
        (0..3)
            .flat_map(|c| rgb.iter().skip(c).step_by(3).copied().collect::<Vec<_>>())
            .collect()
    };
    Ok(Images::new(pixels, 1, channels, size, size)?)
}

fn bench(run: &RunArgs, backend: Backend) -> Result<(), AnyError> {
    let data = load_split(run, run.digit)?;
    let split = data.protocol.as_ref();
    let (device, backend) = backend.device()?;
    let trained = train(run, &data, &device)?;
    let train_rate = (split.train().len() * run.epochs) as f64 / trained.seconds;
    // Past the first epoch: the speed once kernels are compiled and tuned.
    let later_rate = (run.epochs > 1).then(|| {
        (split.train().len() * (run.epochs - 1)) as f64
            / (trained.seconds - trained.first_epoch_seconds)
    });

    // Warm up once, then time scoring of the whole test set.
    let score = || {
        read_sync(score_images(
            &trained.detector(),
            split.test(),
            256,
            &device,
        ))
    };
    score()?;
    let started = Instant::now();
    score()?;
    let score_rate = split.test().len() as f64 / started.elapsed().as_secs_f64();

    let evaluation = trained.evaluate(split, run.score, &device)?;
    println!(
        "{} on {backend:?}, {}: train {train_rate:.0} img/s{} ({} images x {} epoch(s), batch {}), score {score_rate:.0} img/s ({} images), AUC {} ({}, seed {})",
        run.model,
        trained.input_label(),
        later_rate.map_or(String::new(), |r| format!(", {r:.0} after the first epoch")),
        split.train().len(),
        run.epochs,
        run.batch_size,
        split.test().len(),
        format_auc(evaluation.auc),
        run.protocol_label(run.digit),
        run.seed,
    );
    Ok(())
}

fn format_auc(auc: Option<f64>) -> String {
    auc.map_or("n/a".into(), |a| format!("{a:.4}"))
}
