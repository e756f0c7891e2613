//! Tests of `parse_csv`: every refusal with its row and column, the missing-cell policies,
//! labels, timestamps and limits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn parse(text: &str) -> Result<Series, SeriesError> {
    parse_csv(text.as_bytes(), &CsvOptions::default())
}

fn parse_with(text: &str, missing: Missing) -> Result<Series, SeriesError> {
    let options = CsvOptions {
        missing,
        ..CsvOptions::default()
    };
    parse_csv(text.as_bytes(), &options)
}

#[test]
fn reads_sensors_timestamps_and_labels_by_column_name() {
    let series = parse(
        "Time, temperature ,pressure,Label\n\
         2024-01-01 00:00,20.5,1.0,0\n\
         2024-01-01 00:01,21,-1.5e1,1\n\
         2024-01-01 00:02,22,3,normal\n",
    )
    .unwrap();
    assert_eq!(series.sensors, ["temperature", "pressure"]);
    assert_eq!(series.steps(), 3);
    assert_eq!(series.sensor_count(), 2);
    assert_eq!(series.values, [20.5, 1.0, 21.0, -15.0, 22.0, 3.0]);
    assert_eq!(series.value(1, 1), -15.0);
    assert_eq!(
        series.timestamps.unwrap(),
        ["2024-01-01 00:00", "2024-01-01 00:01", "2024-01-01 00:02"]
    );
    assert_eq!(series.labels.unwrap(), [false, true, false]);
    assert!(series.report.is_clean());
}

#[test]
fn without_timestamp_or_label_columns_every_column_is_a_sensor() {
    let series = parse("a,b\n1,2\n3,4\n").unwrap();
    assert_eq!(series.sensors, ["a", "b"]);
    assert_eq!(series.timestamps, None);
    assert_eq!(series.labels, None);
}

#[test]
fn every_timestamp_name_is_recognised_and_date_and_time_columns_join() {
    for name in ["timestamp", "TIME", "Date", "DateTime"] {
        let series = parse(&format!("{name},x\nt0,1\nt1,2\n")).unwrap();
        assert_eq!(series.sensors, ["x"], "{name}");
        assert_eq!(series.timestamps.unwrap(), ["t0", "t1"], "{name}");
    }
    let series = parse("date,time,x\n2024-01-01,00:00,1\n2024-01-01,00:01,2\n").unwrap();
    assert_eq!(series.sensors, ["x"]);
    assert_eq!(
        series.timestamps.unwrap(),
        ["2024-01-01 00:00", "2024-01-01 00:01"]
    );
}

#[test]
fn label_values_are_read_case_insensitively_and_trimmed() {
    for name in ["label", "Anomaly", "IS_ANOMALY"] {
        let text = format!("x,{name}\n1,0\n2, 1 \n3,Normal\n4,ANOMALY\n5,true\n6,False\n");
        let series = parse(&text).unwrap();
        assert_eq!(series.sensors, ["x"], "{name}");
        assert_eq!(
            series.labels.unwrap(),
            [false, true, false, true, true, false],
            "{name}"
        );
    }
}

#[test]
fn a_label_cell_with_another_value_names_row_column_and_cell() {
    let err = parse("x,label\n1,0\n2,yes\n").unwrap_err();
    assert_eq!(
        err,
        SeriesError::BadLabel {
            row: 3,
            column: "label".into(),
            cell: "yes".into()
        }
    );
    // An empty label is not guessed as normal, whatever the missing-cell policy.
    let err = parse_with("x,label\n1,\n2,0\n", Missing::DropRows).unwrap_err();
    assert!(matches!(err, SeriesError::BadLabel { row: 2, ref cell, .. } if cell.is_empty()));
}

#[test]
fn an_empty_file_is_refused() {
    assert_eq!(parse(""), Err(SeriesError::Empty));
    assert_eq!(parse(" \n\r\n\n"), Err(SeriesError::Empty));
    assert_eq!(parse("\u{feff}"), Err(SeriesError::Empty));
}

#[test]
fn a_first_row_of_numbers_is_no_header() {
    assert_eq!(parse("1,2\n3,4\n"), Err(SeriesError::NoHeader));
}

#[test]
fn header_names_must_be_present_distinct_and_leave_a_sensor() {
    assert_eq!(
        parse("timestamp,,b\nt,1,2\n"),
        Err(SeriesError::BlankColumnName { column: 2 })
    );
    assert_eq!(
        parse("a,b,a\n1,2,3\n"),
        Err(SeriesError::DuplicateColumn { name: "a".into() })
    );
    assert_eq!(
        parse("x,label,anomaly\n1,0,0\n"),
        Err(SeriesError::TwoLabelColumns {
            first: "label".into(),
            second: "anomaly".into()
        })
    );
    assert_eq!(
        parse("timestamp,label\nt0,0\nt1,1\n"),
        Err(SeriesError::NoSensor)
    );
}

#[test]
fn a_non_numeric_cell_is_quoted_with_its_row_and_column() {
    let err = parse("time,a,b\nt0,1,2\nt1,3,4,\n").unwrap_err();
    assert_eq!(
        err,
        SeriesError::Ragged {
            row: 3,
            expected: 3,
            found: 4
        }
    );
    let err = parse("time,a,b\nt0,1,2\nt1,3,four\n").unwrap_err();
    assert_eq!(
        err,
        SeriesError::NotANumber {
            row: 3,
            column: "b".into(),
            cell: "four".into()
        }
    );
    assert!(
        err.to_string().contains("row 3, column 'b': 'four'"),
        "{err}"
    );
    let long = "x".repeat(100);
    let err = parse(&format!("a\n1\n{long}\n")).unwrap_err();
    let SeriesError::NotANumber { cell, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(cell, format!("{}…", "x".repeat(MAX_CELL_QUOTE)));
}

#[test]
fn a_ragged_row_gives_both_counts() {
    let err = parse("a,b,c\n1,2,3\n1,2\n").unwrap_err();
    assert_eq!(
        err,
        SeriesError::Ragged {
            row: 3,
            expected: 3,
            found: 2
        }
    );
}

#[test]
fn rows_are_file_lines_despite_blank_lines_crlf_and_quoted_line_breaks() {
    let err = parse("a,b\r\n\r\n1,2\r\n\"3\",4\r\n\n\n5,x\r\n").unwrap_err();
    assert!(
        matches!(err, SeriesError::NotANumber { row: 7, .. }),
        "{err:?}"
    );
    // A quoted header name spanning two lines: the next record starts on line 3.
    let err = parse("\"a\nb\",c\n1,bad\n").unwrap_err();
    assert!(
        matches!(err, SeriesError::NotANumber { row: 3, .. }),
        "{err:?}"
    );
    // Old Mac line ends (a lone CR) count as lines too.
    let err = parse("a,b\r1,2\r3,x\r").unwrap_err();
    assert!(
        matches!(err, SeriesError::NotANumber { row: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn a_byte_order_mark_and_quoted_names_are_read() {
    let series = parse("\u{feff}timestamp,\"flow, l/min\"\nt0,1\nt1,2\n").unwrap();
    assert_eq!(series.sensors, ["flow, l/min"]);
    assert!(series.timestamps.is_some());
}

#[test]
fn a_missing_cell_is_refused_by_default_naming_row_and_column() {
    for cell in [
        "",
        " ",
        "NA",
        "n/a",
        "NaN",
        "null",
        "None",
        "inf",
        "-infinity",
    ] {
        let err = parse(&format!("a,b\n1,2\n3,{cell}\n5,6\n")).unwrap_err();
        assert_eq!(
            err,
            SeriesError::MissingCell {
                row: 3,
                column: "b".into()
            },
            "{cell:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("drop") && message.contains("fill"),
            "{message}"
        );
    }
}

#[test]
fn drop_rows_leaves_out_and_reports_rows_with_missing_cells() {
    let series = parse_with(
        "time,a,b,label\nt0,1,2,0\nt1,,4,1\nt2,5,6,0\nt3,7,NaN,0\nt4,9,10,1\n",
        Missing::DropRows,
    )
    .unwrap();
    assert_eq!(series.values, [1.0, 2.0, 5.0, 6.0, 9.0, 10.0]);
    assert_eq!(series.timestamps.unwrap(), ["t0", "t2", "t4"]);
    assert_eq!(series.labels.unwrap(), [false, false, true]);
    assert_eq!(series.report.dropped_rows, [3, 5]);
    assert_eq!(series.report.filled_cells, 0);
    // A typo in a row that would be dropped is still an error.
    let err = parse_with("a,b\n1,2\n,x\n3,4\n", Missing::DropRows).unwrap_err();
    assert!(
        matches!(err, SeriesError::NotANumber { row: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn fill_previous_carries_values_forward_and_back_fills_the_start() {
    let series = parse_with("a,b\n,1\n2,\n,\n4,5\n6,inf\n", Missing::FillPrevious).unwrap();
    // a: _,2,_,4,6 -> 2,2,2,4,6; b: 1,_,_,5,_ -> 1,1,1,5,5.
    assert_eq!(
        series.values,
        [2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 4.0, 5.0, 6.0, 5.0]
    );
    assert_eq!(series.report.filled_cells, 5);
    assert_eq!(series.report.filled_rows, [2, 3, 4, 6]);
    assert!(series.report.dropped_rows.is_empty());
    let err = parse_with("a,b\n1,\n2,NA\n", Missing::FillPrevious).unwrap_err();
    assert_eq!(err, SeriesError::NoValues { column: "b".into() });
}

#[test]
fn limits_refuse_bytes_rows_and_sensors_with_the_limit() {
    let text = "a,b\n1,2\n3,4\n5,6\n";
    let options = |f: fn(&mut CsvOptions)| {
        let mut options = CsvOptions::default();
        f(&mut options);
        options
    };
    let err = parse_csv(text.as_bytes(), &options(|o| o.max_bytes = 10)).unwrap_err();
    assert_eq!(
        err,
        SeriesError::TooManyBytes {
            bytes: text.len(),
            limit: 10
        }
    );
    let err = parse_csv(text.as_bytes(), &options(|o| o.max_rows = 2)).unwrap_err();
    assert_eq!(err, SeriesError::TooManyRows { row: 4, limit: 2 });
    assert!(parse_csv(text.as_bytes(), &options(|o| o.max_rows = 3)).is_ok());
    let err = parse_csv(text.as_bytes(), &options(|o| o.max_sensors = 1)).unwrap_err();
    assert_eq!(
        err,
        SeriesError::TooManySensors {
            sensors: 2,
            limit: 1
        }
    );
    let defaults = CsvOptions::default();
    assert_eq!(
        (defaults.max_bytes, defaults.max_rows, defaults.max_sensors),
        (50_000_000, 1_000_000, 64)
    );
    assert_eq!(defaults.missing, Missing::Refuse);
}

#[test]
fn too_few_rows_counts_the_dropped_ones() {
    assert_eq!(
        parse("a,b\n"),
        Err(SeriesError::TooFewRows {
            rows: 0,
            dropped: 0,
            min: MIN_ROWS
        })
    );
    assert_eq!(
        parse_with("a\n1\n\n", Missing::DropRows),
        Err(SeriesError::TooFewRows {
            rows: 1,
            dropped: 0,
            min: MIN_ROWS
        })
    );
    assert_eq!(
        parse_with("a,b\n1,\n2,3\nNA,4\n", Missing::DropRows),
        Err(SeriesError::TooFewRows {
            rows: 1,
            dropped: 2,
            min: MIN_ROWS
        })
    );
}

#[test]
fn text_in_another_encoding_names_its_row_and_column() {
    // "°C" in Latin-1: 0xB0 is not UTF-8.
    let err = parse_csv(b"temp \xB0C,b\n1,2\n", &CsvOptions::default()).unwrap_err();
    assert_eq!(
        err,
        SeriesError::NotText {
            row: 1,
            column: "column 1".into()
        }
    );
    let err = parse_csv(b"time,b\nt0,1\n\xB0,2\n", &CsvOptions::default()).unwrap_err();
    assert_eq!(
        err,
        SeriesError::NotText {
            row: 3,
            column: "time".into()
        }
    );
}

#[test]
fn another_delimiter_can_be_chosen() {
    let options = CsvOptions {
        delimiter: b';',
        ..CsvOptions::default()
    };
    let series = parse_csv(b"time;a\nt0;1.5\nt1;2\n", &options).unwrap();
    assert_eq!(series.values, [1.5, 2.0]);
}
