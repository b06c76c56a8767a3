"""One-level precision synapses: the quantizers, the quantization regularizer and bias tuning (reconstructions;
the package docstring lists what is the paper's and what is assumed).

A one-level synapse has a single nonzero conductance; with the differential pair of a crossbar a layer's
weights take the values ``{−α, 0, +α}``, ``α`` one per layer.

- :func:`naive_levels`: one rule for the whole network, ignoring each layer's distribution: ``α`` the mean
  ``|w|`` over every weight of the network, each weight rounded to the nearest of ``{−α, 0, +α}``;
- :func:`dq_levels` (distribution-aware quantization): per layer, the ``α`` and threshold that minimize the
  layer's squared quantization error (the exact ternary fit, ``bench.compress.admm.Ternary``);
- :class:`QuantizationRegularizer` (QR): ``λ·Σ (w − Q(w))²`` added to the loss during training, ``Q`` the
  DQ quantizer refreshed every ``refresh`` steps, pulling weights toward their levels before quantization;
- bias tuning (BT): with the quantized weights fixed, only the biases are trained (``experiment.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from bench.compress.admm import Ternary

LAYER_TYPES = (nn.Conv2d, nn.Linear)


@dataclass(frozen=True)
class Levels:
    """One layer's one-level quantizer: ``α·sign(w)`` where ``|w| ≥ threshold``, else 0."""

    alpha: float
    threshold: float

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return self.alpha * torch.sign(w) * (w.abs() >= self.threshold)


def synapses(model: nn.Module) -> dict[str, nn.Parameter]:
    """Every weight that is mapped to synapses (all conv and linear weights, first and last layers included)."""
    return {n: m.weight for n, m in model.named_modules() if isinstance(m, LAYER_TYPES)}


def naive_levels(model: nn.Module) -> dict[str, Levels]:
    """One ``α`` for the network (the mean ``|w|`` of all its weights), nearest-level rounding everywhere."""
    w = torch.cat([p.detach().abs().flatten() for p in synapses(model).values()])
    alpha = float(w.mean())
    return {n: Levels(alpha, alpha / 2) for n in synapses(model)}


def dq_levels(model: nn.Module) -> dict[str, Levels]:
    """Per layer, the ``{−α, 0, +α}`` fit of least squared error (threshold: the smallest magnitude kept)."""
    out = {}
    for n, p in synapses(model).items():
        w = p.detach()
        alpha, t = Ternary().levels(w)
        kept = w.abs()[t != 0]
        out[n] = Levels(alpha, float(kept.min()) if len(kept) else float("inf"))
    return out


@torch.no_grad()
def quantize_(model: nn.Module, levels: dict[str, Levels]) -> None:
    """Replace every synapse weight by its quantized value, in place."""
    for n, p in synapses(model).items():
        p.copy_(levels[n](p))


def distinct_values(model: nn.Module) -> int:
    """The largest number of distinct values in one layer's weights (3 for one-level synapses)."""
    return max(int(torch.unique(p.detach()).numel()) for p in synapses(model).values())


class QuantizationRegularizer:
    """``strength · Σ (w − Q(w))²`` over the synapses, ``Q`` the DQ quantizer refreshed every ``refresh`` calls."""

    def __init__(self, model: nn.Module, strength: float, refresh: int = 50):
        if strength < 0 or refresh < 1:
            raise ValueError("strength must be >= 0 and refresh >= 1")
        self.model, self.strength, self.refresh = model, strength, refresh
        self.calls = 0
        self.levels = dq_levels(model)

    def __call__(self) -> torch.Tensor:
        if self.calls and self.calls % self.refresh == 0:
            self.levels = dq_levels(self.model)
        self.calls += 1
        total = 0.0
        for n, p in synapses(self.model).items():
            total = total + ((p - self.levels[n](p.detach())) ** 2).sum()
        return self.strength * total
