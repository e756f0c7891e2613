//! The test AUC of checkpoints under each reconstruction score and their own, on the data
//! each was trained for: how the overlay protocol's score was chosen (docs/BENCHMARKS.md).
//!
//! `cargo run --release -p kizu-model --features cli --example overlay_scores -- FILE...`
//! from the repository root (it reads the bundled digits in `public/data/`).

use burn::tensor::{read_sync, Device};
use kizu_model::checkpoint::Checkpoint;
use kizu_model::data::{Mnist, BUNDLED_IMAGES_FILE, BUNDLED_LABELS_FILE};
use kizu_model::detector::{score_images, Detector, Normalised};
use kizu_model::metrics::roc_auc;
use kizu_model::run::RunData;
use kizu_model::score::ScoreKind;

type AnyError = Box<dyn std::error::Error>;

fn main() -> Result<(), AnyError> {
    let device = Device::flex();
    let read = |name: &str| std::fs::read(format!("public/data/{name}"));
    let mnist = Mnist::bundled(&read(BUNDLED_IMAGES_FILE)?, &read(BUNDLED_LABELS_FILE)?)?;
    let kinds = [
        ScoreKind::Mse,
        ScoreKind::DifferenceRatio,
        ScoreKind::RemovedInk,
    ];
    for file in std::env::args().skip(1) {
        let checkpoint = Checkpoint::from_bytes(&std::fs::read(&file)?)?;
        let meta = &checkpoint.meta;
        let settings = meta.settings.clone().ok_or("no run settings recorded")?;
        let data = RunData::mnist(&settings, &mnist)?;
        let model = checkpoint.detector(&device)?;
        let model = Normalised::new(&model, meta.normalisation());
        let batch = meta.training.config.batch_rows(meta.training.train_images);
        let split = data.split.as_ref();
        let scores = read_sync(score_images(&model, split.test(), batch, &device))?;
        let anomalous = split.test_is_anomaly();
        let auc = |kind: ScoreKind| {
            let auc = roc_auc(scores.of(kind), anomalous).unwrap_or(f64::NAN);
            format!("{} {auc:.4}", kind.label())
        };
        let mut line: Vec<String> = kinds.iter().map(|&k| auc(k)).collect();
        line.push(format!("own ({})", auc(model.score_kind())));
        println!("{file}: {}", line.join(", "));
    }
    Ok(())
}
