//! AnoGAN's latent search (seed 004 §4.3; Schlegl et al. 2017) over a trained GANomaly.
//!
//! For each test image `x`, search the latent `z` whose generated image `G(z)` is closest
//! to it, by gradient descent (Adam) on
//! `L(z) = (1 - l) * mean|x - G(z)| + l * mean|f(x) - f(G(z))|`, with `f` the
//! discriminator's features and `l = 0.1`; the anomaly score is `L` at the end of the
//! search ([`ScoreKind::AnoGan`](crate::score::ScoreKind)). Normal images are reachable
//! from the generator's latent space; anomalies are not, so their residual stays high.
//!
//! The search starts at GANomaly's encoding `E(x)` instead of AnoGAN's random latent: the
//! encoder is there, and a warm start needs tens of steps instead of hundreds.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::combined::{self, latent_score_field, CombinedStatistics, LatentJudged, LatentScore};
use crate::data::Images;
use crate::detector::{Detector, DetectorConfig};
use crate::ganomaly::{
    to_model_range, Discriminator, Ganomaly, GanomalyConfig, GanomalyTrainer,
    GanomalyTrainingConfig,
};
use crate::readback::ReadbackError;
use crate::score::{per_image_mean, Detection, ReadError, ScoreKind};
use crate::train::{StepReport, Trainer};

const ADAM_BETA_1: f32 = 0.9;
const ADAM_BETA_2: f32 = 0.999;
const ADAM_EPSILON: f32 = 1e-8;
/// AnoGAN's own score, the search's final loss: what its configuration and its detector
/// report.
const SCORE_KIND: ScoreKind = ScoreKind::AnoGan;

/// Settings of the latent search.
#[derive(Config, Debug, PartialEq)]
pub struct AnoGanConfig {
    /// The generator and discriminator searched over.
    pub ganomaly: GanomalyConfig,
    /// Gradient steps per batch of test images.
    #[config(default = 20)]
    pub steps: usize,
    /// Adam's learning rate on `z`.
    #[config(default = 0.05)]
    pub learning_rate: f32,
    /// `l`: weight of the feature distance against the residual.
    #[config(default = 0.1)]
    pub feature_weight: f32,
    /// The score it is judged by: a neighbour score of the latent the search found
    /// (`Some(ScoreKind::Neighbour)`), fitted after training; `None` (and files from before
    /// it), its source's final search loss.
    pub score: Option<ScoreKind>,
}

/// The GANomaly searched over takes the images.
impl DetectorConfig for AnoGanConfig {
    fn input_size(&self) -> usize {
        self.ganomaly.input_size()
    }

    fn channels(&self) -> usize {
        self.ganomaly.channels()
    }

    fn score_kind(&self) -> ScoreKind {
        LatentScore::chosen_kind(self.score, SCORE_KIND)
    }

    fn for_input(mut self, size: usize, channels: usize) -> Self {
        self.ganomaly = self.ganomaly.for_input(size, channels);
        self
    }
}

/// A trained generator and discriminator, scored by latent search.
#[derive(Module, Debug)]
pub struct AnoGan {
    generator: Ganomaly,
    discriminator: Discriminator,
    steps: usize,
    learning_rate: f32,
    feature_weight: f32,
    /// The neighbour score it is judged by, with its statistics (kept in the checkpoint
    /// header, not the weights); `None`: its source's search loss.
    #[module(skip)]
    latent_score: Option<LatentScore>,
}

impl AnoGanConfig {
    /// Builds untrained networks on `device` (to load a checkpoint into).
    pub fn init(&self, device: &Device) -> AnoGan {
        AnoGan::new(
            self.ganomaly.init(device),
            self.ganomaly.init_discriminator(device),
            self,
        )
    }
}

impl AnoGan {
    /// Searches over a trained generator with its discriminator.
    pub fn new(generator: Ganomaly, discriminator: Discriminator, config: &AnoGanConfig) -> Self {
        Self {
            generator,
            discriminator,
            steps: config.steps,
            learning_rate: config.learning_rate,
            feature_weight: config.feature_weight,
            latent_score: LatentScore::unfitted(config.score, config.ganomaly.latent),
        }
    }

    /// `L(z)` per image and `G(z)`.
    ///
    /// # Shapes
    /// `x`: `[b, c, s, s]` in [-1, 1]; `real_features`: `f(x)`; `z`: `[b, nz]` ->
    /// (`[b]`, `[b, c, s, s]`)
    fn loss(&self, x: Tensor<4>, real_features: Tensor<4>, z: Tensor<2>) -> (Tensor<1>, Tensor<4>) {
        let generated = self.generator.decode(z);
        let (_, fake_features) = self.discriminator.forward(generated.clone());
        let residual = per_image_mean((x - generated.clone()).abs());
        let feature = per_image_mean((real_features - fake_features).abs());
        let l = self.feature_weight;
        (
            residual.mul_scalar(1.0 - l) + feature.mul_scalar(l),
            generated,
        )
    }

    /// Runs the search from `start`: Adam on `z`, each image's latent moved by its own loss
    /// only.
    ///
    /// # Shapes
    /// `start`: `[b, nz]`; `x`: `[b, c, s, s]` in [-1, 1] -> the found `z` `[b, nz]`
    fn search(&self, start: Tensor<2>, x: Tensor<4>, real_features: Tensor<4>) -> Tensor<2> {
        // Only `z` takes part in autodiff: the weights on the plain device act as constants,
        // and freezing keeps batch norm on its running statistics (an autodiff input would
        // otherwise switch a freshly loaded layer to batch statistics and update them).
        let frozen = self.clone().freeze();
        let mut z = start;
        let (x, real_features) = (x.autodiff(), real_features.autodiff());
        let mut m = z.zeros_like();
        let mut v = z.zeros_like();
        for t in 1..=self.steps {
            let tracked = z.clone().autodiff().require_grad();
            let (loss, _) = frozen.loss(x.clone(), real_features.clone(), tracked.clone());
            // Summed over the batch: the gradient of image i's loss reaches only z_i.
            let grads = loss.sum().backward();
            let Some(g) = tracked.grad(&grads) else {
                break;
            };
            m = m.mul_scalar(ADAM_BETA_1) + g.clone().mul_scalar(1.0 - ADAM_BETA_1);
            v = v.mul_scalar(ADAM_BETA_2) + g.square().mul_scalar(1.0 - ADAM_BETA_2);
            let m_hat = m.clone().div_scalar(1.0 - ADAM_BETA_1.powi(t as i32));
            let v_hat = v.clone().div_scalar(1.0 - ADAM_BETA_2.powi(t as i32));
            z = z - (m_hat / v_hat.sqrt().add_scalar(ADAM_EPSILON)).mul_scalar(self.learning_rate);
        }
        z
    }
}

impl LatentJudged for AnoGan {
    latent_score_field!();

    /// The search's detection, scored by its final loss, with the latent it found.
    fn detect_with_latent(&self, input: Tensor<4>, clean: Tensor<4>) -> (Tensor<2>, Detection) {
        // The search starts from the encoding of the input and fits the clean image.
        let start = self.generator.encode(to_model_range(input)).detach();
        let x = to_model_range(clean.clone());
        let (_, real_features) = self.discriminator.forward(x.clone());
        let z = self.search(start, x.clone(), real_features.clone());
        let (score, generated) = self.loss(x, real_features, z.clone());
        let reconstruction = generated.add_scalar(1.0).div_scalar(2.0); // back to [0, 1]
        let detection =
            Detection::from_reconstruction(clean, reconstruction).with_model_score(score);
        (z, detection)
    }
}

impl Detector for AnoGan {
    fn detect_from(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection {
        self.judged_detection(input, clean)
    }

    fn input_size(&self) -> usize {
        self.generator.input_size()
    }

    fn score_kind(&self) -> ScoreKind {
        self.judged_score_kind(SCORE_KIND)
    }

    fn combined_statistics(&self) -> Option<&CombinedStatistics> {
        self.judged_statistics()
    }
}

/// Trains the GANomaly that AnoGAN searches over, and hands over generator and
/// discriminator together.
#[derive(Clone)]
pub struct AnoGanTrainer {
    ganomaly: GanomalyTrainer,
    config: AnoGanConfig,
}

impl AnoGanTrainer {
    /// Starts GANomaly's training; `config.ganomaly` gives the networks.
    pub fn new(
        config: &AnoGanConfig,
        training: &GanomalyTrainingConfig,
        images: &Images,
        device: &Device,
    ) -> Self {
        Self {
            ganomaly: GanomalyTrainer::new(&config.ganomaly, training, images, device),
            config: config.clone(),
        }
    }
}

impl Trainer for AnoGanTrainer {
    type Model = AnoGan;

    fn total_steps(&self) -> usize {
        self.ganomaly.total_steps()
    }

    async fn step(&mut self) -> Result<Option<StepReport>, ReadError> {
        self.ganomaly.step().await
    }

    fn into_model(self) -> Option<AnoGan> {
        let (generator, discriminator) = self.ganomaly.into_parts()?;
        Some(AnoGan::new(generator, discriminator, &self.config))
    }

    async fn copy_to(&self, device: &Device) -> Result<Self, ReadbackError> {
        Ok(Self {
            ganomaly: self.ganomaly.copy_to(device).await?,
            config: self.config.clone(),
        })
    }

    /// The searcher with its neighbour score fitted on the training images (each searched
    /// as a test image is), where it is judged by one.
    async fn finish(self) -> Result<Option<AnoGan>, ReadError> {
        let (parts, source, device) = self.ganomaly.into_parts_and_source();
        let Some((generator, discriminator)) = parts else {
            return Ok(None);
        };
        let model = AnoGan::new(generator, discriminator, &self.config);
        Ok(Some(combined::fit_model(model, &source, &device).await?))
    }
}
