"""Latency cases: 3×3 convolutions at VGG-16's CIFAR-10 shapes (batch 1), dense, CSR and pattern-grouped
(``bench.compress.structured_exec``) on the same weights in PatDNN's two sets (8 patterns of 4, one kernel in 3.6
kept: 8.1× fewer weights), for ``pytest bench/test_latency.py``.

Weights are random, projected onto the sets (the support decides the time, not the values). The timings compare
formats at equal nonzeros on this machine's CPU with PyTorch operators; the paper's speedups come from its mobile
compiler, which is not here (``mobile-speedup`` is ``not_testable``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bench.compress.structured import Connectivity, Pattern, pattern_library
from bench.compress.structured_exec import csr_conv, pattern_grouped_conv
from bench.latency import LatencyCase
from papers.patdnn_niu2020.method import CONNECTIVITY_RATE

SHAPES = {"vgg16-cifar.conv3": (128, 16), "vgg16-cifar.conv5": (256, 8), "vgg16-cifar.conv8": (512, 4)}
VARIANTS = ("dense", "csr", "pattern-grouped")


def _weights(channels: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(channels, channels, 3, 3, generator=g)
    library = pattern_library([w], size=8)
    return Pattern(library=library)(Connectivity(1 - 1 / CONNECTIVITY_RATE)(w)), library


def _build(group: str, variant: str):
    channels, side = SHAPES[group]

    def build(device: torch.device, seed: int):
        w, library = _weights(channels, seed)
        w = w.to(device)
        x = torch.randn(1, channels, side, side, generator=torch.Generator().manual_seed(seed + 1)).to(device)
        if variant == "dense":
            return lambda: F.conv2d(x, w, padding=1)
        run = csr_conv(w) if variant == "csr" else pattern_grouped_conv(w, library)
        return lambda: run(x)

    return build


def latency_cases() -> list[LatencyCase]:
    return [LatencyCase("patdnn_niu2020", group, variant, _build(group, variant),
                        note=f"3x3 conv {SHAPES[group][0]}->{SHAPES[group][0]} at {SHAPES[group][1]}x"
                             f"{SHAPES[group][1]}, batch 1, {variant}, PatDNN's sets (8.1x)")
            for group in SHAPES for variant in VARIANTS]
