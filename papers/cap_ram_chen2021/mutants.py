"""Mutants of CAP-RAM's proxy (bench/mutants.py).

- ``uncalibrated-adc``: the ADC's full scale from the bit widths (rows × largest weight × largest input) rather than
  calibrated on data. If the calibrated range is what lets 7 bits suffice, this should break
  ``seven-bit-readout-suffices``.
"""

from __future__ import annotations

from unittest import mock

from bench.hardware.analog import input_ranges
from bench.mutants import mutant
from papers.cap_ram_chen2021 import experiment


def _worst_case(model, layers, x, cfg, batch_size: int = 500):
    ranges = input_ranges(model, layers, x)
    return {n: cfg.rows * float(m.weight.detach().abs().max()) * ranges[n][0] for n, m in layers.items()}


@mutant("uncalibrated-adc")
def uncalibrated_adc():
    """The ADC range sized from the arithmetic's worst case."""
    with mock.patch.object(experiment, "calibrate", _worst_case):
        yield
