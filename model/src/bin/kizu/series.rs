//! `kizu series`: the LSTM autoencoder on a sensor series (a CSV file, or the seeded demo
//! series): trained on the normal windows of the first part, every window of the rest
//! scored into a CSV, with the AUC where the file labels its steps. The run is the
//! browser's ([`kizu_model::series_run`]), at the same recipe unless a flag changes it.

use std::cell::Cell;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::read_sync;
use indicatif::ProgressBar;
use kizu_model::checkpoint::Checkpoint;
use kizu_model::data::series::{parse_csv, CsvOptions, Missing, Series};
use kizu_model::run::RunObserver;
use kizu_model::series_run::{
    evaluate_series, train_series, SeriesData, SeriesEvaluated, DEMO_SEED, SCORE_LABEL,
};
use kizu_model::settings::{DataProtocol, RunSettings};
use kizu_model::threshold::ThresholdMethod;
use kizu_model::train::StepReport;

use crate::backend::Backend;
use crate::AnyError;

/// What `kizu series` is asked for; every setting left out is the recipe's
/// ([`RunSettings::series_recipe`]).
#[derive(clap::Args)]
pub(crate) struct SeriesArgs {
    /// The CSV file: a header row of sensor names, optionally a timestamp and a label
    /// column (0/1 or normal/anomaly).
    #[arg(long, conflicts_with = "demo", required_unless_present = "demo")]
    csv: Option<PathBuf>,
    /// Use the bundled demo series instead of a file (5 sensors, injected anomalies).
    #[arg(long)]
    demo: bool,
    /// What to do with missing cells.
    #[arg(long, value_enum, default_value_t = MissingArg::Refuse)]
    missing: MissingArg,
    /// Steps per window.
    #[arg(long)]
    window: Option<usize>,
    /// Steps between window starts (at most the window's length).
    #[arg(long)]
    stride: Option<usize>,
    /// Share of the steps, from the start, that trains (the rest is tested).
    #[arg(long)]
    train_fraction: Option<f64>,
    /// Passes over the training windows.
    #[arg(long)]
    epochs: Option<usize>,
    /// Windows per step.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam learning rate.
    #[arg(long)]
    learning_rate: Option<f64>,
    /// LSTM hidden units.
    #[arg(long)]
    hidden: Option<usize>,
    /// Latent dimensions.
    #[arg(long)]
    latent: Option<usize>,
    /// Spread of the noise added to training inputs (a denoising autoencoder; 0: none).
    #[arg(long)]
    input_noise: Option<f64>,
    /// Seed of the weights, the batch order and the input noise.
    #[arg(long)]
    seed: Option<u64>,
    /// Where to write the test windows' scores (CSV).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where to write the trained model's checkpoint (opens in the app).
    #[arg(long)]
    save: Option<PathBuf>,
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

impl SeriesArgs {
    /// The run these arguments describe: the recipe with the flags given.
    fn settings(&self) -> RunSettings {
        let protocol = if self.demo {
            DataProtocol::DemoSeries
        } else {
            DataProtocol::Series
        };
        let mut settings = RunSettings::series_recipe(protocol);
        let options = &mut settings.series;
        options.length = self.window.unwrap_or(options.length);
        options.stride = self.stride.unwrap_or(options.stride);
        options.train_fraction = self.train_fraction.unwrap_or(options.train_fraction);
        options.input_noise = self.input_noise.unwrap_or(options.input_noise);
        settings.epochs = self.epochs.unwrap_or(settings.epochs);
        settings.batch_size = self.batch_size.unwrap_or(settings.batch_size);
        settings.learning_rate = self.learning_rate.or(settings.learning_rate);
        settings.seed = self.seed.unwrap_or(settings.seed);
        for (id, value) in [("hidden", self.hidden), ("latent", self.latent)] {
            if let Some(value) = value {
                settings.hyperparameters.insert(id.into(), value as f64);
            }
        }
        settings
    }
}

/// Shows the run's steps on a progress bar; keeps the last loss and counts the windows.
struct Bar(ProgressBar, Cell<Option<f32>>, Cell<usize>);

impl RunObserver for Bar {
    fn step(&self, report: &StepReport) {
        self.0.set_length(report.progress.total_steps as u64);
        self.0.set_position(report.progress.step as u64);
        self.1.set(report.losses.first().map(|&(_, loss)| loss));
        self.2.set(self.2.get() + report.images);
    }
}

pub(crate) fn series_command(args: &SeriesArgs) -> Result<(), AnyError> {
    let settings = args.settings();
    let data = match &args.csv {
        Some(path) => {
            let series = load(path, args.missing)?;
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            SeriesData::new(name, series, settings.series)?
        }
        None => SeriesData::demo(settings.series)?,
    };
    let (series, split) = (&data.series, &data.split);
    eprintln!(
        "{}: {} steps of {} sensors: {} training windows, {} test windows",
        data.name,
        series.steps(),
        series.sensor_count(),
        split.train.count(),
        split.test.count()
    );
    if args.demo {
        eprintln!("(the demo series of seed {DEMO_SEED}, as the app has it)");
    }
    let (device, backend) = args.backend.device()?;
    let bar = Bar(ProgressBar::new(0), Cell::new(None), Cell::new(0));
    let started = Instant::now();
    let trained = read_sync(train_series(&settings, &data, &device, None, &bar))?;
    let train_seconds = started.elapsed().as_secs_f64();
    bar.0.finish_and_clear();
    // Source 004 flags what its training windows never reach; the 99th percentile leaves
    // room for the noise of a finite sample.
    let methods = [ThresholdMethod::Percentile(99.0)];
    let started = Instant::now();
    let evaluated = read_sync(evaluate_series(
        &trained.model,
        &data,
        settings.batch_size,
        None,
        None,
        &methods,
        &device,
    ))?;
    let score_seconds = started.elapsed().as_secs_f64();
    let scored = split.train.count() + split.test.count();
    println!(
        "training {train_seconds:.1} s ({:.0} windows/s), scoring {score_seconds:.2} s ({:.0} windows/s)",
        bar.2.get() as f64 / train_seconds,
        scored as f64 / score_seconds
    );
    let evaluation = &evaluated.evaluation;
    let threshold = evaluation.thresholds[0];
    let flagged = evaluation
        .test_scores
        .iter()
        .filter(|&&s| threshold.is_anomaly(s))
        .count();
    println!(
        "trained on {backend:?}, final loss {:.4}; windows scored by their {SCORE_LABEL}; threshold ({} of the training windows) {:.4}: {flagged} of {} test windows flagged",
        bar.1.get().unwrap_or(f32::NAN),
        threshold.method.label(),
        threshold.value,
        evaluation.test_scores.len()
    );
    if split.test.labels.is_some() {
        match evaluation.auc {
            Some(auc) => println!("window ROC AUC {auc:.4}"),
            None => println!("window ROC AUC: needs normal and anomalous test windows"),
        }
    }
    if let Some(out) = &args.out {
        write_scores(out, &data, &evaluated, threshold.value)?;
        println!("scores written to {}", out.display());
    }
    if let Some(path) = &args.save {
        let meta = trained.checkpoint_meta(&settings, &data, &evaluated)?;
        let checkpoint = Checkpoint::with_meta(&trained.model, meta)?;
        std::fs::write(path, checkpoint.to_bytes()?)?;
        println!("checkpoint written to {}", path.display());
    }
    Ok(())
}

fn load(path: &Path, missing: MissingArg) -> Result<Series, AnyError> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let options = CsvOptions {
        missing: match missing {
            MissingArg::Refuse => Missing::Refuse,
            MissingArg::Drop => Missing::DropRows,
            MissingArg::Fill => Missing::FillPrevious,
        },
        ..CsvOptions::default()
    };
    let series = parse_csv(&bytes, &options).map_err(|e| format!("{}: {e}", path.display()))?;
    let report = &series.report;
    if !report.is_clean() {
        eprintln!(
            "{} rows dropped ({:?}), {} cells filled",
            report.dropped_rows.len(),
            report.dropped_rows.iter().take(10).collect::<Vec<_>>(),
            report.filled_cells
        );
    }
    Ok(series)
}

/// One row per test window: where it starts, its score, whether it is flagged, its label
/// where known, and the sensor its score comes from (its most unusual input channel's).
fn write_scores(
    out: &Path,
    data: &SeriesData,
    evaluated: &SeriesEvaluated,
    threshold: f32,
) -> Result<(), AnyError> {
    let (series, test) = (&data.series, &data.split.test);
    let worst = evaluated.error.worst_sensor(&evaluated.test)?;
    let scores = &evaluated.evaluation.test_scores;
    let mut csv = String::from("start_step,start_time,score,flagged,label,worst_sensor\n");
    for (w, (&start, &score)) in test.starts.iter().zip(scores).enumerate() {
        let time = series
            .timestamps
            .as_ref()
            .and_then(|t| t.get(start))
            .map_or("", String::as_str);
        let label = test
            .labels
            .as_ref()
            .map_or(String::new(), |l| u8::from(l[w]).to_string());
        // Channels are each sensor's shape, then each sensor's differences.
        let sensor = worst[w] % series.sensor_count().max(1);
        let flagged = u8::from(score > threshold);
        writeln!(
            csv,
            "{start},{time},{score},{flagged},{label},{}",
            series.sensors[sensor]
        )?;
    }
    std::fs::write(out, csv)?;
    Ok(())
}
