"""CAP-RAM's proxy pieces: a LeNet-5 pruned by filters and columns until its quantized weights fit one macro's bit
cells, and the macro's analog readout (``bench.hardware.analog``).

**The budget rule** [assumption: which tensors the macro must hold was not read]: the macro stores the weights of
every conv and fc layer, ``weight_bits`` bit cells per weight (one bit per 6T cell, two's complement), and nothing
else (biases, the input scale and the ADC offsets live in the digital periphery). Filter+column pruning leaves
each layer's kept weights as a dense sub-matrix (the kept filters by the kept columns), which is written compacted,
with no index: its cells are ``kept rows × kept columns × weight_bits``. The network fits when the sum over the
layers is at most ``CELLS`` = 512 × 128 = 65,536 (the macro's size, abstract).

**The readout** (``READOUT``): ``rows`` consecutive inputs of a column are summed in the charge domain and
converted by a 7-bit ADC (abstract: a 7-bit charge-injection SAR ADC); read noise of ``noise_lsb`` ADC steps on
every conversion. The group size (64 rows) and the noise (1 LSB, Gaussian) are assumptions; the ADC's full scale
is calibrated per layer on training images (``bench.hardware.analog.calibrate``).
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from bench.compress import mnist_lenet as lenet
from bench.compress.admm import FilterColumn
from bench.hardware.analog import AnalogReadout

CELLS = 512 * 128  # one CAP-RAM macro, 6T-SRAM bit cells (abstract)
READOUT = AnalogReadout(rows=64, adc_bits=7, noise_lsb=1.0, source=(
    "7-bit ADC: the abstract; 64 rows per conversion and Gaussian read noise of 1 LSB: [assumption]"))


def compact_cells(weights: dict[str, torch.Tensor], weight_bits: int) -> int:
    """Bit cells of the compacted layers: per layer (rows with a nonzero) × (columns with a nonzero) × bits."""
    total = 0
    for w in weights.values():
        m = w.detach().reshape(w.shape[0], -1) != 0
        total += int(m.any(1).sum()) * int(m.any(0).sum()) * weight_bits
    return total


def projected_cells(rate: float, weight_bits: int) -> int:
    """The cells of a LeNet-5 after the filter+column projections at ``rate`` (they depend on the shapes only:
    how many rows and columns each projection keeps)."""
    model = lenet.LeNet5()
    proj = lenet.structured_projections(rate, "template")
    with torch.no_grad():
        return compact_cells({n: proj[n](w) for n, w in lenet.weights(model).items()}, weight_bits)


def rate_for_budget(cells: int = CELLS, weight_bits: int = 4, start: float = 15.0) -> float:
    """The smallest filter+column rate (the template's layer proportions, in steps of 1%) whose compacted
    weights fit in ``cells`` bit cells."""
    rate = start
    while projected_cells(rate, weight_bits) > cells:
        rate *= 1.01
        if rate > 10_000:
            raise ValueError("no rate fits the budget")
    return rate


def layers(model: nn.Module) -> dict[str, nn.Module]:
    return {n: model.get_submodule(n) for n in lenet.LAYERS}


def projections(rate: float) -> dict[str, FilterColumn]:
    return lenet.structured_projections(rate, "template")


def effective_bits(readout: AnalogReadout, weight_bits: int, input_bits: int) -> float:
    """The bits an exact conversion of one partial sum would need: ``rows`` products of a signed ``weight_bits``
    weight and an unsigned ``input_bits`` input (the context for the 7-bit ADC)."""
    top = readout.rows * (2 ** (weight_bits - 1)) * (2 ** input_bits - 1)
    return math.log2(2 * top + 1)


def with_adc_bits(bits: int) -> AnalogReadout:
    """``READOUT`` with another ADC width (the noise stays 1 LSB of that ADC)."""
    return dataclasses.replace(READOUT, adc_bits=bits)
