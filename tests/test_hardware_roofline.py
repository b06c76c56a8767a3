"""The roofline model (bench/hardware/roofline.py) against cases computed by hand."""

from __future__ import annotations

import pytest
import torch

from bench.hardware import roofline as rl

TOY = rl.Device("toy", "gpu", 1e9, 1e8, "test")  # ridge point 10 FLOPs per byte


def test_matmul_flops_and_bytes():
    a, b = torch.randn(64, 128), torch.randn(128, 32)
    (mm,) = rl.op_costs(lambda: a @ b)
    assert mm.op == "aten.mm"
    assert mm.flops == 2 * 64 * 128 * 32
    assert mm.bytes == 4 * (64 * 128 + 128 * 32 + 64 * 32)


def test_elementwise_ops_are_memory_bound_and_views_move_nothing():
    x = torch.randn(1000)
    costs = rl.op_costs(lambda: torch.relu(x).view(10, 100))
    assert [(c.op, c.flops, c.bytes) for c in costs] == [("aten.relu", 0, 8000), ("aten.view", 0, 0)]
    assert rl.roofline_time(costs, TOY)["time_s"] == pytest.approx(8000 / 1e8)


def test_time_is_the_sum_of_each_operators_larger_bound():
    a, b = torch.randn(256, 256), torch.randn(256, 256)
    costs = rl.op_costs(lambda: torch.relu(a @ b))
    mm_flops, mm_bytes = 2 * 256**3, 4 * 3 * 256**2  # 42.7 FLOPs per byte: compute-bound on TOY
    relu_bytes = 2 * 4 * 256**2  # memory-bound
    expected = mm_flops / 1e9 + relu_bytes / 1e8
    t = rl.roofline_time(costs, TOY)
    assert t["time_s"] == pytest.approx(expected)
    assert t["flops"] == mm_flops and t["bytes"] == mm_bytes + relu_bytes
    assert t["compute_bound_fraction"] == pytest.approx((mm_flops / 1e9) / expected)


def test_convolution_flops_match_the_formula():
    conv = torch.nn.Conv2d(3, 8, 3)
    x = torch.randn(2, 3, 10, 10)
    costs = rl.op_costs(lambda: conv(x))
    assert sum(c.flops for c in costs) == 2 * 2 * 8 * 8 * 8 * 3 * 3 * 3  # 2·N·Cout·Hout·Wout·Cin·k·k


def test_datasheet_devices():
    titan = rl.DEVICES["gtx-titan"]
    assert titan.peak_flops == pytest.approx(4.5e12, rel=0.01) and titan.bandwidth == pytest.approx(288.4e9)
    assert rl.DEVICES["tesla-p100"].peak_flops == pytest.approx(10.6e12, rel=0.01)
    assert rl.describe(titan)["devices"][0]["name"].startswith("NVIDIA GeForce GTX Titan")
