//! Step-wise training of the convolutional autoencoder: one call, one Adam step.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;

use super::{ConvAutoencoder, ConvAutoencoderConfig};
use crate::data::Images;
use crate::score::{read_scalar, ReadError};
use crate::train::{BatchSchedule, StepReport, Trainer, TrainingConfig};

/// Trains a [`ConvAutoencoder`] on normal images, one optimiser step per
/// [`Trainer::step`]; [`Trainer::into_model`] keeps what was learned so far.
pub struct ConvAeTrainer {
    model: Option<ConvAutoencoder>,
    optimizer: ModuleOptimizer,
    schedule: BatchSchedule,
    images: Images,
    learning_rate: f64,
    device: Device,
}

impl ConvAeTrainer {
    /// Starts a run on `images`; `device` is any Burn device (autodiff is enabled here).
    pub fn new(
        model: &ConvAutoencoderConfig,
        training: &TrainingConfig,
        images: Images,
        device: &Device,
    ) -> Self {
        let device = device.clone().autodiff();
        device.seed(training.seed);
        Self {
            model: Some(model.init(&device)),
            optimizer: AdamConfig::new().init(),
            schedule: BatchSchedule::new(images.len(), training),
            images,
            learning_rate: training.learning_rate,
            device,
        }
    }
}

impl Trainer for ConvAeTrainer {
    type Model = ConvAutoencoder;

    fn total_steps(&self) -> usize {
        self.schedule.total_steps()
    }

    /// One Adam step on the next batch; the loss is `MSE(x, x^)` before the update.
    async fn step(&mut self) -> Result<Option<StepReport>, ReadError> {
        let Some((indices, progress)) = self.schedule.next_batch() else {
            return Ok(None);
        };
        let Some(model) = self.model.take() else {
            return Ok(None);
        };
        let batch = self.images.select(&indices);
        let x = batch.tensor(0, batch.len(), &self.device); // [b, c, 28, 28]
        let (reconstruction, _) = model.forward(x.clone());
        let loss = (reconstruction - x).square().mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optimizer.step(self.learning_rate, model, grads));
        let loss = read_scalar(loss.detach()).await?;
        Ok(Some(StepReport {
            progress,
            images: indices.len(),
            losses: vec![("reconstruction", loss)],
        }))
    }

    fn into_model(self) -> Option<ConvAutoencoder> {
        self.model.map(|m| m.valid())
    }
}
