"""The SOT-MRAM engine's pieces: the weight quantizer of the engine's bit width, the bitwise multiply it runs (AND,
popcount, shift over bit planes), its per-image operation and cell counts, and the activation quantizer.

**Bitwise multiply-accumulate** [3rd: the paper's introduction, read in deepai.org's copy of the arXiv text: a
SOT-MRAM PIM engine computes the MACs of conv and FC layers with bitwise parallel AND, bit-count and bit-shift].
With activations ``x`` and weights ``w`` as integers in two's complement of ``a`` and ``b`` bits, bit planes
``x_i, w_j ∈ {0, 1}^K`` and plane weights ``c_i = 2^i`` (``−2^(a−1)`` for the sign plane of a signed number):

    ``x · w = Σ_i Σ_j c_i c_j · popcount(x_i AND w_j)``                                            (1)

so one output needs ``a·b`` AND + popcount operations over its ``K`` stored weights: ``K·a·b`` one-bit ANDs
(:func:`bitplane_dot` computes (1) and equals the integer dot product; the tests check it).

**Counts per image** (the suite's model, version :data:`VERSION`; no device constants): a layer's matrix
``W.reshape(out, −1)`` is stored compacted: the rows (filters) and columns with any nonzero weight, a dense
``rows × cols`` block (filter+column pruning leaves exactly such a block, so no index is stored; a zero that the
quantizer makes inside the block is stored as zero bits). Then

    ``bit_ops = Σ_layers positions · rows · cols · b · a``,   ``cells = Σ_layers rows · cols · b``

(``positions``: output positions of a conv per image, 1 for an FC layer; one SOT-MRAM cell per stored bit).
Biases are added outside the arrays and not counted.

**Weights** take ``bits``-bit levels ``α·q`` with one ``α`` per layer (:func:`quantizer`: ``Binary`` for 1 bit,
``Ternary`` ``{−α, 0, α}`` for 2 bits, two's complement ``{−2, −1, 0, 1}`` holding it, ``KBit`` above).
**Activations** enter each layer on ``bits``-bit levels over the largest magnitude seen on calibration images
(``bench.hardware.analog.quantized_inputs``; unsigned levels where a layer's inputs are non-negative, symmetric
ones where they are not); applied at evaluation only, never trained through.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from bench.compress.admm import Binary, KBit, Quantizer, Ternary
from bench.hardware.crossbar import _matrix

LAYERS = ("conv1", "conv2", "fc1", "fc2")
WEIGHT_BITS = 2  # [assumption] the paper's bit width was not reachable; its introduction argues against binary
ACTIVATION_BITS = 8  # [assumption] the paper's activation bits were not reachable
DENSE_BITS = 8  # the uncompressed reference: 8-bit weights and 8-bit activations (the suite's choice)
NAME = "papers.sot_mram_pim_yuan2019.method bit-plane count (AND + popcount per pair of bit planes)"
VERSION = "1"


def quantizer(bits: int) -> Quantizer:
    """The projection onto ``bits``-bit weight levels (one ``α`` per layer)."""
    if bits == 1:
        return Binary()
    if bits == 2:
        return Ternary()
    return KBit(bits=bits)


def bit_planes(q: torch.Tensor, bits: int) -> torch.Tensor:
    """``(bits, *q.shape)`` booleans: the two's complement bits of the integers ``q`` (least significant first).

    ``q`` must lie in ``[−2^(bits−1), 2^bits − 1]`` (signed or unsigned range)."""
    q = q.long()
    if bool((q < -(2 ** (bits - 1))).any()) or bool((q > 2 ** bits - 1).any()):
        raise ValueError(f"values outside {bits}-bit two's complement or unsigned range")
    u = q & (2 ** bits - 1)  # two's complement code of a negative value
    return torch.stack([(u >> i) & 1 == 1 for i in range(bits)])


def plane_weights(bits: int, signed: bool) -> list[int]:
    """``c_i`` of (1): ``2^i``, the sign plane ``−2^(bits−1)`` when ``signed``."""
    c = [2 ** i for i in range(bits)]
    if signed:
        c[-1] = -c[-1]
    return c


def bitplane_dot(x: torch.Tensor, w: torch.Tensor, a_bits: int, w_bits: int, a_signed: bool = True,
                 w_signed: bool = True) -> int:
    """``x · w`` for integer vectors by (1): an AND and a popcount per pair of bit planes, shifted and summed."""
    xp, wp = bit_planes(x, a_bits), bit_planes(w, w_bits)
    ca, cw = plane_weights(a_bits, a_signed), plane_weights(w_bits, w_signed)
    return sum(ca[i] * cw[j] * int((xp[i] & wp[j]).sum()) for i in range(a_bits) for j in range(w_bits))


def stored_block(weight: torch.Tensor) -> tuple[int, int]:
    """``(rows, cols)`` of the compacted matrix: filters and columns of ``W.reshape(out, −1)`` with a nonzero."""
    nz = _matrix(weight.detach()).ne(0)
    return int(nz.any(1).sum()), int(nz.any(0).sum())


def layer_cost(weight: torch.Tensor, positions: int, w_bits: int, a_bits: int) -> dict[str, int]:
    """Stored weights, cells and one-bit AND operations per image of one layer (module docstring)."""
    rows, cols = stored_block(weight)
    stored = rows * cols
    return {"stored": stored, "cells": stored * w_bits, "bit_ops": positions * stored * w_bits * a_bits}


def output_positions(model: nn.Module, image: torch.Tensor, names=LAYERS) -> dict[str, int]:
    """Output positions per image of each layer (``H·W`` of a conv's output, 1 for a linear layer)."""
    shapes: dict[str, tuple] = {}
    hooks = [model.get_submodule(n).register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, o.shape))
             for n in names]
    try:
        with torch.no_grad():
            model(image[:1])
    finally:
        for h in hooks:
            h.remove()
    return {n: int(torch.tensor(s[2:]).prod()) if len(s) > 2 else 1 for n, s in shapes.items()}


def pim_cost(model: nn.Module, positions: Mapping[str, int], w_bits: int, a_bits: int,
             names=LAYERS) -> dict[str, int]:
    """The network's stored weights, cells and one-bit AND operations per image (sums of :func:`layer_cost`)."""
    total = {"stored": 0, "cells": 0, "bit_ops": 0}
    for n in names:
        for k, v in layer_cost(model.get_submodule(n).weight, positions[n], w_bits, a_bits).items():
            total[k] += v
    return total


def weight_levels(model: nn.Module, names=LAYERS) -> int:
    """The most distinct values any layer's weights take (zero included)."""
    return max(len(torch.unique(model.get_submodule(n).weight.detach())) for n in names)
