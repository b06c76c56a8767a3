"""The SOT-MRAM engine's pieces: the bitwise multiply, the operation and cell counts by hand on a tiny conv and
linear layer, the activation quantizer's levels, the weight quantizers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.compress.admm import Binary, KBit, Ternary
from bench.models import LeNet5
from papers.sot_mram_pim_yuan2019 import method


@pytest.mark.parametrize(("a_bits", "w_bits", "a_signed"), [(8, 2, True), (8, 2, False), (3, 4, True)])
def test_bitplane_dot_is_the_integer_dot_product(a_bits, w_bits, a_signed):
    gen = torch.Generator().manual_seed(0)
    lo = -(2 ** (a_bits - 1)) if a_signed else 0
    hi = 2 ** (a_bits - 1) if a_signed else 2 ** a_bits
    x = torch.randint(lo, hi, (37,), generator=gen)
    w = torch.randint(-(2 ** (w_bits - 1)), 2 ** (w_bits - 1), (37,), generator=gen)
    assert method.bitplane_dot(x, w, a_bits, w_bits, a_signed=a_signed) == int((x * w).sum())


def test_bit_planes_are_twos_complement():
    planes = method.bit_planes(torch.tensor([-2, -1, 0, 1]), 2)  # codes 10, 11, 00, 01
    assert planes[0].tolist() == [False, True, False, True]
    assert planes[1].tolist() == [True, True, False, False]
    with pytest.raises(ValueError):
        method.bit_planes(torch.tensor([-3]), 2)


def test_conv_cost_by_hand():
    conv = nn.Conv2d(2, 3, 3)  # on 5×5 inputs: 3×3 = 9 output positions; W as (3, 18)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.weight[1] = 0  # a pruned filter: 2 rows left
        conv.weight[:, 0, 0, 0] = 0  # a pruned column: 17 columns left
        conv.weight[0, 1, 2, 2] = 0  # a zero inside the kept block: still stored (no index)
    positions = method.output_positions(conv, torch.zeros(1, 2, 5, 5), names=("",))
    assert positions == {"": 9}
    cost = method.layer_cost(conv.weight, 9, w_bits=2, a_bits=8)
    assert cost == {"stored": 2 * 17, "cells": 2 * 17 * 2, "bit_ops": 9 * 34 * 2 * 8}


def test_linear_cost_by_hand():
    fc = nn.Linear(4, 3)
    with torch.no_grad():
        fc.weight.copy_(torch.tensor([[1.0, 0.0, -1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0]]))
    assert method.layer_cost(fc.weight, 1, w_bits=2, a_bits=8) == {"stored": 4, "cells": 8, "bit_ops": 64}
    assert method.layer_cost(fc.weight, 1, w_bits=8, a_bits=8)["bit_ops"] == 4 * 64


def test_dense_lenet_counts():
    model = LeNet5()
    positions = method.output_positions(model, torch.zeros(1, 1, 28, 28))
    assert positions == {"conv1": 576, "conv2": 64, "fc1": 1, "fc2": 1}
    cost = method.pim_cost(model, positions, 8, 8)
    macs = 576 * 500 + 64 * 25000 + 400000 + 5000
    assert cost == {"stored": 430500, "cells": 430500 * 8, "bit_ops": macs * 64}


def test_quantizer_by_bits_and_weight_levels():
    assert isinstance(method.quantizer(1), Binary)
    assert isinstance(method.quantizer(2), Ternary)
    assert isinstance(method.quantizer(4), KBit) and method.quantizer(4).bits == 4
    model = LeNet5()
    with torch.no_grad():
        for n in method.LAYERS:
            w = model.get_submodule(n).weight
            w.copy_(Ternary()(w))
    assert method.weight_levels(model) <= 3


def _pruned_lenet():
    from bench.compress import mnist_lenet as lenet
    from bench.compress.admm import Masks

    torch.manual_seed(0)
    model = LeNet5()
    projections = lenet.structured_projections(40.0, "template")
    with torch.no_grad():
        masks = Masks({n: (w, projections[n].support(w)) for n, w in lenet.weights(model).items()})
    return model, masks


@pytest.mark.parametrize("stage", ["quantize_admm_", "quantize_rounding_"])
def test_quantization_stages_keep_the_pruned_weights_at_zero_on_three_levels(stage):
    from papers.sot_mram_pim_yuan2019 import experiment

    model, masks = _pruned_lenet()
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(128, 1, 28, 28, generator=gen), torch.randint(0, 10, (128,), generator=gen)
    cfg = experiment.SOTConfig(train_examples=128, quant_epochs=1.0, quant_period=0.5, quant_rho=0.22)
    getattr(experiment, stage)(model, masks, x, y, cfg, seed=0, salt=5)
    for n, (w, keep) in masks.masks.items():
        assert bool((w[~keep] == 0).all()), n
    assert method.weight_levels(model) <= 3


def test_mutants_are_declared_and_patch_the_quantization_stage():
    from bench.claims import load_paper, papers_root
    from bench.mutants import load
    from papers.sot_mram_pim_yuan2019 import experiment

    found = load(load_paper(papers_root() / "sot_mram_pim_yuan2019"))
    assert set(found) == {"quantize-without-masks", "rounding-instead-of-admm"}
    original = experiment.quantize_admm_
    with found["rounding-instead-of-admm"]():
        assert experiment.quantize_admm_ is experiment.quantize_rounding_
    assert experiment.quantize_admm_ is original
