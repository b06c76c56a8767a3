"""The crossbar mapper (bench/hardware/crossbar.py) against hand-computed cases."""

import pytest
import torch

from bench.hardware import crossbar as xb


def test_crossbar_counts_and_area_by_hand():
    assert xb.crossbars(800, 500) == 13 * 8  # ⌈800/64⌉ · ⌈500/64⌉
    assert xb.lowrank_crossbars(800, 500, 20) == 13 * 1 + 1 * 8
    assert xb.crossbars(25, 20) == 1
    s32 = xb.CrossbarConfig(size=32, differential=True)
    assert xb.crossbars(800, 500, s32) == 25 * 16
    assert xb.area_cells(3, s32) == 3 * 32 * 32 * 2
    assert xb.area_cells(3) == 3 * 64 * 64
    with pytest.raises(ValueError):
        xb.lowrank_crossbars(10, 10, 0)
    assert xb.CROSSBAR_64.describe()["version"] == xb.VERSION


def test_routing_wires_count_used_row_and_column_segments_per_tile():
    cfg = xb.CrossbarConfig(size=2)
    w = torch.zeros(3, 5)  # tiles: outputs [0:2], [2:3] × inputs [0:2], [2:4], [4:5]
    w[0, 0] = w[1, 0] = 1.0  # one input wire, two output wires in tile (0, 0)
    w[2, 4] = -1.0  # one of each in tile (2, 4)
    assert xb.routing_wires(w, cfg) == 3 + 2
    assert xb.used_crossbars(w, cfg) == 2
    dense = torch.ones(3, 5)
    assert xb.routing_wires(dense, cfg) == len(xb.wire_groups((3, 5), cfg)) == 19
    conv = torch.ones(4, 2, 3, 3)  # lowered to (4, 18)
    assert xb.routing_wires(conv, xb.CrossbarConfig(size=8)) == len(xb.wire_groups(conv.shape, xb.CrossbarConfig(8)))


def test_wire_groups_cover_every_weight_once_as_input_and_once_as_output():
    cfg = xb.CrossbarConfig(size=2)
    groups = xb.wire_groups((3, 5), cfg)
    counts = torch.bincount(torch.cat(groups), minlength=15)
    assert counts.eq(2).all()
    w = torch.ones(3, 5)
    w.view(-1)[groups[0]] = 0  # delete one wire's weights: that wire goes
    assert xb.routing_wires(w, cfg) == 18


def test_wire_norms_lasso_and_mask_by_hand():
    cfg = xb.CrossbarConfig(size=2)
    w = torch.zeros(3, 5)
    w[0, 0], w[1, 0] = 3.0, 4.0  # tile (0, 0): input wire 0 has norm 5; output wires 0 and 1 norms 3 and 4
    w[2, 4] = 0.1  # tile (1, 2): one weak wire each way
    inputs, outputs = xb.wire_norms(w, cfg)
    assert inputs.shape == (2, 3, 2) and outputs.shape == (2, 2, 3)
    assert inputs[0, 0, 0].item() == pytest.approx(5.0)
    assert outputs[0, 0, 0].item() == pytest.approx(3.0) and outputs[0, 1, 0].item() == pytest.approx(4.0)
    assert xb.wire_lasso(w, cfg).item() == pytest.approx(5 + 3 + 4 + 0.1 + 0.1, abs=1e-5)
    keep = xb.wire_mask(w, 0.5, cfg)
    assert keep.shape == w.shape
    assert keep[0, 0] and keep[1, 0] and not keep[2, 4]
    assert xb.routing_wires(w * keep, cfg) == 3  # the weak tile is gone with its two wires
    # gradient of the lasso: w / ‖group‖ summed over a weight's two groups; zero for all-zero wires
    p = w.clone().requires_grad_()
    xb.wire_lasso(p, cfg).backward()
    assert p.grad[0, 0].item() == pytest.approx(3 / 5 + 3 / 3)
    assert p.grad[1, 1].item() == 0.0
    conv = torch.ones(4, 2, 3, 3)
    assert xb.wire_mask(conv, 0.1, xb.CrossbarConfig(size=8)).shape == conv.shape
