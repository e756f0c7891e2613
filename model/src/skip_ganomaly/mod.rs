//! Skip-GANomaly (seed 000 §2, §3.3; Akçay et al. 2019): a U-Net generator with skip
//! connections and GANomaly's discriminator.
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

pub use model::{SkipGanomaly, SkipGanomalyConfig, UNet, INPUT_SIZE};
pub use train::{SkipGanomalyTrainer, SkipGanomalyTrainingConfig};
