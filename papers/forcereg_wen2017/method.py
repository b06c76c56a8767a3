"""Force Regularization: an attractive force between the normalized filters of a layer, added to the gradient.

As in ``ForceRegularize`` of ``wenwei202/caffe`` (``src/caffe/solvers/sgd_solver.cpp``, branch master): a
layer's weight is read as ``N`` filters ``W_i`` of ``K = C·kh·kw`` values, normalized ``w_i = W_i/‖W_i‖``. Filter
``j`` pulls filter ``i`` with

- ``"degradation"`` (the L2 form): ``f_ji = w_j − w_i`` (the force fades as filters meet);
- ``"constant"`` (the L1 form): ``f_ji = (w_j − w_i)/‖w_j − w_i‖`` (unit strength whatever the distance).

Each force is projected on the tangent of the sphere at ``w_i`` and summed over every ``j ≠ i`` (no division by
``N``), then scaled by the filter's norm: ``ΔW_i = ‖W_i‖·Σ_j (f_ji − (f_jiᵀw_i)·w_i)``. The solver adds
``−λ·ΔW_i`` to the gradient after weight decay and before the learning rate and momentum, so a descent step
moves each filter toward the others, changing its direction and, to first order, not its norm. ``λ`` is
``force_decay × force_mult`` of the layer. Pairs with a filter of norm at most ``1e-4`` (Caffe's
``ZERO_THRESHOLD``) are skipped, and for the constant form also pairs closer than ``1e-4``.

Coordinated filters span a lower-dimensional space, so a PCA over them (``bench.compress.lowrank``, the
``"channel"`` scheme with ``balance=1``: basis filters ``U_rᵀ·W`` and a 1×1 combination ``U_r``, as
``python/nn_decomposer.py`` builds) reaches a given reconstruction error at a lower rank.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

FORCE_TYPES = ("degradation", "constant")
ZERO_THRESHOLD = 1e-4  # Caffe's ZERO_THRESHOLD (include/caffe/common.hpp)


@torch.no_grad()
def force_direction(weight: torch.Tensor, kind: str = "constant", zero_threshold: float = ZERO_THRESHOLD
                    ) -> torch.Tensor:
    """``ΔW`` of the module docstring for a weight whose first axis indexes filters; the same shape as ``weight``.

    The solver's update adds ``−λ·ΔW`` to the gradient: ``ΔW`` is the direction the force moves the filters.
    """
    if kind not in FORCE_TYPES:
        raise ValueError(f"force type must be one of {FORCE_TYPES}, not {kind!r}")
    w = weight.detach().reshape(weight.shape[0], -1).double()  # (N, K)
    norms = w.norm(dim=1)  # (N,)
    valid = norms > zero_threshold
    unit = torch.where(valid[:, None], w / norms.clamp_min(zero_threshold)[:, None], torch.zeros_like(w))
    pair = (valid[:, None] & valid[None, :]).double()
    pair.fill_diagonal_(0)
    if kind == "constant":
        # ‖w_j − w_i‖ of unit vectors from their Gram matrix; closer pairs than the threshold are skipped
        gram = unit @ unit.T
        dist = (2 - 2 * gram).clamp_min(0).sqrt()
        pair = pair * (dist > zero_threshold) / dist.clamp_min(zero_threshold)
    # F_i = Σ_j c_ij (w_j − w_i) = (C·w)_i − (Σ_j c_ij)·w_i
    force = pair @ unit - pair.sum(1, keepdim=True) * unit  # (N, K)
    tangent = force - (force * unit).sum(1, keepdim=True) * unit
    return (norms[:, None] * tangent).to(weight.dtype).reshape(weight.shape)


class ForceRegularization:
    """Adds ``−force_decay·mult·ΔW`` to the gradient of each weight (``after_backward`` hook of ``bench.train``)."""

    def __init__(self, weights: Iterable[torch.Tensor], force_decay: float, kind: str = "constant",
                 mults: Iterable[float] | None = None):
        self.weights = list(weights)
        self.mults = list(mults) if mults is not None else [1.0] * len(self.weights)
        if len(self.mults) != len(self.weights):
            raise ValueError("give one force_mult per weight")
        if kind not in FORCE_TYPES:
            raise ValueError(f"force type must be one of {FORCE_TYPES}, not {kind!r}")
        self.force_decay, self.kind = force_decay, kind

    @torch.no_grad()
    def add_grad_(self, step: int = 0) -> None:
        if not self.force_decay:
            return
        for w, mult in zip(self.weights, self.mults, strict=True):
            if mult:
                w.grad.add_(force_direction(w, self.kind), alpha=-self.force_decay * mult)
