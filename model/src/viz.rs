//! Pure image helpers for views: 8-bit conversion and colour maps.

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
    fn gray_is_replicated_into_opaque_rgba() {
        assert_eq!(gray_rgba(&[7, 200]), vec![7, 7, 7, 255, 200, 200, 200, 255]);
    }
}
