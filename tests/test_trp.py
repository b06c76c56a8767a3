"""TRP (papers/trp_xu2018/method.py): which layers, the substitution, the nuclear-norm step, deployment."""

import torch

from bench.compress import lowrank as lr
from bench.models import CifarResNet
from papers.trp_xu2018.method import TrainedRankPruning, deploy, trp_convs


def test_trp_touches_the_residual_3x3_convs_not_the_stem_or_shortcuts():
    model = CifarResNet(20, shortcut="B")
    names = list(trp_convs(model))
    assert len(names) == 18 and "conv1" not in names
    assert all(n.startswith("blocks.") and n.rsplit(".", 1)[1] in ("conv1", "conv2") for n in names)


def test_substitution_truncates_to_the_energy_rank_and_nuclear_step_uses_the_same_svd():
    torch.manual_seed(0)
    model = CifarResNet(8, shortcut="B")
    convs = trp_convs(model)
    before = {n: c.weight.detach().clone() for n, c in convs.items()}
    trp = TrainedRankPruning(convs, "channel", energy=0.9, nuclear_weight=0.1, period=2)
    trp.before_step(0)
    for n, c in convs.items():
        s = lr.singular_values(before[n], "channel")
        r = lr.energy_rank(s, 0.9)
        assert trp.ranks()[n] == r < len(s)
        torch.testing.assert_close(c.weight, lr.low_rank_weight(before[n], "channel", r), rtol=1e-5, atol=1e-6)
        c.weight.grad = torch.zeros_like(c.weight)
    trp.add_nuclear_grad_(0)
    for n, c in convs.items():
        expected = 0.1 * lr.nuclear_subgradient(before[n], "channel", trp.ranks()[n])
        torch.testing.assert_close(c.weight.grad, expected, rtol=1e-5, atol=1e-6)
    # off-period steps neither substitute nor add the subgradient
    trp.before_step(1)
    snapshot = {n: c.weight.detach().clone() for n, c in convs.items()}
    for c in convs.values():
        c.weight.grad.zero_()
        c.weight.data.add_(0.01)
    trp.before_step(1)
    trp.add_nuclear_grad_(1)
    for n, c in convs.items():
        assert torch.equal(c.weight, snapshot[n] + 0.01) and not c.weight.grad.any()


def test_deploy_decomposes_stride_one_layers_and_keeps_the_function_at_a_tiny_threshold():
    torch.manual_seed(1)
    model = CifarResNet(8, shortcut="B").eval()
    x = torch.randn(2, 3, 32, 32)
    deployed, layers = deploy(model, "spatial", threshold=1e-9)
    names = {d.name for d in layers}
    assert names == {"blocks.0.conv1", "blocks.0.conv2", "blocks.1.conv2", "blocks.2.conv2"}  # stride-2 kept
    assert all(d.rank == d.full_rank for d in layers)
    torch.testing.assert_close(deployed.eval()(x), model(x), rtol=1e-4, atol=1e-4)
