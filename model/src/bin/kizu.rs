//! `kizu`: the native command-line tool (train a checkpoint, benchmark the CPU backends).
#![allow(deprecated)] // Device::ndarray() is deprecated in Burn 0.22; it is benchmarked on purpose.

use std::path::PathBuf;
use std::time::Instant;

use burn::tensor::{read_sync, Device};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use kizu_model::checkpoint::{Checkpoint, ModelConfig, TrainingRecord};
use kizu_model::conv_ae::{ConvAeTrainer, ConvAutoencoder, ConvAutoencoderConfig};
use kizu_model::data::{Mnist, OneClassSplit, BUNDLED_IMAGES_FILE, BUNDLED_LABELS_FILE};
use kizu_model::detector::score_images;
use kizu_model::eval::{evaluate, Evaluation};
use kizu_model::score::ScoreKind;
use kizu_model::threshold::ThresholdMethod;
use kizu_model::train::{Trainer, TrainingConfig};

#[derive(Parser)]
#[command(name = "kizu", version, about = "Kizu anomaly detection, natively")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train the conv autoencoder on the one-class MNIST protocol and write a checkpoint.
    Train {
        #[command(flatten)]
        run: RunArgs,
        /// Where to write the checkpoint.
        #[arg(long, default_value = "conv-ae.kizu")]
        out: PathBuf,
    },
    /// Train one epoch and score the test set on each CPU backend; print images/s and AUC.
    Bench {
        #[command(flatten)]
        run: RunArgs,
        /// Backends to measure.
        #[arg(long, value_enum, num_args = 1.., default_values = ["flex", "ndarray"])]
        backends: Vec<Backend>,
    },
}

#[derive(clap::Args, Clone)]
struct RunArgs {
    /// The digit treated as the anomaly (trained without it).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=9))]
    digit: u8,
    /// Passes over the training set.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Images per step.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Seed of the split, the weights and the batch order.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Folder with the bundled MNIST files.
    #[arg(long, default_value = "public/data")]
    data: PathBuf,
    /// CPU backend for `train`.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
}

#[derive(Clone, Copy, ValueEnum, Debug)]
enum Backend {
    /// Burn's flex CPU backend (the default: ~40x faster conv gradients than ndarray).
    Flex,
    /// Burn's ndarray CPU backend.
    Ndarray,
}

impl Backend {
    fn device(self) -> Device {
        match self {
            Self::Flex => Device::flex(),
            Self::Ndarray => Device::ndarray(),
        }
    }
}

type AnyError = Box<dyn std::error::Error>;

fn main() -> Result<(), AnyError> {
    match Cli::parse().command {
        Command::Train { run, out } => train_command(&run, &out),
        Command::Bench { run, backends } => {
            for backend in backends {
                bench(&run, backend)?;
            }
            Ok(())
        }
    }
}

fn load_split(run: &RunArgs) -> Result<OneClassSplit, AnyError> {
    let read = |name: &str| {
        let path = run.data.join(name);
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mnist = Mnist::bundled(&read(BUNDLED_IMAGES_FILE)?, &read(BUNDLED_LABELS_FILE)?)?;
    Ok(OneClassSplit::new(&mnist, run.digit, run.seed)?)
}

struct Trained {
    model: ConvAutoencoder,
    config: ConvAutoencoderConfig,
    training: TrainingConfig,
    steps: usize,
    final_loss: Option<f32>,
    seconds: f64,
}

fn train(run: &RunArgs, split: &OneClassSplit, device: &Device) -> Result<Trained, AnyError> {
    let config = ConvAutoencoderConfig::new();
    let training = TrainingConfig::new()
        .with_epochs(run.epochs)
        .with_batch_size(run.batch_size)
        .with_seed(run.seed);
    let mut trainer = ConvAeTrainer::new(&config, &training, split.train.clone(), device);
    let bar =
        ProgressBar::new(trainer.total_steps() as u64).with_style(ProgressStyle::with_template(
            "{msg:>12} [{bar:40}] {pos}/{len} steps, {elapsed} elapsed, {eta} left",
        )?);
    let started = Instant::now();
    let mut final_loss = None;
    let mut steps = 0;
    while let Some(step) = read_sync(trainer.step())? {
        let loss = step.losses[0].1;
        steps = step.progress.step;
        final_loss = Some(loss);
        bar.set_message(format!("loss {loss:.5}"));
        bar.inc(1);
    }
    let seconds = started.elapsed().as_secs_f64();
    bar.finish();
    let model = trainer.into_model().ok_or("training produced no model")?;
    Ok(Trained {
        model,
        config,
        training,
        steps,
        final_loss,
        seconds,
    })
}

fn evaluate_model(
    model: &ConvAutoencoder,
    split: &OneClassSplit,
    device: &Device,
) -> Result<Evaluation, AnyError> {
    Ok(read_sync(evaluate(
        model,
        split,
        ScoreKind::Mse,
        &[ThresholdMethod::MaxNormal],
        256,
        device,
    ))?)
}

fn train_command(run: &RunArgs, out: &PathBuf) -> Result<(), AnyError> {
    let split = load_split(run)?;
    let device = run.backend.device();
    let trained = train(run, &split, &device)?;
    let evaluation = evaluate_model(&trained.model, &split, &device)?;
    let threshold = evaluation.thresholds[0];
    let record = TrainingRecord {
        config: trained.training.clone(),
        steps: trained.steps,
        anomaly_digit: Some(run.digit),
        train_images: split.train.len(),
        final_loss: trained.final_loss,
    };
    let checkpoint = Checkpoint::new(
        &trained.model,
        ModelConfig::ConvAutoencoder(trained.config.clone()),
        evaluation.score_kind,
        threshold,
        record,
    )?;
    std::fs::write(out, checkpoint.to_bytes()?)?;
    println!(
        "digit {} held out: AUC {}, threshold {:.5} ({}); wrote {}",
        run.digit,
        evaluation.auc.map_or("n/a".into(), |a| format!("{a:.4}")),
        threshold.value,
        threshold.method.label(),
        out.display()
    );
    Ok(())
}

fn bench(run: &RunArgs, backend: Backend) -> Result<(), AnyError> {
    let split = load_split(run)?;
    let device = backend.device();
    let trained = train(run, &split, &device)?;
    let train_rate = (split.train.len() * run.epochs) as f64 / trained.seconds;

    // Warm up once, then time scoring of the whole test set.
    read_sync(score_images(&trained.model, &split.test, 256, &device))?;
    let started = Instant::now();
    read_sync(score_images(&trained.model, &split.test, 256, &device))?;
    let score_rate = split.test.len() as f64 / started.elapsed().as_secs_f64();

    let evaluation = evaluate_model(&trained.model, &split, &device)?;
    println!(
        "{backend:?}: train {train_rate:.0} img/s ({} images x {} epoch(s), batch {}), score {score_rate:.0} img/s ({} images), AUC {} (digit {} held out, seed {})",
        split.train.len(),
        run.epochs,
        run.batch_size,
        split.test.len(),
        evaluation.auc.map_or("n/a".into(), |a| format!("{a:.4}")),
        run.digit,
        run.seed,
    );
    Ok(())
}
