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


# ---------------------------------------------------------------------------------------------------------
# in-memory-computing arrays: bit-sliced weights, sign schemes, shared ADCs, bit-serial inputs (issue 24)

IMC_NAME = "bench.hardware.crossbar.IMCArray (bit-sliced cells, sign scheme, shared ADCs, bit-serial inputs)"
IMC_VERSION = "1"
SIGN_SCHEMES = ("differential", "offset", "polarized")


@dataclass(frozen=True)
class IMCArray:
    """One in-memory-computing array and how a weight matrix is written onto it and read out.

    Inputs drive the rows (``rows`` word lines), every weight occupies ``columns_per_weight`` cells of one row,
    each cell holding ``cell_bits`` bits of the weight's magnitude (bit slicing, least significant slice first).
    The sign scheme:

    - ``differential``: a positive and a negative copy of the magnitude (``2·⌈(bits − 1)/cell_bits⌉`` cells);
    - ``offset``: the weight plus ``2^(bits − 1)`` stored unsigned (``⌈bits/cell_bits⌉`` cells) and one reference
      column per array whose output is subtracted (ISAAC-style biased encoding);
    - ``polarized``: every fragment of ``fragment`` rows of one output shares one sign (FORMS), kept as one bit
      beside the array; the magnitude takes ``⌈(bits − 1)/cell_bits⌉`` cells.

    Reading: inputs are unsigned ``input_bits``-bit integers applied one bit per cycle; in each cycle the rows of
    one fragment (``fragment`` rows, all of them when ``None``) are active together and every mapped column of
    the array gives one analog sum that one of the array's ``adcs`` converts (``adc_bits``). A fragment whose
    input bits of the cycle are all zero can be skipped (zero-skipping).
    """

    rows: int = 128
    cols: int = 128
    weight_bits: int = 8
    cell_bits: int = 2
    sign: str = "differential"
    fragment: int | None = None
    input_bits: int = 8
    adc_bits: int = 8
    adcs: int = 1
    source: str = "[assumption] 128×128 arrays of 2-bit cells, 8-bit weights and inputs, one 8-bit ADC per array"

    def __post_init__(self):
        if self.sign not in SIGN_SCHEMES:
            raise ValueError(f"sign must be one of {SIGN_SCHEMES}, not {self.sign!r}")
        if min(self.rows, self.cols, self.weight_bits, self.cell_bits, self.input_bits, self.adc_bits,
               self.adcs) < 1:
            raise ValueError("array sizes, bit widths and the ADC count must be >= 1")
        if self.sign != "offset" and self.weight_bits < 2:
            raise ValueError("a signed scheme needs at least 2 weight bits (a sign and a magnitude)")
        if self.fragment is not None and not 1 <= self.fragment <= self.rows:
            raise ValueError("fragment must be between 1 and rows")
        if self.usable_cols < self.columns_per_weight:
            raise ValueError("one weight does not fit in an array's columns")

    @property
    def magnitude_bits(self) -> int:
        return self.weight_bits if self.sign == "offset" else self.weight_bits - 1

    @property
    def columns_per_weight(self) -> int:
        slices = math.ceil(self.magnitude_bits / self.cell_bits)
        return 2 * slices if self.sign == "differential" else slices

    @property
    def usable_cols(self) -> int:
        """Columns left for weights (the offset scheme's reference column taken out)."""
        return self.cols - (1 if self.sign == "offset" else 0)

    @property
    def fragment_rows(self) -> int:
        return self.rows if self.fragment is None else self.fragment

    def describe(self) -> dict:
        return {"model": IMC_NAME, "version": IMC_VERSION, **asdict(self)}


def _column_blocks(m: torch.Tensor, cfg: IMCArray) -> list[tuple[torch.Tensor, int]]:
    """Per block of ``cfg.rows`` used inputs: the indices of those inputs and how many outputs have a nonzero
    weight among them. Inputs whose weights are all zero are not mapped (no word line is driven for them)."""
    used_inputs = m.ne(0).any(0).nonzero(as_tuple=True)[0]
    blocks = []
    for start in range(0, len(used_inputs), cfg.rows):
        idx = used_inputs[start:start + cfg.rows]
        blocks.append((idx, int(m[:, idx].ne(0).any(1).sum())))
    return blocks


def dense_arrays(in_features: int, out_features: int, cfg: IMCArray) -> int:
    """Arrays for a dense ``in → out`` layer: ``⌈in/rows⌉ · ⌈out·columns_per_weight/usable_cols⌉``."""
    if in_features < 1 or out_features < 1:
        raise ValueError("a layer needs at least one input and one output")
    return math.ceil(in_features / cfg.rows) * math.ceil(out_features * cfg.columns_per_weight / cfg.usable_cols)


def mapped_arrays(weight: torch.Tensor, cfg: IMCArray) -> int:
    """Arrays for a pruned layer, packed as the masked mapping allows: inputs with no nonzero weight are dropped,
    the rest cut into blocks of ``rows``, and in each block only the outputs with a nonzero weight there are
    mapped, side by side (their partial sums are added outside the arrays, by output index, as for any layer
    spread over several arrays). Structured pruning (whole rows, columns, balanced crossbar blocks) empties whole
    output segments and packs into fewer arrays; irregular pruning at the same sparsity rarely does."""
    m = _matrix(weight)
    return sum(math.ceil(n * cfg.columns_per_weight / cfg.usable_cols) for _, n in _column_blocks(m, cfg) if n)


def input_bit_planes(x: torch.Tensor, bits: int) -> torch.Tensor:
    """``(bits, *x.shape)`` booleans: the bits of ``x`` (non-negative) quantized to ``bits``-bit unsigned integers
    with the largest value of ``x`` at full scale (least significant bit first)."""
    if bool((x < 0).any()):
        raise ValueError("bit-serial inputs must be non-negative (shift or split signed inputs first)")
    top = float(x.max())
    q = torch.zeros_like(x, dtype=torch.long) if top == 0 else torch.round(x / top * (2 ** bits - 1)).long()
    return torch.stack([(q >> b) & 1 == 1 for b in range(bits)])


def adc_conversions(weight: torch.Tensor, inputs: torch.Tensor, cfg: IMCArray, skip_zero: bool = True) -> float:
    """ADC conversions per input vector for the layer ``weight`` mapped as in :func:`mapped_arrays`, averaged over
    the rows of ``inputs`` (``(N, in)``: the lowered layer inputs, one matrix-vector product each).

    Each input bit cycle reads, in each block of mapped inputs, each fragment of ``fragment_rows`` of them: one
    conversion per mapped column of that block (plus the offset scheme's reference column per array). With
    ``skip_zero`` a fragment whose input bits in the cycle are all zero is not read.
    """
    m = _matrix(weight)
    if inputs.dim() != 2 or inputs.shape[1] != m.shape[1]:
        raise ValueError(f"inputs must be (N, {m.shape[1]}), got {tuple(inputs.shape)}")
    planes = input_bit_planes(inputs.detach(), cfg.input_bits)  # (bits, N, in)
    total = 0.0
    for idx, n_out in _column_blocks(m, cfg):
        if not n_out:
            continue
        arrays = math.ceil(n_out * cfg.columns_per_weight / cfg.usable_cols)
        columns = n_out * cfg.columns_per_weight + (arrays if cfg.sign == "offset" else 0)
        for start in range(0, len(idx), cfg.fragment_rows):
            frag = planes[:, :, idx[start:start + cfg.fragment_rows]]  # (bits, N, rows in the fragment)
            reads = frag.any(2).sum() if skip_zero else torch.tensor(frag.shape[0] * frag.shape[1])
            total += float(reads) * columns
    return total / inputs.shape[0]


@dataclass(frozen=True)
class IMCCosts:
    """Energy and area of the array side: per conversion, per array, per driven input bit. Every figure must
    name its source; the defaults are placeholders of 1 so that ratios of counts come out (no absolute claim)."""

    adc_pj: float = 1.0  # energy of one ADC conversion
    array_area: float = 1.0  # area of one array with its ADCs, DACs and sample-and-holds
    dac_pj: float = 0.0  # energy of driving one row for one input bit
    source: str = "[assumption] unit costs: results are ratios of conversions and arrays"


def imc_cost(weight: torch.Tensor, inputs: torch.Tensor, cfg: IMCArray, costs: IMCCosts = IMCCosts(),
             skip_zero: bool = True) -> dict[str, float]:
    """Arrays, cells, ADC conversions, energy (pJ per input vector) and area of one layer (simulated)."""
    arrays = mapped_arrays(weight, cfg)
    conv = adc_conversions(weight, inputs, cfg, skip_zero)
    planes = input_bit_planes(inputs.detach(), cfg.input_bits)
    used = _matrix(weight).ne(0).any(0)
    driven = float(planes[:, :, used].sum()) / inputs.shape[0] if skip_zero else \
        float(cfg.input_bits * int(used.sum()))
    return {"arrays": arrays, "cells": arrays * cfg.rows * cfg.cols, "adc_conversions": conv,
            "energy_pj": conv * costs.adc_pj + driven * costs.dac_pj, "area": arrays * costs.array_area}
