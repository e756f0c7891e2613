//! What the adversarially trained models share (GANomaly, Skip-GANomaly, the AAE): Adam with
//! the DCGAN betas, binary cross-entropy, and the discriminator's collapse check.

use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::tensor::Tensor;

/// A discriminator is re-initialised when its loss falls below this (GANomaly's reference
/// code): it has won outright and its gradients no longer teach the generator.
pub(crate) const COLLAPSED_DISCRIMINATOR_LOSS: f32 = crate::divergence::COLLAPSED_LOSS;
/// Keeps `log` finite in the binary cross-entropy.
const PROBABILITY_EPSILON: f32 = 1e-7;

/// Adam with the given betas (DCGAN's 0.5 / 0.999 by default in the configs).
pub(crate) fn adam(beta_1: f32, beta_2: f32) -> ModuleOptimizer {
    AdamConfig::new()
        .with_beta_1(beta_1)
        .with_beta_2(beta_2)
        .init()
}

/// Binary cross-entropy of probabilities against an all-`target` label, averaged.
///
/// # Shapes
/// `p`: `[batch]` in (0, 1); returns `[1]`.
pub(crate) fn bce(p: Tensor<1>, target: bool) -> Tensor<1> {
    let p = p.clamp(PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON);
    let p = if target { p } else { p.neg().add_scalar(1.0) };
    p.log().neg().mean()
}

/// The discriminator's loss `(BCE(D(real), 1) + BCE(D(fake), 0)) / 2` (seed 000, eq. 9).
pub(crate) fn discriminator_loss(p_real: Tensor<1>, p_fake: Tensor<1>) -> Tensor<1> {
    (bce(p_real, true) + bce(p_fake, false)).div_scalar(2.0)
}
