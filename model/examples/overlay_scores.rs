//! The test AUC of checkpoints under each reconstruction score and their own, on the data
//! each was trained for, and under erased ink at other bars than the score's: how the
//! overlay protocol's score was chosen (docs/BENCHMARKS.md).
//!
//! `cargo run --release -p kizu-model --features cli --example overlay_scores -- FILE...`
//! from the repository root (it reads the bundled digits in `public/data/`).

use burn::tensor::{read_sync, Device};
use kizu_model::checkpoint::Checkpoint;
use kizu_model::data::{Mnist, BUNDLED_IMAGES_FILE, BUNDLED_LABELS_FILE};
use kizu_model::detector::{detect_rows, score_images, Detector, Normalised};
use kizu_model::metrics::roc_auc;
use kizu_model::run::RunData;
use kizu_model::score::{erased_ink, ScoreKind};
use kizu_model::train::fixed_batches;

type AnyError = Box<dyn std::error::Error>;

/// The bars erased ink is also tried at.
const BARS: [f32; 4] = [0.1, 0.25, 0.4, 0.5];

fn main() -> Result<(), AnyError> {
    let device = Device::flex();
    let read = |name: &str| std::fs::read(format!("public/data/{name}"));
    let mnist = Mnist::bundled(&read(BUNDLED_IMAGES_FILE)?, &read(BUNDLED_LABELS_FILE)?)?;
    let kinds = [
        ScoreKind::Mse,
        ScoreKind::DifferenceRatio,
        ScoreKind::RemovedInk,
        ScoreKind::ErasedInk,
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
        let auc = |label: &str, scores: &[f32]| {
            let auc = roc_auc(scores, anomalous).unwrap_or(f64::NAN);
            format!("{label} {auc:.4}")
        };
        let mut line: Vec<String> = kinds
            .iter()
            .map(|&k| auc(k.label(), scores.of(k)))
            .collect();
        line.push(format!(
            "own ({})",
            auc(model.score_kind().label(), scores.of(model.score_kind()))
        ));
        // Erased ink at each bar, from the same reconstructions.
        let test = split.test().padded_to(model.input_size());
        let mut erased = vec![Vec::new(); BARS.len()];
        for rows in fixed_batches(test.len(), batch) {
            let x = test.tensor(rows.start, rows.end, &device);
            let detection = detect_rows(&model, &test, rows, batch, &device);
            for (values, bar) in erased.iter_mut().zip(BARS) {
                let e = erased_ink(x.clone(), detection.reconstruction.clone(), bar);
                values.extend(
                    e.into_data()
                        .try_into_vec::<f32>()
                        .map_err(|e| format!("{e:?}"))?,
                );
            }
        }
        for (values, bar) in erased.iter().zip(BARS) {
            line.push(auc(&format!("erased below {bar}"), values));
        }
        println!("{file}: {}", line.join(", "));
    }
    Ok(())
}
