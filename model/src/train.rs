//! What every training run shares: the step-wise [`Trainer`] interface, its settings and
//! the shuffled batch schedule.

use std::future::Future;

use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::{corrupt, Images, Normalisation, PseudoAnomalies};
use crate::detector::Detector;
use crate::readback::{copy_some, ReadbackError};
use crate::score::{read_scalar, ReadError};
use crate::settings::LearningRateSchedule;

/// Settings of one training run.
#[derive(Config, Debug, PartialEq)]
pub struct TrainingConfig {
    /// Passes over the training set.
    #[config(default = 10)]
    pub epochs: usize,
    /// Images per optimiser step.
    #[config(default = 64)]
    pub batch_size: usize,
    /// Adam learning rate.
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    /// How the learning rate moves over the run; `None`: constant.
    #[config(default = "None")]
    pub learning_rate_schedule: Option<LearningRateSchedule>,
    /// Seed of weight initialisation and batch order.
    #[config(default = 42)]
    pub seed: u64,
    /// Pseudo-anomaly training (seed 000): defects drawn on a share of each batch's inputs,
    /// the clean images as targets. `None`: inputs are the clean images.
    #[config(default = "None")]
    pub pseudo_anomalies: Option<PseudoAnomalies>,
    /// How inputs are scaled before the model sees them (fitted on the training images by
    /// the caller, e.g. [`Normalisation::fit_standardise`]); targets stay in [0, 1].
    #[config(default = "Normalisation::UnitRange")]
    pub normalisation: Normalisation,
    /// Loss weights set for this run by id ("w-con"), the trainer's own defaults for the
    /// others ([`crate::zoo::ModelKind::hyperparameters`] lists them). `None`: all defaults.
    #[config(default = "None")]
    pub loss_weights: Option<std::collections::BTreeMap<String, f32>>,
}

impl TrainingConfig {
    /// Rows in every batch a run over `len` training images sends, training and scoring
    /// alike: the batch size, or every image where there are fewer.
    pub fn batch_rows(&self, len: usize) -> usize {
        batch_rows(self.batch_size, len)
    }

    /// The run's learning rate and how it moves.
    pub fn rate(&self) -> LearningRate {
        LearningRate {
            base: self.learning_rate,
            schedule: self.learning_rate_schedule.unwrap_or_default(),
        }
    }

    /// The loss weight `id` set for this run, if any.
    pub fn loss_weight(&self, id: &str) -> Option<f32> {
        self.loss_weights.as_ref()?.get(id).copied()
    }
}

/// A run's learning rate and how it moves over the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LearningRate {
    /// The rate at the first step.
    pub base: f64,
    /// How it moves.
    pub schedule: LearningRateSchedule,
}

impl LearningRate {
    /// The rate of the step that makes `progress`.
    pub fn at(self, progress: Progress) -> f64 {
        self.schedule
            .rate(self.base, progress.step, progress.total_steps)
    }
}

/// Rows in every batch of a run over `len` training items with `batch_size`: the batch
/// size, or every item where there are fewer.
pub fn batch_rows(batch_size: usize, len: usize) -> usize {
    batch_size.min(len).max(1)
}

/// The row ranges that cover `len` items in batches of `size` (at least one), in order;
/// the last may be shorter, and is sent topped up to `size` so that every batch of a pass
/// has one shape ([`crate::data::Images::batch_tensor`]).
pub fn fixed_batches(len: usize, size: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let size = size.max(1);
    (0..len)
        .step_by(size)
        .map(move |start| start..(start + size).min(len))
}

/// Training images as batches of (input, target) tensors: the target is the clean image,
/// the input has pseudo-anomalies drawn on it when the run asks for them and is scaled by
/// the run's normalisation.
#[derive(Debug, Clone)]
pub struct BatchSource {
    images: Images,
    pseudo_anomalies: Option<PseudoAnomalies>,
    normalisation: Normalisation,
    batch_rows: usize,
    rng: ChaCha8Rng,
}

impl BatchSource {
    /// The images padded to `side` if smaller, with the run's pseudo-anomaly settings.
    pub fn new(images: &Images, side: usize, training: &TrainingConfig) -> Self {
        Self {
            images: images.padded_to(side).into_owned(),
            pseudo_anomalies: training.pseudo_anomalies.clone(),
            normalisation: training.normalisation.clone(),
            batch_rows: training.batch_rows(images.len()),
            // Its own stream, so that turning defects on does not change the batch order.
            rng: ChaCha8Rng::seed_from_u64(training.seed ^ 0x5eed_def3c7),
        }
    }

    /// The images, padded.
    pub fn images(&self) -> &Images {
        &self.images
    }

    /// Rows in every batch the run sends ([`TrainingConfig::batch_rows`]): what fitting
    /// statistics on the trained model sends too.
    pub fn batch_rows(&self) -> usize {
        self.batch_rows
    }

    /// The images as the model's inputs: padded and normalised, without defects.
    pub fn inputs(&self) -> Result<Images, ReadError> {
        Ok(self.normalisation.apply(&self.images)?)
    }

    /// (input, target) of the images at `indices`, each `[b, c, side, side]` on `device`.
    pub fn batch(
        &mut self,
        indices: &[usize],
        device: &Device,
    ) -> Result<(Tensor<4>, Tensor<4>), ReadError> {
        let clean = self.images.select(indices);
        let target = clean.tensor(0, clean.len(), device);
        let input = match (&self.pseudo_anomalies, &self.normalisation) {
            (None, Normalisation::UnitRange) => return Ok((target.clone(), target)),
            (Some(config), _) => corrupt(&clean, config, &mut self.rng)?.0,
            (None, _) => clean,
        };
        let input = self.normalisation.apply(&input)?;
        Ok((input.tensor(0, input.len(), device), target))
    }
}

/// A training run the caller drives one step at a time, so a UI can show progress
/// between steps and stop at any step.
pub trait Trainer {
    /// The trained detector.
    type Model: crate::detector::Detector;

    /// Steps the whole run takes.
    fn total_steps(&self) -> usize;

    /// Takes the next optimiser step(s) and reads the losses back; `Ok(None)` once done.
    ///
    /// Async because reading values back is, on WebGPU in a browser.
    fn step(&mut self)
        -> impl Future<Output = Result<Option<StepReport>, crate::score::ReadError>>;

    /// The model as trained so far, in inference mode, without any fitting after training.
    fn into_model(self) -> Option<Self::Model>;

    /// A copy of the run on `device`, its weights read back asynchronously (so it can be
    /// made while the run's own device still works) and its optimisers restarted (their
    /// moments stay behind). A run whose device fails goes on from such a copy.
    fn copy_to(&self, device: &Device) -> impl Future<Output = Result<Self, ReadbackError>>
    where
        Self: Sized;

    /// The model as trained so far, with whatever is fitted on its training data after
    /// training (the AAE's T² statistics); `None` if no step was taken.
    ///
    /// Async because fitting reads values back.
    fn finish(self) -> impl Future<Output = Result<Option<Self::Model>, ReadError>>
    where
        Self: Sized,
    {
        async { Ok(self.into_model()) }
    }
}

/// A configuration that builds a model (the `init` of every `*Config`).
pub trait Architecture {
    /// The model it builds.
    type Model;

    /// Builds the model with freshly initialised weights on `device`.
    fn build(&self, device: &Device) -> Self::Model;
}

/// A model trained on its own loss, without an adversary: the autoencoders and VAEs.
pub trait SelfSupervised: Module + Detector {
    /// The named loss terms of one batch, the one to minimise first.
    ///
    /// # Shapes
    /// `input` and `target`: `[batch, channels, size, size]`; `target` is the clean image
    /// the model should reproduce (the same as `input` without pseudo-anomalies).
    fn losses(&self, input: Tensor<4>, target: Tensor<4>) -> Vec<(&'static str, Tensor<1>)>;

    /// The trained model with whatever its score fits on the training images of `source`
    /// on `device`, without autodiff; most fit nothing (and read no image).
    fn fit(
        self,
        source: &BatchSource,
        device: &Device,
    ) -> impl Future<Output = Result<Self, ReadError>>
    where
        Self: Sized,
    {
        let _ = (source, device);
        async { Ok(self) }
    }
}

/// Trains any [`SelfSupervised`] model, one Adam step per [`Trainer::step`].
#[derive(Clone)]
pub struct SelfSupervisedTrainer<M> {
    model: Option<M>,
    /// Builds the model afresh (a copy of the run is made into one).
    build: std::sync::Arc<dyn Fn(&Device) -> M + Send + Sync>,
    optimizer: ModuleOptimizer,
    schedule: BatchSchedule,
    source: BatchSource,
    rate: LearningRate,
    device: Device,
}

impl<M: SelfSupervised> SelfSupervisedTrainer<M> {
    /// Starts a run on `images` (padded to the model's input size if smaller); `device` is
    /// any Burn device (autodiff is enabled here).
    pub fn new(
        architecture: &(impl Architecture<Model = M> + Clone + Send + Sync + 'static),
        training: &TrainingConfig,
        images: &Images,
        device: &Device,
    ) -> Self {
        let device = device.clone().autodiff();
        device.seed(training.seed);
        let model = architecture.build(&device);
        Self {
            source: BatchSource::new(images, model.input_size(), training),
            model: Some(model),
            build: {
                let architecture = architecture.clone();
                std::sync::Arc::new(move |device| architecture.build(device))
            },
            optimizer: AdamConfig::new().init(),
            schedule: BatchSchedule::new(images.len(), training),
            rate: training.rate(),
            device,
        }
    }
}

impl<M: SelfSupervised> Trainer for SelfSupervisedTrainer<M> {
    type Model = M;

    fn total_steps(&self) -> usize {
        self.schedule.total_steps()
    }

    /// One Adam step on the next batch; the losses are those before the update.
    async fn step(&mut self) -> Result<Option<StepReport>, ReadError> {
        let Some((indices, progress)) = self.schedule.next_batch() else {
            return Ok(None);
        };
        let (input, target) = self.source.batch(&indices, &self.device)?; // [b, c, s, s] each
        let losses = self_supervised_step(
            &mut self.model,
            &mut self.optimizer,
            self.rate.at(progress),
            input,
            target,
        )
        .await?;
        Ok(losses.map(|losses| StepReport {
            progress,
            images: indices.len(),
            losses,
        }))
    }

    fn into_model(self) -> Option<M> {
        self.model.map(|m| m.valid())
    }

    async fn copy_to(&self, device: &Device) -> Result<Self, ReadbackError> {
        let device = device.clone().autodiff();
        Ok(Self {
            model: copy_some(self.model.as_ref(), |d| (self.build)(d), &device).await?,
            build: self.build.clone(),
            optimizer: AdamConfig::new().init(),
            schedule: self.schedule.clone(),
            source: self.source.clone(),
            rate: self.rate,
            device,
        })
    }

    async fn finish(self) -> Result<Option<M>, ReadError> {
        // The trained model is in inference mode: it runs on the device without autodiff.
        let device = self.device.clone().without_autodiff();
        match self.model.map(|m| m.valid()) {
            Some(model) => Ok(Some(model.fit(&self.source, &device).await?)),
            None => Ok(None),
        }
    }
}

/// One Adam step of `model` on a batch (`input` and `target`, `[batch, c, h, w]` each),
/// returning its loss terms read back as they were before the update; `None` (and no step)
/// without a model or a loss term.
pub(crate) async fn self_supervised_step<M: SelfSupervised>(
    model: &mut Option<M>,
    optimizer: &mut ModuleOptimizer,
    learning_rate: f64,
    input: Tensor<4>,
    target: Tensor<4>,
) -> Result<Option<Vec<(&'static str, f32)>>, ReadError> {
    let Some(current) = model.take() else {
        return Ok(None);
    };
    let terms = current.losses(input, target);
    let Some((_, loss)) = terms.first() else {
        *model = Some(current);
        return Ok(None);
    };
    let grads = GradientsParams::from_grads(loss.backward(), &current);
    *model = Some(optimizer.step(learning_rate, current, grads));
    let mut losses = Vec::with_capacity(terms.len());
    for (name, term) in terms {
        losses.push((name, read_scalar(term.detach()).await?));
    }
    Ok(Some(losses))
}

/// One step's outcome: where the run is and its named losses.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// Progress after this step.
    pub progress: Progress,
    /// Images in this step's batch.
    pub images: usize,
    /// Loss terms, the model's main loss first (e.g. "reconstruction", or "generator"
    /// then "discriminator").
    pub losses: Vec<(&'static str, f32)>,
}

/// Progress of a run after one optimiser step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Epoch of the step just taken, from 0.
    pub epoch: usize,
    /// Steps taken so far, this one included.
    pub step: usize,
    /// Steps the whole run takes.
    pub total_steps: usize,
}

/// The order in which a run visits its training images: reshuffled every epoch, in
/// batches of one size (the training batch size, or every image where there are fewer).
/// The last batch of an epoch is topped up with the epoch's first images, so that a GPU
/// backend compiles (and tunes) its kernels for one shape only.
#[derive(Debug, Clone)]
pub struct BatchSchedule {
    order: Vec<usize>,
    batch_size: usize,
    epochs: usize,
    epoch: usize,
    cursor: usize,
    step: usize,
    rng: ChaCha8Rng,
}

impl BatchSchedule {
    /// A schedule over `len` images.
    pub fn new(len: usize, config: &TrainingConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut order: Vec<usize> = (0..len).collect();
        order.shuffle(&mut rng);
        Self {
            order,
            batch_size: config.batch_rows(len),
            epochs: config.epochs,
            epoch: 0,
            cursor: 0,
            step: 0,
            rng,
        }
    }

    /// Steps one epoch takes.
    pub fn steps_per_epoch(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }

    /// Steps the whole run takes.
    pub fn total_steps(&self) -> usize {
        self.steps_per_epoch() * self.epochs
    }

    /// The indices of the next batch and the progress it makes, or `None` when the run is over.
    pub fn next_batch(&mut self) -> Option<(Vec<usize>, Progress)> {
        if self.order.is_empty() || self.epoch >= self.epochs {
            return None;
        }
        let end = (self.cursor + self.batch_size).min(self.order.len());
        let mut batch = self.order[self.cursor..end].to_vec();
        // The epoch's last batch, topped up with images this epoch has already visited.
        let missing = self.batch_size - batch.len();
        batch.extend_from_slice(&self.order[..missing]);
        let progress = Progress {
            epoch: self.epoch,
            step: self.step + 1,
            total_steps: self.total_steps(),
        };
        self.step += 1;
        self.cursor = end;
        if self.cursor == self.order.len() {
            self.cursor = 0;
            self.epoch += 1;
            self.order.shuffle(&mut self.rng);
        }
        Some((batch, progress))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_batches_cover_every_row_once_in_order() {
        let ranges: Vec<_> = fixed_batches(10, 4).collect();
        assert_eq!(ranges, vec![0..4, 4..8, 8..10]);
        assert_eq!(fixed_batches(8, 4).collect::<Vec<_>>(), vec![0..4, 4..8]);
        assert_eq!(fixed_batches(0, 4).count(), 0);
        // A batch size of 0 still makes progress.
        assert_eq!(fixed_batches(2, 0).collect::<Vec<_>>(), vec![0..1, 1..2]);
    }

    #[test]
    fn every_image_is_seen_every_epoch_in_batches_of_one_shape() {
        let config = TrainingConfig::new().with_epochs(2).with_batch_size(4);
        let mut schedule = BatchSchedule::new(10, &config);
        assert_eq!(schedule.total_steps(), 6);
        let mut epochs = vec![Vec::new(), Vec::new()];
        let mut last = None;
        while let Some((batch, progress)) = schedule.next_batch() {
            // One shape: the last batch of an epoch is topped up (a GPU compiles once).
            assert_eq!(batch.len(), 4, "step {}", progress.step);
            epochs[progress.epoch].extend(batch);
            last = Some(progress);
        }
        for seen in &epochs {
            // Ten images, then two repeats from the same epoch.
            let mut first = seen[..10].to_vec();
            first.sort();
            assert_eq!(first, (0..10).collect::<Vec<_>>());
            assert_eq!(seen[10..], seen[..2]);
        }
        assert_ne!(epochs[0][..10], epochs[1][..10], "each epoch is reshuffled");
        assert_eq!(
            last,
            Some(Progress {
                epoch: 1,
                step: 6,
                total_steps: 6
            })
        );
        // Fewer images than a batch: every image, every step.
        let mut small = BatchSchedule::new(3, &config);
        let (batch, _) = small.next_batch().unwrap();
        assert_eq!(batch.len(), 3);
        assert_eq!(small.total_steps(), 2);
    }

    #[test]
    fn pseudo_anomalies_change_inputs_but_never_targets() {
        use crate::data::Defect;
        use burn::tensor::Device;
        let device = Device::flex();
        // Four mid-grey 8x8 images: a cut-out (black square) always shows on them.
        let images = Images::new(vec![0.5; 4 * 64], 4, 1, 8, 8).unwrap();
        let read = |t: Tensor<4>| t.into_data().try_into_vec::<f32>().unwrap();
        let plain = TrainingConfig::new();
        let (input, target) = BatchSource::new(&images, 8, &plain)
            .batch(&[0, 1, 2, 3], &device)
            .unwrap();
        assert_eq!(read(input), read(target));

        let defects = PseudoAnomalies {
            kinds: vec![Defect::Cutout],
            fraction: 1.0,
        };
        let corrupting = plain.with_pseudo_anomalies(Some(defects));
        let mut source = BatchSource::new(&images, 8, &corrupting);
        let (input, target) = source.batch(&[0, 1, 2, 3], &device).unwrap();
        assert_eq!(read(target), vec![0.5; 4 * 64], "targets stay clean");
        let input = read(input);
        for image in input.chunks(64) {
            assert!(image.contains(&0.0), "every input has its cut-out");
        }
    }

    #[test]
    fn standardised_inputs_keep_clean_targets() {
        use burn::tensor::Device;
        let device = Device::flex();
        // Two 2x2 images of 0s and 1s -> mean 0.5, deviation 0.5.
        let pixels = vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0];
        let images = Images::new(pixels.clone(), 2, 1, 2, 2).unwrap();
        let norm = Normalisation::fit_standardise(&images).unwrap();
        let config = TrainingConfig::new().with_normalisation(norm);
        let mut source = BatchSource::new(&images, 2, &config);
        let read = |t: Tensor<4>| t.into_data().try_into_vec::<f32>().unwrap();
        let (input, target) = source.batch(&[0, 1], &device).unwrap();
        let standardised = [-1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0];
        assert_eq!(read(input), standardised);
        assert_eq!(read(target), pixels);
        assert_eq!(source.inputs().unwrap().pixels(), standardised);
    }

    #[test]
    fn the_same_seed_gives_the_same_order() {
        let config = TrainingConfig::new().with_seed(7);
        let a = BatchSchedule::new(50, &config).next_batch();
        let b = BatchSchedule::new(50, &config).next_batch();
        assert_eq!(a, b);
    }
}
