//! A series to an LSTM autoencoder's inputs (source 004 §4.4.3, §4.5.1): standardised
//! sliding windows of `[length, sensors]`, split in time order, and each window's score
//! mapped back to the steps it covers.
//!
//! Source 004 cuts every window of the training data and standardises with statistics of
//! the normal data; here the split is a point in time (the first share trains, the rest
//! tests, no window crosses it: shuffling across it would let the model see the test
//! part's neighbours), the statistics come from the training part's normal steps only,
//! and training windows holding a labelled anomaly are left out (one-class training).

use std::ops::Range;

use super::{Series, SeriesError};

/// Most values (`f32`) one set of windows may hold: 512 MiB. Overlapping windows copy each
/// step `length / stride` times, so a long series at stride 1 can ask for far more.
pub const MAX_WINDOW_VALUES: usize = 1 << 27;

/// Below this share of its mean's magnitude (or of 1) a sensor's spread counts as
/// constant: dividing by a rounding error's spread would blow noise up into anomalies.
const CONSTANT_SPREAD: f64 = 1e-6;

/// How windows are cut: `length` steps, one starting every `stride` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    /// Steps per window (the LSTM's sequence length).
    pub length: usize,
    /// Steps between the starts of consecutive windows.
    pub stride: usize,
}

impl WindowSpec {
    /// Refuses a length or stride of zero.
    fn check(&self) -> Result<(), SeriesError> {
        for (what, n) in [("length", self.length), ("stride", self.stride)] {
            if n == 0 {
                return Err(SeriesError::ZeroWindow { what });
            }
        }
        Ok(())
    }

    /// The first step of each window that fits wholly inside `part`: `part.start`, then
    /// every `stride` steps (the last steps are left uncovered when the stride does not
    /// divide what remains).
    pub fn starts(&self, part: Range<usize>) -> Vec<usize> {
        if self.length == 0 || self.stride == 0 || part.len() < self.length {
            return Vec::new();
        }
        (part.start..=part.end - self.length)
            .step_by(self.stride)
            .collect()
    }
}

/// Which windows are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every window (testing).
    All,
    /// Windows with no labelled-anomalous step (training on normal data only).
    Normal,
}

/// Per-sensor standardisation, `(x - mean) / std`, fitted on normal steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardisation {
    /// Each sensor's mean.
    pub mean: Vec<f32>,
    /// Each sensor's (population) standard deviation; 1 for a constant sensor.
    pub std: Vec<f32>,
}

impl Standardisation {
    /// Fits each sensor's mean and spread on the steps of `steps` that are not labelled
    /// anomalous: an anomaly would shift the very statistics it is judged by.
    pub fn fit(series: &Series, steps: Range<usize>) -> Result<Self, SeriesError> {
        check_range(series, &steps)?;
        let normal: Vec<usize> = steps.clone().filter(|&t| !series.is_anomaly(t)).collect();
        if normal.is_empty() {
            return Err(SeriesError::NoNormalSteps {
                start: steps.start,
                end: steps.end,
            });
        }
        let n = normal.len() as f64;
        let sensors = series.sensor_count();
        let (mut mean, mut std) = (Vec::with_capacity(sensors), Vec::with_capacity(sensors));
        for s in 0..sensors {
            // Two passes in f64: a single-pass sum of squares loses precision.
            let m = normal
                .iter()
                .map(|&t| f64::from(series.value(t, s)))
                .sum::<f64>()
                / n;
            let var = normal
                .iter()
                .map(|&t| (f64::from(series.value(t, s)) - m).powi(2))
                .sum::<f64>()
                / n;
            let spread = var.sqrt();
            let constant = !spread.is_finite() || spread <= CONSTANT_SPREAD * m.abs().max(1.0);
            mean.push(m as f32);
            std.push(if constant { 1.0 } else { spread as f32 });
        }
        Ok(Self { mean, std })
    }

    /// The readings of `step`, standardised, appended to `out`.
    fn push_row(&self, series: &Series, step: usize, out: &mut Vec<f32>) {
        let row = series.row(step);
        out.extend(
            row.iter()
                .zip(self.mean.iter().zip(&self.std))
                .map(|(&x, (&m, &s))| (x - m) / s),
        );
    }

    /// Refuses statistics of another number of sensors than `series` has.
    fn check(&self, series: &Series) -> Result<(), SeriesError> {
        for (what, found) in [("means", self.mean.len()), ("deviations", self.std.len())] {
            if found != series.sensor_count() {
                return Err(SeriesError::Shape {
                    what,
                    expected: series.sensor_count(),
                    found,
                });
            }
        }
        Ok(())
    }
}

/// Standardised windows, row-major `[count, length, sensors]`, with where each starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    /// The windows' readings, `[count, length, sensors]`.
    pub values: Vec<f32>,
    /// Each window's first step in the whole series.
    pub starts: Vec<usize>,
    /// Whether each window holds a labelled-anomalous step (when the series is labelled).
    pub labels: Option<Vec<bool>>,
    /// Steps per window.
    pub length: usize,
    /// Sensors per step.
    pub sensors: usize,
}

impl Windows {
    /// Cuts the windows of `spec` inside `steps` of `series`, standardised, keeping those
    /// `keep` says.
    pub fn cut(
        series: &Series,
        steps: Range<usize>,
        spec: WindowSpec,
        standardisation: &Standardisation,
        keep: Keep,
    ) -> Result<Self, SeriesError> {
        spec.check()?;
        check_range(series, &steps)?;
        standardisation.check(series)?;
        if spec.length > steps.len() {
            return Err(SeriesError::WindowTooLong {
                length: spec.length,
                part: "whole",
                steps: steps.len(),
            });
        }
        Self::cut_checked(series, steps, spec, standardisation, keep)
    }

    /// [`Self::cut`] once the spec, the range and the statistics are known to fit.
    fn cut_checked(
        series: &Series,
        steps: Range<usize>,
        spec: WindowSpec,
        standardisation: &Standardisation,
        keep: Keep,
    ) -> Result<Self, SeriesError> {
        let anomalous = |start: usize| (start..start + spec.length).any(|t| series.is_anomaly(t));
        let starts: Vec<usize> = spec
            .starts(steps)
            .into_iter()
            .filter(|&start| keep == Keep::All || !anomalous(start))
            .collect();
        let sensors = series.sensor_count();
        let total = starts
            .len()
            .saturating_mul(spec.length)
            .saturating_mul(sensors);
        if total > MAX_WINDOW_VALUES {
            return Err(SeriesError::TooManyWindowValues {
                windows: starts.len(),
                length: spec.length,
                sensors,
                limit: MAX_WINDOW_VALUES,
            });
        }
        let mut values = Vec::with_capacity(total);
        for &start in &starts {
            for t in start..start + spec.length {
                standardisation.push_row(series, t, &mut values);
            }
        }
        let labels = series
            .labels
            .as_ref()
            .map(|_| starts.iter().map(|&start| anomalous(start)).collect());
        Ok(Self {
            values,
            starts,
            labels,
            length: spec.length,
            sensors,
        })
    }

    /// Number of windows.
    pub fn count(&self) -> usize {
        self.starts.len()
    }

    /// The readings of window `index`, `[length, sensors]`.
    pub fn window(&self, index: usize) -> &[f32] {
        let size = self.length * self.sensors;
        &self.values[index * size..(index + 1) * size]
    }

    /// `[count, length, sensors]`, the shape of [`Self::values`].
    pub fn shape(&self) -> [usize; 3] {
        [self.count(), self.length, self.sensors]
    }
}

/// What the LSTM autoencoder of issue 12 reads instead of the standardised windows: each
/// sensor's readings less the window's own mean (its shape), then each sensor's first
/// differences, every channel divided by its spread over the training windows;
/// `[count, length, 2 * sensors]`.
///
/// Why: a window's level follows the series' slow drift and the slow waves, so a model of
/// whole windows meets levels in the test part it never trained on (its normal error was
/// three times the training windows'); without the level the shapes of both parts look
/// alike. The differences carry what a shape hides in the slow sensors: their step-to-step
/// noise, which a frozen sensor loses and a noise burst multiplies. Dividing by each
/// channel's spread weighs a slow sensor's small wiggles like a fast one's.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowFeatures {
    /// Each channel's spread over the training windows, `[2 * sensors]`: the centred
    /// readings' first, then the differences'; 1 for a constant channel.
    pub scale: Vec<f32>,
}

impl WindowFeatures {
    /// Channels per step for windows of `sensors` sensors.
    pub fn channels(sensors: usize) -> usize {
        2 * sensors
    }

    /// Fits each channel's spread on (normal) training windows.
    pub fn fit(windows: &Windows) -> Self {
        let channels = Self::channels(windows.sensors);
        let raw = unscaled_features(windows);
        let n = (raw.len() / channels.max(1)) as f64;
        let scale = (0..channels)
            .map(|k| {
                // Two passes in f64, as in `Standardisation::fit`.
                let values = || raw.iter().skip(k).step_by(channels).map(|&v| f64::from(v));
                let mean = values().sum::<f64>() / n;
                let spread = (values().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
                if spread.is_finite() && spread > CONSTANT_SPREAD {
                    spread as f32
                } else {
                    1.0
                }
            })
            .collect();
        Self { scale }
    }

    /// The features of `windows`, with the same starts and labels.
    pub fn apply(&self, windows: &Windows) -> Result<Windows, SeriesError> {
        let channels = Self::channels(windows.sensors);
        if self.scale.len() != channels {
            return Err(SeriesError::Shape {
                what: "feature scales",
                expected: channels,
                found: self.scale.len(),
            });
        }
        let mut values = unscaled_features(windows);
        for (i, v) in values.iter_mut().enumerate() {
            *v /= self.scale[i % channels];
        }
        Ok(Windows {
            values,
            starts: windows.starts.clone(),
            labels: windows.labels.clone(),
            length: windows.length,
            sensors: channels,
        })
    }
}

/// `[count, length, 2 * sensors]`: each step's readings less the window's mean per sensor,
/// then its differences from the step before (0 at a window's first step, which has none
/// inside the window).
fn unscaled_features(windows: &Windows) -> Vec<f32> {
    let (length, sensors) = (windows.length, windows.sensors);
    let mut out = Vec::with_capacity(windows.values.len() * 2);
    for w in 0..windows.count() {
        let x = windows.window(w);
        let means: Vec<f32> = (0..sensors)
            .map(|s| (0..length).map(|t| x[t * sensors + s]).sum::<f32>() / length as f32)
            .collect();
        for t in 0..length {
            let row = &x[t * sensors..(t + 1) * sensors];
            out.extend(row.iter().zip(&means).map(|(v, m)| v - m));
            if t == 0 {
                out.extend(std::iter::repeat_n(0.0, sensors));
            } else {
                let before = &x[(t - 1) * sensors..t * sensors];
                out.extend(row.iter().zip(before).map(|(v, b)| v - b));
            }
        }
    }
    out
}

/// A series split in time order into standardised training and test windows.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSplit {
    /// How the windows were cut.
    pub spec: WindowSpec,
    /// The first test step: steps before it train, steps from it test.
    pub boundary: usize,
    /// Fitted on the training part's normal steps, applied to both parts.
    pub standardisation: Standardisation,
    /// Training windows, none holding a labelled anomaly.
    pub train: Windows,
    /// Every test window.
    pub test: Windows,
}

impl SeriesSplit {
    /// Splits `series` at `floor(steps * train_fraction)`: the first part trains, the rest
    /// tests, and no window straddles the boundary.
    pub fn new(
        series: &Series,
        spec: WindowSpec,
        train_fraction: f64,
    ) -> Result<Self, SeriesError> {
        let boundary = Self::boundary(series, spec, train_fraction)?;
        let standardisation = Standardisation::fit(series, 0..boundary)?;
        Self::cut(series, spec, boundary, standardisation)
    }

    /// [`SeriesSplit::new`] with statistics fitted before (a model's own, to read another
    /// series of its sensors the way it was trained), not refitted on this series.
    pub fn with_standardisation(
        series: &Series,
        spec: WindowSpec,
        train_fraction: f64,
        standardisation: Standardisation,
    ) -> Result<Self, SeriesError> {
        let boundary = Self::boundary(series, spec, train_fraction)?;
        standardisation.check(series)?;
        Self::cut(series, spec, boundary, standardisation)
    }

    /// Where `series` splits at `train_fraction`, once the split is known to leave each
    /// part a window and the training part a normal one.
    fn boundary(
        series: &Series,
        spec: WindowSpec,
        train_fraction: f64,
    ) -> Result<usize, SeriesError> {
        spec.check()?;
        if !(train_fraction > 0.0 && train_fraction < 1.0) {
            return Err(SeriesError::Fraction {
                value: train_fraction,
            });
        }
        let steps = series.steps();
        let boundary = ((steps as f64 * train_fraction).floor() as usize).min(steps);
        for (part, len) in [("training", boundary), ("test", steps - boundary)] {
            if spec.length > len {
                return Err(SeriesError::WindowTooLong {
                    length: spec.length,
                    part,
                    steps: len,
                });
            }
        }
        // Fail on an all-anomalous training part before fitting anything on it.
        let windows = spec.starts(0..boundary);
        if !windows
            .iter()
            .any(|&s| (s..s + spec.length).all(|t| !series.is_anomaly(t)))
        {
            return Err(SeriesError::NoTrainingWindow {
                windows: windows.len(),
            });
        }
        Ok(boundary)
    }

    /// The windows of both parts, `standardisation` applied, split at `boundary`.
    fn cut(
        series: &Series,
        spec: WindowSpec,
        boundary: usize,
        standardisation: Standardisation,
    ) -> Result<Self, SeriesError> {
        let steps = series.steps();
        let train =
            Windows::cut_checked(series, 0..boundary, spec, &standardisation, Keep::Normal)?;
        let test =
            Windows::cut_checked(series, boundary..steps, spec, &standardisation, Keep::All)?;
        Ok(Self {
            spec,
            boundary,
            standardisation,
            train,
            test,
        })
    }
}

/// Each step's score from per-window scores: the mean over the windows covering the step,
/// `None` where no window does.
///
/// The mean rather than the maximum: with overlapping windows the maximum gives every step
/// within a window's length of a short anomaly that anomaly's score, smearing a one-step
/// spike over `2 * length - 1` steps; the mean falls off with the share of covering
/// windows that hold it, so the peak stays on the anomalous steps.
pub fn score_per_step(
    window_scores: &[f32],
    starts: &[usize],
    length: usize,
    steps: usize,
) -> Result<Vec<Option<f32>>, SeriesError> {
    if window_scores.len() != starts.len() {
        return Err(SeriesError::ScoreCount {
            scores: window_scores.len(),
            expected: starts.len(),
        });
    }
    spread(starts, length, steps, |w, _| window_scores[w])
}

/// Each step's score from per-step scores within windows (`[count, length]`, e.g. each
/// step's reconstruction error): the mean over the windows covering the step, `None`
/// where no window does.
pub fn errors_per_step(
    step_errors: &[f32],
    starts: &[usize],
    length: usize,
    steps: usize,
) -> Result<Vec<Option<f32>>, SeriesError> {
    if step_errors.len() != starts.len() * length {
        return Err(SeriesError::ScoreCount {
            scores: step_errors.len(),
            expected: starts.len() * length,
        });
    }
    spread(starts, length, steps, |w, k| step_errors[w * length + k])
}

/// Averages `score(window, offset)` over the windows covering each step.
fn spread(
    starts: &[usize],
    length: usize,
    steps: usize,
    score: impl Fn(usize, usize) -> f32,
) -> Result<Vec<Option<f32>>, SeriesError> {
    if length == 0 {
        return Err(SeriesError::ZeroWindow { what: "length" });
    }
    let mut sums = vec![0.0f64; steps];
    let mut counts = vec![0u32; steps];
    for (w, &start) in starts.iter().enumerate() {
        let end = start.saturating_add(length);
        if end > steps {
            return Err(SeriesError::OutOfRange { start, end, steps });
        }
        for k in 0..length {
            sums[start + k] += f64::from(score(w, k));
            counts[start + k] += 1;
        }
    }
    Ok(sums
        .iter()
        .zip(&counts)
        .map(|(&sum, &n)| (n > 0).then(|| (sum / f64::from(n)) as f32))
        .collect())
}

/// Refuses a range that is empty or runs past the series.
fn check_range(series: &Series, steps: &Range<usize>) -> Result<(), SeriesError> {
    if steps.start >= steps.end || steps.end > series.steps() {
        return Err(SeriesError::OutOfRange {
            start: steps.start,
            end: steps.end,
            steps: series.steps(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
