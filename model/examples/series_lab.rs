//! Experiments for issue 12: the LSTM autoencoder on the demo sensor series with several
//! input preparations and scores, printing AUC and per-kind figures.
//!
//! `cargo run --release -p kizu-model --features cli --example series_lab -- key=value ...`
#![allow(clippy::unwrap_used, clippy::expect_used)] // an experiment, not user data

use std::collections::HashMap;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use kizu_model::data::series::{AnomalyKind, DemoSeries, SeriesSplit, WindowSpec, Windows};
use kizu_model::lstm_ae::{LstmAutoencoder, LstmAutoencoderConfig};
use kizu_model::metrics::roc_auc;
use kizu_model::train::{BatchSchedule, SelfSupervised, TrainingConfig};

fn arg<T: std::str::FromStr>(args: &HashMap<String, String>, key: &str, default: T) -> T {
    args.get(key)
        .map_or(default, |v| v.parse().ok().expect(key))
}

/// Per-window preparation: centring, rescaling, difference channels.
struct Prep {
    centre: bool,
    detrend: bool,
    diff: bool,
    /// Per-channel scale of the prepared training windows (1 when not rescaling).
    scale: Vec<f32>,
}

impl Prep {
    /// `[count, length, channels]` from standardised windows, before scaling.
    fn raw(&self, w: &Windows) -> (Vec<f32>, usize, Vec<f32>) {
        let (len, s) = (w.length, w.sensors);
        let channels = if self.diff { 2 * s } else { s };
        let mut out = Vec::with_capacity(w.count() * len * channels);
        let mut levels = Vec::with_capacity(w.count() * s);
        for i in 0..w.count() {
            let x = w.window(i);
            let mut m = vec![0.0f32; s];
            let mut slope = vec![0.0f32; s];
            let tc = (len as f32 - 1.0) / 2.0;
            let tvar: f32 = (0..len).map(|t| (t as f32 - tc).powi(2)).sum();
            for k in 0..s {
                m[k] = (0..len).map(|t| x[t * s + k]).sum::<f32>() / len as f32;
                slope[k] = (0..len)
                    .map(|t| (t as f32 - tc) * (x[t * s + k] - m[k]))
                    .sum::<f32>()
                    / tvar;
            }
            levels.extend_from_slice(&m);
            for t in 0..len {
                for k in 0..s {
                    let mut v = x[t * s + k];
                    if self.centre || self.detrend {
                        v -= m[k];
                    }
                    if self.detrend {
                        v -= slope[k] * (t as f32 - tc);
                    }
                    out.push(v);
                }
                if self.diff {
                    for k in 0..s {
                        let d = if t == 0 {
                            0.0
                        } else {
                            x[t * s + k] - x[(t - 1) * s + k]
                        };
                        out.push(d);
                    }
                }
            }
        }
        (out, channels, levels)
    }

    fn fit_scale(&mut self, w: &Windows, rescale: bool) {
        let (v, c, _) = self.raw(w);
        self.scale = (0..c)
            .map(|k| {
                if !rescale {
                    return 1.0;
                }
                let xs: Vec<f32> = v.iter().skip(k).step_by(c).copied().collect();
                let n = xs.len() as f32;
                let mean = xs.iter().sum::<f32>() / n;
                (xs.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / n)
                    .sqrt()
                    .max(1e-6)
            })
            .collect();
    }

    fn apply(&self, w: &Windows) -> (Vec<f32>, usize, Vec<f32>) {
        let (mut v, c, levels) = self.raw(w);
        for (i, x) in v.iter_mut().enumerate() {
            *x /= self.scale[i % c];
        }
        (v, c, levels)
    }
}

/// The windows of `w` whose start passes `keep`.
fn subset(w: &Windows, keep: impl Fn(usize) -> bool) -> Windows {
    let idx: Vec<usize> = (0..w.count()).filter(|&i| keep(w.starts[i])).collect();
    Windows {
        values: idx.iter().flat_map(|&i| w.window(i).to_vec()).collect(),
        starts: idx.iter().map(|&i| w.starts[i]).collect(),
        labels: w
            .labels
            .as_ref()
            .map(|l| idx.iter().map(|&i| l[i]).collect()),
        length: w.length,
        sensors: w.sensors,
    }
}

fn tensor(values: &[f32], idx: &[usize], len: usize, c: usize, device: &Device) -> Tensor<4> {
    let size = len * c;
    let mut out = Vec::with_capacity(idx.len() * size);
    for &i in idx {
        out.extend_from_slice(&values[i * size..(i + 1) * size]);
    }
    Tensor::from_data(TensorData::new(out, [idx.len(), 1, len, c]), device)
}

/// Each window's mean squared error per channel, `[count][channels]`.
fn errors(
    model: &LstmAutoencoder,
    values: &[f32],
    len: usize,
    c: usize,
    device: &Device,
) -> Vec<Vec<f32>> {
    let n = values.len() / (len * c);
    let mut out = Vec::with_capacity(n);
    for start in (0..n).step_by(256) {
        let idx: Vec<usize> = (start..(start + 256).min(n)).collect();
        let x = tensor(values, &idx, len, c, device);
        let (r, _) = model.forward(x.clone());
        let sq = (x - r).square().mean_dim(2); // [b, 1, 1, c]
        let v = sq.into_data().try_into_vec::<f32>().unwrap();
        for chunk in v.chunks(c) {
            out.push(chunk.to_vec());
        }
    }
    out
}

fn quantile(values: &[f32], q: f64) -> f32 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted[((sorted.len() - 1) as f64 * q).floor() as usize]
}

fn mean_std(xs: impl Iterator<Item = f32> + Clone) -> (f32, f32) {
    let n = xs.clone().count() as f32;
    let m = xs.clone().sum::<f32>() / n;
    let v = xs.map(|x| (x - m).powi(2)).sum::<f32>() / n;
    (m, v.sqrt().max(1e-9))
}

fn main() {
    let args: HashMap<String, String> = std::env::args()
        .skip(1)
        .filter_map(|a| {
            a.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let series_seed: u64 = arg(&args, "series", 11);
    let spec = WindowSpec {
        length: arg(&args, "window", 32),
        stride: arg(&args, "stride", 4),
    };
    let hidden: usize = arg(&args, "hidden", 64);
    let latent: usize = arg(&args, "latent", 32);
    let layers: usize = arg(&args, "layers", 1);
    let epochs: usize = arg(&args, "epochs", 30);
    let batch: usize = arg(&args, "bs", 32);
    let lr: f64 = arg(&args, "lr", 5e-3);
    let final_lr: f64 = arg(&args, "lrend", lr);
    let seed: u64 = arg(&args, "seed", 3);
    let noise: f64 = arg(&args, "noise", 0.0);
    let verbose: bool = arg(&args, "v", 1) == 1;
    let mut prep = Prep {
        centre: arg(&args, "centre", 0) == 1,
        detrend: arg(&args, "detrend", 0) == 1,
        diff: arg(&args, "diff", 0) == 1,
        scale: Vec::new(),
    };

    let (series, anomalies) = DemoSeries::generate(series_seed);
    let split = SeriesSplit::new(&series, spec, 0.5).unwrap();
    let val: f64 = arg(&args, "val", 0.0);
    let cutoff = (split.boundary as f64 * (1.0 - val)) as usize;
    let fit_w = subset(&split.train, |st| st + spec.length <= cutoff);
    let val_w = if val > 0.0 {
        subset(&split.train, |st| st >= cutoff)
    } else {
        fit_w.clone()
    };
    prep.fit_scale(&fit_w, arg(&args, "rescale", 0) == 1);
    let (train_v, c, _) = prep.apply(&fit_w);
    let (val_v, _, train_levels) = prep.apply(&val_w);
    let (test_v, _, test_levels) = prep.apply(&split.test);
    let len = spec.length;
    let s = split.train.sensors;

    let started = Instant::now();
    let device = Device::flex();
    let ad = device.clone().autodiff();
    ad.seed(seed);
    let config = LstmAutoencoderConfig::new()
        .with_hidden(hidden)
        .with_latent(latent)
        .with_layers(layers)
        .with_channels(1)
        .with_steps(len)
        .with_features(c)
        .with_linear_output(Some(true));
    let mut model = config.init(&ad);
    let mut optim: ModuleOptimizer = AdamConfig::new().init();
    let training = TrainingConfig::new()
        .with_epochs(epochs)
        .with_batch_size(batch)
        .with_seed(seed);
    let mut schedule = BatchSchedule::new(fit_w.count(), &training);
    let total = schedule.total_steps();
    let mut last = Vec::new();
    while let Some((idx, progress)) = schedule.next_batch() {
        let x = tensor(&train_v, &idx, len, c, &ad);
        let input = if noise > 0.0 {
            x.clone() + x.random_like(Distribution::Normal(0.0, noise))
        } else {
            x.clone()
        };
        let frac = progress.step as f64 / total as f64;
        // Cosine from lr to final_lr.
        let rate = final_lr + 0.5 * (lr - final_lr) * (1.0 + (std::f64::consts::PI * frac).cos());
        let loss = model.losses(input, x).remove(0).1;
        if total - progress.step < 20 {
            last.push(loss.clone().into_scalar::<f32>());
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(rate, model, grads);
    }
    let model = model.valid();
    let train_secs = started.elapsed().as_secs_f32();

    let train_err = errors(&model, &val_v, len, c, &device);
    let test_err = errors(&model, &test_v, len, c, &device);
    let labels = split.test.labels.clone().unwrap();
    let energy = |v: &[f32]| -> Vec<Vec<f32>> {
        v.chunks(len * c)
            .map(|w| {
                (0..c)
                    .map(|k| w.iter().skip(k).step_by(c).map(|x| x * x).sum::<f32>() / len as f32)
                    .collect()
            })
            .collect()
    };
    let (train_en, test_en) = (energy(&val_v), energy(&test_v));
    let en_stats: Vec<(f32, f32)> = (0..c)
        .map(|k| mean_std(train_en.iter().map(|e| e[k].max(1e-12).ln())))
        .collect();
    let rough = |i: usize, train: bool| -> f32 {
        let e = if train { &train_en[i] } else { &test_en[i] };
        (s..c)
            .map(|k| ((e[k].max(1e-12).ln() - en_stats[k].0) / en_stats[k].1).abs())
            .fold(0.0, f32::max)
    };
    // Per-channel statistics on the training windows.
    let stats: Vec<(f32, f32)> = (0..c)
        .map(|k| mean_std(train_err.iter().map(|e| e[k])))
        .collect();
    let log_stats: Vec<(f32, f32)> = (0..c)
        .map(|k| mean_std(train_err.iter().map(|e| e[k].max(1e-12).ln())))
        .collect();
    let level_stats: Vec<(f32, f32)> = (0..s)
        .map(|k| mean_std(train_levels.iter().skip(k).step_by(s).copied()))
        .collect();
    let z = |e: &[f32]| -> Vec<f32> {
        e.iter()
            .zip(&stats)
            .map(|(x, (m, sd))| (x - m) / sd)
            .collect()
    };
    let lz = |e: &[f32]| -> Vec<f32> {
        e.iter()
            .zip(&log_stats)
            .map(|(x, (m, sd))| (x.max(1e-12).ln() - m) / sd)
            .collect()
    };
    let level_z = |l: &[f32]| -> f32 {
        l.iter()
            .zip(&level_stats)
            .map(|(x, (m, sd))| ((x - m) / sd).abs())
            .fold(0.0, f32::max)
    };
    let max = |v: Vec<f32>| v.into_iter().fold(f32::MIN, f32::max);
    type ScoreFn<'a> = Box<dyn Fn(&[f32], &[f32], usize, bool) -> f32 + 'a>;
    let scores: Vec<(&str, ScoreFn)> = vec![
        (
            "mse",
            Box::new(|e, _, _, _| e.iter().sum::<f32>() / c as f32),
        ),
        ("z max", Box::new(|e, _, _, _| max(z(e)))),
        ("z sum", Box::new(|e, _, _, _| z(e).iter().sum())),
        (
            "|z| max",
            Box::new(|e, _, _, _| max(z(e).iter().map(|v| v.abs()).collect())),
        ),
        ("logz max", Box::new(|e, _, _, _| max(lz(e)))),
        (
            "|logz| max",
            Box::new(|e, _, _, _| max(lz(e).iter().map(|v| v.abs()).collect())),
        ),
        (
            "|logz| rms",
            Box::new(|e, _, _, _| (lz(e).iter().map(|v| v * v).sum::<f32>() / c as f32).sqrt()),
        ),
        ("zmax+lvl", Box::new(|e, l, _, _| max(z(e)).max(level_z(l)))),
        ("level", Box::new(|_, l, _, _| level_z(l))),
        ("rough", Box::new(|_, _, i, t| rough(i, t))),
        (
            "lz5+rough",
            Box::new(|e, _, i, t| {
                max(lz(e)[..s].iter().map(|v| v.abs()).collect()).max(rough(i, t))
            }),
        ),
        (
            "lz+rough",
            Box::new(|e, _, i, t| max(lz(e).iter().map(|v| v.abs()).collect()).max(rough(i, t))),
        ),
    ];
    println!(
        "series {series_seed} seed {seed} window {} stride {} hidden {hidden} latent {latent} layers {layers} epochs {epochs} bs {batch} lr {lr}->{final_lr} noise {noise} val {val} ({} fit, {} val windows) centre {} detrend {} diff {} rescale {}: train {train_secs:.1} s, final loss {:.4}",
        spec.length, spec.stride, fit_w.count(), val_w.count(), prep.centre, prep.detrend, prep.diff, arg(&args, "rescale", 0),
        last.iter().sum::<f32>() / last.len().max(1) as f32
    );
    // Per-channel training vs normal test error.
    if verbose {
        let normal_test: Vec<&Vec<f32>> = test_err
            .iter()
            .zip(&labels)
            .filter(|(_, &l)| !l)
            .map(|(e, _)| e)
            .collect();
        let line: Vec<String> = (0..c)
            .map(|k| {
                let (m, _) = mean_std(normal_test.iter().map(|e| e[k]));
                format!("{:.3}/{:.3}", stats[k].0, m)
            })
            .collect();
        println!("  channel error train/normal-test: {}", line.join(" "));
    }
    for (name, f) in &scores {
        let test: Vec<f32> = test_err
            .iter()
            .enumerate()
            .map(|(i, e)| f(e, &test_levels[i * s..(i + 1) * s], i, false))
            .collect();
        let train: Vec<f32> = train_err
            .iter()
            .enumerate()
            .map(|(i, e)| f(e, &train_levels[i * s..(i + 1) * s], i, true))
            .collect();
        let auc = roc_auc(&test, &labels).unwrap();
        let normal: Vec<f32> = test
            .iter()
            .zip(&labels)
            .filter(|(_, &l)| !l)
            .map(|(&v, _)| v)
            .collect();
        let p95 = quantile(&normal, 0.95);
        let train99 = quantile(&train, 0.99);
        let flagged_normal =
            normal.iter().filter(|&&v| v > train99).count() as f32 / normal.len() as f32;
        let mut parts = Vec::new();
        for kind in AnomalyKind::ALL {
            let of_kind: Vec<f32> = split
                .test
                .starts
                .iter()
                .zip(&test)
                .filter(|(&st, _)| {
                    anomalies
                        .iter()
                        .any(|a| a.kind == kind && a.start < st + len && st < a.end)
                })
                .map(|(_, &v)| v)
                .collect();
            let mut both = normal.clone();
            both.extend(&of_kind);
            let mut kl = vec![false; normal.len()];
            kl.extend(vec![true; of_kind.len()]);
            let kauc = roc_auc(&both, &kl).unwrap();
            let ratio = if p95 > 0.0 {
                quantile(&of_kind, 0.5) / p95
            } else {
                f32::NAN
            };
            parts.push(
                format!("{:?} {:.2}x {:.3}", kind, ratio, kauc)
                    .replace("BrokenCorrelation", "Corr")
                    .replace("LevelShift", "Level")
                    .replace("NoiseBurst", "Noise"),
            );
        }
        if args.get("detail").is_some_and(|d| d == name) {
            for a in &anomalies {
                let idx: Vec<usize> = (0..split.test.count())
                    .filter(|&i| {
                        let st = split.test.starts[i];
                        a.start < st + len && st < a.end
                    })
                    .collect();
                let v: Vec<String> = idx
                    .iter()
                    .map(|&i| format!("{:.1}", test[i] / p95))
                    .collect();
                let zs: Vec<String> = idx
                    .iter()
                    .map(|&i| {
                        let l = lz(&test_err[i]);
                        let k = (0..c)
                            .max_by(|&x, &y| l[x].abs().total_cmp(&l[y].abs()))
                            .unwrap();
                        format!("{k}:{:.1}", l[k])
                    })
                    .collect();
                println!(
                    "    {:?} sensors {:?} at {} len {}: {} | {}",
                    a.kind,
                    a.sensors,
                    a.start,
                    a.end - a.start,
                    v.join(" "),
                    zs.join(" ")
                );
            }
        }
        // AUC of the windows holding at least 8 anomalous steps (or a whole anomaly).
        let series_labels = series.labels.as_ref().unwrap();
        let deep: Vec<bool> = split
            .test
            .starts
            .iter()
            .map(|&st| {
                let n = (st..st + len).filter(|&t| series_labels[t]).count();
                n >= 8 || anomalies.iter().any(|a| a.start >= st && a.end <= st + len)
            })
            .collect();
        let (mut ds, mut dl) = (Vec::new(), Vec::new());
        for i in 0..test.len() {
            if !labels[i] || deep[i] {
                ds.push(test[i]);
                dl.push(labels[i]);
            }
        }
        let deep_auc = roc_auc(&ds, &dl).unwrap();
        println!(
            "  {name:>10}: AUC {auc:.4} (>=8 steps {deep_auc:.4}) | {} | normal>train99 {:.0}%",
            parts.join(" | "),
            flagged_normal * 100.0
        );
        if args.get("detail").is_some_and(|d| d == name) {
            let mut order: Vec<usize> = (0..test.len()).filter(|&i| !labels[i]).collect();
            order.sort_by(|&a, &b| test[b].total_cmp(&test[a]));
            for &i in order.iter().take(15) {
                let l = lz(&test_err[i]);
                let k = (0..c)
                    .max_by(|&x, &y| l[x].abs().total_cmp(&l[y].abs()))
                    .unwrap();
                println!(
                    "    normal window at {}: {:.2}x p95, channel {k} {:.1}",
                    split.test.starts[i],
                    test[i] / p95,
                    l[k]
                );
            }
        }
    }
}
