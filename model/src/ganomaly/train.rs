//! Step-wise adversarial training: one call, one generator and one discriminator step.

use burn::config::Config;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Device;

use super::model::{to_model_range, Discriminator, Ganomaly, GanomalyConfig};
use crate::combined;
use crate::data::Images;
use crate::gan;
use crate::readback::{copy_some, ReadbackError};
use crate::score::{read_scalar, ReadError};
use crate::train::{BatchSchedule, BatchSource, Progress, StepReport, Trainer, TrainingConfig};

/// GANomaly's training settings (defaults from the reference code).
#[derive(Config, Debug, PartialEq)]
pub struct GanomalyTrainingConfig {
    /// Epochs, batch size, learning rate (the reference uses 2e-4) and seed.
    pub training: TrainingConfig,
    /// Weight of the adversarial (feature-matching) loss.
    #[config(default = 1.0)]
    pub w_adv: f32,
    /// Weight of the contextual (L1 reconstruction) loss.
    #[config(default = 50.0)]
    pub w_con: f32,
    /// Weight of the encoder (latent) loss.
    #[config(default = 1.0)]
    pub w_enc: f32,
    /// Adam's beta 1.
    #[config(default = 0.5)]
    pub beta_1: f32,
    /// Adam's beta 2.
    #[config(default = 0.999)]
    pub beta_2: f32,
}

/// The loss terms of one step, read back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GanomalyLosses {
    /// Weighted generator loss.
    pub generator: f32,
    /// `MSE(f(x), f(x^))` on discriminator features.
    pub adversarial: f32,
    /// `L1(x, x^)`.
    pub contextual: f32,
    /// `MSE(z, z^)`.
    pub encoder: f32,
    /// Discriminator BCE, before its re-initialisation if it collapsed.
    pub discriminator: f32,
}

/// The outcome of one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GanomalyStep {
    /// Progress after this step.
    pub progress: Progress,
    /// Images in this step's batch.
    pub images: usize,
    /// The step's losses.
    pub losses: GanomalyLosses,
    /// Whether the discriminator collapsed and was re-initialised.
    pub discriminator_reset: bool,
}

/// Trains GANomaly on normal images, one generator and one discriminator step per call.
#[derive(Clone)]
pub struct GanomalyTrainer {
    generator: Option<Ganomaly>,
    discriminator: Option<Discriminator>,
    generator_optimizer: ModuleOptimizer,
    discriminator_optimizer: ModuleOptimizer,
    model: GanomalyConfig,
    config: GanomalyTrainingConfig,
    schedule: BatchSchedule,
    source: BatchSource,
    device: Device,
}

impl GanomalyTrainer {
    /// The generator and discriminator as trained so far, in inference mode (AnoGAN's
    /// latent search needs both).
    pub fn into_parts(self) -> Option<(Ganomaly, Discriminator)> {
        self.into_parts_and_source().0
    }

    /// [`Self::into_parts`], with the training images and the device without autodiff
    /// (to fit a score on them).
    pub(crate) fn into_parts_and_source(
        self,
    ) -> (Option<(Ganomaly, Discriminator)>, BatchSource, Device) {
        let parts = self
            .generator
            .zip(self.discriminator)
            .map(|(generator, discriminator)| (generator.valid(), discriminator.valid()));
        (parts, self.source, self.device.without_autodiff())
    }

    /// Starts a run; images are padded to the networks' side if smaller.
    pub fn new(
        model: &GanomalyConfig,
        config: &GanomalyTrainingConfig,
        images: &Images,
        device: &Device,
    ) -> Self {
        let device = device.clone().autodiff();
        device.seed(config.training.seed);
        Self {
            generator: Some(model.init(&device)),
            discriminator: Some(model.init_discriminator(&device)),
            generator_optimizer: adam(config),
            discriminator_optimizer: adam(config),
            model: model.clone(),
            config: config.clone(),
            schedule: BatchSchedule::new(images.len(), &config.training),
            source: BatchSource::new(images, model.built_size(), &config.training),
            device,
        }
    }

    /// One generator and one discriminator step on the next batch; `Ok(None)` when done.
    ///
    /// Async because the discriminator's loss is read back to detect its collapse
    /// (the only readback WebGPU allows in a browser).
    pub async fn adversarial_step(&mut self) -> Result<Option<GanomalyStep>, ReadError> {
        let Some((indices, progress)) = self.schedule.next_batch() else {
            return Ok(None);
        };
        let (input, target) = self.source.batch(&indices, &self.device)?;
        let (Some(generator), Some(discriminator)) =
            (self.generator.take(), self.discriminator.take())
        else {
            return Ok(None);
        };
        // The generator sees the input (with pseudo-anomalies, if any) and should give back
        // the clean target; the discriminator learns that clean images are real.
        let input = to_model_range(input); // [b, c, s, s]
        let x = to_model_range(target); // [b, c, s, s]
        let c = &self.config;
        let lr = c.training.rate().at(progress);

        // Generator: fool the discriminator's features, reconstruct, keep the latent.
        let out = generator.generate(input);
        let (_, real_features) = discriminator.forward(x.clone());
        let (_, fake_features) = discriminator.forward(out.generated.clone());
        let adversarial = (real_features - fake_features).square().mean();
        let contextual = (x.clone() - out.generated.clone()).abs().mean();
        let encoder = (out.latent - out.latent_of_generated).square().mean();
        let generator_loss = adversarial.clone().mul_scalar(c.w_adv)
            + contextual.clone().mul_scalar(c.w_con)
            + encoder.clone().mul_scalar(c.w_enc);
        let grads = GradientsParams::from_grads(generator_loss.backward(), &generator);
        let generator = self.generator_optimizer.step(lr, generator, grads);

        // Discriminator: real images are 1, generated ones 0.
        let (p_real, _) = discriminator.forward(x);
        let (p_fake, _) = discriminator.forward(out.generated.detach());
        let discriminator_loss = gan::discriminator_loss(p_real, p_fake);
        let grads = GradientsParams::from_grads(discriminator_loss.backward(), &discriminator);
        let mut discriminator = self.discriminator_optimizer.step(lr, discriminator, grads);

        let losses = GanomalyLosses {
            generator: read_scalar(generator_loss.detach()).await?,
            adversarial: read_scalar(adversarial.detach()).await?,
            contextual: read_scalar(contextual.detach()).await?,
            encoder: read_scalar(encoder.detach()).await?,
            discriminator: read_scalar(discriminator_loss.detach()).await?,
        };
        let discriminator_reset = losses.discriminator < gan::COLLAPSED_DISCRIMINATOR_LOSS;
        if discriminator_reset {
            discriminator = self.model.init_discriminator(&self.device);
            self.discriminator_optimizer = adam(&self.config);
        }
        self.generator = Some(generator);
        self.discriminator = Some(discriminator);
        Ok(Some(GanomalyStep {
            progress,
            images: indices.len(),
            losses,
            discriminator_reset,
        }))
    }
}

impl Trainer for GanomalyTrainer {
    type Model = Ganomaly;

    fn total_steps(&self) -> usize {
        self.schedule.total_steps()
    }

    async fn step(&mut self) -> Result<Option<StepReport>, ReadError> {
        Ok(self.adversarial_step().await?.map(|s| StepReport {
            progress: s.progress,
            images: s.images,
            losses: vec![
                ("generator", s.losses.generator),
                ("discriminator", s.losses.discriminator),
                ("adversarial", s.losses.adversarial),
                ("contextual", s.losses.contextual),
                ("encoder", s.losses.encoder),
            ],
        }))
    }

    /// The generator as trained so far, in inference mode.
    fn into_model(self) -> Option<Ganomaly> {
        self.generator.map(|g| g.valid())
    }

    async fn copy_to(&self, device: &Device) -> Result<Self, ReadbackError> {
        let device = device.clone().autodiff();
        Ok(Self {
            generator: copy_some(self.generator.as_ref(), |d| self.model.init(d), &device).await?,
            discriminator: copy_some(
                self.discriminator.as_ref(),
                |d| self.model.init_discriminator(d),
                &device,
            )
            .await?,
            generator_optimizer: adam(&self.config),
            discriminator_optimizer: adam(&self.config),
            model: self.model.clone(),
            config: self.config.clone(),
            schedule: self.schedule.clone(),
            source: self.source.clone(),
            device,
        })
    }

    /// The generator with its neighbour score fitted on the training images, where it is
    /// judged by one.
    async fn finish(self) -> Result<Option<Ganomaly>, ReadError> {
        let device = self.device.clone().without_autodiff();
        match self.generator.map(|g| g.valid()) {
            Some(model) => Ok(Some(
                combined::fit_model(model, &self.source, &device).await?,
            )),
            None => Ok(None),
        }
    }
}

fn adam(config: &GanomalyTrainingConfig) -> ModuleOptimizer {
    gan::adam(config.beta_1, config.beta_2)
}
