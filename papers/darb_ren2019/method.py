"""DARB's density-adaptive regular blocks, the regular block pruning it is set against, and the index storage of
each format.

Orientation, as the group's ``mask_block_max`` (which transposes ``nn.Linear``'s weight first): a *line* is one
column of ``W.reshape(out, −1)``, i.e. one input's outgoing weights; a line is cut into runs ("blocks") of
consecutive entries and every run keeps exactly its largest magnitude.

- Block-max weight masking (BMWM) uses one block length ``b = round(1/q)`` for every line (``q`` the keep ratio):
  ``bench.compress.structured.BlockMax``.
- :class:`DensityAdaptiveBlocks` (DARB) gives each line ``j`` its own length ``b_j`` from a small regular set
  (powers of two). For fixed lengths the set ``S = {W : every run of line j has at most one nonzero}`` decomposes
  into independent runs, so the Euclidean projection keeps each run's largest magnitude: exact.
- :func:`darb_block_sizes` chooses the lengths once, from the pretrained matrix. **The paper's rule was not
  reachable; this one is an assumption** (SOURCES-WAVE2.md: "denser rows get smaller blocks, block sizes from a
  small regular set, the global ratio met" is all that is known): (1) prune the matrix irregularly at the target
  ratio (magnitude, the ``Irregular`` projection) and count each line's kept weights ``k_j`` (its density
  ``d_j = k_j/n``); (2) give each line the smallest allowed length whose run count ``⌈n/b_j⌉`` does not exceed
  ``k_j`` (the largest allowed length when ``k_j`` is 0 or too small); (3) while the budget ``K`` (the irregular
  kept count) allows, halve the length of the line with the largest ``k_j / ⌈n/b_j⌉`` (the one kept furthest below
  its irregular density), ties by position, until no halving fits. The result keeps at most ``K`` weights.
- :class:`Blocks2D`: regular block pruning, ``W`` tiled by ``bh × bw`` blocks, the blocks of largest Frobenius norm
  kept (``1 − ratio`` of them): the exact projection (blocks are independent, the kept set is a top-k by norm).

Index storage (bits that locate kept weights, values not counted): :func:`darb_storage` (``⌈log₂ b_j⌉`` bits per
kept weight plus a length code per line; no pointers, every run keeps one) and :func:`block2d_storage` (block CSR:
a column-block index per kept block and a pointer per block row). CSR and block-max are
``bench.compress.structured``'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from bench.compress.admm import Irregular, Sparsity, _kept, _rows, _top
from bench.compress.structured import Storage, _bits_for

SIZES = (1, 2, 4, 8, 16, 32, 64)  # allowed block lengths (a regular set: powers of two)


def _runs(n: int, b: int) -> list[tuple[int, int]]:
    return [(s, min(s + b, n)) for s in range(0, n, b)]


@dataclass(frozen=True)
class DensityAdaptiveBlocks(Sparsity):
    """Line ``j`` (column ``j`` of ``W.reshape(out, −1)``) is cut into runs of ``sizes[j]`` consecutive entries; each
    run keeps at most one nonzero, its largest magnitude. ``ratio`` is the nominal prune ratio the lengths were
    chosen for (:func:`darb_block_sizes`); the set itself is fixed by ``sizes``."""

    sizes: tuple[int, ...] = ()

    def _check(self, m: torch.Tensor) -> None:
        if len(self.sizes) != m.shape[1] or any(b < 1 for b in self.sizes):
            raise ValueError(f"need one block length >= 1 per line: {m.shape[1]} lines, {len(self.sizes)} lengths")

    def support(self, v: torch.Tensor) -> torch.Tensor:
        m = _rows(v.detach()).abs()
        self._check(m)
        keep = torch.zeros_like(m, dtype=torch.bool)
        for b in sorted(set(self.sizes)):
            cols = torch.tensor([j for j, s in enumerate(self.sizes) if s == b], device=m.device)
            for s, e in _runs(m.shape[0], b):  # one argmax per run, over all lines of this length at once
                keep[s + torch.argmax(m[s:e, cols], dim=0), cols] = True
        return keep.reshape(v.shape)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        m = _rows(w).abs() > atol
        self._check(m)
        return all(int(m[s:e, j].sum()) <= 1 for j, b in enumerate(self.sizes) for s, e in _runs(m.shape[0], b))

    def kept(self, rows: int) -> int:
        """Weights the format keeps in a matrix of ``rows`` rows (one per run)."""
        return sum(math.ceil(rows / b) for b in self.sizes)


def darb_block_sizes(weight: torch.Tensor, ratio: float, allowed: tuple[int, ...] = SIZES) -> tuple[int, ...]:
    """Per-line block lengths from the line densities of an irregular pruning of ``weight`` at ``ratio`` (the
    module docstring's rule, an assumption). The lengths keep at most as many weights as the irregular pruning."""
    m = _rows(weight.detach())
    n, lines = m.shape
    allowed = tuple(sorted(allowed))
    budget = _kept(m.numel(), ratio)
    k = Irregular(ratio).support(m).sum(0).tolist()  # kept per line, (lines,)
    runs = lambda b: math.ceil(n / b)  # noqa: E731
    size = [next((b for b in allowed if runs(b) <= kj), allowed[-1]) for kj in k]
    total = sum(runs(b) for b in size)
    while total > budget:  # only when many lines hit the largest length: shrink the least dense lines' share
        j = min((j for j in range(lines) if size[j] < allowed[-1]), key=lambda j: (k[j] / runs(size[j]), j),
                default=None)
        if j is None:
            raise ValueError(f"no block lengths in {allowed} keep at most {budget} of a {n}×{lines} matrix")
        nxt = allowed[allowed.index(size[j]) + 1]
        total += runs(nxt) - runs(size[j])
        size[j] = nxt
    while True:
        fits = [j for j in range(lines) if size[j] > allowed[0]
                and total + runs(allowed[allowed.index(size[j]) - 1]) - runs(size[j]) <= budget]
        if not fits:
            return tuple(size)
        j = max(fits, key=lambda j: (k[j] / runs(size[j]), -j))
        nxt = allowed[allowed.index(size[j]) - 1]
        total += runs(nxt) - runs(size[j])
        size[j] = nxt


@dataclass(frozen=True)
class Blocks2D(Sparsity):
    """Regular block pruning: ``W.reshape(out, −1)`` tiled by ``block`` (its sides must divide the matrix's); the
    ``n − round(ratio·n)`` blocks of largest Frobenius norm are kept whole, the others zeroed."""

    block: tuple[int, int] = (4, 4)

    def _norms(self, m: torch.Tensor) -> torch.Tensor:
        bh, bw = self.block
        if m.shape[0] % bh or m.shape[1] % bw:
            raise ValueError(f"a {tuple(m.shape)} matrix does not split into {bh}×{bw} blocks")
        return m.reshape(m.shape[0] // bh, bh, m.shape[1] // bw, bw).pow(2).sum((1, 3))  # (R, C) block energies

    def support(self, v: torch.Tensor) -> torch.Tensor:
        m = _rows(v.detach()).double()
        e = self._norms(m)
        keep = _top(e.flatten(), _kept(e.numel(), self.ratio)).view_as(e)
        bh, bw = self.block
        return keep.repeat_interleave(bh, 0).repeat_interleave(bw, 1).reshape(v.shape)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        nz = (_rows(w).abs() > atol).double()
        e = self._norms(nz)
        return int((e > 0).sum()) <= _kept(e.numel(), self.ratio)


def darb_storage(w: torch.Tensor, proj: DensityAdaptiveBlocks, value_bits: int = 32) -> Storage:
    """DARB's format: per run one value and its ``⌈log₂ b_j⌉``-bit offset; per line a code for its length (an index
    into the allowed set); no pointers."""
    m = _rows(w)
    runs = [math.ceil(m.shape[0] / b) for b in proj.sizes]
    offsets = sum(r * (math.ceil(math.log2(b)) if b > 1 else 0) for r, b in zip(runs, proj.sizes, strict=True))
    return Storage(int((m != 0).sum()), sum(runs) * value_bits, offsets + len(proj.sizes) * _bits_for(len(SIZES)))


def block2d_storage(w: torch.Tensor, proj: Blocks2D, value_bits: int = 32) -> Storage:
    """Block CSR of a :class:`Blocks2D` result: per kept block its values (whole) and a column-block index; one
    pointer per block row plus one."""
    m = _rows(w)
    bh, bw = proj.block
    e = (m != 0).double().reshape(m.shape[0] // bh, bh, m.shape[1] // bw, bw).sum((1, 3))
    nb = int((e > 0).sum())
    index = nb * _bits_for(e.shape[1]) + (e.shape[0] + 1) * _bits_for(nb + 1)
    return Storage(int((m != 0).sum()), nb * bh * bw * value_bits, index)
