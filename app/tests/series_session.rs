//! The worker's lab session on sensor series, driven natively: a CSV loads (a broken one is
//! refused by row and column and the one before stays), the LSTM autoencoder trains on the
//! demo series and on the loaded one, its checkpoint reopens with the same scores, and a
//! series model refuses to score images.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

mod common;

use common::{model, send, started, TestHost};
use kizu_app::protocol::{
    Action, DataProtocol, Event, FileBytes, Missing, ModelOrigin, Refusal, RunSettings,
    SessionError,
};
use kizu_model::data::series::DemoSeries;

/// The series recipe, short: two epochs.
fn short(protocol: DataProtocol) -> RunSettings {
    let mut settings = RunSettings::series_recipe(protocol);
    settings.epochs = 2;
    settings.hyperparameters.insert("hidden".into(), 16.0);
    settings.hyperparameters.insert("latent".into(), 8.0);
    settings
}

fn csv(name: &str, text: &str) -> FileBytes {
    FileBytes {
        path: name.into(),
        bytes: text.as_bytes().to_vec(),
    }
}

#[test]
fn the_demo_series_trains_and_its_checkpoint_reopens_with_the_same_scores() {
    let host = TestHost::new();
    let session = started(&host);
    let view = model(send(
        &session,
        Action::Train(short(DataProtocol::DemoSeries)),
        &host,
    ));
    let trace = view.series.as_ref().expect("a series view");
    assert_eq!(trace.sensors, DemoSeries::SENSORS);
    assert_eq!(trace.window_length, 32);
    // 3,000 test steps in windows of 32 every 4, each one scored and labelled.
    assert_eq!(view.test_scores.len(), (3_000 - 32) / 4 + 1);
    assert_eq!(view.test_is_anomaly.len(), view.test_scores.len());
    assert_eq!(trace.window_starts.len(), view.test_scores.len());
    assert!(view.test_names[0].starts_with("steps 3000-3031 (2024-03-03"));
    assert_eq!(trace.values.len(), trace.points * 5);
    assert!(view.auc.is_some_and(|auc| auc > 0.5), "{:?}", view.auc);
    assert!(view.samples.is_empty() && view.latent.is_none());
    assert_eq!(view.steps, Some(2 * 743_usize.div_ceil(32)));
    // A series model's test items are windows, not images to draw or score.
    assert_eq!(
        send(&session, Action::Gallery { indices: vec![0] }, &host),
        Event::Refused(Refusal::NoTestImages {
            why: "a sensor-series model is tested on windows, drawn in its series views".into()
        })
    );
    let Event::Failed(SessionError::Data(why)) = send(
        &session,
        Action::ScoreImages(vec![csv("a.png", "x")]),
        &host,
    ) else {
        panic!("{:?}", host.events().last());
    };
    assert!(why.contains("sensor series"), "{why}");
    let Event::Checkpoint(file) = send(&session, Action::ExportCheckpoint, &host) else {
        panic!("{:?}", host.events().last());
    };
    assert_eq!(file.path, "lstm-ae-demo-series.kizu");

    let other = TestHost::new();
    let fresh = started(&other);
    let reopened = model(send(&fresh, Action::ImportCheckpoint(file), &other));
    assert_eq!(
        reopened.origin,
        ModelOrigin::Imported("lstm-ae-demo-series.kizu".into())
    );
    assert_eq!(reopened.test_scores, view.test_scores);
    assert_eq!(reopened.auc, view.auc);
    assert_eq!(reopened.series, view.series);
}

#[test]
fn a_csv_loads_trains_and_a_broken_one_leaves_the_series_before() {
    let host = TestHost::new();
    let session = started(&host);
    assert_eq!(
        send(&session, Action::Train(short(DataProtocol::Series)), &host),
        Event::Refused(Refusal::NoSeries)
    );
    let text = DemoSeries::generate(4).0.to_csv();
    let Event::SeriesLoaded(report) = send(
        &session,
        Action::LoadSeries {
            file: csv("plant.csv", &text),
            missing: Missing::Refuse,
        },
        &host,
    ) else {
        panic!("{:?}", host.events().last());
    };
    assert_eq!((report.steps, report.sensors.len()), (6_000, 5));
    assert!(report.timestamps && report.anomalous_steps.is_some_and(|n| n > 0));
    let broken = Action::LoadSeries {
        file: csv("broken.csv", "time,temp\n1,20\n2,warm\n"),
        missing: Missing::Refuse,
    };
    assert_eq!(
        send(&session, broken, &host),
        Event::Failed(SessionError::Data(
            "broken.csv: row 3, column 'temp': 'warm' is not a number".into()
        ))
    );
    // The series loaded before still trains.
    let view = model(send(
        &session,
        Action::Train(short(DataProtocol::Series)),
        &host,
    ));
    assert_eq!(view.protocol, DataProtocol::Series);
    assert_eq!(view.series.as_ref().unwrap().sensors, DemoSeries::SENSORS);
    let filled = Action::LoadSeries {
        file: csv("gap.csv", "time,temp\n1,20\n2,\n3,21\n"),
        missing: Missing::FillPrevious,
    };
    let Event::SeriesLoaded(report) = send(&session, filled, &host) else {
        panic!("{:?}", host.events().last());
    };
    assert_eq!((report.steps, report.filled_cells), (3, 1));
}
