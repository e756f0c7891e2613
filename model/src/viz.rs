//! Pure image helpers for views: 8-bit conversion, colour maps and heat-map overlays.

/// Scales values in `[0, max]` to 8-bit (values above `max` saturate; `max <= 0` gives black).
pub fn to_u8(values: &[f32], max: f32) -> Vec<u8> {
    if max <= 0.0 || !max.is_finite() {
        return vec![0; values.len()];
    }
    values
        .iter()
        .map(|&v| (v / max * 255.0).round().clamp(0.0, 255.0) as u8)
        .collect()
}

/// Grayscale pixels to RGBA (opaque).
pub fn gray_rgba(gray: &[u8]) -> Vec<u8> {
    gray.iter().flat_map(|&g| [g, g, g, 255]).collect()
}

/// One map from a `channels`-plane image (`[c, h, w]`, planar): each pixel the mean over
/// its channels (a difference map of an RGB image, drawn as one heat map).
pub fn channel_mean(planes: &[f32], channels: usize) -> Vec<f32> {
    let channels = channels.max(1);
    let plane = planes.len() / channels;
    (0..plane)
        .map(|p| (0..channels).map(|c| planes[c * plane + p]).sum::<f32>() / channels as f32)
        .collect()
}

/// An 8-bit image of `channels` planes (1: gray, 3: planar RGB) as opaque RGBA.
pub fn planar_rgba(planes: &[u8], channels: usize) -> Vec<u8> {
    if channels != 3 {
        return gray_rgba(planes);
    }
    let plane = planes.len() / 3;
    (0..plane)
        .flat_map(|i| [planes[i], planes[plane + i], planes[2 * plane + i], 255])
        .collect()
}

/// A heat map (black -> red -> yellow -> white) of 8-bit intensities, as RGBA.
pub fn heat_rgba(values: &[u8]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| {
            let t = u16::from(v) * 3; // 0..=765: red rises, then green, then blue
            let channel = |offset: u16| t.saturating_sub(offset).min(255) as u8;
            [channel(0), channel(255), channel(510), 255]
        })
        .collect()
}

/// Matplotlib's "inferno" colour map (van der Walt and Smith, CC0), 256 steps as
/// `0xRRGGBB`: perceptually uniform from black through purple and orange to pale yellow, and
/// still ordered when printed in gray or seen with a colour-vision deficiency. The table
/// is the one matplotlib and d3 ship (as the `colorous` crate does), kept here to spare
/// a dependency.
#[rustfmt::skip]
const INFERNO: [u32; 256] = [
    0x000004, 0x010005, 0x010106, 0x010108, 0x02010a, 0x02020c, 0x02020e, 0x030210,
    0x040312, 0x040314, 0x050417, 0x060419, 0x07051b, 0x08051d, 0x09061f, 0x0a0722,
    0x0b0724, 0x0c0826, 0x0d0829, 0x0e092b, 0x10092d, 0x110a30, 0x120a32, 0x140b34,
    0x150b37, 0x160b39, 0x180c3c, 0x190c3e, 0x1b0c41, 0x1c0c43, 0x1e0c45, 0x1f0c48,
    0x210c4a, 0x230c4c, 0x240c4f, 0x260c51, 0x280b53, 0x290b55, 0x2b0b57, 0x2d0b59,
    0x2f0a5b, 0x310a5c, 0x320a5e, 0x340a5f, 0x360961, 0x380962, 0x390963, 0x3b0964,
    0x3d0965, 0x3e0966, 0x400a67, 0x420a68, 0x440a68, 0x450a69, 0x470b6a, 0x490b6a,
    0x4a0c6b, 0x4c0c6b, 0x4d0d6c, 0x4f0d6c, 0x510e6c, 0x520e6d, 0x540f6d, 0x550f6d,
    0x57106e, 0x59106e, 0x5a116e, 0x5c126e, 0x5d126e, 0x5f136e, 0x61136e, 0x62146e,
    0x64156e, 0x65156e, 0x67166e, 0x69166e, 0x6a176e, 0x6c186e, 0x6d186e, 0x6f196e,
    0x71196e, 0x721a6e, 0x741a6e, 0x751b6e, 0x771c6d, 0x781c6d, 0x7a1d6d, 0x7c1d6d,
    0x7d1e6d, 0x7f1e6c, 0x801f6c, 0x82206c, 0x84206b, 0x85216b, 0x87216b, 0x88226a,
    0x8a226a, 0x8c2369, 0x8d2369, 0x8f2469, 0x902568, 0x922568, 0x932667, 0x952667,
    0x972766, 0x982766, 0x9a2865, 0x9b2964, 0x9d2964, 0x9f2a63, 0xa02a63, 0xa22b62,
    0xa32c61, 0xa52c60, 0xa62d60, 0xa82e5f, 0xa92e5e, 0xab2f5e, 0xad305d, 0xae305c,
    0xb0315b, 0xb1325a, 0xb3325a, 0xb43359, 0xb63458, 0xb73557, 0xb93556, 0xba3655,
    0xbc3754, 0xbd3853, 0xbf3952, 0xc03a51, 0xc13a50, 0xc33b4f, 0xc43c4e, 0xc63d4d,
    0xc73e4c, 0xc83f4b, 0xca404a, 0xcb4149, 0xcc4248, 0xce4347, 0xcf4446, 0xd04545,
    0xd24644, 0xd34743, 0xd44842, 0xd54a41, 0xd74b3f, 0xd84c3e, 0xd94d3d, 0xda4e3c,
    0xdb503b, 0xdd513a, 0xde5238, 0xdf5337, 0xe05536, 0xe15635, 0xe25734, 0xe35933,
    0xe45a31, 0xe55c30, 0xe65d2f, 0xe75e2e, 0xe8602d, 0xe9612b, 0xea632a, 0xeb6429,
    0xeb6628, 0xec6726, 0xed6925, 0xee6a24, 0xef6c23, 0xef6e21, 0xf06f20, 0xf1711f,
    0xf1731d, 0xf2741c, 0xf3761b, 0xf37819, 0xf47918, 0xf57b17, 0xf57d15, 0xf67e14,
    0xf68013, 0xf78212, 0xf78410, 0xf8850f, 0xf8870e, 0xf8890c, 0xf98b0b, 0xf98c0a,
    0xf98e09, 0xfa9008, 0xfa9207, 0xfa9407, 0xfb9606, 0xfb9706, 0xfb9906, 0xfb9b06,
    0xfb9d07, 0xfc9f07, 0xfca108, 0xfca309, 0xfca50a, 0xfca60c, 0xfca80d, 0xfcaa0f,
    0xfcac11, 0xfcae12, 0xfcb014, 0xfcb216, 0xfcb418, 0xfbb61a, 0xfbb81d, 0xfbba1f,
    0xfbbc21, 0xfbbe23, 0xfac026, 0xfac228, 0xfac42a, 0xfac62d, 0xf9c72f, 0xf9c932,
    0xf9cb35, 0xf8cd37, 0xf8cf3a, 0xf7d13d, 0xf7d340, 0xf6d543, 0xf6d746, 0xf5d949,
    0xf5db4c, 0xf4dd4f, 0xf4df53, 0xf4e156, 0xf3e35a, 0xf3e55d, 0xf2e661, 0xf2e865,
    0xf2ea69, 0xf1ec6d, 0xf1ed71, 0xf1ef75, 0xf1f179, 0xf2f27d, 0xf2f482, 0xf3f586,
    0xf3f68a, 0xf4f88e, 0xf5f992, 0xf6fa96, 0xf8fb9a, 0xf9fc9d, 0xfafda1, 0xfcffa4,
];

/// Heat-map opacity over the input at the largest differences: a fifth of the input still
/// shows through.
pub const OVERLAY_MAX_OPACITY: f32 = 0.8;

/// Share of the training images' per-pixel differences below [`difference_scale`].
pub const DIFFERENCE_PERCENTILE: f64 = 0.995;

/// The heat-map scale of a model with no normal images to fix it from (and of files
/// from before format 3): a quarter of the pixel range.
pub const DEFAULT_DIFFERENCE_SCALE: f32 = 0.25;

/// `values / scale`, clamped to [0, 1], through the inferno colour map, as opaque RGBA;
/// NaN, and every value when `scale` is not positive and finite, map to the darkest colour.
pub fn inferno_rgba(values: &[f32], scale: f32) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| {
            let rgb = INFERNO[(unit(v, scale) * 255.0).round() as usize];
            [(rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8, 255]
        })
        .collect()
}

/// The heat map `heat_rgba` laid over the input `base_rgba`, each pixel's opacity growing
/// with its value (`values / scale`, clamped to [0, 1], times [`OVERLAY_MAX_OPACITY`]): a
/// pixel without difference shows the input unchanged. The result has the input's length
/// and alpha; pixels that `heat_rgba` or `values` lack stay as the input.
pub fn overlay_rgba(base_rgba: &[u8], heat_rgba: &[u8], values: &[f32], scale: f32) -> Vec<u8> {
    let mut out = base_rgba.to_vec();
    for (i, pixel) in out.chunks_exact_mut(4).enumerate() {
        let (Some(heat), Some(&value)) = (heat_rgba.get(4 * i..4 * i + 3), values.get(i)) else {
            continue;
        };
        let opacity = unit(value, scale) * OVERLAY_MAX_OPACITY;
        for (channel, &h) in pixel.iter_mut().zip(heat) {
            let b = f32::from(*channel);
            *channel = (b + (f32::from(h) - b) * opacity).round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// A fixed heat-map scale from the training images' per-pixel differences: their
/// [`DIFFERENCE_PERCENTILE`] quantile (nearest rank, non-finite values ignored).
///
/// Fixed rather than per image, so that a normal image does not light up as brightly as a
/// defect; a percentile rather than the largest value, so that a few noisy training pixels
/// do not dim every map. Never 0: if the quantile is 0, the largest difference, and if
/// every difference is 0 (or there is none), 1 (the largest difference of [0, 1] images).
pub fn difference_scale(differences: &[f32]) -> f32 {
    let mut finite: Vec<f32> = differences
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if finite.is_empty() {
        return 1.0;
    }
    let rank =
        ((finite.len() as f64 * DIFFERENCE_PERCENTILE).ceil() as usize).clamp(1, finite.len());
    let (_, &mut quantile, _) = finite.select_nth_unstable_by(rank - 1, f32::total_cmp);
    if quantile > 0.0 {
        return quantile;
    }
    let largest = finite.iter().copied().fold(0.0f32, f32::max);
    if largest > 0.0 {
        largest
    } else {
        1.0
    }
}

/// `value / scale` in [0, 1]; 0 for NaN or a scale that is not positive and finite.
fn unit(value: f32, scale: f32) -> f32 {
    if !(scale > 0.0 && scale.is_finite()) {
        return 0.0;
    }
    let t = value / scale;
    if t.is_nan() {
        0.0
    } else {
        t.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_u8_scales_and_saturates() {
        assert_eq!(to_u8(&[0.0, 0.5, 1.0, 2.0], 1.0), vec![0, 128, 255, 255]);
        assert_eq!(to_u8(&[0.3], 0.0), vec![0]);
    }

    #[test]
    fn heat_map_runs_from_black_through_red_to_white() {
        assert_eq!(heat_rgba(&[0]), vec![0, 0, 0, 255]);
        assert_eq!(heat_rgba(&[85]), vec![255, 0, 0, 255]);
        assert_eq!(heat_rgba(&[170]), vec![255, 255, 0, 255]);
        assert_eq!(heat_rgba(&[255]), vec![255, 255, 255, 255]);
    }

    #[test]
    fn channel_mean_averages_each_pixel_over_its_planes() {
        // Two RGB pixels, planar.
        assert_eq!(
            channel_mean(&[0.3, 0.0, 0.6, 0.0, 0.0, 0.3], 3),
            vec![0.3, 0.1]
        );
        assert_eq!(channel_mean(&[0.2, 0.4], 1), vec![0.2, 0.4]);
    }

    #[test]
    fn gray_is_replicated_into_opaque_rgba() {
        assert_eq!(gray_rgba(&[7, 200]), vec![7, 7, 7, 255, 200, 200, 200, 255]);
    }

    #[test]
    fn inferno_runs_from_black_to_pale_yellow() {
        assert_eq!(inferno_rgba(&[0.0], 1.0), vec![0, 0, 4, 255]);
        assert_eq!(inferno_rgba(&[1.0], 1.0), vec![0xfc, 0xff, 0xa4, 255]);
        // Values are scaled and clamped; NaN and a bad scale give the darkest colour.
        assert_eq!(inferno_rgba(&[2.0, 7.0], 2.0)[..4], [0xfc, 0xff, 0xa4, 255]);
        assert_eq!(
            inferno_rgba(&[-1.0, f32::NAN], 1.0),
            [[0, 0, 4, 255]; 2].concat()
        );
        assert_eq!(inferno_rgba(&[0.5], 0.0), vec![0, 0, 4, 255]);
        // Brightness rises along the map.
        let luma = |rgba: &[u8]| rgba[..3].iter().map(|&c| u32::from(c)).sum::<u32>();
        let ramp: Vec<f32> = (0..=10).map(|k| k as f32 / 10.0).collect();
        let colours = inferno_rgba(&ramp, 1.0);
        let sums: Vec<u32> = colours.chunks(4).map(luma).collect();
        assert!(sums.windows(2).all(|w| w[0] < w[1]), "{sums:?}");
    }

    #[test]
    fn a_faint_difference_stays_dark() {
        let faint = inferno_rgba(&[0.05], 1.0);
        assert!(faint[..3].iter().all(|&c| c < 40), "{faint:?}");
    }

    #[test]
    fn the_overlay_leaves_pixels_without_difference_unchanged() {
        let base = [10, 120, 200, 255, 10, 120, 200, 255, 10, 120, 200, 255];
        let values = [0.0, 0.5, 1.0];
        let heat = inferno_rgba(&values, 1.0);
        let over = overlay_rgba(&base, &heat, &values, 1.0);
        assert_eq!(over.len(), base.len());
        assert_eq!(over[..4], base[..4]);
        // Opacity grows with the value; alpha stays the input's.
        let distance = |p: &[u8], q: &[u8]| {
            p[..3]
                .iter()
                .zip(q)
                .map(|(&a, &b)| (i32::from(a) - i32::from(b)).abs())
                .sum::<i32>()
        };
        assert!(distance(&over[8..12], &heat[8..12]) < distance(&over[4..8], &heat[4..8]));
        assert_eq!([over[7], over[11]], [255, 255]);
        // Missing heat or values leave the input.
        assert_eq!(
            overlay_rgba(&base, &heat[..4], &values, 1.0)[4..],
            base[4..]
        );
    }

    #[test]
    fn the_difference_scale_is_a_high_percentile_and_never_zero() {
        let mut differences: Vec<f32> = (0..1000).map(|k| k as f32 / 1000.0).collect();
        differences.push(f32::NAN);
        differences.push(100.0); // one outlier does not set the scale
        let scale = difference_scale(&differences);
        assert!((0.99..=1.0).contains(&scale), "{scale}");
        let mostly_zero: Vec<f32> = (0..1000).map(|k| if k == 0 { 0.3 } else { 0.0 }).collect();
        assert_eq!(difference_scale(&mostly_zero), 0.3);
        assert_eq!(difference_scale(&[0.0; 10]), 1.0);
        assert_eq!(difference_scale(&[]), 1.0);
    }
}
