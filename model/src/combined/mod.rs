//! The neighbour scores: how far an image's latent lies from the nearest training latent
//! ([`ScoreKind::Neighbour`]), and the combined score, that distance plus the MSE and
//! difference ratio, each standardised by its mean and spread on the training images, then
//! summed ([`ScoreKind::Combined`]).
//!
//! Each term fails somewhere the others do not (docs/BENCHMARKS.md, one-class MNIST): MSE
//! misses held-out 1s (little ink, little to get wrong), the difference ratio misses 0s,
//! and the latent's cosine distance to its nearest training latent (a one-nearest-neighbour
//! density of the normal codes, where T² assumes one Gaussian around nine digits) misses
//! 4s and 7s on some seeds. Standardising by the training images' own scores puts them on
//! one scale without looking at a test image or label.

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::{Images, MIN_STD};
use crate::metrics::mean_std;
use crate::precision::Latents;
use crate::score::{read_vec, Detection, ReadError, ScoreKind};
use crate::train::{fixed_batches, BatchSource};

/// Neighbour latents compared per batch when fitting the distances' spread.
const FIT_BATCH: usize = 256;

/// At most this many training latents are kept (evenly spaced) to compare against.
pub const MAX_NEIGHBOURS: usize = 8192;

/// At most this many numbers are kept in all (fewer neighbours for wider latents), so a
/// checkpoint's bank stays near 1 MB: 8,192 latents of 64.
pub const MAX_NEIGHBOUR_VALUES: usize = MAX_NEIGHBOURS * 64;

/// At most this many training images estimate the neighbour distance's spread.
const SPREAD_SAMPLE: usize = 2048;

/// Guards the length of an all-zero latent.
const NORM_EPSILON: f32 = 1e-6;

/// Cosine distance under which a neighbour is the latent itself: a training latent
/// against its own copy in the bank lies about 1e-7 away in half precision and under 4e-5
/// in 8 bits, two different digits' latents orders of magnitude further.
pub const SELF_DISTANCE: f32 = 1e-4;

/// The mean and standard deviation of one score on the training images.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean.
    pub mean: f32,
    /// Standard deviation (population), at least [`MIN_STD`] when used.
    pub std: f32,
}

impl Spread {
    /// Mean 0, deviation 1: values pass unchanged.
    pub const IDENTITY: Self = Self {
        mean: 0.0,
        std: 1.0,
    };

    /// The mean and deviation of `values` (the identity for none).
    pub fn of(values: &[f32]) -> Self {
        mean_std(values).map_or(Self::IDENTITY, |(mean, std)| Self {
            mean: mean as f32,
            std: std as f32,
        })
    }

    /// `(x - mean) / std`, elementwise.
    ///
    /// # Shapes
    /// `x`: `[batch]` -> `[batch]`
    fn standardise(self, x: Tensor<1>) -> Tensor<1> {
        (x - self.mean) / self.std.max(MIN_STD)
    }
}

/// What the combined score is fitted on: the training images' latents and scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CombinedStatistics {
    /// Latent dimensions.
    pub dim: usize,
    /// The training latents compared against, unit length, row-major `n x dim`, rounded
    /// as the checkpoint stores them (the model scores with exactly what a file holds).
    pub neighbours: Latents,
    /// Spread of the training images' distances to their nearest other training latent.
    pub distance: Spread,
    /// Spread of the training images' MSE.
    pub mse: Spread,
    /// Spread of the training images' difference ratio.
    pub ratio: Spread,
}

impl CombinedStatistics {
    /// Statistics before any fitting (a model straight from `init`): no neighbours (the
    /// distance term is 0) and MSE and ratio unscaled.
    pub fn unfitted(dim: usize) -> Self {
        Self {
            dim,
            neighbours: Latents::default(),
            distance: Spread::IDENTITY,
            mse: Spread::IDENTITY,
            ratio: Spread::IDENTITY,
        }
    }

    /// Neighbours to keep from `latents` (row-major, `dim` wide): every one up to
    /// [`MAX_NEIGHBOURS`] (and [`MAX_NEIGHBOUR_VALUES`] numbers), that many evenly spaced
    /// beyond, unit length, in half precision.
    pub fn neighbours_of(latents: &[f32], dim: usize) -> Latents {
        let dim = dim.max(1);
        let n = latents.len() / dim;
        let kept = n
            .min(MAX_NEIGHBOURS)
            .min((MAX_NEIGHBOUR_VALUES / dim).max(1));
        Latents::half((0..kept).map(|i| i * n / kept).flat_map(|row| {
            let row = &latents[row * dim..(row + 1) * dim];
            let norm = row
                .iter()
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt()
                .max(NORM_EPSILON);
            row.iter().map(move |v| v / norm)
        }))
    }

    /// The same statistics with the bank in 8 bits per number, as a compact checkpoint
    /// stores it.
    pub fn with_byte_bank(mut self) -> Self {
        self.neighbours = self.neighbours.to_8_bit();
        self
    }

    /// Rows of [`Self::neighbours`] that estimate the distance's spread: evenly spaced.
    pub fn spread_sample(&self) -> Vec<usize> {
        let n = self.len();
        (0..n).step_by(n.div_ceil(SPREAD_SAMPLE).max(1)).collect()
    }

    /// Neighbours kept.
    pub fn len(&self) -> usize {
        self.neighbours.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Whether no neighbour is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cosine distance (`1 - cos`) of each latent to its nearest neighbour other than
    /// itself: a nearest neighbour closer than [`SELF_DISTANCE`] is the latent's own entry in the bank (a training image scored again) and is passed
    /// over for the next one, so training images score as an unseen normal image would, and
    /// thresholds fitted on them hold. Zero without neighbours.
    ///
    /// # Shapes
    /// `z`: `[batch, dim]` -> `[batch]`
    pub fn distance(&self, z: Tensor<2>) -> Tensor<1> {
        let bank = self.bank(&z.device());
        self.distance_to(bank.as_ref(), z)
    }

    /// The neighbours on `device` as unit rows, `[n, dim]`: what [`Self::distance_to`]
    /// compares against; `None` without neighbours.
    pub fn bank(&self, device: &Device) -> Option<Tensor<2>> {
        let n = self.len();
        // Rows unit length again after rounding: unnormalised, the rounding errors shift
        // every similarity to first order (up to 7e-4 in 8 bits, beyond SELF_DISTANCE).
        (n > 0).then(|| {
            unit_rows(Tensor::<2>::from_data(
                TensorData::new(self.neighbours.to_vec(), [n, self.dim]),
                device,
            ))
        })
    }

    /// [`Self::distance`] against `bank`, made by [`Self::bank`] once for many batches.
    ///
    /// # Shapes
    /// `bank`: `[n, dim]`, `z`: `[batch, dim]` -> `[batch]`
    pub fn distance_to(&self, bank: Option<&Tensor<2>>, z: Tensor<2>) -> Tensor<1> {
        let [batch, dim] = z.dims();
        let device = z.device();
        let Some(bank) = bank.filter(|_| dim == self.dim) else {
            return Tensor::zeros([batch], &device);
        };
        let [n, _] = bank.dims();
        let z = unit_rows(z); // [b, d]
        let similarity = z.matmul(bank.clone().transpose()); // [b, n]
        let nearest = similarity.clone().max_dim(1); // [b, 1]

        // The next nearest: the nearest entry (one, whatever the ties) masked out.
        let columns = Tensor::<1, Int>::arange(0..n as i64, &device)
            .reshape([1, n])
            .expand([batch, n]); // [b, n]
        let is_nearest = columns.equal(similarity.clone().argmax(1).expand([batch, n])); // [b, n]
        let next = similarity.mask_fill(is_nearest, -1.0).max_dim(1); // [b, 1]

        // Only the latent's own entry is passed over: near-duplicate images (identical
        // parts) still find each other.
        let not_itself = nearest.clone().lower_elem(1.0 - SELF_DISTANCE); // [b, 1]
        let nearest = next.mask_where(not_itself, nearest); // [b, 1]

        // Rounding can put cos a hair above 1.
        (nearest.neg() + 1.0).clamp_min(0.0).reshape([batch])
    }

    /// The combined score of latents `z` with their `mse` and `ratio`, against `bank` (made
    /// by [`Self::bank`] once for many batches).
    ///
    /// # Shapes
    /// `bank`: `[n, dim]`, `z`: `[batch, dim]`, `mse` and `ratio`: `[batch]` -> `[batch]`
    pub fn score(
        &self,
        bank: Option<&Tensor<2>>,
        z: Tensor<2>,
        mse: Tensor<1>,
        ratio: Tensor<1>,
    ) -> Tensor<1> {
        self.distance.standardise(self.distance_to(bank, z))
            + self.mse.standardise(mse)
            + self.ratio.standardise(ratio)
    }
}

/// Each row of `x` divided by its length (an all-zero row stays zero).
///
/// # Shapes
/// `x`: `[n, d]` -> `[n, d]`
fn unit_rows(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .clamp_min(NORM_EPSILON); // [n, 1]
    x / norm
}

/// Whether `kind` is scored from the latent's nearest training latents, with statistics
/// fitted after training ([`ScoreKind::Neighbour`] and [`ScoreKind::Combined`]).
pub fn uses_neighbours(kind: ScoreKind) -> bool {
    matches!(kind, ScoreKind::Neighbour | ScoreKind::Combined)
}

/// Whether a model may be configured to be judged by `kind` instead of its source's own
/// score: a neighbour score, or MSE, removed or erased ink (what a model trained to repair
/// pseudo-anomalies is judged by).
fn is_chosen(kind: ScoreKind) -> bool {
    uses_neighbours(kind)
        || matches!(
            kind,
            ScoreKind::Mse | ScoreKind::RemovedInk | ScoreKind::ErasedInk
        )
}

/// The score a model chosen to be judged by, with the statistics fitted for it (a
/// neighbour score's): what a model keeps beside its weights (and its checkpoint in its
/// header).
#[derive(Debug, Clone, PartialEq)]
pub struct LatentScore {
    kind: ScoreKind,
    statistics: CombinedStatistics,
    /// The statistics' bank on the device last scored on, decoded, uploaded and made unit
    /// length once, not again for each of a scoring's batches.
    bank: BankCache,
}

/// A [`LatentScore`]'s bank tensor, kept for the device it was made on; a clone starts
/// empty, so a model copied to another device never compares against the old one's.
#[derive(Debug, Default)]
struct BankCache(std::sync::Mutex<Option<Tensor<2>>>);

impl BankCache {
    /// The bank of `statistics` on `device`, made on first use there.
    fn on(&self, statistics: &CombinedStatistics, device: &Device) -> Option<Tensor<2>> {
        // A poisoned lock only means a panic elsewhere mid-build: build afresh.
        let Ok(mut cached) = self.0.lock() else {
            return statistics.bank(device);
        };
        match cached.as_ref() {
            Some(bank) if bank.device() == *device => Some(bank.clone()),
            _ => {
                let bank = statistics.bank(device);
                cached.clone_from(&bank);
                bank
            }
        }
    }
}

impl Clone for BankCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// A cache is no part of what a score is.
impl PartialEq for BankCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl LatentScore {
    /// The score of a model configured to be judged by `kind` with a latent of `dim`,
    /// unfitted: a neighbour score, or MSE, removed or erased ink (what a model trained to repair
    /// pseudo-anomalies is judged by); `None` for any other (the model's source's own).
    pub fn unfitted(kind: Option<ScoreKind>, dim: usize) -> Option<Self> {
        kind.filter(|&k| is_chosen(k)).map(|kind| Self {
            kind,
            statistics: CombinedStatistics::unfitted(dim),
            bank: BankCache::default(),
        })
    }

    /// The score a model configured with `kind` is judged by: `kind` where a model may be
    /// judged by it, else `own` (its source's).
    pub fn chosen_kind(kind: Option<ScoreKind>, own: ScoreKind) -> ScoreKind {
        kind.filter(|&k| is_chosen(k)).unwrap_or(own)
    }

    /// Which score.
    pub fn kind(&self) -> ScoreKind {
        self.kind
    }

    /// Its statistics, for a neighbour score (MSE needs none).
    pub fn statistics(&self) -> Option<&CombinedStatistics> {
        uses_neighbours(self.kind).then_some(&self.statistics)
    }

    /// The same score with `statistics` fitted on the training images.
    pub fn with_statistics(self, statistics: CombinedStatistics) -> Self {
        Self {
            kind: self.kind,
            statistics,
            bank: BankCache::default(),
        }
    }

    /// `detection` with this score, of latents `z`, as its model score.
    ///
    /// # Shapes
    /// `z`: `[batch, dim]`; the detection's scores `[batch]`.
    pub fn judge(&self, z: Tensor<2>, detection: Detection) -> Detection {
        let bank = || self.bank.on(&self.statistics, &z.device());
        let score = match self.kind {
            ScoreKind::Neighbour => self.statistics.distance_to(bank().as_ref(), z),
            ScoreKind::Combined => self.statistics.score(
                bank().as_ref(),
                z,
                detection.mse.clone(),
                detection.difference_ratio.clone(),
            ),
            ScoreKind::RemovedInk => detection.removed_ink.clone(),
            ScoreKind::ErasedInk => detection.erased_ink.clone(),
            _ => detection.mse.clone(),
        };
        detection.with_model_score(score)
    }

    /// Fits the statistics on a model's training images (see [`fit`]).
    pub async fn fit(
        self,
        inputs: &Images,
        clean: &Images,
        batch: usize,
        device: &Device,
        detect: impl Fn(Tensor<4>, Tensor<4>) -> (Tensor<2>, Detection),
    ) -> Result<Self, ReadError> {
        let statistics = fit(inputs, clean, batch, self.statistics.dim, device, detect).await?;
        Ok(self.with_statistics(statistics))
    }
}

/// A model that may be judged by a neighbour score of its features (or by MSE) instead of
/// its source's own: what the shared judge and fit need from it.
pub trait LatentJudged: Sized {
    /// The score it is chosen to be judged by, if any (unfitted until training finishes).
    fn latent_score(&self) -> Option<&LatentScore>;

    /// The same model judged by `score`.
    fn with_latent_score(self, score: LatentScore) -> Self;

    /// Its source's detection, with the latents it reconstructed from.
    ///
    /// # Shapes
    /// `input`, `clean`: `[batch, c, s, s]` -> (`[batch, latent]`, detection)
    fn detect_with_latent(&self, input: Tensor<4>, clean: Tensor<4>) -> (Tensor<2>, Detection);

    /// Its detection, judged by its neighbour score where it has one.
    ///
    /// # Shapes
    /// `input`, `clean`: `[batch, c, s, s]`
    fn judged_detection(&self, input: Tensor<4>, clean: Tensor<4>) -> Detection {
        let (z, detection) = self.detect_with_latent(input, clean);
        let detection = detection.with_latent(z.clone());
        match self.latent_score() {
            Some(score) => score.judge(z, detection),
            None => detection,
        }
    }

    /// The score it is judged by: its chosen one, or `own` (its source's).
    fn judged_score_kind(&self, own: ScoreKind) -> ScoreKind {
        self.latent_score().map_or(own, LatentScore::kind)
    }

    /// The statistics of its neighbour score, if it is judged by one.
    fn judged_statistics(&self) -> Option<&CombinedStatistics> {
        self.latent_score().and_then(LatentScore::statistics)
    }

    /// The same model scored with `statistics` (fitted on its training images); a model
    /// not judged by a neighbour score ignores them.
    fn with_combined(self, statistics: CombinedStatistics) -> Self {
        match self.latent_score().cloned() {
            Some(score) => self.with_latent_score(score.with_statistics(statistics)),
            None => self,
        }
    }
}

/// [`LatentJudged`]'s accessors for a model that keeps its score in a field
/// `latent_score: Option<LatentScore>` (every model does).
macro_rules! latent_score_field {
    () => {
        fn latent_score(&self) -> Option<&$crate::combined::LatentScore> {
            self.latent_score.as_ref()
        }

        fn with_latent_score(self, score: $crate::combined::LatentScore) -> Self {
            Self {
                latent_score: Some(score),
                ..self
            }
        }
    };
}
pub(crate) use latent_score_field;

/// `model` with its neighbour score fitted on its training images, where it is judged by
/// one (a [`crate::train::SelfSupervised::fit`]).
pub async fn fit_model<M: LatentJudged>(
    model: M,
    source: &BatchSource,
    device: &Device,
) -> Result<M, ReadError> {
    let Some(unfitted) = model
        .latent_score()
        .filter(|score| uses_neighbours(score.kind()))
        .cloned()
    else {
        return Ok(model);
    };
    let fitted = unfitted
        .fit(
            &source.inputs()?,
            source.images(),
            source.batch_rows(),
            device,
            |input, clean| model.detect_with_latent(input, clean),
        )
        .await?;
    Ok(model.with_latent_score(fitted))
}

/// Fits the statistics on a model's training images: `inputs` as the model takes them
/// (normalised), `clean` the same images in [0, 1]; `detect` runs the model on a batch of
/// each and gives the latents `[batch, dim]` and the detection (for MSE and ratio); every
/// batch is sent as `batch` images (the run's training batch, [`Images::batch_tensor`]).
pub async fn fit(
    inputs: &Images,
    clean: &Images,
    batch: usize,
    dim: usize,
    device: &Device,
    detect: impl Fn(Tensor<4>, Tensor<4>) -> (Tensor<2>, Detection),
) -> Result<CombinedStatistics, ReadError> {
    let (mut latents, mut mse, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for rows in fixed_batches(inputs.len(), batch) {
        let n = rows.len();
        let (z, detection) = detect(
            inputs.batch_tensor(rows.clone(), batch, device),
            clean.batch_tensor(rows, batch, device),
        );
        latents.extend(read_vec(z.narrow(0, 0, n).into_data_async().await)?);
        let scores = detection.first(n).read_scores().await?;
        mse.extend(scores.mse);
        ratio.extend(scores.difference_ratio);
    }
    let mut statistics = CombinedStatistics {
        neighbours: CombinedStatistics::neighbours_of(&latents, dim),
        mse: Spread::of(&mse),
        ratio: Spread::of(&ratio),
        ..CombinedStatistics::unfitted(dim)
    };
    // Each sampled neighbour's distance to its nearest other one: what a normal image
    // scores, without counting itself.
    let sample: Vec<f32> = statistics
        .spread_sample()
        .into_iter()
        .flat_map(|row| statistics.neighbours[row * dim..(row + 1) * dim].to_vec())
        .collect();
    let mut distances = Vec::new();
    let bank = statistics.bank(device);
    for rows in sample.chunks(FIT_BATCH * dim) {
        let z = Tensor::<2>::from_data(
            TensorData::new(rows.to_vec(), [rows.len() / dim, dim]),
            device,
        );
        distances.extend(read_vec(
            statistics
                .distance_to(bank.as_ref(), z)
                .into_data_async()
                .await,
        )?);
    }
    statistics.distance = Spread::of(&distances);
    Ok(statistics)
}

#[cfg(test)]
mod tests;
