"""Mutants of Tiny but Accurate's proxy (``bench/mutants.py``).

- ``zero-shifting-quantizer``: the 8-bit weights come from a min-max linear grid (256 levels from the layer's
  smallest to its largest weight, as a weight range mapped linearly onto a conductance range) that has no exact zero:
  every pruned weight lands on the level nearest zero, a small nonzero conductance. Every input and output of every
  layer is then mapped, before P-RM as after it, so ``arrays_after_over_before`` goes to 1 and should break
  ``prm-reduces-crossbars``. The accuracy may move too (the offset is the same sign for every pruned weight of a
  layer), but how much was not worked out beforehand.
- ``cell-bits-as-weight-bits``: the 4-bit cell's precision taken for the weight's (the paper stores an 8-bit weight
  in two 4-bit cells): 4-bit weights (levels −7..7) instead of 8-bit. 4-bit rounding without retraining should cost
  more than 0.2 pp and break ``quantization-nearly-lossless``.
- ``distill-from-pruned-copy``: the teacher is a frozen copy of the network being retrained (the P-RM one, as when
  the wrong model is deep-copied) instead of the dense software model: distillation then holds the student near its
  own starting outputs and brings no knowledge of the dense network, so ``kd_gain_pp`` should fall to zero or below
  and break ``kd-retraining-not-worse``.

``experiment.py`` and ``method.quantize_`` look ``method.quantize_weight`` and ``method.DistillationLoss`` up at run
time, so patching those module attributes reaches every call.
"""

from __future__ import annotations

import copy
from unittest import mock

import torch
from torch import nn

from bench.compress.admm import KBit
from bench.mutants import mutant
from bench.train import Batch
from papers.tiny_accurate_ma2019 import method


def _min_max(w: torch.Tensor, bits: int = method.WEIGHT_BITS) -> torch.Tensor:
    """``w`` on ``2^bits`` evenly spaced levels from ``min(w)`` to ``max(w)`` (no zero point)."""
    lo, hi = float(w.min()), float(w.max())
    if hi == lo:
        return w.clone()
    step = (hi - lo) / (2 ** bits - 1)
    return (torch.round((w - lo) / step) * step + lo).to(w.dtype)


@mutant("zero-shifting-quantizer")
def zero_shifting_quantizer():
    """8-bit weights on a min-max grid without an exact zero: pruned weights become small nonzero weights."""
    with mock.patch.object(method, "quantize_weight", _min_max):
        yield


def _four_bit(w: torch.Tensor, bits: int = method.WEIGHT_BITS) -> torch.Tensor:
    return KBit(bits=4)(w)


@mutant("cell-bits-as-weight-bits")
def cell_bits_as_weight_bits():
    """4-bit weights (one cell's precision) instead of 8-bit ones."""
    with mock.patch.object(method, "quantize_weight", _four_bit):
        yield


class _SelfDistillation(method.DistillationLoss):
    """Distillation from a frozen copy of the student as it was at the first step, whatever teacher was given."""

    def __call__(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        if not getattr(self, "_copied", False):
            self.teacher, self._copied = copy.deepcopy(model).eval(), True
        return super().__call__(model, batch)


@mutant("distill-from-pruned-copy")
def distill_from_pruned_copy():
    """The teacher is the pruned network itself (a frozen copy), not the dense software model."""
    with mock.patch.object(method, "DistillationLoss", _SelfDistillation):
        yield
