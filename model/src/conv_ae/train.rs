//! Step-wise training of the convolutional autoencoder: one call, one Adam step.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};

use super::{ConvAutoencoder, ConvAutoencoderConfig};
use crate::data::Images;
use crate::train::{BatchSchedule, Progress, TrainingConfig};

/// Trains a [`ConvAutoencoder`] on normal images, one optimiser step per [`Self::step`].
///
/// The caller drives the loop, so a UI can show progress between steps and stop at any
/// step; [`Self::into_model`] keeps what was learned so far.
pub struct ConvAeTrainer {
    model: Option<ConvAutoencoder>,
    optimizer: ModuleOptimizer,
    schedule: BatchSchedule,
    images: Images,
    learning_rate: f64,
    device: Device,
}

/// The outcome of one step: where the run is and the step's loss.
#[derive(Debug)]
pub struct Step {
    /// Progress after this step.
    pub progress: Progress,
    /// Images in this step's batch.
    pub images: usize,
    /// Reconstruction loss `MSE(x, x^)` of the batch, before the update (`[1]`, not yet read).
    pub loss: Tensor<1>,
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

    /// Steps the whole run takes.
    pub fn total_steps(&self) -> usize {
        self.schedule.total_steps()
    }

    /// Takes one Adam step on the next batch; `None` once every epoch is done.
    pub fn step(&mut self) -> Option<Step> {
        let (indices, progress) = self.schedule.next_batch()?;
        let model = self.model.take()?;
        let batch = self.images.select(&indices);
        let x = batch.tensor(0, batch.len(), &self.device); // [b, c, 28, 28]
        let (reconstruction, _) = model.forward(x.clone());
        let loss = (reconstruction - x).square().mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optimizer.step(self.learning_rate, model, grads));
        Some(Step {
            progress,
            images: indices.len(),
            loss: loss.detach(),
        })
    }

    /// The model as trained so far, in inference mode (no autodiff, running batch-norm stats).
    pub fn into_model(self) -> Option<ConvAutoencoder> {
        self.model.map(|m| m.valid())
    }
}
