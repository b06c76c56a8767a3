"""Latency cases: LeNet-5's layers as batch-1 GEMMs, dense, irregular at the paper's 348× in CSR form, and
structured at 30× compacted (the rates of the experiment's last stages), for ``pytest bench/test_latency.py``.

Weights are random with the projections' supports (the support, not the values, decides the time); the
claims' timing runs on the trained networks inside the experiment (``experiment.py``).
"""

from __future__ import annotations

import torch

from bench.compress import mnist_lenet as lenet
from bench.compress.admm import Irregular
from bench.latency import LatencyCase
from bench.models import LeNet5
from papers.admm_nn_s_ma2019.method import gemm_callables

FORMS = {"dense": ("dense", None), "csr-348x": ("csr", 348.0), "compact-30x": ("compact", 30.0)}


def _pruned(variant: str, seed: int) -> LeNet5:
    form, rate = FORMS[variant]
    torch.manual_seed(seed)
    model = LeNet5()
    if rate is not None:
        projections = ({n: Irregular(r) for n, r in lenet.ratios_for_rate(rate).items()} if form == "csr"
                       else lenet.structured_projections(rate))
        with torch.no_grad():
            for n, w in lenet.weights(model).items():
                w.copy_(projections[n](w))
    return model


def _build(layer: str, variant: str):
    def build(device: torch.device, seed: int):
        model = _pruned(variant, seed)
        return gemm_callables(model, [layer], FORMS[variant][0], torch.Generator().manual_seed(seed), device)[layer]
    return build


def latency_cases() -> list[LatencyCase]:
    return [LatencyCase("admm_nn_s_ma2019", f"lenet.{layer}", variant, _build(layer, variant),
                        note=f"batch-1 GEMM of {layer}, {variant}")
            for layer in lenet.LAYERS for variant in FORMS]
