"""Polarization: every fragment of an array column holds weights of one sign (FORMS), as a constraint set of the
ADMM engine (:mod:`bench.compress.admm`).

A layer's matrix ``W.reshape(out, −1)`` is written with its inputs on the array's rows (the order of
``unfold``'s lowering: channel, then kernel row, then kernel column) and each output on a column. A **fragment**
is ``fragment`` consecutive inputs of one output: the cells one column's sub-array reads in one operation. In the
polarized set every fragment is all non-negative or all non-positive, so one sign bit per fragment replaces the
differential pair or the offset column.

The Euclidean projection is exact and per fragment: for a fragment ``v`` with ``v⁺ = max(v, 0)`` and
``v⁻ = min(v, 0)``, the nearest one-signed vector keeps ``v⁺`` when ``‖v⁺‖² ≥ ‖v⁻‖²`` and ``v⁻`` otherwise (zeroing
the smaller side costs its squared norm, and no other choice is closer). The rule is derived here, not read in the
paper (``../shared/SOURCES-WAVE2.md``: [inferred]); a last fragment shorter than ``fragment`` is treated alike.

The projection zeroes the minority signs (:meth:`Polarize.support` says which weights it keeps), but the set is not
a sparsity pattern: a zero may grow again in its fragment's sign. So it is a plain :class:`Projection` (the
engine's hard projection gives it an all-ones mask), and during retraining :func:`sign_lock` keeps every fragment
on its sign (a weight crossing zero against it is held at zero).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from bench.compress.admm import Projection


def _fragments(v: torch.Tensor, fragment: int) -> tuple[torch.Tensor, int]:
    """``(out, fragments, fragment)`` view of ``v`` as a matrix, zero-padded at the end; and the padding."""
    m = v.reshape(v.shape[0], -1)
    pad = (-m.shape[1]) % fragment
    if pad:
        m = torch.cat([m, m.new_zeros(m.shape[0], pad)], 1)
    return m.reshape(m.shape[0], -1, fragment), pad


@dataclass(frozen=True)
class Polarize(Projection):
    """One sign per fragment of ``fragment`` consecutive inputs of an output (module docstring)."""

    fragment: int = 8

    def __post_init__(self):
        if self.fragment < 1:
            raise ValueError("fragment must be >= 1")

    def signs(self, v: torch.Tensor) -> torch.Tensor:
        """``(out, fragments)``: +1 where a fragment keeps its positive part, −1 where it keeps its negative."""
        f, _ = _fragments(v.detach().double(), self.fragment)
        pos = f.clamp(min=0).pow(2).sum(2)
        neg = f.clamp(max=0).pow(2).sum(2)
        return torch.where(pos >= neg, 1.0, -1.0)

    def _keep(self, v: torch.Tensor, signs: torch.Tensor) -> torch.Tensor:
        f, pad = _fragments(v, self.fragment)
        keep = (f * signs[:, :, None].to(f.dtype)) > 0
        keep = keep.reshape(v.shape[0], -1)
        return (keep[:, :keep.shape[1] - pad] if pad else keep).reshape(v.shape)

    def support(self, v: torch.Tensor) -> torch.Tensor:
        return self._keep(v.detach(), self.signs(v))

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        return v * self.support(v).to(v.dtype)

    def contains(self, v: torch.Tensor, atol: float = 0.0) -> bool:
        """Whether every fragment of ``v`` is one-signed (entries within ``atol`` of zero ignored)."""
        f, _ = _fragments(v.detach(), self.fragment)
        return bool(~((f > atol).any(2) & (f < -atol).any(2)).any())


def polarized_fraction(v: torch.Tensor, fragment: int) -> float:
    """The share of ``fragment``-fragments of ``v`` (as a matrix) that hold weights of one sign only."""
    f, _ = _fragments(v.detach(), fragment)
    return float((~((f > 0).any(2) & (f < 0).any(2))).double().mean())


def sign_lock(weights: Mapping[str, tuple[torch.nn.Parameter, Polarize]]) -> Callable[[int], None]:
    """An ``after_step`` hook that holds every fragment on the sign it has now: a weight that crosses zero
    against its fragment's sign is set to zero (the polarized set with fixed signs is a box; this is its
    projection)."""
    signs = {n: (w, p, p.signs(w)) for n, (w, p) in weights.items()}

    @torch.no_grad()
    def run(step: int | None = None) -> None:
        for w, p, s in signs.values():
            f, pad = _fragments(w, p.fragment)
            ok = (f * s[:, :, None].to(f.dtype)) >= 0
            ok = ok.reshape(w.shape[0], -1)
            w.mul_((ok[:, :ok.shape[1] - pad] if pad else ok).reshape(w.shape).to(w.dtype))

    return run
