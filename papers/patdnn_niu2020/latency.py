"""Latency cases: PatDNN's pattern-and-connectivity sparsity on 3×3 convolutions at the shapes of VGG-16 on CIFAR-10
(the paper's CIFAR model; its conv stages run at 32, 16, 8, 4 and 2 pixels), as batch-1 convolutions on the same
weights in three forms, for ``pytest bench/test_latency.py``:

- ``dense``: ``torch.nn.functional.conv2d`` with the pruned weight stored dense (the baseline);
- ``csr``: the weight as a CSR matrix ``(out, in·9)`` times the unfolded input (``bench.compress.sparse_exec``);
- ``pattern``: kernels grouped by pattern, 4 taps per kept kernel, pruned kernels absent
  (``bench.compress.sparse_exec.pattern_grouped_conv``).

Weights are random, projected onto PatDNN's sets as its hard projection does: connectivity first (one kernel in
``ρ_c = 3.6`` kept, ``method.CONNECTIVITY_RATE``), then the pattern of largest retained energy from a library of 8
centre-plus-three patterns (a fixed draw of ``papers.pconv_ma2020.method.random_library``: the support decides the
time, not which 8 patterns). So each variant does the same multiply-adds on the same nonzeros (4/9 · 1/3.6 of the
dense weight, 8.1×).

The timings compare formats at equal nonzeros on this machine's CPU with PyTorch operators. The paper's mobile
speedups (44.5× over TensorFlow Lite and the rest) come from its compiler (filter-kernel reordering, load
redundancy elimination, auto-tuning) on phone CPUs and GPUs, none of which is here: no claim is judged on these
cases.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bench.compress.sparse_exec import csr_conv, pattern_grouped_conv
from bench.compress.structured import Connectivity, Pattern
from bench.latency import LatencyCase
from papers.patdnn_niu2020 import method
from papers.pconv_ma2020.method import random_library

# (channels in = out, spatial size): VGG-16's 3×3 convs at 16, 8 and 4 pixels on a 32×32 CIFAR input
SHAPES = ((128, 16), (256, 8), (512, 4))
PATTERNS = 8
VARIANTS = ("dense", "csr", "pattern")


def _library() -> tuple[tuple[int, ...], ...]:
    return random_library(PATTERNS, torch.Generator().manual_seed(0))


def _build(channels: int, size: int, variant: str):
    def build(device: torch.device, seed: int):
        g = torch.Generator().manual_seed(seed)
        w = torch.randn(channels, channels, 3, 3, generator=g)
        w = Connectivity(1 - 1 / method.CONNECTIVITY_RATE)(w)
        w = Pattern(library=_library())(w).to(device)
        x = torch.randn(1, channels, size, size, generator=g).to(device)
        if variant == "dense":
            return lambda: F.conv2d(x, w, padding=1)
        run = csr_conv(w) if variant == "csr" else pattern_grouped_conv(w, _library())
        return lambda: run(x)

    return build


def latency_cases() -> list[LatencyCase]:
    return [LatencyCase("patdnn_niu2020", f"vgg16.conv{c}@{s}", variant, _build(c, s, variant),
                        note=f"batch-1 3x3 conv {c}->{c} at {s}x{s}, {PATTERNS} patterns of 4, connectivity "
                             f"1/{method.CONNECTIVITY_RATE}, {variant}")
            for c, s in SHAPES for variant in VARIANTS]
