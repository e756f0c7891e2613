//! Hotelling's T² (seed 002): how far a vector lies from a fitted Gaussian, in units of
//! its covariance. Pure functions over plain slices, so the statistics can be stored in a
//! checkpoint header and checked by hand.

use serde::{Deserialize, Serialize};

/// Ridge added to the covariance's diagonal, relative to its mean variance, so that a
/// degenerate latent (a dimension the encoder never uses) still inverts.
const RIDGE: f64 = 1e-6;

/// Why statistics could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HotellingError {
    /// Fewer than two vectors, or none of the stated dimension.
    #[error("T² needs at least 2 vectors of dimension {dim} to fit, got {values} values")]
    TooFew {
        /// The vector dimension asked for.
        dim: usize,
        /// Values given.
        values: usize,
    },
    /// A value is NaN or infinite.
    #[error("T² cannot be fitted on non-finite values")]
    NotFinite,
}

/// The mean and inverse covariance of the training vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hotelling {
    /// Mean vector, `dim` values.
    pub mean: Vec<f32>,
    /// Covariance (unbiased, with a small ridge), row-major `dim x dim`.
    pub covariance: Vec<f32>,
    /// Its inverse, row-major `dim x dim`.
    pub inverse_covariance: Vec<f32>,
}

impl Hotelling {
    /// The standard normal `N(0, I)` in `dim` dimensions: T² is then the squared norm.
    pub fn standard(dim: usize) -> Self {
        let identity: Vec<f32> = (0..dim * dim)
            .map(|i| if i % (dim + 1) == 0 { 1.0 } else { 0.0 })
            .collect();
        Self {
            mean: vec![0.0; dim],
            covariance: identity.clone(),
            inverse_covariance: identity,
        }
    }

    /// Fits the statistics on row-major vectors of dimension `dim`.
    pub fn fit(vectors: &[f32], dim: usize) -> Result<Self, HotellingError> {
        let n = vectors.len().checked_div(dim).unwrap_or(0);
        if n < 2 || vectors.len() != n * dim {
            return Err(HotellingError::TooFew {
                dim,
                values: vectors.len(),
            });
        }
        if vectors.iter().any(|v| !v.is_finite()) {
            return Err(HotellingError::NotFinite);
        }
        let mut mean = vec![0.0f64; dim];
        for row in vectors.chunks(dim) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v) / n as f64;
            }
        }
        let mut cov = vec![0.0f64; dim * dim];
        for row in vectors.chunks(dim) {
            for i in 0..dim {
                let di = f64::from(row[i]) - mean[i];
                for j in 0..dim {
                    cov[i * dim + j] += di * (f64::from(row[j]) - mean[j]) / (n - 1) as f64;
                }
            }
        }
        let mean_variance = (0..dim).map(|i| cov[i * dim + i]).sum::<f64>() / dim as f64;
        let ridge = RIDGE * mean_variance.max(f64::MIN_POSITIVE);
        for i in 0..dim {
            cov[i * dim + i] += ridge;
        }
        let inverse = invert(&cov, dim).ok_or(HotellingError::NotFinite)?;
        let to_f32 = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
        Ok(Self {
            mean: to_f32(mean),
            covariance: to_f32(cov),
            inverse_covariance: to_f32(inverse),
        })
    }

    /// Dimension of the vectors.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// `T² = (z - mean)ᵀ Σ⁻¹ (z - mean)` of one vector.
    pub fn t2(&self, z: &[f32]) -> f32 {
        let dim = self.dim();
        let d: Vec<f32> = z.iter().zip(&self.mean).map(|(z, m)| z - m).collect();
        (0..dim)
            .map(|i| {
                let row = &self.inverse_covariance[i * dim..(i + 1) * dim];
                d[i] * row.iter().zip(&d).map(|(a, b)| a * b).sum::<f32>()
            })
            .sum()
    }
}

/// Gauss-Jordan inverse with partial pivoting; `None` if the matrix is singular.
fn invert(matrix: &[f64], dim: usize) -> Option<Vec<f64>> {
    let width = 2 * dim;
    let mut m = vec![0.0; dim * width];
    for i in 0..dim {
        m[i * width..i * width + dim].copy_from_slice(&matrix[i * dim..(i + 1) * dim]);
        m[i * width + dim + i] = 1.0;
    }
    for col in 0..dim {
        let pivot = (col..dim).max_by(|&a, &b| {
            m[a * width + col]
                .abs()
                .total_cmp(&m[b * width + col].abs())
        })?;
        if m[pivot * width + col].abs() < 1e-300 {
            return None;
        }
        for k in 0..width {
            m.swap(col * width + k, pivot * width + k);
        }
        let p = m[col * width + col];
        for k in 0..width {
            m[col * width + k] /= p;
        }
        for row in (0..dim).filter(|&r| r != col) {
            let factor = m[row * width + col];
            for k in 0..width {
                m[row * width + k] -= factor * m[col * width + k];
            }
        }
    }
    let inverse: Vec<f64> = (0..dim)
        .flat_map(|i| m[i * width + dim..(i + 1) * width].to_vec())
        .collect();
    inverse.iter().all(|v| v.is_finite()).then_some(inverse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_mean_and_unbiased_covariance_by_hand() {
        // Points (0,0), (2,0), (0,2), (2,2): mean (1,1), variances 4/3, covariance 0.
        let h = Hotelling::fit(&[0.0, 0.0, 2.0, 0.0, 0.0, 2.0, 2.0, 2.0], 2).unwrap();
        assert_eq!(h.mean, vec![1.0, 1.0]);
        assert!((h.covariance[0] - 4.0 / 3.0).abs() < 1e-5);
        assert!(h.covariance[1].abs() < 1e-6);
        assert!((h.inverse_covariance[0] - 0.75).abs() < 1e-5);
        // (3, 1): d = (2, 0), T² = 4 * 0.75 = 3.
        assert!((h.t2(&[3.0, 1.0]) - 3.0).abs() < 1e-4);
        assert!(h.t2(&[1.0, 1.0]).abs() < 1e-9);
    }

    #[test]
    fn correlated_dimensions_use_the_full_inverse() {
        // Covariance [[2, 1], [1, 2]] has inverse [[2, -1], [-1, 2]] / 3.
        let inv = invert(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        let expected = [2.0 / 3.0, -1.0 / 3.0, -1.0 / 3.0, 2.0 / 3.0];
        for (a, b) in inv.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{inv:?}");
        }
        assert_eq!(invert(&[1.0, 2.0, 2.0, 4.0], 2), None);
    }

    #[test]
    fn the_standard_normal_gives_the_squared_norm() {
        let h = Hotelling::standard(3);
        assert!((h.t2(&[1.0, 2.0, 2.0]) - 9.0).abs() < 1e-6);
    }

    #[test]
    fn too_few_or_non_finite_vectors_are_refused() {
        assert!(matches!(
            Hotelling::fit(&[1.0, 2.0], 2),
            Err(HotellingError::TooFew { dim: 2, values: 2 })
        ));
        assert_eq!(
            Hotelling::fit(&[1.0, f32::NAN, 0.0, 1.0], 2),
            Err(HotellingError::NotFinite)
        );
    }
}
