//! The `kizu` binary end to end: train with the input options (64x64 RGB, standardised),
//! then score a folder with the checkpoint it wrote, a bad file among the images.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures, not user data

use std::path::{Path, PathBuf};
use std::process::Command;

use kizu_model::checkpoint::Checkpoint;
use kizu_model::data::Normalisation;
use kizu_model::threshold::ThresholdMethod;

fn kizu(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kizu"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "kizu {args:?} failed: {stderr}");
    format!("{}{stderr}", String::from_utf8_lossy(&out.stdout))
}

/// `kizu train` for one epoch on flex with the bundled digits and `options`, writing
/// `checkpoint`; what it printed.
fn train_one_epoch(options: &[&str], checkpoint: &Path) -> String {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/data");
    let (data, out) = (data.to_str().unwrap(), checkpoint.to_str().unwrap());
    let common = [
        "train",
        "--epochs",
        "1",
        "--backend",
        "flex",
        "--data",
        data,
        "--out",
        out,
    ];
    kizu(&[&common[..], options].concat())
}

/// `kizu score` of the folder `images` with `checkpoint` into `out`; what it printed.
fn score_folder(checkpoint: &Path, images: &Path, out: &Path) -> String {
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    kizu(&[
        "score",
        "--checkpoint",
        &path(checkpoint),
        "--images",
        &path(images),
        "--out",
        &path(out),
        "--backend",
        "flex",
    ])
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kizu-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn train_rgb_64_standardised_then_score_a_folder() {
    let dir = scratch("rgb64");
    let checkpoint = dir.join("conv-ae.kizu");
    let options = [
        "--model",
        "conv-ae",
        "--input-size",
        "64",
        "--channels",
        "3",
        "--standardise",
        "--max-train",
        "128",
    ];
    let report = train_one_epoch(&options, &checkpoint);
    assert!(report.contains("AUC"), "{report}");

    let loaded = Checkpoint::from_bytes(&std::fs::read(&checkpoint).unwrap()).unwrap();
    assert_eq!((loaded.meta.input_size, loaded.meta.channels), (64, 3));
    let Normalisation::Standardise { mean, std } = loaded.meta.normalisation() else {
        panic!("not standardised: {:?}", loaded.meta.normalisation());
    };
    // Gray digits repeated into RGB: the three planes have MNIST's statistics.
    assert_eq!(mean.len(), 3);
    assert!(mean.iter().all(|m| (0.05..0.25).contains(m)), "{mean:?}");
    assert!(std.iter().all(|s| (0.2..0.45).contains(s)), "{std:?}");

    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let stroke: Vec<u8> = (0..40 * 30)
        .flat_map(|i| {
            let on = (i % 40) / 8 == 2;
            if on {
                [255, 255, 255]
            } else {
                [0, 0, 0]
            }
        })
        .collect();
    image::save_buffer(
        images.join("one.png"),
        &stroke,
        40,
        30,
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    std::fs::write(images.join("broken.png"), b"not a png").unwrap();
    let scores = dir.join("scores");
    let report = score_folder(&checkpoint, &images, &scores);
    assert!(
        report.contains("(1 skipped)") && report.contains("broken.png"),
        "{report}"
    );
    let csv = std::fs::read_to_string(scores.join("scores.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    let score: f32 = rows[0].split(',').nth(1).unwrap().parse().unwrap();
    assert!(score.is_finite() && score >= 0.0, "{csv}");
    let map = image::open(scores.join("one.png.difference.png")).unwrap();
    assert_eq!((map.width(), map.height()), (64, 64));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_padded_model_scores_new_images_at_the_training_scale() {
    let dir = scratch("padded");
    let checkpoint = dir.join("ganomaly.kizu");
    let options = [
        "--model",
        "ganomaly",
        "--scale",
        "compact",
        "--max-train",
        "64",
    ];
    train_one_epoch(&options, &checkpoint);
    // MNIST's 28-pixel digits were padded to GANomaly's 32: new images are too.
    let loaded = Checkpoint::from_bytes(&std::fs::read(&checkpoint).unwrap()).unwrap();
    assert_eq!((loaded.meta.input_size, loaded.meta.image_size()), (32, 28));

    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    image::save_buffer(
        images.join("white.png"),
        &[255u8; 20 * 20],
        20,
        20,
        image::ExtendedColorType::L8,
    )
    .unwrap();
    let scores = dir.join("scores");
    score_folder(&checkpoint, &images, &scores);
    let map = image::open(scores.join("white.png.difference.png")).unwrap();
    assert_eq!((map.width(), map.height()), (32, 32));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A 40x40 gray PNG: a bright square on black, with a bright stripe as its defect.
fn part_png(path: &Path, defect: bool, shade: u8) {
    let image = image::GrayImage::from_fn(40, 40, |x, y| {
        let square = (10..30).contains(&x) && (10..30).contains(&y);
        let stripe = defect && (18..22).contains(&y);
        image::Luma([if square || stripe { shade } else { 0 }])
    });
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image.save(path).unwrap();
}

#[test]
fn train_on_a_folder_in_the_mvtec_layout_naming_each_unusable_file() {
    let dir = scratch("folder");
    let parts = dir.join("parts");
    for i in 0..32u8 {
        part_png(&parts.join(format!("train/good/{i}.png")), false, 190 + i);
    }
    for i in 0..6u8 {
        part_png(&parts.join(format!("test/good/{i}.png")), false, 200 + i);
        part_png(&parts.join(format!("test/stripe/{i}.png")), true, 200 + i);
    }
    std::fs::write(parts.join("train/good/empty.png"), b"").unwrap();
    std::fs::write(parts.join("train/good/notes.png"), b"not an image").unwrap();
    std::fs::create_dir_all(parts.join("ground_truth/stripe")).unwrap();
    std::fs::write(parts.join("ground_truth/stripe/0_mask.png"), b"mask").unwrap();
    let checkpoint = dir.join("parts.kizu");
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let report = kizu(&[
        "train",
        "--model",
        "conv-ae",
        "--images",
        &path(&parts),
        "--input-size",
        "32",
        "--epochs",
        "15",
        "--batch-size",
        "8",
        "--backend",
        "flex",
        "--out",
        &path(&checkpoint),
    ]);
    for named in ["empty.png", "notes.png", "0_mask.png"] {
        assert!(report.contains(named), "{named} reported: {report}");
    }
    assert!(report.contains("train/good: 32 images"), "{report}");
    assert!(report.contains("test/stripe: 6 images"), "{report}");
    assert!(report.contains("your images"), "{report}");
    let file = Checkpoint::from_bytes(&std::fs::read(&checkpoint).unwrap()).unwrap();
    assert_eq!((file.meta.input_size, file.meta.channels), (32, 1));
    let auc = file.meta.auc.unwrap();
    assert!(auc > 0.9, "stripes stand out: AUC {auc}");
}

/// `kizu series` on a CSV file with labels (the demo series written out): it trains, prints
/// the window AUC and writes one scored row per test window; a broken file is refused with
/// its row and column, and a missing cell can be filled instead.
#[test]
fn series_trains_on_a_csv_file_and_refuses_a_broken_one_by_row_and_column() {
    use kizu_model::data::series::DemoSeries;
    let dir = scratch("series");
    let csv = dir.join("sensors.csv");
    std::fs::write(&csv, DemoSeries::generate(5).0.to_csv()).unwrap();
    let out = dir.join("scores.csv");
    let printed = kizu(&[
        "series",
        "--csv",
        csv.to_str().unwrap(),
        "--epochs",
        "1",
        "--backend",
        "flex",
        "--out",
        out.to_str().unwrap(),
    ]);
    let auc: f64 = printed
        .split("window ROC AUC ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no AUC in:\n{printed}"));
    assert!((0.0..=1.0).contains(&auc), "{auc}");
    let scores = std::fs::read_to_string(&out).unwrap();
    let mut rows = scores.lines();
    assert_eq!(
        rows.next(),
        Some("start_step,start_time,score,flagged,label,worst_sensor")
    );
    let rows: Vec<&str> = rows.collect();
    // 3,000 test steps in windows of 32 every 4.
    assert_eq!(rows.len(), (3_000 - 32) / 4 + 1);
    assert!(rows
        .iter()
        .any(|r| r.ends_with(",1,flow") || r.contains(",1,")));

    let broken = dir.join("broken.csv");
    std::fs::write(&broken, "time,temp,pressure\n1,2.0,3\n2,,4\n3,2.5,x\n").unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_kizu"))
        .args(["series", "--csv", broken.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("row 3") && message.contains("temp"),
        "{message}"
    );
    let filled = Command::new(env!("CARGO_BIN_EXE_kizu"))
        .args([
            "series",
            "--csv",
            broken.to_str().unwrap(),
            "--missing",
            "fill",
        ])
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&filled.stderr);
    assert!(!filled.status.success(), "the non-number still refuses it");
    assert!(
        message.contains("row 4") && message.contains("pressure"),
        "{message}"
    );
}

#[test]
fn threshold_refits_a_checkpoint_on_its_training_images_without_training() {
    let dir = scratch("threshold");
    let trained = dir.join("fc-ae.kizu");
    let options = [
        "--model",
        "fc-ae",
        "--scale",
        "compact",
        "--max-train",
        "256",
    ];
    let report = train_one_epoch(&options, &trained);
    assert!(report.contains("(95th percentile)"), "{report}");
    let read = |path: &Path| Checkpoint::from_bytes(&std::fs::read(path).unwrap()).unwrap();
    let kept = read(&trained).meta.threshold;
    assert_eq!(
        kept.method,
        ThresholdMethod::DEFAULT,
        "a run keeps the default"
    );

    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/data");
    let refit = |from: &Path, method: &[&str], out: &Path| {
        let (from, out, data) = (
            from.to_str().unwrap(),
            out.to_str().unwrap(),
            data.to_str().unwrap(),
        );
        let common = [
            "threshold",
            "--checkpoint",
            from,
            "--out",
            out,
            "--data",
            data,
            "--backend",
            "flex",
        ];
        kizu(&[&common[..], method].concat())
    };
    let strict = dir.join("strict.kizu");
    let report = refit(&trained, &["--method", "max-normal"], &strict);
    assert!(report.contains("of 256 training images"), "{report}");
    let max = read(&strict).meta.threshold;
    assert_eq!(max.method, ThresholdMethod::MaxNormal);
    assert!(max.value > kept.value, "{max:?} against {kept:?}");
    // The weights are untouched: refitting the kept method gives the kept value back.
    let again = dir.join("again.kizu");
    refit(
        &strict,
        &["--method", "percentile", "--parameter", "95"],
        &again,
    );
    assert_eq!(read(&again).meta.threshold, kept);
    assert_eq!(read(&again).meta.model, read(&trained).meta.model);

    let refused = |method: &[&str]| {
        let mut args = vec!["threshold", "--checkpoint", trained.to_str().unwrap()];
        args.extend_from_slice(method);
        let out = Command::new(env!("CARGO_BIN_EXE_kizu"))
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{method:?} was accepted");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(refused(&["--method", "f1-max"]).contains("needs labelled anomalies"));
    assert!(
        refused(&["--method", "percentile", "--parameter", "101"]).contains("between 0 and 100")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
