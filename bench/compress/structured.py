"""Fine-grained structured constraint sets for the ADMM engine (``bench/compress/admm.py``): kernel patterns,
kernel connectivity, block row and column pruning, balanced blocks, block maxima and weight unification.

These are the projections of the Sheng Lin / Yanzhi Wang group's later ADMM papers (PCONV, PatDNN, RTMobile,
DARB, weight unification, the memristor crossbar papers). They are :class:`~bench.compress.admm.Projection`
subclasses, so they plug into the one engine (:class:`~bench.compress.admm.ADMM`) unchanged; the pruning ones are
:class:`~bench.compress.admm.Sparsity` subclasses, so ``ADMM.project_`` turns their support into masks for
retraining. ``../shared/SOURCES-WAVE2.md`` (family F1) gives what the group's code does; where this module departs
from it, the class says so.

Each is the exact Euclidean projection ``Π_S(V) = argmin_{X ∈ S} ‖X − V‖`` onto its set (tested against brute
force in ``tests/test_compress_structured.py``), because the sets decompose into independent pieces (kernels,
blocks) on each of which the best member has a closed form:

- :class:`Pattern`: every 3×3 kernel equals ``k ⊙ p`` for one pattern ``p`` of a library (PCONV, PatDNN). The
  error of pattern ``p`` is ``‖k‖² − ‖k ⊙ p‖²``, so the projection keeps the pattern of largest retained energy.
  :func:`pattern_library` builds the library as the group's code does: each kernel's candidate is the centre plus
  its ``keep − 1`` largest other entries, and the ``size`` most frequent candidates of the pretrained network form
  the library.
- :class:`Connectivity`: at most ``k`` nonzero kernels (``W[o, i]``, one input channel of one filter) per layer,
  keeping the kernels of largest L2 norm (PatDNN's connectivity pruning).
- :class:`BlockRows`: ``W.reshape(out, −1)`` is cut into ``blocks`` column blocks of (nearly) equal width and each
  block keeps at most ``k`` of its rows, those of largest norm inside the block (RTMobile's block-based structured
  pruning, the group's ``block_prune_filter`` with ``cross_x`` blocks, which zeroes the rows at or below a norm
  percentile: the same set, ties aside). :class:`BlockColumns` is the transposed rule (``block_prune_column``).
  :class:`BalancedBlocks` cuts both ways (``row_blocks × col_blocks`` fragments, one per crossbar) and every
  fragment keeps the same number of its rows (``balanced_block_prune_filter``).
- :class:`BlockMax`: every run of ``b`` consecutive weights along the output axis of one input's outgoing weights
  keeps only its largest magnitude (DARB's block-max weight masking, ``mask_block_max``; ``b = round(1/q)`` for a
  keep ratio ``q``, the last run shorter). DARB's density-adaptive block sizes are not here: their rule is not
  known (SOURCES-WAVE2.md).
- :class:`Unify`: ``W.reshape(out, −1)`` is cut into ``block``-shaped micro-blocks and at least a fraction
  ``ratio`` of them are *unified*: all their weights share one magnitude, signs kept. The best unified version
  of a block ``v`` is ``mean|v|·sign(v)`` with error ``Σ(|vᵢ| − mean|v|)²``, so the projection unifies the blocks
  of smallest error. Pruning a block (value 0) is the special case the paper names; mixing the two modes under
  separate counts is not built.

Storage that counts the index (:func:`csr_storage`, :func:`pattern_storage`, :func:`block_rows_storage`,
:func:`block_max_storage`): bits on kept values and on the index that locates them, so that formats are compared
per kept weight at equal nonzeros, not by nonzeros alone.

More than one constraint set on one layer (PatDNN's pattern set with its ``Z, U`` and connectivity set with its
``Y, V``) needs nothing new: give ``ADMM`` one target per set, under two names, for the same parameter. Each gets
its own copy and dual, the penalties add, and ``project_`` applies the projections in order and masks with
every support.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import torch

from bench.compress.admm import Projection, Sparsity, _kept, _rows, _top

# ---------------------------------------------------------------------------------------------------------
# kernel patterns and connectivity (PCONV, PatDNN)

CENTRE = 4  # the centre of a flattened 3×3 kernel


def _kernels(v: torch.Tensor) -> torch.Tensor:
    """A conv weight ``(out, in, kh, kw)`` as one row per kernel: ``(out·in, kh·kw)``."""
    if v.dim() != 4:
        raise ValueError(f"kernel projections need a conv weight (out, in, kh, kw), got shape {tuple(v.shape)}")
    return v.reshape(v.shape[0] * v.shape[1], -1)


def candidate_patterns(weight: torch.Tensor, keep: int = 4) -> list[tuple[int, ...]]:
    """Each 3×3 kernel's candidate pattern: the centre and its ``keep − 1`` largest other entries (sorted flat
    indices)."""
    k = _kernels(weight.detach()).abs()
    if k.shape[1] != 9:
        raise ValueError("patterns are defined on 3×3 kernels")
    others = k.clone()
    others[:, CENTRE] = -math.inf
    top = torch.topk(others, keep - 1, dim=1).indices
    return [tuple(sorted([CENTRE, *row])) for row in top.tolist()]


def pattern_library(weights: Iterable[torch.Tensor], size: int = 8, keep: int = 4) -> tuple[tuple[int, ...], ...]:
    """The ``size`` most frequent candidate patterns over all 3×3 kernels of ``weights`` (the pretrained
    network's 3×3 convs); ties in frequency are broken by the pattern's indices, so the library is deterministic."""
    counts: Counter[tuple[int, ...]] = Counter()
    for w in weights:
        counts.update(candidate_patterns(w, keep))
    if not counts:
        raise ValueError("no 3×3 kernel to build a pattern library from")
    return tuple(p for p, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:size])


@dataclass(frozen=True)
class Pattern(Sparsity):
    """Every kernel is ``k ⊙ p`` for a pattern ``p`` of ``library`` (tuples of kept flat indices of a 3×3 kernel).
    ``ratio`` is not a parameter here: it is set to the library's pruned share (5/9 for 4-entry patterns)."""

    ratio: float = 0.0
    library: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self):
        if not self.library:
            raise ValueError("Pattern needs a non-empty library")
        sizes = {len(p) for p in self.library}
        if len(sizes) != 1 or any(not 0 <= i < 9 for p in self.library for i in p):
            raise ValueError("library patterns must be equally sized sets of flat indices of a 3×3 kernel")
        object.__setattr__(self, "ratio", 1 - sizes.pop() / 9)

    def _masks(self, device) -> torch.Tensor:
        m = torch.zeros(len(self.library), 9, dtype=torch.bool, device=device)
        for j, p in enumerate(self.library):
            m[j, list(p)] = True
        return m

    def assignment(self, v: torch.Tensor) -> torch.Tensor:
        """The library index each kernel takes (the pattern of largest retained energy; the first on ties)."""
        k = _kernels(v.detach()).double()
        return torch.argmax(k.pow(2) @ self._masks(v.device).double().T, dim=1)

    def support(self, v: torch.Tensor) -> torch.Tensor:
        if v.shape[-2:] != (3, 3):
            raise ValueError("patterns are defined on 3×3 kernels")
        return self._masks(v.device)[self.assignment(v)].reshape(v.shape)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        nz = _kernels(w).abs() > atol
        masks = self._masks(w.device)
        return bool(((nz[:, None, :] & ~masks[None]).any(2).logical_not().any(1)).all())


@dataclass(frozen=True)
class Connectivity(Sparsity):
    """At most ``n − round(ratio·n)`` nonzero kernels of the ``n = out·in`` kernels of a conv weight: keep those
    of largest L2 norm, zero the others whole. PatDNN's connectivity rate ``ρ_c`` (kernels kept 1 in ``ρ_c``) is
    ``ratio = 1 − 1/ρ_c``."""

    def support(self, v: torch.Tensor) -> torch.Tensor:
        k = _kernels(v.detach())
        keep = _top(k.norm(dim=1), _kept(k.shape[0], self.ratio))
        return keep[:, None].expand_as(k).reshape(v.shape)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        return int((_kernels(w).abs() > atol).any(1).sum()) <= _kept(w.shape[0] * w.shape[1], self.ratio)


# ---------------------------------------------------------------------------------------------------------
# blocks (RTMobile, the memristor crossbar papers)


def _cuts(n: int, blocks: int) -> list[tuple[int, int]]:
    """``blocks`` contiguous ranges covering ``range(n)``, widths differing by at most one (wider first)."""
    if not 1 <= blocks <= n:
        raise ValueError(f"cannot cut {n} into {blocks} blocks")
    edges = [round(i * n / blocks) for i in range(blocks + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


@dataclass(frozen=True)
class BalancedBlocks(Sparsity):
    """``W.reshape(out, −1)`` cut into ``row_blocks × col_blocks`` fragments; inside each fragment at most
    ``k`` of its rows are nonzero (``k`` from ``ratio`` and the fragment's row count), those of largest norm
    within the fragment."""

    row_blocks: int = 1
    col_blocks: int = 4

    def _fragments(self, m: torch.Tensor):
        for r0, r1 in _cuts(m.shape[0], self.row_blocks):
            for c0, c1 in _cuts(m.shape[1], self.col_blocks):
                yield r0, r1, c0, c1

    def support(self, v: torch.Tensor) -> torch.Tensor:
        m = _rows(v.detach())
        keep = torch.zeros_like(m, dtype=torch.bool)
        for r0, r1, c0, c1 in self._fragments(m):
            rows = _top(m[r0:r1, c0:c1].norm(dim=1), _kept(r1 - r0, self.ratio))
            keep[r0:r1, c0:c1] = rows[:, None]
        return keep.reshape(v.shape)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        m = _rows(w).abs() > atol
        return all(int(m[r0:r1, c0:c1].any(1).sum()) <= _kept(r1 - r0, self.ratio)
                   for r0, r1, c0, c1 in self._fragments(m))


def BlockRows(ratio: float, blocks: int = 4) -> BalancedBlocks:  # noqa: N802 (a constructor)
    """RTMobile's block row pruning: ``blocks`` column blocks, each keeping its rows of largest norm (the
    group's default ``cross_x = 4``)."""
    return BalancedBlocks(ratio, row_blocks=1, col_blocks=blocks)


@dataclass(frozen=True)
class BlockColumns(Sparsity):
    """The transposed rule: ``W.reshape(out, −1)`` cut into ``blocks`` row blocks, each keeping at most ``k`` of
    its columns, those of largest norm within the block."""

    blocks: int = 4

    def support(self, v: torch.Tensor) -> torch.Tensor:
        m = _rows(v.detach())
        t = BalancedBlocks(self.ratio, row_blocks=1, col_blocks=self.blocks).support(m.T)
        return t.T.reshape(v.shape)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        return BalancedBlocks(self.ratio, row_blocks=1, col_blocks=self.blocks).contains(_rows(w).T, atol)


# ---------------------------------------------------------------------------------------------------------
# block maxima (DARB)


@dataclass(frozen=True)
class BlockMax(Sparsity):
    """DARB's block-max weight masking: along each column of ``W.reshape(out, −1)`` (one input's outgoing
    weights), runs of ``b = round(1/(1 − ratio))`` consecutive weights keep only their largest magnitude (the
    last run shorter). The index of a kept weight costs ``⌈log₂ b⌉`` bits (:meth:`index_bits`)."""

    @property
    def block(self) -> int:
        return max(1, round(1 / (1 - self.ratio)))

    def _runs(self, n: int) -> list[tuple[int, int]]:
        return [(s, min(s + self.block, n)) for s in range(0, n, self.block)]

    def support(self, v: torch.Tensor) -> torch.Tensor:
        m = _rows(v.detach()).abs()
        keep = torch.zeros_like(m, dtype=torch.bool)
        for s, e in self._runs(m.shape[0]):
            best = torch.argmax(m[s:e], dim=0)
            keep[s + best, torch.arange(m.shape[1], device=m.device)] = True
        return keep.reshape(v.shape)

    def contains(self, w: torch.Tensor, atol: float = 0.0) -> bool:
        m = _rows(w).abs() > atol
        return all(int(m[s:e].sum(0).max()) <= 1 for s, e in self._runs(m.shape[0]))

    def index_bits(self) -> int:
        return math.ceil(math.log2(self.block)) if self.block > 1 else 0


# ---------------------------------------------------------------------------------------------------------
# weight unification


@dataclass(frozen=True)
class Unify(Projection):
    """At least ``round(ratio·n)`` of the ``n`` ``block``-shaped micro-blocks of ``W.reshape(out, −1)`` are
    unified (one shared magnitude, signs kept); the projection unifies the blocks whose unification error
    ``Σ(|vᵢ| − mean|v|)²`` is smallest and leaves the others. The matrix's sides must be multiples of the
    block's."""

    ratio: float
    block: tuple[int, int] = (1, 4)

    def __post_init__(self):
        if not 0.0 <= self.ratio <= 1.0:
            raise ValueError(f"unified share must be in [0, 1], got {self.ratio}")

    def _blocks(self, v: torch.Tensor) -> torch.Tensor:
        m = _rows(v)
        bh, bw = self.block
        if m.shape[0] % bh or m.shape[1] % bw:
            raise ValueError(f"a {tuple(m.shape)} matrix does not split into {bh}×{bw} blocks")
        return m.reshape(m.shape[0] // bh, bh, m.shape[1] // bw, bw).permute(0, 2, 1, 3).reshape(-1, bh * bw)

    def _unblock(self, b: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        m = _rows(v)
        bh, bw = self.block
        return b.reshape(m.shape[0] // bh, m.shape[1] // bw, bh, bw).permute(0, 2, 1, 3).reshape(v.shape)

    def unified(self, v: torch.Tensor) -> torch.Tensor:
        """Boolean per block (in :meth:`_blocks` order): whether the projection unifies it."""
        b = self._blocks(v.detach()).double().abs()
        err = (b - b.mean(1, keepdim=True)).pow(2).sum(1)
        return _top(-err, int(round(self.ratio * b.shape[0])))

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        b = self._blocks(v)
        pick = self.unified(v)
        out = b.clone()
        signs = torch.where(b[pick] >= 0, 1.0, -1.0).to(b.dtype)  # a zero takes +: any sign is as close
        out[pick] = b[pick].abs().mean(1, keepdim=True) * signs
        return self._unblock(out, v)

    def contains(self, w: torch.Tensor, atol: float = 1e-9) -> bool:
        b = self._blocks(w).abs()
        equal = (b - b.mean(1, keepdim=True)).abs().max(1).values <= atol
        return int(equal.sum()) >= int(round(self.ratio * b.shape[0]))


# ---------------------------------------------------------------------------------------------------------
# storage that counts the index


def _bits_for(n: int) -> int:
    """Bits of an index into ``n`` items (at least 1)."""
    return max(1, math.ceil(math.log2(max(n, 2))))


@dataclass(frozen=True)
class Storage:
    """Bits a sparse format spends on a layer: on kept values, on the index that locates them, and per kept
    weight (``(values + index) / kept``)."""

    kept: int
    value_bits: int
    index_bits: int

    @property
    def total_bits(self) -> int:
        return self.value_bits + self.index_bits

    @property
    def bits_per_kept(self) -> float:
        return self.total_bits / max(self.kept, 1)


def csr_storage(w: torch.Tensor, value_bits: int = 32) -> Storage:
    """Compressed sparse rows of ``W.reshape(out, −1)``: a value and a column index per nonzero, and one row
    pointer per row plus one."""
    m = _rows(w) != 0
    nnz, (rows, cols) = int(m.sum()), m.shape
    return Storage(nnz, nnz * value_bits, nnz * _bits_for(cols) + (rows + 1) * _bits_for(nnz + 1))


def pattern_storage(w: torch.Tensor, library_size: int, value_bits: int = 32) -> Storage:
    """Pattern-grouped storage of a conv weight (PatDNN's compact format, as the suite reads it): per kept
    kernel its input-channel index and its pattern's id, per filter a pointer into the kept kernels, and the
    pattern's values (stored whole, zeros included)."""
    k = _kernels(w) != 0
    kept_kernels = k.any(1)
    n_kernels, width = int(kept_kernels.sum()), int(k.sum(1).max()) if k.any() else 0
    index = (n_kernels * (_bits_for(w.shape[1]) + _bits_for(library_size))
             + (w.shape[0] + 1) * _bits_for(n_kernels + 1))
    return Storage(int(k.sum()), n_kernels * width * value_bits, index)


def block_rows_storage(w: torch.Tensor, proj: BalancedBlocks, value_bits: int = 32) -> Storage:
    """Block-compacted storage of a :class:`BalancedBlocks` (or :func:`BlockRows`) result: per fragment a bitmap
    of its kept rows, and the kept rows' values inside the fragment (stored whole)."""
    m = _rows(w)
    values = index = kept = 0
    for r0, r1, c0, c1 in proj._fragments(m):
        rows = (m[r0:r1, c0:c1] != 0).any(1)
        index += r1 - r0
        values += int(rows.sum()) * (c1 - c0) * value_bits
        kept += int((m[r0:r1, c0:c1] != 0).sum())
    return Storage(kept, values, index)


def block_max_storage(w: torch.Tensor, proj: BlockMax, value_bits: int = 32) -> Storage:
    """Block-max storage: one value and its ``⌈log₂ b⌉``-bit offset per run, no row pointers (every run keeps
    exactly one entry)."""
    m = _rows(w)
    runs = len(proj._runs(m.shape[0])) * m.shape[1]
    return Storage(int((m != 0).sum()), runs * value_bits, runs * proj.index_bits())
