//! The worker's lab session, driven natively: training reports every step and honours
//! Stop, shipped and imported checkpoints open, bad files are refused with the model kept,
//! users' images load, train and score.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use std::cell::RefCell;
use std::io::Cursor;

use kizu_app::protocol::{
    Action, DataProtocol, Event, FileBytes, Fit, ModelKind, ModelOrigin, ModelView, Refusal,
    RunSettings, Sample, SessionError,
};
use kizu_app::session::{Session, SAMPLES_PER_CLASS};
use kizu_model::data::BUNDLED_IMAGES_FILE;
use kizu_model::threshold::ThresholdMethod;
use kizu_model::zoo::Scale;

mod common;

use common::{model, send, started, TestHost};

fn quick(model: ModelKind) -> RunSettings {
    RunSettings {
        model,
        scale: Scale::Compact,
        protocol: DataProtocol::OneClass { digit: 4 },
        epochs: 1,
        batch_size: 32,
        seed: 5,
        max_train: Some(1_000),
        max_test: Some(500),
        ..RunSettings::default()
    }
}

#[test]
fn hello_brings_the_catalogue_of_shipped_checkpoints() {
    let host = TestHost::new();
    let _session = started(&host);
    let Some(Event::Catalog(catalog)) = host.events().first().cloned() else {
        panic!("no catalogue: {:?}", host.events());
    };
    // Every shipped file (27: nine models twice, the conv AE for nine more digits).
    let shipped = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../public/checkpoints"
    ))
    .map(|dir| {
        dir.filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".kizu"))
            .count()
    })
    .unwrap_or(0);
    assert!(shipped >= 27, "{shipped} shipped files");
    assert_eq!(catalog.entries.len(), shipped);
    // The first visit opens the conv AE, the model shipped for every digit.
    assert_eq!(
        catalog.featured().map(|e| e.file.as_str()),
        Some("conv-ae-digit0.kizu")
    );
}

#[test]
fn hello_fetches_the_bundled_digits_with_the_catalogue_and_opening_uses_them() {
    let host = TestHost::new();
    let session = started(&host);
    let data = [
        "kizu:/data/mnist10k-images-idx3-ubyte.gz",
        "kizu:/data/mnist10k-labels-idx1-ubyte.gz",
    ];
    let mut fetched = host.fetched.borrow().clone();
    fetched.sort();
    assert_eq!(
        fetched,
        ["kizu:/checkpoints/index.json", data[0], data[1]],
        "hello's fetches"
    );
    let file = "conv-ae-digit0.kizu".to_owned();
    model(send(&session, Action::OpenShipped { file }, &host));
    let fetched = host.fetched.borrow();
    for url in data {
        assert_eq!(
            fetched.iter().filter(|f| *f == url).count(),
            1,
            "{fetched:?}"
        );
    }
}

#[test]
fn a_quick_run_reports_every_step_and_returns_views_and_a_finite_auc() {
    let host = TestHost::new();
    let session = started(&host);
    let view = model(send(
        &session,
        Action::Train(quick(ModelKind::ConvAutoencoder)),
        &host,
    ));
    let steps: usize = host
        .events()
        .iter()
        .map(|e| match e {
            Event::Steps(s) => s.len(),
            _ => 0,
        })
        .sum();
    // 1,000 training images in batches of 32.
    assert_eq!(steps, 32);
    // What the model generates is previewed from the first step on: two normal images and
    // two anomalies, scored by MSE while the model's own score is not fitted yet.
    let previews: Vec<Vec<Sample>> = host
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Preview(samples) => Some(samples),
            _ => None,
        })
        .collect();
    assert!(!previews.is_empty(), "no preview while training");
    let first = &previews[0];
    assert_eq!(
        first.iter().map(|s| s.is_anomaly).collect::<Vec<_>>(),
        [Some(false), Some(false), Some(true), Some(true)]
    );
    assert!(first
        .iter()
        .all(|s| s.score.is_finite() && s.generated.len() == 28 * 28));
    assert_eq!(view.steps, Some(32));
    assert_eq!(view.origin, ModelOrigin::Trained);
    assert!(!view.stopped_early);
    assert!(view.auc.is_some_and(f64::is_finite));
    assert_eq!(view.test_scores.len(), 500);
    assert_eq!(view.test_is_anomaly.len(), 500);
    let counted: u32 = view
        .histogram
        .normal
        .iter()
        .chain(&view.histogram.anomalous)
        .sum();
    assert_eq!(counted, 500);
    assert_eq!(view.samples.len(), 2 * SAMPLES_PER_CLASS);
    assert_eq!(view.thresholds.len(), 2);
    let confusion = |i: usize| view.thresholds[i].confusion.unwrap();
    assert_eq!(confusion(0).total(), 500);
    assert_eq!(
        view.thresholds[0].threshold.method,
        ThresholdMethod::DEFAULT
    );
    assert!(
        confusion(1).false_positives <= confusion(0).false_positives,
        "the max of normal flags no more normal images than the 95th percentile kept"
    );
    for sample in &view.samples {
        assert_eq!(sample.is_anomaly, Some(sample.label == "digit 4"));
        for image in [&sample.input, &sample.generated, &sample.difference] {
            assert_eq!(image.len(), 28 * 28);
        }
        assert!(
            sample.generated.iter().any(|&p| p > 0),
            "a reconstruction is not blank"
        );
    }
}

#[test]
fn a_paused_run_waits_and_resumes_to_the_same_result_as_one_never_paused() {
    let plain_host = TestHost::new();
    let plain = model(send(
        &started(&plain_host),
        Action::Train(quick(ModelKind::ConvAutoencoder)),
        &plain_host,
    ));
    let host = TestHost {
        pause_at: 6,
        ..TestHost::new()
    };
    let session = started(&host);
    let paused = model(send(
        &session,
        Action::Train(quick(ModelKind::ConvAutoencoder)),
        &host,
    ));
    let events = host.events();
    let phases: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Phase(p) => Some(p.as_str()),
            _ => None,
        })
        .collect();
    let at = phases
        .iter()
        .position(|&p| p == "paused")
        .expect("reported as paused");
    assert_eq!(phases[at + 1], "training", "then resumed: {phases:?}");
    assert_eq!(host.idles.get(), 3, "it waited while paused");
    // One loss history: every step once, in order.
    let steps: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            Event::Steps(reports) => Some(reports.iter().map(|r| r.step).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect();
    let total = paused.steps.unwrap();
    assert_eq!(steps, (1..=total).collect::<Vec<_>>());
    assert!(!paused.stopped_early);
    assert_eq!(paused.auc, plain.auc, "the same run as one never paused");
    assert_eq!(paused.test_scores, plain.test_scores);
}

#[test]
fn stop_keeps_what_was_learned_and_still_evaluates() {
    let host = TestHost::stopping_after(5);
    let session = started(&host);
    let view = model(send(
        &session,
        Action::Train(quick(ModelKind::ConvAutoencoder)),
        &host,
    ));
    assert!(view.stopped_early);
    assert_eq!(view.steps, Some(5));
    assert!(view.auc.is_some());
}

#[test]
fn an_invalid_digit_fails_typed_and_nothing_else_is_a_model() {
    let host = TestHost::new();
    let session = started(&host);
    let bad = RunSettings {
        protocol: DataProtocol::OneClass { digit: 11 },
        ..quick(ModelKind::ConvAutoencoder)
    };
    let Event::Failed(SessionError::Data(message)) = send(&session, Action::Train(bad), &host)
    else {
        panic!("{:?}", host.events());
    };
    assert!(message.contains("0-9"), "{message}");
    assert_eq!(
        send(&session, Action::ExportCheckpoint, &host),
        Event::Refused(Refusal::NoModel)
    );
}

#[test]
fn a_downloaded_checkpoint_opens_again_with_the_same_scores_and_a_bad_one_keeps_the_model() {
    let host = TestHost::stopping_after(8);
    let session = started(&host);
    let trained = model(send(
        &session,
        Action::Train(quick(ModelKind::Ganomaly)),
        &host,
    ));
    assert_eq!(trained.score_label, "nearest training latent");
    assert_eq!(trained.samples[0].side, 32, "digits are padded to 32x32");
    let Event::Checkpoint(file) = send(&session, Action::ExportCheckpoint, &host) else {
        panic!("no checkpoint");
    };
    assert_eq!(file.path, "ganomaly-digit4.kizu");

    // A fresh session opens the file and scores the same test images the same way.
    let fresh_host = TestHost::new();
    let fresh = started(&fresh_host);
    let opened = model(send(
        &fresh,
        Action::ImportCheckpoint(file.clone()),
        &fresh_host,
    ));
    assert_eq!(
        opened.origin,
        ModelOrigin::Imported("ganomaly-digit4.kizu".into())
    );
    assert_eq!(
        opened.thresholds[0].threshold,
        trained.thresholds[0].threshold
    );
    assert_eq!(opened.test_scores.len(), 500);
    for (a, b) in opened.test_scores.iter().zip(&trained.test_scores) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs {b}");
    }

    // Damaged and foreign files are refused by name; the model stays.
    let mut tampered = file.bytes.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0xff;
    for (name, bytes, reason) in [
        ("tampered.kizu", tampered, "checksum"),
        ("short.kizu", file.bytes[..100].to_vec(), "truncated"),
        ("notes.txt", b"hello".to_vec(), "not a Kizu checkpoint"),
    ] {
        let event = send(
            &fresh,
            Action::ImportCheckpoint(FileBytes {
                path: name.into(),
                bytes,
            }),
            &fresh_host,
        );
        let Event::Failed(SessionError::Checkpoint { file, reason: why }) = event else {
            panic!("{name}: {event:?}");
        };
        assert_eq!(file, name);
        assert!(why.contains(reason), "{name}: {why}");
    }
    let Event::Checkpoint(again) = send(&fresh, Action::ExportCheckpoint, &fresh_host) else {
        panic!("the model was lost");
    };
    assert_eq!(again.bytes, file.bytes);
}

#[test]
fn a_shipped_checkpoint_opens_with_its_results_and_others_are_refused() {
    let host = TestHost::new();
    let session = started(&host);
    let view = model(send(
        &session,
        Action::OpenShipped {
            file: "conv-ae-digit0.kizu".into(),
        },
        &host,
    ));
    assert_eq!(
        view.origin,
        ModelOrigin::Shipped("conv-ae-digit0.kizu".into())
    );
    assert_eq!(view.protocol, DataProtocol::OneClass { digit: 0 });
    assert!(view.auc.is_some_and(|a| a > 0.5), "{:?}", view.auc);
    assert_eq!(view.samples.len(), 2 * SAMPLES_PER_CLASS);
    // It opens at the threshold it keeps, the 95th percentile of its training scores,
    // with the sources' max of normal beside it: the kept one flags most held-out digits
    // (the max of normal flagged 6 of 165) and few normal ones.
    let methods: Vec<_> = view.thresholds.iter().map(|t| t.threshold.method).collect();
    assert_eq!(methods, ThresholdMethod::AFTER_TRAINING);
    let kept = view.thresholds[0].confusion.expect("both classes");
    assert!(kept.recall().is_some_and(|r| r > 0.5), "{kept:?}");
    assert!(
        kept.false_positive_rate().is_some_and(|r| r < 0.1),
        "{kept:?}"
    );
    // What the page steers and draws with: training scores, names, the latent map.
    let n = view.test_scores.len();
    assert!(!view.train_scores.is_empty());
    assert_eq!(view.test_names.len(), n);
    assert!(
        view.test_names[0].starts_with("digit "),
        "{}",
        view.test_names[0]
    );
    let latent = view.latent.as_ref().expect("the conv AE has a latent");
    assert_eq!(latent.points.len(), n);
    assert!(latent.explained[0] >= latent.explained[1] && latent.explained[1] > 0.0);
    assert_gallery_matches(&session, &view, &host);
    for file in [
        "../Cargo.toml",
        "https://example.com/x.kizu",
        "missing.kizu",
    ] {
        assert_eq!(
            send(&session, Action::OpenShipped { file: file.into() }, &host),
            Event::Refused(Refusal::NotShipped { file: file.into() })
        );
    }
}

#[test]
fn damaged_bundled_digits_are_named_and_fetched_again_by_the_next_open() {
    let host = TestHost::new();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../public/data")
        .join(BUNDLED_IMAGES_FILE);
    let real = std::fs::read(file).unwrap();
    // Cut short twice: the copy fetched with the catalogue, and the one fetched again when
    // the model asks for the digits.
    for _ in 0..2 {
        let cut = real[..real.len() / 2].to_vec();
        host.damaged
            .borrow_mut()
            .push((BUNDLED_IMAGES_FILE.into(), cut));
    }
    let session = started(&host);
    let open = || Action::OpenShipped {
        file: "conv-ae-digit0.kizu".into(),
    };
    let Event::Failed(SessionError::Data(why)) = send(&session, open(), &host) else {
        panic!("a damaged download was not refused");
    };
    assert!(
        why.starts_with(&format!("{BUNDLED_IMAGES_FILE}: not a valid gzip file")),
        "{why}"
    );
    let view = model(send(&session, open(), &host));
    assert!(view.auc.is_some_and(|a| a > 0.5), "{:?}", view.auc);
    let fetches = host.fetched.borrow();
    let images = fetches.iter().filter(|u| u.ends_with(BUNDLED_IMAGES_FILE));
    assert_eq!(images.count(), 3);
}

#[test]
fn a_kept_model_reopens_with_its_results_or_evaluated_again_and_a_mismatch_is_refused() {
    let host = TestHost::new();
    let session = started(&host);
    let shipped = model(send(
        &session,
        Action::OpenShipped {
            file: "fc-ae-digit0.kizu".into(),
        },
        &host,
    ));
    let Event::Checkpoint(file) = send(&session, Action::ExportCheckpoint, &host) else {
        panic!("no checkpoint");
    };
    let origin = ModelOrigin::Kept {
        id: 42,
        name: "mine".into(),
    };
    let restore = |view: Option<ModelView>| Action::Restore {
        id: 42,
        name: "mine".into(),
        checkpoint: file.bytes.clone(),
        view: view.map(Box::new),
    };

    // In a fresh session (a reloaded page): as it was kept, without evaluating again.
    let fresh_host = TestHost::new();
    let fresh = started(&fresh_host);
    let restored = model(send(&fresh, restore(Some(shipped.clone())), &fresh_host));
    assert_eq!(
        restored,
        ModelView {
            origin: origin.clone(),
            ..shipped.clone()
        }
    );
    let Event::Checkpoint(again) = send(&fresh, Action::ExportCheckpoint, &fresh_host) else {
        panic!("the restored model has no checkpoint");
    };
    assert_eq!(again.bytes, file.bytes);
    // Its test images are made again for the gallery.
    assert_gallery_matches(&fresh, &restored, &fresh_host);

    // Results that cannot be read back: evaluated again, to the same scores.
    let evaluated = model(send(&fresh, restore(None), &fresh_host));
    assert_eq!(evaluated.origin, origin);
    assert_eq!(evaluated.test_scores, shipped.test_scores);

    // Results of another model than the checkpoint's are refused; the model stays.
    let other = ModelView {
        model: ModelKind::Ganomaly,
        ..shipped.clone()
    };
    let Event::Failed(SessionError::Checkpoint { file, reason }) =
        send(&fresh, restore(Some(other)), &fresh_host)
    else {
        panic!("a mismatched view was taken");
    };
    assert_eq!(file, "mine");
    assert!(reason.contains("GANomaly"), "{reason}");
    assert!(matches!(
        send(&fresh, Action::ExportCheckpoint, &fresh_host),
        Event::Checkpoint(_)
    ));
}

/// The gallery draws test images with the scores the view has for them; a position past
/// the test set is refused.
fn assert_gallery_matches(session: &RefCell<Session>, view: &ModelView, host: &TestHost) {
    let n = view.test_scores.len();
    let indices = vec![n - 1, 0, 7];
    let Event::Gallery(drawn) = send(
        session,
        Action::Gallery {
            indices: indices.clone(),
        },
        host,
    ) else {
        panic!("no gallery images");
    };
    assert_eq!(drawn.indices, indices);
    for (&i, sample) in drawn.indices.iter().zip(&drawn.samples) {
        let expected = view.test_scores[i];
        assert!(
            (sample.score - expected).abs() <= 1e-4 * expected.abs().max(1.0),
            "image {i}: drawn {} vs listed {expected}",
            sample.score
        );
        assert_eq!(sample.label, view.test_names[i]);
        assert_eq!(sample.is_anomaly, Some(view.test_is_anomaly[i]));
    }
    assert_eq!(
        send(session, Action::Gallery { indices: vec![n] }, host),
        Event::Refused(Refusal::NoSuchTestImage { index: n, len: n })
    );
}

/// A 40x40 PNG: a bright square on black, or with a bright stripe as its defect.
fn png(defect: bool, shade: u8) -> Vec<u8> {
    let image = image::GrayImage::from_fn(40, 40, |x, y| {
        let square = (10..30).contains(&x) && (10..30).contains(&y);
        let stripe = defect && (18..22).contains(&y);
        image::Luma([if square || stripe { shade } else { 0 }])
    });
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

fn file(path: &str, bytes: Vec<u8>) -> FileBytes {
    FileBytes {
        path: path.into(),
        bytes,
    }
}

#[test]
fn uploaded_images_load_with_every_broken_file_named_then_train_and_score() {
    let host = TestHost::new();
    let session = started(&host);
    let mut files: Vec<FileBytes> = (0..40)
        .map(|i| {
            file(
                &format!("parts/good/{i}.png"),
                png(false, 200 + (i % 50) as u8),
            )
        })
        .collect();
    files.extend((0..6).map(|i| file(&format!("parts/scratch/{i}.png"), png(true, 220))));
    files.push(file("parts/good/empty.png", Vec::new()));
    files.push(file("parts/good/notes.png", b"not an image".to_vec()));
    let mut cut = png(false, 200);
    cut.truncate(cut.len() / 2);
    files.push(file("parts/good/cut.png", cut));
    let Event::ImagesLoaded(report) = send(
        &session,
        Action::LoadImages {
            files,
            side: 32,
            channels: 1,
            fit: Fit::CentreCrop,
        },
        &host,
    ) else {
        panic!("{:?}", host.events());
    };
    assert_eq!(report.loaded, 46);
    assert_eq!(report.fit, Fit::CentreCrop);
    assert_eq!(report.good, 40);
    let refused: Vec<&str> = report.refused.iter().map(|r| r.file.as_str()).collect();
    assert_eq!(
        refused,
        [
            "parts/good/empty.png",
            "parts/good/notes.png",
            "parts/good/cut.png"
        ]
    );
    assert!(
        report.summary.iter().any(|l| l.contains("scratch")),
        "{:?}",
        report.summary
    );

    let settings = RunSettings {
        model: ModelKind::ConvAutoencoder,
        scale: Scale::Compact,
        protocol: DataProtocol::Images,
        epochs: 20,
        batch_size: 8,
        learning_rate: Some(3e-3),
        input_size: 32,
        channels: 1,
        fit: Fit::CentreCrop,
        ..RunSettings::default()
    };
    let view = model(send(&session, Action::Train(settings), &host));
    assert_eq!(view.protocol, DataProtocol::Images);
    assert_eq!(view.input, (32, 1));
    // 8 held-out good images and the 6 defects.
    assert_eq!(view.test_is_anomaly.iter().filter(|&&a| a).count(), 6);
    assert_eq!(view.test_is_anomaly.len(), 14);
    assert!(view.auc.is_some_and(|a| a > 0.9), "{:?}", view.auc);

    let Event::Scored(scored) = send(
        &session,
        Action::ScoreImages(vec![
            file("new-good.png", png(false, 210)),
            file("new-bad.png", png(true, 210)),
            file("broken.png", vec![0x89, b'P', b'N', b'G']),
        ]),
        &host,
    ) else {
        panic!("{:?}", host.events());
    };
    assert_eq!(scored.images.len(), 2);
    assert_eq!(scored.refused.len(), 1);
    assert_eq!(scored.refused[0].file, "broken.png");
    let (good, bad) = (&scored.images[0], &scored.images[1]);
    assert_eq!(good.label, "new-good.png");
    assert!(bad.score > good.score, "{} vs {}", bad.score, good.score);
    assert_eq!(bad.difference.len(), 32 * 32);
    // The checkpoint says how images were fitted, so new ones are fitted the same way.
    let Event::Checkpoint(file) = send(&session, Action::ExportCheckpoint, &host) else {
        panic!("no checkpoint");
    };
    let checkpoint = kizu_model::checkpoint::Checkpoint::from_bytes(&file.bytes).unwrap();
    assert_eq!(checkpoint.meta.fit(), Fit::CentreCrop);
}

/// Uploads `files` as 28x28 grayscale images, resized.
fn load_28(session: &RefCell<Session>, files: Vec<FileBytes>, host: &TestHost) -> Event {
    send(
        session,
        Action::LoadImages {
            files,
            side: 28,
            channels: 1,
            fit: Fit::Resize,
        },
        host,
    )
}

#[test]
fn an_upload_without_a_normal_image_to_train_on_is_refused_when_loaded() {
    let host = TestHost::new();
    let session = started(&host);
    let load = |files| load_28(&session, files, &host);
    // Defects and held-out good images only: nothing a split could train on.
    let event = load(vec![
        file("parts/scratch/1.png", png(true, 200)),
        file("parts/test/good/1.png", png(false, 200)),
    ]);
    let Event::Failed(SessionError::Data(message)) = event else {
        panic!("{event:?}");
    };
    assert!(message.contains("no normal (good) images"), "{message}");
    // One good image outside test/ is enough.
    let event = load(vec![
        file("parts/scratch/1.png", png(true, 200)),
        file("parts/good/1.png", png(false, 200)),
    ]);
    assert!(matches!(event, Event::ImagesLoaded(_)), "{event:?}");
}

#[test]
fn uploaded_images_are_split_with_the_runs_seed_as_the_cli_splits_them() {
    let host = TestHost::new();
    let session = started(&host);
    let files: Vec<FileBytes> = (0..30)
        .map(|i| file(&format!("good/{i}.png"), png(false, 180 + i as u8)))
        .collect();
    let set = kizu_model::data::decode_batch(
        files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())),
        &kizu_model::data::DecodeLimits::default(),
        &kizu_model::data::Target {
            side: 28,
            channels: 1,
            fit: Fit::Resize,
        },
    )
    .unwrap()
    .set;
    load_28(&session, files, &host);
    let mut held_out = Vec::new();
    for seed in [3, 4] {
        let settings = RunSettings {
            protocol: DataProtocol::Images,
            seed,
            epochs: 1,
            ..quick(ModelKind::FcAutoencoder)
        };
        let view = model(send(&session, Action::Train(settings), &host));
        let cli =
            kizu_model::data::ImageSplit::new(&set, seed, kizu_model::data::TEST_FRACTION).unwrap();
        // A sample is captioned "good/12.png (good)".
        let shown: Vec<&str> = view
            .samples
            .iter()
            .filter_map(|s| s.label.split(" (").next())
            .collect();
        assert!(!shown.is_empty());
        for label in &shown {
            assert!(
                cli.test_names().iter().any(|n| n == label),
                "seed {seed}: {label} is not held out by the CLI's split {:?}",
                cli.test_names()
            );
        }
        held_out.push(cli.test_names().to_vec());
    }
    assert_ne!(
        held_out[0], held_out[1],
        "two seeds held out the same images"
    );
}

#[test]
fn commands_without_what_they_need_are_refused() {
    let host = TestHost::new();
    let session = RefCell::new(Session::default());
    assert_eq!(
        send(&session, Action::ExportCheckpoint, &host),
        Event::Refused(Refusal::NotStarted)
    );
    let session = started(&host);
    let images = RunSettings {
        protocol: DataProtocol::Images,
        ..quick(ModelKind::ConvAutoencoder)
    };
    assert_eq!(
        send(&session, Action::Train(images), &host),
        Event::Refused(Refusal::NoImages)
    );
    assert_eq!(
        send(&session, Action::ScoreImages(Vec::new()), &host),
        Event::Refused(Refusal::NoModel)
    );
}

/// What gloo-worker does to every message between page and worker.
fn through_worker_codec<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    bincode::deserialize(&bincode::serialize(value).unwrap()).unwrap()
}

#[test]
fn every_message_survives_the_workers_binary_codec() {
    let host = TestHost::new();
    let session = started(&host);
    send(
        &session,
        Action::Train(quick(ModelKind::FcAutoencoder)),
        &host,
    );
    send(&session, Action::ExportCheckpoint, &host);
    send(
        &session,
        Action::Gallery {
            indices: vec![3, 1],
        },
        &host,
    );
    send(
        &session,
        Action::OpenShipped {
            file: "nope.kizu".into(),
        },
        &host,
    );
    let replies = host.replies.borrow();
    assert!(replies.iter().any(|r| matches!(r.event, Event::Gallery(_))));
    assert!(
        replies
            .iter()
            .any(|r| matches!(&r.event, Event::Model(v) if v.latent.is_some())),
        "the FC AE's latent map travels"
    );
    assert!(replies.len() > 4);
    for reply in replies.iter() {
        assert_eq!(&through_worker_codec(reply), reply);
    }
    for action in [
        Action::Train(quick(ModelKind::Ganomaly)),
        Action::Train(RunSettings {
            protocol: DataProtocol::Overlay,
            ..RunSettings::default()
        }),
        Action::LoadImages {
            files: vec![file("a/good/1.png", vec![1, 2, 3])],
            side: 32,
            channels: 3,
            fit: Fit::Resize,
        },
        Action::Restore {
            id: 1_764_000_000_000,
            name: "line 2".into(),
            checkpoint: vec![1, 2],
            view: replies.iter().find_map(|r| match &r.event {
                Event::Model(view) => Some(view.clone()),
                _ => None,
            }),
        },
    ] {
        assert_eq!(through_worker_codec(&action), action);
    }
}
