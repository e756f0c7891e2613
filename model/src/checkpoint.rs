//! One versioned file for a trained detector: weights plus everything needed to use them.
//!
//! Layout (little-endian): `KIZUCKPT` magic, `u32` format version, `u32` header length,
//! the JSON header ([`CheckpointMeta`]), `u64` weights length, the weights (Burn's
//! burnpack record), then the SHA-256 of everything before it.

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::catalog::CatalogEntry;
use crate::combined::CombinedStatistics;
use crate::data::Normalisation;
use crate::detector::Detector;
use crate::hotelling::Hotelling;
use crate::precision::{half_weights, Precision};
use crate::run::EpochChoice;
use crate::score::ScoreKind;
use crate::settings::{DataProtocol, Fit, RunSettings};
use crate::threshold::Threshold;
use crate::train::TrainingConfig;
use crate::viz::DEFAULT_DIFFERENCE_SCALE;
use crate::zoo::{AnyDetector, Fitted, LoadError, ModelConfig, ZooModel};

/// The format version this build writes and the newest it reads.
///
/// 2 added the input normalisation (`training.config.normalisation`), every image
/// model's `input_size` and the LSTM AE's `channels`; version 1 files are upgraded on
/// reading with the values those models had then. 3 added the run's settings, its test
/// AUC and the heat-map scale (absent from older files). 4 added the combined score: the FC
/// models' `score` and its fitted statistics (`combined`); older files keep their source's
/// score. 5 may store the weights in half precision (F16 tensors in the burnpack, cast to
/// the model's dtype on loading) and the neighbour bank in 8 bits ([`Precision::Compact`]).
pub const FORMAT_VERSION: u32 = 5;
const MAGIC: &[u8; 8] = b"KIZUCKPT";
const DIGEST_LEN: usize = 32;

/// How the training that produced a checkpoint went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// The settings of the run.
    pub config: TrainingConfig,
    /// Optimiser steps actually taken (fewer than planned if stopped early).
    pub steps: usize,
    /// The digit held out as the anomaly, for one-class MNIST runs.
    pub anomaly_digit: Option<u8>,
    /// Training images seen.
    pub train_images: usize,
    /// Loss of the last step.
    pub final_loss: Option<f32>,
    /// How a validation share chose the epoch kept (`None`: the last one).
    #[serde(default)]
    pub validation: Option<EpochChoice>,
}

/// Everything in a checkpoint but the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Format version of the file.
    pub format_version: u32,
    /// Architecture and its configuration.
    pub model: ModelConfig,
    /// Input side in pixels.
    pub input_size: usize,
    /// Input channels.
    pub channels: usize,
    /// Which score the threshold applies to.
    pub score: ScoreKind,
    /// The fitted decision threshold.
    pub threshold: Threshold,
    /// Training metadata.
    pub training: TrainingRecord,
    /// Hotelling's T² statistics of the training latents, for models scored by T².
    #[serde(default)]
    pub hotelling: Option<Hotelling>,
    /// Side the training images were resized to before padding to `input_size` (e.g. 28
    /// for a 32-pixel GANomaly); `None`: `input_size`.
    #[serde(default)]
    pub image_size: Option<usize>,
    /// The per-pixel difference at which heat maps saturate, fixed from the training
    /// images so that maps compare across batches; `None` in files before format 3.
    #[serde(default)]
    pub difference_scale: Option<f32>,
    /// The settings of the run that trained it (data, model, training options, seed).
    #[serde(default)]
    pub settings: Option<RunSettings>,
    /// ROC AUC on the run's test set, where it had both classes.
    #[serde(default)]
    pub auc: Option<f64>,
    /// The combined score's statistics, for models judged by it.
    #[serde(default)]
    pub combined: Option<CombinedStatistics>,
    /// How the weights and the neighbour bank are stored (full before format 5).
    #[serde(default)]
    pub precision: Precision,
    /// A sensor-series model's sensors, windows and standardisation (`None` for images).
    #[serde(default)]
    pub series: Option<crate::series_run::SeriesRecord>,
}

impl CheckpointMeta {
    /// Everything a checkpoint of `model` says besides its weights.
    pub fn new(
        model: &impl Detector,
        config: ModelConfig,
        score: ScoreKind,
        threshold: Threshold,
        training: TrainingRecord,
    ) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            input_size: config.input_size(),
            channels: config.channels(),
            model: config,
            score,
            threshold,
            training,
            hotelling: model.fitted_statistics().cloned(),
            image_size: None,
            difference_scale: None,
            settings: None,
            auc: None,
            combined: model.combined_statistics().cloned(),
            precision: Precision::Full,
            series: None,
        }
    }

    /// Rows in every batch the run that trained it sent: scored again at that shape, a GPU
    /// compiles its kernels once.
    pub fn batch_rows(&self) -> usize {
        self.training.config.batch_rows(self.training.train_images)
    }

    /// How the model's inputs are scaled (what it was trained with).
    pub fn normalisation(&self) -> &Normalisation {
        &self.training.config.normalisation
    }

    /// Side new images are resized to before they are padded to `input_size`, as the
    /// training images were.
    pub fn image_size(&self) -> usize {
        self.image_size
            .unwrap_or(self.input_size)
            .min(self.input_size)
    }

    /// The settings that make the data the model was trained for again (its split, seed,
    /// size and channels), keeping at most `max_train` training and `max_test` test images:
    /// what an opened model is shown on.
    pub fn shown_on(&self, max_train: usize, max_test: usize) -> RunSettings {
        RunSettings {
            model: self.model.model_kind(),
            protocol: self.protocol(),
            seed: self.training.config.seed,
            input_size: self.image_size(),
            channels: self.channels,
            max_train: Some(max_train),
            max_test: Some(max_test),
            ..self.settings.clone().unwrap_or_default()
        }
    }

    /// The data the model was trained on: its settings', or for older files the digit it
    /// held out (one-class) or else the overlay protocol, the two that shipped.
    pub fn protocol(&self) -> DataProtocol {
        match (&self.settings, self.training.anomaly_digit) {
            (Some(settings), _) => settings.protocol.clone(),
            (None, Some(digit)) => DataProtocol::OneClass { digit },
            (None, None) => DataProtocol::Overlay,
        }
    }

    /// The catalogue entry of this checkpoint, stored as `file` of `bytes` bytes.
    pub fn catalog_entry(&self, file: &str, bytes: u64) -> CatalogEntry {
        CatalogEntry {
            file: file.to_owned(),
            model: self.model.model_kind(),
            protocol: self.protocol(),
            auc: self.auc,
            bytes,
        }
    }

    /// How the user's images were brought to the model's square input (older files:
    /// resized).
    pub fn fit(&self) -> Fit {
        self.settings.as_ref().map(|s| s.fit).unwrap_or_default()
    }

    /// The heat-map scale: the stored one, or for older files a difference of a quarter
    /// of the pixel range.
    pub fn difference_scale(&self) -> f32 {
        self.difference_scale
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or(DEFAULT_DIFFERENCE_SCALE)
    }
}

/// What was wrong with a checkpoint file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckpointError {
    /// The file does not start with the Kizu checkpoint magic.
    #[error("not a Kizu checkpoint (a .kizu file starts with the letters KIZUCKPT)")]
    NotACheckpoint,
    /// Written by a newer Kizu.
    #[error("checkpoint format {found} is newer than this Kizu reads ({supported}); update Kizu")]
    NewerFormat {
        /// Version in the file.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// The file ends early.
    #[error("checkpoint truncated: {needed} bytes needed, {found} present")]
    Truncated {
        /// Bytes the layout needs.
        needed: usize,
        /// Bytes present.
        found: usize,
    },
    /// The checksum does not match: the bytes were changed after saving.
    #[error("checkpoint corrupted: its SHA-256 checksum does not match its content")]
    Corrupted,
    /// The header is not valid.
    #[error("checkpoint header is invalid: {0}")]
    Header(String),
    /// The weights do not fit the architecture in the header.
    #[error("checkpoint weights do not fit the model: {0}")]
    Weights(String),
    /// The file holds another kind of model than the one asked for.
    #[error("checkpoint holds a {found}, not a {expected}")]
    WrongKind {
        /// Kind asked for.
        expected: &'static str,
        /// Kind in the file.
        found: &'static str,
    },
}

/// A trained detector as bytes: metadata plus weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Everything but the weights.
    pub meta: CheckpointMeta,
    weights: Vec<u8>,
}

impl Checkpoint {
    /// Captures a trained model, its configuration and everything needed to use it.
    pub fn new(
        model: &(impl Module + Detector),
        config: ModelConfig,
        score: ScoreKind,
        threshold: Threshold,
        training: TrainingRecord,
    ) -> Result<Self, CheckpointError> {
        let meta = CheckpointMeta::new(model, config, score, threshold, training);
        Self::with_meta(model, meta)
    }

    /// The weights of `model` with `meta`.
    ///
    /// Reads the weights back synchronously: on WebGPU in a browser, which allows only
    /// asynchronous readback, this panics; callers there keep the meta alone.
    pub fn with_meta(model: &impl Module, meta: CheckpointMeta) -> Result<Self, CheckpointError> {
        Self::with_record(model.clone().into_record(), meta)
    }

    /// [`Checkpoint::with_meta`] for any trained detector: the weights of the model inside,
    /// so the file loads as that model's kind.
    pub fn of_detector(model: &AnyDetector, meta: CheckpointMeta) -> Result<Self, CheckpointError> {
        Self::with_record(model.record(), meta)
    }

    fn with_record(record: ModuleRecord, meta: CheckpointMeta) -> Result<Self, CheckpointError> {
        let weights = record
            .into_bytes()
            .map_err(|e| CheckpointError::Weights(e.to_string()))?;
        Ok(Self {
            meta,
            weights: weights.to_vec(),
        })
    }

    /// Captures any trained detector: the weights of the model inside, so the file loads
    /// as that model's kind.
    pub fn from_detector(
        model: &AnyDetector,
        config: ModelConfig,
        score: ScoreKind,
        threshold: Threshold,
        training: TrainingRecord,
    ) -> Result<Self, CheckpointError> {
        Self::of_detector(
            model,
            CheckpointMeta::new(model, config, score, threshold, training),
        )
    }

    /// The same checkpoint stored [`Precision::Compact`]: weights in half precision, the
    /// neighbour bank in 8 bits. The model it loads as scores slightly differently: compare
    /// before shipping it (the CLI's `train --precision auto` does).
    pub fn compact(mut self) -> Result<Self, CheckpointError> {
        if self.meta.precision != Precision::Compact {
            self.weights =
                half_weights(&self.weights).map_err(|e| CheckpointError::Weights(e.to_string()))?;
            self.meta.combined = self.meta.combined.map(CombinedStatistics::with_byte_bank);
            self.meta.precision = Precision::Compact;
        }
        Ok(self)
    }

    /// Rebuilds whatever detector the checkpoint holds on `device`, in inference mode.
    pub fn detector(&self, device: &Device) -> Result<AnyDetector, CheckpointError> {
        // Half-precision weights load as the model's own (32-bit) floats.
        let weights = ModuleRecord::from_bytes(Bytes::from_bytes_vec(self.weights.clone()))
            .map_err(|e| CheckpointError::Weights(e.to_string()))?
            .cast_to_module_dtype();
        let statistics = Fitted {
            hotelling: self.meta.hotelling.clone(),
            combined: self.meta.combined.clone(),
        };
        self.meta
            .model
            .load(weights, statistics, device)
            .map_err(|e| match e {
                LoadError::Weights(reason) => CheckpointError::Weights(reason),
                statistics => CheckpointError::Header(statistics.to_string()),
            })
    }

    /// Rebuilds the detector as the model `M` (e.g. `checkpoint.model::<Ganomaly>(device)`)
    /// on `device`, in inference mode; a file of another kind is refused.
    pub fn model<M: ZooModel>(&self, device: &Device) -> Result<M, CheckpointError> {
        let wrong_kind = || CheckpointError::WrongKind {
            expected: M::KIND,
            found: self.meta.model.kind(),
        };
        if self.meta.model.kind() != M::KIND {
            return Err(wrong_kind());
        }
        M::from_any(self.detector(device)?).ok_or_else(wrong_kind)
    }

    /// Serialises the checkpoint to the file layout in the module docs.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CheckpointError> {
        let header =
            serde_json::to_vec(&self.meta).map_err(|e| CheckpointError::Header(e.to_string()))?;
        let header_len =
            u32::try_from(header.len()).map_err(|e| CheckpointError::Header(e.to_string()))?;
        let mut out = Vec::with_capacity(header.len() + self.weights.len() + 64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.meta.format_version.to_le_bytes());
        out.extend_from_slice(&header_len.to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&(self.weights.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.weights);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        Ok(out)
    }

    /// Parses a checkpoint file, refusing foreign, newer, truncated or altered files.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(MAGIC.len()).ok() != Some(MAGIC.as_slice()) {
            return Err(CheckpointError::NotACheckpoint);
        }
        let version = reader.u32()?;
        if version > FORMAT_VERSION {
            return Err(CheckpointError::NewerFormat {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let header_len = reader.u32()? as usize;
        let header = reader.take(header_len)?;
        let weights_len =
            usize::try_from(reader.u64()?).map_err(|_| CheckpointError::Truncated {
                needed: usize::MAX,
                found: bytes.len(),
            })?;
        let weights = reader.take(weights_len)?.to_vec();
        let body_end = reader.at;
        let digest = reader.take(DIGEST_LEN)?;
        if Sha256::digest(&bytes[..body_end]).as_slice() != digest {
            return Err(CheckpointError::Corrupted);
        }
        let header_error = |e: serde_json::Error| CheckpointError::Header(e.to_string());
        let mut header: Value = serde_json::from_slice(header).map_err(header_error)?;
        let header_version = header.get("format_version").and_then(Value::as_u64);
        if header_version != Some(u64::from(version)) {
            return Err(CheckpointError::Header(format!(
                "header says format {}, file says {version}",
                header_version.map_or("none".into(), |v| v.to_string())
            )));
        }
        with_defaults(&mut header);
        if let Some(v) = header.get_mut("format_version") {
            // Upgraded in memory: what an older file lacks now holds its defaults.
            *v = Value::from(FORMAT_VERSION);
        }
        let meta: CheckpointMeta = serde_json::from_value(header).map_err(header_error)?;
        if let Normalisation::Standardise { mean, .. } = &meta.training.config.normalisation {
            if mean.len() != meta.channels {
                return Err(CheckpointError::Header(format!(
                    "normalisation has statistics for {} channels, the model takes {}",
                    mean.len(),
                    meta.channels
                )));
            }
        }
        Ok(Self { meta, weights })
    }
}

/// Gives the settings a file's configurations gained after it was written (a model's
/// `input_size`, the training's `normalisation`) their defaults, which are what older
/// files implied: Burn's configs deserialise without their defaults, so a field missing
/// from an older file would otherwise refuse it.
fn with_defaults(header: &mut Value) {
    if let Some(model) = header.get_mut("model") {
        let kind = model.get("kind").and_then(Value::as_str);
        let defaults = kind.and_then(ModelConfig::defaults);
        if let Some(mut defaults) = defaults.and_then(|d| serde_json::to_value(d).ok()) {
            overlay(&mut defaults, model.take());
            *model = defaults;
        }
    }
    if let Some(training) = header.pointer_mut("/training/config") {
        if let Ok(mut defaults) = serde_json::to_value(TrainingConfig::new()) {
            overlay(&mut defaults, training.take());
            *training = defaults;
        }
    }
}

/// Lays `stored` over `base`: objects field by field, any other value replaced.
fn overlay(base: &mut Value, stored: Value) {
    match (base, stored) {
        (Value::Object(base), Value::Object(stored)) => {
            for (key, value) in stored {
                match base.get_mut(&key) {
                    Some(slot) => overlay(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

/// A cursor that reports how many bytes a short file lacks.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CheckpointError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or(CheckpointError::Truncated {
            needed: self.at.saturating_add(n),
            found: self.bytes.len(),
        })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, CheckpointError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, CheckpointError> {
        let mut word = [0u8; 8];
        word.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aae::AaeConfig;
    use crate::anogan::AnoGanConfig;
    use crate::ganomaly::GanomalyConfig;
    use crate::lstm_ae::LstmAutoencoderConfig;

    #[test]
    fn settings_missing_from_an_older_file_take_their_defaults() {
        let read = |json: &str| {
            let model: Value = serde_json::from_str(json).unwrap_or(Value::Null);
            let mut header = serde_json::json!({ "model": model });
            with_defaults(&mut header);
            serde_json::from_value::<ModelConfig>(header["model"].take()).map_err(|e| e.to_string())
        };
        // As the shipped files were written, before `input_size` and the LSTM's `channels`.
        let anogan = r#"{"kind": "AnoGan", "config": {"ganomaly": {"channels": 1,
            "latent": 100, "features": 16, "shared_encoder": false}, "steps": 20,
            "learning_rate": 0.05, "feature_weight": 0.1}}"#;
        let expected = AnoGanConfig::new(GanomalyConfig::new().with_features(16));
        assert_eq!(read(anogan), Ok(ModelConfig::AnoGan(expected)));
        let lstm = r#"{"kind": "LstmAutoencoder", "config": {"features": 28, "steps": 28,
            "hidden": 64, "latent": 32, "layers": 2}}"#;
        let expected = LstmAutoencoderConfig::new();
        assert_eq!(read(lstm), Ok(ModelConfig::LstmAutoencoder(expected)));
        // What a file states wins over the defaults.
        let aae = r#"{"kind": "Aae", "config": {"input_size": 64, "channels": 3,
            "features": 8, "latent": 12, "discriminator_hidden": 64}}"#;
        let expected = AaeConfig::new()
            .with_input_size(64)
            .with_channels(3)
            .with_features(8)
            .with_latent(12);
        assert_eq!(read(aae), Ok(ModelConfig::Aae(expected)));
    }

    #[test]
    fn format_1_training_settings_read_as_unscaled_inputs() {
        // As format 1 wrote them, before `normalisation`.
        let mut header = serde_json::json!({ "training": { "config": { "epochs": 3,
            "batch_size": 64, "learning_rate": 0.001, "seed": 42, "pseudo_anomalies": null } } });
        with_defaults(&mut header);
        let config: TrainingConfig =
            serde_json::from_value(header["training"]["config"].take()).unwrap();
        assert_eq!(config, TrainingConfig::new().with_epochs(3));
        assert_eq!(config.normalisation, Normalisation::UnitRange);
    }
}
