"""SmoothOut (smoothout_wen2018): noise, denoising, per-filter scaling, ghost BN, schedules, and the MC check."""

import math

import pytest
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn

from papers.smoothout_wen2018 import experiment as exp
from papers.smoothout_wen2018 import method
from papers.smoothout_wen2018.method import (
    GhostBatchLoss,
    SmoothOut,
    large_batch_lr,
    noise_coefficient,
    perturbed_parameters,
    uniform_noise,
)


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3))


def test_denoising_restores_parameters_bit_for_bit():
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    so = SmoothOut(perturbed_parameters(net), 0.3)
    loss_fn = GhostBatchLoss(4, so)
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
    for _ in range(5):
        net.zero_grad()
        loss_fn(net, (x, y))
    for k, v in net.state_dict().items():
        if "running" in k or "num_batches" in k:
            continue
        assert torch.equal(v, before[k]), k  # exact, not approximately equal


def test_noise_is_applied_inside_the_block_and_bn_is_excluded():
    net = _net()
    params = perturbed_parameters(net)
    bn = {id(p) for p in net[1].parameters()}
    assert len(params) == 4 and not any(id(p) in bn for p in params)
    so = SmoothOut(params, 0.1)
    clean = [p.detach().clone() for p in params]
    with so.perturbed(0) as noises:
        for p, c, n in zip(params, clean, noises, strict=True):
            assert torch.allclose(p, c + n) and not torch.equal(p, c)
        assert torch.equal(net[1].weight, torch.ones(5))  # BN's γ untouched


def test_uniform_noise_is_uniform_on_minus_a_a():
    torch.manual_seed(1)
    a = 0.02
    n = uniform_noise(torch.zeros(200, 100), a, adaptive=False).flatten().double()
    assert n.abs().max() <= a
    assert stats.kstest((n.numpy() + a) / (2 * a), "uniform").pvalue > 1e-3
    assert abs(n.mean().item()) < 3 * a / math.sqrt(3 * n.numel())
    assert n.var().item() == pytest.approx(a * a / 3, rel=0.02)


@pytest.mark.parametrize("shape", [(8, 3, 5, 5), (7, 11), (9,)])
def test_adaptive_noise_has_the_filter_norm_times_a(shape):
    torch.manual_seed(2)
    p, a = torch.randn(shape), 0.05
    n = uniform_noise(p, a, adaptive=True)
    rows_n, rows_p = n.view(shape[0], -1).norm(dim=1), p.view(shape[0], -1).norm(dim=1)
    assert torch.allclose(rows_n, a * rows_p, rtol=1e-4)  # the repo's +1e-6 on the noise norm aside
    if len(shape) == 1:  # a bias: each element is its own filter, |n_i| = a·|θ_i|
        assert torch.allclose(n.abs(), a * p.abs(), rtol=1e-4)


def test_ghost_batch_norm_uses_each_ghost_batchs_statistics():
    """Running stats and gradients of a Linear → BN net trained in ghost batches of 4, against a hand computation."""
    torch.manual_seed(3)
    lin, bn = nn.Linear(3, 2), nn.BatchNorm1d(2, momentum=0.1)
    net = nn.Sequential(lin, bn)
    x, y = torch.randn(12, 3), torch.randint(0, 2, (12,))
    w, b = lin.weight.detach().clone(), lin.bias.detach().clone()
    GhostBatchLoss(4, clip_norm=None)(net, (x, y))
    running_mean, running_var = torch.zeros(2), torch.ones(2)
    grad_w = torch.zeros_like(w)
    for xc, yc in zip(x.split(4), y.split(4), strict=True):
        h = xc @ w.T + b
        mu, var = h.mean(0), h.var(0, unbiased=False)
        running_mean = 0.9 * running_mean + 0.1 * mu
        running_var = 0.9 * running_var + 0.1 * h.var(0, unbiased=True)
        wr = w.clone().requires_grad_()
        hr = xc @ wr.T + b
        out = (hr - hr.mean(0)) / torch.sqrt(hr.var(0, unbiased=False) + bn.eps)
        (F.cross_entropy(out, yc) / 3).backward()
        grad_w += wr.grad
        del mu, var
    assert torch.allclose(bn.running_mean, running_mean, atol=1e-6)
    assert torch.allclose(bn.running_var, running_var, atol=1e-6)
    assert torch.allclose(lin.weight.grad, grad_w, atol=1e-6)


def test_ghost_batch_loss_averages_and_returns_a_leaf():
    net = _net().eval()  # eval: BN fixed, so one batch and four ghost batches give the same gradient
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
    F.cross_entropy(net(x), y).backward()
    whole = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    loss = GhostBatchLoss(4)(net, (x, y))
    assert loss.requires_grad and loss.grad_fn is None
    for g, p in zip(whole, net.parameters(), strict=True):
        assert torch.allclose(g, p.grad, atol=1e-6)
    with pytest.raises(ValueError, match="multiple"):
        GhostBatchLoss(5)(net, (x, y))


def test_schedules_and_learning_rate_fix():
    assert noise_coefficient("constant", 7, 10) == 1.0
    assert noise_coefficient("anneal", 0, 10) == 1.0
    assert noise_coefficient("anneal", 99, 100) == pytest.approx(100 ** -0.275)
    assert noise_coefficient("tanh", 50, 100) == pytest.approx(0.5)
    assert noise_coefficient("tanh", 0, 100) < 1e-4 and noise_coefficient("tanh", 100, 100) > 1 - 1e-4
    with pytest.raises(ValueError, match="schedule"):
        noise_coefficient("cosine", 0, 1)
    assert large_batch_lr(0.1, 4096) == pytest.approx(0.1 * math.sqrt(32))
    assert large_batch_lr(0.1, 128) == 0.1
    assert large_batch_lr(0.1, 1024, policy="linear") == pytest.approx(0.8)


def test_lr_schedule_is_piecewise_by_fraction_of_the_run():
    f = exp._lr_multiplier(((0.0, 1.0), (0.2, 0.1), (0.4, 0.01)), 100)
    assert [f(0), f(19), f(20), f(39), f(40), f(99)] == [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]


def test_monte_carlo_check_passes_for_smoothout_and_fails_for_biased_noise(monkeypatch):
    cfg = exp.UnbiasednessConfig(dim=16, samples=3000)
    ok = exp.smoothout_unbiasedness(cfg, 0, torch.device("cpu"))
    assert ok["smoothed_chi2_per_dim"] < 2.5 and ok["plain_chi2_per_dim"] > 50 and ok["restore_max_abs_diff"] == 0
    real = method.uniform_noise
    monkeypatch.setattr(method, "uniform_noise", lambda p, a, adaptive, generator=None: real(p, a, adaptive).abs())
    biased = exp.smoothout_unbiasedness(cfg, 0, torch.device("cpu"))  # noise U(0, a): not the smoothed loss
    assert biased["smoothed_chi2_per_dim"] > 20
