//! Times what opening a shipped checkpoint costs, step by step, on Burn's flex backend:
//! decoding the bundled digits, the split, loading the file, scoring the training and test
//! images the app shows it with. The app's first visit does the same in the worker.
//!
//! `cargo run --release -p kizu-model --features cli --example open_profile [file] [images]`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark, not user data

use std::time::Instant;

use burn::tensor::{read_sync, Device, Distribution, Tensor};
use kizu_model::checkpoint::Checkpoint;
use kizu_model::data::{Mnist, BUNDLED_IMAGES_FILE, BUNDLED_LABELS_FILE};
use kizu_model::detector::{score_images, Normalised};
use kizu_model::run::RunData;

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .unwrap_or_else(|| "public/checkpoints/conv-ae-digit0.kizu".into());
    let count: usize = args.next().map_or(500, |a| a.parse().expect("images"));
    let device = Device::flex();
    let time = |what: &str, started: Instant| {
        println!("{:>8.1} ms  {what}", started.elapsed().as_secs_f64() * 1e3);
    };

    let t = Instant::now();
    let read = |name: &str| std::fs::read(format!("public/data/{name}")).unwrap();
    let (images, labels) = (read(BUNDLED_IMAGES_FILE), read(BUNDLED_LABELS_FILE));
    let mnist = Mnist::bundled(&images, &labels).unwrap();
    time("decode the bundled digits (gunzip, sha-256, to f32)", t);

    let t = Instant::now();
    let checkpoint = Checkpoint::from_bytes(&std::fs::read(&file).unwrap()).unwrap();
    let detector = checkpoint.detector(&device).unwrap();
    time("read the checkpoint, build its detector", t);
    let meta = &checkpoint.meta;
    let settings = meta.shown_on(count, count);

    let t = Instant::now();
    let data = RunData::mnist(&settings, &mnist).unwrap();
    time("the split (resize, select)", t);
    let split = data.split.as_ref();
    let model = Normalised::new(&detector, meta.normalisation());
    let batch = meta.batch_rows();
    for round in 1..=2 {
        let t = Instant::now();
        read_sync(score_images(&model, split.train(), batch, &device)).unwrap();
        time(&format!("score {count} training images (round {round})"), t);
        let t = Instant::now();
        read_sync(score_images(&model, split.test(), batch, &device)).unwrap();
        time(&format!("score {count} test images (round {round})"), t);
    }
    if let Some(statistics) = &meta.combined {
        let z = Tensor::<2>::random([batch, statistics.dim], Distribution::Default, &device);
        let batches = (2 * count).div_ceil(batch);
        let t = Instant::now();
        for _ in 0..batches {
            read_sync(statistics.distance(z.clone()).into_data_async()).unwrap();
        }
        time(
            &format!(
                "of which {batches} batches' neighbour distances ({} neighbours)",
                statistics.len()
            ),
            t,
        );
    }
}
