//! [`ModelConfig`]: the configuration of any model kind, as a checkpoint stores it.

use burn::store::ModuleRecord;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{AnyDetector, InputShapeError, ModelKind, Scale, MAX_INPUT_SIZE};
use crate::aae::AaeConfig;
use crate::anogan::AnoGanConfig;
use crate::combined::{uses_neighbours, CombinedStatistics};
use crate::conv_ae::ConvAutoencoderConfig;
use crate::detector::Detector;
use crate::detector::DetectorConfig;
use crate::fc::FcAutoencoderConfig;
use crate::ganomaly::GanomalyConfig;
use crate::hotelling::Hotelling;
use crate::lstm_ae::LstmAutoencoderConfig;
use crate::score::ScoreKind;
use crate::skip_ganomaly::SkipGanomalyConfig;

/// The architecture of a checkpoint, with its full configuration.
// Its serde form is the checkpoint header's `model`: the tag, the content and the variant
// names are the file format, so renaming any of them refuses every file written before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "config")]
pub enum ModelConfig {
    /// The convolutional autoencoder (or VAE) of seed 003.
    ConvAutoencoder(ConvAutoencoderConfig),
    /// The fully connected autoencoder (or VAE) of seed 001.
    FcAutoencoder(FcAutoencoderConfig),
    /// GANomaly's generator (seed 000).
    Ganomaly(GanomalyConfig),
    /// Skip-GANomaly's U-Net and discriminator (seed 000).
    SkipGanomaly(SkipGanomalyConfig),
    /// The adversarial autoencoder (seed 002).
    Aae(AaeConfig),
    /// AnoGAN's latent search over a GANomaly (seed 004).
    AnoGan(AnoGanConfig),
    /// The LSTM autoencoder of seed 004, over image rows.
    LstmAutoencoder(LstmAutoencoderConfig),
}

impl ModelKind {
    /// The configuration of this kind at `scale`, for grayscale images of its native size
    /// (28 or 32); [`ModelConfig::for_input`] adapts it to other images.
    pub fn config(self, scale: Scale) -> ModelConfig {
        let compact = scale == Scale::Compact;
        let gan_features = if compact { 16 } else { 64 };
        let ganomaly = GanomalyConfig::new().with_features(gan_features);
        match self {
            // Judged by the combined score: on one-class MNIST it beats MSE and the VAE's
            // MSE + beta KL (docs/BENCHMARKS.md, issue 9).
            Self::FcAutoencoder => ModelConfig::FcAutoencoder(
                FcAutoencoderConfig::new().with_score(Some(ScoreKind::Combined)),
            ),
            Self::FcVae => ModelConfig::FcAutoencoder(
                FcAutoencoderConfig::new()
                    .with_variational(true)
                    .with_score(Some(ScoreKind::Combined)),
            ),
            // The conv AE and VAE are judged by the latent's nearest training latent: their
            // decoders rebuild held-out digits too well for MSE (docs/BENCHMARKS.md, issue 9).
            Self::ConvAutoencoder => ModelConfig::ConvAutoencoder(
                ConvAutoencoderConfig::new().with_score(Some(ScoreKind::Neighbour)),
            ),
            Self::ConvVae => ModelConfig::ConvAutoencoder(
                ConvAutoencoderConfig::new()
                    .with_variational(true)
                    .with_score(Some(ScoreKind::Neighbour)),
            ),
            Self::Ganomaly => {
                ModelConfig::Ganomaly(ganomaly.with_score(Some(ScoreKind::Neighbour)))
            }
            Self::SkipGanomaly => ModelConfig::SkipGanomaly(
                SkipGanomalyConfig::new()
                    .with_features(if compact { 8 } else { 64 })
                    .with_score(Some(ScoreKind::Neighbour)),
            ),
            Self::Aae => ModelConfig::Aae(
                AaeConfig::new()
                    .with_features(if compact { 16 } else { 32 })
                    .with_score(Some(ScoreKind::Neighbour)),
            ),
            Self::AnoGan => ModelConfig::AnoGan(
                AnoGanConfig::new(ganomaly).with_score(Some(ScoreKind::Neighbour)),
            ),
            Self::LstmAutoencoder => ModelConfig::LstmAutoencoder(
                LstmAutoencoderConfig::new().with_score(Some(ScoreKind::Neighbour)),
            ),
        }
    }
}

impl ModelConfig {
    /// The value of the hyperparameter `id` ([`ModelKind::hyperparameters`]) in this
    /// configuration, if the model has it.
    pub fn hyperparameter(&self, id: &str) -> Option<f64> {
        let whole = |v: usize| Some(v as f64);
        // The f32 as written ("0.9"), not its binary expansion (0.899999976...).
        let real = |v: f32| Some(v.to_string().parse().unwrap_or(f64::from(v)));
        match (self, id) {
            (Self::FcAutoencoder(c), "latent") => whole(c.latent),
            (Self::FcAutoencoder(c), "kl-weight") if c.variational => real(c.kl_weight),
            (Self::ConvAutoencoder(c), "latent") => whole(c.latent),
            (Self::ConvAutoencoder(c), "kl-weight") if c.variational => real(c.kl_weight),
            (Self::Ganomaly(c), "latent") => whole(c.latent),
            (Self::Ganomaly(c), "features") => whole(c.features),
            (Self::SkipGanomaly(c), "features") => whole(c.features),
            (Self::SkipGanomaly(c), "score-weight") => real(c.score_weight),
            (Self::Aae(c), "latent") => whole(c.latent),
            (Self::Aae(c), "features") => whole(c.features),
            (Self::Aae(c), "discriminator-hidden") => whole(c.discriminator_hidden),
            (Self::AnoGan(c), "latent") => whole(c.ganomaly.latent),
            (Self::AnoGan(c), "features") => whole(c.ganomaly.features),
            (Self::AnoGan(c), "search-steps") => whole(c.steps),
            (Self::AnoGan(c), "feature-weight") => real(c.feature_weight),
            (Self::LstmAutoencoder(c), "hidden") => whole(c.hidden),
            (Self::LstmAutoencoder(c), "latent") => whole(c.latent),
            (Self::LstmAutoencoder(c), "layers") => whole(c.layers),
            _ => None,
        }
    }

    /// The same configuration with the hyperparameter `id` set to `value`; refused (with
    /// the reason) when the model has no such hyperparameter or the value is out of range.
    pub fn with_hyperparameter(mut self, id: &str, value: f64) -> Result<Self, String> {
        let kind = self.model_kind();
        let parameter = kind
            .hyperparameters()
            .iter()
            .find(|h| h.id == id)
            .ok_or_else(|| format!("{kind} has no hyperparameter “{id}”"))?;
        if parameter.loss_weight {
            return Err(format!(
                "{} is a loss weight: the training takes it, not the model",
                parameter.label
            ));
        }
        let value = parameter.check(value)?;
        // Checked above: whole where it must be, inside a range that fits usize and f32.
        let (n, x) = (value as usize, value as f32);
        match (&mut self, id) {
            (Self::FcAutoencoder(c), "latent") => c.latent = n,
            (Self::FcAutoencoder(c), "kl-weight") => c.kl_weight = x,
            (Self::ConvAutoencoder(c), "latent") => c.latent = n,
            (Self::ConvAutoencoder(c), "kl-weight") => c.kl_weight = x,
            (Self::Ganomaly(c), "latent") => c.latent = n,
            (Self::Ganomaly(c), "features") => c.features = n,
            (Self::SkipGanomaly(c), "features") => c.features = n,
            (Self::SkipGanomaly(c), "score-weight") => c.score_weight = x,
            (Self::Aae(c), "latent") => c.latent = n,
            (Self::Aae(c), "features") => c.features = n,
            (Self::Aae(c), "discriminator-hidden") => c.discriminator_hidden = n,
            (Self::AnoGan(c), "latent") => c.ganomaly.latent = n,
            (Self::AnoGan(c), "features") => c.ganomaly.features = n,
            (Self::AnoGan(c), "search-steps") => c.steps = n,
            (Self::AnoGan(c), "feature-weight") => c.feature_weight = x,
            (Self::LstmAutoencoder(c), "hidden") => c.hidden = n,
            (Self::LstmAutoencoder(c), "latent") => c.latent = n,
            (Self::LstmAutoencoder(c), "layers") => c.layers = n,
            _ => return Err(format!("{kind} has no hyperparameter “{id}”")),
        }
        Ok(self)
    }

    /// The model kind's name, as it appears in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ConvAutoencoder(_) => "ConvAutoencoder",
            Self::FcAutoencoder(_) => "FcAutoencoder",
            Self::Ganomaly(_) => "Ganomaly",
            Self::SkipGanomaly(_) => "SkipGanomaly",
            Self::Aae(_) => "Aae",
            Self::AnoGan(_) => "AnoGan",
            Self::LstmAutoencoder(_) => "LstmAutoencoder",
        }
    }

    /// The configuration named `kind` (as [`ModelConfig::kind`] gives it) with every setting
    /// at its default: what a checkpoint's missing settings are read as.
    pub(crate) fn defaults(kind: &str) -> Option<Self> {
        Some(match kind {
            "ConvAutoencoder" => Self::ConvAutoencoder(ConvAutoencoderConfig::new()),
            "FcAutoencoder" => Self::FcAutoencoder(FcAutoencoderConfig::new()),
            "Ganomaly" => Self::Ganomaly(GanomalyConfig::new()),
            "SkipGanomaly" => Self::SkipGanomaly(SkipGanomalyConfig::new()),
            "Aae" => Self::Aae(AaeConfig::new()),
            "AnoGan" => Self::AnoGan(AnoGanConfig::new(GanomalyConfig::new())),
            "LstmAutoencoder" => Self::LstmAutoencoder(LstmAutoencoderConfig::new()),
            _ => return None,
        })
    }

    /// Which kind this configuration builds.
    pub fn model_kind(&self) -> ModelKind {
        match self {
            Self::FcAutoencoder(c) if c.variational => ModelKind::FcVae,
            Self::FcAutoencoder(_) => ModelKind::FcAutoencoder,
            Self::ConvAutoencoder(c) if c.variational => ModelKind::ConvVae,
            Self::ConvAutoencoder(_) => ModelKind::ConvAutoencoder,
            Self::Ganomaly(_) => ModelKind::Ganomaly,
            Self::SkipGanomaly(_) => ModelKind::SkipGanomaly,
            Self::Aae(_) => ModelKind::Aae,
            Self::AnoGan(_) => ModelKind::AnoGan,
            Self::LstmAutoencoder(_) => ModelKind::LstmAutoencoder,
        }
    }

    /// The same configuration judged by `score`: a neighbour score or MSE; `None` (or any
    /// other kind), its source's own.
    pub fn with_score(self, score: Option<ScoreKind>) -> Self {
        match self {
            Self::ConvAutoencoder(c) => Self::ConvAutoencoder(c.with_score(score)),
            Self::FcAutoencoder(c) => Self::FcAutoencoder(c.with_score(score)),
            Self::Ganomaly(c) => Self::Ganomaly(c.with_score(score)),
            Self::SkipGanomaly(c) => Self::SkipGanomaly(c.with_score(score)),
            Self::Aae(c) => Self::Aae(c.with_score(score)),
            Self::AnoGan(c) => Self::AnoGan(c.with_score(score)),
            Self::LstmAutoencoder(c) => Self::LstmAutoencoder(c.with_score(score)),
        }
    }

    /// The configuration inside, as what it fixes about its detector: the one source of a
    /// model's input shape and score kind.
    fn inner(&self) -> &dyn DetectorConfig {
        match self {
            Self::ConvAutoencoder(c) => c,
            Self::FcAutoencoder(c) => c,
            Self::Ganomaly(c) => c,
            Self::SkipGanomaly(c) => c,
            Self::Aae(c) => c,
            Self::AnoGan(c) => c,
            Self::LstmAutoencoder(c) => c,
        }
    }

    /// Side of the square input, in pixels: the configured size, as the network is built
    /// for it (a convolutional model configured between its sizes builds the next one up).
    pub fn input_size(&self) -> usize {
        self.inner().input_size()
    }

    /// Input channels.
    pub fn channels(&self) -> usize {
        self.inner().channels()
    }

    /// The score this kind is judged by.
    pub fn score_kind(&self) -> ScoreKind {
        self.inner().score_kind()
    }

    /// This configuration for images of side `size` (1 to [`MAX_INPUT_SIZE`]) with
    /// `channels` channels (1 or 3): the input size becomes the smallest one the model is
    /// built for that holds `size` (smaller images are padded to it: 28 -> 32 for the
    /// GANs and the AAE), the channels are set, all other settings are kept.
    pub fn for_input(self, size: usize, channels: usize) -> Result<Self, InputShapeError> {
        let model = self.model_kind();
        if !(1..=MAX_INPUT_SIZE).contains(&size) {
            return Err(InputShapeError::Size { model, size });
        }
        if !matches!(channels, 1 | 3) {
            return Err(InputShapeError::Channels { model, channels });
        }
        Ok(match self {
            Self::ConvAutoencoder(c) => Self::ConvAutoencoder(c.for_input(size, channels)),
            Self::FcAutoencoder(c) => Self::FcAutoencoder(c.for_input(size, channels)),
            Self::Ganomaly(c) => Self::Ganomaly(c.for_input(size, channels)),
            Self::SkipGanomaly(c) => Self::SkipGanomaly(c.for_input(size, channels)),
            Self::Aae(c) => Self::Aae(c.for_input(size, channels)),
            Self::AnoGan(c) => Self::AnoGan(c.for_input(size, channels)),
            Self::LstmAutoencoder(c) => Self::LstmAutoencoder(c.for_input(size, channels)),
        })
    }

    /// An untrained detector of this configuration on `device`.
    pub fn init(&self, device: &Device) -> AnyDetector {
        match self {
            Self::ConvAutoencoder(c) => AnyDetector::ConvAutoencoder(c.init(device)),
            Self::FcAutoencoder(c) => AnyDetector::FcAutoencoder(c.init(device)),
            Self::Ganomaly(c) => AnyDetector::Ganomaly(c.init(device)),
            Self::SkipGanomaly(c) => AnyDetector::SkipGanomaly(c.init(device)),
            Self::Aae(c) => AnyDetector::Aae(c.init(device)),
            Self::AnoGan(c) => AnyDetector::AnoGan(c.init(device)),
            Self::LstmAutoencoder(c) => AnyDetector::LstmAutoencoder(c.init(device)),
        }
    }

    /// The trained detector of this configuration on `device`, in inference mode: `weights`
    /// as [`AnyDetector::record`] took them, and the statistics fitted after training that
    /// its score needs (the AAE's T², the combined score's; as the [`Detector`] gave them).
    ///
    /// [`Detector`]: crate::detector::Detector
    pub(crate) fn load(
        &self,
        weights: ModuleRecord,
        mut statistics: Fitted,
        device: &Device,
    ) -> Result<AnyDetector, LoadError> {
        let detector = self
            .init(device)
            .with_record(weights)
            .map_err(|e| LoadError::Weights(e.to_string()))?;
        let detector = match (self, detector) {
            (Self::Aae(config), AnyDetector::Aae(model)) => {
                let hotelling = statistics
                    .hotelling
                    .take()
                    .ok_or(LoadError::MissingStatistics("T²"))?;
                check_dimension(hotelling.dim(), config.latent)?;
                AnyDetector::Aae(model.with_hotelling(hotelling))
            }
            (_, detector) => detector,
        };
        if !uses_neighbours(self.score_kind()) {
            return Ok(detector);
        }
        // The unfitted model knows the dimension its statistics must have.
        let dim = detector
            .combined_statistics()
            .map_or(0, |unfitted| unfitted.dim);
        let fitted = statistics.neighbours(dim)?;
        Ok(detector.with_combined(fitted))
    }
}

/// Statistics a trained model fitted on its training images, stored beside its weights.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fitted {
    /// The AAE's T² statistics.
    pub hotelling: Option<Hotelling>,
    /// The neighbour scores' statistics.
    pub combined: Option<CombinedStatistics>,
}

impl Fitted {
    /// The neighbour scores' statistics, checked against a latent of `latent` dimensions.
    fn neighbours(self, latent: usize) -> Result<CombinedStatistics, LoadError> {
        let fitted = self
            .combined
            .ok_or(LoadError::MissingStatistics("latent neighbour"))?;
        check_dimension(fitted.dim, latent)?;
        Ok(fitted)
    }
}

/// Statistics of `found` dimensions for a latent of `latent`.
fn check_dimension(found: usize, latent: usize) -> Result<(), LoadError> {
    if found == latent {
        Ok(())
    } else {
        Err(LoadError::StatisticsDimension { found, latent })
    }
}

/// Why a trained detector could not be rebuilt from its configuration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum LoadError {
    /// The weights do not fit the architecture.
    #[error("{0}")]
    Weights(String),
    /// The statistics its score needs are missing (which ones).
    #[error("the checkpoint lacks the {0} statistics its score needs")]
    MissingStatistics(&'static str),
    /// The fitted statistics are not those of the model's latent.
    #[error("statistics of dimension {found}, latent of {latent}")]
    StatisticsDimension {
        /// Dimension of the statistics.
        found: usize,
        /// Dimension of the latent.
        latent: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_hyperparameters_default_is_its_configurations_and_it_can_be_set() {
        for kind in ModelKind::ALL {
            for scale in [Scale::Compact, Scale::Reference] {
                let config = kind.config(scale);
                for h in kind.hyperparameters() {
                    if h.loss_weight {
                        let training = crate::train::TrainingConfig::new();
                        let w = crate::zoo::loss_weight(kind, h.id, &training);
                        assert_eq!(
                            w.map(f64::from),
                            Some(h.default_at(scale)),
                            "{kind} {}",
                            h.id
                        );
                        continue;
                    }
                    assert_eq!(
                        config.hyperparameter(h.id),
                        Some(h.default_at(scale)),
                        "{kind} {}",
                        h.id
                    );
                    let set = config.clone().with_hyperparameter(h.id, h.max).unwrap();
                    assert_eq!(set.hyperparameter(h.id), Some(h.max), "{kind} {}", h.id);
                    assert_eq!(set.model_kind(), kind);
                    let err = config
                        .clone()
                        .with_hyperparameter(h.id, h.max + 1.0)
                        .unwrap_err();
                    assert!(err.contains("must be from"), "{err}");
                }
            }
        }
        let conv = ModelKind::ConvAutoencoder.config(Scale::Compact);
        assert!(conv
            .clone()
            .with_hyperparameter("latent", 2.5)
            .unwrap_err()
            .contains("whole"));
        assert!(conv
            .with_hyperparameter("kl-weight", 1.0)
            .unwrap_err()
            .contains("no hyperparameter"));
    }
}
