//! `kizu score`: a folder of images through a checkpoint, into a CSV and difference maps.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use burn::tensor::read_sync;
use indicatif::ProgressBar;
use kizu_model::checkpoint::Checkpoint;
use kizu_model::data::{decode_image, DecodeLimits, Target};
use kizu_model::detector::{Detector, Normalised};
use kizu_model::viz;

use crate::backend::Backend;
use crate::AnyError;

pub(crate) fn score_command(
    checkpoint: &Path,
    folder: &Path,
    out: &Path,
    backend: Backend,
) -> Result<(), AnyError> {
    let bytes = std::fs::read(checkpoint).map_err(|e| format!("{}: {e}", checkpoint.display()))?;
    let checkpoint = Checkpoint::from_bytes(&bytes)?;
    let (device, _) = backend.device()?;
    let model = checkpoint.detector(&device)?;
    let model = Normalised::new(&model, checkpoint.meta.normalisation());
    let (size, channels) = (checkpoint.meta.input_size, checkpoint.meta.channels);
    std::fs::create_dir_all(out)?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let bar = ProgressBar::new(paths.len() as u64);
    let mut csv = String::from("file,score,threshold,anomaly\n");
    let mut skipped = 0;
    let limits = DecodeLimits::default();
    let target = Target {
        side: checkpoint.meta.image_size(),
        channels,
        fit: checkpoint.meta.fit(),
    };
    let scale = checkpoint.meta.difference_scale();
    for path in &paths {
        bar.inc(1);
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        // A bad file is reported and skipped: it never stops the batch. The decoder's
        // message names the file and says why (the app shows the same messages).
        let image = std::fs::read(path)
            .map_err(|e| format!("{name}: {e}"))
            .and_then(|bytes| {
                decode_image(&name, &bytes, &limits, &target).map_err(|e| e.to_string())
            });
        let image = match image {
            Ok(image) => image.padded_to(size).into_owned(),
            Err(e) => {
                bar.suspend(|| eprintln!("skipped {e}"));
                skipped += 1;
                continue;
            }
        };
        let detection = read_sync(model.detect(image.tensor(0, 1, &device)).read())?;
        let score = detection.scores.of(checkpoint.meta.score)[0];
        let threshold = checkpoint.meta.threshold;
        writeln!(
            csv,
            "{name},{score},{},{}",
            threshold.value,
            threshold.is_anomaly(score)
        )?;
        // Channels averaged into one map, on the model's fixed heat-map scale.
        let mean = viz::channel_mean(detection.difference.image(0), channels);
        let map = viz::inferno_rgba(&mean, scale);
        let png = out.join(format!("{name}.difference.png"));
        image::save_buffer(
            &png,
            &map,
            size as u32,
            size as u32,
            image::ExtendedColorType::Rgba8,
        )?;
    }
    bar.finish_and_clear();
    std::fs::write(out.join("scores.csv"), csv)?;
    println!(
        "scored {} of {} files ({} skipped) with {}; wrote {}",
        paths.len() - skipped,
        paths.len(),
        skipped,
        checkpoint.meta.model.kind(),
        out.join("scores.csv").display()
    );
    Ok(())
}
