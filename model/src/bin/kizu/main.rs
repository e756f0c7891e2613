//! `kizu`: the native command-line tool: train any model into a checkpoint, evaluate it per
//! held-out digit, score a folder of images, benchmark the backends.
#![allow(deprecated)] // Device::ndarray() is deprecated in Burn 0.22; it is benchmarked on purpose.

mod backend;
mod run;
mod score;
mod series;
mod threshold;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::read_sync;
use clap::{Parser, Subcommand, ValueEnum};
use kizu_model::catalog::{Catalog, CATALOG_FILE};
use kizu_model::checkpoint::Checkpoint;
use kizu_model::data::Defect;
use kizu_model::detector::score_images;
use kizu_model::metrics::average_precision;
use kizu_model::score::ScoreKind;
use kizu_model::settings::{Fit, LearningRateSchedule};
use kizu_model::zoo::{ModelKind, Scale};

use backend::Backend;
use run::{load_split, train};
use score::score_command;
use series::{series_command, SeriesArgs};
use threshold::{threshold_command, ThresholdArgs};

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
        /// How to store it: as trained, compact (16-bit weights, 8-bit neighbour bank), or
        /// compact only if that moves the test AUC by at most 0.001 (else as trained).
        #[arg(long, value_enum, default_value_t = PrecisionArg::Full)]
        precision: PrecisionArg,
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
    /// Write the folder's `index.json`: every checkpoint in it with its model, protocol, AUC
    /// and size (the list the app offers).
    Catalog {
        /// The folder of `.kizu` files.
        #[arg(long, default_value = "public/checkpoints")]
        dir: PathBuf,
    },
    /// Refit a checkpoint's threshold on the training images of the run that trained it
    /// (another method or parameter, without training again), and write it back.
    Threshold(ThresholdArgs),
    /// Train the LSTM autoencoder on a sensor series (a CSV file or the demo series) and
    /// score the windows of its later part.
    Series(SeriesArgs),
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
    /// The defect kinds pseudo-anomaly training draws, comma-separated (default: on the
    /// overlay protocol its source's overlaid digit, else every kind).
    #[arg(long, value_enum, value_delimiter = ',')]
    defects: Vec<Defect>,
    /// The digit treated as the anomaly (trained without it).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=9))]
    digit: u8,
    /// Passes over the training set; the model's recipe if not given (10 for the
    /// autoencoders, the AAE and the LSTM AE, 3 for the GANs).
    #[arg(long)]
    epochs: Option<usize>,
    /// Images per step.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Adam learning rate; the model's recipe's if not given (the LSTM AE's depends on
    /// --pseudo-anomalies).
    #[arg(long)]
    learning_rate: Option<f64>,
    /// How the learning rate moves over the run; the model's recipe if not given.
    #[arg(long, value_enum)]
    learning_rate_schedule: Option<LearningRateSchedule>,
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
    /// Share of the normal training images held out to choose the epoch: the run keeps the
    /// epoch whose model reconstructs them best (0: train on all, keep the last epoch).
    /// [default: 0.1; 0 on the seen-vs-unseen protocol, which tests on training images]
    #[arg(long, value_parser = share_below_one)]
    validation: Option<f64>,
    /// Share of the training set given as labelled anomalies (the AAE; seed 002 used 0.005).
    #[arg(long, default_value_t = 0.0)]
    labelled_anomalies: f64,
    /// One of the model's own hyperparameters, as id=value (repeatable): e.g. latent=32,
    /// features=64, kl-weight=0.5; a model refuses ids it does not have, and values out of
    /// their range, saying which.
    #[arg(long = "set", value_name = "ID=VALUE", value_parser = hyperparameter)]
    hyperparameters: Vec<(String, f64)>,
    /// Train and test on your own images instead of the digits: a folder laid out as
    /// `train/good`, `test/good`, `test/<defect>` (MVTec AD) or `good/` plus defect
    /// folders; loose images are good ones. Unreadable files are reported and skipped.
    #[arg(long)]
    images: Option<PathBuf>,
    /// How `--images` of another aspect ratio become squares (`kizu score` fits new images
    /// the way the checkpoint's were).
    #[arg(long, value_enum, default_value_t = Fit::Resize)]
    fit: Fit,
    /// Folder with the bundled MNIST files.
    #[arg(long, default_value = "public/data")]
    data: PathBuf,
    /// The score to judge by: MSE, difference ratio, removed ink, or the model's own (the
    /// default).
    #[arg(long, value_enum)]
    score: Option<ScoreKind>,
    /// Backend for `train` and `eval`.
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    backend: Backend,
}

type AnyError = Box<dyn std::error::Error>;

/// An `id=value` hyperparameter from the command line.
fn hyperparameter(text: &str) -> Result<(String, f64), String> {
    let (id, value) = text
        .split_once('=')
        .ok_or_else(|| format!("“{text}” is not id=value"))?;
    let value = value
        .trim()
        .parse()
        .map_err(|_| format!("“{value}” is not a number"))?;
    Ok((id.trim().to_owned(), value))
}

/// A share in [0, 1).
fn share_below_one(text: &str) -> Result<f64, String> {
    let share: f64 = text.parse().map_err(|e| format!("{text}: {e}"))?;
    if (0.0..1.0).contains(&share) {
        Ok(share)
    } else {
        Err(format!("{share} is not a share in [0, 1)"))
    }
}

fn main() -> Result<(), AnyError> {
    match Cli::parse().command {
        Command::Train {
            run,
            out,
            precision,
        } => train_command(&run, &out, precision),
        Command::Eval { run, digits } => eval_command(&run, &digits),
        Command::Score {
            checkpoint,
            images,
            out,
            backend,
        } => score_command(&checkpoint, &images, &out, backend),
        Command::Catalog { dir } => catalog_command(&dir),
        Command::Series(args) => series_command(&args),
        Command::Threshold(args) => threshold_command(&args),
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
    /// Every digit is normal: training images ("seen") against held-out ones ("unseen",
    /// counted as anomalies), sources 001 and 003's comparison.
    Unseen,
}

/// How `kizu train` stores its checkpoint.
#[derive(Clone, Copy, ValueEnum, Debug, PartialEq, Eq)]
enum PrecisionArg {
    /// Weights as trained (32-bit), the neighbour bank in half precision.
    Full,
    /// 16-bit weights and an 8-bit neighbour bank.
    Compact,
    /// Compact where its test AUC is within [`COMPACT_AUC_TOLERANCE`] of the full one.
    Auto,
}

/// The most a compact checkpoint's test AUC may differ from its full-precision model's
/// for `--precision auto` to keep it (issue 9's bar for the shipped files).
const COMPACT_AUC_TOLERANCE: f64 = 0.001;

fn train_command(run: &RunArgs, out: &Path, precision: PrecisionArg) -> Result<(), AnyError> {
    let settings = run.settings(run.digit);
    let data = load_split(run, &settings)?;
    let (device, _) = run.backend.device()?;
    let timed = train(&settings, &data, &device)?;
    let full = timed.evaluate(run, &data, &device)?;
    let mut checkpoint = timed.trained.checkpoint(&settings, &data, &full)?;
    let mut auc = full.evaluation.auc;
    let mut note = String::new();
    if precision != PrecisionArg::Full {
        let (compact, evaluated) = timed.compact(run, &settings, &data, &full, &device)?;
        let moved = match (full.evaluation.auc, evaluated.evaluation.auc) {
            (Some(a), Some(b)) => (a - b).abs(),
            _ => 0.0,
        };
        let keep = precision == PrecisionArg::Compact || moved <= COMPACT_AUC_TOLERANCE;
        note = format!(
            " (full precision {}, compact {}: kept {})",
            format_auc(full.evaluation.auc),
            format_auc(evaluated.evaluation.auc),
            if keep { "compact" } else { "full precision" }
        );
        if keep {
            (checkpoint, auc) = (compact, evaluated.evaluation.auc);
        }
    }
    let threshold = checkpoint.meta.threshold;
    let bytes = checkpoint.to_bytes()?;
    std::fs::write(out, &bytes)?;
    println!(
        "{} ({}): AUC {}{note}, threshold {:.5} ({}); wrote {} ({} KB)",
        run.model,
        settings.protocol.label(),
        format_auc(auc),
        threshold.value,
        threshold.method.label(),
        out.display(),
        bytes.len() / 1024
    );
    Ok(())
}

fn catalog_command(dir: &Path) -> Result<(), AnyError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "kizu"))
        .collect();
    files.sort();
    let mut catalog = Catalog::default();
    for path in &files {
        let bytes = std::fs::read(path)?;
        let checkpoint =
            Checkpoint::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        catalog
            .entries
            .push(checkpoint.meta.catalog_entry(&name, bytes.len() as u64));
    }
    let out = dir.join(CATALOG_FILE);
    std::fs::write(&out, serde_json::to_string_pretty(&catalog)? + "\n")?;
    println!("listed {} checkpoints in {}", files.len(), out.display());
    Ok(())
}

fn eval_command(run: &RunArgs, digits: &[u8]) -> Result<(), AnyError> {
    let (device, _) = run.backend.device()?;
    // The overlay protocol and a folder of images have no held-out digit: one run.
    let digits = if run.protocol != ProtocolArg::OneClass || run.images.is_some() {
        &digits[..1.min(digits.len())]
    } else {
        digits
    };
    let mut aucs = Vec::new();
    let mut table =
        String::from("| protocol | ROC AUC | average precision | train s |\n|---|---|---|---|\n");
    for &digit in digits {
        let settings = run.settings(digit);
        let data = load_split(run, &settings)?;
        let timed = train(&settings, &data, &device)?;
        let evaluation = timed.evaluate(run, &data, &device)?.evaluation;
        let ap = average_precision(&evaluation.test_scores, data.split.test_is_anomaly());
        let label = settings.protocol.label();
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
            timed.seconds
        )?;
        aucs.extend(evaluation.auc);
    }
    let mean = aucs.iter().sum::<f64>() / aucs.len().max(1) as f64;
    println!(
        "{} ({:?} scale, {} epoch(s), batch {}, seed {}, score {}): mean AUC {mean:.3}\n\n{table}",
        run.model,
        run.scale,
        run.epochs(),
        run.batch_size,
        run.seed,
        run.score
            .or_else(|| Some(run.settings(0).model_config().ok()?.score_kind()))
            .map_or("n/a", |score| score.label())
    );
    Ok(())
}

fn bench(run: &RunArgs, backend: Backend) -> Result<(), AnyError> {
    let settings = run.settings(run.digit);
    let data = load_split(run, &settings)?;
    let split = data.split.as_ref();
    let (device, backend) = backend.device()?;
    let trained = train(&settings, &data, &device)?;
    let train_rate = (split.train().len() * settings.epochs) as f64 / trained.seconds;
    // Past the first epoch: the speed once kernels are compiled and tuned.
    let later_rate = (settings.epochs > 1).then(|| {
        (split.train().len() * (settings.epochs - 1)) as f64
            / (trained.seconds - trained.first_epoch_seconds)
    });

    // Warm up once, then time scoring of the whole test set, at the training batch shape.
    let score = || {
        read_sync(score_images(
            &trained.trained.detector(),
            split.test(),
            trained.trained.batch_rows(),
            &device,
        ))
    };
    score()?;
    let started = Instant::now();
    score()?;
    let score_rate = split.test().len() as f64 / started.elapsed().as_secs_f64();

    let evaluation = trained.evaluate(run, &data, &device)?.evaluation;
    println!(
        "{} on {backend:?}, {}: train {train_rate:.0} img/s{} ({} images x {} epoch(s), batch {}), score {score_rate:.0} img/s ({} images), AUC {} ({}, seed {})",
        run.model,
        trained.input_label(),
        later_rate.map_or(String::new(), |r| format!(", {r:.0} after the first epoch")),
        split.train().len(),
        settings.epochs,
        run.batch_size,
        split.test().len(),
        format_auc(evaluation.auc),
        settings.protocol.label(),
        run.seed,
    );
    Ok(())
}

fn format_auc(auc: Option<f64>) -> String {
    auc.map_or("n/a".into(), |a| format!("{a:.4}"))
}
