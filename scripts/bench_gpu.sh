#!/usr/bin/env bash
# GPU benchmarks (not tests), for a machine with an NVIDIA GPU, Vulkan and PyTorch:
# GANomaly at the reference size on Burn's wgpu backend (Vulkan) beside PyTorch on CUDA,
# both CPU paths on the same machine, every model's speed on the GPU, then the AUC tables
# per held-out digit and on the overlay protocol, trained on the GPU.
# Usage: scripts/bench_gpu.sh KIZU [epochs for the AUC tables, default 3]
#   KIZU: a `kizu` built with `cargo build --release -p kizu-model --features gpu --bin kizu`.
set -uo pipefail
kizu="$1"
epochs="${2:-3}"
models="fc-ae fc-vae conv-ae conv-vae ganomaly skip-ganomaly aae anogan lstm-ae"
log() { printf '\n== %s\n' "$*"; }

log "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
nproc
python3 -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda)'

log "GANomaly, reference size (nz 100, 64 features), 3 epochs: Burn wgpu vs PyTorch CUDA"
"$kizu" bench --model ganomaly --scale reference --epochs 3 --backends gpu
python3 bench/ganomaly_torch.py --epochs 3 --device cuda
log "the same on this machine's CPU ($(nproc) threads), 1 epoch: Burn flex vs PyTorch"
"$kizu" bench --model ganomaly --scale reference --epochs 1 --backends flex
python3 bench/ganomaly_torch.py --epochs 1 --threads "$(nproc)"

log "every model on the GPU, compact scale, 3 epochs, digit 0 held out"
for model in $models; do
  "$kizu" bench --model "$model" --scale compact --epochs 3 --backends gpu
done

log "AUC per held-out digit on the GPU: every model, compact scale, $epochs epochs, seed 42"
for model in $models; do
  "$kizu" eval --model "$model" --scale compact --epochs "$epochs" --backend gpu
done
log "AUC on the overlay protocol, trained with pseudo-anomalies on the GPU, $epochs epochs"
for model in $models; do
  "$kizu" eval --model "$model" --scale compact --epochs "$epochs" --protocol overlay --pseudo-anomalies --backend gpu
done
