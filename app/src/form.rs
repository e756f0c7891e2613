//! The training form as plain data: every field as the user typed it, the presets that
//! fill it, and the check that turns it into [`RunSettings`] or names each field that is
//! out of range (a refused form is never sent). Tested natively.

use std::collections::BTreeMap;

use kizu_model::data::Defect;
use kizu_model::zoo::Scale;

use crate::protocol::{
    DataProtocol, DataSize, Fit, LearningRateSchedule, ModelKind, RunSettings, SeriesOptions,
};

/// Most epochs the form accepts: a typo should not start an hour-long run.
pub const MAX_EPOCHS: usize = 200;
/// Most images per step.
pub const MAX_BATCH: usize = 512;
/// The learning rates the form accepts (huge ones are allowed: a run that diverges is
/// stopped and says so, which is worth seeing once).
pub const LEARNING_RATES: (f64, f64) = (1e-7, 1e6);
/// Largest share of the training images held out (validation, labelled anomalies).
pub const MAX_SHARE: f64 = 0.5;
/// Input sides the bundled digits can be resized to.
pub const DIGIT_SIDES: [usize; 3] = [28, 32, 64];
/// Window lengths a series run accepts (steps).
pub const WINDOW_LENGTHS: (usize, usize) = (4, 512);
/// Training shares of a series run: each part needs windows.
pub const TRAIN_FRACTIONS: (f64, f64) = (0.1, 0.9);

/// Which data the form trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataChoice {
    /// Digits, one held out.
    OneClass,
    /// Digits, overlaid ones are the anomalies.
    Overlay,
    /// Digits: training images against held-out ones.
    Unseen,
    /// The user's images.
    Images,
    /// The bundled demo sensor series.
    DemoSeries,
    /// The user's sensor series (a CSV file).
    Series,
}

impl DataChoice {
    /// Each choice with its form id and label.
    pub const ALL: [(Self, &'static str, &'static str); 6] = [
        (
            Self::OneClass,
            "one-class",
            "Digits: one digit is the anomaly",
        ),
        (
            Self::Overlay,
            "overlay",
            "Digits: overlaid digits are the anomaly",
        ),
        (
            Self::Unseen,
            "unseen",
            "Digits: seen vs unseen (training vs held-out error)",
        ),
        (Self::Images, "images", "Your images (loaded below)"),
        (
            Self::DemoSeries,
            "demo-series",
            "Sensor series: the demo (5 sensors, injected anomalies)",
        ),
        (
            Self::Series,
            "series",
            "Sensor series: your CSV (loaded below)",
        ),
    ];

    /// Whether the choice is a sensor series (the LSTM autoencoder on windows).
    pub fn is_series(self) -> bool {
        matches!(self, Self::DemoSeries | Self::Series)
    }
}

/// Every field of the form.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    /// The data.
    pub data: DataChoice,
    /// The held-out digit (one-class).
    pub digit: u8,
    /// The model.
    pub model: ModelKind,
    /// Its size.
    pub scale: Scale,
    /// How many bundled digits.
    pub size: DataSize,
    /// Side the digits are resized to.
    pub input_size: usize,
    /// 1 (gray) or 3 (the digits copied to RGB).
    pub channels: usize,
    /// Passes over the training images, as typed.
    pub epochs: String,
    /// Images per step, as typed.
    pub batch_size: String,
    /// Adam's learning rate, as typed; empty: the model's own.
    pub learning_rate: String,
    /// How the learning rate moves over the run.
    pub learning_rate_schedule: LearningRateSchedule,
    /// The seed, as typed.
    pub seed: String,
    /// Inputs standardised per channel.
    pub standardise: bool,
    /// Pseudo-anomaly training (source 000).
    pub pseudo_anomalies: bool,
    /// The defect kinds it draws (none ticked: the protocol's default).
    pub defects: Vec<Defect>,
    /// Share of training images given as labelled anomalies (the AAE), as typed.
    pub labelled_anomalies: String,
    /// Share held out to choose the epoch, as typed.
    pub validation: String,
    /// The model's own hyperparameters as typed, by id; empty or missing: the default.
    pub hyperparameters: BTreeMap<String, String>,
    /// A series' window length in steps, as typed.
    pub window: String,
    /// Steps between a series' windows, as typed.
    pub stride: String,
    /// The share of a series that trains, as typed.
    pub train_fraction: String,
}

/// A field the form refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's id (its `data-testid`).
    pub field: &'static str,
    /// What is wrong, for the user.
    pub message: String,
}

impl Form {
    /// The form filled with `settings` (a preset, or a run to do again).
    pub fn from_settings(settings: &RunSettings) -> Self {
        let (data, digit) = match settings.protocol {
            DataProtocol::OneClass { digit } => (DataChoice::OneClass, digit),
            DataProtocol::Overlay => (DataChoice::Overlay, 0),
            DataProtocol::Unseen => (DataChoice::Unseen, 0),
            DataProtocol::Images => (DataChoice::Images, 0),
            DataProtocol::DemoSeries => (DataChoice::DemoSeries, 0),
            DataProtocol::Series => (DataChoice::Series, 0),
        };
        Self {
            data,
            digit,
            model: settings.model,
            scale: settings.scale,
            size: DataSize::of_limits(settings.max_train, settings.max_test),
            input_size: settings.input_size,
            channels: settings.channels,
            epochs: settings.epochs.to_string(),
            batch_size: settings.batch_size.to_string(),
            learning_rate: settings
                .learning_rate
                .map(|r| r.to_string())
                .unwrap_or_default(),
            learning_rate_schedule: settings.learning_rate_schedule,
            seed: settings.seed.to_string(),
            standardise: settings.standardise,
            pseudo_anomalies: settings.pseudo_anomalies,
            defects: settings.defects.clone(),
            labelled_anomalies: settings.labelled_anomalies.to_string(),
            validation: settings.validation.to_string(),
            hyperparameters: settings
                .hyperparameters
                .iter()
                .map(|(id, v)| (id.clone(), v.to_string()))
                .collect(),
            window: settings.series.length.to_string(),
            stride: settings.series.stride.to_string(),
            train_fraction: settings.series.train_fraction.to_string(),
        }
    }

    /// The data protocol the form names.
    pub fn protocol(&self) -> DataProtocol {
        match self.data {
            DataChoice::OneClass => DataProtocol::OneClass { digit: self.digit },
            DataChoice::Overlay => DataProtocol::Overlay,
            DataChoice::Unseen => DataProtocol::Unseen,
            DataChoice::Images => DataProtocol::Images,
            DataChoice::DemoSeries => DataProtocol::DemoSeries,
            DataChoice::Series => DataProtocol::Series,
        }
    }

    /// The "quick demo" preset of the form's model on its data.
    pub fn quick_demo(&self) -> Self {
        self.preset(RunSettings::quick_demo(self.model, self.protocol()))
    }

    /// The "as in the source" preset of the form's model on its data.
    pub fn as_in_source(&self) -> Self {
        self.preset(RunSettings::as_in_source(self.model, self.protocol()))
    }

    /// `settings` in the form, keeping the data the user chose (their images' shape).
    fn preset(&self, settings: RunSettings) -> Self {
        let mut form = Self::from_settings(&settings);
        if self.data == DataChoice::Images {
            form.data = DataChoice::Images;
        }
        form
    }

    /// The run the form describes, or every field that is out of range. `images` is the
    /// shape and fit the user's images were loaded at (for [`DataChoice::Images`]).
    pub fn settings(
        &self,
        images: Option<((usize, usize), Fit)>,
    ) -> Result<RunSettings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut refuse = |field, message: String| errors.push(FieldError { field, message });
        let epochs = whole(&self.epochs, 1, MAX_EPOCHS).unwrap_or_else(|m| {
            refuse("epochs", format!("epochs {m}"));
            1
        });
        let batch_size = whole(&self.batch_size, 1, MAX_BATCH).unwrap_or_else(|m| {
            refuse("batch-size", format!("batch {m}"));
            1
        });
        let seed = self.seed.trim().parse::<u64>().unwrap_or_else(|_| {
            refuse(
                "seed",
                format!(
                    "the seed must be a whole number from 0, not “{}”",
                    self.seed
                ),
            );
            0
        });
        let learning_rate = if self.learning_rate.trim().is_empty() {
            None
        } else {
            let (lo, hi) = LEARNING_RATES;
            match number(&self.learning_rate, lo, hi) {
                Ok(r) => Some(r),
                Err(m) => {
                    refuse("learning-rate", format!("learning rate {m}"));
                    None
                }
            }
        };
        let share = |text: &str,
                     field: &'static str,
                     name: &str,
                     refuse: &mut dyn FnMut(&'static str, String)| {
            number(text, 0.0, MAX_SHARE).unwrap_or_else(|m| {
                refuse(field, format!("{name} {m}"));
                0.0
            })
        };
        let validation = share(
            &self.validation,
            "validation",
            "validation share",
            &mut refuse,
        );
        if self.data == DataChoice::Unseen && validation > 0.0 {
            refuse(
                "validation",
                "seen vs unseen tests on the training images: hold none out (0)".into(),
            );
        }
        let labelled_anomalies = if self.model == ModelKind::Aae {
            share(
                &self.labelled_anomalies,
                "labelled-anomalies",
                "labelled anomalies",
                &mut refuse,
            )
        } else {
            0.0
        };
        let series = self.series_windows(&mut refuse);
        if self.data.is_series() && self.model != ModelKind::LstmAutoencoder {
            refuse(
                "model",
                "a sensor series trains the LSTM autoencoder (the model that reads sequences)"
                    .into(),
            );
        }
        let digits = !self.data.is_series() && self.data != DataChoice::Images;
        if digits && !DIGIT_SIDES.contains(&self.input_size) {
            refuse(
                "input-size",
                format!("the digits can be {DIGIT_SIDES:?} pixels wide"),
            );
        }
        // Only the chosen model's own; the fields of another model it had are ignored.
        let mut hyperparameters = BTreeMap::new();
        for h in self.model.hyperparameters() {
            let text = self.hyperparameters.get(h.id).map_or("", |t| t.trim());
            if text.is_empty() {
                continue;
            }
            let checked = text
                .parse::<f64>()
                .map_err(|_| format!("{} must be a number, not “{text}”", h.label))
                .and_then(|v| h.check(v));
            match checked {
                Ok(v) => {
                    hyperparameters.insert(h.id.to_owned(), v);
                }
                Err(m) => refuse(hyperparameter_field(h.id), m),
            }
        }
        if !matches!(self.channels, 1 | 3) {
            refuse("channels", "channels must be 1 (gray) or 3 (RGB)".into());
        }
        let ((input_size, channels), fit) = match (self.data, images) {
            (DataChoice::Images, Some(shape)) => shape,
            (DataChoice::Images, None) => {
                refuse("data", "load your images below first".into());
                ((self.input_size, self.channels), Fit::Resize)
            }
            _ => ((self.input_size, self.channels), Fit::Resize),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let (max_train, max_test) = if digits {
            self.size.limits()
        } else {
            (None, None)
        };
        Ok(RunSettings {
            model: self.model,
            scale: self.scale,
            protocol: self.protocol(),
            epochs,
            batch_size,
            learning_rate,
            learning_rate_schedule: self.learning_rate_schedule,
            seed,
            input_size,
            channels,
            fit,
            standardise: self.standardise,
            pseudo_anomalies: self.pseudo_anomalies,
            defects: if self.pseudo_anomalies {
                self.defects.clone()
            } else {
                Vec::new()
            },
            labelled_anomalies,
            max_train,
            max_test,
            validation,
            hyperparameters,
            series,
        })
    }

    /// The series windows the form names (checked only when the data is a series: the
    /// fields are hidden otherwise).
    fn series_windows(&self, refuse: &mut dyn FnMut(&'static str, String)) -> SeriesOptions {
        let default = SeriesOptions::default();
        if !self.data.is_series() {
            return default;
        }
        let (lo, hi) = WINDOW_LENGTHS;
        let length = whole(&self.window, lo, hi).unwrap_or_else(|m| {
            refuse("window", format!("window {m}"));
            default.length
        });
        // A stride past the window would leave steps no window scores.
        let stride = whole(&self.stride, 1, length).unwrap_or_else(|m| {
            refuse("stride", format!("stride {m} (at most the window)"));
            default.stride
        });
        let (lo, hi) = TRAIN_FRACTIONS;
        let train_fraction = number(&self.train_fraction, lo, hi).unwrap_or_else(|m| {
            refuse("train-fraction", format!("training share {m}"));
            default.train_fraction
        });
        SeriesOptions {
            length,
            stride,
            train_fraction,
            ..default
        }
    }
}

/// The form field (and `data-testid`) of the hyperparameter `id`.
pub fn hyperparameter_field(id: &str) -> &'static str {
    // A table, as field names are 'static (a test checks it covers every model's ids).
    match id {
        "latent" => "hp-latent",
        "features" => "hp-features",
        "kl-weight" => "hp-kl-weight",
        "score-weight" => "hp-score-weight",
        "discriminator-hidden" => "hp-discriminator-hidden",
        "search-steps" => "hp-search-steps",
        "feature-weight" => "hp-feature-weight",
        "hidden" => "hp-hidden",
        "layers" => "hp-layers",
        "w-adv" => "hp-w-adv",
        "w-con" => "hp-w-con",
        "w-enc" => "hp-w-enc",
        "w-lat" => "hp-w-lat",
        "w-rim" => "hp-w-rim",
        _ => "hp-unknown",
    }
}

/// A whole number in `lo..=hi`, or what is wrong with `text`.
fn whole(text: &str, lo: usize, hi: usize) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        Ok(_) => Err(format!("must be from {lo} to {hi}")),
        Err(_) => Err(format!("must be a whole number, not “{text}”")),
    }
}

/// A finite number in `lo..=hi`, or what is wrong with `text`.
fn number(text: &str, lo: f64, hi: f64) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Ok(v),
        Ok(_) => Err(format!("must be from {lo} to {hi}")),
        Err(_) => Err(format!("must be a number, not “{text}”")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Form {
        Form::from_settings(&RunSettings::quick_demo(
            ModelKind::ConvAutoencoder,
            DataProtocol::OneClass { digit: 0 },
        ))
    }

    #[test]
    fn a_preset_goes_through_the_form_unchanged() {
        for model in ModelKind::ALL {
            for protocol in [DataProtocol::OneClass { digit: 7 }, DataProtocol::Overlay] {
                for preset in [
                    RunSettings::quick_demo(model, protocol.clone()),
                    RunSettings::as_in_source(model, protocol.clone()),
                ] {
                    assert_eq!(Form::from_settings(&preset).settings(None), Ok(preset));
                }
            }
        }
    }

    #[test]
    fn every_option_reaches_the_settings() {
        let mut form = demo();
        form.model = ModelKind::Aae;
        form.scale = Scale::Reference;
        form.data = DataChoice::Overlay;
        form.input_size = 32;
        form.channels = 3;
        form.epochs = "12".into();
        form.batch_size = "16".into();
        form.learning_rate = "0.0005".into();
        form.seed = "7".into();
        form.standardise = true;
        form.pseudo_anomalies = true;
        form.defects = vec![Defect::Scratch];
        form.labelled_anomalies = "0.05".into();
        form.validation = "0.2".into();
        form.size = DataSize::Standard;
        let s = form.settings(None).unwrap();
        assert_eq!(
            (s.model, s.scale, s.protocol),
            (ModelKind::Aae, Scale::Reference, DataProtocol::Overlay)
        );
        assert_eq!(
            (s.input_size, s.channels, s.epochs, s.batch_size, s.seed),
            (32, 3, 12, 16, 7)
        );
        assert_eq!(s.learning_rate, Some(0.0005));
        assert!(s.standardise && s.pseudo_anomalies);
        assert_eq!(s.defects, [Defect::Scratch]);
        assert_eq!((s.labelled_anomalies, s.validation), (0.05, 0.2));
        assert_eq!((s.max_train, s.max_test), DataSize::Standard.limits());
        // Labelled anomalies are the AAE's alone; defects only with pseudo-anomalies.
        form.model = ModelKind::Ganomaly;
        form.pseudo_anomalies = false;
        let s = form.settings(None).unwrap();
        assert_eq!(s.labelled_anomalies, 0.0);
        assert!(s.defects.is_empty());
    }

    #[test]
    fn out_of_range_fields_are_each_refused_by_name() {
        let mut form = demo();
        form.epochs = "0".into();
        form.batch_size = "many".into();
        form.learning_rate = "1e9".into();
        form.seed = "-1".into();
        form.validation = "0.9".into();
        form.input_size = 100;
        let errors = form.settings(None).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "epochs",
                "batch-size",
                "seed",
                "learning-rate",
                "validation",
                "input-size"
            ]
        );
        assert_eq!(errors[0].message, "epochs must be from 1 to 200");
        assert!(errors[1].message.contains("not “many”"));
        assert!(errors[3].message.contains("from 0.0000001 to 1000000"));
        // An empty learning rate is the model's own.
        let mut form = demo();
        form.learning_rate = " ".into();
        assert_eq!(form.settings(None).unwrap().learning_rate, None);
    }

    #[test]
    fn a_models_hyperparameters_are_checked_against_its_ranges_and_others_ignored() {
        let mut form = demo();
        form.model = ModelKind::Ganomaly;
        form.hyperparameters.insert("latent".into(), "32".into());
        form.hyperparameters.insert("features".into(), " ".into());
        // The conv AE's field left over from before: not GANomaly's, ignored.
        form.hyperparameters.insert("layers".into(), "9".into());
        let s = form.settings(None).unwrap();
        assert_eq!(
            s.hyperparameters.into_iter().collect::<Vec<_>>(),
            [("latent".to_owned(), 32.0)]
        );
        form.hyperparameters.insert("latent".into(), "1000".into());
        form.hyperparameters
            .insert("features".into(), "wide".into());
        let errors = form.settings(None).unwrap_err();
        assert_eq!(errors[0].field, "hp-latent");
        assert_eq!(errors[0].message, "latent size must be from 2 to 512");
        assert_eq!(errors[1].field, "hp-features");
        assert!(errors[1].message.contains("not “wide”"));
        // Every model's every id has its own field.
        for kind in ModelKind::ALL {
            for h in kind.hyperparameters() {
                assert_eq!(hyperparameter_field(h.id), format!("hp-{}", h.id));
            }
        }
    }

    #[test]
    fn a_series_trains_the_lstm_autoencoder_on_checked_windows() {
        let mut form = demo();
        form.data = DataChoice::DemoSeries;
        assert_eq!(form.settings(None).unwrap_err()[0].field, "model");
        let mut form = form.quick_demo();
        assert_eq!(form.data, DataChoice::DemoSeries);
        assert_eq!(
            form.settings(None),
            Ok(RunSettings::series_recipe(DataProtocol::DemoSeries))
        );
        form.window = "48".into();
        form.stride = "8".into();
        form.train_fraction = "0.6".into();
        let s = form.settings(None).unwrap();
        assert_eq!(
            (s.series.length, s.series.stride, s.series.train_fraction),
            (48, 8, 0.6)
        );
        assert_eq!((s.max_train, s.max_test), (None, None));
        form.window = "2".into();
        form.stride = "0".into();
        form.train_fraction = "1".into();
        let fields: Vec<&str> = form
            .settings(None)
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["window", "stride", "train-fraction"]);
        // A stride longer than the window is refused.
        form.window = "16".into();
        form.stride = "17".into();
        form.train_fraction = "0.5".into();
        let errors = form.settings(None).unwrap_err();
        assert_eq!(errors[0].field, "stride");
        assert!(
            errors[0].message.contains("from 1 to 16"),
            "{}",
            errors[0].message
        );
        // Your series keeps its data choice through a preset.
        form.data = DataChoice::Series;
        assert_eq!(form.as_in_source().data, DataChoice::Series);
    }

    #[test]
    fn seen_vs_unseen_holds_no_validation_share_out() {
        let mut form = demo();
        form.data = DataChoice::Unseen;
        assert_eq!(form.settings(None).unwrap().protocol, DataProtocol::Unseen);
        form.validation = "0.1".into();
        assert_eq!(form.settings(None).unwrap_err()[0].field, "validation");
        assert_eq!(form.as_in_source().settings(None).unwrap().validation, 0.0);
    }

    #[test]
    fn your_images_need_loading_first_and_then_train_at_their_shape() {
        let mut form = demo();
        form.data = DataChoice::Images;
        assert_eq!(form.settings(None).unwrap_err()[0].field, "data");
        let s = form.settings(Some(((64, 3), Fit::CentreCrop))).unwrap();
        assert_eq!((s.input_size, s.channels, s.fit), (64, 3, Fit::CentreCrop));
        assert_eq!((s.protocol, s.max_train), (DataProtocol::Images, None));
        // A preset keeps the user's images as the data.
        assert_eq!(form.as_in_source().data, DataChoice::Images);
        assert_eq!(form.quick_demo().data, DataChoice::Images);
    }
}
