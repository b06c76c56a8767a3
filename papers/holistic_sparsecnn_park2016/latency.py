"""Latency cases: CaffeNet's conv2-conv5 at batch 1 (groups included) at the sparsity of SkimCaffe's pruned
CaffeNet, dense (``torch.nn.functional.conv2d`` on the pruned weight) against PyTorch's CSR product on the lowered
input (``bench.compress.sparse_conv``), for ``pytest bench/test_latency.py``.

Weights are random with a random support of the layer's sparsity (the support decides the time, not the values).
The claims' timings run inside ``experiment.alexnet_sparse_conv`` on the same shapes; these cases put the same
operations under pytest-benchmark and on the simulated devices.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bench.compress.sparse_conv import csr_conv2d, random_support
from bench.latency import LatencyCase
from papers.holistic_sparsecnn_park2016.experiment import ALEXNET, SKIMCAFFE_SPARSITY

VARIANTS = ("dense", "csr")


def _build(layer: str, variant: str):
    w_shape, x_shape, pad, groups = ALEXNET[layer]

    def build(device: torch.device, seed: int):
        g = torch.Generator().manual_seed(seed)
        w = random_support(w_shape, SKIMCAFFE_SPARSITY[layer], g).to(device)
        x = torch.randn(*x_shape, generator=g).to(device)
        if variant == "dense":
            return lambda: F.conv2d(x, w, padding=pad, groups=groups)
        run = csr_conv2d(w, padding=pad, groups=groups)
        return lambda: run(x)

    return build


def latency_cases() -> list[LatencyCase]:
    return [LatencyCase("holistic_sparsecnn_park2016", f"caffenet.{layer}", variant, _build(layer, variant),
                        note=f"batch-1 CaffeNet {layer} at {100 * SKIMCAFFE_SPARSITY[layer]:.1f}% sparsity, {variant}")
            for layer in ALEXNET for variant in VARIANTS]
