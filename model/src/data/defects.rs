//! Synthetic defects for pseudo-anomaly training (seed 000, section 4.2).
//!
//! Seed 000 trains the generator on inputs with a pseudo-anomaly added while the loss
//! compares its output with the clean image, so the generator learns to remove defects
//! and the difference map shows them. [`corrupt`] makes those inputs; the clean images
//! stay the targets. Every defect works on unit-range pixels (corrupt before
//! standardising) and keeps them in [0, 1], for any channel count and image size.

use rand::seq::index;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{DataError, Images};

/// Brightness of an overlaid image: seed 000 dims the second digit to "about 50 %".
pub const OVERLAY_BRIGHTNESS: f32 = 0.5;

/// Side of a noise patch or cut-out, as a share of the image's shorter side.
const PATCH_SHARE: (f32, f32) = (0.15, 0.35);
/// Semi-axes of a blob, as a share of the shorter side (diameters 16-40 %).
const BLOB_SHARE: (f32, f32) = (0.08, 0.2);
/// Length of a scratch, as a share of the shorter side.
const SCRATCH_SHARE: (f32, f32) = (0.4, 0.8);
/// Scratch half-width per pixel of the shorter side: one pixel wide at 28, two at 64.
const SCRATCH_HALF_WIDTH_PER_PIXEL: f32 = 1.0 / 56.0;

/// One kind of synthetic defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Defect {
    /// Another image of the batch blended in at [`OVERLAY_BRIGHTNESS`] (seed 000's anomaly).
    Overlay,
    /// A thin line segment at a random angle, white or black.
    Scratch,
    /// A filled ellipse of random size, angle and grey level.
    Blob,
    /// A square of uniform noise.
    NoisePatch,
    /// A square set to 0.
    Cutout,
}

impl Defect {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 5] = [
        Self::Overlay,
        Self::Scratch,
        Self::Blob,
        Self::NoisePatch,
        Self::Cutout,
    ];

    /// Its identifier in the CLI (`--defects`) and in share links.
    pub fn id(self) -> &'static str {
        match self {
            Self::Overlay => "overlay",
            Self::Scratch => "scratch",
            Self::Blob => "blob",
            Self::NoisePatch => "noise-patch",
            Self::Cutout => "cutout",
        }
    }

    /// Whether the defect only ever adds ink (an overlaid digit keeps the brighter of two
    /// pixels); a scratch or blob may be dark, a noise patch or a cut-out takes ink away.
    pub fn only_adds_ink(self) -> bool {
        matches!(self, Self::Overlay)
    }

    /// The kind with identifier `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.id() == id)
    }

    /// A short human-readable name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Overlay => "overlay",
            Self::Scratch => "scratch",
            Self::Blob => "blob",
            Self::NoisePatch => "noise patch",
            Self::Cutout => "cut-out",
        }
    }
}

/// Settings of pseudo-anomaly training; missing fields take their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PseudoAnomalies {
    /// Kinds to draw from, uniformly, one per corrupted image (a kind listed twice is
    /// drawn twice as often). Default: all of [`Defect::ALL`].
    pub kinds: Vec<Defect>,
    /// Share of each batch that gets a defect, in [0, 1]. Default: 0.5.
    pub fraction: f32,
}

impl Default for PseudoAnomalies {
    fn default() -> Self {
        Self {
            kinds: Defect::ALL.to_vec(),
            fraction: 0.5,
        }
    }
}

impl PseudoAnomalies {
    /// The default share of each batch, with defects of `kinds` (all of them if empty).
    pub fn of_kinds(kinds: &[Defect]) -> Self {
        if kinds.is_empty() {
            return Self::default();
        }
        Self {
            kinds: kinds.to_vec(),
            ..Self::default()
        }
    }

    /// Checks that `fraction` is in [0, 1] and `kinds` is not empty.
    pub fn validate(&self) -> Result<(), DataError> {
        // `contains` is false for NaN, so NaN is refused too.
        if !(0.0..=1.0).contains(&self.fraction) {
            return Err(DataError::Fraction {
                name: "pseudo-anomaly fraction",
                value: self.fraction,
            });
        }
        if self.kinds.is_empty() {
            return Err(DataError::NoDefectKinds);
        }
        Ok(())
    }
}

/// Gives `round(fraction * len)` images of the batch one random defect each.
///
/// Returns the corrupted inputs (the clean `images` are the training targets) and which
/// images got a defect. A defect may happen to be invisible (a cut-out on black
/// background); it still counts as applied. A [`Defect::Overlay`] takes another image
/// of the same batch, clean; in a batch of one it is not drawn, and if it was the only
/// kind that image stays clean. The same `rng` state gives the same result.
pub fn corrupt(
    images: &Images,
    config: &PseudoAnomalies,
    rng: &mut ChaCha8Rng,
) -> Result<(Images, Vec<bool>), DataError> {
    config.validate()?;
    let n = images.len();
    let shape = images.image_shape();
    let len = images.image_len();
    let mut corrupted = vec![false; n];
    let kinds: Vec<Defect> = config
        .kinds
        .iter()
        .copied()
        .filter(|&k| n > 1 || k != Defect::Overlay)
        .collect();
    if kinds.is_empty() || len == 0 {
        return Ok((images.clone(), corrupted));
    }
    let amount = ((config.fraction * n as f32).round() as usize).min(n);
    let mut pixels = images.pixels().to_vec();
    for i in index::sample(rng, n, amount) {
        let image = &mut pixels[i * len..(i + 1) * len];
        match kinds[rng.random_range(0..kinds.len())] {
            Defect::Overlay => {
                // Any image but this one: draw from n - 1 and skip over i.
                let j = rng.random_range(0..n - 1);
                let j = if j >= i { j + 1 } else { j };
                overlay(image, images.image(j));
            }
            Defect::Scratch => scratch(image, shape, rng),
            Defect::Blob => blob(image, shape, rng),
            Defect::NoisePatch => {
                let square = Square::random(shape, rng);
                fill(image, shape, |r, c| square.contains(r, c), || rng.random());
            }
            Defect::Cutout => cutout(image, shape, Square::random(shape, rng)),
        }
        corrupted[i] = true;
    }
    let [channels, height, width] = shape;
    Ok((Images::new(pixels, n, channels, height, width)?, corrupted))
}

/// Blends `other` into `image` at [`OVERLAY_BRIGHTNESS`]: `max(x, 0.5 * other)`.
///
/// Seed 000 lays a dimmed digit over a normal one ("重ねた") without saying how. The
/// maximum ("lighten") keeps the first digit as it is wherever it is brighter, shows the
/// second at exactly the stated brightness elsewhere and needs no clipping; a clamped
/// sum would brighten the first digit's grey edges wherever the strokes cross, which is
/// not in the description. On MNIST's black background the two agree almost everywhere.
pub(crate) fn overlay(image: &mut [f32], other: &[f32]) {
    for (x, &o) in image.iter_mut().zip(other) {
        *x = x.max(OVERLAY_BRIGHTNESS * o);
    }
}

/// An axis-aligned square of pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Square {
    top: usize,
    left: usize,
    side: usize,
}

impl Square {
    /// A square of [`PATCH_SHARE`] of the shorter side, placed wholly inside the image.
    fn random([_, height, width]: [usize; 3], rng: &mut ChaCha8Rng) -> Self {
        let shorter = height.min(width);
        let share = rng.random_range(PATCH_SHARE.0..=PATCH_SHARE.1);
        let side = ((shorter as f32 * share).round() as usize).clamp(1, shorter);
        Self {
            top: rng.random_range(0..=height - side),
            left: rng.random_range(0..=width - side),
            side,
        }
    }

    fn contains(self, row: usize, col: usize) -> bool {
        (self.top..self.top + self.side).contains(&row)
            && (self.left..self.left + self.side).contains(&col)
    }
}

/// Sets every channel of the pixels `inside` says are in the shape to `value()`.
fn fill(
    image: &mut [f32],
    [_, height, width]: [usize; 3],
    inside: impl Fn(usize, usize) -> bool,
    mut value: impl FnMut() -> f32,
) {
    for plane in image.chunks_mut(height * width) {
        for (row, line) in plane.chunks_mut(width).enumerate() {
            for (col, pixel) in line.iter_mut().enumerate() {
                if inside(row, col) {
                    *pixel = value();
                }
            }
        }
    }
}

/// Zeroes `square` in every channel.
fn cutout(image: &mut [f32], shape: [usize; 3], square: Square) {
    fill(image, shape, |r, c| square.contains(r, c), || 0.0);
}

/// A random point of the image plane, in pixel-centre coordinates `(x, y)`.
fn random_point([_, height, width]: [usize; 3], rng: &mut ChaCha8Rng) -> (f32, f32) {
    (
        rng.random_range(0.0..=(width - 1) as f32),
        rng.random_range(0.0..=(height - 1) as f32),
    )
}

/// Draws a white or black segment: every pixel whose centre lies within the half-width
/// of the segment (clipped to the image where it runs off).
fn scratch(image: &mut [f32], shape: [usize; 3], rng: &mut ChaCha8Rng) {
    let shorter = shape[1].min(shape[2]) as f32;
    let (cx, cy) = random_point(shape, rng);
    let half_length = 0.5 * shorter * rng.random_range(SCRATCH_SHARE.0..=SCRATCH_SHARE.1);
    let angle = rng.random_range(0.0..std::f32::consts::PI);
    let (dx, dy) = (half_length * angle.cos(), half_length * angle.sin());
    // At least half a pixel, so the line has no gaps at any angle.
    let half_width = (shorter * SCRATCH_HALF_WIDTH_PER_PIXEL).max(0.5);
    let value = if rng.random_bool(0.5) { 1.0 } else { 0.0 };
    let (ax, ay) = (cx - dx, cy - dy);
    let squared_length = 4.0 * (dx * dx + dy * dy);
    let near = |row: usize, col: usize| {
        let (px, py) = (col as f32 - ax, row as f32 - ay);
        // Projection of the pixel onto the segment, clamped to its ends.
        let t = if squared_length > 0.0 {
            ((px * 2.0 * dx + py * 2.0 * dy) / squared_length).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (ex, ey) = (px - t * 2.0 * dx, py - t * 2.0 * dy);
        ex * ex + ey * ey <= half_width * half_width
    };
    fill(image, shape, near, || value);
}

/// Fills a rotated ellipse with one grey level: a stain may be any shade.
fn blob(image: &mut [f32], shape: [usize; 3], rng: &mut ChaCha8Rng) {
    let shorter = shape[1].min(shape[2]) as f32;
    let (cx, cy) = random_point(shape, rng);
    // At least a pixel, so the blob covers its centre pixel's neighbourhood.
    let mut semi_axis = || (shorter * rng.random_range(BLOB_SHARE.0..=BLOB_SHARE.1)).max(1.0);
    let (a, b) = (semi_axis(), semi_axis());
    let (sin, cos) = rng.random_range(0.0..std::f32::consts::PI).sin_cos();
    let value: f32 = rng.random();
    let inside = |row: usize, col: usize| {
        let (x, y) = (col as f32 - cx, row as f32 - cy);
        let (u, v) = (x * cos + y * sin, y * cos - x * sin);
        (u / a).powi(2) + (v / b).powi(2) <= 1.0
    };
    fill(image, shape, inside, || value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ones(count: usize, channels: usize, height: usize, width: usize) -> Images {
        let pixels = vec![1.0; count * channels * height * width];
        Images::new(pixels, count, channels, height, width).unwrap()
    }

    fn bundled_batch(count: usize) -> Images {
        crate::data::bundled_for_tests()
            .images
            .select(&(0..count).collect::<Vec<_>>())
    }

    fn only(kind: Defect, fraction: f32) -> PseudoAnomalies {
        PseudoAnomalies {
            kinds: vec![kind],
            fraction,
        }
    }

    #[test]
    fn a_cutout_zeroes_exactly_its_square() {
        let mut image = vec![1.0; 2 * 4 * 5];
        let square = Square {
            top: 1,
            left: 2,
            side: 2,
        };
        cutout(&mut image, [2, 4, 5], square);
        #[rustfmt::skip]
        let plane = [
            1.0, 1.0, 1.0, 1.0, 1.0,
            1.0, 1.0, 0.0, 0.0, 1.0,
            1.0, 1.0, 0.0, 0.0, 1.0,
            1.0, 1.0, 1.0, 1.0, 1.0,
        ];
        assert_eq!(&image[..20], &plane);
        assert_eq!(&image[20..], &plane);
    }

    #[test]
    fn a_random_cutout_is_one_square_in_every_channel() {
        let images = ones(1, 3, 20, 30);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (out, flags) = corrupt(&images, &only(Defect::Cutout, 1.0), &mut rng).unwrap();
        assert_eq!(flags, vec![true]);
        let planes: Vec<&[f32]> = out.pixels().chunks(600).collect();
        assert!(planes.iter().all(|p| p == &planes[0]));
        let zeros: Vec<(usize, usize)> = (0..600)
            .filter(|&i| planes[0][i] == 0.0)
            .map(|i| (i / 30, i % 30))
            .collect();
        let (rows, cols): (Vec<usize>, Vec<usize>) = zeros.iter().copied().unzip();
        let side = rows.iter().max().unwrap() - rows.iter().min().unwrap() + 1;
        assert_eq!(
            cols.iter().max().unwrap() - cols.iter().min().unwrap() + 1,
            side
        );
        assert_eq!(zeros.len(), side * side);
        // 15-35 % of the shorter side (20 px).
        assert!((3..=7).contains(&side), "side {side}");
    }

    #[test]
    fn overlay_keeps_the_brighter_of_the_pixel_and_half_the_other() {
        let mut image = vec![0.0, 0.2, 0.9, 1.0];
        overlay(&mut image, &[1.0, 0.8, 0.4, 0.0]);
        assert_eq!(image, vec![0.5, 0.4, 0.9, 1.0]);
    }

    #[test]
    fn overlay_in_a_pair_takes_the_other_image() {
        let images = Images::new(vec![0.0, 0.2, 0.9, 1.0, 1.0, 0.8, 0.4, 0.0], 2, 1, 2, 2).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (out, flags) = corrupt(&images, &only(Defect::Overlay, 1.0), &mut rng).unwrap();
        assert_eq!(flags, vec![true, true]);
        assert_eq!(out.image(0), &[0.5, 0.4, 0.9, 1.0]);
        assert_eq!(out.image(1), &[1.0, 0.8, 0.45, 0.5]);
    }

    #[test]
    fn a_lone_image_gets_no_overlay_but_other_kinds() {
        let images = ones(1, 1, 8, 8);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (out, flags) = corrupt(&images, &only(Defect::Overlay, 1.0), &mut rng).unwrap();
        assert_eq!((out, flags), (images.clone(), vec![false]));
        let config = PseudoAnomalies {
            kinds: vec![Defect::Overlay, Defect::Cutout],
            fraction: 1.0,
        };
        let (out, flags) = corrupt(&images, &config, &mut rng).unwrap();
        assert_eq!(flags, vec![true]);
        assert!(out.pixels().contains(&0.0));
    }

    #[test]
    fn corruption_is_deterministic_per_seed_and_spares_the_rest() {
        let images = bundled_batch(100);
        let config = PseudoAnomalies {
            fraction: 0.3,
            ..PseudoAnomalies::default()
        };
        let run = |seed| corrupt(&images, &config, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        let (out, flags) = run(5);
        assert_eq!(run(5), (out.clone(), flags.clone()));
        assert_ne!(run(6).0, out);
        assert_eq!(flags.iter().filter(|&&f| f).count(), 30);
        for (i, &flag) in flags.iter().enumerate() {
            if !flag {
                assert_eq!(out.image(i), images.image(i), "image {i} was not chosen");
            }
        }
        // Most defects show (a cut-out or a dark scratch on background may not).
        let changed = (0..100)
            .filter(|&i| out.image(i) != images.image(i))
            .count();
        assert!(changed >= 20, "{changed} of 30 changed");
    }

    #[test]
    fn the_corrupted_count_rounds_the_fraction() {
        let images = ones(7, 1, 6, 6);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for (fraction, expected) in [(0.0, 0), (0.5, 4), (0.2, 1), (1.0, 7)] {
            let (_, flags) = corrupt(&images, &only(Defect::Cutout, fraction), &mut rng).unwrap();
            assert_eq!(flags.iter().filter(|&&f| f).count(), expected, "{fraction}");
        }
    }

    #[test]
    fn every_kind_keeps_pixels_in_unit_range_for_any_shape() {
        let digits = bundled_batch(20);
        let odd = Images::new(
            (0..2 * 2 * 5 * 7).map(|i| (i % 3) as f32 / 2.0).collect(),
            2,
            2,
            5,
            7,
        )
        .unwrap();
        let tiny = ones(3, 3, 1, 1);
        for images in [digits, odd, tiny] {
            for kind in Defect::ALL {
                let mut rng = ChaCha8Rng::seed_from_u64(11);
                let (out, flags) = corrupt(&images, &only(kind, 1.0), &mut rng).unwrap();
                assert_eq!(out.image_shape(), images.image_shape());
                assert!(flags.iter().all(|&f| f));
                assert!(
                    out.pixels().iter().all(|p| (0.0..=1.0).contains(p)),
                    "{kind:?} left the unit range"
                );
            }
        }
    }

    #[test]
    fn scratches_and_blobs_mark_pixels() {
        let images = Images::new(vec![0.5; 4 * 28 * 28], 4, 1, 28, 28).unwrap();
        for kind in [Defect::Scratch, Defect::Blob] {
            let mut rng = ChaCha8Rng::seed_from_u64(2);
            let (out, _) = corrupt(&images, &only(kind, 1.0), &mut rng).unwrap();
            for i in 0..4 {
                let marked = out.image(i).iter().filter(|&&p| p != 0.5).count();
                // A scratch is at least 0.4 * 28 long; a blob at least 2 x 2 px across.
                assert!(marked >= 4, "{kind:?} marked {marked} pixels");
            }
        }
    }

    #[test]
    fn bad_configs_name_what_is_wrong() {
        let images = ones(2, 1, 4, 4);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for fraction in [1.5, -0.1, f32::NAN] {
            let err = corrupt(&images, &only(Defect::Blob, fraction), &mut rng).unwrap_err();
            assert!(matches!(err, DataError::Fraction { .. }), "{err}");
            assert!(err.to_string().contains("fraction"), "{err}");
        }
        let empty = PseudoAnomalies {
            kinds: vec![],
            fraction: 0.5,
        };
        assert_eq!(
            corrupt(&images, &empty, &mut rng).unwrap_err(),
            DataError::NoDefectKinds
        );
    }

    #[test]
    fn the_config_has_documented_defaults_and_round_trips() {
        let default = PseudoAnomalies::default();
        assert_eq!(default.fraction, 0.5);
        assert_eq!(default.kinds, Defect::ALL.to_vec());
        let parsed: PseudoAnomalies = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, default);
        let json = serde_json::to_string(&only(Defect::NoisePatch, 0.25)).unwrap();
        assert_eq!(json, r#"{"kinds":["NoisePatch"],"fraction":0.25}"#);
        let back: PseudoAnomalies = serde_json::from_str(&json).unwrap();
        assert_eq!(back, only(Defect::NoisePatch, 0.25));
        // The kinds a run names, or every kind when it names none.
        assert_eq!(PseudoAnomalies::of_kinds(&[]), default);
        assert_eq!(
            PseudoAnomalies::of_kinds(&[Defect::Overlay]),
            only(Defect::Overlay, 0.5)
        );
    }

    #[test]
    fn ids_are_the_clis_names_and_read_back() {
        for d in Defect::ALL {
            assert_eq!(Defect::from_id(d.id()), Some(d));
            #[cfg(feature = "cli")]
            {
                use clap::ValueEnum;
                let name = d.to_possible_value().map(|v| v.get_name().to_owned());
                assert_eq!(name.as_deref(), Some(d.id()));
            }
        }
        assert_eq!(Defect::from_id("cut-out"), None);
    }
}
