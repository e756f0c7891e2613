//! Skip-GANomaly (seed 000 §2, §3.3; Akçay et al. 2019): a U-Net generator with skip
//! connections and GANomaly's discriminator.
//!
//! The U-Net: 32x32 inputs go through two levels of two 3x3 convolutions (`f`, `2f` maps,
//! 2x2 max pooling between them) to a `4f` bottom at 8x8 and back up through 2x2 transposed
//! convolutions joined to the skips; 64x64 inputs take one more level (`4f`, bottom `8f`).
//!
//! Generator losses (seed 000, eqs. 5-8): `loss1 = |x - x^|` (contextual),
//! `loss2 = (f(x) - f(x^))^2` on discriminator features (latent), `loss3 = BCE(D(x^), 1)`
//! (adversarial), combined as `w_con * loss1 + w_lat * loss2 + w_adv * loss3` (defaults
//! 40 / 1 / 1 from the Skip-GANomaly paper). Discriminator: eq. 9, the BCE of GANomaly,
//! re-initialised when it collapses.
//!
//! Score: `l * mean|x - x^| + (1 - l) * mean((f(x) - f(x^))^2)` with `l = 0.9`
//! ([`ScoreKind::SkipGanomaly`](crate::score::ScoreKind)), so the detector keeps the
//! discriminator. The seed notes that a U-Net trained on normal images only reconstructs
//! anomalies too: pseudo-anomaly training is what makes it a detector.

mod model;
mod train;

pub use model::{SkipGanomaly, SkipGanomalyConfig, UNet, INPUT_SIZES};
pub use train::{SkipGanomalyTrainer, SkipGanomalyTrainingConfig};
