//! What a page draws of a series model's test part (`SeriesTrace`): pure data, so the
//! page's module (built without Burn) reads it; `series_run` makes it.

use serde::{Deserialize, Serialize};

/// The test part of a series as a page draws it: each sensor's readings with the model's
/// reconstruction (in the file's units) and each reading's squared error (standardised
/// units), step by step from the first test window's start to the last one's end, in
/// buckets of [`SeriesTrace::bucket`] steps when there are more than `series_run::TRACE_POINTS`;
/// and the test windows, whose scores are the evaluation's test scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesTrace {
    /// The sensors, in column order.
    pub sensors: Vec<String>,
    /// The first step drawn.
    pub first_step: usize,
    /// Steps per point (1 unless the part is longer than `series_run::TRACE_POINTS`).
    pub bucket: usize,
    /// Points per sensor.
    pub points: usize,
    /// Readings, each bucket's mean, `[points, sensors]`.
    pub values: Vec<f32>,
    /// The reconstruction of each reading (the mean over the windows covering its step),
    /// each bucket's mean, `[points, sensors]`.
    pub reconstruction: Vec<f32>,
    /// Each reading's squared error in standardised units, each bucket's largest (a
    /// one-step spike stays visible), `[points, sensors]`.
    pub errors: Vec<f32>,
    /// Whether each point holds a labelled anomalous step; empty without labels.
    pub labels: Vec<bool>,
    /// Each test window's first step.
    pub window_starts: Vec<usize>,
    /// Steps per window.
    pub window_length: usize,
    /// The timestamps of the first and the last step drawn, where the series has them.
    pub times: Option<(String, String)>,
}

impl SeriesTrace {
    /// The value of `sensor` at each point of `of` (one of the `[points, sensors]` fields).
    pub fn sensor<'a>(&self, of: &'a [f32], sensor: usize) -> impl Iterator<Item = f32> + 'a {
        of.iter()
            .skip(sensor)
            .step_by(self.sensors.len().max(1))
            .copied()
    }

    /// The step of point `p` (its bucket's first).
    pub fn step_of(&self, p: usize) -> usize {
        self.first_step + p * self.bucket
    }
}
