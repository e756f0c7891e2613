//! Times each convolution of GANomaly's reference networks (forward + backward to the
//! weights and the input, batch 64) on Burn's flex backend, to see where training time goes. Compare with
//! `bench/conv_ops_torch.py`, which times the same layers in PyTorch.
//!
//! `cargo run --release -p kizu-model --features cli --example flex_ops [iterations]`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark, not user data

use std::time::Instant;

use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::{Device, Distribution, Tensor};

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .map_or(10, |a| a.parse().expect("iterations"));
    let device = Device::flex().autodiff();
    let batch = 64;
    // (name, in channels, out channels, stride, padding, input side)
    let convs = [
        ("enc conv 1->64 32->16", 1, 64, 2, 1, 32),
        ("enc conv 64->128 16->8", 64, 128, 2, 1, 16),
        ("enc conv 128->256 8->4", 128, 256, 2, 1, 8),
        ("enc conv 256->100 4->1", 256, 100, 1, 0, 4),
    ];
    let deconvs = [
        ("dec deconv 100->256 1->4", 100, 256, 1, 0, 1),
        ("dec deconv 256->128 4->8", 256, 128, 2, 1, 4),
        ("dec deconv 128->64 8->16", 128, 64, 2, 1, 8),
        ("dec deconv 64->1 16->32", 64, 1, 2, 1, 16),
    ];
    let time = |name: &str, run: &dyn Fn() -> Tensor<4>| {
        // One warm-up, then the mean of `iterations` forward + backward passes.
        let _ = run().sum().backward();
        let started = Instant::now();
        for _ in 0..iterations {
            let grads = run().sum().backward();
            drop(grads);
        }
        let ms = started.elapsed().as_secs_f64() * 1e3 / iterations as f64;
        println!("{name:<28} {ms:8.2} ms fwd+bwd");
    };
    for (name, cin, cout, stride, pad, side) in convs {
        let layer = Conv2dConfig::new([cin, cout], [4, 4])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .with_bias(false)
            .init(&device);
        let x = Tensor::<4>::random([batch, cin, side, side], Distribution::Default, &device)
            .require_grad();
        time(name, &|| layer.forward(x.clone()));
    }
    for (name, cin, cout, stride, pad, side) in deconvs {
        let layer = ConvTranspose2dConfig::new([cin, cout], [4, 4])
            .with_stride([stride, stride])
            .with_padding([pad, pad])
            .with_bias(false)
            .init(&device);
        let x = Tensor::<4>::random([batch, cin, side, side], Distribution::Default, &device)
            .require_grad();
        time(name, &|| layer.forward(x.clone()));
    }
}
