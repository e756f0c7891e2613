//! Step-wise adversarial training: one call, one generator and one discriminator step.

use burn::config::Config;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Device;

use super::model::{SkipGanomaly, SkipGanomalyConfig, UNet};
use crate::combined;
use crate::data::Images;
use crate::gan;
use crate::ganomaly::{to_model_range, Discriminator};
use crate::readback::{copy_some, ReadbackError};
use crate::score::{read_scalar, ReadError};
use crate::train::{BatchSchedule, BatchSource, StepReport, Trainer, TrainingConfig};

/// Skip-GANomaly's training settings (loss weights from the Skip-GANomaly paper).
#[derive(Config, Debug, PartialEq)]
pub struct SkipGanomalyTrainingConfig {
    /// Epochs, batch size, learning rate (2e-4 in the reference) and seed.
    pub training: TrainingConfig,
    /// Weight of the adversarial loss `BCE(D(x^), 1)` (eq. 7).
    #[config(default = 1.0)]
    pub w_adv: f32,
    /// Weight of the contextual loss `L1(x, x^)` (eq. 5).
    #[config(default = 40.0)]
    pub w_con: f32,
    /// Weight of the latent loss `MSE(f(x), f(x^))` on discriminator features (eq. 6).
    #[config(default = 1.0)]
    pub w_lat: f32,
    /// Adam's beta 1.
    #[config(default = 0.5)]
    pub beta_1: f32,
    /// Adam's beta 2.
    #[config(default = 0.999)]
    pub beta_2: f32,
}

/// Trains Skip-GANomaly on normal images, one generator and one discriminator step per call.
#[derive(Clone)]
pub struct SkipGanomalyTrainer {
    generator: Option<UNet>,
    discriminator: Option<Discriminator>,
    generator_optimizer: ModuleOptimizer,
    discriminator_optimizer: ModuleOptimizer,
    model: SkipGanomalyConfig,
    config: SkipGanomalyTrainingConfig,
    schedule: BatchSchedule,
    source: BatchSource,
    device: Device,
}

impl SkipGanomalyTrainer {
    /// Starts a run; images are padded to the networks' side if smaller.
    pub fn new(
        model: &SkipGanomalyConfig,
        config: &SkipGanomalyTrainingConfig,
        images: &Images,
        device: &Device,
    ) -> Self {
        let device = device.clone().autodiff();
        device.seed(config.training.seed);
        Self {
            generator: Some(model.init_generator(&device)),
            discriminator: Some(model.init_discriminator(&device)),
            generator_optimizer: gan::adam(config.beta_1, config.beta_2),
            discriminator_optimizer: gan::adam(config.beta_1, config.beta_2),
            model: model.clone(),
            config: config.clone(),
            schedule: BatchSchedule::new(images.len(), &config.training),
            source: BatchSource::new(images, model.built_size(), &config.training),
            device,
        }
    }
}

impl Trainer for SkipGanomalyTrainer {
    type Model = SkipGanomaly;

    fn total_steps(&self) -> usize {
        self.schedule.total_steps()
    }

    /// One generator step (eq. 8), then one discriminator step (eq. 9); the discriminator
    /// is re-initialised if its loss collapsed.
    async fn step(&mut self) -> Result<Option<StepReport>, ReadError> {
        let Some((indices, progress)) = self.schedule.next_batch() else {
            return Ok(None);
        };
        let (input, target) = self.source.batch(&indices, &self.device)?;
        let (Some(generator), Some(discriminator)) =
            (self.generator.take(), self.discriminator.take())
        else {
            return Ok(None);
        };
        // The U-Net repairs the input (pseudo-anomalies, if any) towards the clean target.
        let input = to_model_range(input); // [b, c, s, s]
        let x = to_model_range(target); // [b, c, s, s]
        let c = &self.config;
        let lr = c.training.learning_rate;

        let generated = generator.forward(input);
        let (_, real_features) = discriminator.forward(x.clone());
        let (p_generated, fake_features) = discriminator.forward(generated.clone());
        let adversarial = gan::bce(p_generated, true);
        let contextual = (x.clone() - generated.clone()).abs().mean();
        let latent = (real_features - fake_features).square().mean();
        let generator_loss = adversarial.clone().mul_scalar(c.w_adv)
            + contextual.clone().mul_scalar(c.w_con)
            + latent.clone().mul_scalar(c.w_lat);
        let grads = GradientsParams::from_grads(generator_loss.backward(), &generator);
        let generator = self.generator_optimizer.step(lr, generator, grads);

        let (p_real, _) = discriminator.forward(x);
        let (p_fake, _) = discriminator.forward(generated.detach());
        let discriminator_loss = gan::discriminator_loss(p_real, p_fake);
        let grads = GradientsParams::from_grads(discriminator_loss.backward(), &discriminator);
        let mut discriminator = self.discriminator_optimizer.step(lr, discriminator, grads);

        let discriminator_loss = read_scalar(discriminator_loss.detach()).await?;
        if discriminator_loss < gan::COLLAPSED_DISCRIMINATOR_LOSS {
            discriminator = self.model.init_discriminator(&self.device);
            self.discriminator_optimizer = gan::adam(c.beta_1, c.beta_2);
        }
        let losses = vec![
            ("generator", read_scalar(generator_loss.detach()).await?),
            ("discriminator", discriminator_loss),
            ("adversarial", read_scalar(adversarial.detach()).await?),
            ("contextual", read_scalar(contextual.detach()).await?),
            ("latent", read_scalar(latent.detach()).await?),
        ];
        self.generator = Some(generator);
        self.discriminator = Some(discriminator);
        Ok(Some(StepReport {
            progress,
            images: indices.len(),
            losses,
        }))
    }

    fn into_model(self) -> Option<SkipGanomaly> {
        let (generator, discriminator) = (self.generator?, self.discriminator?);
        Some(SkipGanomaly::new(
            generator.valid(),
            discriminator.valid(),
            &self.model,
        ))
    }

    async fn copy_to(&self, device: &Device) -> Result<Self, ReadbackError> {
        let device = device.clone().autodiff();
        let c = &self.config;
        Ok(Self {
            generator: copy_some(
                self.generator.as_ref(),
                |d| self.model.init_generator(d),
                &device,
            )
            .await?,
            discriminator: copy_some(
                self.discriminator.as_ref(),
                |d| self.model.init_discriminator(d),
                &device,
            )
            .await?,
            generator_optimizer: gan::adam(c.beta_1, c.beta_2),
            discriminator_optimizer: gan::adam(c.beta_1, c.beta_2),
            model: self.model.clone(),
            config: c.clone(),
            schedule: self.schedule.clone(),
            source: self.source.clone(),
            device,
        })
    }

    /// The detector with its neighbour score fitted on the training images, where it is
    /// judged by one.
    async fn finish(self) -> Result<Option<SkipGanomaly>, ReadError> {
        let device = self.device.clone().without_autodiff();
        let Self {
            generator: Some(generator),
            discriminator: Some(discriminator),
            model,
            source,
            ..
        } = self
        else {
            return Ok(None);
        };
        let detector = SkipGanomaly::new(generator.valid(), discriminator.valid(), &model);
        Ok(Some(combined::fit_model(detector, &source, &device).await?))
    }
}
