"""PruneTrain's pieces: the architecture, the groups through SSL's GroupLasso, λ, the zeroing, liveness with the union
rule, the exact reconfiguration (against the masked model), the sliced optimizer state, and the FLOP counts."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bench.models import CifarResNet
from papers.prunetrain_lym2019 import method
from papers.ssl_wen2016.method import GroupLasso, group_lasso_penalty

WIDTHS = (4, 6, 8)


def _net(depth: int = 8, seed: int = 0, widths=WIDTHS) -> method.PrunableResNet:
    """A tiny net with random BN parameters and statistics, so eval-mode BN is not the identity."""
    torch.manual_seed(seed)
    net = method.PrunableResNet(depth, widths, None, num_classes=5)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.5)
            m.running_mean.normal_(0, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return net.eval()


def _kill_stage(net: method.PrunableResNet, s: int, c: int, keep: str | None = None) -> None:
    """Zero channel c of stage s in every layer at the stage's join, except in the layer named `keep`."""
    with torch.no_grad():
        for name, _, okey, ikey in method._layers(net):
            w = net.get_submodule(name).weight
            if okey == ("stage", s) and name != keep:
                w[c] = 0
            if ikey == ("stage", s) and name != keep:
                w[:, c] = 0


def _x(n: int = 3, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, 3, 12, 12, generator=torch.Generator().manual_seed(seed))


def test_dense_net_matches_the_bench_resnet_shapes():
    net = method.PrunableResNet(20, (16, 32, 64), None, num_classes=10)
    ref = CifarResNet(20, 10, shortcut="B")
    assert [p.shape for p in net.parameters()] == [p.shape for p in ref.parameters()]
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert net.spec()["inner_widths"] == (16,) * 3 + (32,) * 3 + (64,) * 3
    again = method.PrunableResNet(**net.spec())
    assert [p.shape for p in again.parameters()] == [p.shape for p in net.parameters()]
    with pytest.raises(ValueError):
        method.PrunableResNet(10)


def test_group_terms_are_the_paper_groups():
    net = _net(14)
    terms = method.group_terms(net, 0.5)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    filters = [t.weight for t in terms if t.kind == "filter"]
    channels = [t.weight for t in terms if t.kind == "channel"]
    assert len(filters) == len(convs) == 2 * 6 + 1 + 2  # every conv incl. stem and the two shortcuts
    assert {id(w) for w in filters} == {id(m.weight) for m in convs}
    assert {id(w) for w in channels} == {id(m.weight) for m in convs[1:]} | {id(net.fc.weight)}
    assert all(t.strength == 0.5 for t in terms)
    # the linear layer's "channel" groups are its input columns
    w = net.fc.weight
    assert group_lasso_penalty(w, "channel").item() == pytest.approx(w.norm(dim=0).sum().item(), rel=1e-6)
    expected = sum(m.weight.flatten(1).norm(dim=1).sum().item() for m in convs)
    expected += sum(m.weight.transpose(0, 1).flatten(1).norm(dim=1).sum().item() for m in convs[1:])
    expected += w.norm(dim=0).sum().item()
    assert method.penalty_sum(net) == pytest.approx(expected, rel=1e-5)
    assert GroupLasso(terms).penalty() == pytest.approx(0.5 * expected, rel=1e-5)


def test_auto_lambda_makes_the_penalty_a_fifth_of_the_objective():
    lam = method.auto_lambda(2.3, 40.0)
    assert lam * 40.0 / (lam * 40.0 + 2.3) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        method.auto_lambda(2.3, 0.0)


def test_the_regularizer_gradient_is_the_penalty_gradient_and_lambda_is_set_from_the_first_batch():
    net = _net(8).train()
    loss0 = F.cross_entropy(net(_x(4)), torch.tensor([0, 1, 2, 3]))
    lam = method.auto_lambda(loss0.item(), method.penalty_sum(net))
    reg = GroupLasso(method.group_terms(net, lam))
    assert reg.penalty() / (reg.penalty() + loss0.item()) == pytest.approx(0.2)
    # SSL's subgradient hook equals autograd of the penalty (no all-zero group here)
    penalty = sum(t.strength * group_lasso_penalty(t.weight, t.kind) for t in reg.terms)
    weights = [m.weight for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    auto = torch.autograd.grad(penalty, weights)
    for w in weights:
        w.grad = torch.zeros_like(w)
    reg.add_grad_()
    got = [w.grad for w in weights]
    for a, b in zip(auto, got, strict=True):
        torch.testing.assert_close(b, a)


def test_zero_small_uses_the_magnitude_and_only_weights():
    net = _net()
    with torch.no_grad():
        net.conv1.weight[0, 0, 0, :3] = torch.tensor([5e-5, -5e-5, -0.5])
        net.bn1.weight[0] = 5e-5
        net.fc.weight[0, 0] = -9e-5
    method.zero_small_(net)
    assert net.conv1.weight[0, 0, 0, :3].tolist() == [0.0, 0.0, -0.5]  # negative large weights survive
    assert net.fc.weight[0, 0].item() == 0.0
    assert net.bn1.weight[0].item() == pytest.approx(5e-5)  # BN is not a conv or linear weight
    assert all((m.weight.abs() >= 1e-4).logical_or(m.weight == 0).all()
               for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear))


def test_dense_net_is_all_live_and_rebuilds_to_itself():
    net = _net()
    new, _, report = method.reconfigure(net)
    assert new.spec() == net.spec() and report["params_after"] == report["params_before"]
    x = _x()
    torch.testing.assert_close(new(x), net(x))


def test_union_rule_keeps_a_channel_one_reader_uses():
    net = _net(14)
    _kill_stage(net, 1, 2, keep="blocks.3.conv1")  # stage 2's second block reads channel 2 of stage 2
    _kill_stage(net, 2, 5, keep="fc")  # only the linear layer reads channel 5 of stage 3
    _kill_stage(net, 0, 1)  # dead in every layer at the join
    live = method.live_channels(net)
    assert 2 in live["stage"][1].tolist() and 5 in live["stage"][2].tolist()
    assert 1 not in live["stage"][0].tolist() and len(live["stage"][0]) == WIDTHS[0] - 1
    new, _, report = method.reconfigure(net)
    assert report["stage_widths_after"] == (3, 6, 8) and report["forced"] == []
    # a channel dead everywhere is read by nobody: removing it changes nothing even against the unmasked model
    x = _x()
    torch.testing.assert_close(new(x), net(x))


def test_inner_channel_needs_both_its_filter_and_its_consumer_slice():
    net = _net()
    with torch.no_grad():
        net.blocks[0].conv1.weight[1] = 0  # producer dead
        net.blocks[0].conv2.weight[:, 3] = 0  # consumer dead
    assert method.live_channels(net)["inner"][0].tolist() == [0, 2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reconfigured_net_computes_what_the_masked_net_computes(seed):
    net = _net(14, seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for s, w in enumerate(WIDTHS):  # residual channels killed in the union sense (channel 0 spared)
            for c in (1 + torch.randperm(w - 1, generator=g)[: w // 2]).tolist():
                _kill_stage(net, s, c)
        _kill_stage(net, 2, 0, keep="blocks.5.conv2")  # kept: one writer still uses it
        for b in (0, 1, 3, 5):  # random inner channels: producer or consumer side
            block = net.blocks[b]
            for j in torch.randperm(block.conv1.out_channels, generator=g)[:2].tolist():
                (block.conv1.weight.data[j] if (b + j) % 2 else block.conv2.weight.data[:, j]).zero_()
        net.blocks[2].conv1.weight[1:] = 0  # a whole block's inner channels but one
        net.blocks[4].conv2.weight.zero_()  # a whole block's inner channels: forced to keep one
        # scattered zeros inside live groups change nothing structural
        net.blocks[1].conv2.weight.mul_((torch.rand(net.blocks[1].conv2.weight.shape, generator=g) > 0.3).float())
    live = method.live_channels(net)
    new, _, report = method.reconfigure(net)
    assert report["forced"] == ["inner 4"] and new.inner_widths[2] == 1 and new.inner_widths[4] == 1
    assert 0 in live["stage"][2].tolist()
    assert report["params_after"] < report["params_before"]
    assert list(report["stage_widths_after"]) == [len(i) for i in live["stage"]]
    x = _x(seed=seed)
    masked = method.masked_copy(net)
    torch.testing.assert_close(new(x), masked(x))
    assert not torch.allclose(masked(x), net(x))  # the masked model drops the constants of dead inner filters
    # in the masked model a removed channel's activations are exactly 0: inner channels after bn1, streams after
    # every block
    acts = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: acts.__setitem__(n, o)) for n, m in masked.named_modules()
             if n.endswith(".bn1") or n == "bn1" or n.count(".") == 1 and n.startswith("blocks.")]
    masked(x)
    for h in hooks:
        h.remove()
    for b in range(len(masked.blocks)):
        dead_inner = torch.ones(masked.blocks[b].conv1.out_channels, dtype=torch.bool)
        dead_inner[live["inner"][b]] = False
        assert (acts[f"blocks.{b}.bn1"][:, dead_inner] == 0).all()
        dead_stage = torch.ones(masked.blocks[b].conv2.out_channels, dtype=torch.bool)
        dead_stage[live["stage"][b // 2]] = False
        assert dead_stage.any() and (acts[f"blocks.{b}"][:, dead_stage] == 0).all()
    dead0 = torch.ones(WIDTHS[0], dtype=torch.bool)
    dead0[live["stage"][0]] = False
    assert (acts["bn1"][:, dead0] == 0).all()
    # the BN statistics of the kept channels are copied
    kept = live["inner"][0]
    torch.testing.assert_close(new.blocks[0].bn1.running_var, net.blocks[0].bn1.running_var[kept])
    assert not new.training


def test_a_dead_stage_keeps_its_largest_channel():
    net = _net()
    for c in range(WIDTHS[1]):
        _kill_stage(net, 1, c)
    new, _, report = method.reconfigure(net)
    # the inner channels next to the dead stage die with it: block 1's conv2 and block 2's conv1 are all zero
    assert report["forced"] == ["inner 1", "inner 2", "stage 1"] and new.stage_widths[1] == 1
    x = _x()
    torch.testing.assert_close(new(x), method.masked_copy(net)(x))


@pytest.mark.parametrize("carry", [True, False])
def test_optimizer_is_rebuilt_with_sliced_momentum(carry):
    net = _net(8).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(net(_x(4)), torch.tensor([0, 1, 2, 3])).backward()
        opt.step()
    _kill_stage(net, 1, 3)
    with torch.no_grad():
        net.blocks[1].conv1.weight[2] = 0
    live = method.live_channels(net)
    new, new_opt, _ = method.reconfigure(net, opt, carry_state=carry)
    assert type(new_opt) is torch.optim.SGD and new.training
    strip = lambda g: {k: v for k, v in g.items() if k != "params"}  # noqa: E731
    assert [strip(g) for g in new_opt.param_groups] == [strip(g) for g in opt.param_groups]
    assert [id(p) for p in new_opt.param_groups[0]["params"]] == [id(p) for p in new.parameters()]
    if not carry:
        assert len(new_opt.state) == 0
        return
    buf = lambda o, p: o.state[p]["momentum_buffer"]  # noqa: E731
    st, inner = live["stage"], live["inner"]
    torch.testing.assert_close(buf(new_opt, new.blocks[1].conv1.weight),
                               buf(opt, net.blocks[1].conv1.weight)[inner[1]][:, st[0]], rtol=0, atol=0)
    torch.testing.assert_close(buf(new_opt, new.blocks[2].shortcut[0].weight),
                               buf(opt, net.blocks[2].shortcut[0].weight)[st[2]][:, st[1]], rtol=0, atol=0)
    torch.testing.assert_close(buf(new_opt, new.blocks[2].bn2.bias), buf(opt, net.blocks[2].bn2.bias)[st[2]],
                               rtol=0, atol=0)
    torch.testing.assert_close(buf(new_opt, new.fc.weight), buf(opt, net.fc.weight)[:, st[2]], rtol=0, atol=0)
    assert all(buf(new_opt, p).shape == p.shape for p in new.parameters())
    new_opt.step()  # the carried state is usable


def _analytic_forward_flops(net: nn.Module, batch_shape) -> int:
    """2 × the multiply-adds of every conv and linear layer, from the output shapes."""
    macs = []

    def hook(m, inp, out):
        k = m.weight[0].numel()  # in_channels × kernel area (or in_features)
        macs.append(out.numel() * k)

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    with torch.no_grad():
        net(torch.randn(*batch_shape))
    for h in handles:
        h.remove()
    return 2 * sum(macs)


def test_flops_dense_match_the_analytic_count_and_shrink():
    net = _net(8, widths=(8, 8, 8)).train()
    shape = (2, 3, 16, 16)
    dense = method.inference_flops(net, shape)
    assert net.training  # mode restored
    assert dense == pytest.approx(_analytic_forward_flops(net, shape), rel=0.03)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    train = method.train_step_flops(net, shape)
    assert 2.5 * dense < train <= 3 * dense  # backward ≈ 2× forward (no input gradient for the stem)
    assert all(p.grad is None for p in net.parameters()) and net.training
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())  # BN statistics untouched
    for c in range(4):
        _kill_stage(net, 2, c)
    with torch.no_grad():
        net.blocks[0].conv1.weight[:5] = 0
    small = method.reconfigure(net)[0]
    assert method.inference_flops(small, shape) < dense and method.train_step_flops(small, shape) < train


def test_flop_ledger_books_the_architecture_in_force():
    net = _net(8)
    ledger = method.FlopLedger(input_hw=(8, 8))
    per = method.train_step_flops(net, (4, 3, 8, 8))
    assert ledger.add(net, 3, 4) == 3 * per
    _kill_stage(net, 1, 0)
    small = method.reconfigure(net)[0]
    small_per = method.train_step_flops(small, (4, 3, 8, 8))
    ledger.add(small, 5, 4)
    ledger.add(small, 2, 4)
    assert small_per < per and ledger.total == 3 * per + 7 * small_per
    assert [e["steps"] for e in ledger.entries] == [3, 5, 2]
