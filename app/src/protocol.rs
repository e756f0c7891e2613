//! Messages between the page and the training worker, and the settings they carry.

use kizu_model::metrics::{Confusion, Histogram};
use kizu_model::threshold::Threshold;
use serde::{Deserialize, Serialize};

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

/// Which detector a run trains: any of the model crate's kinds, at its compact scale.
pub use kizu_model::zoo::ModelKind;

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

    /// Caps on (training, test) images.
    pub fn limits(self) -> (usize, usize) {
        match self {
            Self::Quick => (1_000, 500),
            Self::Standard => (4_000, 1_500),
            Self::Full => (usize::MAX, usize::MAX),
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
}

/// Everything a training run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainRequest {
    /// The model to train.
    pub model: ModelKind,
    /// The digit held out as the anomaly.
    pub anomaly_digit: u8,
    /// Passes over the training images.
    pub epochs: usize,
    /// Seed of split, weights and batch order.
    pub seed: u64,
    /// How much data to use.
    pub data_size: DataSize,
    /// Backend preference.
    pub backend: BackendChoice,
    /// Absolute URL of the folder with the bundled data (a worker started from a blob
    /// cannot resolve relative URLs).
    pub data_url: String,
}

/// Page -> worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Start a run (ignored while one is going).
    Train(TrainRequest),
    /// Stop the current run after its current step, keeping what it learned.
    Stop,
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
}

/// One test image with what the model made of it, as 8-bit grayscale rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Its digit.
    pub digit: u8,
    /// Whether it is an anomaly under the protocol.
    pub is_anomaly: bool,
    /// Its anomaly score.
    pub score: f32,
    /// Image side in pixels.
    pub side: usize,
    /// The input.
    pub input: Vec<u8>,
    /// The generated (reconstructed) image.
    pub generated: Vec<u8>,
    /// The difference map, scaled so that 255 is the largest difference among the samples.
    pub difference: Vec<u8>,
}

/// What a finished (or stopped) run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Whether the user stopped training before the last step.
    pub stopped_early: bool,
    /// Steps taken.
    pub steps: usize,
    /// ROC AUC on the test set.
    pub auc: Option<f64>,
    /// Name of the score.
    pub score_label: String,
    /// Thresholds fitted on the normal training scores; the first is the default.
    pub thresholds: Vec<ThresholdView>,
    /// Test scores, normal vs anomalous.
    pub histogram: Histogram,
    /// Test images with their reconstructions.
    pub samples: Vec<Sample>,
    /// How fast training and scoring ran.
    pub throughput: Throughput,
}

/// A fitted threshold and what it does on the test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdView {
    /// How it was fitted ("max of normal").
    pub method: String,
    /// Its value.
    pub threshold: Threshold,
    /// Test outcomes at this threshold.
    pub confusion: Confusion,
}

/// Images per second, measured in the worker.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Training images per second (forward, backward and optimiser step).
    pub train_images_per_second: f64,
    /// Scoring images per second (the training and test sets, read back).
    pub score_images_per_second: f64,
}

/// Worker -> page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// The backend chosen for the run.
    Backend(BackendInfo),
    /// A human-readable phase ("loading data", "scoring").
    Phase(String),
    /// Optimiser steps done since the last report (batched so the page is not flooded).
    Steps(Vec<StepReport>),
    /// The run is over.
    Finished(Box<RunResult>),
    /// The run failed; the message says why.
    Failed(String),
}
