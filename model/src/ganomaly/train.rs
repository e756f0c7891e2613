//! Step-wise adversarial training: one call, one generator and one discriminator step.

use burn::config::Config;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};

use super::model::{to_model_range, Discriminator, Ganomaly, GanomalyConfig, INPUT_SIZE};
use crate::data::Images;
use crate::score::{read_scalar, ReadError};
use crate::train::{BatchSchedule, Progress, StepReport, Trainer, TrainingConfig};

/// The discriminator is re-initialised when its loss falls below this (reference code).
const COLLAPSED_DISCRIMINATOR_LOSS: f32 = 1e-5;
/// Keeps `log` finite in the binary cross-entropy.
const PROBABILITY_EPSILON: f32 = 1e-7;

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
pub struct GanomalyTrainer {
    generator: Option<Ganomaly>,
    discriminator: Option<Discriminator>,
    generator_optimizer: ModuleOptimizer,
    discriminator_optimizer: ModuleOptimizer,
    model: GanomalyConfig,
    config: GanomalyTrainingConfig,
    schedule: BatchSchedule,
    images: Images,
    device: Device,
}

impl GanomalyTrainer {
    /// Starts a run; images are padded to 32x32 if smaller.
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
            images: images.padded_to(INPUT_SIZE).into_owned(),
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
        let (Some(generator), Some(discriminator)) =
            (self.generator.take(), self.discriminator.take())
        else {
            return Ok(None);
        };
        let batch = self.images.select(&indices);
        let x = to_model_range(batch.tensor(0, batch.len(), &self.device)); // [b, c, 32, 32]
        let c = &self.config;
        let lr = c.training.learning_rate;

        // Generator: fool the discriminator's features, reconstruct, keep the latent.
        let out = generator.generate(x.clone());
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
        let discriminator_loss = (bce(p_real, true) + bce(p_fake, false)).div_scalar(2.0);
        let grads = GradientsParams::from_grads(discriminator_loss.backward(), &discriminator);
        let mut discriminator = self.discriminator_optimizer.step(lr, discriminator, grads);

        let losses = GanomalyLosses {
            generator: read_scalar(generator_loss.detach()).await?,
            adversarial: read_scalar(adversarial.detach()).await?,
            contextual: read_scalar(contextual.detach()).await?,
            encoder: read_scalar(encoder.detach()).await?,
            discriminator: read_scalar(discriminator_loss.detach()).await?,
        };
        let discriminator_reset = losses.discriminator < COLLAPSED_DISCRIMINATOR_LOSS;
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
        self.generator.map(|g| burn::module::Module::valid(&g))
    }
}

fn adam(config: &GanomalyTrainingConfig) -> ModuleOptimizer {
    AdamConfig::new()
        .with_beta_1(config.beta_1)
        .with_beta_2(config.beta_2)
        .init()
}

/// Binary cross-entropy of probabilities against an all-`target` label.
fn bce(p: Tensor<1>, target: bool) -> Tensor<1> {
    let p = p.clamp(PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON);
    let p = if target { p } else { p.neg().add_scalar(1.0) };
    p.log().neg().mean()
}
