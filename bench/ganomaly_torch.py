#!/usr/bin/env python3
"""GANomaly in PyTorch: the reference to compare Kizu's Burn GANomaly with.

The same architecture and settings as `model/src/ganomaly` (and GANomaly's reference code):
DCGAN encoder / decoder / encoder, nz 100, 64 base features, 32x32 inputs in [-1, 1],
conv weights N(0, 0.02), Adam 2e-4 with betas 0.5 / 0.999, w_adv 1, w_con 50, w_enc 1, the
discriminator re-initialised when its loss falls below 1e-5; score mean((z - z^)^2).

The same data: the bundled MNIST subset in public/data, the one-class protocol (one digit
is the anomaly; 80 % of the other digits train, 20 % plus every anomaly test). The split
is drawn with NumPy, so its images differ from Kizu's ChaCha8 split; its sizes do not.

Usage: bench/ganomaly_torch.py [--digit 0] [--epochs 1] [--threads 2] [--features 64] [--device cpu|cuda]
Prints one line: train img/s, score img/s, AUC.
"""

import argparse
import gzip
import os
import time

import numpy as np
import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(__file__), "..")


def load_mnist(folder):
    with gzip.open(os.path.join(folder, "mnist10k-images-idx3-ubyte.gz")) as f:
        raw = f.read()
    n, rows, cols = (int.from_bytes(raw[i : i + 4], "big") for i in (4, 8, 12))
    images = np.frombuffer(raw, np.uint8, n * rows * cols, 16).reshape(n, 1, rows, cols)
    with gzip.open(os.path.join(folder, "mnist10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, n, 8)
    return images.astype(np.float32) / 255.0, labels


def one_class_split(images, labels, digit, seed):
    rng = np.random.default_rng(seed)
    normal = rng.permutation(np.flatnonzero(labels != digit))
    n_test = round(len(normal) * 0.2)
    test = np.concatenate([normal[:n_test], np.flatnonzero(labels == digit)])
    test = rng.permutation(test)
    pad = lambda x: np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2))) * 2.0 - 1.0
    return pad(images[normal[n_test:]]), pad(images[test]), labels[test] == digit


class Encoder(nn.Module):
    def __init__(self, c, f, out):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(c, f, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(f, 2 * f, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * f), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * f, 4 * f, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * f), nn.LeakyReLU(0.2),
        )
        self.last = nn.Conv2d(4 * f, out, 4, 1, 0, bias=False)

    def forward(self, x):
        features = self.features(x)
        return features, self.last(features).flatten(1)


class Decoder(nn.Module):
    def __init__(self, c, f, nz):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(nz, 4 * f, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * f), nn.ReLU(),
            nn.ConvTranspose2d(4 * f, 2 * f, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * f), nn.ReLU(),
            nn.ConvTranspose2d(2 * f, f, 4, 2, 1, bias=False), nn.BatchNorm2d(f), nn.ReLU(),
            nn.ConvTranspose2d(f, c, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z[:, :, None, None])


class Generator(nn.Module):
    def __init__(self, c, f, nz):
        super().__init__()
        self.encoder, self.decoder, self.re_encoder = Encoder(c, f, nz), Decoder(c, f, nz), Encoder(c, f, nz)

    def forward(self, x):
        _, z = self.encoder(x)
        generated = self.decoder(z)
        _, z_hat = self.re_encoder(generated)
        return generated, z, z_hat


class Discriminator(nn.Module):
    def __init__(self, c, f):
        super().__init__()
        self.encoder = Encoder(c, f, 1)

    def forward(self, x):
        features, logit = self.encoder(x)
        return torch.sigmoid(logit).flatten(), features


def dcgan_init(module):
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)


def roc_auc(scores, is_anomaly):
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    # Ties share their mean rank (Mann-Whitney).
    for value in np.unique(scores):
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    pos = is_anomaly.sum()
    neg = len(scores) - pos
    return (ranks[is_anomaly].sum() - pos * (pos + 1) / 2) / (pos * neg)


def device_label(device, threads):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{threads} threads"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digit", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--latent", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--data", default=os.path.join(ROOT, "public", "data"))
    parser.add_argument("--device", default="cpu", help="cpu, or cuda for the GPU comparison")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    images, labels = load_mnist(args.data)
    train, test, test_is_anomaly = one_class_split(images, labels, args.digit, args.seed)
    generator = Generator(1, args.features, args.latent).to(device)
    make_discriminator = lambda: Discriminator(1, args.features).apply(dcgan_init).to(device)
    generator.apply(dcgan_init)
    discriminator = make_discriminator()
    adam = lambda m: torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g, opt_d = adam(generator), adam(discriminator)
    bce, mse, l1 = nn.BCELoss(), nn.MSELoss(), nn.L1Loss()
    rng = np.random.default_rng(args.seed)

    started = time.perf_counter()
    for _ in range(args.epochs):
        order = rng.permutation(len(train))
        for start in range(0, len(train), args.batch_size):
            x = torch.from_numpy(train[order[start : start + args.batch_size]]).to(device)
            generated, z, z_hat = generator(x)
            _, real_features = discriminator(x)
            _, fake_features = discriminator(generated)
            loss_g = (mse(fake_features, real_features.detach()) + 50 * l1(generated, x) + mse(z_hat, z))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            p_real, _ = discriminator(x)
            p_fake, _ = discriminator(generated.detach())
            loss_d = (bce(p_real, torch.ones_like(p_real)) + bce(p_fake, torch.zeros_like(p_fake))) / 2
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            if loss_d.item() < 1e-5:
                discriminator = make_discriminator()
                opt_d = adam(discriminator)
    train_rate = len(train) * args.epochs / (time.perf_counter() - started)

    generator.eval()
    def score():
        out = []
        with torch.no_grad():
            for start in range(0, len(test), 256):
                _, z, z_hat = generator(torch.from_numpy(test[start : start + 256]).to(device))
                out.append(((z - z_hat) ** 2).mean(1).cpu().numpy())
        return np.concatenate(out)
    score()  # warm-up, as Kizu's bench
    started = time.perf_counter()
    scores = score()
    score_rate = len(test) / (time.perf_counter() - started)
    print(
        f"PyTorch {torch.__version__} ({device_label(device, args.threads)}): train {train_rate:.0f} img/s "
        f"({len(train)} images x {args.epochs} epoch(s), batch {args.batch_size}), "
        f"score {score_rate:.0f} img/s ({len(test)} images), "
        f"AUC {roc_auc(scores, test_is_anomaly):.4f} (digit {args.digit} held out, seed {args.seed})"
    )


if __name__ == "__main__":
    main()
