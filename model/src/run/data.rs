//! A run's data: the bundled digits' split its settings name, or the user's images.

use super::RunError;
use crate::data::{Images, Mnist, OneClassSplit, OverlaySplit, Protocol, UnseenSplit};
use crate::settings::{DataProtocol, RunSettings};

/// A run's data: its split and, for the models that use some, labelled anomalies.
pub struct RunData {
    /// Training and test images.
    pub split: Box<dyn Protocol>,
    /// Labelled anomalies for training (the AAE's; empty for every other run).
    pub labelled: Images,
    /// Side the images were resized to, before any padding to the model's input.
    pub image_size: usize,
}

impl RunData {
    /// The bundled MNIST split the settings name (resized and converted to their input
    /// size and channels; labelled anomalies taken out of the test set, so no image is
    /// both trained on and tested).
    pub fn mnist(settings: &RunSettings, mnist: &Mnist) -> Result<Self, RunError> {
        let side = settings.input_size;
        let at_size = |images: &Images| -> Result<Images, RunError> {
            Ok(images.resized(side, side)?.to_channels(settings.channels)?)
        };
        let (max_train, max_test) = (
            settings.max_train.unwrap_or(usize::MAX),
            settings.max_test.unwrap_or(usize::MAX),
        );
        let no_labelled = || Images::new(Vec::new(), 0, settings.channels, side, side);
        // Overlays and the seen-vs-unseen pairs are made at the model's size; a one-class
        // split only picks images, so it resizes just the ones it keeps (a shipped model
        // opens on 1,000 of the 10,000).
        let resized = || -> Result<Mnist, RunError> {
            Ok(Mnist {
                images: at_size(&mnist.images)?,
                labels: mnist.labels.clone(),
            })
        };
        let digit = match settings.protocol {
            DataProtocol::OneClass { digit } => digit,
            DataProtocol::Overlay => {
                let mnist = resized()?;
                let split =
                    OverlaySplit::new(&mnist, settings.seed)?.truncated(max_train, max_test);
                return Ok(Self {
                    split: Box::new(split),
                    labelled: no_labelled()?,
                    image_size: side,
                });
            }
            DataProtocol::Unseen => {
                let mnist = resized()?;
                let split = UnseenSplit::new(&mnist, settings.seed)?.truncated(max_train, max_test);
                return Ok(Self {
                    split: Box::new(split),
                    labelled: no_labelled()?,
                    image_size: side,
                });
            }
            DataProtocol::Images | DataProtocol::DemoSeries | DataProtocol::Series => {
                return Err(RunError::Setting(format!(
                    "the bundled digits make a one-class, overlay or seen-vs-unseen run, not \
                     one on {}",
                    settings.protocol.label()
                )))
            }
        };
        let mut split = OneClassSplit::new(mnist, digit, settings.seed)?;
        let wanted = (split.train.len().min(max_train) as f64 * settings.labelled_anomalies).round()
            as usize;
        let anomalous: Vec<usize> = (0..split.test.len())
            .filter(|&i| split.test_is_anomaly[i])
            .take(wanted)
            .collect();
        let labelled = split.test.select(&anomalous);
        let keep: Vec<usize> = (0..split.test.len())
            .filter(|i| !anomalous.contains(i))
            .collect();
        split.test = split.test.select(&keep);
        split.test_digits = keep.iter().map(|&i| split.test_digits[i]).collect();
        split.test_is_anomaly = keep.iter().map(|&i| split.test_is_anomaly[i]).collect();
        let mut split = split.truncated(max_train, max_test);
        split.train = at_size(&split.train)?;
        split.test = at_size(&split.test)?;
        Ok(Self {
            split: Box::new(split),
            labelled: at_size(&labelled)?,
            image_size: side,
        })
    }

    /// A split of the user's own images, already at the settings' size and channels.
    pub fn images(
        settings: &RunSettings,
        split: impl Protocol + 'static,
    ) -> Result<Self, RunError> {
        let [channels, side, _] = split.train().image_shape();
        if channels != settings.channels || side != settings.input_size {
            return Err(RunError::Setting(format!(
                "the images are {side}x{side}x{channels}, the run expects {0}x{0}x{1}",
                settings.input_size, settings.channels
            )));
        }
        Ok(Self {
            split: Box::new(split),
            labelled: Images::new(Vec::new(), 0, channels, side, side)?,
            image_size: side,
        })
    }
}
