//! What defines a run, as plain data: the page, the worker, the CLI, checkpoints and share
//! links all carry [`RunSettings`]. Pure: it builds without Burn.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::Defect;
use crate::zoo::{ModelKind, Scale};

/// Which data a run trains and tests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged (serde's default): the worker's binary codec cannot read the
// internally tagged form.
#[serde(rename_all = "kebab-case")]
pub enum DataProtocol {
    /// Bundled MNIST, one digit held out as the anomaly (GANomaly's protocol).
    OneClass {
        /// The anomalous digit.
        digit: u8,
    },
    /// Bundled MNIST; anomalies are digits with a second digit overlaid (source 000).
    Overlay,
    /// Bundled MNIST, every digit normal: training images ("seen") against held-out ones
    /// ("unseen", counted as anomalies), the sources 001 and 003's comparison.
    Unseen,
    /// The user's own images: good ones train, a held-out share and the defects test.
    Images,
    /// The bundled demo sensor series (seeded, with injected anomalies after its
    /// midpoint): the LSTM autoencoder on its windows (source 004 §4.4-4.5).
    DemoSeries,
    /// The user's sensor series (a CSV file): its first part trains, the rest tests.
    Series,
}

/// How an image of another aspect ratio becomes the model's square input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Fit {
    /// Resize the whole image to the square, stretching it (MVTec AD's images are square,
    /// so nothing stretches there).
    #[default]
    Resize,
    /// Crop the largest centred square, then resize it: no stretching, the borders of the
    /// longer side are lost.
    CentreCrop,
}

impl Fit {
    /// Both, in menu order.
    pub const ALL: [Fit; 2] = [Self::Resize, Self::CentreCrop];

    /// Stable identifier for forms and links.
    pub fn id(self) -> &'static str {
        match self {
            Self::Resize => "resize",
            Self::CentreCrop => "centre-crop",
        }
    }

    /// The fit with identifier `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.id() == id)
    }

    /// Menu label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Resize => "resize (stretch to square)",
            Self::CentreCrop => "centre-crop (keep proportions)",
        }
    }
}

impl DataProtocol {
    /// "digit 3 held out", "overlay", "your images".
    pub fn label(&self) -> String {
        match self {
            Self::OneClass { digit } => format!("digit {digit} held out"),
            Self::Overlay => "overlay".into(),
            Self::Unseen => "seen vs unseen".into(),
            Self::Images => "your images".into(),
            Self::DemoSeries => "demo sensor series".into(),
            Self::Series => "your sensor series".into(),
        }
    }

    /// A short name for file names: "digit3", "overlay", "demo-series".
    pub fn slug(&self) -> String {
        match self {
            Self::OneClass { digit } => format!("digit{digit}"),
            Self::Overlay => "overlay".into(),
            Self::Unseen => "unseen".into(),
            Self::Images => "images".into(),
            Self::DemoSeries => "demo-series".into(),
            Self::Series => "series".into(),
        }
    }

    /// Whether the data is a sensor series (windows of readings) rather than images.
    pub fn is_series(&self) -> bool {
        matches!(self, Self::DemoSeries | Self::Series)
    }

    /// Whether the data comes from the bundled digits.
    pub fn is_bundled_digits(&self) -> bool {
        matches!(self, Self::OneClass { .. } | Self::Overlay | Self::Unseen)
    }
}

/// How a sensor series is windowed and learned (the series protocols only): windows of
/// `length` steps, one every `stride` steps; the first `train_fraction` of the steps
/// trains, with noise of spread `input_noise` on the model's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeriesOptions {
    /// Steps per window (the LSTM's sequence length).
    pub length: usize,
    /// Steps between the starts of consecutive windows.
    pub stride: usize,
    /// Share of the steps, from the start, that trains (the rest is tested).
    pub train_fraction: f64,
    /// Spread of the Gaussian noise added to each training input, in units of each input
    /// channel's spread (a denoising autoencoder; the targets stay clean); 0: none.
    pub input_noise: f64,
}

impl Default for SeriesOptions {
    /// The recipe's (docs/BENCHMARKS.md).
    fn default() -> Self {
        Self {
            length: 32,
            stride: 4,
            train_fraction: 0.5,
            input_noise: 0.5,
        }
    }
}

/// The series recipe's training: epochs, windows per step, learning rate, seed and the
/// LSTM's sizes (hidden, latent, layers). Chosen on the demo series (seed 11) among the
/// settings tried, by its test AUC: docs/BENCHMARKS.md has the figures and another seed's.
const SERIES_RECIPE: (usize, usize, f64, u64, [(&str, f64); 3]) = (
    30,
    32,
    5e-3,
    3,
    [("hidden", 32.0), ("latent", 16.0), ("layers", 1.0)],
);

/// How the learning rate moves over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum LearningRateSchedule {
    /// The same rate at every step.
    #[default]
    Constant,
    /// Half a cosine from the rate at the first step to zero after the last, so that a long
    /// run ends with small steps instead of wandering around its minimum.
    Cosine,
}

impl LearningRateSchedule {
    /// Every schedule, in the order a form lists them.
    pub const ALL: [Self; 2] = [Self::Constant, Self::Cosine];

    /// Its id in links and on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Cosine => "cosine",
        }
    }

    /// A short name for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Cosine => "cosine decay",
        }
    }

    /// The schedule with id `id`, if any.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The rate of step `step` (counted from 1) of `total_steps`, starting from `base`.
    pub fn rate(self, base: f64, step: usize, total_steps: usize) -> f64 {
        match self {
            Self::Constant => base,
            Self::Cosine => {
                let done = step.saturating_sub(1) as f64 / total_steps.max(1) as f64;
                base * 0.5 * (1.0 + (std::f64::consts::PI * done.min(1.0)).cos())
            }
        }
    }
}

/// Everything that defines a run; what a checkpoint records and a link will carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunSettings {
    /// The model to train.
    pub model: ModelKind,
    /// Reference sizes of the sources, or the compact ones a browser trains.
    pub scale: Scale,
    /// The data.
    pub protocol: DataProtocol,
    /// Passes over the training images.
    pub epochs: usize,
    /// Images per optimiser step.
    pub batch_size: usize,
    /// Adam's learning rate; `None`: the model's own default.
    pub learning_rate: Option<f64>,
    /// How the learning rate moves over the run (links and files from before it: constant).
    pub learning_rate_schedule: LearningRateSchedule,
    /// Seed of the split, the weights and the batch order.
    pub seed: u64,
    /// Side images are resized to (MNIST's is 28).
    pub input_size: usize,
    /// 1 (gray) or 3 (RGB).
    pub channels: usize,
    /// How the user's images of another aspect ratio become squares.
    pub fit: Fit,
    /// Inputs standardised to mean 0 and variance 1 per channel.
    pub standardise: bool,
    /// Pseudo-anomaly training (source 000).
    pub pseudo_anomalies: bool,
    /// The defect kinds pseudo-anomaly training draws (empty: [`RunSettings::defect_kinds`]).
    pub defects: Vec<Defect>,
    /// Share of the training set given as labelled anomalies (source 002, the AAE).
    pub labelled_anomalies: f64,
    /// Keep at most this many training images.
    pub max_train: Option<usize>,
    /// Keep at most this many test images.
    pub max_test: Option<usize>,
    /// Share of the normal training images held out to choose the epoch: the run keeps the
    /// epoch whose model reconstructs them best. 0: train on all, keep the last epoch.
    pub validation: f64,
    /// The model's own hyperparameters set for this run, by id
    /// ([`ModelKind::hyperparameters`]); the others keep their defaults.
    pub hyperparameters: BTreeMap<String, f64>,
    /// How a sensor series is windowed and split (the series protocols only).
    pub series: SeriesOptions,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            model: ModelKind::ConvAutoencoder,
            scale: Scale::Reference,
            protocol: DataProtocol::OneClass { digit: 0 },
            epochs: 1,
            batch_size: 64,
            learning_rate: None,
            learning_rate_schedule: LearningRateSchedule::Constant,
            seed: 42,
            input_size: 28,
            channels: 1,
            fit: Fit::Resize,
            standardise: false,
            pseudo_anomalies: false,
            defects: Vec::new(),
            labelled_anomalies: 0.0,
            max_train: None,
            max_test: None,
            validation: 0.0,
            hyperparameters: BTreeMap::new(),
            series: SeriesOptions::default(),
        }
    }
}

/// Images per step of the "quick demo" preset.
const QUICK_DEMO_BATCH: usize = 64;
/// The recipes' validation share: a tenth of the normal training images choose the epoch.
pub const RECIPE_VALIDATION: f64 = 0.1;

/// The hyperparameters of `model`'s recipe ([`ModelKind::recipe_hyperparameters`]) with
/// those `set` by hand over them.
pub fn recipe_hyperparameters(
    model: ModelKind,
    pseudo_anomalies: bool,
    set: &[(String, f64)],
) -> BTreeMap<String, f64> {
    let recipe = model.recipe_hyperparameters(pseudo_anomalies);
    recipe
        .iter()
        .map(|&(id, v)| (id.to_owned(), v))
        .chain(set.iter().cloned())
        .collect()
}

impl RunSettings {
    /// The "quick demo" preset: `model`, compact, on the bundled digits of `protocol`,
    /// sized to train and score in under a minute in a browser tab on the CPU of a 2-core
    /// machine (the conv AE's: 24 s, mean AUC 0.929 over the ten digits; docs/BENCHMARKS.md).
    ///
    /// The autoencoders train on the whole split for several epochs; the GANs get one
    /// epoch; AnoGAN, whose latent search makes scoring slow, the quick 1,000 / 500 images.
    pub fn quick_demo(model: ModelKind, protocol: DataProtocol) -> Self {
        if protocol.is_series() {
            return Self::series_recipe(protocol);
        }
        // One epoch of the whole split in the browser's CPU path: FC 5 s, conv 6-7 s,
        // AAE 11 s, LSTM 22 s, GANomaly 32 s, Skip-GANomaly 45 s.
        let (epochs, limits) = match model {
            ModelKind::FcAutoencoder | ModelKind::FcVae => (8, None),
            ModelKind::ConvAutoencoder | ModelKind::ConvVae => (6, None),
            ModelKind::Aae => (4, None),
            ModelKind::LstmAutoencoder => (2, None),
            ModelKind::Ganomaly | ModelKind::SkipGanomaly => (1, None),
            ModelKind::AnoGan => (3, Some((1_000, 500))),
        };
        Self {
            model,
            scale: Scale::Compact,
            protocol,
            epochs,
            batch_size: QUICK_DEMO_BATCH,
            max_train: limits.map(|(train, _)| train),
            max_test: limits.map(|(_, test)| test),
            ..Self::default()
        }
    }

    /// The "as in the source" preset: `model` at the sources' sizes with its recipe (its
    /// epochs; on the overlay protocol pseudo-anomaly training, as source 000 trains), the
    /// whole split, and a validation share choosing the epoch.
    pub fn as_in_source(model: ModelKind, protocol: DataProtocol) -> Self {
        if protocol.is_series() {
            return Self::series_recipe(protocol);
        }
        let pseudo_anomalies = protocol == DataProtocol::Overlay;
        // Seen vs unseen tests on training images: none may be held out.
        let validation = if protocol == DataProtocol::Unseen {
            0.0
        } else {
            RECIPE_VALIDATION
        };
        Self {
            model,
            scale: Scale::Reference,
            protocol,
            epochs: model.recipe_epochs(pseudo_anomalies),
            pseudo_anomalies,
            validation,
            hyperparameters: recipe_hyperparameters(model, pseudo_anomalies, &[]),
            ..Self::default()
        }
    }

    /// The LSTM autoencoder's recipe on a sensor series (source 004 trains the same
    /// network; its sizes are the recipe's, measured in docs/BENCHMARKS.md): only the LSTM
    /// autoencoder reads windows of readings.
    pub fn series_recipe(protocol: DataProtocol) -> Self {
        let (epochs, batch_size, learning_rate, seed, sizes) = SERIES_RECIPE;
        Self {
            model: ModelKind::LstmAutoencoder,
            scale: Scale::Compact,
            protocol,
            epochs,
            batch_size,
            learning_rate: Some(learning_rate),
            seed,
            hyperparameters: sizes.iter().map(|&(id, v)| (id.to_owned(), v)).collect(),
            series: SeriesOptions::default(),
            ..Self::default()
        }
    }

    /// The defect kinds pseudo-anomaly training draws: those named; else on the overlay
    /// protocol the source's own pseudo-anomaly (a second digit overlaid, seed 000), and
    /// every kind on other data.
    pub fn defect_kinds(&self) -> Vec<Defect> {
        match (self.defects.is_empty(), &self.protocol) {
            (false, _) => self.defects.clone(),
            (true, DataProtocol::Overlay) => vec![Defect::Overlay],
            (true, _) => Defect::ALL.to_vec(),
        }
    }

    /// The loss weights the run sets (those of its hyperparameters that weigh a loss term);
    /// `None` when it sets none.
    pub fn loss_weights(&self) -> Option<BTreeMap<String, f32>> {
        let weights: BTreeMap<String, f32> = self
            .model
            .hyperparameters()
            .iter()
            .filter(|h| h.loss_weight)
            .filter_map(|h| Some((h.id.to_owned(), *self.hyperparameters.get(h.id)? as f32)))
            .collect();
        (!weights.is_empty()).then_some(weights)
    }

    /// The learning rate the run uses: the one set, or its model's recipe's (with or without
    /// pseudo-anomalies).
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
            .unwrap_or_else(|| self.model.learning_rate(self.pseudo_anomalies))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cosine_schedule_falls_from_the_rate_to_nothing_and_constant_stays() {
        let cosine = LearningRateSchedule::Cosine;
        assert_eq!(cosine.rate(0.01, 1, 100), 0.01);
        assert!((cosine.rate(0.01, 51, 100) - 0.005).abs() < 1e-12);
        let last = cosine.rate(0.01, 100, 100);
        assert!(last > 0.0 && last < 1e-5, "{last}");
        let rates: Vec<f64> = (1..=100).map(|s| cosine.rate(0.01, s, 100)).collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]));
        for step in [1, 50, 100] {
            assert_eq!(LearningRateSchedule::Constant.rate(0.01, step, 100), 0.01);
        }
        for s in LearningRateSchedule::ALL {
            assert_eq!(LearningRateSchedule::from_id(s.id()), Some(s));
        }
        assert_eq!(LearningRateSchedule::from_id("warp"), None);
    }

    #[test]
    fn settings_from_before_the_schedule_read_as_constant() {
        let old = r#"{"model":"FcAutoencoder","epochs":3,"learning_rate":0.001}"#;
        let settings: RunSettings = serde_json::from_str(old).expect("old settings read");
        assert_eq!(
            settings.learning_rate_schedule,
            LearningRateSchedule::Constant
        );
    }

    #[test]
    fn the_quick_demo_trains_every_model_compact_on_the_digits_asked_for() {
        for model in ModelKind::ALL {
            let demo = RunSettings::quick_demo(model, DataProtocol::OneClass { digit: 7 });
            assert_eq!(demo.model, model);
            assert_eq!(demo.scale, Scale::Compact);
            assert_eq!(demo.protocol, DataProtocol::OneClass { digit: 7 });
            assert!((1..=8).contains(&demo.epochs), "{model:?}: {}", demo.epochs);
            assert_eq!((demo.input_size, demo.channels), (28, 1));
        }
        // The default model trains on the whole split: the best AUC the minute allows.
        let conv = RunSettings::quick_demo(ModelKind::ConvAutoencoder, DataProtocol::Overlay);
        assert_eq!(
            (conv.epochs, conv.max_train, conv.max_test),
            (6, None, None)
        );
    }

    #[test]
    fn the_repair_recipes_weigh_the_kl_term_less_widen_the_aae_and_a_value_set_by_hand_wins() {
        let kl = |s: &RunSettings| s.hyperparameters.get("kl-weight").copied();
        for model in [ModelKind::FcVae, ModelKind::ConvVae] {
            let overlay = RunSettings::as_in_source(model, DataProtocol::Overlay);
            assert_eq!(kl(&overlay), Some(0.1), "{model:?}");
            assert_eq!(
                kl(&RunSettings::as_in_source(
                    model,
                    DataProtocol::OneClass { digit: 0 }
                )),
                None
            );
        }
        let ae = RunSettings::as_in_source(ModelKind::FcAutoencoder, DataProtocol::Overlay);
        assert!(ae.hyperparameters.is_empty());
        assert_eq!(ae.epochs, 200);
        let lstm = RunSettings::as_in_source(ModelKind::LstmAutoencoder, DataProtocol::Overlay);
        assert_eq!((lstm.epochs, lstm.learning_rate()), (60, 1e-2));
        // One class, the LSTM AE learns slower and longer: at 1e-2 it sat on a plateau.
        let lstm = RunSettings::as_in_source(
            ModelKind::LstmAutoencoder,
            DataProtocol::OneClass { digit: 0 },
        );
        assert_eq!((lstm.epochs, lstm.learning_rate()), (20, 3e-3));
        let latent = |s: &RunSettings| s.hyperparameters.get("latent").copied();
        let aae = RunSettings::as_in_source(ModelKind::Aae, DataProtocol::Overlay);
        assert_eq!(latent(&aae), Some(32.0));
        let one_class = DataProtocol::OneClass { digit: 0 };
        assert_eq!(
            latent(&RunSettings::as_in_source(ModelKind::Aae, one_class)),
            None
        );
        let set = recipe_hyperparameters(ModelKind::ConvVae, true, &[("kl-weight".into(), 0.5)]);
        assert_eq!(set.get("kl-weight"), Some(&0.5));
    }

    #[test]
    fn a_series_trains_the_lstm_autoencoder_at_its_recipe_whatever_the_model_asked() {
        for protocol in [DataProtocol::DemoSeries, DataProtocol::Series] {
            let quick = RunSettings::quick_demo(ModelKind::Ganomaly, protocol.clone());
            assert_eq!(
                quick,
                RunSettings::as_in_source(ModelKind::Aae, protocol.clone())
            );
            assert_eq!(quick.model, ModelKind::LstmAutoencoder);
            assert_eq!((quick.epochs, quick.batch_size, quick.seed), (30, 32, 3));
            assert_eq!(quick.hyperparameters.get("latent"), Some(&16.0));
            assert_eq!(quick.series, SeriesOptions::default());
            assert!(quick.protocol.is_series());
        }
        assert!(!DataProtocol::Images.is_series());
        assert!(!DataProtocol::Images.is_bundled_digits());
        assert!(!DataProtocol::DemoSeries.is_bundled_digits());
        assert!(DataProtocol::Unseen.is_bundled_digits());
        assert!(DataProtocol::OneClass { digit: 4 }.is_bundled_digits());
        // Settings written before series existed read with the default windows.
        let old: RunSettings = serde_json::from_str(r#"{"epochs": 3}"#).unwrap();
        assert_eq!((old.epochs, old.series), (3, SeriesOptions::default()));
    }

    #[test]
    fn as_in_the_source_is_the_reference_size_at_the_recipe() {
        let gan = RunSettings::as_in_source(ModelKind::Ganomaly, DataProtocol::Overlay);
        assert_eq!(
            (gan.scale, gan.epochs, gan.pseudo_anomalies),
            (Scale::Reference, 15, true)
        );
        assert_eq!((gan.max_train, gan.validation), (None, RECIPE_VALIDATION));
        let conv = RunSettings::as_in_source(
            ModelKind::ConvAutoencoder,
            DataProtocol::OneClass { digit: 4 },
        );
        assert_eq!((conv.epochs, conv.pseudo_anomalies), (10, false));
        assert_eq!(conv.protocol, DataProtocol::OneClass { digit: 4 });
    }

    #[test]
    fn pseudo_anomalies_on_the_overlay_protocol_are_the_sources_overlays() {
        let mut settings = RunSettings {
            protocol: DataProtocol::Overlay,
            ..RunSettings::default()
        };
        assert_eq!(settings.defect_kinds(), [Defect::Overlay]);
        settings.protocol = DataProtocol::OneClass { digit: 3 };
        assert_eq!(settings.defect_kinds(), Defect::ALL);
        settings.defects = vec![Defect::Scratch, Defect::Blob];
        assert_eq!(settings.defect_kinds(), [Defect::Scratch, Defect::Blob]);
    }
}
