"""The three neuromorphic papers' methods (issue 9) on hand-checkable cases."""

import pytest
import torch
from torch import nn

from bench.models import MLP, LeNet5
from papers.group_scissor_wang2017 import method as gs
from papers.one_level_synapse_wang2017 import method as ol
from papers.truenorth_wen2016 import method as tn


def test_group_scissor_factoring_is_exact_and_clipping_only_shrinks():
    torch.manual_seed(0)
    net = LeNet5()
    x = torch.randn(3, 1, 28, 28)
    ref = net(x)
    assert gs.cells(net) == 500 + 25000 + 400000 + 5000  # LeNet's 430.5K weights
    assert gs.crossbar_count(net) == 1 + 8 + 13 * 8 + 8  # ⌈in/64⌉·⌈out/64⌉ per layer
    gs.factorize(net, ["conv1", "conv2", "fc1"])
    assert torch.allclose(net(x), ref, atol=1e-4)
    assert [gs.rank(net.get_submodule(n)) for n in ("conv1", "conv2", "fc1")] == [20, 50, 500]
    ranks = gs.clip_ranks(net, ["conv1", "conv2", "fc1"], 0.9)
    assert all(r < f for r, f in zip(ranks.values(), (20, 50, 500), strict=True))
    again = gs.clip_ranks(net, ["conv1", "conv2", "fc1"], 1.0)  # energy 1 would keep everything: no growth
    assert again == ranks


def test_group_scissor_deploy_keeps_factors_only_where_smaller():
    net = LeNet5()
    gs.factorize(net, ["conv1", "fc1"])
    net.set_submodule("fc1", gs.factored(net.fc1, 10))  # 10·(800 + 500) cells < 400K
    mapped = gs.deploy(net, ["conv1", "fc1"])
    assert mapped == {"conv1": False, "fc1": True}  # conv1 at rank 20: 20·(25 + 20) > 500
    assert isinstance(net.conv1, nn.Conv2d)
    assert gs.cells(net) == 500 + 25000 + 10 * 1300 + 5000
    assert gs.crossbar_count(net) == 1 + 8 + (13 * 1 + 1 * 8) + 8


def test_group_scissor_deletion_removes_weak_wires():
    net = nn.Sequential(nn.Linear(4, 3))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.0, 0.001, 0.0], [1.0, 1.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.002]]))
    before = gs.wires(net)
    masks = gs.delete_wires(net, 0.01)
    assert masks.kept()["0"] == 3 * 2  # positions on kept wires (zeros included)
    assert gs.wires(net) == before - 2  # input wires 2 and 3 go (inputs 0, 1 and outputs 0, 1, 2 stay)


def test_truenorth_copies_average_to_the_expected_weight_and_penalty_vanishes_at_0_1():
    w = torch.tensor([[0.5, -0.25, 0.0, 1.0]])
    gen = torch.Generator().manual_seed(0)
    assert tn.scale(w, 2.0) == 1.0  # s = mult/√fan_in = 2/√4
    mean = torch.stack([tn.copy_weights({"w": w}, 2.0, gen)["w"] for _ in range(4000)]).mean(0)
    assert torch.allclose(mean, w, atol=0.03)  # E[s·sign·Bernoulli(|w|/s)] = w
    binary = MLP(4, [], 2)
    with torch.no_grad():
        binary.net[1].weight.copy_(torch.tensor([[2.0, 0.0, -2.0, 0.0], [0.0, 2.0, 2.0, -2.0]]))
    assert float(tn.variance_penalty(binary, 4.0).detach()) == 0.0 and tn.variance(binary, 4.0) == 0.0  # s = 2
    with torch.no_grad():
        binary.net[1].weight[0, 1] = 1.0  # p = 0.5: p(1 − p) = 0.25
    assert float(tn.variance_penalty(binary, 4.0).detach()) == pytest.approx(0.25)
    tn.clip_(binary, 2.0)  # s = 1: every weight into [−1, 1]
    assert float(binary.net[1].weight.abs().max()) == 1.0
    assert tn.copies_needed(torch.tensor([90.0, 95.0, 97.0]), 95.0) == 2
    assert tn.copies_needed(torch.tensor([90.0, 95.0, 97.0]), 99.0) == 6  # none: 2 × the copies measured


def test_one_level_quantizers_give_three_values_and_dq_fits_better_than_naive():
    torch.manual_seed(0)
    net = MLP(20, [16], 4)
    with torch.no_grad():
        net.net[1].weight.mul_(10)  # layers of very different scales: the naive global α fits neither
    dq, naive = ol.dq_levels(net), ol.naive_levels(net)
    for name, p in ol.synapses(net).items():
        err_dq = (p - dq[name](p)).pow(2).sum()
        err_naive = (p - naive[name](p)).pow(2).sum()
        assert err_dq <= err_naive + 1e-6
    reg = ol.QuantizationRegularizer(net, 1.0)
    assert float(reg().detach()) > 0
    ol.quantize_(net, dq)
    assert ol.distinct_values(net) <= 3
    assert float(ol.QuantizationRegularizer(net, 1.0)().detach()) == pytest.approx(0.0, abs=1e-10)
    with pytest.raises(ValueError):
        ol.QuantizationRegularizer(net, -1.0)


def test_caffe_cifar_convnet_shapes_and_within_channel_lrn_by_hand():
    from bench.compress.cifar_convnet import CaffeCifarConvNet, WithinChannelLRN

    net = CaffeCifarConvNet()
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert sum(m.weight.numel() for m in (net.conv1, net.conv2, net.conv3, net.ip1)) == 2400 + 25600 + 51200 + 10240
    x = torch.zeros(1, 1, 3, 3)
    x[0, 0, 1, 1] = 2.0  # the centre's 3×3 window holds one square, 4: mean 4/9
    out = WithinChannelLRN(3, alpha=0.9, beta=1.0)(x)
    assert out[0, 0, 1, 1].item() == pytest.approx(2.0 / (1 + 0.9 * 4 / 9))
    assert out[0, 0, 0, 0].item() == 0.0
