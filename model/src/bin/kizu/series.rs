//! `kizu series`: the LSTM autoencoder on a sensor series (a CSV file, or the seeded demo
//! series): trained on the normal windows of the first part, every window of the rest
//! scored into a CSV, with the AUC where the file labels its steps.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use burn::tensor::read_sync;
use indicatif::ProgressBar;
use kizu_model::data::series::{
    parse_csv, CsvOptions, DemoSeries, Missing, Series, SeriesSplit, WindowFeatures, WindowSpec,
};
use kizu_model::lstm_ae::{score_windows, SensorErrorScale, SeriesRecipe, SeriesTrainer};
use kizu_model::metrics::roc_auc;
use kizu_model::threshold::{fit, ThresholdMethod};
use kizu_model::train::{Trainer, TrainingConfig};

use crate::backend::Backend;
use crate::AnyError;

/// What `kizu series` is asked for.
#[derive(clap::Args)]
pub(crate) struct SeriesArgs {
    /// The CSV file: a header row of sensor names, optionally a timestamp and a label
    /// column (0/1 or normal/anomaly).
    #[arg(long, conflicts_with = "demo", required_unless_present = "demo")]
    csv: Option<PathBuf>,
    /// Use the seeded demo series instead of a file (5 sensors, injected anomalies).
    #[arg(long)]
    demo: Option<u64>,
    /// What to do with missing cells.
    #[arg(long, value_enum, default_value_t = MissingArg::Refuse)]
    missing: MissingArg,
    /// Steps per window.
    #[arg(long, default_value_t = SeriesRecipe::default().window)]
    window: usize,
    /// Steps between window starts.
    #[arg(long, default_value_t = SeriesRecipe::default().stride)]
    stride: usize,
    /// Share of the steps, from the start, that trains (the rest is tested).
    #[arg(long, default_value_t = SeriesRecipe::default().train_fraction)]
    train_fraction: f64,
    /// Passes over the training windows.
    #[arg(long, default_value_t = SeriesRecipe::default().epochs)]
    epochs: usize,
    /// Windows per step.
    #[arg(long, default_value_t = SeriesRecipe::default().batch_size)]
    batch_size: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = SeriesRecipe::default().learning_rate)]
    learning_rate: f64,
    /// LSTM hidden units.
    #[arg(long, default_value_t = SeriesRecipe::default().hidden)]
    hidden: usize,
    /// Latent dimensions.
    #[arg(long, default_value_t = SeriesRecipe::default().latent)]
    latent: usize,
    /// Spread of the noise added to training inputs (a denoising autoencoder; 0: none).
    #[arg(long, default_value_t = SeriesRecipe::default().input_noise)]
    input_noise: f64,
    /// Seed of the weights, the batch order and the input noise.
    #[arg(long, default_value_t = SeriesRecipe::default().seed)]
    seed: u64,
    /// Where to write the test windows' scores (CSV).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Backend to train on.
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    backend: Backend,
}

/// Missing cells: refused (the default), their rows dropped, or filled from the row before.
#[derive(Clone, Copy, clap::ValueEnum)]
enum MissingArg {
    Refuse,
    Drop,
    Fill,
}

pub(crate) fn series_command(args: &SeriesArgs) -> Result<(), AnyError> {
    let series = load(args)?;
    let report = &series.report;
    if !report.is_clean() {
        eprintln!(
            "{} rows dropped ({:?}), {} cells filled",
            report.dropped_rows.len(),
            report.dropped_rows.iter().take(10).collect::<Vec<_>>(),
            report.filled_cells
        );
    }
    let spec = WindowSpec {
        length: args.window,
        stride: args.stride,
    };
    let split = SeriesSplit::new(&series, spec, args.train_fraction)?;
    eprintln!(
        "{} steps of {} sensors: {} training windows, {} test windows",
        series.steps(),
        series.sensor_count(),
        split.train.count(),
        split.test.count()
    );
    let (device, backend) = args.backend.device()?;
    let training = TrainingConfig::new()
        .with_epochs(args.epochs)
        .with_batch_size(args.batch_size)
        .with_learning_rate(args.learning_rate)
        .with_seed(args.seed);
    let recipe = SeriesRecipe {
        hidden: args.hidden,
        latent: args.latent,
        ..SeriesRecipe::default()
    };
    // The model reads each window's centred shape and differences (issue 12).
    let features = WindowFeatures::fit(&split.train);
    let (train_windows, test_windows) =
        (features.apply(&split.train)?, features.apply(&split.test)?);
    let mut trainer = SeriesTrainer::new(&recipe.network(), &training, &train_windows, &device)?
        .with_input_noise(args.input_noise);
    let bar = ProgressBar::new(trainer.total_steps() as u64);
    let mut last_loss = None;
    while let Some(step) = read_sync(trainer.step())? {
        bar.inc(1);
        last_loss = step.losses.first().map(|&(_, loss)| loss);
    }
    bar.finish_and_clear();
    let model = trainer.into_model().ok_or("nothing was learned")?;
    let batch = args.batch_size.max(1);
    let train_errors = read_sync(score_windows(&model, &train_windows, batch, &device))?;
    let test_errors = read_sync(score_windows(&model, &test_windows, batch, &device))?;
    // Scored by the most unusual sensor channel, standardised on the training windows.
    let scale = SensorErrorScale::fit(&train_errors)?;
    let train_scores = scale.score(&train_errors)?;
    let test_scores = scale.score(&test_errors)?;
    let worst = scale.worst_sensor(&test_errors)?;
    let threshold = fit(ThresholdMethod::Percentile(99.0), &train_scores)?;
    let flagged = test_scores
        .iter()
        .filter(|&&s| threshold.is_anomaly(s))
        .count();
    println!(
        "trained on {backend:?}, final loss {:.4}; threshold ({} of the training windows) {:.4}: {flagged} of {} test windows flagged",
        last_loss.unwrap_or(f32::NAN),
        threshold.method.label(),
        threshold.value,
        test_scores.len()
    );
    if let Some(labels) = &split.test.labels {
        match roc_auc(&test_scores, labels) {
            Some(auc) => println!("window ROC AUC {auc:.4}"),
            None => println!("window ROC AUC: needs normal and anomalous test windows"),
        }
    }
    if let Some(out) = &args.out {
        write_scores(out, &series, &split, &test_scores, &worst, threshold.value)?;
        println!("scores written to {}", out.display());
    }
    Ok(())
}

fn load(args: &SeriesArgs) -> Result<Series, AnyError> {
    if let Some(seed) = args.demo {
        return Ok(DemoSeries::generate(seed).0);
    }
    let path = args
        .csv
        .as_deref()
        .ok_or("give --csv FILE or --demo SEED")?;
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let options = CsvOptions {
        missing: match args.missing {
            MissingArg::Refuse => Missing::Refuse,
            MissingArg::Drop => Missing::DropRows,
            MissingArg::Fill => Missing::FillPrevious,
        },
        ..CsvOptions::default()
    };
    parse_csv(&bytes, &options).map_err(|e| format!("{}: {e}", path.display()).into())
}

/// One row per test window: where it starts, its score, whether it is flagged, its label
/// where known, and the sensor its score comes from (`worst`: a feature channel, its
/// shape or its differences).
fn write_scores(
    out: &Path,
    series: &Series,
    split: &SeriesSplit,
    scores: &[f32],
    worst: &[usize],
    threshold: f32,
) -> Result<(), AnyError> {
    let mut csv = String::from("start_step,start_time,score,flagged,label,worst_sensor\n");
    for (w, (&start, &score)) in split.test.starts.iter().zip(scores).enumerate() {
        let time = series
            .timestamps
            .as_ref()
            .and_then(|t| t.get(start))
            .map_or("", String::as_str);
        let label = split
            .test
            .labels
            .as_ref()
            .map_or(String::new(), |l| u8::from(l[w]).to_string());
        let worst = worst
            .get(w)
            .and_then(|&c| series.sensors.get(c % series.sensor_count()))
            .map_or("", String::as_str);
        let flagged = u8::from(score > threshold);
        writeln!(csv, "{start},{time},{score},{flagged},{label},{worst}")?;
    }
    std::fs::write(out, csv)?;
    Ok(())
}
