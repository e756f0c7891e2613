//! [`AnyDetector`]: any trained model, as one type.

use burn::module::Module;
use burn::tensor::Tensor;

use crate::aae::Aae;
use crate::anogan::AnoGan;
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
}
