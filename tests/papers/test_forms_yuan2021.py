"""FORMS's designs on the array model, counted by hand on small layers."""

from __future__ import annotations

import pytest
import torch

from bench.compress.cifar_convnet import CaffeCifarConvNet
from papers.forms_yuan2021 import method


def test_unit_costs_from_the_ima_figures():
    # ISAAC: 16 mW over 8 ADCs of 1.2 GS/s = 1.667 pJ a conversion; FORMS: 15.2 mW over 32 of 2.1 GS/s
    assert method.ISAAC.adc_pj == pytest.approx(16 / 8 / 1.2)
    assert method.forms(8).adc_pj == pytest.approx(15.2 / 32 / 2.1)
    assert method.forms(8).array.adcs == 4 and method.ISAAC.array.adcs == 1
    assert method.ISAAC.array.columns_per_weight == 4  # 8 unsigned bits in 2-bit cells
    assert method.forms(8).array.columns_per_weight == 4  # 7 magnitude bits in 2-bit cells, sign per fragment
    assert method.adc_bits_needed(method.forms(8)) == pytest.approx(torch.log2(torch.tensor(25.0)).item())


class _One(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.conv1 = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
        with torch.no_grad():
            self.conv1.weight.copy_(w)


def test_performance_counts_by_hand(monkeypatch):
    monkeypatch.setattr(method, "LAYERS", ("conv1",))
    monkeypatch.setattr(method, "layers", lambda model: {"conv1": model.conv1})
    w = torch.ones(2, 16)  # 2 outputs, 16 inputs: one array, 8 columns used
    x = torch.zeros(1, 16)
    x[0, 0] = 255.0  # at 8 bits only input 0 is nonzero, in every bit plane
    model = _One(w)
    forms = method.performance(model, {"conv1": x}, 1, method.forms(8))
    # 8 cycles; fragment 1 (inputs 0-7) is read each cycle, fragment 2 never: 8 reads x 8 columns
    assert forms["conversions"] == 8 * 8
    assert forms["driven_bits"] == 8
    assert forms["arrays"] == 1
    assert forms["time_ns"] == pytest.approx(64 / (1 * 4 * 2.1))
    isaac = method.performance(model, {"conv1": x}, 1, method.ISAAC)
    # 8 cycles, all 16 rows at once: one read of 8 columns plus the reference column
    assert isaac["conversions"] == 8 * 9
    assert isaac["driven_bits"] == 8 * 16
    assert isaac["energy_pj"] == pytest.approx(72 * method.ISAAC.adc_pj + 128 * method.ISAAC.dac_pj)


def test_targets_cover_every_layer():
    model = CaffeCifarConvNet()
    t = method.targets(model, 8)
    assert set(t) == {"conv1", "conv2", "conv3", "ip1"}
    assert all(p.fragment == 8 for _, p in t.values())
