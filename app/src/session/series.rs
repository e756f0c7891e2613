//! The session's sensor series: a CSV file read to train on, the LSTM autoencoder trained
//! on the demo series or on it, and series checkpoints opened. The run itself is
//! `kizu_model::series_run`'s, as in the CLI.

use burn::tensor::Device;
use kizu_model::checkpoint::Checkpoint;
use kizu_model::data::series::{parse_csv, CsvOptions, Missing, Series};
use kizu_model::readback::to_host;
use kizu_model::series_run::{
    evaluate_series, train_series, SeriesData, SeriesEvaluated, SCORE_LABEL,
};
use kizu_model::settings::DataProtocol;
use kizu_model::threshold::ThresholdMethod;
use kizu_model::zoo::AnyDetector;

use super::progress::Progress;
use super::views::{model_view, Tested};
use super::Control;
use super::{data_error, per_second, run_error, Current, Failure, Host, Session};
use crate::protocol::{
    BackendKind, CommandId, Event, FileBytes, ModelOrigin, ModelView, Refusal, Reply, RunSettings,
    SeriesReport, Throughput,
};

/// A series the user loaded: its file's name and readings.
pub(super) struct LoadedSeries {
    name: String,
    series: Series,
}

impl Session {
    /// Reads `file` as a sensor series to train on; a refused file leaves the series
    /// loaded before.
    pub(super) fn load_series(
        &mut self,
        file: FileBytes,
        missing: Missing,
    ) -> Result<Event, Failure> {
        let options = CsvOptions {
            missing,
            ..CsvOptions::default()
        };
        let series = parse_csv(&file.bytes, &options)
            .map_err(|e| data_error(format!("{}: {e}", file.path)))?;
        let report = SeriesReport {
            file: file.path.clone(),
            steps: series.steps(),
            sensors: series.sensors.clone(),
            timestamps: series.timestamps.is_some(),
            anomalous_steps: series
                .labels
                .as_ref()
                .map(|l| l.iter().filter(|&&a| a).count()),
            dropped_rows: series.report.dropped_rows.clone(),
            filled_cells: series.report.filled_cells,
        };
        self.series = Some(LoadedSeries {
            name: file.path,
            series,
        });
        Ok(Event::SeriesLoaded(report))
    }

    /// The data a series run's `settings` name: the demo series, or the one loaded.
    fn series_data(&self, settings: &RunSettings) -> Result<SeriesData, Failure> {
        match settings.protocol {
            DataProtocol::DemoSeries => SeriesData::demo(settings.series).map_err(data_error),
            _ => {
                let loaded = self.series.as_ref().ok_or(Refusal::NoSeries)?;
                SeriesData::new(&loaded.name, loaded.series.clone(), settings.series)
                    .map_err(data_error)
            }
        }
    }

    /// Trains the LSTM autoencoder on a series' normal training windows and evaluates it
    /// on every test window.
    pub(super) async fn train_series<H: Host>(
        &mut self,
        id: CommandId,
        settings: RunSettings,
        host: &H,
        control: &Control,
    ) -> Result<Event, Failure> {
        let data = self.series_data(&settings)?;
        let (mut device, backend) = self.device(id, host).await;
        host.emit(Reply {
            id,
            event: Event::Phase("training".into()),
        });
        let observer = Progress::new(id, host, control, backend.clone(), None);
        let started = host.now_ms();
        // Where WebGPU trains, a copy of the run is kept on the CPU to go on from.
        let cpu = Device::flex();
        let fallback = (backend.kind == BackendKind::WebGpu).then_some(&cpu);
        let trained = train_series(&settings, &data, &device, fallback, &observer)
            .await
            .map_err(run_error)?;
        if let Some(cpu) = self.stay_on_the_cpu(&backend, trained.fell_back.as_ref()) {
            device = cpu;
        }
        observer.flush();
        let train_ms = host.now_ms() - started - observer.paused_ms.get();
        host.emit(Reply {
            id,
            event: Event::Phase("scoring".into()),
        });
        host.pause().await;
        let score_started = host.now_ms();
        let evaluated = evaluate_series(
            &trained.model,
            &data,
            settings.batch_size,
            None,
            None,
            &ThresholdMethod::AFTER_TRAINING,
            &device,
        )
        .await
        .map_err(run_error)?;
        let score_ms = host.now_ms() - score_started;
        let meta = trained
            .checkpoint_meta(&settings, &data, &evaluated)
            .map_err(run_error)?;
        // Recorded from a CPU copy: WebGPU in a browser cannot read weights synchronously.
        let on_host = to_host(&trained.model).await.map_err(run_error)?;
        let checkpoint = Checkpoint::with_meta(&on_host, meta).map_err(run_error)?;
        let scored = data.split.train.count() + data.split.test.count();
        let mut view = series_view(
            ModelOrigin::Trained,
            &checkpoint,
            &data,
            evaluated,
            Some(settings.clone()),
        );
        view.steps = Some(trained.steps);
        view.stopped_early = trained.stopped_early;
        view.diverged = trained.diverged.as_ref().map(ToString::to_string);
        view.throughput = Some(Throughput {
            train_images_per_second: per_second(observer.images.get(), train_ms),
            score_images_per_second: per_second(scored, score_ms),
        });
        self.current = Some(Current {
            checkpoint,
            detector: AnyDetector::LstmAutoencoder(trained.model),
            test: None,
            evaluated_on: Some(settings),
        });
        Ok(Event::Model(Box::new(view)))
    }

    /// Opens a series checkpoint and evaluates it on the series it names: the demo series,
    /// or the series loaded when it has the model's sensors; else it opens unevaluated.
    pub(super) async fn open_series<H: Host>(
        &mut self,
        checkpoint: Checkpoint,
        detector: AnyDetector,
        device: &Device,
        origin: ModelOrigin,
        host: &H,
    ) -> Result<Event, Failure> {
        let meta = &checkpoint.meta;
        let record = meta
            .series
            .as_ref()
            .ok_or_else(|| data_error("the checkpoint records no sensor series"))?;
        let AnyDetector::LstmAutoencoder(model) = &detector else {
            return Err(data_error(format!(
                "a sensor-series checkpoint holds a {}, not the LSTM autoencoder",
                meta.model.model_kind().label()
            )));
        };
        let data = match meta.protocol() {
            DataProtocol::DemoSeries => Some(SeriesData::demo(record.options).map_err(data_error)?),
            _ => self
                .series
                .as_ref()
                .filter(|loaded| record.check(&loaded.series).is_ok())
                .map(|loaded| SeriesData::for_model(&loaded.name, loaded.series.clone(), record))
                .transpose()
                .map_err(data_error)?,
        };
        host.pause().await;
        let view = match &data {
            Some(data) => {
                let methods: Vec<_> = ThresholdMethod::beside(meta.threshold.method).collect();
                let (error, own) = (Some(&record.error), Some(meta.threshold));
                let batch = meta.training.config.batch_size;
                let evaluated = evaluate_series(model, data, batch, error, own, &methods, device)
                    .await
                    .map_err(run_error)?;
                series_view(origin, &checkpoint, data, evaluated, meta.settings.clone())
            }
            None => {
                let evaluation = kizu_model::eval::Evaluation::of_scores(
                    meta.score,
                    vec![meta.threshold],
                    Vec::new(),
                    &[],
                )
                .map_err(run_error)?;
                model_view(origin, meta, None, evaluation, Vec::new(), None)
            }
        };
        let evaluated_on = data.and(meta.settings.clone());
        self.current = Some(Current {
            checkpoint,
            detector,
            test: None,
            evaluated_on,
        });
        Ok(Event::Model(Box::new(view)))
    }
}

/// The page's view of a series model: its windows are the test set, named by their steps,
/// with the trace of the test part.
fn series_view(
    origin: ModelOrigin,
    checkpoint: &Checkpoint,
    data: &SeriesData,
    evaluated: SeriesEvaluated,
    evaluated_on: Option<RunSettings>,
) -> ModelView {
    let labels = data.test_is_anomaly();
    let tested = Tested {
        is_anomaly: &labels,
        names: data.test_names(),
    };
    let mut view = model_view(
        origin,
        &checkpoint.meta,
        Some(tested),
        evaluated.evaluation,
        Vec::new(),
        evaluated_on,
    );
    view.series = Some(Box::new(evaluated.trace));
    view.score_label = SCORE_LABEL.to_owned();
    view
}
