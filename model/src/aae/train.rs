//! Step-wise training: one autoencoder and one latent-discriminator step per call; the T²
//! statistics are fitted on the training latents when the run finishes.

use burn::config::Config;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Tensor};

use super::model::{Aae, AaeConfig, LatentDiscriminator};
use crate::combined;
use crate::data::Images;
use crate::detector::normalise;
use crate::gan;
use crate::hotelling::Hotelling;
use crate::readback::{copy_some, ReadbackError};
use crate::score::{read_scalar, read_vec, ReadError};
use crate::train::{
    fixed_batches, BatchSchedule, BatchSource, StepReport, Trainer, TrainingConfig,
};

/// Keeps the inverse-norm term finite for a latent at the origin.
const RIM_EPSILON: f32 = 1e-2;

/// The AAE's training settings.
#[derive(Config, Debug, PartialEq)]
pub struct AaeTrainingConfig {
    /// Epochs, batch size, learning rate and seed.
    pub training: TrainingConfig,
    /// Weight of the encoder's adversarial loss `BCE(D(E(x)), 1)`.
    #[config(default = 1.0)]
    pub w_adv: f32,
    /// Weight of the term that pushes labelled anomalies to the rim of the Gaussian.
    #[config(default = 1.0)]
    pub w_rim: f32,
    /// Adam's beta 1.
    #[config(default = 0.5)]
    pub beta_1: f32,
    /// Adam's beta 2.
    #[config(default = 0.999)]
    pub beta_2: f32,
}

/// Trains an [`Aae`] on normal images and, optionally, a few labelled anomalies.
#[derive(Clone)]
pub struct AaeTrainer {
    autoencoder: Option<Aae>,
    discriminator: Option<LatentDiscriminator>,
    autoencoder_optimizer: ModuleOptimizer,
    discriminator_optimizer: ModuleOptimizer,
    model: AaeConfig,
    config: AaeTrainingConfig,
    schedule: BatchSchedule,
    source: BatchSource,
    anomalies: Images,
    next_anomaly: usize,
    device: Device,
}

impl AaeTrainer {
    /// Starts a run on `normal` images plus labelled `anomalies` (may be empty; seed 002
    /// found about 0.5 % of the training set best); both are padded to the network's side.
    pub fn new(
        model: &AaeConfig,
        config: &AaeTrainingConfig,
        normal: &Images,
        anomalies: &Images,
        device: &Device,
    ) -> Self {
        let device = device.clone().autodiff();
        device.seed(config.training.seed);
        Self {
            autoencoder: Some(model.init(&device)),
            discriminator: Some(model.init_discriminator(&device)),
            autoencoder_optimizer: gan::adam(config.beta_1, config.beta_2),
            discriminator_optimizer: gan::adam(config.beta_1, config.beta_2),
            model: model.clone(),
            config: config.clone(),
            schedule: BatchSchedule::new(normal.len(), &config.training),
            source: BatchSource::new(normal, model.built_size(), &config.training),
            anomalies: anomalies.padded_to(model.built_size()).into_owned(),
            next_anomaly: 0,
            device,
        }
    }

    /// The labelled anomalies of this step: their share of the batch, at least one,
    /// cycling through the set; `None` without labelled anomalies.
    fn anomaly_batch(&mut self, batch: usize) -> Option<Tensor<4>> {
        let n = self.anomalies.len();
        if n == 0 {
            return None;
        }
        let share = n as f64 / self.source.images().len().max(1) as f64;
        let take = ((batch as f64 * share).round() as usize).clamp(1, n);
        let indices: Vec<usize> = (0..take).map(|i| (self.next_anomaly + i) % n).collect();
        self.next_anomaly = (self.next_anomaly + take) % n;
        let selected = self.anomalies.select(&indices);
        // Inputs like the normal images': normalised as the run asks.
        let normalisation = &self.config.training.normalisation;
        Some(normalise(
            normalisation,
            selected.tensor(0, take, &self.device),
        ))
    }
}

impl Trainer for AaeTrainer {
    type Model = Aae;

    fn total_steps(&self) -> usize {
        self.schedule.total_steps()
    }

    async fn step(&mut self) -> Result<Option<StepReport>, ReadError> {
        let Some((indices, progress)) = self.schedule.next_batch() else {
            return Ok(None);
        };
        let (input, x) = self.source.batch(&indices, &self.device)?; // [b, c, s, s] each
        let (Some(autoencoder), Some(discriminator)) =
            (self.autoencoder.take(), self.discriminator.take())
        else {
            return Ok(None);
        };
        let anomalies = self.anomaly_batch(indices.len());
        let c = &self.config;
        let lr = c.training.rate().at(progress);

        // Autoencoder: reconstruct, fool the latent discriminator, push anomalies out.
        let z = autoencoder.encode(input); // [b, d]
        let reconstruction = (autoencoder.decode(z.clone()) - x).square().mean();
        let adversarial = gan::bce(discriminator.forward(z.clone()), true);
        let mut loss = reconstruction.clone() + adversarial.clone().mul_scalar(c.w_adv);
        let rim = anomalies.map(|a| {
            let za = autoencoder.encode(a);
            za.square()
                .sum_dim(1)
                .add_scalar(RIM_EPSILON)
                .recip()
                .mean()
        });
        if let Some(rim) = &rim {
            loss = loss + rim.clone().mul_scalar(c.w_rim);
        }
        let grads = GradientsParams::from_grads(loss.backward(), &autoencoder);
        let autoencoder = self.autoencoder_optimizer.step(lr, autoencoder, grads);

        // Discriminator: N(0, I) samples are real, encodings fake.
        let prior = z.random_like(Distribution::Normal(0.0, 1.0));
        let discriminator_loss = gan::discriminator_loss(
            discriminator.forward(prior),
            discriminator.forward(z.detach()),
        );
        let grads = GradientsParams::from_grads(discriminator_loss.backward(), &discriminator);
        let mut discriminator = self.discriminator_optimizer.step(lr, discriminator, grads);
        let discriminator_loss = read_scalar(discriminator_loss.detach()).await?;
        if discriminator_loss < gan::COLLAPSED_DISCRIMINATOR_LOSS {
            discriminator = self.model.init_discriminator(&self.device);
            self.discriminator_optimizer = gan::adam(c.beta_1, c.beta_2);
        }

        let mut losses = vec![
            (
                "reconstruction",
                read_scalar(reconstruction.detach()).await?,
            ),
            ("discriminator", discriminator_loss),
            ("adversarial", read_scalar(adversarial.detach()).await?),
        ];
        if let Some(rim) = rim {
            losses.push(("rim", read_scalar(rim.detach()).await?));
        }
        self.autoencoder = Some(autoencoder);
        self.discriminator = Some(discriminator);
        Ok(Some(StepReport {
            progress,
            images: indices.len(),
            losses,
        }))
    }

    /// The autoencoder as trained so far, scored against `N(0, I)` (no fitted statistics).
    fn into_model(self) -> Option<Aae> {
        self.autoencoder.map(|m| m.valid())
    }

    async fn copy_to(&self, device: &Device) -> Result<Self, ReadbackError> {
        let device = device.clone().autodiff();
        let c = &self.config;
        Ok(Self {
            autoencoder: copy_some(self.autoencoder.as_ref(), |d| self.model.init(d), &device)
                .await?,
            discriminator: copy_some(
                self.discriminator.as_ref(),
                |d| self.model.init_discriminator(d),
                &device,
            )
            .await?,
            autoencoder_optimizer: gan::adam(c.beta_1, c.beta_2),
            discriminator_optimizer: gan::adam(c.beta_1, c.beta_2),
            model: self.model.clone(),
            config: c.clone(),
            schedule: self.schedule.clone(),
            source: self.source.clone(),
            anomalies: self.anomalies.clone(),
            next_anomaly: self.next_anomaly,
            device,
        })
    }

    /// The autoencoder with T² fitted on the latents of the normal training images, and
    /// its neighbour score where it is judged by one.
    async fn finish(self) -> Result<Option<Aae>, ReadError> {
        let images = self.source.inputs()?;
        // The trained model is in inference mode: it runs on the device without autodiff.
        let device = self.device.clone().without_autodiff();
        let Some(model) = self.autoencoder.map(|m| m.valid()) else {
            return Ok(None);
        };
        let mut latents = Vec::new();
        let batch = self.source.batch_rows();
        for rows in fixed_batches(images.len(), batch) {
            let n = rows.len();
            let z = model.encode(images.batch_tensor(rows, batch, &device)); // [batch, dim]
            latents.extend(read_vec(z.narrow(0, 0, n).into_data_async().await)?);
        }
        let dim = model.hotelling().dim();
        let model = match Hotelling::fit(&latents, dim) {
            Ok(statistics) => model.with_hotelling(statistics),
            // Too few images (or a diverged run): keep scoring against the prior.
            Err(_) => model,
        };
        Ok(Some(
            combined::fit_model(model, &self.source, &device).await?,
        ))
    }
}
