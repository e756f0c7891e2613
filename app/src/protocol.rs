//! Messages between the page and the worker's lab session: commands with ids, the events
//! they produce, typed refusals and errors, and the views they carry.

use kizu_model::catalog::Catalog;
use kizu_model::metrics::{Confusion, Histogram};
use kizu_model::threshold::Threshold;
use serde::{Deserialize, Serialize};

use crate::library::KeptId;

pub use kizu_model::data::series::Missing;
pub use kizu_model::data::series::SeriesTrace;
pub use kizu_model::settings::{
    DataProtocol, Fit, LearningRateSchedule, RunSettings, SeriesOptions,
};
/// Which detector a run trains: any of the model crate's kinds.
pub use kizu_model::zoo::ModelKind;

/// Which compute backend the user asked for (`?backend=` in the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum BackendChoice {
    /// WebGPU on a hardware adapter, the CPU otherwise.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// WebGPU whenever the browser has an adapter, even a software one.
    WebGpu,
}

impl BackendChoice {
    /// Parses the `backend` URL parameter; `None` for an unknown value.
    pub fn from_param(value: &str) -> Option<Self> {
        match value {
            "auto" => Some(Self::Auto),
            "cpu" => Some(Self::Cpu),
            "webgpu" => Some(Self::WebGpu),
            _ => None,
        }
    }
}

/// How much of the bundled data a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DataSize {
    /// 1,000 training and 500 test images: a run in seconds.
    #[default]
    Quick,
    /// 4,000 training and 1,500 test images.
    Standard,
    /// The whole one-class split (about 7,200 training and 2,800 test images).
    Full,
}

impl DataSize {
    /// All sizes, in menu order.
    pub const ALL: [DataSize; 3] = [Self::Quick, Self::Standard, Self::Full];

    /// Caps on (training, test) images; `None`: all.
    pub fn limits(self) -> (Option<usize>, Option<usize>) {
        match self {
            Self::Quick => (Some(1_000), Some(500)),
            Self::Standard => (Some(4_000), Some(1_500)),
            Self::Full => (None, None),
        }
    }

    /// Stable identifier for forms and links.
    pub fn id(self) -> &'static str {
        match self {
            Self::Quick => "quick",
            Self::Standard => "standard",
            Self::Full => "full",
        }
    }

    /// Menu label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Quick => "Quick (1,000 train / 500 test)",
            Self::Standard => "Standard (4,000 / 1,500)",
            Self::Full => "Full split (~7,200 / ~2,800)",
        }
    }

    /// The size with identifier `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The size whose caps are (`max_train`, `max_test`), e.g. a preset's; the whole split
    /// for caps no size has.
    pub fn of_limits(max_train: Option<usize>, max_test: Option<usize>) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.limits() == (max_train, max_test))
            .unwrap_or(Self::Full)
    }
}

/// A file the user gave, as its path (relative, '/'-separated, folders included) and bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileBytes {
    /// Path relative to what was picked or dropped ("bottle/test/crack/001.png").
    pub path: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// Identifies a command and every event it causes.
pub type CommandId = u32;

/// Page -> worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// Echoed in every reply to it.
    pub id: CommandId,
    /// What to do.
    pub action: Action,
}

/// What the page asks the session to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// Where the app is served from (the bundled data and checkpoints lie below it) and
    /// the backend wanted; sent first. Replied with the shipped checkpoints' catalogue.
    Hello {
        /// Absolute URL of the app's folder (a worker started from a blob cannot resolve
        /// relative URLs).
        base_url: String,
        /// Backend preference.
        backend: BackendChoice,
    },
    /// Train a model on the bundled digits or, with [`DataProtocol::Images`], on the images
    /// loaded before.
    Train(RunSettings),
    /// Stop training after the current step, keeping what was learned.
    Stop,
    /// Pause the running training run between two steps (it waits for Resume or Stop).
    Pause,
    /// Resume a paused run where it stopped.
    Resume,
    /// Open a shipped checkpoint (a file the catalogue lists) and evaluate it.
    OpenShipped {
        /// Its file name.
        file: String,
    },
    /// Open a checkpoint file the user gave.
    ImportCheckpoint(FileBytes),
    /// Send the current model back as a checkpoint file.
    ExportCheckpoint,
    /// Reopen a model kept in the browser: its checkpoint and, when it could be read back,
    /// the results it was kept with (shown as they were; without them it is evaluated
    /// again).
    Restore {
        /// Its key in the browser's storage.
        id: KeptId,
        /// Its name there.
        name: String,
        /// The checkpoint file's bytes.
        checkpoint: Vec<u8>,
        /// Its results when it was kept.
        view: Option<Box<ModelView>>,
    },
    /// Decode a set of images (a folder layout) to train on, at this side and channels.
    LoadImages {
        /// The files, paths relative to what was picked or dropped.
        files: Vec<FileBytes>,
        /// Side to bring them to.
        side: usize,
        /// 1 (gray) or 3 (RGB).
        channels: usize,
        /// How images of another aspect ratio become squares.
        fit: Fit,
    },
    /// Read a sensor series (a CSV file) to train on; what was loaded before stays if it
    /// is refused.
    LoadSeries {
        /// The file.
        file: FileBytes,
        /// What to do with missing cells.
        missing: Missing,
    },
    /// Score images with the current model (fitted the way its training images were).
    ScoreImages(Vec<FileBytes>),
    /// Draw these test images of the current model (positions in its test set).
    Gallery {
        /// The positions.
        indices: Vec<usize>,
    },
    /// Drop the current model and the loaded images.
    Forget,
}

impl Action {
    /// What the action does, for messages ("training", "opening a checkpoint").
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "starting",
            Self::Train(_) => "training",
            Self::Stop => "stopping",
            Self::Pause => "pausing",
            Self::Resume => "resuming",
            Self::OpenShipped { .. } | Self::ImportCheckpoint(_) => "opening a checkpoint",
            Self::Restore { .. } => "reopening a kept model",
            Self::ExportCheckpoint => "exporting the model",
            Self::LoadImages { .. } => "loading images",
            Self::LoadSeries { .. } => "reading a sensor series",
            Self::ScoreImages(_) => "scoring images",
            Self::Gallery { .. } => "drawing test images",
            Self::Forget => "forgetting the model",
        }
    }
}

/// Worker -> page: one event of command `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The command this answers.
    pub id: CommandId,
    /// What happened.
    pub event: Event,
}

/// What a command produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// The command cannot be taken now; nothing changed.
    Refused(Refusal),
    /// The shipped checkpoints.
    Catalog(Catalog),
    /// The backend in use, and why.
    Backend(BackendInfo),
    /// The device failed mid-run and training went on on the CPU: the backend now, and the
    /// step the run went on from (its copy's; the steps after it are taken again).
    FellBack {
        /// The CPU, with why.
        backend: BackendInfo,
        /// Steps the copy had taken.
        resumed_from: usize,
    },
    /// A human-readable phase ("loading data", "scoring").
    Phase(String),
    /// Optimiser steps done since the last report (batched so the page is not flooded).
    Steps(Vec<StepReport>),
    /// The session's current model, with its evaluation: the command is done.
    Model(Box<ModelView>),
    /// The current model as a checkpoint file: the command is done.
    Checkpoint(FileBytes),
    /// Images decoded for training: the command is done.
    ImagesLoaded(UploadReport),
    /// A sensor series read for training: the command is done.
    SeriesLoaded(SeriesReport),
    /// Images scored with the current model: the command is done.
    Scored(ScoreReport),
    /// A few test images as the model being trained generates them now.
    Preview(Vec<Sample>),
    /// Test images drawn for the gallery: the command is done.
    Gallery(GalleryImages),
    /// The model and images are gone: the command is done.
    Forgotten,
    /// The command failed; what the session had before is kept.
    Failed(SessionError),
}

/// Why the session refused a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    /// Another command is running.
    #[error("busy {running}: wait for it to finish (or stop it)")]
    Busy {
        /// What is running.
        running: String,
    },
    /// The command needs a model and there is none.
    #[error("no model yet: train one or open a checkpoint first")]
    NoModel,
    /// Training on images needs images loaded first.
    #[error("no images loaded: add a folder of good images first")]
    NoImages,
    /// Training on a sensor series needs one loaded first.
    #[error("no sensor series loaded: add a CSV file first (or train on the demo series)")]
    NoSeries,
    /// Nothing is running to stop.
    #[error("nothing is running")]
    Idle,
    /// The checkpoint is not one the catalogue lists.
    #[error("{file} is not a shipped checkpoint")]
    NotShipped {
        /// The name asked for.
        file: String,
    },
    /// The page has not said hello yet.
    #[error("the session has not started")]
    NotStarted,
    /// The current model's test images cannot be drawn again in this session.
    #[error("the test images of this model are not in this session ({why})")]
    NoTestImages {
        /// Why ("it was evaluated on images uploaded before").
        why: String,
    },
    /// A test image position past the end of the test set.
    #[error("there is no test image {index} (the test set has {len})")]
    NoSuchTestImage {
        /// The position asked for.
        index: usize,
        /// Test images there are.
        len: usize,
    },
}

/// Why a command failed, typed across the worker boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum SessionError {
    /// A checkpoint file was refused.
    #[error("{file}: {reason}")]
    Checkpoint {
        /// Its name.
        file: String,
        /// What was wrong.
        reason: String,
    },
    /// A file could not be fetched.
    #[error("could not fetch {url}: {reason}")]
    Fetch {
        /// What was fetched.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The data could not make the run.
    #[error("{0}")]
    Data(String),
    /// Training or scoring failed.
    #[error("{0}")]
    Run(String),
    /// The worker stopped on an error no code of it could catch (a panic, or an exception
    /// thrown through it); what it held is gone.
    #[error("the worker stopped on an unexpected error ({0}): reload the page to go on")]
    Crashed(String),
    /// None of the files given could be used.
    #[error("none of the {files} files could be used")]
    NothingUsable {
        /// How many were given.
        files: usize,
    },
}

/// The backend a run uses, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// WebGPU or the CPU.
    pub kind: BackendKind,
    /// The WebGPU adapter's name, when there is one.
    pub adapter: Option<String>,
    /// Why this backend was picked.
    pub reason: String,
}

/// The two compute paths of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendKind {
    /// Burn on WebGPU.
    WebGpu,
    /// Burn's flex backend on the CPU (WebAssembly).
    Cpu,
}

/// Progress of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// Epoch, from 0.
    pub epoch: usize,
    /// Steps done.
    pub step: usize,
    /// Steps planned.
    pub total_steps: usize,
    /// Named loss terms of this step, the main one first.
    pub losses: Vec<(String, f32)>,
    /// Milliseconds spent training so far (time paused excluded).
    pub elapsed_ms: f64,
}

impl StepReport {
    /// Mean milliseconds per step so far, and the estimated milliseconds left at that pace.
    pub fn pace(&self) -> Option<(f64, f64)> {
        (self.step > 0 && self.elapsed_ms > 0.0).then(|| {
            let per_step = self.elapsed_ms / self.step as f64;
            (
                per_step,
                per_step * self.total_steps.saturating_sub(self.step) as f64,
            )
        })
    }
}

/// One image with what the model made of it, as 8-bit planes ready to draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// What it is: "digit 3", a file name.
    pub label: String,
    /// Whether it is an anomaly, where that is known.
    pub is_anomaly: Option<bool>,
    /// Its anomaly score.
    pub score: f32,
    /// Image side in pixels.
    pub side: usize,
    /// 1 (gray) or 3 (RGB, planar).
    pub channels: usize,
    /// The input, `channels` planes.
    pub input: Vec<u8>,
    /// The generated (reconstructed) image, `channels` planes.
    pub generated: Vec<u8>,
    /// The difference map (channels summed), 255 at the model's fixed heat-map scale.
    pub difference: Vec<u8>,
}

/// A threshold and what it does on the test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdView {
    /// How it was fitted ("max of normal").
    pub method: String,
    /// Its value.
    pub threshold: Threshold,
    /// Test outcomes at this threshold, where the test set has labels.
    pub confusion: Option<Confusion>,
}

/// Where the session's model came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelOrigin {
    /// Trained in this session.
    Trained,
    /// A shipped checkpoint.
    Shipped(String),
    /// A checkpoint file the user gave.
    Imported(String),
    /// A model kept in this browser.
    Kept {
        /// Its key in the browser's storage.
        id: KeptId,
        /// Its name there.
        name: String,
    },
}

impl ModelOrigin {
    /// Whether a model of this origin is kept in the browser when it opens: trained here
    /// or from the user's file (shipped ones are always at hand, kept ones already are).
    pub fn is_kept_on_open(&self) -> bool {
        matches!(self, Self::Trained | Self::Imported(_))
    }
}

/// Training and scoring speed, measured in the worker.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Training images per second (forward, backward and optimiser step).
    pub train_images_per_second: f64,
    /// Scoring images per second.
    pub score_images_per_second: f64,
}

/// The session's model and how it does on its test data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelView {
    /// Where it came from.
    pub origin: ModelOrigin,
    /// Its kind.
    pub model: ModelKind,
    /// The settings it was trained with, where known.
    pub settings: Option<RunSettings>,
    /// The data it is evaluated on.
    pub protocol: DataProtocol,
    /// Input side and channels.
    pub input: (usize, usize),
    /// Name of the score.
    pub score_label: String,
    /// Thresholds; the first is the model's own (kept in its checkpoint).
    pub thresholds: Vec<ThresholdView>,
    /// ROC AUC on the test set.
    pub auc: Option<f64>,
    /// Every test score, in test order.
    pub test_scores: Vec<f32>,
    /// Whether each test image is an anomaly.
    pub test_is_anomaly: Vec<bool>,
    /// Each test image's name ("digit 3 #17", a file's path), in test order.
    #[serde(default)]
    pub test_names: Vec<String>,
    /// Scores of the normal training images the thresholds are fitted on.
    #[serde(default)]
    pub train_scores: Vec<f32>,
    /// The test images' latent codes on a plane, for models with a latent.
    #[serde(default)]
    pub latent: Option<LatentMap>,
    /// The settings the test images were made with (to draw them again later).
    #[serde(default)]
    pub evaluated_on: Option<RunSettings>,
    /// Test scores, normal vs anomalous.
    pub histogram: Histogram,
    /// Some normal and some anomalous test images with their reconstructions.
    pub samples: Vec<Sample>,
    /// Training steps taken, where it was trained here.
    pub steps: Option<usize>,
    /// Whether training was stopped before its last step.
    pub stopped_early: bool,
    /// Why training was stopped as diverged, if it was (the model is the last good one).
    #[serde(default)]
    pub diverged: Option<String>,
    /// Speed, where measured.
    pub throughput: Option<Throughput>,
    /// For a sensor-series model: the test part's readings, reconstruction and errors
    /// (its test "images" are windows).
    #[serde(default)]
    pub series: Option<Box<SeriesTrace>>,
}

impl ModelView {
    /// What its test items are, singular and plural: images, or a series' windows.
    pub fn items(&self) -> (&'static str, &'static str) {
        if self.series.is_some() {
            ("window", "windows")
        } else {
            ("image", "images")
        }
    }
}

/// The test set's latent codes projected on their two principal axes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatentMap {
    /// Each test image's point, in test order.
    pub points: Vec<[f32; 2]>,
    /// The share of the codes' variance along each axis.
    pub explained: [f32; 2],
    /// Width of the codes.
    pub dim: usize,
}

/// Test images drawn for the gallery, by their position in the test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryImages {
    /// Test positions, in the order asked.
    pub indices: Vec<usize>,
    /// Each one drawn: input, generated, difference.
    pub samples: Vec<Sample>,
}

/// A file that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    /// Its path.
    pub file: String,
    /// Why.
    pub reason: String,
}

impl Refused {
    /// Refused files grouped by reason, in the order the reasons first appear.
    pub fn grouped(refused: &[Refused]) -> Vec<(&str, Vec<&str>)> {
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for r in refused {
            match groups.iter_mut().find(|(reason, _)| *reason == r.reason) {
                Some((_, files)) => files.push(&r.file),
                None => groups.push((&r.reason, vec![&r.file])),
            }
        }
        groups
    }
}

/// What came of a set of images loaded to train on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadReport {
    /// Images per folder, readable lines ("train/good: 200 images").
    pub summary: Vec<String>,
    /// Images decoded.
    pub loaded: usize,
    /// Of those, good (normal) ones.
    pub good: usize,
    /// Files refused, each with its reason.
    pub refused: Vec<Refused>,
    /// The side and channels they were converted to.
    pub input: (usize, usize),
    /// How they were fitted to squares.
    pub fit: Fit,
}

/// What came of a sensor series read to train on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesReport {
    /// The file's name.
    pub file: String,
    /// Steps (rows) kept.
    pub steps: usize,
    /// The sensors (columns), in order.
    pub sensors: Vec<String>,
    /// Whether it has timestamps.
    pub timestamps: bool,
    /// Steps labelled anomalous, where it has a label column.
    pub anomalous_steps: Option<usize>,
    /// File rows left out for a missing cell (1-based, the header is row 1).
    pub dropped_rows: Vec<usize>,
    /// Cells filled from the reading before.
    pub filled_cells: usize,
}

/// Images scored with the current model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    /// Each image, in the order given, with its score and maps.
    pub images: Vec<Sample>,
    /// The threshold they were judged by.
    pub threshold: Threshold,
    /// Files refused, each with its reason.
    pub refused: Vec<Refused>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_files_group_by_reason_in_order() {
        let r = |file: &str, reason: &str| Refused {
            file: file.into(),
            reason: reason.into(),
        };
        let list = [
            r("a", "empty"),
            r("b", "too many"),
            r("c", "too many"),
            r("d", "empty"),
        ];
        assert_eq!(
            Refused::grouped(&list),
            vec![("empty", vec!["a", "d"]), ("too many", vec!["b", "c"])]
        );
    }
}
