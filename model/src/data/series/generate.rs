//! A seeded demo series (source 004 §4.4.1: periodic, trending, multivariate readings)
//! with anomalies injected in its second half, each recorded and its steps labelled.
//!
//! Five sensors, one reading a minute for 6,000 minutes: each a sum of sines of different
//! periods, a slow drift and Gaussian noise; `current` follows `flow` (a pump's motor
//! current tracks its flow). The first half is normal, so a 0.5 training share trains on
//! normal data only; the second half holds [`DemoSeries::PER_KIND`] anomalies of each
//! [`AnomalyKind`], in separate slots with normal steps between them. 6,000 steps rather
//! than fewer so that about half of the test windows of 64 steps are normal (at 4,000
//! steps three quarters held an anomaly), and there is normal data left to threshold on.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Series;

/// What an injected anomaly does to its sensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnomalyKind {
    /// One to three steps far off the signal (6 to 9 standard deviations).
    Spike,
    /// The sensor's level jumps by 2.5 to 3.5 standard deviations, then returns.
    LevelShift,
    /// The sensor is stuck at its first value of the span.
    Frozen,
    /// Extra noise of one to one and a half standard deviations.
    NoiseBurst,
    /// `current` moves against `flow` instead of following it: each stays in its usual
    /// range, only their relation is wrong.
    BrokenCorrelation,
}

impl AnomalyKind {
    /// Every kind, in a fixed order.
    pub const ALL: [Self; 5] = [
        Self::Spike,
        Self::LevelShift,
        Self::Frozen,
        Self::NoiseBurst,
        Self::BrokenCorrelation,
    ];

    /// Fewest and most steps of one anomaly of this kind.
    fn span(self) -> (usize, usize) {
        match self {
            Self::Spike => (1, 3),
            Self::LevelShift | Self::Frozen => (30, 50),
            Self::NoiseBurst => (20, 40),
            Self::BrokenCorrelation => (40, 60),
        }
    }
}

/// One anomaly the generator injected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedAnomaly {
    /// What it does.
    pub kind: AnomalyKind,
    /// Its first step.
    pub start: usize,
    /// One past its last step.
    pub end: usize,
    /// The sensors it touches (indices into [`Series::sensors`]).
    pub sensors: Vec<usize>,
}

/// One sensor's normal signal: `base + drift * t / steps + sum of sines + noise`.
struct Profile {
    base: f32,
    /// (period in steps, amplitude) of each sine.
    waves: [(f32, f32); 3],
    /// Change over the whole series.
    drift: f32,
    /// Standard deviation of the noise.
    noise: f32,
}

/// `temperature`, `pressure`, `vibration`, `flow`; `current` is derived from `flow`.
const PROFILES: [Profile; 4] = [
    Profile {
        base: 65.0,
        waves: [(480.0, 4.0), (130.0, 1.5), (37.0, 0.4)],
        drift: 1.5,
        noise: 0.25,
    },
    Profile {
        base: 4.2,
        waves: [(300.0, 0.35), (75.0, 0.12), (23.0, 0.05)],
        drift: -0.1,
        noise: 0.03,
    },
    Profile {
        base: 2.0,
        waves: [(53.0, 0.5), (17.0, 0.3), (7.0, 0.15)],
        drift: 0.15,
        noise: 0.12,
    },
    Profile {
        base: 120.0,
        waves: [(360.0, 14.0), (90.0, 6.0), (29.0, 2.0)],
        drift: 3.0,
        noise: 1.2,
    },
];

/// Amperes per litre a minute, the offset, and the noise of `current` following `flow`
/// (a noise far below flow's own, so the two are correlated above 0.99).
const CURRENT: (f32, f32, f32) = (0.08, 1.5, 0.05);

/// The demo series' generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSeries;

impl DemoSeries {
    /// Steps (one a minute).
    pub const STEPS: usize = 6000;
    /// The sensors, in column order.
    pub const SENSORS: [&'static str; 5] =
        ["temperature", "pressure", "vibration", "flow", "current"];
    /// The column of `flow`, which `current` follows.
    pub const FLOW: usize = 3;
    /// The column of `current`.
    pub const CURRENT: usize = 4;
    /// Anomalies of each kind.
    pub const PER_KIND: usize = 3;
    /// First step any anomaly may touch: after the normal first half and a margin.
    pub const FIRST_ANOMALY_STEP: usize = Self::STEPS / 2 + 100;
    /// Fewest normal steps between two anomalies, and after the last: a window of 64
    /// steps fits between any two.
    pub const MIN_GAP: usize = 64;

    /// The series of `seed`, labelled, and the anomalies injected into it (in time order).
    pub fn generate(seed: u64) -> (Series, Vec<InjectedAnomaly>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (steps, sensors) = (Self::STEPS, Self::SENSORS.len());
        let mut values = normal_values(&mut rng);
        // Magnitudes in each sensor's own spread, measured on the normal first half.
        let spread: Vec<f32> = (0..sensors)
            .map(|s| std_dev((0..steps / 2).map(|t| values[t * sensors + s])))
            .collect();
        let anomalies = Self::plan(&mut rng);
        for anomaly in &anomalies {
            inject(anomaly, &mut values, sensors, &spread, &mut rng);
        }
        let mut labels = vec![false; steps];
        for anomaly in &anomalies {
            labels[anomaly.start..anomaly.end].fill(true);
        }
        let timestamps = (0..steps)
            .map(|t| {
                let (day, hour, minute) = (1 + t / 1440, (t / 60) % 24, t % 60);
                format!("2024-03-{day:02}T{hour:02}:{minute:02}")
            })
            .collect();
        let series = Series {
            sensors: Self::SENSORS.iter().map(|s| s.to_string()).collect(),
            timestamps: Some(timestamps),
            values,
            labels: Some(labels),
            report: Default::default(),
        };
        (series, anomalies)
    }

    /// Where each anomaly goes: the kinds shuffled over equal slots of the second half,
    /// each anomaly placed in its slot leaving [`Self::MIN_GAP`] normal steps before the
    /// next slot.
    fn plan(rng: &mut ChaCha8Rng) -> Vec<InjectedAnomaly> {
        let mut kinds: Vec<AnomalyKind> = AnomalyKind::ALL
            .iter()
            .flat_map(|&k| std::iter::repeat_n(k, Self::PER_KIND))
            .collect();
        kinds.shuffle(rng);
        let first = Self::FIRST_ANOMALY_STEP;
        let slot = (Self::STEPS - first) / kinds.len();
        kinds
            .iter()
            .enumerate()
            .map(|(i, &kind)| {
                let (shortest, longest) = kind.span();
                let length = rng.random_range(shortest..=longest);
                let start = first + i * slot + rng.random_range(0..=slot - length - Self::MIN_GAP);
                let sensors = match kind {
                    AnomalyKind::BrokenCorrelation => vec![Self::FLOW, Self::CURRENT],
                    _ => vec![rng.random_range(0..Self::SENSORS.len())],
                };
                InjectedAnomaly {
                    kind,
                    start,
                    end: start + length,
                    sensors,
                }
            })
            .collect()
    }
}

/// The series before any anomaly, `[steps, sensors]`: the first draws of `rng`.
fn normal_values(rng: &mut ChaCha8Rng) -> Vec<f32> {
    let (steps, sensors) = (DemoSeries::STEPS, DemoSeries::SENSORS.len());
    let mut values = vec![0.0f32; steps * sensors];
    for (s, profile) in PROFILES.iter().enumerate() {
        let phases: Vec<f32> = (0..profile.waves.len())
            .map(|_| rng.random_range(0.0..std::f32::consts::TAU))
            .collect();
        for t in 0..steps {
            let time = t as f32;
            let waves: f32 = profile
                .waves
                .iter()
                .zip(&phases)
                .map(|(&(period, amp), &phase)| {
                    amp * (std::f32::consts::TAU * time / period + phase).sin()
                })
                .sum();
            values[t * sensors + s] = profile.base
                + profile.drift * time / steps as f32
                + waves
                + profile.noise * gaussian(rng);
        }
    }
    for t in 0..steps {
        values[t * sensors + DemoSeries::CURRENT] = CURRENT.0
            * values[t * sensors + DemoSeries::FLOW]
            + CURRENT.1
            + CURRENT.2 * gaussian(rng);
    }
    values
}

/// Applies `anomaly` to `values` (`[steps, sensors]`), in units of each sensor's `spread`.
fn inject(
    anomaly: &InjectedAnomaly,
    values: &mut [f32],
    sensors: usize,
    spread: &[f32],
    rng: &mut ChaCha8Rng,
) {
    let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
    let span = anomaly.start..anomaly.end;
    match anomaly.kind {
        AnomalyKind::Spike | AnomalyKind::LevelShift => {
            let s = anomaly.sensors[0];
            let sigmas = match anomaly.kind {
                AnomalyKind::Spike => rng.random_range(6.0..9.0),
                _ => rng.random_range(2.5..3.5),
            };
            for t in span {
                values[t * sensors + s] += sign * sigmas * spread[s];
            }
        }
        AnomalyKind::Frozen => {
            let s = anomaly.sensors[0];
            let stuck = values[anomaly.start * sensors + s];
            for t in span {
                values[t * sensors + s] = stuck;
            }
        }
        AnomalyKind::NoiseBurst => {
            let s = anomaly.sensors[0];
            let sigmas = rng.random_range(1.0..1.5);
            for t in span {
                values[t * sensors + s] += sigmas * spread[s] * gaussian(rng);
            }
        }
        AnomalyKind::BrokenCorrelation => {
            let (flow, current) = (anomaly.sensors[0], anomaly.sensors[1]);
            let (flow0, current0) = (
                values[anomaly.start * sensors + flow],
                values[anomaly.start * sensors + current],
            );
            for t in span {
                let moved = values[t * sensors + flow] - flow0;
                values[t * sensors + current] =
                    current0 - CURRENT.0 * moved + CURRENT.2 * gaussian(rng);
            }
        }
    }
}

/// A standard normal draw (Box-Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f32 {
    // `1 - u` lies in (0, 1], so the logarithm is finite.
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random();
    ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
}

/// Population standard deviation.
fn std_dev(values: impl Iterator<Item = f32> + Clone) -> f32 {
    let n = values.clone().count().max(1) as f64;
    let mean = values.clone().map(f64::from).sum::<f64>() / n;
    (values.map(|v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n).sqrt() as f32
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::data::series::{parse_csv, CsvOptions, SeriesSplit, WindowSpec};

    const SEEDS: [u64; 4] = [0, 1, 7, 2024];

    /// Pearson's correlation of two sensors over `steps`.
    fn correlation(series: &Series, a: usize, b: usize, steps: std::ops::Range<usize>) -> f64 {
        let n = steps.len() as f64;
        let xs: Vec<f64> = steps
            .clone()
            .map(|t| f64::from(series.value(t, a)))
            .collect();
        let ys: Vec<f64> = steps.map(|t| f64::from(series.value(t, b))).collect();
        let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
        let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
        let vy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
        cov / (vx * vy).sqrt()
    }

    #[test]
    fn the_same_seed_gives_the_same_series_and_another_seed_another() {
        let (series, anomalies) = DemoSeries::generate(7);
        assert_eq!(DemoSeries::generate(7), (series.clone(), anomalies.clone()));
        let (other, other_anomalies) = DemoSeries::generate(8);
        assert_ne!(series.values, other.values);
        assert_ne!(anomalies, other_anomalies);
        assert_eq!(series.steps(), DemoSeries::STEPS);
        assert_eq!(series.sensors, DemoSeries::SENSORS);
        assert!(series.values.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn every_kind_is_injected_after_the_midpoint_spaced_apart_and_labelled_exactly() {
        for seed in SEEDS {
            let (series, anomalies) = DemoSeries::generate(seed);
            for kind in AnomalyKind::ALL {
                let n = anomalies.iter().filter(|a| a.kind == kind).count();
                assert_eq!(n, DemoSeries::PER_KIND, "seed {seed}, {kind:?}");
            }
            let mut union = vec![false; series.steps()];
            for (i, a) in anomalies.iter().enumerate() {
                assert!(a.start >= DemoSeries::STEPS / 2, "seed {seed}: {a:?}");
                let (shortest, longest) = a.kind.span();
                assert!((shortest..=longest).contains(&(a.end - a.start)), "{a:?}");
                assert!(a.sensors.iter().all(|&s| s < DemoSeries::SENSORS.len()));
                let next = anomalies.get(i + 1).map_or(DemoSeries::STEPS, |b| b.start);
                assert!(a.end + DemoSeries::MIN_GAP <= next, "seed {seed}: {a:?}");
                union[a.start..a.end].fill(true);
            }
            assert_eq!(
                series.labels.as_deref(),
                Some(union.as_slice()),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn each_anomaly_changes_its_sensors_in_its_span_and_nothing_else() {
        for seed in SEEDS {
            let (series, anomalies) = DemoSeries::generate(seed);
            let clean = normal_values(&mut ChaCha8Rng::seed_from_u64(seed));
            let n = DemoSeries::SENSORS.len();
            let spread: Vec<f32> = (0..n)
                .map(|s| std_dev((0..DemoSeries::STEPS / 2).map(|t| clean[t * n + s])))
                .collect();
            let mut touched = vec![false; clean.len()];
            for a in &anomalies {
                let changed = a.sensors[a.sensors.len() - 1];
                let diff = |t: usize| series.value(t, changed) - clean[t * n + changed];
                let span = a.start..a.end;
                match a.kind {
                    AnomalyKind::Spike | AnomalyKind::LevelShift => {
                        let sigmas = diff(a.start).abs() / spread[changed];
                        let range = if a.kind == AnomalyKind::Spike {
                            6.0..9.0
                        } else {
                            2.5..3.5
                        };
                        assert!(range.contains(&sigmas), "seed {seed}: {a:?} {sigmas}");
                        assert!(span.clone().all(|t| (diff(t) - diff(a.start)).abs() < 1e-3));
                    }
                    AnomalyKind::Frozen => {
                        let stuck = clean[a.start * n + changed];
                        assert!(span.clone().all(|t| series.value(t, changed) == stuck));
                    }
                    AnomalyKind::NoiseBurst => {
                        let rms = std_dev(span.clone().map(diff));
                        assert!(rms > 0.5 * spread[changed], "seed {seed}: {a:?} {rms}");
                    }
                    AnomalyKind::BrokenCorrelation => {
                        let (flow, current) = (DemoSeries::FLOW, DemoSeries::CURRENT);
                        assert_eq!(a.sensors, [flow, current]);
                        let r = correlation(&series, flow, current, span.clone());
                        assert!(r < -0.5, "seed {seed}: {a:?} r = {r}");
                    }
                }
                for t in span {
                    touched[t * n + changed] = true;
                }
            }
            for (i, (&v, &c)) in series.values.iter().zip(&clean).enumerate() {
                assert!(touched[i] || v == c, "seed {seed}: value {i} changed");
            }
        }
    }

    #[test]
    fn current_follows_flow_and_the_sensors_differ() {
        for seed in SEEDS {
            let (series, _) = DemoSeries::generate(seed);
            let half = 0..DemoSeries::STEPS / 2;
            let r = correlation(&series, DemoSeries::FLOW, DemoSeries::CURRENT, half.clone());
            assert!(r > 0.99, "seed {seed}: r = {r}");
            let r = correlation(&series, 0, DemoSeries::FLOW, half);
            assert!(r.abs() < 0.9, "seed {seed}: temperature vs flow r = {r}");
        }
    }

    #[test]
    fn the_csv_of_the_demo_parses_back_to_the_same_series() {
        let (series, _) = DemoSeries::generate(3);
        let text = series.to_csv();
        assert!(text.starts_with("timestamp,temperature,pressure,vibration,flow,current,label\n"));
        let parsed = parse_csv(text.as_bytes(), &CsvOptions::default()).unwrap();
        assert_eq!(parsed, series);
    }

    #[test]
    fn a_half_split_of_the_demo_trains_on_every_window() {
        let (series, _) = DemoSeries::generate(5);
        let spec = WindowSpec {
            length: 64,
            stride: 8,
        };
        let split = SeriesSplit::new(&series, spec, 0.5).unwrap();
        assert_eq!(split.boundary, DemoSeries::STEPS / 2);
        assert_eq!(split.train.count(), (DemoSeries::STEPS / 2 - 64) / 8 + 1);
        let test_labels = split.test.labels.unwrap();
        let anomalous = test_labels.iter().filter(|&&l| l).count();
        assert!(
            anomalous > 0 && anomalous < test_labels.len(),
            "{anomalous}"
        );
    }
}
