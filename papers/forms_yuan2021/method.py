"""FORMS's pieces: polarization by ADMM (``bench.compress.polarize.Polarize``), and the two designs the paper
compares, FORMS and ISAAC, on the suite's array model (``bench.hardware.imc``) with stated unit costs.

**The designs** (simulated; the suite's model, not the authors' simulator):

- ``ISAAC``: 128×128 arrays of 2-bit cells, 8-bit weights stored with an offset (unsigned, a reference column per
  array), all 128 rows read together in each input-bit cycle, one 8-bit ADC per array at 1.2 GS/s; no
  zero-skipping. Unit costs per IMA of 8 arrays from ISAAC's Table I (Shafiee et al., ISCA 2016, through a
  transcription [3rd]): 8 ADCs 16 mW and 0.0096 mm², 8 arrays 0.0002 mm², 8×128 1-bit DACs 4 mW and 0.00017 mm²,
  100 ns cycles.
- ``FORMS(F)``: the same arrays holding a polarized network (a sign bit per fragment, the 7-bit magnitude in 2-bit
  cells), ``F`` rows read together, a fragment skipped in a cycle where its ``F`` input bits are all zero, four
  4-bit ADCs per array at 2.1 GS/s: 32 ADCs per IMA of 15.2 mW and 9,100 µm² (0.226 pJ a conversion and 284 µm²
  each) from the FORMS component model of Accelergy's ``hwcomponents`` library [3rd]; four per array is that IMA's
  32 ADCs over 8 arrays [assumption]. 8-bit weights in 2-bit cells on a logical 128×128 crossbar, fragments of 4
  to 16 rows: a notes file built from the paper's full text [3rd] (it gives 16-bit inputs; both designs here take
  8-bit inputs [assumption]).

**Throughput, area, energy** [assumption: the suite's reduction of the papers' models]: the layers run one after
another, each on all of its arrays at once with every ADC busy, so a layer takes ``conversions / (arrays × ADCs per
array × rate)``; the area is the arrays with their ADCs and DACs; the energy per image is ``conversions × energy
per conversion + driven input bits × energy per DAC bit`` (array read energy and the digital periphery left out).
Throughput per area and energy per image are compared for the same network's images, so the papers' GOPs cancel.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from bench.compress.polarize import Polarize
from bench.hardware.imc import IMCArray, adc_conversions, input_bit_planes, mapped_arrays
from papers.memristor_admm_yuan2019.method import LAYERS, lowered_inputs

__all__ = ["FRAGMENTS", "ISAAC", "Design", "forms", "layers", "lowered_inputs", "performance", "targets"]

FRAGMENTS = (4, 8, 16)  # fragments "of 4 to 16 rows" [3rd: a notes file built from the full text]; exact list not read
ISAAC_IMA = {"adc_mw": 16.0, "adc_mm2": 0.0096, "array_mm2": 0.0002, "dac_mw": 4.0, "dac_mm2": 0.00017,
             "arrays": 8, "dacs": 8 * 128, "cycle_ns": 100.0, "adc_gsps": 1.2}
FORMS_IMA = {"adc_mw": 15.2, "adc_mm2": 0.0091, "adcs": 32, "adc_gsps": 2.1}


@dataclass(frozen=True)
class Design:
    """An array configuration with its ADCs' rate, energy and area, and whether it skips zero fragments."""

    name: str
    array: IMCArray
    adc_gsps: float
    adc_pj: float  # energy of one conversion
    adc_mm2: float  # area of one ADC
    array_mm2: float  # area of one array with its DACs
    dac_pj: float  # energy of driving one row for one input bit
    skip_zero: bool
    source: str


_ARRAY_MM2 = (ISAAC_IMA["array_mm2"] + ISAAC_IMA["dac_mm2"]) / ISAAC_IMA["arrays"]
_DAC_PJ = ISAAC_IMA["dac_mw"] * ISAAC_IMA["cycle_ns"] / ISAAC_IMA["dacs"]  # mW × ns = pJ, per DAC per cycle
_ISAAC_SOURCE = "ISAAC (ISCA 2016) Table I through a transcription [3rd]; 8-bit weights and inputs [assumption]"
_FORMS_SOURCE = ("FORMS's ADCs from hwcomponents' FORMS model [3rd]; four per array, the arrays, DACs and 8-bit "
                 "weights and inputs as ISAAC's [assumption]")

ISAAC = Design(
    "ISAAC", IMCArray(rows=128, cols=128, weight_bits=8, cell_bits=2, sign="offset", input_bits=8, adc_bits=8,
                      adcs=1, source=_ISAAC_SOURCE),
    adc_gsps=ISAAC_IMA["adc_gsps"], adc_pj=ISAAC_IMA["adc_mw"] / 8 / ISAAC_IMA["adc_gsps"],
    adc_mm2=ISAAC_IMA["adc_mm2"] / 8, array_mm2=_ARRAY_MM2, dac_pj=_DAC_PJ, skip_zero=False, source=_ISAAC_SOURCE)


def forms(fragment: int, skip_zero: bool = True) -> Design:
    adcs = FORMS_IMA["adcs"] // ISAAC_IMA["arrays"]
    return Design(
        f"FORMS-{fragment}", IMCArray(rows=128, cols=128, weight_bits=8, cell_bits=2, sign="polarized",
                                      fragment=fragment, input_bits=8, adc_bits=4, adcs=adcs, source=_FORMS_SOURCE),
        adc_gsps=FORMS_IMA["adc_gsps"], adc_pj=FORMS_IMA["adc_mw"] / FORMS_IMA["adcs"] / FORMS_IMA["adc_gsps"],
        adc_mm2=FORMS_IMA["adc_mm2"] / FORMS_IMA["adcs"], array_mm2=_ARRAY_MM2, dac_pj=_DAC_PJ,
        skip_zero=skip_zero, source=_FORMS_SOURCE)


def layers(model: nn.Module) -> dict[str, nn.Module]:
    return {n: getattr(model, n) for n in LAYERS}


def targets(model: nn.Module, fragment: int) -> dict[str, tuple]:
    """Every layer of the ConvNet onto the polarized set with ``fragment``-row fragments."""
    return {n: (m.weight, Polarize(fragment=fragment)) for n, m in layers(model).items()}


@torch.no_grad()
def performance(model: nn.Module, inputs: dict[str, torch.Tensor], images: int, design: Design) -> dict[str, float]:
    """Per image: ADC conversions, driven input bits, time (ns) and energy (pJ); the arrays and their area (mm²)."""
    out = {"conversions": 0.0, "driven_bits": 0.0, "time_ns": 0.0, "energy_pj": 0.0, "arrays": 0.0}
    cfg = design.array
    for name, m in layers(model).items():
        v = inputs[name]
        per_vector = adc_conversions(m.weight, v, cfg, skip_zero=design.skip_zero)
        conv = per_vector * v.shape[0] / images
        used = m.weight.reshape(m.weight.shape[0], -1).ne(0).any(0)
        if design.skip_zero:
            driven = float(input_bit_planes(v, cfg.input_bits)[:, :, used].sum()) / images
        else:
            driven = float(cfg.input_bits * int(used.sum())) * v.shape[0] / images
        arrays = mapped_arrays(m.weight, cfg)
        out["conversions"] += conv
        out["driven_bits"] += driven
        out["arrays"] += arrays
        out["time_ns"] += conv / (arrays * cfg.adcs * design.adc_gsps)
        out["energy_pj"] += conv * design.adc_pj + driven * design.dac_pj
    out["area_mm2"] = out["arrays"] * (design.array_mm2 + cfg.adcs * design.adc_mm2)
    return out


def adc_bits_needed(design: Design) -> float:
    """Bits for an exact conversion of one fragment's column sum: ``F`` rows of a full cell and a 1-bit input."""
    import math
    return math.log2(design.array.fragment_rows * (2 ** design.array.cell_bits - 1) + 1)
