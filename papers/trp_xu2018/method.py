"""Trained Rank Pruning: periodic low-rank substitution and the nuclear-norm subgradient during training.

As in ``cifar-TRP.py`` of ``yuhuixu1993/Trained-Rank-Pruning`` (commit 8cc7470), every ``period`` iterations,
before the forward pass, each selected conv's weight is read as a matrix in the chosen scheme, factored by
SVD, and replaced by its rank-``r`` reconstruction with the smallest ``r`` keeping ``energy`` of ``Σσ²``; on
the same iterations, after the backward pass, ``λ·U_r·V_rᵀ`` (a subgradient of the nuclear norm, truncated to
the same rank, from the same SVD) is added to the gradient. The momentum buffers are left as they are.
Deployment decomposes the trained network with an absolute singular-value threshold, without fine-tuning.

The factorization, rank rules, decomposition and FLOP counting are the shared toolkit's
(:mod:`bench.compress.lowrank`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from bench.compress.lowrank import (
    LayerDecomposition,
    as_matrix,
    decompose,
    energy_rank,
    from_matrix,
    threshold_rank,
)


def trp_convs(model: nn.Module) -> dict[str, nn.Conv2d]:
    """The convs TRP trains to low rank: every conv with a kernel larger than 1×1 except the first (the stem).

    In a CIFAR ResNet these are the residual branches' 3×3 convs, stride-2 ones included; the 1×1 projection
    shortcuts and the fc layer are left alone (``cifar-TRP.py``).
    """
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    return {n: m for i, (n, m) in enumerate(convs) if i > 0 and m.kernel_size != (1, 1)}


@dataclass
class _Truncation:
    weight: torch.Tensor
    subgradient: torch.Tensor | None = None  # U_r·V_rᵀ of the last substitution
    rank: int = 0


class TrainedRankPruning:
    """The two training-time parts of TRP for ``convs``, as hooks of :func:`bench.train.train`.

    ``before_step(step)`` substitutes the low-rank weights when ``step % period == 0`` (call it before the
    forward pass: ``train``'s ``after_step`` of the previous step, and once before training);
    ``add_nuclear_grad_(step)`` adds ``nuclear_weight·U_r·V_rᵀ`` on the same steps (``after_backward``).
    """

    def __init__(self, convs: dict[str, nn.Conv2d], scheme: str = "channel", energy: float = 0.9,
                 nuclear_weight: float = 3e-4, period: int = 1, substitute: bool = True):
        if period < 1:
            raise ValueError("period must be at least 1")
        self.scheme, self.energy, self.nuclear_weight, self.period = scheme, energy, nuclear_weight, period
        self.substitute = substitute
        self.layers = {name: _Truncation(conv.weight) for name, conv in convs.items()}
        self._active = False

    @torch.no_grad()
    def before_step(self, step: int) -> None:
        """On substitution steps, replace each weight by its rank-r reconstruction (energy rule) and keep U_r·V_rᵀ."""
        self._active = step % self.period == 0
        if not self._active:
            return
        for layer in self.layers.values():
            w = layer.weight
            u, s, vh = torch.linalg.svd(as_matrix(w, self.scheme).double(), full_matrices=False)
            r = energy_rank(s, self.energy)
            layer.rank = r
            if self.substitute:
                w.copy_(from_matrix(((u[:, :r] * s[:r]) @ vh[:r]).to(w.dtype), self.scheme, w.shape))
            if self.nuclear_weight:
                layer.subgradient = from_matrix((u[:, :r] @ vh[:r]).to(w.dtype), self.scheme, w.shape)

    @torch.no_grad()
    def add_nuclear_grad_(self, step: int) -> None:
        """Add ``λ·U_r·V_rᵀ`` to each weight's gradient on the steps that substituted."""
        if not (self._active and self.nuclear_weight):
            return
        for layer in self.layers.values():
            layer.weight.grad.add_(layer.subgradient, alpha=self.nuclear_weight)

    def ranks(self) -> dict[str, int]:
        """The rank of each layer at the last substitution."""
        return {name: layer.rank for name, layer in self.layers.items()}


def deploy(model: nn.Module, scheme: str, threshold: float = 0.05,
           rank_rule: Callable[[str, torch.Tensor], int] | None = None) -> tuple[nn.Module, list[LayerDecomposition]]:
    """The deployed network: TRP's layers with stride 1 decomposed in ``scheme``, no fine-tuning.

    Ranks keep the singular values ``σ ≥ threshold`` (absolute, ``decompose.py``) unless ``rank_rule`` is given
    (the post-hoc baseline uses an energy rule). Stride-2 convs stay full rank, as in ``decompose.py``.
    """
    names = {n for n, conv in trp_convs(model).items() if conv.stride == (1, 1)}
    rule = rank_rule or (lambda name, s: threshold_rank(s, threshold * (1 - 1e-12)))  # σ ≥ t, not σ > t
    return decompose(model, scheme, rule, include=lambda name, conv: name in names, only_if_cheaper=False)
