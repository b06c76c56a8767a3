"""Conv-M's DA pieces: the gradient reversal, the multi-kernel MMD and the parameter matching."""

from __future__ import annotations

import torch

from papers.conv_m_wu2017.experiment import BLOCKS, SQUEEZE
from papers.conv_m_wu2017.method import DomainCritic, Net, blend_backgrounds, mmd, params, reverse_gradient


def test_reverse_gradient_flips_and_scales():
    x = torch.randn(5, 3, requires_grad=True)
    (reverse_gradient(x, 0.3) * torch.arange(3.0)).sum().backward()
    assert torch.allclose(x.grad, -0.3 * torch.arange(3.0).expand(5, 3))


def test_critic_pushes_features_against_the_domain_classifier():
    """One SGD step on the critic's loss lowers it for the critic and raises it for the (reversed) features."""
    torch.manual_seed(0)
    critic = DomainCritic(4, hidden=8)
    fs = (torch.randn(32, 4) + 1).requires_grad_()
    ft = (torch.randn(32, 4) - 1).requires_grad_()
    loss = critic(fs, ft, 1.0)
    loss.backward()
    with torch.no_grad():
        for p in critic.parameters():
            p -= 0.1 * p.grad
        after_critic = critic(fs, ft, 1.0)
        moved = critic(fs - 0.1 * fs.grad, ft - 0.1 * ft.grad, 1.0)
    assert after_critic < loss
    assert moved > after_critic


def test_mmd_zero_for_one_sample_and_grows_with_shift():
    torch.manual_seed(0)
    a = torch.randn(64, 16)
    assert mmd(a, a).abs() < 1e-5
    near, far = mmd(a, torch.randn(64, 16) + 0.2), mmd(a, torch.randn(64, 16) + 2.0)
    assert 0 < near < far
    # bandwidths follow the scale: scaling both samples leaves the discrepancy unchanged
    b = torch.randn(64, 16) + 1.0
    assert torch.isclose(mmd(a, b), mmd(10 * a, 10 * b), rtol=1e-4)


def test_mmd_gradient_is_finite_with_duplicate_points():
    a = torch.zeros(8, 4, requires_grad=True)
    mmd(a, torch.ones(8, 4)).backward()
    assert torch.isfinite(a.grad).all()


def test_fire_matched_to_convm_parameters():
    convm, fire = params(Net(BLOCKS["convm"], SQUEEZE["convm"])), params(Net(BLOCKS["fire"], SQUEEZE["fire"]))
    assert abs(convm / fire - 1) < 0.01


def test_blend_is_abs_difference_of_patch_and_digit():
    g = torch.Generator().manual_seed(0)
    digits = torch.zeros(2, 28, 28, dtype=torch.uint8)
    digits[:, 10:18, 10:18] = 255
    bg = torch.full((1, 3, 32, 32), 51, dtype=torch.uint8)
    x = blend_backgrounds(digits, bg, g)
    assert torch.allclose(x[:, :, 0, 0], torch.tensor(0.2))
    assert torch.allclose(x[:, :, 12, 12], torch.tensor(0.8))
