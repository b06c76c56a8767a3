"""AlexNet's conv layers as lowered GEMMs, at the sparsity SSL and ℓ1 reached (the paper's AlexNet table, Sec. 4.3).

The paper measures speed "by matrix-matrix multiplication (GEMM) in each convolutional layer ... in a
layer-by-layer fashion" (wenwei202/caffe scnn README): the weight matrix ``(filters, C·k·k)`` of each conv
group times the lowered input ``(C·k·k, output pixels)`` of one image, lowering excluded. Variants:

- ``dense``: the full GEMM (MKL / cuBLAS in the paper);
- ``structured``: SSL's zero rows and columns removed and the rest concatenated into a smaller dense GEMM
  (Caffe's ``LOWERED_CCNMM``), at SSL's row and column sparsity (the row at 44.66% top-1 error);
- ``csr-l1``: the weight in CSR format (MKL sparse BLAS / cuSPARSE in the paper; ``torch.sparse`` here) at the
  non-structured ℓ1 sparsity of similar accuracy (the row at 44.67% top-1 error);
- ``csr-equal``: CSR with random zeros at exactly SSL's overall zero fraction (the same sparsity, no structure).

Layer shapes are Caffe's ``bvlc_alexnet`` / CaffeNet (conv2, conv4, conv5 have two groups; each group is its
own GEMM and a layer's time is the sum over its groups). The per-layer sparsities are the paper's table as
recalled [unverified: the paper PDF was not reachable; their means reproduce the abstract's 5.1×/3.1×].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from bench.hardware.systolic import Gemm
from bench.latency import LatencyCase


@dataclass(frozen=True)
class ConvGemm:
    """One AlexNet conv layer as GEMMs: ``groups`` × ``(filters, cols) @ (cols, pixels)``."""

    name: str
    filters: int  # per group
    cols: int  # C·k·k per group
    pixels: int  # output positions of one 227×227 image
    groups: int
    ssl_row_sparsity: float  # fraction of all-zero rows (filters) learned by SSL
    ssl_col_sparsity: float  # fraction of all-zero columns (shapes)
    l1_sparsity: float  # fraction of zero weights learned by ℓ1 (non-structured)

    @property
    def kept(self) -> tuple[int, int]:
        """Rows and columns per group after SSL's zero rows and columns are removed."""
        return round(self.filters * (1 - self.ssl_row_sparsity)), round(self.cols * (1 - self.ssl_col_sparsity))

    @property
    def ssl_sparsity(self) -> float:
        """SSL's overall fraction of zero weights (rows or columns removed)."""
        r, c = self.kept
        return 1 - (r * c) / (self.filters * self.cols)

    @property
    def flop_bound(self) -> float:
        """Speedup bound from MACs: dense MACs / structured MACs."""
        return 1 / (1 - self.ssl_sparsity)


ALEXNET = (
    ConvGemm("conv1", 96, 3 * 11 * 11, 55 * 55, 1, 0.094, 0.000, 0.676),
    ConvGemm("conv2", 128, 48 * 5 * 5, 27 * 27, 2, 0.129, 0.632, 0.924),
    ConvGemm("conv3", 384, 256 * 3 * 3, 13 * 13, 1, 0.406, 0.769, 0.972),
    ConvGemm("conv4", 192, 192 * 3 * 3, 13 * 13, 2, 0.469, 0.847, 0.966),
    ConvGemm("conv5", 128, 192 * 3 * 3, 13 * 13, 2, 0.000, 0.807, 0.943),
)
VARIANTS = ("dense", "structured", "csr-l1", "csr-equal")


def _csr(weight: torch.Tensor, sparsity: float, gen: torch.Generator) -> torch.Tensor:
    keep = torch.rand(weight.shape, generator=gen) >= sparsity
    return (weight * keep).to_sparse_csr()


def gemm_operands(layer: ConvGemm, variant: str, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The ``(weight, lowered input)`` pair of each conv group of ``layer`` in form ``variant``, on the CPU."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    gen = torch.Generator().manual_seed(seed * 1009 + ALEXNET.index(layer))
    rows, cols = layer.kept
    mats = []
    for _ in range(layer.groups):
        w = torch.randn(layer.filters, layer.cols, generator=gen)  # (filters, C·k·k)
        x = torch.randn(layer.cols, layer.pixels, generator=gen)  # (C·k·k, pixels)
        if variant == "structured":  # the kept rows and columns concatenated: a smaller dense GEMM
            r = torch.randperm(layer.filters, generator=gen)[:rows]
            c = torch.randperm(layer.cols, generator=gen)[:cols]
            w, x = w[r][:, c].contiguous(), x[c].contiguous()
        elif variant == "csr-l1":
            w = _csr(w, layer.l1_sparsity, gen)
        elif variant == "csr-equal":
            w = _csr(w, layer.ssl_sparsity, gen)
        mats.append((w, x))
    return mats


def gemm_callable(layer: ConvGemm, variant: str, device: torch.device, seed: int) -> Callable[[], object]:
    """A zero-argument callable running one image's GEMMs of ``layer`` in form ``variant`` on ``device``."""
    mats = [(w.to(device), x.to(device)) for w, x in gemm_operands(layer, variant, seed)]

    def run() -> list[torch.Tensor]:
        return [w @ x for w, x in mats]

    return run


def systolic_gemms(layer: ConvGemm, variant: str) -> tuple[Gemm, ...]:
    """``layer`` in form ``variant`` as GEMMs for the systolic array (M pixels streamed, K cols, N filters).

    Only the dense and the compacted (structured) forms are dense GEMMs; a CSR product is not (empty).
    """
    if variant == "dense":
        return (Gemm(layer.pixels, layer.filters, layer.cols, layer.groups),)
    if variant == "structured":
        rows, cols = layer.kept
        return (Gemm(layer.pixels, rows, cols, layer.groups),)
    return ()


# the paper's own processors (Sec. 4.3), simulated by bench.hardware.roofline
PAPER_DEVICES = ("xeon-e5-2630-v2", "gtx-titan")


def latency_cases() -> list[LatencyCase]:
    """Every AlexNet conv layer in every variant; the dense GEMMs also on the paper's processors and a
    systolic array (simulated)."""
    return [LatencyCase("ssl_wen2016", f"alexnet.{layer.name}", variant,
                        lambda device, seed, layer=layer, variant=variant: gemm_callable(layer, variant, device, seed),
                        note=f"{layer.groups}×({layer.filters}×{layer.cols})@({layer.cols}×{layer.pixels})",
                        roofline=PAPER_DEVICES if variant in ("dense", "structured") else (),
                        gemms=systolic_gemms(layer, variant))
            for layer in ALEXNET for variant in VARIANTS]
