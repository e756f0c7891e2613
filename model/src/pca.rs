//! Principal component analysis down to two dimensions: how the latent-space view lays a
//! model's codes on a plane.
//!
//! Pure and small: the covariance matrix of the codes, then its two leading eigenvectors by
//! power iteration with deflation (latents are at most a few hundred wide, so the matrix
//! fits easily).

/// Power-iteration steps at most per axis.
const MAX_ITERATIONS: usize = 1_000;
/// Change in the axis (1 - |cos|) under which power iteration has converged.
const TOLERANCE: f64 = 1e-12;

/// Why codes could not be projected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PcaError {
    /// No codes, or codes of width 0.
    #[error("no latent codes to project")]
    Empty,
    /// The numbers do not split into rows of the width given.
    #[error("{len} numbers do not make rows of {dim}")]
    Ragged {
        /// How many numbers there are.
        len: usize,
        /// The width asked for.
        dim: usize,
    },
    /// A code holds NaN or an infinity.
    #[error("latent code {row} is not finite")]
    NotFinite {
        /// Its row.
        row: usize,
    },
}

/// A plane fitted to codes: their mean and two orthonormal axes, the directions of the
/// largest variance (or the codes' own axes when they are 2 wide or narrower).
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// Width of the codes.
    pub dim: usize,
    /// The codes' mean.
    pub mean: Vec<f64>,
    /// The two axes, unit length, each `dim` long (the second all zero for 1-wide codes).
    pub axes: [Vec<f64>; 2],
    /// The share of the codes' total variance along each axis, in [0, 1].
    pub explained: [f64; 2],
}

impl Projection {
    /// Fits the plane to `rows`: `dim` numbers per code, row after row.
    pub fn fit(rows: &[f32], dim: usize) -> Result<Self, PcaError> {
        if dim == 0 || rows.is_empty() {
            return Err(PcaError::Empty);
        }
        if !rows.len().is_multiple_of(dim) {
            return Err(PcaError::Ragged {
                len: rows.len(),
                dim,
            });
        }
        if let Some(row) = rows.iter().position(|v| !v.is_finite()) {
            return Err(PcaError::NotFinite { row: row / dim });
        }
        let n = rows.len() / dim;
        let mut mean = vec![0.0f64; dim];
        for row in rows.chunks(dim) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v) / n as f64;
            }
        }
        let mut covariance = vec![0.0f64; dim * dim];
        let mut centred = vec![0.0f64; dim];
        for row in rows.chunks(dim) {
            for ((c, &v), m) in centred.iter_mut().zip(row).zip(&mean) {
                *c = f64::from(v) - m;
            }
            for i in 0..dim {
                let ci = centred[i];
                for j in i..dim {
                    covariance[i * dim + j] += ci * centred[j] / n as f64;
                }
            }
        }
        for i in 0..dim {
            for j in 0..i {
                covariance[i * dim + j] = covariance[j * dim + i];
            }
        }
        let total: f64 = (0..dim).map(|i| covariance[i * dim + i]).sum();
        let share = |variance: f64| {
            if total > 0.0 {
                (variance / total).clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        let axes = if dim <= 2 {
            // Already on a plane: its own axes, so the picture shows the codes as they are.
            let unit = |k: usize| (0..dim).map(|i| f64::from(u8::from(i == k))).collect();
            [unit(0), unit(1)]
        } else {
            let first = leading_axis(&covariance, dim);
            let variance = rayleigh(&covariance, &first);
            // Deflate: remove the first axis's variance, then find the next.
            for i in 0..dim {
                for j in 0..dim {
                    covariance[i * dim + j] -= variance * first[i] * first[j];
                }
            }
            let mut second = leading_axis(&covariance, dim);
            // Orthogonal to the first despite rounding.
            let overlap = dot(&first, &second);
            for (s, f) in second.iter_mut().zip(&first) {
                *s -= overlap * f;
            }
            normalise(&mut second);
            [first, second]
        };
        let mut projection = Self {
            dim,
            mean,
            axes,
            explained: [0.0; 2],
        };
        // Variance along each axis, measured on the codes themselves.
        let points = projection.project(rows);
        for k in 0..2 {
            let variance = points.iter().map(|p| f64::from(p[k]).powi(2)).sum::<f64>() / n as f64;
            projection.explained[k] = share(variance);
        }
        Ok(projection)
    }

    /// Each code's coordinates on the plane (centred on the fitted mean).
    pub fn project(&self, rows: &[f32]) -> Vec<[f32; 2]> {
        rows.chunks_exact(self.dim)
            .map(|row| {
                let coordinate = |axis: &[f64]| {
                    row.iter()
                        .zip(&self.mean)
                        .zip(axis)
                        .map(|((&v, m), a)| (f64::from(v) - m) * a)
                        .sum::<f64>() as f32
                };
                [coordinate(&self.axes[0]), coordinate(&self.axes[1])]
            })
            .collect()
    }
}

/// The unit eigenvector of the largest eigenvalue of the symmetric `matrix` (dim x dim),
/// by power iteration; its largest entry made positive so the result is deterministic.
fn leading_axis(matrix: &[f64], dim: usize) -> Vec<f64> {
    // A start with a component along every direction (no eigenvector is orthogonal to it
    // but by measure-zero accident).
    let mut v: Vec<f64> = (0..dim).map(|i| 1.0 + (i as f64 * 0.618).fract()).collect();
    normalise(&mut v);
    for _ in 0..MAX_ITERATIONS {
        let mut next: Vec<f64> = (0..dim)
            .map(|i| dot(&matrix[i * dim..(i + 1) * dim], &v))
            .collect();
        if normalise(&mut next) == 0.0 {
            // The matrix is zero along v: no variance left.
            break;
        }
        let converged = 1.0 - dot(&next, &v).abs() < TOLERANCE;
        v = next;
        if converged {
            break;
        }
    }
    let largest = v
        .iter()
        .copied()
        .max_by(|a, b| a.abs().total_cmp(&b.abs()))
        .unwrap_or(1.0);
    if largest < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
    v
}

/// `v^T M v` for a unit `v`: the variance along it.
fn rayleigh(matrix: &[f64], v: &[f64]) -> f64 {
    let dim = v.len();
    (0..dim)
        .map(|i| v[i] * dot(&matrix[i * dim..(i + 1) * dim], v))
        .sum()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales `v` to unit length; returns the length it had.
fn normalise(v: &mut [f64]) -> f64 {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes `mean + a * e1 + b * e2 + c * e3` on a rotated basis of R^4, with a, b, c
    /// spread +-3, +-2, +-1 (variances 9, 4, 1).
    fn rotated_codes() -> (Vec<f32>, [Vec<f64>; 3]) {
        let s = 0.5f64;
        let e1 = vec![s, s, s, s];
        let e2 = vec![s, -s, s, -s];
        let e3 = vec![s, s, -s, -s];
        let mean = [1.0, -2.0, 0.5, 3.0];
        let mut rows = Vec::new();
        for a in [-3.0, 3.0] {
            for b in [-2.0, 2.0] {
                for c in [-1.0, 1.0] {
                    for i in 0..4 {
                        rows.push((mean[i] + a * e1[i] + b * e2[i] + c * e3[i]) as f32);
                    }
                }
            }
        }
        (rows, [e1, e2, e3])
    }

    #[test]
    fn finds_the_two_widest_directions_of_a_known_matrix() {
        let (rows, [e1, e2, _]) = rotated_codes();
        let pca = Projection::fit(&rows, 4).unwrap();
        assert!(
            (dot(&pca.axes[0], &e1).abs() - 1.0).abs() < 1e-9,
            "{:?}",
            pca.axes[0]
        );
        assert!(
            (dot(&pca.axes[1], &e2).abs() - 1.0).abs() < 1e-9,
            "{:?}",
            pca.axes[1]
        );
        assert!(dot(&pca.axes[0], &pca.axes[1]).abs() < 1e-9);
        // Variances 9, 4, 1 of 14.
        assert!(
            (pca.explained[0] - 9.0 / 14.0).abs() < 1e-6,
            "{:?}",
            pca.explained
        );
        assert!(
            (pca.explained[1] - 4.0 / 14.0).abs() < 1e-6,
            "{:?}",
            pca.explained
        );
        assert_eq!(pca.mean, vec![1.0, -2.0, 0.5, 3.0]);
        // The first code (a = -3, b = -2) lands at (-3, -2) up to the axes' signs.
        let first = pca.project(&rows[..4])[0];
        assert!((first[0].abs() - 3.0).abs() < 1e-5 && (first[1].abs() - 2.0).abs() < 1e-5);
    }

    #[test]
    fn the_result_is_deterministic_in_sign() {
        let (rows, _) = rotated_codes();
        let a = Projection::fit(&rows, 4).unwrap();
        let b = Projection::fit(&rows, 4).unwrap();
        assert_eq!(a, b);
        for axis in &a.axes {
            let largest = axis
                .iter()
                .copied()
                .max_by(|x, y| x.abs().total_cmp(&y.abs()));
            assert!(largest.unwrap() > 0.0, "{axis:?}");
        }
    }

    #[test]
    fn codes_two_wide_or_narrower_keep_their_own_axes() {
        let rows = [1.0, 5.0, 3.0, 5.0, 2.0, 8.0, 2.0, 2.0];
        let pca = Projection::fit(&rows, 2).unwrap();
        assert_eq!(pca.axes, [vec![1.0, 0.0], vec![0.0, 1.0]]);
        assert_eq!(pca.project(&rows)[0], [-1.0, 0.0]);
        let line = Projection::fit(&[1.0, 2.0, 3.0], 1).unwrap();
        assert_eq!(line.project(&[3.0]), vec![[1.0, 0.0]]);
        assert_eq!(line.explained, [1.0, 0.0]);
    }

    #[test]
    fn bad_codes_are_refused_with_a_reason() {
        assert_eq!(Projection::fit(&[], 3), Err(PcaError::Empty));
        assert_eq!(Projection::fit(&[1.0], 0), Err(PcaError::Empty));
        assert_eq!(
            Projection::fit(&[1.0; 7], 3),
            Err(PcaError::Ragged { len: 7, dim: 3 })
        );
        assert_eq!(
            Projection::fit(&[1.0, 2.0, 3.0, f32::NAN, 0.0, 0.0], 3),
            Err(PcaError::NotFinite { row: 1 })
        );
    }

    #[test]
    fn identical_codes_project_to_the_origin() {
        let pca = Projection::fit(&[2.0; 12], 4).unwrap();
        assert_eq!(pca.explained, [0.0, 0.0]);
        assert!(pca.project(&[2.0; 4])[0].iter().all(|v| v.abs() < 1e-9));
    }
}
