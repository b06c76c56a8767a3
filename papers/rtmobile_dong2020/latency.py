"""Latency cases: RTMobile's GRU matrices (the zoo's 2 × 1024 GRU: ``weight_ih``/``weight_hh`` of ``(3·1024,
1024)``) as batch-1 matrix-vector products, dense, CSR and block-compacted (``bench.compress.sparse_exec``) on
the same weights with block row sparsity (4 column blocks) at 10×, the zoo's smallest compression, for ``pytest
bench/test_latency.py``.

Weights are random, projected onto the set (the support decides the time, not the values). The timings compare
formats at equal nonzeros on this machine's CPU with PyTorch operators; the paper's real-time figures come from its
mobile compiler on a phone GPU, which is not here.
"""

from __future__ import annotations

import torch

from bench.compress.sparse_exec import block_compact_mv, csr_mv
from bench.latency import LatencyCase
from papers.rtmobile_dong2020 import method

HIDDEN = 1024
RATIO = 0.9
BLOCKS = 4
VARIANTS = ("dense", "csr", "block-compact")


def _build(variant: str):
    def build(device: torch.device, seed: int):
        g = torch.Generator().manual_seed(seed)
        w = method.bsp(RATIO, BLOCKS)(torch.randn(3 * HIDDEN, HIDDEN, generator=g)).to(device)
        x = torch.randn(HIDDEN, generator=g).to(device)
        if variant == "dense":
            return lambda: w @ x
        run = csr_mv(w) if variant == "csr" else block_compact_mv(w, BLOCKS)
        return lambda: run(x)

    return build


def latency_cases() -> list[LatencyCase]:
    return [LatencyCase("rtmobile_dong2020", "gru1024.weight_hh", variant, _build(variant),
                        note=f"batch-1 GEMV (3072x1024), block row sparsity 10x in {BLOCKS} column blocks, {variant}")
            for variant in VARIANTS]
