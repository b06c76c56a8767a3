"""The ADMM compression engine: ADMM-regularized training onto a constraint set, hard projection, masked retraining.

One engine for the ADMM papers of Yanzhi Wang's group (Progressive ADMM, ADMM-NN-S, P-RM, progressive ADMM
quantization, and the pattern, block, polarization and crossbar papers that add projections to it). The
problem is ``min f(W) s.t. W ∈ S`` for a constraint set ``S`` per layer (a sparsity pattern, a quantization
grid); ADMM splits it with a copy ``Z ∈ S`` and a scaled dual ``U``:

- training adds to the loss, per layer, the augmented term ``0.5·ρ·‖W − Z + U‖²`` (the squared Frobenius norm,
  as in the paper and the authors' code; its gradient ``ρ·(W − Z + U)`` is added to ``W.grad`` directly by
  :meth:`ADMM.add_grad_`, which is the same thing without building the graph);
- ``Z ← Π_S(W)`` and ``U ← 0`` at the start; after every ADMM epoch (a fixed number of training steps),
  ``Z ← Π_S(W + U)``, ``U ← U + W − Z``, then ``ρ ← min(ρ·ρ_mult, ρ_max)`` (:meth:`ADMM.update`). As in the
  authors' code, ``U`` is not rescaled when ``ρ`` grows;
- at the end, hard projection ``W ← Π_S(W)`` (:meth:`ADMM.project_`); for pruning, the support becomes a
  :class:`Masks` and retraining multiplies gradients and weights by it, so no pruned weight comes back;
- the *progressive* schedule runs this again with a higher target, the weights already zero frozen by the
  previous stage's masks (:func:`admm_train` with ``frozen``).

Projections are the Euclidean projections ``Π_S(V) = argmin_{X ∈ S} ‖X − V‖`` onto:

- :class:`Irregular`: at most ``k`` nonzero weights (keep the ``k`` largest magnitudes);
- :class:`Filter` / :class:`Column`: at most ``k`` nonzero rows / columns of ``W.reshape(out, −1)`` (keep the
  rows / columns of largest L2 norm: a filter of a conv, or all of its weights on one input position);
- :class:`FilterColumn`: both at once. Keeping rows ``R`` and columns ``C`` leaves ``W[R, C]``, so the
  projection maximizes ``‖W[R, C]‖²``; it is exact (enumeration of the smaller side's subsets) when that side
  has at most ``FilterColumn.exact_limit`` subsets, and otherwise a local maximum by alternating the two
  choices from the better of filter-then-column and column-then-filter (the general problem is a
  cardinality-constrained biclique problem; the authors' code prunes one structure after the other);
- :class:`Binary` ``{α·s : s ∈ {±1}ⁿ}``, :class:`Ternary` ``{α·t : t ∈ {−1, 0, 1}ⁿ}`` and :class:`KBit`
  ``{α·q : q ∈ {−L, …, L}ⁿ}``, ``L = 2^(bits−1) − 1``, each with its own scale ``α ≥ 0`` per layer. Binary and
  ternary are exact in closed form (ternary: the support is the ``k`` largest magnitudes for the best ``k``,
  ``α`` their mean; the authors' code alternates the threshold ``±α/2`` and ``α`` a fixed number of times,
  which converges to a fixed point of the same condition, not always the best one). ``KBit`` is exact by a
  sweep over the breakpoints of ``α`` when ``n·L`` is at most ``KBit.exact_limit``, and otherwise takes ``α``
  from the exact sweep on a random subsample and refines it by alternating ``α`` and the rounding.

Every projection maps a weight tensor to a tensor of the same shape; pruning projections also give their
:meth:`~Sparsity.support`. New constraint sets (patterns, blocks, polarization) subclass :class:`Projection`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from bench.train import Batch, train

# ---------------------------------------------------------------------------------------------------------
# projections


class Projection:
    """A Euclidean projection onto a constraint set, applied to one layer's weight tensor."""

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def _rows(v: torch.Tensor) -> torch.Tensor:
    """The weight as a matrix with one row per output unit (filter or neuron): ``(out, in·k·k)``."""
    return v.reshape(v.shape[0], -1)


def _kept(n: int, ratio: float) -> int:
    """How many of ``n`` items a prune ratio keeps (the pruned count rounded to the nearest integer)."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"prune ratio must be in [0, 1), got {ratio}")
    return n - int(round(ratio * n))


def _top(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of the ``k`` largest entries of a 1-D tensor (ties broken by position)."""
    mask = torch.zeros_like(scores, dtype=torch.bool)
    if k > 0:
        mask[torch.topk(scores, k, sorted=False).indices] = True
    return mask


@dataclass(frozen=True)
class Sparsity(Projection):
    """A pruning projection: keep a structured or unstructured subset, zero the rest.

    ``ratio`` is the fraction of the items (weights, rows or columns) pruned.
    """

    ratio: float

    def support(self, v: torch.Tensor) -> torch.Tensor:
        """Boolean mask, shaped like ``v``, of the weights the projection keeps."""
        raise NotImplementedError

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        return v * self.support(v)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        """Whether ``w`` has at most the allowed nonzero items (entries of magnitude above ``atol``)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Irregular(Sparsity):
    """At most ``n − round(ratio·n)`` nonzero weights: keep the largest magnitudes (the |w| percentile)."""

    def support(self, v: torch.Tensor) -> torch.Tensor:
        flat = v.detach().abs().flatten()
        return _top(flat, _kept(flat.numel(), self.ratio)).view_as(v)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        return int((w.abs() > atol).sum()) <= _kept(w.numel(), self.ratio)


@dataclass(frozen=True)
class Filter(Sparsity):
    """At most ``k`` nonzero rows of ``W.reshape(out, −1)`` (whole filters or output neurons)."""

    def support(self, v: torch.Tensor) -> torch.Tensor:
        m = _rows(v.detach())
        keep = _top(m.norm(dim=1), _kept(m.shape[0], self.ratio))
        return keep[:, None].expand_as(m).reshape(v.shape)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        return int((_rows(w).abs() > atol).any(1).sum()) <= _kept(w.shape[0], self.ratio)


@dataclass(frozen=True)
class Column(Sparsity):
    """At most ``k`` nonzero columns of ``W.reshape(out, −1)`` (one input channel at one kernel position)."""

    def support(self, v: torch.Tensor) -> torch.Tensor:
        m = _rows(v.detach())
        keep = _top(m.norm(dim=0), _kept(m.shape[1], self.ratio))
        return keep[None, :].expand_as(m).reshape(v.shape)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        return int((_rows(w).abs() > atol).any(0).sum()) <= _kept(_rows(w).shape[1], self.ratio)


@dataclass(frozen=True)
class FilterColumn(Sparsity):
    """At most ``k_r`` nonzero rows and ``k_c`` nonzero columns of ``W.reshape(out, −1)``.

    ``ratio`` prunes filters (rows), ``column_ratio`` columns. See the module docstring for exactness.
    """

    column_ratio: float = 0.0
    exact_limit: int = 20000  # enumerate the smaller side's subsets when there are at most this many

    def _choice(self, sq: torch.Tensor, kr: int, kc: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Row and column masks maximizing the kept energy ``Σ_{R×C} sq``."""
        rows, cols = sq.shape
        if math.comb(rows, kr) <= self.exact_limit or math.comb(cols, kc) <= self.exact_limit:
            transpose = math.comb(rows, kr) > math.comb(cols, kc)
            a, ka, kb = (sq.T, kc, kr) if transpose else (sq, kr, kc)
            best, best_val = None, -1.0
            for subset in itertools.combinations(range(a.shape[0]), ka):
                col_energy = a[list(subset)].sum(0)
                val = float(torch.topk(col_energy, kb).values.sum()) if kb else 0.0
                if val > best_val:
                    best_val, best = val, (subset, _top(col_energy, kb))
            ra = torch.zeros(a.shape[0], dtype=torch.bool)
            ra[list(best[0])] = True
            return (best[1], ra) if transpose else (ra, best[1])
        candidates = []
        for first in ("rows", "cols"):  # a start from each sequential order, then alternate to a fixed point
            if first == "rows":
                r = _top(sq.sum(1), kr)
                c = _top(sq[r].sum(0), kc)
            else:
                c = _top(sq.sum(0), kc)
                r = _top(sq[:, c].sum(1), kr)
            for _ in range(100):
                r_new = _top(sq[:, c].sum(1), kr)
                c_new = _top(sq[r_new].sum(0), kc)
                if torch.equal(r_new, r) and torch.equal(c_new, c):
                    break
                r, c = r_new, c_new
            candidates.append((float(sq[r][:, c].sum()), r, c))
        _, r, c = max(candidates, key=lambda t: t[0])
        return r, c

    def support(self, v: torch.Tensor) -> torch.Tensor:
        m = _rows(v.detach())
        kr, kc = _kept(m.shape[0], self.ratio), _kept(m.shape[1], self.column_ratio)
        r, c = self._choice(m.double() ** 2, kr, kc)
        return (r[:, None] & c[None, :]).reshape(v.shape)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        nz = _rows(w).abs() > atol
        return (int(nz.any(1).sum()) <= _kept(nz.shape[0], self.ratio)
                and int(nz.any(0).sum()) <= _kept(nz.shape[1], self.column_ratio))


@dataclass(frozen=True)
class Quantizer(Projection):
    """A quantization projection ``α·q`` with ``q`` on an integer grid and one scale ``α ≥ 0`` per layer."""

    def levels(self, v: torch.Tensor) -> tuple[float, torch.Tensor]:
        """The scale ``α`` and the integer grid values ``q`` (shaped like ``v``) of the projection."""
        raise NotImplementedError

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        alpha, q = self.levels(v.detach())
        return (alpha * q).to(v.dtype)

    @property
    def max_level(self) -> int:
        raise NotImplementedError

@dataclass(frozen=True)
class Binary(Quantizer):
    """``{α·s : s ∈ {−1, +1}ⁿ}``: ``s = sign(v)`` (0 → +1), ``α = mean|v| = ⟨v, s⟩/⟨s, s⟩`` (exact)."""

    def levels(self, v: torch.Tensor) -> tuple[float, torch.Tensor]:
        s = torch.where(v >= 0, 1.0, -1.0).to(v.dtype)
        return float(v.abs().double().mean()), s

    @property
    def max_level(self) -> int:
        return 1


@dataclass(frozen=True)
class Ternary(Quantizer):
    """``{α·t : t ∈ {−1, 0, +1}ⁿ}``: the support is the ``k`` largest magnitudes for the ``k`` maximizing
    ``(Σ_top-k |v|)²/k``, and ``α`` their mean (exact)."""

    def levels(self, v: torch.Tensor) -> tuple[float, torch.Tensor]:
        a = v.abs().flatten().double()
        if float(a.max()) == 0.0:
            return 0.0, torch.zeros_like(v)
        srt, order = torch.sort(a, descending=True)
        c = torch.cumsum(srt, 0)
        k = int(torch.argmax(c ** 2 / torch.arange(1, len(c) + 1, dtype=c.dtype))) + 1
        keep = torch.zeros_like(a, dtype=torch.bool)
        keep[order[:k]] = True
        t = (torch.sign(v.flatten()) * keep).view_as(v)
        return float(c[k - 1] / k), t

    @property
    def max_level(self) -> int:
        return 1


@dataclass(frozen=True)
class KBit(Quantizer):
    """``{α·q : q ∈ {−L, …, L}ⁿ}``, ``L = 2^(bits−1) − 1`` (symmetric, zero included): ``q = clip(round(v/α))``
    for the best ``α`` (exact sweep up to ``exact_limit`` breakpoints; see the module docstring)."""

    bits: int = 4
    exact_limit: int = 4_000_000
    refine_steps: int = 20

    def __post_init__(self):
        if self.bits < 2:
            raise ValueError("KBit needs bits >= 2 (use Binary for 1 bit)")

    @property
    def max_level(self) -> int:
        return 2 ** (self.bits - 1) - 1

    def _grid(self, a: torch.Tensor, alpha: float) -> torch.Tensor:
        return torch.clamp(torch.round(a / alpha), max=self.max_level)

    def _exact_alpha(self, a: torch.Tensor) -> float:
        """The α minimizing ``Σ (a − α·clip(round(a/α)))²`` over α > 0, for magnitudes ``a`` (float64)."""
        L = self.max_level
        j = torch.arange(1, L + 1, dtype=a.dtype)
        bp = (a[:, None] / (j - 0.5)).flatten()  # α below a/(j − 0.5): the magnitude rounds to ≥ j
        s1_inc = a[:, None].expand(-1, L).flatten()  # ⟨a, q⟩ grows by a at each step
        s2_inc = (2 * j - 1).expand(len(a), -1).flatten()  # ⟨q, q⟩ grows by j² − (j−1)² = 2j − 1
        bp, order = torch.sort(bp, descending=True)
        s1, s2 = torch.cumsum(s1_inc[order], 0), torch.cumsum(s2_inc[order], 0)
        lo = torch.cat([bp[1:], bp.new_zeros(1)])  # q is constant for α in (lo, bp]
        alpha = torch.minimum(torch.maximum(s1 / s2, lo), bp)
        err = alpha * alpha * s2 - 2 * alpha * s1  # ‖a − αq‖² − ‖a‖²
        return float(alpha[int(torch.argmin(err))])

    def levels(self, v: torch.Tensor) -> tuple[float, torch.Tensor]:
        a = v.abs().flatten().double()
        a = a[a > 0]
        if a.numel() == 0:
            return 0.0, torch.zeros_like(v)
        if a.numel() * self.max_level <= self.exact_limit:
            alpha = self._exact_alpha(a)
        else:
            gen = torch.Generator().manual_seed(0)
            sample = a[torch.randperm(a.numel(), generator=gen)[: self.exact_limit // self.max_level]]
            alpha = self._exact_alpha(sample)
            for _ in range(self.refine_steps):  # alternate the rounding and the least-squares scale
                q = self._grid(a, alpha)
                new = float((a * q).sum() / (q * q).sum())
                if abs(new - alpha) <= 1e-12 * alpha:
                    break
                alpha = new
        q = torch.sign(v) * self._grid(v.abs().double(), alpha).to(v.dtype)
        return alpha, q


# ---------------------------------------------------------------------------------------------------------
# the engine


@dataclass
class ADMM:
    """ADMM state for a set of layers: ``Z`` and ``U`` per layer, the penalty ``ρ``.

    Args:
        targets: name → (weight parameter, projection onto that layer's constraint set).
        rho: initial ``ρ``; ``rho_mult`` and ``rho_max`` its schedule at every :meth:`update`.
    """

    targets: Mapping[str, tuple[nn.Parameter, Projection]]
    rho: float = 1e-3
    rho_mult: float = 1.3
    rho_max: float = math.inf
    Z: dict[str, torch.Tensor] = field(init=False)
    U: dict[str, torch.Tensor] = field(init=False)
    updates: int = field(init=False, default=0)

    def __post_init__(self):
        if self.rho <= 0 or self.rho_mult < 1:
            raise ValueError("rho must be > 0 and rho_mult >= 1")
        with torch.no_grad():
            self.Z = {n: proj(w.detach()).clone() for n, (w, proj) in self.targets.items()}
            self.U = {n: torch.zeros_like(w) for n, (w, _) in self.targets.items()}

    def penalty(self) -> torch.Tensor:
        """``Σ_layers 0.5·ρ·‖W − Z + U‖²`` (differentiable in ``W``)."""
        return sum(0.5 * self.rho * (w - self.Z[n] + self.U[n]).pow(2).sum() for n, (w, _) in self.targets.items())

    @torch.no_grad()
    def add_grad_(self, step: int | None = None) -> None:
        """Add the penalty's gradient ``ρ·(W − Z + U)`` to every target's ``.grad`` (a ``train`` hook)."""
        for n, (w, _) in self.targets.items():
            g = self.rho * (w - self.Z[n] + self.U[n])
            if w.grad is None:
                w.grad = g
            else:
                w.grad.add_(g)

    @torch.no_grad()
    def update(self) -> None:
        """One ADMM epoch's end: ``Z ← Π(W + U)``, ``U ← U + W − Z``, ``ρ ← min(ρ·ρ_mult, ρ_max)``."""
        for n, (w, proj) in self.targets.items():
            self.Z[n] = proj(w + self.U[n])
            self.U[n] = self.U[n] + w - self.Z[n]
        self.rho = min(self.rho * self.rho_mult, self.rho_max)
        self.updates += 1

    @torch.no_grad()
    def residuals(self) -> dict[str, float]:
        """Relative primal residual ``‖W − Z‖ / ‖W‖`` per layer (how far training is from the constraint)."""
        return {n: float((w - self.Z[n]).norm() / w.norm().clamp_min(1e-12)) for n, (w, _) in self.targets.items()}

    @torch.no_grad()
    def project_(self) -> Masks:
        """Hard projection ``W ← Π(W)`` of every target; return the supports of the pruning projections
        (every weight of a quantized layer is kept, so its mask is all ones)."""
        masks = {}
        for n, (w, proj) in self.targets.items():
            keep = proj.support(w) if isinstance(proj, Sparsity) else torch.ones_like(w, dtype=torch.bool)
            w.copy_(proj(w))
            masks[n] = (w, keep)
        return Masks(masks)


class Masks:
    """Fixed supports: pruned weights stay zero through retraining (and through later ADMM stages).

    :meth:`apply_grad_` (an ``after_backward`` hook) zeroes their gradients, as the authors' ``grad *= mask``;
    :meth:`apply_` (an ``after_step`` hook) zeroes the weights again after the step, because momentum, Adam's
    moments and weight decay may move a weight whose gradient is zero.
    """

    def __init__(self, masks: Mapping[str, tuple[nn.Parameter, torch.Tensor]]):
        self.masks = {n: (w, m.to(device=w.device, dtype=torch.bool)) for n, (w, m) in masks.items()}
        self.apply_()

    @torch.no_grad()
    def apply_grad_(self, step: int | None = None) -> None:
        for w, m in self.masks.values():
            if w.grad is not None:
                w.grad.mul_(m)

    @torch.no_grad()
    def apply_(self, step: int | None = None) -> None:
        for w, m in self.masks.values():
            w.mul_(m)

    def merged(self, other: Masks) -> Masks:
        """The intersection with ``other``'s supports (layers in either)."""
        out = dict(self.masks)
        for n, (w, m) in other.masks.items():
            out[n] = (w, out[n][1] & m if n in out else m)
        return Masks(out)

    def kept(self) -> dict[str, int]:
        return {n: int(m.sum()) for n, (_, m) in self.masks.items()}


def _chain(*hooks: Callable[[int], None] | None) -> Callable[[int], None] | None:
    hooks = [h for h in hooks if h is not None]
    if not hooks:
        return None

    def run(step: int) -> None:
        for h in hooks:
            h(step)

    return run


def admm_train(model: nn.Module, admm: ADMM, batches: Iterator[Batch], *, updates: int, steps_per_update: int,
               optimizer: torch.optim.Optimizer, scheduler=None, frozen: Masks | None = None,
               desc: str = "admm") -> list[float]:
    """ADMM-regularized training: ``updates`` ADMM epochs of ``steps_per_update`` steps each, the dual update
    after each; ``frozen`` keeps already-pruned weights at zero (the progressive schedule's later stages).
    Returns the training losses (without the ADMM term) logged by :func:`bench.train.train`."""
    if updates < 1 or steps_per_update < 1:
        raise ValueError("updates and steps_per_update must be >= 1")

    def after_step(step: int) -> None:
        if frozen is not None:
            frozen.apply_(step)
        if (step + 1) % steps_per_update == 0:
            admm.update()

    return train(model, batches, steps=updates * steps_per_update, optimizer=optimizer, scheduler=scheduler,
                 after_backward=_chain(admm.add_grad_, frozen.apply_grad_ if frozen else None),
                 after_step=after_step, desc=desc)


def masked_retrain(model: nn.Module, masks: Masks, batches: Iterator[Batch], *, steps: int,
                   optimizer: torch.optim.Optimizer, scheduler=None, desc: str = "retrain",
                   after_step: Callable[[int], None] | None = None) -> list[float]:
    """Retraining with the supports fixed: gradients masked before the step, weights re-masked after it."""
    return train(model, batches, steps=steps, optimizer=optimizer, scheduler=scheduler,
                 after_backward=masks.apply_grad_, after_step=_chain(masks.apply_, after_step), desc=desc)


# ---------------------------------------------------------------------------------------------------------
# counting


def prune_rate(model_weights: Mapping[str, torch.Tensor]) -> float:
    """Total weights over nonzero weights of the given tensors (the papers' "N× pruning rate")."""
    total = sum(w.numel() for w in model_weights.values())
    nonzero = sum(int((w != 0).sum()) for w in model_weights.values())
    return total / max(nonzero, 1)
