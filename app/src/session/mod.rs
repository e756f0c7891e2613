//! The worker's lab session: it keeps the current model (trained, shipped or imported),
//! the bundled digits and the user's images, and carries out the page's commands.
//!
//! Independent of where it runs: the worker drives it in the browser, native tests drive
//! it with a plain [`Host`]. It only orchestrates: the run, models, scores and metrics come
//! from `kizu-model`.

mod open;
mod progress;
mod series;
mod views;

use std::cell::{Cell, RefCell};
use std::future::Future;

use burn::tensor::Device;
use futures_util::future::join;
use kizu_model::catalog::{Catalog, CATALOG_FILE};
use kizu_model::checkpoint::{Checkpoint, CheckpointMeta};
use kizu_model::data::{
    decode_batch, DataError, DecodeError, DecodeLimits, ImageSet, ImageSplit, Images, Inflated,
    Mnist, Target, BUNDLED_IMAGES_FILE, BUNDLED_LABELS_FILE, TEST_FRACTION,
};
use kizu_model::detector::Normalised;
use kizu_model::readback::to_host;
use kizu_model::run::{self, FellBack, RunData, RunSettings};
use kizu_model::settings::DataProtocol;
use kizu_model::threshold::ThresholdMethod;
use kizu_model::zoo::AnyDetector;

use self::progress::{on_the_cpu, Preview, Progress};
use self::series::LoadedSeries;
use self::views::{draw, model_view, samples, TestImages, Tested};
pub use crate::control::Control;
use crate::protocol::{
    Action, BackendChoice, BackendInfo, BackendKind, CommandId, Event, FileBytes, GalleryImages,
    ModelOrigin, Refusal, Refused, Reply, ScoreReport, SessionError, Throughput, UploadReport,
};

/// Test images of each class shown with a model.
pub const SAMPLES_PER_CLASS: usize = 4;

/// Uploaded images scored (and drawn) per batch.
const SCORE_BATCH: usize = 250;
/// Test and training images a shipped or imported model is shown on (its threshold is
/// its own): enough for a histogram, few enough to be on screen in a second or two.
const OPENED_TEST_IMAGES: usize = 500;
const OPENED_TRAIN_IMAGES: usize = 500;
/// Test images of each class previewed while training.
const PREVIEW_PER_CLASS: usize = 2;
/// Folders below the app's URL.
const DATA_DIR: &str = "data";
const CHECKPOINT_DIR: &str = "checkpoints";

/// What the session needs from where it runs.
pub trait Host {
    /// Sends a reply to the page.
    fn emit(&self, reply: Reply);
    /// Lets the host breathe (the browser delivers messages, such as Stop, then).
    fn pause(&self) -> impl Future<Output = ()>;
    /// Waits a while doing nothing (a paused run waits for Resume so).
    fn idle(&self) -> impl Future<Output = ()>;
    /// A clock in milliseconds, for throughput figures.
    fn now_ms(&self) -> f64;
    /// The bytes at `url`.
    fn fetch(&self, url: &str) -> impl Future<Output = Result<Vec<u8>, String>>;
    /// The device for a backend preference, with what was chosen and why.
    fn device(&self, choice: BackendChoice) -> impl Future<Output = (Device, BackendInfo)>;
    /// A gzip file's content and its SHA-256 (`file` names it in errors). By default the
    /// crate's Rust code does both; a browser has both built in, and faster.
    fn inflate(
        &self,
        file: &str,
        gz: Vec<u8>,
    ) -> impl Future<Output = Result<Inflated, DataError>> {
        let inflated = Inflated::from_gzip(file, &gz);
        async move { inflated }
    }
}

/// The session's model.
struct Current {
    /// Its checkpoint: configuration, settings, threshold and weights.
    checkpoint: Checkpoint,
    detector: AnyDetector,
    /// Its test images, once made (the gallery draws them).
    test: Option<TestImages>,
    /// The settings that make its test images again, where known.
    evaluated_on: Option<RunSettings>,
}

/// Uploaded training images: the files (so they can be decoded again at another size)
/// and the images decoded at the last size asked for.
struct Uploaded {
    files: Vec<FileBytes>,
    decoded: Option<(Target, ImageSet)>,
}

/// Everything a lab session keeps between commands.
#[derive(Default)]
pub struct Session {
    base_url: Option<String>,
    backend: BackendChoice,
    device: Option<(Device, BackendInfo)>,
    mnist: Option<Mnist>,
    /// The bundled digits' files, fetched and not yet decoded.
    bundled: Option<(Vec<u8>, Vec<u8>)>,
    catalog: Catalog,
    current: Option<Current>,
    uploaded: Option<Uploaded>,
    series: Option<LoadedSeries>,
}

/// Carries out one command, reporting through `host`; `control` is raised by a Stop command
/// that arrives meanwhile.
pub async fn handle<H: Host>(
    session: &RefCell<Session>,
    id: CommandId,
    action: Action,
    host: &H,
    control: &Control,
) {
    // The session is taken out for the command and put back after, so no borrow is held
    // across an await.
    let mut state = session.take();
    let emit = |event| host.emit(Reply { id, event });
    let outcome = state.run(id, action, host, control).await;
    match outcome {
        Ok(event) => emit(event),
        Err(Failure::Refused(refusal)) => emit(Event::Refused(refusal)),
        Err(Failure::Error(error)) => emit(Event::Failed(error)),
    }
    *session.borrow_mut() = state;
}

/// How a command ended without its result.
enum Failure {
    Refused(Refusal),
    Error(SessionError),
}

impl From<SessionError> for Failure {
    fn from(e: SessionError) -> Self {
        Self::Error(e)
    }
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

fn run_error(e: impl std::fmt::Display) -> Failure {
    Failure::Error(SessionError::Run(e.to_string()))
}

fn data_error(e: impl std::fmt::Display) -> Failure {
    Failure::Error(SessionError::Data(e.to_string()))
}

impl Session {
    async fn run<H: Host>(
        &mut self,
        id: CommandId,
        action: Action,
        host: &H,
        control: &Control,
    ) -> Result<Event, Failure> {
        if let Action::Hello { base_url, backend } = action {
            self.base_url = Some(base_url.trim_end_matches('/').to_owned());
            self.backend = backend;
            let url = self.url(&format!("{CHECKPOINT_DIR}/{CATALOG_FILE}"))?;
            // The bundled digits come with the catalogue: most visits open a model on them
            // next, and fetched one after the other the first visit waited for both.
            let bundled = async {
                match self.mnist {
                    None => self.fetch_bundled(host).await.ok(),
                    Some(_) => None,
                }
            };
            let (catalogue, bundled) = join(fetch(host, &url), bundled).await;
            self.bundled = bundled;
            let bytes = catalogue?;
            self.catalog = serde_json::from_slice(&bytes).map_err(|e| SessionError::Fetch {
                url,
                reason: format!("not a checkpoint catalogue: {e}"),
            })?;
            return Ok(Event::Catalog(self.catalog.clone()));
        }
        if self.base_url.is_none() {
            return Err(Refusal::NotStarted.into());
        }
        let emit = |event| host.emit(Reply { id, event });
        match action {
            Action::Hello { .. } => Err(Refusal::NotStarted.into()),
            Action::Stop | Action::Pause | Action::Resume => Err(Refusal::Idle.into()),
            Action::Train(settings) if settings.protocol.is_series() => {
                self.train_series(id, settings, host, control).await
            }
            Action::Train(settings) => self.train(id, settings, host, control).await,
            Action::OpenShipped { file } => {
                let Some(entry) = self.catalog.find(&file) else {
                    return Err(Refusal::NotShipped { file }.into());
                };
                let on_digits = entry.protocol.is_bundled_digits() && self.mnist.is_none();
                emit(Event::Phase("loading the checkpoint".into()));
                let url = self.url(&format!("{CHECKPOINT_DIR}/{file}"))?;
                // The digits it is shown on inflate while the file downloads; a failure
                // here is met, and reported, again when the model asks for them.
                let digits = async {
                    if on_digits {
                        let _ = self.mnist(id, host).await;
                    }
                };
                let (bytes, ()) = join(fetch(host, &url), digits).await;
                let bytes = bytes?;
                self.open(id, &file, &bytes, ModelOrigin::Shipped(file.clone()), host)
                    .await
            }
            Action::ImportCheckpoint(file) => {
                let origin = ModelOrigin::Imported(file.path.clone());
                self.open(id, &file.path, &file.bytes, origin, host).await
            }
            Action::Restore {
                id: kept,
                name,
                checkpoint,
                view,
            } => {
                let origin = ModelOrigin::Kept {
                    id: kept,
                    name: name.clone(),
                };
                match view {
                    Some(view) => {
                        self.restore(id, &name, &checkpoint, *view, origin, host)
                            .await
                    }
                    None => self.open(id, &name, &checkpoint, origin, host).await,
                }
            }
            Action::ExportCheckpoint => {
                let current = self.current.as_ref().ok_or(Refusal::NoModel)?;
                let checkpoint = &current.checkpoint;
                let bytes = checkpoint.to_bytes().map_err(run_error)?;
                Ok(Event::Checkpoint(FileBytes {
                    path: checkpoint_file_name(&checkpoint.meta),
                    bytes,
                }))
            }
            Action::LoadImages {
                files,
                side,
                channels,
                fit,
            } => self.load_images(
                files,
                Target {
                    side,
                    channels,
                    fit,
                },
            ),
            Action::LoadSeries { file, missing } => self.load_series(file, missing),
            Action::ScoreImages(files) => self.score(files, host).await,
            Action::Gallery { indices } => self.gallery(id, &indices, host).await,
            Action::Forget => {
                self.current = None;
                self.uploaded = None;
                self.series = None;
                Ok(Event::Forgotten)
            }
        }
    }

    fn url(&self, path: &str) -> Result<String, Failure> {
        let base = self.base_url.as_deref().ok_or(Refusal::NotStarted)?;
        Ok(format!("{base}/{path}"))
    }

    /// The session's device, chosen on first use, with the backend it runs on; reported to
    /// the page each time.
    async fn device<H: Host>(&mut self, id: CommandId, host: &H) -> (Device, BackendInfo) {
        let (device, info) = match &self.device {
            Some(chosen) => chosen.clone(),
            None => {
                let chosen = host.device(self.backend).await;
                self.device = Some(chosen.clone());
                chosen
            }
        };
        host.emit(Reply {
            id,
            event: Event::Backend(info.clone()),
        });
        (device, info)
    }

    /// After a run that fell back to the CPU, the session stays there (the device it had
    /// is gone): returns the CPU device it now uses, `None` if the run did not fall back.
    fn stay_on_the_cpu(
        &mut self,
        before: &BackendInfo,
        fell_back: Option<&FellBack>,
    ) -> Option<Device> {
        let event = fell_back?;
        let cpu = Device::flex();
        self.device = Some((cpu.clone(), on_the_cpu(before, event)));
        Some(cpu)
    }

    /// The bundled digits' two compressed files (images, labels), fetched together.
    async fn fetch_bundled<H: Host>(&self, host: &H) -> Result<(Vec<u8>, Vec<u8>), Failure> {
        let images = self.url(&format!("{DATA_DIR}/{BUNDLED_IMAGES_FILE}"))?;
        let labels = self.url(&format!("{DATA_DIR}/{BUNDLED_LABELS_FILE}"))?;
        let (images, labels) = join(fetch(host, &images), fetch(host, &labels)).await;
        Ok((images?, labels?))
    }

    /// The bundled digits, decoded on first use (from the files fetched with the catalogue,
    /// or fetched again if those failed) and kept (lent, not copied: 31 MB).
    async fn mnist<H: Host>(&mut self, id: CommandId, host: &H) -> Result<&Mnist, Failure> {
        if self.mnist.is_none() {
            host.emit(Reply {
                id,
                event: Event::Phase("loading data".into()),
            });
            let (images, labels) = match self.bundled.take() {
                Some(files) => files,
                None => self.fetch_bundled(host).await?,
            };
            let (images, labels) = join(
                host.inflate(BUNDLED_IMAGES_FILE, images),
                host.inflate(BUNDLED_LABELS_FILE, labels),
            )
            .await;
            let mnist =
                Mnist::bundled_inflated(&images.map_err(data_error)?, &labels.map_err(data_error)?);
            self.mnist = Some(mnist.map_err(data_error)?);
        }
        self.mnist
            .as_ref()
            .ok_or_else(|| data_error("the bundled digits did not load"))
    }

    async fn train<H: Host>(
        &mut self,
        id: CommandId,
        settings: RunSettings,
        host: &H,
        control: &Control,
    ) -> Result<Event, Failure> {
        let (mut device, backend) = self.device(id, host).await;
        let data = match settings.protocol {
            DataProtocol::Images => {
                let split = self.image_split(Target::of(&settings), settings.seed)?;
                RunData::images(&settings, split).map_err(run_error)?
            }
            _ => {
                let mnist = self.mnist(id, host).await?;
                RunData::mnist(&settings, mnist).map_err(data_error)?
            }
        };
        host.emit(Reply {
            id,
            event: Event::Phase("training".into()),
        });
        let test = TestImages::of(data.split.as_ref());
        let preview = Preview {
            indices: test.first(PREVIEW_PER_CLASS),
            test: &test,
            last: Cell::new(f64::NEG_INFINITY),
        };
        let observer = Progress::new(id, host, control, backend.clone(), Some(preview));
        let started = host.now_ms();
        // Where WebGPU trains, a copy of the run is kept on the CPU to go on from if the
        // device is lost or an operation fails.
        let trained = match backend.kind {
            BackendKind::WebGpu => {
                let cpu = Device::flex();
                run::train_falling_back(&settings, &data, &device, &cpu, &observer).await
            }
            BackendKind::Cpu => run::train(&settings, &data, &device, &observer).await,
        }
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
        let evaluated = run::evaluate_run(
            &trained,
            &data,
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
        let checkpoint = Checkpoint::of_detector(&on_host, meta.clone()).map_err(run_error)?;
        let detector = trained.model;
        let normalisation = meta.normalisation().clone();
        let model = Normalised::new(&detector, &normalisation);
        let samples = samples(&model, &test, meta.score, meta.difference_scale(), &device).await?;
        let scored = data.split.train().len() + data.split.test().len();
        let mut view = model_view(
            ModelOrigin::Trained,
            &meta,
            Some(Tested::images(data.split.as_ref())),
            evaluated.evaluation,
            samples,
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
            detector,
            test: Some(test),
            evaluated_on: Some(settings),
        });
        Ok(Event::Model(Box::new(view)))
    }

    fn load_images(&mut self, files: Vec<FileBytes>, target: Target) -> Result<Event, Failure> {
        let count = files.len();
        let (set, report) = decode_set(&files, target)?;
        if report.loaded == 0 {
            return Err(SessionError::NothingUsable { files: count }.into());
        }
        // Refuse a set no split can train on (no normal image) now, not at Train.
        if !set.has_training_image() {
            return Err(data_error(DataError::NoNormalImages));
        }
        self.uploaded = Some(Uploaded {
            files,
            decoded: Some((target, set)),
        });
        Ok(Event::ImagesLoaded(report))
    }

    /// The uploaded images at `target`'s shape (decoded again if they were loaded at
    /// another), split with the run's `seed` as `kizu train --images` splits them.
    fn image_split(&mut self, target: Target, seed: u64) -> Result<ImageSplit, Failure> {
        let uploaded = self.uploaded.as_mut().ok_or(Refusal::NoImages)?;
        if !matches!(&uploaded.decoded, Some((shape, _)) if *shape == target) {
            let (set, _) = decode_set(&uploaded.files, target)?;
            uploaded.decoded = Some((target, set));
        }
        let (_, set) = uploaded.decoded.as_ref().ok_or(Refusal::NoImages)?;
        ImageSplit::new(set, seed, TEST_FRACTION).map_err(data_error)
    }

    /// Draws the current model's test images at `indices`, making its test images again
    /// first if the model was reopened from this browser's storage.
    async fn gallery<H: Host>(
        &mut self,
        id: CommandId,
        indices: &[usize],
        host: &H,
    ) -> Result<Event, Failure> {
        let current = self.current.as_ref().ok_or(Refusal::NoModel)?;
        if current.checkpoint.meta.series.is_some() {
            return Err(Refusal::NoTestImages {
                why: "a sensor-series model is tested on windows, drawn in its series views".into(),
            }
            .into());
        }
        if current.test.is_none() {
            let settings = current.evaluated_on.clone().ok_or(Refusal::NoTestImages {
                why: "it was not evaluated on test images".into(),
            })?;
            let data = match settings.protocol {
                DataProtocol::Images => {
                    let split = self
                        .image_split(Target::of(&settings), settings.seed)
                        .map_err(|_| Refusal::NoTestImages {
                            why: "load the images it was trained on first".into(),
                        })?;
                    RunData::images(&settings, split).map_err(run_error)?
                }
                _ => {
                    let mnist = self.mnist(id, host).await?;
                    RunData::mnist(&settings, mnist).map_err(data_error)?
                }
            };
            let test = TestImages::of(data.split.as_ref());
            if let Some(current) = self.current.as_mut() {
                current.test = Some(test);
            }
        }
        let (device, _) = self.device(id, host).await;
        let current = self.current.as_ref().ok_or(Refusal::NoModel)?;
        let test = current.test.as_ref().ok_or(Refusal::NoModel)?;
        let len = test.images.len();
        if let Some(&index) = indices.iter().find(|&&i| i >= len) {
            return Err(Refusal::NoSuchTestImage { index, len }.into());
        }
        host.pause().await;
        let meta = &current.checkpoint.meta;
        let model = Normalised::new(&current.detector, meta.normalisation());
        let samples = test
            .draw(
                &model,
                indices,
                meta.score,
                meta.difference_scale(),
                &device,
            )
            .await?;
        Ok(Event::Gallery(GalleryImages {
            indices: indices.to_vec(),
            samples,
        }))
    }

    async fn score<H: Host>(&mut self, files: Vec<FileBytes>, host: &H) -> Result<Event, Failure> {
        let current = self.current.as_ref().ok_or(Refusal::NoModel)?;
        if current.checkpoint.meta.series.is_some() {
            return Err(data_error(
                "this model reads sensor series, not images: train or open an image model to score images",
            ));
        }
        let device = match &self.device {
            Some((device, _)) => device.clone(),
            None => return Err(Refusal::NoModel.into()),
        };
        let meta = &current.checkpoint.meta;
        let target = Target {
            side: meta.image_size(),
            channels: meta.channels,
            fit: meta.fit(),
        };
        let mut images = Vec::new();
        let mut names = Vec::new();
        let mut refused = Vec::new();
        let limits = DecodeLimits::default();
        let limit = limits.files_for(&target);
        for (n, file) in files.iter().enumerate() {
            if n >= limit {
                let error = DecodeError::TooMany {
                    file: file.path.clone(),
                    limit,
                };
                refused.push(self::refused(&file.path, error));
                continue;
            }
            match kizu_model::data::decode_image(&file.path, &file.bytes, &limits, &target) {
                Ok(image) => {
                    images.extend_from_slice(image.pixels());
                    names.push(file.path.clone());
                }
                Err(e) => refused.push(self::refused(&file.path, e)),
            }
        }
        if names.is_empty() {
            return Err(SessionError::NothingUsable { files: files.len() }.into());
        }
        let set = Images::new(
            images,
            names.len(),
            target.channels,
            target.side,
            target.side,
        )
        .map_err(run_error)?;
        host.pause().await;
        let model = Normalised::new(&current.detector, meta.normalisation());
        let labels: Vec<(String, Option<bool>)> = names.into_iter().map(|n| (n, None)).collect();
        let indices: Vec<usize> = (0..labels.len()).collect();
        let mut images = Vec::with_capacity(indices.len());
        // In scoring batches: one upload may hold many images.
        for chunk in indices.chunks(SCORE_BATCH) {
            let scale = meta.difference_scale();
            let drawn = draw(
                &model,
                &set,
                chunk,
                &labels[chunk[0]..],
                meta.score,
                scale,
                &device,
            );
            images.extend(drawn.await?);
        }
        Ok(Event::Scored(ScoreReport {
            images,
            threshold: meta.threshold,
            refused,
        }))
    }
}

/// Decodes uploaded files into an image set, with the report the page shows.
fn decode_set(files: &[FileBytes], target: Target) -> Result<(ImageSet, UploadReport), Failure> {
    let batch = decode_batch(
        files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())),
        &DecodeLimits::default(),
        &target,
    )
    .map_err(data_error)?;
    let refused = batch.refused.iter().map(|r| refused(r.file(), r)).collect();
    let good = batch
        .set
        .placements()
        .iter()
        .filter(|p| !p.class.is_anomaly())
        .count();
    let report = UploadReport {
        summary: batch.summary.lines(),
        loaded: batch.set.len(),
        good,
        refused,
        input: (target.side, target.channels),
        fit: target.fit,
    };
    Ok((batch.set, report))
}

/// A refused file with its reason (the error's message without the file name it starts
/// with: the page shows the name beside it).
fn refused(file: &str, error: impl std::fmt::Display) -> Refused {
    let message = error.to_string();
    let reason = message
        .strip_prefix(file)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(&message);
    Refused {
        file: file.to_owned(),
        reason: reason.to_owned(),
    }
}

fn per_second(images: usize, ms: f64) -> f64 {
    if ms > 0.0 {
        images as f64 * 1000.0 / ms
    } else {
        f64::NAN
    }
}

/// "ganomaly-digit3.kizu", from what the checkpoint was trained on.
fn checkpoint_file_name(meta: &CheckpointMeta) -> String {
    let protocol = meta.protocol().slug();
    format!("{}-{protocol}.kizu", meta.model.model_kind().id())
}

async fn fetch<H: Host>(host: &H, url: &str) -> Result<Vec<u8>, Failure> {
    host.fetch(url).await.map_err(|reason| {
        Failure::Error(SessionError::Fetch {
            url: url.to_owned(),
            reason,
        })
    })
}
