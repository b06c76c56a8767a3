"""In-memory-computing arrays: how a weight matrix is written onto bit-sliced cells under a sign scheme, packed
after pruning, and read with bit-serial inputs and shared ADCs (simulated; the suite's model).

This grows the crossbar mapper of :mod:`bench.hardware.crossbar` (the ``S×S`` tiles of Group Scissor and the
one-level synapse) into the array model of the in-memory-computing papers (issue 24): :class:`IMCArray` adds cells
per weight, the sign scheme, fragments (operation units), ADCs and bit-serial inputs; :func:`mapped_arrays` packs a
pruned layer; :func:`adc_conversions` counts the reads on real activations, with or without zero-skipping. It lives
in its own module, importing the mapper's lowering, so that the committed results of the papers that use only the
tile mapper (some measured on another machine) keep their code hash.

Every configuration names its source (``IMCArray.source``, ``IMCCosts.source``); the defaults are assumptions.
Hand-computed tests: ``tests/test_hardware_imc.py``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from bench.hardware.crossbar import _matrix

IMC_NAME = "bench.hardware.imc.IMCArray (bit-sliced cells, sign scheme, shared ADCs, bit-serial inputs)"
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
