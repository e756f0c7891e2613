//! The pretrained checkpoints in `public/checkpoints/` (written by
//! `scripts/checkpoints.sh`): every model kind ships for both protocols, and every file
//! still loads with this build and scores real digits.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use burn::tensor::read_sync;
use kizu_model::catalog::{Catalog, CATALOG_FILE};
use kizu_model::checkpoint::Checkpoint;
use kizu_model::data::OneClassSplit;
use kizu_model::detector::{score_images, Detector};
use kizu_model::lstm_ae::LstmAutoencoder;
use kizu_model::series_run::{evaluate_series, SeriesData};
use kizu_model::settings::DataProtocol;
use kizu_model::zoo::ModelKind;
use kizu_tests::{bundled_mnist, device};

fn checkpoints_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/checkpoints")
}

fn checkpoint_path(kind: ModelKind, protocol: &str) -> std::path::PathBuf {
    checkpoints_dir().join(format!("{}-{protocol}.kizu", kind.id()))
}

#[test]
fn the_catalogue_lists_every_shipped_file_as_it_is() {
    let json = std::fs::read(checkpoints_dir().join(CATALOG_FILE)).expect("index.json");
    let catalog: Catalog = serde_json::from_slice(&json).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(checkpoints_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".kizu"))
        .collect();
    files.sort();
    let listed: Vec<String> = catalog.entries.iter().map(|e| e.file.clone()).collect();
    assert_eq!(
        listed, files,
        "run `kizu catalog` after changing a checkpoint"
    );
    for entry in &catalog.entries {
        let bytes = std::fs::read(checkpoints_dir().join(&entry.file)).unwrap();
        let checkpoint = Checkpoint::from_bytes(&bytes).unwrap();
        assert_eq!(
            checkpoint
                .meta
                .catalog_entry(&entry.file, bytes.len() as u64),
            *entry,
            "{} changed since the catalogue was written",
            entry.file
        );
        // Written by this format's CLI: the run's settings are in the file.
        assert!(
            checkpoint.meta.settings.is_some(),
            "{}: regenerate it",
            entry.file
        );
        assert!(entry.auc.is_some(), "{} records its AUC", entry.file);
        // An image model's heat maps have a fixed scale; a series model has no images.
        assert!(
            checkpoint.meta.series.is_some()
                || checkpoint.meta.difference_scale.is_some_and(|s| s > 0.0),
            "{}",
            entry.file
        );
    }
}

#[test]
fn every_model_kind_ships_for_both_protocols_and_scores_digits() {
    let split = OneClassSplit::new(&bundled_mnist(), 0, 42)
        .unwrap()
        .truncated(0, 48);
    for kind in ModelKind::ALL {
        for protocol in ["digit0", "overlay"] {
            let path = checkpoint_path(kind, protocol);
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run scripts/checkpoints.sh)", path.display()));
            let checkpoint = Checkpoint::from_bytes(&bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                checkpoint.meta.model.model_kind(),
                kind,
                "{}",
                path.display()
            );
            let model = checkpoint.detector(&device()).unwrap();
            assert_eq!(model.score_kind(), checkpoint.meta.score);
            assert!(checkpoint.meta.threshold.value.is_finite());
            let scores = read_sync(score_images(&model, &split.test, 48, &device())).unwrap();
            let own = scores.of(checkpoint.meta.score);
            assert_eq!(own.len(), 48, "{}", path.display());
            assert!(
                own.iter().all(|s| s.is_finite()),
                "{}: {own:?}",
                path.display()
            );
            let expected_digit = (protocol == "digit0").then_some(0);
            assert_eq!(checkpoint.meta.training.anomaly_digit, expected_digit);
        }
    }
}

/// The demo series' model ships, and evaluated again on the demo series it scores every
/// test window as when it was written: the same AUC.
#[test]
fn the_demo_series_model_ships_and_reproduces_its_auc() {
    let path = checkpoint_path(ModelKind::LstmAutoencoder, "demo-series");
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/checkpoints.sh)", path.display()));
    let checkpoint = Checkpoint::from_bytes(&bytes).unwrap();
    let meta = &checkpoint.meta;
    assert_eq!(meta.protocol(), DataProtocol::DemoSeries);
    let record = meta
        .series
        .as_ref()
        .expect("a series checkpoint records its series");
    let data = SeriesData::demo(record.options).unwrap();
    let model = checkpoint.model::<LstmAutoencoder>(&device()).unwrap();
    let evaluated = read_sync(evaluate_series(
        &model,
        &data,
        meta.training.config.batch_size,
        Some(&record.error),
        Some(meta.threshold),
        &[],
        &device(),
    ))
    .unwrap();
    let (auc, shipped) = (evaluated.evaluation.auc.unwrap(), meta.auc.unwrap());
    assert!((auc - shipped).abs() < 1e-4, "{auc} against {shipped}");
    assert!(shipped > 0.9, "the recipe's model: {shipped}");
}

/// What `public/checkpoints/` may weigh in all (issue 9's budget for the shipped files).
const SHIPPED_BUDGET_BYTES: u64 = 25_000_000;

#[test]
fn the_best_model_ships_for_every_held_out_digit_within_the_budget() {
    let json = std::fs::read(checkpoints_dir().join(CATALOG_FILE)).expect("index.json");
    let catalog: Catalog = serde_json::from_slice(&json).unwrap();
    // The conv AE, the best model over the ten digits (docs/BENCHMARKS.md).
    for digit in 0..10 {
        let protocol = DataProtocol::OneClass { digit };
        let conv = catalog
            .entries
            .iter()
            .find(|e| e.model == ModelKind::ConvAutoencoder && e.protocol == protocol)
            .unwrap_or_else(|| panic!("no conv AE checkpoint with digit {digit} held out"));
        assert!(conv.auc.is_some_and(|auc| auc > 0.75), "{conv:?}");
    }
    let total: u64 = std::fs::read_dir(checkpoints_dir())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(
        total <= SHIPPED_BUDGET_BYTES,
        "public/checkpoints holds {total} bytes, over {SHIPPED_BUDGET_BYTES}"
    );
}
