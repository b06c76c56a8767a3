"""The memristor framework's pieces: crossbar-block pruning as a constraint set of the ADMM engine, 8-bit weights,
and the mapping of a trained network onto in-memory-computing arrays (``bench.hardware.imc.IMCArray``).

**Crossbar-block pruning** (the group's ``balanced_block_prune_filter``, read through ``../shared/SOURCES-WAVE2.md``;
the link to this paper is inferred from the group and the identical ADMM scaffold): a layer's matrix
``W.reshape(out, −1)`` is cut along its inputs into blocks of one array's height (``rows`` inputs: the inputs one
array's word lines take), and every block keeps the same number of its outputs, those of largest norm within the
block (``bench.compress.structured.BalancedBlocks`` with one output block). Every array-row of the mapping then
holds the same number of output columns, and the emptied columns are packed away (``mapped_arrays``).

**Quantization**: the trained weights projected onto ``bits``-bit symmetric levels with the best scale per layer
(``bench.compress.admm.KBit``, the last projection of the group's ADMM quantization); zeros stay zero. The paper
[3rd: a reading of its full text in a third-party notes file, SOURCES below] maps a 5-bit weight as one 4-bit cell in
a positive and one in a negative crossbar, against a 9-bit baseline (8-bit magnitudes in two 4-bit cells each), on
32×32 crossbars for LeNet-5 and the ConvNet: :data:`ARRAY` and :data:`DENSE_ARRAY`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from bench.compress.admm import Irregular, KBit, Projection
from bench.compress.structured import BalancedBlocks
from bench.hardware.imc import IMCArray

SOURCE = ("[3rd] crossbar size, cell bits, sign scheme and weight bits from a notes file built from the paper's "
          "full text (code index id 71093402756); input bits, one ADC per crossbar and no zero-skipping are the "
          "suite's assumptions")
ARRAY = IMCArray(rows=32, cols=32, weight_bits=5, cell_bits=4, sign="differential", input_bits=8, source=SOURCE)
DENSE_ARRAY = IMCArray(rows=32, cols=32, weight_bits=9, cell_bits=4, sign="differential", input_bits=8,
                       source=SOURCE)
PRUNED = ("conv2", "conv3", "ip1")  # assumption: the first conv (2.4K of 89K weights, 3 input channels) stays dense
LAYERS = ("conv1", "conv2", "conv3", "ip1")
KINDS = ("crossbar", "irregular")


def layers(model: nn.Module) -> dict[str, nn.Module]:
    return {n: getattr(model, n) for n in LAYERS}


def per_layer_compression(model: nn.Module, overall: float) -> float:
    """The compression of each pruned layer that makes the whole network's (dense first layer included)
    ``overall``."""
    ws = {n: m.weight.numel() for n, m in layers(model).items()}
    total, pruned = sum(ws.values()), sum(ws[n] for n in PRUNED)
    budget = total / overall - (total - pruned)
    if budget <= 0:
        raise ValueError(f"an overall compression of {overall} leaves nothing for the pruned layers")
    return pruned / budget


def projection(kind: str, weight: torch.Tensor, compression: float, array: IMCArray) -> Projection:
    """The constraint set of one arm for one layer at ``compression`` (kept weights = 1/compression)."""
    ratio = 1 - 1 / compression
    if kind == "crossbar":
        inputs = weight[0].numel()
        return BalancedBlocks(ratio, row_blocks=1, col_blocks=math.ceil(inputs / array.rows))
    if kind == "irregular":
        return Irregular(ratio)
    raise ValueError(f"unknown pruning {kind!r}: one of {KINDS}")


def targets(model: nn.Module, kind: str, compression: float, array: IMCArray) -> dict[str, tuple]:
    return {n: (getattr(model, n).weight, projection(kind, getattr(model, n).weight, compression, array))
            for n in PRUNED}


@torch.no_grad()
def quantize_(model: nn.Module, bits: int) -> None:
    """Every layer's weight onto ``bits``-bit symmetric levels (best scale per layer); zeros stay zero."""
    for m in layers(model).values():
        m.weight.copy_(KBit(bits=bits)(m.weight))


def lowered_inputs(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per layer, the vectors its matrix multiplies for the images ``x``: ``(N·positions, in)``, clamped at 0
    below (the inputs after a ReLU are non-negative; the first layer's mean-subtracted pixels are shifted by
    their minimum, as an unsigned input encoding would)."""
    captured: dict[str, torch.Tensor] = {}
    hooks = [m.register_forward_hook(lambda mod, i, o, n=n: captured.__setitem__(n, i[0].detach()))
             for n, m in layers(model).items()]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    out = {}
    for n, m in layers(model).items():
        v = captured[n]
        if isinstance(m, nn.Conv2d):
            v = torch.nn.functional.unfold(v, m.kernel_size, padding=m.padding, stride=m.stride)  # (N, in, L)
            v = v.transpose(1, 2).reshape(-1, v.shape[1])
        v = v - v.min() if bool((v < 0).any()) else v
        out[n] = v
    return out
