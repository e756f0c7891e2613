//! [`AnyDetector`]: any trained model, as one type.

use burn::module::Module;
use burn::store::{ModuleRecord, RecordError};
use burn::tensor::Tensor;

use crate::aae::Aae;
use crate::anogan::AnoGan;
use crate::combined::{CombinedStatistics, LatentJudged};
use crate::conv_ae::ConvAutoencoder;
use crate::detector::Detector;
use crate::fc::FcAutoencoder;
use crate::ganomaly::Ganomaly;
use crate::hotelling::Hotelling;
use crate::lstm_ae::LstmAutoencoder;
use crate::score::{Detection, ScoreKind};
use crate::skip_ganomaly::SkipGanomaly;

/// Any of Kizu's trained detectors, e.g. as loaded from a checkpoint of unknown kind.
// One or two live per session: boxing the large variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum AnyDetector {
    /// The convolutional autoencoder or VAE.
    ConvAutoencoder(ConvAutoencoder),
    /// The fully connected autoencoder or VAE.
    FcAutoencoder(FcAutoencoder),
    /// GANomaly's generator.
    Ganomaly(Ganomaly),
    /// Skip-GANomaly's generator and discriminator.
    SkipGanomaly(SkipGanomaly),
    /// The adversarial autoencoder with its T² statistics.
    Aae(Aae),
    /// GANomaly's generator and discriminator, scored by AnoGAN's latent search.
    AnoGan(AnoGan),
    /// The LSTM autoencoder over image rows.
    LstmAutoencoder(LstmAutoencoder),
}

impl AnyDetector {
    /// The weights of the model inside, as [`ModelConfig::init`]'s model takes them back.
    ///
    /// [`ModelConfig::init`]: super::ModelConfig::init
    // The inner model's record, not the enum's: the enum's would prefix every tensor's
    // path with the variant's name, and checkpoints hold the models' own records.
    pub(crate) fn record(&self) -> ModuleRecord {
        match self {
            Self::ConvAutoencoder(m) => m.clone().into_record(),
            Self::FcAutoencoder(m) => m.clone().into_record(),
            Self::Ganomaly(m) => m.clone().into_record(),
            Self::SkipGanomaly(m) => m.clone().into_record(),
            Self::Aae(m) => m.clone().into_record(),
            Self::AnoGan(m) => m.clone().into_record(),
            Self::LstmAutoencoder(m) => m.clone().into_record(),
        }
    }

    /// `self` with the weights of `record` (as [`AnyDetector::record`] took them) loaded
    /// into the model inside.
    pub(crate) fn with_record(self, record: ModuleRecord) -> Result<Self, RecordError> {
        Ok(match self {
            Self::ConvAutoencoder(m) => Self::ConvAutoencoder(m.try_load_record(record)?),
            Self::FcAutoencoder(m) => Self::FcAutoencoder(m.try_load_record(record)?),
            Self::Ganomaly(m) => Self::Ganomaly(m.try_load_record(record)?),
            Self::SkipGanomaly(m) => Self::SkipGanomaly(m.try_load_record(record)?),
            Self::Aae(m) => Self::Aae(m.try_load_record(record)?),
            Self::AnoGan(m) => Self::AnoGan(m.try_load_record(record)?),
            Self::LstmAutoencoder(m) => Self::LstmAutoencoder(m.try_load_record(record)?),
        })
    }

    /// The same detector scored with `statistics` (fitted on its training images); a
    /// model not judged by a neighbour score ignores them.
    pub(crate) fn with_combined(self, statistics: CombinedStatistics) -> Self {
        match self {
            Self::ConvAutoencoder(m) => Self::ConvAutoencoder(m.with_combined(statistics)),
            Self::FcAutoencoder(m) => Self::FcAutoencoder(m.with_combined(statistics)),
            Self::Ganomaly(m) => Self::Ganomaly(m.with_combined(statistics)),
            Self::SkipGanomaly(m) => Self::SkipGanomaly(m.with_combined(statistics)),
            Self::Aae(m) => Self::Aae(m.with_combined(statistics)),
            Self::AnoGan(m) => Self::AnoGan(m.with_combined(statistics)),
            Self::LstmAutoencoder(m) => Self::LstmAutoencoder(m.with_combined(statistics)),
        }
    }

    fn inner(&self) -> &dyn Detector {
        match self {
            Self::ConvAutoencoder(m) => m,
            Self::FcAutoencoder(m) => m,
            Self::Ganomaly(m) => m,
            Self::SkipGanomaly(m) => m,
            Self::Aae(m) => m,
            Self::AnoGan(m) => m,
            Self::LstmAutoencoder(m) => m,
        }
    }
}

impl Detector for AnyDetector {
    fn detect_from(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection {
        self.inner().detect_from(input, clean)
    }

    fn input_size(&self) -> usize {
        self.inner().input_size()
    }

    fn score_kind(&self) -> ScoreKind {
        self.inner().score_kind()
    }

    fn fitted_statistics(&self) -> Option<&Hotelling> {
        self.inner().fitted_statistics()
    }

    fn combined_statistics(&self) -> Option<&CombinedStatistics> {
        self.inner().combined_statistics()
    }
}

/// One of the models an [`AnyDetector`] holds, e.g. to load a checkpoint as that model.
pub trait ZooModel: Sized {
    /// The name of its configuration's variant, as [`ModelConfig::kind`] gives it.
    ///
    /// [`ModelConfig::kind`]: super::ModelConfig::kind
    const KIND: &'static str;

    /// The model `detector` holds, if it is one of these.
    fn from_any(detector: AnyDetector) -> Option<Self>;
}

/// [`ZooModel`] for each variant: named as the variant, which is also its configuration's.
macro_rules! zoo_models {
    ($($variant:ident($model:ty)),* $(,)?) => {$(
        impl ZooModel for $model {
            const KIND: &'static str = stringify!($variant);

            fn from_any(detector: AnyDetector) -> Option<Self> {
                match detector {
                    AnyDetector::$variant(model) => Some(model),
                    _ => None,
                }
            }
        }
    )*};
}

zoo_models!(
    ConvAutoencoder(ConvAutoencoder),
    FcAutoencoder(FcAutoencoder),
    Ganomaly(Ganomaly),
    SkipGanomaly(SkipGanomaly),
    Aae(Aae),
    AnoGan(AnoGan),
    LstmAutoencoder(LstmAutoencoder),
);
