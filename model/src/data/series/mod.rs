//! Multivariate sensor series (source 004 §4.4-4.5): a user's CSV file parsed into a
//! [`Series`] (`csv.rs`), cut into standardised sliding windows split in time order for an
//! LSTM autoencoder (`windows.rs`), and a seeded demo series with injected, labelled
//! anomalies (`generate.rs`). Pure Rust: none of it needs Burn.

mod csv;
mod generate;
mod trace;
mod windows;

pub use self::csv::{
    parse_csv, CsvOptions, Missing, LABEL_COLUMNS, MAX_CELL_QUOTE, MIN_ROWS, MISSING_MARKERS,
    TIMESTAMP_COLUMNS,
};
pub use generate::{AnomalyKind, DemoSeries, InjectedAnomaly};
pub use trace::SeriesTrace;
pub use windows::{
    errors_per_step, score_per_step, Keep, SeriesSplit, Standardisation, WindowFeatures,
    WindowSpec, Windows, MAX_WINDOW_VALUES,
};

/// What loading changed in the file's rows; empty when every cell was present.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoadReport {
    /// File rows (1-based, header = 1) left out for a missing cell ([`Missing::DropRows`]).
    pub dropped_rows: Vec<usize>,
    /// Cells given a neighbour's value ([`Missing::FillPrevious`]).
    pub filled_cells: usize,
    /// File rows (1-based, header = 1) with at least one filled cell.
    pub filled_rows: Vec<usize>,
}

impl LoadReport {
    /// Whether loading kept every row as it was.
    pub fn is_clean(&self) -> bool {
        self.dropped_rows.is_empty() && self.filled_cells == 0
    }
}

/// Readings of several sensors at equally spaced steps, with optional timestamps and
/// anomaly labels (one per step).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Each sensor's name (its column).
    pub sensors: Vec<String>,
    /// Each step's timestamp as written in the file (never parsed: only shown).
    pub timestamps: Option<Vec<String>>,
    /// Readings, row-major `[steps, sensors]`.
    pub values: Vec<f32>,
    /// Whether each step is a labelled anomaly.
    pub labels: Option<Vec<bool>>,
    /// What loading dropped or filled.
    pub report: LoadReport,
}

impl Series {
    /// A series of `values` (`[steps, sensors]`), checking that every length agrees.
    pub fn new(
        sensors: Vec<String>,
        timestamps: Option<Vec<String>>,
        values: Vec<f32>,
        labels: Option<Vec<bool>>,
    ) -> Result<Self, SeriesError> {
        if sensors.is_empty() {
            return Err(SeriesError::NoSensor);
        }
        if !values.len().is_multiple_of(sensors.len()) {
            return Err(SeriesError::Shape {
                what: "values",
                expected: values.len().div_ceil(sensors.len()) * sensors.len(),
                found: values.len(),
            });
        }
        let steps = values.len() / sensors.len();
        let lengths = [
            ("timestamps", timestamps.as_ref().map(Vec::len)),
            ("labels", labels.as_ref().map(Vec::len)),
        ];
        for (what, length) in lengths {
            if let Some(found) = length.filter(|&n| n != steps) {
                return Err(SeriesError::Shape {
                    what,
                    expected: steps,
                    found,
                });
            }
        }
        Ok(Self {
            sensors,
            timestamps,
            values,
            labels,
            report: LoadReport::default(),
        })
    }

    /// Number of steps (rows).
    pub fn steps(&self) -> usize {
        self.values
            .len()
            .checked_div(self.sensors.len())
            .unwrap_or(0)
    }

    /// Number of sensors (columns of readings).
    pub fn sensor_count(&self) -> usize {
        self.sensors.len()
    }

    /// The reading of `sensor` at `step`; panics out of range, as indexing does.
    pub fn value(&self, step: usize, sensor: usize) -> f32 {
        assert!(sensor < self.sensors.len(), "sensor {sensor} out of range");
        self.values[step * self.sensors.len() + sensor]
    }

    /// The readings of every sensor at `step`.
    pub fn row(&self, step: usize) -> &[f32] {
        let n = self.sensors.len();
        &self.values[step * n..(step + 1) * n]
    }

    /// Whether `step` is labelled anomalous (false when the series has no labels).
    pub fn is_anomaly(&self, step: usize) -> bool {
        self.labels.as_ref().is_some_and(|labels| labels[step])
    }

    /// The series as a CSV file [`parse_csv`] reads back: a `timestamp` column when it has
    /// timestamps, one column per sensor, a `label` column (0/1) when it has labels.
    /// Readings are written in their shortest exact form, so they parse back bit for bit;
    /// a NaN is written as an empty cell.
    pub fn to_csv(&self) -> String {
        let mut header: Vec<&str> = Vec::new();
        header.extend(self.timestamps.as_ref().map(|_| "timestamp"));
        header.extend(self.sensors.iter().map(String::as_str));
        header.extend(self.labels.as_ref().map(|_| "label"));
        let mut out = String::new();
        push_row(&mut out, header.into_iter().map(csv_cell));
        for t in 0..self.steps() {
            let mut cells: Vec<String> = Vec::with_capacity(self.sensors.len() + 2);
            if let Some(stamps) = &self.timestamps {
                cells.push(csv_cell(&stamps[t]));
            }
            cells.extend(self.row(t).iter().map(|v| {
                if v.is_nan() {
                    String::new()
                } else {
                    v.to_string()
                }
            }));
            if let Some(labels) = &self.labels {
                cells.push(if labels[t] { "1" } else { "0" }.to_string());
            }
            push_row(&mut out, cells.into_iter());
        }
        out
    }
}

/// Appends one CSV line of `cells`, separated by commas.
fn push_row(out: &mut String, cells: impl Iterator<Item = String>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell);
    }
    out.push('\n');
}

/// A text cell, quoted when it holds a comma, a quote or a line break.
fn csv_cell(text: &str) -> String {
    if !text.contains([',', '"', '\n', '\r']) {
        text.to_string()
    } else {
        format!("\"{}\"", text.replace('"', "\"\""))
    }
}

/// Why a sensor file could not be loaded or a series not cut into windows. Rows are the
/// file's lines, 1-based with the header as row 1 (a spreadsheet's row numbers, unless a
/// quoted cell spans lines).
// Not `Eq`: `Fraction` carries the offending `f64`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeriesError {
    /// The file holds nothing, or only blank lines.
    #[error("the file is empty")]
    Empty,
    /// The file is larger than [`CsvOptions::max_bytes`].
    #[error("the file has {bytes} bytes, more than the limit of {limit} bytes")]
    TooManyBytes {
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The first row holds numbers, so it is data and the column names are missing.
    #[error("row 1 holds numbers, not column names: the first row must name each column (e.g. timestamp,temperature,pressure)")]
    NoHeader,
    /// A header cell is blank.
    #[error("row 1: column {column} has no name; name it (`timestamp` if it holds times)")]
    BlankColumnName {
        /// The column, 1-based.
        column: usize,
    },
    /// Two columns have the same name.
    #[error("row 1: two columns are named '{name}'; each column needs its own name")]
    DuplicateColumn {
        /// The name.
        name: String,
    },
    /// More than one column is named as a label column.
    #[error("row 1: '{first}' and '{second}' are both label columns; keep one")]
    TwoLabelColumns {
        /// The first label column.
        first: String,
        /// The second.
        second: String,
    },
    /// Every column is a timestamp or a label: nothing to learn from.
    #[error(
        "no sensor column: every column is a timestamp or a label (sensor columns hold numbers)"
    )]
    NoSensor,
    /// More sensor columns than [`CsvOptions::max_sensors`].
    #[error("{sensors} sensor columns, more than the limit of {limit}")]
    TooManySensors {
        /// Sensor columns in the header.
        sensors: usize,
        /// The limit.
        limit: usize,
    },
    /// More data rows than [`CsvOptions::max_rows`].
    #[error("more than {limit} data rows (the limit); row {row} is one too many")]
    TooManyRows {
        /// The first row over the limit.
        row: usize,
        /// The limit.
        limit: usize,
    },
    /// A cell is not UTF-8 text (an export in another encoding).
    #[error("row {row}, column '{column}': not UTF-8 text; save the file as UTF-8")]
    NotText {
        /// The row.
        row: usize,
        /// The column's name (`column N` in the header itself).
        column: String,
    },
    /// A row has more or fewer cells than the header.
    #[error("row {row}: expected {expected} cells (one per header column), found {found}")]
    Ragged {
        /// The row.
        row: usize,
        /// Cells in the header.
        expected: usize,
        /// Cells in the row.
        found: usize,
    },
    /// A sensor cell is not a number.
    #[error("row {row}, column '{column}': '{cell}' is not a number")]
    NotANumber {
        /// The row.
        row: usize,
        /// The sensor's column.
        column: String,
        /// The cell, cut to [`MAX_CELL_QUOTE`] characters.
        cell: String,
    },
    /// A sensor cell is empty or not finite, and the policy is [`Missing::Refuse`].
    #[error("row {row}, column '{column}': missing value (empty, NA or not finite); choose to drop rows with missing values or to fill them from the previous row")]
    MissingCell {
        /// The row.
        row: usize,
        /// The sensor's column.
        column: String,
    },
    /// A sensor column has no value at all, so there is nothing to fill from.
    #[error("column '{column}' has no value in any row; remove the column")]
    NoValues {
        /// The sensor's column.
        column: String,
    },
    /// A label cell is not one of the label values.
    #[error("row {row}, column '{column}': '{cell}' is not a label (use 0/1, normal/anomaly or true/false)")]
    BadLabel {
        /// The row.
        row: usize,
        /// The label column.
        column: String,
        /// The cell, cut to [`MAX_CELL_QUOTE`] characters.
        cell: String,
    },
    /// Fewer data rows than a series needs (after dropping rows with missing cells).
    #[error(
        "{rows} data rows ({dropped} dropped for missing values); a series needs at least {min}"
    )]
    TooFewRows {
        /// Rows kept.
        rows: usize,
        /// Rows dropped.
        dropped: usize,
        /// The minimum.
        min: usize,
    },
    /// Lengths that do not agree when a series is built.
    #[error("{what}: expected {expected} entries, found {found}")]
    Shape {
        /// Which part.
        what: &'static str,
        /// Entries expected.
        expected: usize,
        /// Entries given.
        found: usize,
    },
    /// A window of no steps, or a stride of none.
    #[error("the window {what} must be at least 1 step")]
    ZeroWindow {
        /// `length` or `stride`.
        what: &'static str,
    },
    /// The training share is not strictly between 0 and 1.
    #[error("the training share must be between 0 and 1 (both parts need steps), got {value}")]
    Fraction {
        /// The value given.
        value: f64,
    },
    /// A window is longer than the part it is cut from.
    #[error("a window of {length} steps is longer than the {part} part ({steps} steps); shorten the window or change the split")]
    WindowTooLong {
        /// The window length.
        length: usize,
        /// `training`, `test` or `whole`.
        part: &'static str,
        /// Steps in the part.
        steps: usize,
    },
    /// Steps asked for beyond the series' end.
    #[error("steps {start}..{end} are outside the series' {steps} steps")]
    OutOfRange {
        /// First step asked for.
        start: usize,
        /// One past the last.
        end: usize,
        /// Steps in the series.
        steps: usize,
    },
    /// No step of a range is normal, so nothing to fit standardisation on.
    #[error("steps {start}..{end} hold no normal step to fit the standardisation on")]
    NoNormalSteps {
        /// First step of the range.
        start: usize,
        /// One past the last.
        end: usize,
    },
    /// Windows that would hold more values than [`MAX_WINDOW_VALUES`].
    #[error("{windows} windows of {length} steps x {sensors} sensors are more than {limit} values; use a larger stride or a shorter window")]
    TooManyWindowValues {
        /// Windows that would be cut.
        windows: usize,
        /// Steps per window.
        length: usize,
        /// Sensors per step.
        sensors: usize,
        /// The limit, in values.
        limit: usize,
    },
    /// Every training window holds a labelled anomaly (or the part has no normal step).
    #[error("no training window: all {windows} windows of the training part hold a labelled anomaly; use a larger training share or a shorter window")]
    NoTrainingWindow {
        /// Windows in the training part before anomalous ones were left out.
        windows: usize,
    },
    /// The test part holds no window to score.
    #[error("no test window: the test part is shorter than one window")]
    NoTestWindow,
    /// Scores and windows of different counts.
    #[error("{scores} scores for {expected} expected (windows x steps per score)")]
    ScoreCount {
        /// Scores given.
        scores: usize,
        /// Scores expected.
        expected: usize,
    },
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_series_checks_its_lengths() {
        let names = || vec!["a".to_string(), "b".to_string()];
        let series = Series::new(names(), None, vec![1.0, 2.0, 3.0, 4.0], None).unwrap();
        assert_eq!((series.steps(), series.sensor_count()), (2, 2));
        assert_eq!(series.value(1, 0), 3.0);
        assert_eq!(series.row(1), [3.0, 4.0]);
        assert!(!series.is_anomaly(1));
        assert_eq!(
            Series::new(names(), None, vec![1.0; 3], None),
            Err(SeriesError::Shape {
                what: "values",
                expected: 4,
                found: 3
            })
        );
        assert_eq!(
            Series::new(names(), None, vec![1.0; 4], Some(vec![true])),
            Err(SeriesError::Shape {
                what: "labels",
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            Series::new(names(), Some(vec![]), vec![1.0; 4], None),
            Err(SeriesError::Shape {
                what: "timestamps",
                expected: 2,
                found: 0
            })
        );
        assert_eq!(
            Series::new(vec![], None, vec![], None),
            Err(SeriesError::NoSensor)
        );
    }

    #[test]
    fn to_csv_quotes_what_needs_it_and_parses_back() {
        let series = Series::new(
            vec!["flow, l/min".into(), "say \"hi\"".into()],
            Some(vec!["t,0".into(), "t1".into()]),
            vec![0.1, -2.5e-8, 3.0, f32::MAX],
            Some(vec![false, true]),
        )
        .unwrap();
        let text = series.to_csv();
        assert_eq!(
            text.lines().next(),
            Some("timestamp,\"flow, l/min\",\"say \"\"hi\"\"\",label")
        );
        assert_eq!(text.lines().nth(1), Some("\"t,0\",0.1,-0.000000025,0"));
        let parsed = parse_csv(text.as_bytes(), &CsvOptions::default()).unwrap();
        assert_eq!(parsed, series);
        // Without timestamps or labels, only sensor columns; a NaN is an empty cell.
        let bare = Series::new(
            vec!["x".into(), "y".into()],
            None,
            vec![1.5, f32::NAN],
            None,
        )
        .unwrap();
        assert_eq!(bare.to_csv(), "x,y\n1.5,\n");
    }
}
