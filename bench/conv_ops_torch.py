#!/usr/bin/env python3
"""Times each convolution of GANomaly's reference networks (forward + backward, batch 64)
in PyTorch on the CPU: the counterpart of `model/examples/flex_ops.rs`.

Usage: bench/conv_ops_torch.py [iterations] [threads]
"""

import sys
import time

import torch
from torch import nn

iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 10
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
layers = [
    ("enc conv 1->64 32->16", nn.Conv2d(1, 64, 4, 2, 1, bias=False), 1, 32),
    ("enc conv 64->128 16->8", nn.Conv2d(64, 128, 4, 2, 1, bias=False), 64, 16),
    ("enc conv 128->256 8->4", nn.Conv2d(128, 256, 4, 2, 1, bias=False), 128, 8),
    ("enc conv 256->100 4->1", nn.Conv2d(256, 100, 4, 1, 0, bias=False), 256, 4),
    ("dec deconv 100->256 1->4", nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False), 100, 1),
    ("dec deconv 256->128 4->8", nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), 256, 4),
    ("dec deconv 128->64 8->16", nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), 128, 8),
    ("dec deconv 64->1 16->32", nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=False), 64, 16),
]
for name, layer, cin, side in layers:
    x = torch.rand(64, cin, side, side, requires_grad=True)
    layer(x).sum().backward()  # warm-up
    started = time.perf_counter()
    for _ in range(iterations):
        layer(x).sum().backward()
    ms = (time.perf_counter() - started) * 1e3 / iterations
    print(f"{name:<28} {ms:8.2f} ms fwd+bwd")
