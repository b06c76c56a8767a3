"""The three structured sparsities of the pneumonia paper, as ADMM constraint sets of the shared engine.

Filter sparsity removes whole output filters (rows of ``W.reshape(out, −1)``), column sparsity whole columns (one
input channel at one kernel position, across every filter), combined sparsity both at once
(``bench.compress.admm``: :class:`Filter`, :class:`Column`, :class:`FilterColumn`). In the proxy each arm keeps the
same fraction of every pruned layer's weights: filter alone and column alone keep ``1/c`` of the rows or columns,
combined keeps ``1/√c`` of each, so ``c`` is the layer's compression in all three.
"""

from __future__ import annotations

import math

from torch import nn

from bench.compress.admm import Column, Filter, FilterColumn, Projection
from bench.compress.cifar_convnet import CaffeCifarConvNet

PRUNED = ("conv2", "conv3")  # assumption: the first conv (2.4K weights, 3 input channels) and the classifier stay
KINDS = ("filter", "column", "combined")


def projection(kind: str, compression: float) -> Projection:
    """The constraint set of one arm at a per-layer ``compression`` (kept weights = 1/compression)."""
    if kind == "filter":
        return Filter(1 - 1 / compression)
    if kind == "column":
        return Column(1 - 1 / compression)
    if kind == "combined":
        side = 1 - 1 / math.sqrt(compression)
        return FilterColumn(side, column_ratio=side)
    raise ValueError(f"unknown sparsity {kind!r}: one of {KINDS}")


def pruned_weights(model: CaffeCifarConvNet) -> dict[str, nn.Parameter]:
    return {n: getattr(model, n).weight for n in PRUNED}


def targets(model: CaffeCifarConvNet, kind: str, compression: float) -> dict[str, tuple]:
    proj = projection(kind, compression)
    return {n: (w, proj) for n, w in pruned_weights(model).items()}
