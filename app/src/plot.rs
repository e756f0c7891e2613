//! Where a chart's data lies on the screen: the plotting area in CSS pixels and the data
//! ranges of its axes, so a pointer position maps to a value (dragging the threshold,
//! hovering a point) and back. Pure, tested natively; the canvases are in `ui::charts`.

/// A chart's plotting area (CSS pixels, from the canvas's top left) and its axes' ranges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Left edge of the plotting area.
    pub left: f64,
    /// Top edge.
    pub top: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// The values at the left and right edges.
    pub x: (f64, f64),
    /// The values at the bottom and top edges.
    pub y: (f64, f64),
}

impl Frame {
    /// The x value under horizontal position `px`, kept inside the axis.
    pub fn x_at(&self, px: f64) -> f64 {
        let t = ((px - self.left) / self.width.max(f64::MIN_POSITIVE)).clamp(0.0, 1.0);
        self.x.0 + t * (self.x.1 - self.x.0)
    }

    /// The y value under vertical position `py`, kept inside the axis.
    pub fn y_at(&self, py: f64) -> f64 {
        let t = ((py - self.top) / self.height.max(f64::MIN_POSITIVE)).clamp(0.0, 1.0);
        self.y.1 - t * (self.y.1 - self.y.0)
    }

    /// Where the point `(x, y)` is drawn.
    pub fn pixel_of(&self, x: f64, y: f64) -> (f64, f64) {
        let span = |(lo, hi): (f64, f64)| if hi > lo { hi - lo } else { 1.0 };
        (
            self.left + (x - self.x.0) / span(self.x) * self.width,
            self.top + (self.y.1 - y) / span(self.y) * self.height,
        )
    }

    /// The point drawn nearest to `(px, py)`, if one is within `radius` pixels.
    pub fn nearest(
        &self,
        points: impl IntoIterator<Item = (f64, f64)>,
        px: f64,
        py: f64,
        radius: f64,
    ) -> Option<usize> {
        points
            .into_iter()
            .enumerate()
            .map(|(i, (x, y))| {
                let (qx, qy) = self.pixel_of(x, y);
                (i, (qx - px).powi(2) + (qy - py).powi(2))
            })
            .filter(|&(_, d)| d <= radius * radius)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }
}

/// A short axis label: "0", "0.25", "1.5e-3", "12k"; readable at any magnitude.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-2..1e5).contains(&a) {
        let text = format!("{v:.0e}");
        // "1e-3" rather than "1e-03"; keep the leading digit.
        text.replace("e-0", "e-").replace("e0", "")
    } else if a >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else {
        let text = format!("{v:.2}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame {
            left: 40.0,
            top: 10.0,
            width: 200.0,
            height: 100.0,
            x: (0.0, 2.0),
            y: (0.0, 1.0),
        }
    }

    #[test]
    fn positions_map_to_values_and_back() {
        let f = frame();
        assert_eq!(f.x_at(140.0), 1.0);
        assert_eq!(f.y_at(10.0), 1.0);
        assert_eq!(f.y_at(110.0), 0.0);
        assert_eq!(f.pixel_of(1.0, 0.5), (140.0, 60.0));
        // Outside the plotting area: the axis's end.
        assert_eq!(f.x_at(0.0), 0.0);
        assert_eq!(f.x_at(1000.0), 2.0);
    }

    #[test]
    fn the_nearest_point_within_the_radius_is_found() {
        let f = frame();
        let points = [(0.0, 0.0), (1.0, 0.5), (1.1, 0.5)];
        assert_eq!(f.nearest(points, 141.0, 61.0, 8.0), Some(1));
        assert_eq!(f.nearest(points, 150.0, 60.0, 8.0), Some(2));
        assert_eq!(f.nearest(points, 300.0, 60.0, 8.0), None);
    }

    #[test]
    fn labels_stay_short_at_every_magnitude() {
        assert_eq!(short_number(0.0), "0");
        assert_eq!(short_number(0.25), "0.25");
        assert_eq!(short_number(1.5), "1.5");
        assert_eq!(short_number(2.0), "2");
        assert_eq!(short_number(0.001), "1e-3");
        assert_eq!(short_number(12_000.0), "12k");
        assert_eq!(short_number(3e6), "3e6");
        assert!(short_number(0.000_123).len() <= 5);
    }
}
