//! `kizu threshold`: a checkpoint's threshold refitted on the training images of the run
//! that trained it, by another method, without training again.

use std::path::{Path, PathBuf};

use burn::tensor::read_sync;
use kizu_model::checkpoint::Checkpoint;
use kizu_model::detector::{score_images, Normalised};
use kizu_model::threshold::{fit, ThresholdMethod};

use crate::backend::Backend;
use crate::run::load_data;
use crate::AnyError;

/// Arguments of `kizu threshold`.
#[derive(clap::Args)]
pub(crate) struct ThresholdArgs {
    /// The checkpoint whose threshold to refit.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The method: max-normal, percentile, mean-std or target-fpr (fitted on the normal
    /// training images; the supervised ones need labelled anomalies a checkpoint has not).
    #[arg(long, default_value = "percentile")]
    method: String,
    /// Its parameter: the percentile (0-100), k, or the false-positive rate in percent;
    /// the method's default if not given.
    #[arg(long)]
    parameter: Option<String>,
    /// Where to write the checkpoint with its new threshold (default: over the old file).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Folder with the bundled MNIST files.
    #[arg(long, default_value = "public/data")]
    data: PathBuf,
    /// The image folder the model was trained on, for a model trained on your images.
    #[arg(long)]
    images: Option<PathBuf>,
    /// Backend to score on.
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    backend: Backend,
}

/// Refits the threshold of `args.checkpoint` and writes the file back.
pub(crate) fn threshold_command(args: &ThresholdArgs) -> Result<(), AnyError> {
    let file = args.checkpoint.display();
    let bytes = std::fs::read(&args.checkpoint).map_err(|e| format!("{file}: {e}"))?;
    let mut checkpoint = Checkpoint::from_bytes(&bytes).map_err(|e| format!("{file}: {e}"))?;
    let parameter = args.parameter.clone().unwrap_or_else(|| {
        ThresholdMethod::parameter(&args.method).map_or_else(String::new, |p| p.default.to_string())
    });
    let method = ThresholdMethod::from_ids(&args.method, &parameter)?;
    if method.is_supervised() {
        return Err(format!(
            "{} needs labelled anomalies; a checkpoint's threshold is fitted on normal training images only",
            method.label()
        )
        .into());
    }
    let meta = &checkpoint.meta;
    if meta.series.is_some() {
        return Err(
            format!("{file}: a sensor-series model: `kizu series` fits its threshold").into(),
        );
    }
    let settings = meta.settings.clone().ok_or_else(|| {
        format!("{file}: the file does not say which run trained it (saved before format 3)")
    })?;
    let data = load_data(args.images.as_deref(), &args.data, &settings)?;
    let (device, _) = args.backend.device()?;
    let detector = checkpoint.detector(&device)?;
    let model = Normalised::new(&detector, meta.normalisation());
    // Scored as the run scored them: its training images, at its batch shape.
    let batch = meta.batch_rows();
    let normal = data.split.train();
    let scores = read_sync(score_images(&model, normal, batch, &device))?;
    let threshold = fit(method, scores.of(meta.score))?;
    let before = meta.threshold;
    checkpoint.meta.threshold = threshold;
    let out = args.out.as_deref().unwrap_or(&args.checkpoint);
    write(out, &checkpoint)?;
    println!(
        "{file}: threshold {:.5} ({}) -> {:.5} ({}) of {} training images' {}; wrote {}",
        before.value,
        before.method.label(),
        threshold.value,
        threshold.method.label(),
        normal.len(),
        checkpoint.meta.score.label(),
        out.display()
    );
    Ok(())
}

fn write(out: &Path, checkpoint: &Checkpoint) -> Result<(), AnyError> {
    std::fs::write(out, checkpoint.to_bytes()?)
        .map_err(|e| format!("{}: {e}", out.display()).into())
}
