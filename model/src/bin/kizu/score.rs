//! `kizu score`: a folder of images through a checkpoint, into a CSV and difference maps.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use burn::tensor::read_sync;
use indicatif::ProgressBar;
use kizu_model::checkpoint::Checkpoint;
use kizu_model::data::Images;
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
    for path in &paths {
        bar.inc(1);
        // A bad file is reported and skipped: it never stops the batch.
        let image = match load_image(path, checkpoint.meta.image_size(), channels) {
            Ok(image) => image.padded_to(size).into_owned(),
            Err(e) => {
                bar.suspend(|| eprintln!("skipped {}: {e}", path.display()));
                skipped += 1;
                continue;
            }
        };
        let detection = read_sync(model.detect(image.tensor(0, 1, &device)).read())?;
        let score = detection.scores.of(checkpoint.meta.score)[0];
        let threshold = checkpoint.meta.threshold;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        writeln!(
            csv,
            "{name},{score},{},{}",
            threshold.value,
            threshold.is_anomaly(score)
        )?;
        // Channels summed into one map; differences of 1 (black vs white) saturate.
        let plane = size * size;
        let difference = detection.difference.image(0);
        let summed: Vec<f32> = (0..plane)
            .map(|i| (0..channels).map(|c| difference[c * plane + i]).sum())
            .collect();
        let map = viz::heat_rgba(&viz::to_u8(&summed, channels as f32));
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

/// Decodes an image file to the checkpoint's input: `size` x `size`, gray or RGB, in [0, 1].
pub(crate) fn load_image(path: &Path, size: usize, channels: usize) -> Result<Images, AnyError> {
    let decoded = image::open(path)?;
    let resized = decoded.resize_exact(
        size as u32,
        size as u32,
        image::imageops::FilterType::Triangle,
    );
    let pixels: Vec<f32> = if channels == 1 {
        resized.to_luma32f().into_raw()
    } else {
        // Planar [c, h, w] from interleaved RGB.
        let rgb = resized.to_rgb32f().into_raw();
        (0..3)
            .flat_map(|c| rgb.iter().skip(c).step_by(3).copied().collect::<Vec<_>>())
            .collect()
    };
    Ok(Images::new(pixels, 1, channels, size, size)?)
}
