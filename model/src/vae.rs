//! What the variational autoencoders share (seed 001 §2.3, seed 004 §4.2): the Gaussian
//! posterior with a softplus sigma, the reparametrised sample, the KL term, the loss and
//! the `reconstruction + beta * KL` score.

use burn::tensor::activation::softplus;
use burn::tensor::{Distribution, Tensor};

use crate::score::{Detection, ScoreKind};

/// Keeps `ln(sigma)` and the BCE's logarithms finite.
const EPSILON: f32 = 1e-6;

/// The encoder's posterior `q(z|x) = N(mu, diag(sigma^2))`, `[batch, latent]` each.
#[derive(Debug, Clone)]
pub struct Gaussian {
    /// Means.
    pub mu: Tensor<2>,
    /// Standard deviations (positive).
    pub sigma: Tensor<2>,
}

/// Standard deviations from an unconstrained head: `softplus(h)`, as seed 001 does, so
/// they are positive without the overflow of `exp`.
pub fn sigma_from(head: Tensor<2>) -> Tensor<2> {
    softplus(head, 1.0).add_scalar(EPSILON)
}

impl Gaussian {
    /// A reparametrised sample `mu + sigma * eps`, `eps ~ N(0, I)`: gradients reach both.
    pub fn sample(&self) -> Tensor<2> {
        let eps = self.mu.random_like(Distribution::Normal(0.0, 1.0));
        self.mu.clone() + self.sigma.clone() * eps
    }

    /// `KL(q(z|x) || N(0, I)) = 1/2 sum(mu^2 + sigma^2 - 1 - 2 ln sigma)` per image, `[batch]`.
    pub fn kl(&self) -> Tensor<1> {
        let [batch, _] = self.mu.dims();
        let sigma = self.sigma.clone();
        (self.mu.clone().square() + sigma.clone().square() - 1.0 - sigma.log().mul_scalar(2.0))
            .sum_dim(1)
            .mul_scalar(0.5)
            .reshape([batch])
    }
}

/// The VAE's training loss `BCE(x, x^) + beta * KL`, each summed per image and averaged
/// over the batch (seed 004's `vae_loss`), with its two terms.
///
/// # Shapes
/// `reconstruction`, `target`: `[batch, c, h, w]` in [0, 1].
pub fn losses(
    reconstruction: Tensor<4>,
    target: Tensor<4>,
    posterior: &Gaussian,
    beta: f32,
) -> Vec<(&'static str, Tensor<1>)> {
    let [batch, ..] = target.dims();
    let r = reconstruction.clamp(EPSILON, 1.0 - EPSILON);
    let bce = (target.clone() * r.clone().log() + (target.neg() + 1.0) * (r.neg() + 1.0).log())
        .neg()
        .reshape([batch as i64, -1])
        .sum_dim(1)
        .mean();
    let kl = posterior.kl().mean();
    let total = bce.clone() + kl.clone().mul_scalar(beta);
    vec![("loss", total), ("reconstruction", bce), ("kl", kl)]
}

/// The losses of an autoencoder that may be variational: `MSE(x, x^)` decoded from a
/// deterministic latent (`sigma` is `None`), the VAE loss decoded from a sample otherwise.
///
/// # Shapes
/// `mu`, `sigma`: `[batch, latent]`; `decode`: `[batch, latent]` -> `[batch, c, h, w]`;
/// `target`: `[batch, c, h, w]`.
pub fn autoencoder_losses(
    mu: Tensor<2>,
    sigma: Option<Tensor<2>>,
    decode: impl Fn(Tensor<2>) -> Tensor<4>,
    target: Tensor<4>,
    beta: f32,
) -> Vec<(&'static str, Tensor<1>)> {
    match sigma {
        None => vec![("reconstruction", (decode(mu) - target).square().mean())],
        Some(sigma) => {
            let posterior = Gaussian { mu, sigma };
            losses(decode(posterior.sample()), target, &posterior, beta)
        }
    }
}

/// The detection of an autoencoder that may be variational, with the latent mean it was
/// reconstructed from (so scores are deterministic); a VAE adds its
/// `MSE + beta * KL / pixels` score.
///
/// # Shapes
/// `x`: `[batch, c, h, w]`; `mu`, `sigma`: `[batch, latent]` -> (`mu`, detection)
pub fn autoencoder_detection(
    x: Tensor<4>,
    mu: Tensor<2>,
    sigma: Option<Tensor<2>>,
    decode: impl Fn(Tensor<2>) -> Tensor<4>,
    beta: f32,
) -> (Tensor<2>, Detection) {
    let [_, c, h, w] = x.dims();
    let detection = Detection::from_reconstruction(x, decode(mu.clone()));
    let detection = match sigma {
        Some(sigma) => {
            let posterior = Gaussian {
                mu: mu.clone(),
                sigma,
            };
            let score = score(detection.mse.clone(), &posterior, beta, c * h * w);
            detection.with_model_score(score)
        }
        None => detection,
    };
    (mu, detection)
}

/// The score an autoencoder that may be variational is judged by: the VAE's own
/// `MSE + beta * KL / pixels`, the plain autoencoder's MSE.
pub fn score_kind(variational: bool) -> ScoreKind {
    if variational {
        ScoreKind::Elbo
    } else {
        ScoreKind::Mse
    }
}

/// The anomaly score `MSE(x, x^) + beta * KL / pixels`: seed 004's reconstruction + beta*KL,
/// divided by the pixel count so that `beta = 0` is exactly the MSE score.
///
/// # Shapes
/// `mse`: `[batch]`; `posterior`: `[batch, latent]`; `pixels`: values per image.
pub fn score(mse: Tensor<1>, posterior: &Gaussian, beta: f32, pixels: usize) -> Tensor<1> {
    mse + posterior.kl().mul_scalar(beta / pixels.max(1) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn kl_of_the_prior_is_zero_and_grows_away_from_it() {
        let device = Device::flex();
        let prior = Gaussian {
            mu: Tensor::zeros([2, 3], &device),
            sigma: Tensor::ones([2, 3], &device),
        };
        let kl = prior.kl().into_data().try_into_vec::<f32>().unwrap();
        assert!(kl.iter().all(|v| v.abs() < 1e-6), "{kl:?}");
        // mu = 1 in one dimension, sigma = 1: KL = 1/2.
        let shifted = Gaussian {
            mu: Tensor::from_floats([[1.0, 0.0, 0.0]], &device),
            sigma: Tensor::ones([1, 3], &device),
        };
        let kl = shifted.kl().into_data().try_into_vec::<f32>().unwrap()[0];
        assert!((kl - 0.5).abs() < 1e-6, "{kl}");
    }

    #[test]
    fn softplus_sigma_is_positive() {
        let device = Device::flex();
        let sigma = sigma_from(Tensor::from_floats([[-30.0, 0.0, 30.0]], &device));
        let values = sigma.into_data().try_into_vec::<f32>().unwrap();
        assert!(values[0] > 0.0);
        assert!((values[1] - 2f32.ln()).abs() < 1e-4);
        assert!((values[2] - 30.0).abs() < 1e-3);
    }
}
