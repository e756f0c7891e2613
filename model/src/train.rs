//! What every training run shares: the step-wise [`Trainer`] interface, its settings and
//! the shuffled batch schedule.

use std::future::Future;

use burn::config::Config;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

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
    /// Seed of weight initialisation and batch order.
    #[config(default = 42)]
    pub seed: u64,
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

    /// The model as trained so far, in inference mode.
    fn into_model(self) -> Option<Self::Model>;
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

/// The order in which a run visits its training images: reshuffled every epoch.
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
    /// A schedule over `len` images; the last batch of an epoch may be smaller.
    pub fn new(len: usize, config: &TrainingConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut order: Vec<usize> = (0..len).collect();
        order.shuffle(&mut rng);
        Self {
            order,
            batch_size: config.batch_size.max(1),
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
        let batch = self.order[self.cursor..end].to_vec();
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
    fn every_image_is_seen_once_per_epoch() {
        let config = TrainingConfig::new().with_epochs(2).with_batch_size(4);
        let mut schedule = BatchSchedule::new(10, &config);
        assert_eq!(schedule.total_steps(), 6);
        let mut seen = Vec::new();
        let mut last = None;
        while let Some((batch, progress)) = schedule.next_batch() {
            seen.extend(batch);
            last = Some(progress);
        }
        let mut first_epoch = seen[..10].to_vec();
        first_epoch.sort();
        assert_eq!(first_epoch, (0..10).collect::<Vec<_>>());
        assert_eq!(seen.len(), 20);
        assert_ne!(seen[..10], seen[10..], "each epoch is reshuffled");
        assert_eq!(
            last,
            Some(Progress {
                epoch: 1,
                step: 6,
                total_steps: 6
            })
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_order() {
        let config = TrainingConfig::new().with_seed(7);
        let a = BatchSchedule::new(50, &config).next_batch();
        let b = BatchSchedule::new(50, &config).next_batch();
        assert_eq!(a, b);
    }
}
