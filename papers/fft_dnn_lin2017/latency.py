"""Inference of a fully connected layer: dense GEMV against the block-circulant product by FFT.

The paper deploys inference one image at a time (its Android app classifies one picture), so the batch is 1:
a dense layer is a matrix-vector product of m·n multiply-adds, the block-circulant layer q FFTs of length b, p·q
spectral products and p inverse FFTs. At inference the weight spectra FFT(w_ij) are computed once and stored
(Sec. 4.1: "storage O(n) by keeping FFT(w_i)"), so they are not part of the timed call.

Sizes: square n×n layers, n from 128 (the paper's MNIST Arch. 1 hidden width) to 4096, each with b = n (one
fully circulant block: §4.1 builds W from blocks as large as the input, ``W = [C_1|…|C_k]ᵀ`` with C_i of n×n),
where the asymptotic claim O(n²) → O(n log n) applies; and the paper's Arch. 1 network (256-128-128-10).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from bench.latency import LatencyCase
from papers.fft_dnn_lin2017.method import circulant, fft_product

SIZES = (128, 256, 512, 1024, 2048, 4096)
VARIANTS = ("dense", "fft")


def _weights(n_out: int, n_in: int, block: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The defining vectors (p, q, b) of a block-circulant layer and its dense matrix (m, n)."""
    p, q = -(-n_out // block), -(-n_in // block)
    w = torch.randn(p, q, block, generator=gen) / n_in ** 0.5
    dense = circulant(w).permute(0, 2, 1, 3).reshape(p * block, q * block)[:n_out, :n_in].contiguous()
    return w, dense


def layer_callable(n: int, variant: str, device: torch.device, seed: int) -> Callable[[], torch.Tensor]:
    """One batch-1 product of an n×n fully circulant layer, dense or by FFT, on ``device``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    gen = torch.Generator().manual_seed(seed * 1009 + n)
    w, dense = _weights(n, n, n, gen)
    x = torch.randn(1, n, generator=gen).to(device)
    if variant == "dense":
        dense = dense.to(device)
        return lambda: F.linear(x, dense)
    wf = torch.fft.rfft(w.to(device), dim=-1)
    return lambda: fft_product(x, wf, n, n)


ARCH1 = (256, 128, 128)  # MNIST Arch. 1: 16×16 inputs, two block-circulant FC layers of 128, softmax over 10


def arch1_callable(variant: str, device: torch.device, seed: int, block: int = 128) -> Callable[[], torch.Tensor]:
    """One image through Arch. 1 (ReLU hidden layers, a dense 10-way output layer), dense or by FFT."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    gen = torch.Generator().manual_seed(seed * 1009 + 7)
    layers = [_weights(n_out, n_in, block, gen) for n_in, n_out in zip(ARCH1, ARCH1[1:], strict=False)]
    head = (torch.randn(10, ARCH1[-1], generator=gen) / ARCH1[-1] ** 0.5).to(device)
    x = torch.rand(1, ARCH1[0], generator=gen).to(device)
    if variant == "dense":
        mats = [d.to(device) for _, d in layers]

        def run_dense() -> torch.Tensor:
            h = x
            for m in mats:
                h = F.relu(F.linear(h, m))
            return F.linear(h, head)
        return run_dense
    spectra = [torch.fft.rfft(w.to(device), dim=-1) for w, _ in layers]
    outs = ARCH1[1:]

    def run_fft() -> torch.Tensor:
        h = x
        for wf, n_out in zip(spectra, outs, strict=True):
            h = F.relu(fft_product(h, wf, n_out, block))
        return F.linear(h, head)
    return run_fft


def latency_cases() -> list[LatencyCase]:
    """Square fully circulant layers of every size, and Arch. 1, dense and by FFT (batch 1)."""
    cases = [LatencyCase("fft_dnn_lin2017", f"fc{n}", variant,
                         lambda device, seed, n=n, variant=variant: layer_callable(n, variant, device, seed),
                         note=f"1×{n} → {n}, "
                         + ("dense GEMV" if variant == "dense" else f"one circulant block, b={n}"))
             for n in SIZES for variant in VARIANTS]
    cases += [LatencyCase("fft_dnn_lin2017", "mnist-arch1", variant,
                          lambda device, seed, variant=variant: arch1_callable(variant, device, seed),
                          note="256-128-128-10, batch 1" + (", b=128" if variant == "fft" else ""))
              for variant in VARIANTS]
    return cases
