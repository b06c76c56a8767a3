"""A memristor-crossbar mapper: weight matrices tiled onto S×S crossbars, their count, area and routing wires
(simulated; the suite's model).

**What it models.** A layer computing ``y = W·x`` with ``W`` of shape ``(out, in)`` (a conv layer lowered to
``(out, in·k·k)``) is written onto crossbars of ``S × S`` memristors: inputs drive the rows (word lines),
outputs are read on the columns (bit lines), so the matrix is cut into ``⌈in/S⌉ × ⌈out/S⌉`` tiles, one crossbar
each; the partial sums of an output spread over several tiles are added outside the crossbars.

- :func:`crossbars`: ``⌈in/S⌉·⌈out/S⌉``; :func:`lowrank_crossbars`: the two factors of a rank-``K``
  layer, ``W ≈ U·V`` with ``V: (K, in)`` and ``U: (out, K)``: ``⌈in/S⌉·⌈K/S⌉ + ⌈K/S⌉·⌈out/S⌉``;
- crossbar area: the crossbar count times ``S²`` cells (``differential=True`` doubles it: a positive and a
  negative array per tile); area ratios at the same ``S`` are crossbar-count ratios;
- :func:`routing_wires`: a tile needs a wire for each of its rows that holds a nonzero weight (the input
  brought to it) and for each of its columns that holds one (the partial sum taken out of it); an all-zero row
  or column segment of a tile needs no wire, and an all-zero tile is not built at all (:func:`used_crossbars`).
  Routing area is taken as proportional to the wire count;
- :func:`wire_groups`: those row and column segments as index groups: the groups a group Lasso over
  "connections between crossbars" acts on (Group Scissor's group connection deletion); :func:`wire_norms`
  gives their L2 norms as differentiable tensors (the group Lasso term is their sum) and :func:`wire_mask`
  the weights left once every wire whose group norm is below a threshold is deleted.

**Sources and assumptions.** Group Scissor (Wang et al., DAC 2017, arXiv 1702.03443) gives its crossbar size
and routing-area model only in its body, which could not be reached from this project's machines (its
abstract could). ``S = 64`` follows the group's earlier crossbar work (Wen et al., DAC 2015: reliable crossbars
are at most 64×64); the wire-count routing model (no wire lengths, no placement) is this model's choice,
version ``VERSION``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

NAME = "bench.hardware.crossbar (S×S tiles, wire count per used row and column segment)"
VERSION = "1"


@dataclass(frozen=True)
class CrossbarConfig:
    size: int = 64  # S: rows and columns of one crossbar
    differential: bool = False  # a positive and a negative array per tile
    source: str = ("S = 64 [assumption: Wen et al., DAC 2015, reliable crossbars at most 64×64; Group Scissor's "
                   "own size not reachable]")

    def __post_init__(self):
        if self.size < 1:
            raise ValueError("crossbar size must be >= 1")

    def describe(self) -> dict:
        return {"model": NAME, "version": VERSION, **asdict(self)}


CROSSBAR_64 = CrossbarConfig()


def _matrix(weight: torch.Tensor) -> torch.Tensor:
    """``(out, in)``: a linear weight as is, a conv weight lowered to ``(out, in·k·k)``."""
    return weight.detach().reshape(weight.shape[0], -1)


def crossbars(in_features: int, out_features: int, cfg: CrossbarConfig = CROSSBAR_64) -> int:
    """Crossbars holding a dense ``in → out`` layer: ``⌈in/S⌉·⌈out/S⌉``."""
    if in_features < 1 or out_features < 1:
        raise ValueError("a layer needs at least one input and one output")
    return math.ceil(in_features / cfg.size) * math.ceil(out_features / cfg.size)


def lowrank_crossbars(in_features: int, out_features: int, rank: int, cfg: CrossbarConfig = CROSSBAR_64) -> int:
    """Crossbars of a rank-``rank`` layer as two factors ``(rank, in)`` then ``(out, rank)``."""
    if rank < 1:
        raise ValueError("rank must be >= 1")
    return crossbars(in_features, rank, cfg) + crossbars(rank, out_features, cfg)


def area_cells(n_crossbars: int, cfg: CrossbarConfig = CROSSBAR_64) -> int:
    """Memristor cells of ``n_crossbars`` crossbars (two arrays per tile when differential)."""
    return n_crossbars * cfg.size ** 2 * (2 if cfg.differential else 1)


def _tiles(m: torch.Tensor, s: int):
    out, inp = m.shape
    for o in range(0, out, s):
        for i in range(0, inp, s):
            yield o, i, m[o:o + s, i:i + s]


def used_crossbars(weight: torch.Tensor, cfg: CrossbarConfig = CROSSBAR_64) -> int:
    """Crossbars holding at least one nonzero weight (an all-zero tile is not built)."""
    return sum(int(bool((t != 0).any())) for _, _, t in _tiles(_matrix(weight), cfg.size))


def routing_wires(weight: torch.Tensor, cfg: CrossbarConfig = CROSSBAR_64) -> int:
    """Wires into and out of the crossbars: per tile, its rows and its columns that hold a nonzero weight."""
    wires = 0
    for _, _, t in _tiles(_matrix(weight), cfg.size):
        nz = t != 0  # (outputs in the tile, inputs in the tile)
        wires += int(nz.any(0).sum()) + int(nz.any(1).sum())
    return wires


def wire_groups(shape: tuple[int, ...], cfg: CrossbarConfig = CROSSBAR_64) -> list[torch.Tensor]:
    """Flat indices (into a weight of ``shape``) of each wire's weights: per tile, each input row segment
    (the weights one input wire feeds) and each output column segment (those one output wire reads)."""
    out = shape[0]
    inp = math.prod(shape[1:])
    idx = torch.arange(out * inp).reshape(out, inp)
    groups = []
    for _, _, t in _tiles(idx, cfg.size):
        groups.extend(t[:, j] for j in range(t.shape[1]))  # an input wire: one column of W's tile
        groups.extend(t[r, :] for r in range(t.shape[0]))  # an output wire: one row of W's tile
    return groups


def _tiled(matrix: torch.Tensor, s: int) -> torch.Tensor:
    """``(out, in)`` zero-padded to whole tiles and viewed as ``(out tiles, S, in tiles, S)``."""
    out, inp = matrix.shape
    padded = F.pad(matrix, (0, -inp % s, 0, -out % s))
    return padded.reshape(math.ceil(out / s), s, math.ceil(inp / s), s)


def wire_norms(weight: torch.Tensor, cfg: CrossbarConfig = CROSSBAR_64, eps: float = 1e-16
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """L2 norms of every wire's weights, differentiable: ``(input wires, output wires)``.

    Input wires have shape ``(out tiles, in tiles, S)`` (tile row, tile column, input within the tile), output
    wires ``(out tiles, S, in tiles)``. Padding beyond the matrix gives wires of norm ``√eps`` that carry no
    gradient; ``eps`` keeps the gradient of an all-zero wire finite (zero).
    """
    sq = _tiled(weight.reshape(weight.shape[0], -1), cfg.size) ** 2
    return (sq.sum(1) + eps).sqrt(), (sq.sum(3) + eps).sqrt()


def wire_lasso(weight: torch.Tensor, cfg: CrossbarConfig = CROSSBAR_64) -> torch.Tensor:
    """The group Lasso over the wires of ``weight``: the sum of their L2 norms (a differentiable scalar)."""
    inputs, outputs = wire_norms(weight, cfg)
    return inputs.sum() + outputs.sum()


def wire_mask(weight: torch.Tensor, threshold: float, cfg: CrossbarConfig = CROSSBAR_64) -> torch.Tensor:
    """Boolean mask of ``weight``'s shape: the weights kept when every wire (input or output) whose weights'
    L2 norm is below ``threshold`` is deleted with all its weights."""
    w = weight.detach()
    out, inp = w.shape[0], math.prod(w.shape[1:])
    inputs, outputs = wire_norms(w, cfg)
    keep = (inputs >= threshold)[:, None, :, :] & (outputs >= threshold)[..., None]  # (To, S, Ti, S)
    return keep.reshape(keep.shape[0] * cfg.size, -1)[:out, :inp].reshape(w.shape)
