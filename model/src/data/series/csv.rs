//! A user's sensor file: CSV bytes with a header row to a [`Series`].
//!
//! Columns are found by name (compared trimmed and case-insensitively): timestamp columns
//! ([`TIMESTAMP_COLUMNS`]) are kept as text, a label column ([`LABEL_COLUMNS`]) marks
//! anomalous rows, and every other column is a sensor whose cells must be numbers. Every
//! refusal of a row or cell names its row and column; nothing is dropped or filled
//! silently.

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

use super::{LoadReport, Series, SeriesError};

/// Column names (lower case) read as timestamps; several are joined with a space (a
/// `date` and a `time` column make one timestamp).
pub const TIMESTAMP_COLUMNS: [&str; 4] = ["timestamp", "time", "date", "datetime"];

/// Column names (lower case) read as anomaly labels.
pub const LABEL_COLUMNS: [&str; 3] = ["label", "anomaly", "is_anomaly"];

/// Sensor cells (trimmed, lower case) taken as missing, besides non-finite numbers: what
/// spreadsheets, pandas and R write for a gap.
pub const MISSING_MARKERS: [&str; 6] = ["", "na", "n/a", "nan", "null", "none"];

/// Fewest data rows a series may have.
pub const MIN_ROWS: usize = 2;

/// Most characters of a cell an error quotes.
pub const MAX_CELL_QUOTE: usize = 40;

/// What loading does with a missing sensor cell (empty, [`MISSING_MARKERS`], NaN, inf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Missing {
    /// Refuse the file, naming the first missing cell (the default: the user decides).
    #[default]
    Refuse,
    /// Leave out every row with a missing cell; the report lists them.
    DropRows,
    /// Carry the sensor's last value forward (a missing first value takes the next present
    /// one); the report counts the cells.
    FillPrevious,
}

impl Missing {
    /// Each choice, in menu order.
    pub const ALL: [Self; 3] = [Self::Refuse, Self::DropRows, Self::FillPrevious];

    /// Stable identifier for forms.
    pub fn id(self) -> &'static str {
        match self {
            Self::Refuse => "refuse",
            Self::DropRows => "drop",
            Self::FillPrevious => "fill",
        }
    }

    /// Menu label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Refuse => "refuse the file (name the first missing cell)",
            Self::DropRows => "drop rows with a missing cell",
            Self::FillPrevious => "fill from the reading before",
        }
    }

    /// The choice with identifier `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.id() == id)
    }
}

/// How a CSV file is read, and how much of it is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// What to do with missing sensor cells.
    pub missing: Missing,
    /// The cell separator.
    pub delimiter: u8,
    /// Largest file read, in bytes.
    pub max_bytes: usize,
    /// Most data rows (the header not counted).
    pub max_rows: usize,
    /// Most sensor columns.
    pub max_sensors: usize,
}

impl Default for CsvOptions {
    /// Refuse missing cells, commas, 50 MB, 1,000,000 rows and 64 sensors: a million steps
    /// of 64 sensors is 256 MB of `f32`, about what a browser tab can hold.
    fn default() -> Self {
        Self {
            missing: Missing::Refuse,
            delimiter: b',',
            max_bytes: 50_000_000,
            max_rows: 1_000_000,
            max_sensors: 64,
        }
    }
}

/// What a header column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Timestamp,
    Label,
    Sensor,
}

/// Parses a CSV file's bytes into a series, as `options` say.
pub fn parse_csv(bytes: &[u8], options: &CsvOptions) -> Result<Series, SeriesError> {
    if bytes.len() > options.max_bytes {
        return Err(SeriesError::TooManyBytes {
            bytes: bytes.len(),
            limit: options.max_bytes,
        });
    }
    // A spreadsheet's byte-order mark is no content: a file of only that is empty.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(SeriesError::Empty);
    }
    let mut records = Records::new(bytes, options.delimiter);
    let mut lines = LineCounter::new(bytes);
    if !records.next() {
        return Err(SeriesError::Empty);
    }
    let names = header(&records)?;
    let roles = roles(&names, options)?;
    let sensor_columns: Vec<usize> = (0..names.len())
        .filter(|&c| roles[c] == Role::Sensor)
        .collect();
    let label_column = roles.iter().position(|&r| r == Role::Label);
    let has_timestamp = roles.contains(&Role::Timestamp);

    let mut values = Vec::new();
    let mut timestamps = Vec::new();
    let mut labels = Vec::new();
    let mut file_rows = Vec::new();
    let mut report = LoadReport::default();
    let mut row_values = Vec::with_capacity(sensor_columns.len());
    let mut data_rows = 0;
    while records.next() {
        let row = lines.line_at(records.start);
        data_rows += 1;
        if data_rows > options.max_rows {
            return Err(SeriesError::TooManyRows {
                row,
                limit: options.max_rows,
            });
        }
        if records.len() != names.len() {
            return Err(SeriesError::Ragged {
                row,
                expected: names.len(),
                found: records.len(),
            });
        }
        let cell = |c: usize| -> Result<&str, SeriesError> {
            std::str::from_utf8(records.cell(c))
                .map(str::trim)
                .map_err(|_| SeriesError::NotText {
                    row,
                    column: names[c].clone(),
                })
        };
        // Check the whole row before deciding to drop it: a typo is an error either way.
        row_values.clear();
        let mut first_missing = None;
        for &c in &sensor_columns {
            let text = cell(c)?;
            let value = reading(text).ok_or_else(|| SeriesError::NotANumber {
                row,
                column: names[c].clone(),
                cell: quote(text),
            })?;
            if value.is_none() && first_missing.is_none() {
                first_missing = Some(c);
            }
            row_values.push(value.unwrap_or(f32::NAN));
        }
        let label = match label_column {
            Some(c) => {
                let text = cell(c)?;
                Some(label(text).ok_or_else(|| SeriesError::BadLabel {
                    row,
                    column: names[c].clone(),
                    cell: quote(text),
                })?)
            }
            None => None,
        };
        if let Some(c) = first_missing {
            match options.missing {
                Missing::Refuse => {
                    return Err(SeriesError::MissingCell {
                        row,
                        column: names[c].clone(),
                    })
                }
                Missing::DropRows => {
                    report.dropped_rows.push(row);
                    continue;
                }
                Missing::FillPrevious => {}
            }
        }
        if has_timestamp {
            let parts: Result<Vec<&str>, _> = (0..names.len())
                .filter(|&c| roles[c] == Role::Timestamp)
                .map(cell)
                .collect();
            timestamps.push(parts?.join(" "));
        }
        labels.extend(label);
        values.extend_from_slice(&row_values);
        file_rows.push(row);
    }
    if file_rows.len() < MIN_ROWS {
        return Err(SeriesError::TooFewRows {
            rows: file_rows.len(),
            dropped: report.dropped_rows.len(),
            min: MIN_ROWS,
        });
    }
    if options.missing == Missing::FillPrevious {
        fill_previous(
            &mut values,
            &names,
            &sensor_columns,
            &file_rows,
            &mut report,
        )?;
    }
    let sensors = sensor_columns.iter().map(|&c| names[c].clone()).collect();
    let labels = label_column.map(|_| labels);
    let mut series = Series::new(sensors, has_timestamp.then_some(timestamps), values, labels)?;
    series.report = report;
    Ok(series)
}

/// The header's column names, trimmed; refuses a header of numbers or a blank name.
fn header(records: &Records) -> Result<Vec<String>, SeriesError> {
    let mut names = Vec::with_capacity(records.len());
    for c in 0..records.len() {
        let name = std::str::from_utf8(records.cell(c)).map_err(|_| SeriesError::NotText {
            row: 1,
            column: format!("column {}", c + 1),
        })?;
        names.push(name.trim().to_string());
    }
    if names
        .iter()
        .all(|n| n.parse::<f64>().is_ok_and(f64::is_finite))
    {
        return Err(SeriesError::NoHeader);
    }
    if let Some(c) = names.iter().position(String::is_empty) {
        return Err(SeriesError::BlankColumnName { column: c + 1 });
    }
    for (c, name) in names.iter().enumerate() {
        if names[..c].contains(name) {
            return Err(SeriesError::DuplicateColumn { name: name.clone() });
        }
    }
    Ok(names)
}

/// Each column's role, from its name; refuses two label columns, no sensor or too many.
fn roles(names: &[String], options: &CsvOptions) -> Result<Vec<Role>, SeriesError> {
    let roles: Vec<Role> = names
        .iter()
        .map(|name| {
            let lower = name.to_lowercase();
            if TIMESTAMP_COLUMNS.contains(&lower.as_str()) {
                Role::Timestamp
            } else if LABEL_COLUMNS.contains(&lower.as_str()) {
                Role::Label
            } else {
                Role::Sensor
            }
        })
        .collect();
    let mut label_names = (0..names.len())
        .filter(|&c| roles[c] == Role::Label)
        .map(|c| &names[c]);
    if let (Some(first), Some(second)) = (label_names.next(), label_names.next()) {
        return Err(SeriesError::TwoLabelColumns {
            first: first.clone(),
            second: second.clone(),
        });
    }
    let sensors = roles.iter().filter(|&&r| r == Role::Sensor).count();
    if sensors == 0 {
        return Err(SeriesError::NoSensor);
    }
    if sensors > options.max_sensors {
        return Err(SeriesError::TooManySensors {
            sensors,
            limit: options.max_sensors,
        });
    }
    Ok(roles)
}

/// A sensor cell (trimmed): `Some(Some(x))` a reading, `Some(None)` missing, `None` not a
/// number.
fn reading(cell: &str) -> Option<Option<f32>> {
    if MISSING_MARKERS.contains(&cell.to_lowercase().as_str()) {
        return Some(None);
    }
    // Rust's parser takes `inf` and `NaN` too: a reading that is not finite is a gap.
    let value = cell.parse::<f32>().ok()?;
    Some(value.is_finite().then_some(value))
}

/// A label cell (trimmed): anomalous, normal, or `None` for anything else (an empty cell
/// too: labels are never guessed).
fn label(cell: &str) -> Option<bool> {
    match cell.to_lowercase().as_str() {
        "1" | "anomaly" | "true" => Some(true),
        "0" | "normal" | "false" => Some(false),
        _ => None,
    }
}

/// A cell as an error quotes it: at most [`MAX_CELL_QUOTE`] characters, `…` after a cut.
fn quote(cell: &str) -> String {
    match cell.char_indices().nth(MAX_CELL_QUOTE) {
        Some((end, _)) => format!("{}…", &cell[..end]),
        None => cell.to_string(),
    }
}

/// Fills each sensor's gaps (NaN) from its previous reading, or its first one before it;
/// counts the cells and lists the rows filled.
fn fill_previous(
    values: &mut [f32],
    names: &[String],
    sensor_columns: &[usize],
    file_rows: &[usize],
    report: &mut LoadReport,
) -> Result<(), SeriesError> {
    let sensors = sensor_columns.len();
    let mut filled = vec![false; file_rows.len()];
    for (s, &c) in sensor_columns.iter().enumerate() {
        let first = (0..file_rows.len())
            .map(|t| values[t * sensors + s])
            .find(|v| !v.is_nan())
            .ok_or_else(|| SeriesError::NoValues {
                column: names[c].clone(),
            })?;
        let mut last = first;
        for (t, filled) in filled.iter_mut().enumerate() {
            let v = &mut values[t * sensors + s];
            if v.is_nan() {
                *v = last;
                *filled = true;
                report.filled_cells += 1;
            } else {
                last = *v;
            }
        }
    }
    report.filled_rows = (0..file_rows.len())
        .filter(|&t| filled[t])
        .map(|t| file_rows[t])
        .collect();
    Ok(())
}

/// The records of a CSV file, one at a time, over the csv crate's own parser.
struct Records<'a> {
    reader: Reader,
    input: &'a [u8],
    /// Bytes consumed so far.
    at: usize,
    /// Where the current record's bytes begin (before any blank lines).
    start: usize,
    /// The current record's cells, unquoted, one after another.
    cells: Vec<u8>,
    /// Where each cell ends in `cells`.
    ends: Vec<usize>,
    /// Cells in the current record.
    len: usize,
}

impl<'a> Records<'a> {
    fn new(input: &'a [u8], delimiter: u8) -> Self {
        Self {
            reader: ReaderBuilder::new().delimiter(delimiter).build(),
            input,
            at: 0,
            start: 0,
            cells: vec![0; 1024],
            ends: vec![0; 64],
            len: 0,
        }
    }

    /// Reads the next record; false at the end of the file. Any bytes parse: quotes that
    /// never close run to the end, as in the csv crate.
    fn next(&mut self) -> bool {
        self.start = self.at;
        let (mut out, mut end) = (0, 0);
        loop {
            // Past the input's end the parser gets an empty slice: its signal for the end.
            let (result, read, written, ended) = self.reader.read_record(
                &self.input[self.at..],
                &mut self.cells[out..],
                &mut self.ends[end..],
            );
            self.at += read;
            out += written;
            end += ended;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.cells.resize(self.cells.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => {
                    self.len = end;
                    return true;
                }
                ReadRecordResult::End => return false,
            }
        }
    }

    /// Cells in the current record.
    fn len(&self) -> usize {
        self.len
    }

    /// The bytes of cell `c` of the current record.
    fn cell(&self, c: usize) -> &[u8] {
        let start = if c == 0 { 0 } else { self.ends[c - 1] };
        &self.cells[start..self.ends[c]]
    }
}

/// Line numbers of byte offsets, counted forward once. A record's offset is where the
/// previous one stopped, before any blank lines (which the parser skips), so the record's
/// first byte is found here.
struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            at: 0,
            line: 1,
        }
    }

    /// The 1-based line of the first byte at or after `offset` that is not a line break
    /// (offsets only grow).
    fn line_at(&mut self, offset: usize) -> usize {
        let mut start = offset.max(self.at);
        while matches!(self.bytes.get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        for i in self.at..start.min(self.bytes.len()) {
            // `\n`, `\r\n` and a lone `\r` each end one line.
            let lone_cr = self.bytes[i] == b'\r' && self.bytes.get(i + 1) != Some(&b'\n');
            if self.bytes[i] == b'\n' || lone_cr {
                self.line += 1;
            }
        }
        self.at = start.max(self.at);
        self.line
    }
}

#[cfg(test)]
mod tests;
