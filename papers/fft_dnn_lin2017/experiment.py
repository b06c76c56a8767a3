"""FFT-based DNN experiments: MNIST Arch. 1 trained dense and block-circulant, and dense-vs-FFT latency.

``mnist_blocks`` trains the paper's MNIST Arch. 1 (16×16 bilinear-resized images, two fully connected hidden
layers of 128, a 10-way output) once dense and once per block size with its hidden layers block-circulant, from
one data order, and reports test accuracy, the storage of the hidden layers and their multiply-adds.
``fc_latency`` times batch-1 products of square layers and of Arch. 1, dense against FFT (``latency.py``),
side by side in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from bench import data
from bench.latency import median_speedups, time_interleaved
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, seed_everything, shuffled_batches, steps_for, train
from papers.fft_dnn_lin2017.latency import SIZES, arch1_callable, layer_callable
from papers.fft_dnn_lin2017.method import BlockCirculantLinear, fft_multiply_adds

BLOCKS = (8, 32, 128)  # 128: the paper's own setting for Arch. 1 (blocks as large as a layer allows, §4.1)
ARCH1 = (256, 128, 128)


class Arch1(nn.Module):
    """256 → 128 → 128 → 10 with ReLU; the hidden layers dense (``block=None``) or block-circulant."""

    def __init__(self, block: int | None):
        super().__init__()
        def fc(n_in: int, n_out: int) -> nn.Module:
            return nn.Linear(n_in, n_out) if block is None else BlockCirculantLinear(n_in, n_out, block)
        self.hidden = nn.ModuleList(fc(a, b) for a, b in zip(ARCH1, ARCH1[1:], strict=False))
        self.out = nn.Linear(ARCH1[-1], 10)  # the softmax layer stays dense (10 outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, 16, 16) -> (B, 10)
        h = x.flatten(1)
        for layer in self.hidden:
            h = F.relu(layer(h))
        return self.out(h)


def resized_mnist(side: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """MNIST in [0, 1], bilinearly resized to side×side (antialiased), train and test."""
    ds = data.load("mnist")

    def resize(x: torch.Tensor) -> torch.Tensor:
        x = x.float().div(255).unsqueeze(1) if x.dim() == 3 else x.float().div(255)
        return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True)

    return (resize(ds.train.x).to(device), ds.train.y.to(device), resize(ds.test.x).to(device),
            ds.test.y.to(device))


@dataclass
class BlocksConfig(ExperimentConfig):
    """Arch. 1 on MNIST. The paper gives Arch. 1's shape; its MNIST optimizer and length are not published
    [assumption: SGD with momentum 0.9 as its CIFAR-10 runs, lr 0.01 and batch 128, ReLU activations]."""

    side: int = 16  # images resized to side×side (Arch. 1: 256 inputs)
    train_examples: int = 60000
    test_examples: int = 10000
    epochs: float = 10.0
    batch_size: int = 128
    lr: float = 0.01
    momentum: float = 0.9
    blocks: tuple[int, ...] = BLOCKS

    def __post_init__(self):
        self.blocks = tuple(self.blocks)
        if tuple(sorted(self.blocks)) != BLOCKS:
            raise ValueError(f"blocks must be {BLOCKS} (the metrics name them)")


def _hidden_stats(model: Arch1) -> tuple[int, float]:
    """Weights stored by the hidden layers, and their multiply-adds per image."""
    stored, macs = 0, 0.0
    for layer in model.hidden:
        if isinstance(layer, BlockCirculantLinear):
            stored += layer.weight.numel()
            macs += fft_multiply_adds(layer.in_features, layer.out_features, layer.block)
        else:
            stored += layer.weight.numel()
            macs += layer.weight.numel()
    return stored, macs


@experiment(config=BlocksConfig, metrics=(
    "accuracy_dense_pct", *(f"accuracy_b{b}_pct" for b in BLOCKS), *(f"loss_b{b}_pp" for b in BLOCKS),
    *(f"storage_ratio_b{b}" for b in BLOCKS), *(f"mac_ratio_b{b}" for b in BLOCKS)))
def mnist_blocks(cfg: BlocksConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Arch. 1 dense and block-circulant at each block size, same initial seed and data order."""
    x, y, xt, yt = resized_mnist(cfg.side, device)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(x), generator=g)[:cfg.train_examples]
    x, y, xt, yt = x[idx], y[idx], xt[:cfg.test_examples], yt[:cfg.test_examples]
    steps = steps_for(cfg.epochs, len(x), cfg.batch_size)
    out: dict[str, float] = {}
    dense_stored = dense_macs = 0.0
    for block in (None, *cfg.blocks):
        seed_everything(seed)
        model = Arch1(block).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
        gen = torch.Generator().manual_seed(seed + 1_000_003)
        train(model, shuffled_batches(x, y, cfg.batch_size, gen), steps=steps, optimizer=opt,
              desc=f"arch1 {'dense' if block is None else f'b={block}'} seed {seed}")
        acc = 100 * accuracy(model, xt, yt)
        stored, macs = _hidden_stats(model)
        if block is None:
            out["accuracy_dense_pct"] = acc
            dense_stored, dense_macs = stored, macs
            continue
        out[f"accuracy_b{block}_pct"] = acc
        out[f"loss_b{block}_pp"] = out["accuracy_dense_pct"] - acc
        out[f"storage_ratio_b{block}"] = dense_stored / stored
        out[f"mac_ratio_b{block}"] = dense_macs / macs
    return out


@dataclass
class LatencyConfig(ExperimentConfig):
    rounds: int = 50  # timed rounds per variant (interleaved; medians)
    warmup: int = 5

    def __post_init__(self):
        if self.rounds < 1 or self.warmup < 0:
            raise ValueError("rounds must be >= 1 and warmup >= 0")


@experiment(config=LatencyConfig, metrics=(
    *(f"speedup_n{n}" for n in SIZES), "speedup_growth", "crossovers", "mac_ratio_n4096", "speedup_arch1"))
def fc_latency(cfg: LatencyConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Dense over FFT time (ratio of medians, timed side by side) of batch-1 n×n layers and of Arch. 1."""
    out: dict[str, float] = {}
    for n in SIZES:
        fns = {v: layer_callable(n, v, device, seed) for v in ("dense", "fft")}
        out[f"speedup_n{n}"] = median_speedups(time_interleaved(fns, device, cfg.rounds, cfg.warmup))["fft"]
    # how the advantage grows with n: the speedup at the largest size over the speedup at the smallest
    out["speedup_growth"] = out[f"speedup_n{SIZES[-1]}"] / out[f"speedup_n{SIZES[0]}"]
    # sizes (of the 6) at which FFT is faster than dense
    out["crossovers"] = float(sum(out[f"speedup_n{n}"] > 1 for n in SIZES))
    out["mac_ratio_n4096"] = 4096 * 4096 / fft_multiply_adds(4096, 4096, 4096)
    fns = {v: arch1_callable(v, device, seed) for v in ("dense", "fft")}
    out["speedup_arch1"] = median_speedups(time_interleaved(fns, device, cfg.rounds, cfg.warmup))["fft"]
    return out
