"""ADMM-NN-S's comparison: storage with index overhead and CPU time of irregular (CSR) against structured
(compacted dense) LeNet-5 layers.

Storage counts what a deployment stores for the weights (biases are the same in both forms and left out):

- irregular: every nonzero as a ``b``-bit value and an ``i``-bit relative index (the distance to the previous
  nonzero in the row-major flattened layer, Deep Compression's scheme, which the group's ADMM-NN counts); a
  distance beyond ``2^i`` takes extra filler entries (a zero value with the maximum step), each ``b + i`` bits.
  The index width is the best per layer (1 to 16 bits), the choice most favorable to irregular pruning;
- structured: the kept rows and columns of ``W.reshape(out, −1)`` compacted into a dense ``b``-bit matrix, plus
  one bit per row and per column to say which are kept.

Time: each layer as the GEMM of a batch-1 inference (a conv lowered by im2col), the irregular weight in
``torch.sparse_csr`` form, the structured one compacted and its input rows gathered.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

# (input shape of one image, kernel size or None for a linear layer) per LeNet-5 layer
LENET_INPUTS = {"conv1": ((1, 28, 28), 5), "conv2": ((20, 12, 12), 5), "fc1": ((800,), None), "fc2": ((500,), None)}


def relative_index_entries(mask: torch.Tensor, index_bits: int) -> int:
    """Entries (nonzeros plus fillers) of a relative-index encoding of ``mask`` (row-major, flattened)."""
    pos = torch.nonzero(mask.flatten()).flatten()
    if pos.numel() == 0:
        return 0
    gaps = torch.diff(pos, prepend=pos.new_tensor([-1]))  # ≥ 1; the first from position −1
    return int(torch.ceil(gaps.double() / 2 ** index_bits).sum())


def irregular_bits(w: torch.Tensor, value_bits: int) -> tuple[int, int]:
    """(bits, index width) of the best relative-index encoding of the nonzeros of ``w``."""
    mask = w != 0
    return min((relative_index_entries(mask, i) * (value_bits + i), i) for i in range(1, 17))


def structured_bits(w: torch.Tensor, value_bits: int) -> int:
    """Bits of the compacted dense form: kept rows × kept columns of ``b``-bit values, plus the row/column flags."""
    m = w.reshape(w.shape[0], -1) != 0
    rows, cols = int(m.any(1).sum()), int(m.any(0).sum())
    return rows * cols * value_bits + m.shape[0] + m.shape[1]


def lowered_input(name: str, gen: torch.Generator) -> torch.Tensor:
    """A random batch-1 input of layer ``name`` as the GEMM's right operand ``(in·k·k, pixels)``."""
    shape, k = LENET_INPUTS[name]
    x = torch.randn(1, *shape, generator=gen)
    if k is None:
        return x.reshape(-1, 1)
    return F.unfold(x, k)[0]  # (C·k·k, pixels)


def gemm_callables(model: nn.Module, names, form: str, gen: torch.Generator,
                   device: torch.device | None = None) -> dict[str, Callable[[], object]]:
    """Per layer, a zero-argument callable running its batch-1 GEMM in ``form``: ``dense`` (the weight as
    is), ``csr`` (``torch.sparse_csr``) or ``compact`` (kept rows and columns only)."""
    out = {}
    for n in names:
        w = model.get_submodule(n).weight.detach().reshape(model.get_submodule(n).weight.shape[0], -1).cpu()
        x = lowered_input(n, gen)
        if form == "dense":
            a, b = w.contiguous(), x
        elif form == "csr":
            with warnings.catch_warnings():  # "sparse CSR support is in beta"
                warnings.simplefilter("ignore", UserWarning)
                a, b = w.to_sparse_csr(), x
        elif form == "compact":
            nz = w != 0
            r, c = nz.any(1), nz.any(0)
            a, b = w[r][:, c].contiguous(), x[c].contiguous()
        else:
            raise ValueError(f"form must be dense, csr or compact, not {form!r}")
        if device is not None:
            a, b = a.to(device), b.to(device)
        out[n] = (lambda a=a, b=b: a @ b)
    return out


def total(fns: dict[str, Callable[[], object]]) -> Callable[[], None]:
    def run() -> None:
        for f in fns.values():
            f()
    return run


def matched_accuracy(baseline: float, match_loss_pp: float, *runs: list[tuple[float, float]]) -> float:
    """The accuracy the runs are compared at: ``baseline − match_loss_pp``, or lower, the best accuracy the
    weaker run reaches at any stage, so that every run has a stage at or above it."""
    return min(baseline - match_loss_pp, *(max(a for a, _ in run) for run in runs))


def interpolate_storage(points: list[tuple[float, float]], target_acc: float) -> tuple[float, bool]:
    """The smallest storage at ``target_acc`` along a sequence of ``(accuracy, storage)`` of rising compression.

    A stage at or above the target followed by one below it gives the storage log-linearly interpolated between
    the two (``True``); a stage at or above the target followed by none below gives its own storage (``False``).
    Raises ValueError when no stage reaches the target.
    """
    found: list[tuple[float, bool]] = []
    for i, (a0, s0) in enumerate(points):
        if a0 < target_acc:
            continue
        if i + 1 < len(points) and points[i + 1][0] < target_acc:
            a1, s1 = points[i + 1]
            t = (a0 - target_acc) / (a0 - a1)
            found.append((math.exp(math.log(s0) + t * (math.log(s1) - math.log(s0))), True))
        else:
            found.append((s0, False))
    if not found:
        raise ValueError(f"no stage reaches {target_acc:.2f}%")
    return min(found)
