"""ε-sharpness (bench.metrics.sharpness) on a loss whose maximum over the box is known."""

import pytest
import torch
from torch import nn

from bench.metrics.sharpness import epsilon_sharpness


class _Quadratic(nn.Module):
    """Model whose "loss" is ½ Σ h_i θ_i² + c whatever the input: its maximum over a box is at a corner."""

    def __init__(self, theta, h, c):
        super().__init__()
        self.theta, self.h, self.c = nn.Parameter(theta), h, c

    def forward(self, x):
        return (0.5 * (self.h * self.theta ** 2).sum() + self.c).expand(len(x))


def test_sharpness_of_a_quadratic_matches_the_box_corner_and_restores_parameters():
    torch.manual_seed(0)
    theta, h, c = torch.randn(50) * 0.01, torch.rand(50) + 0.5, 0.3
    model = _Quadratic(theta.clone(), h, c)
    eps = 1e-2
    res = epsilon_sharpness(model, torch.zeros(4, 1), torch.zeros(4), epsilon=eps, steps=10,
                            loss_fn=lambda out, y: out.mean())
    w = eps * (theta.abs() + 1)
    f0 = (0.5 * (h * theta ** 2).sum() + c).item()
    fmax = (0.5 * (h * (theta.abs() + w) ** 2).sum() + c).item()  # move each θ_i away from 0 by w_i
    assert res.loss == pytest.approx(f0, rel=1e-5)
    assert res.max_loss == pytest.approx(fmax, rel=1e-4)
    assert res.sharpness == pytest.approx(100 * (fmax - f0) / (1 + f0), rel=1e-3)
    assert torch.equal(model.theta.detach(), theta) and model.training


def test_sharpness_is_larger_for_a_sharper_minimum():
    x = torch.zeros(2, 1)
    theta = torch.full((10,), 1e-3)  # near, not at, the minimum: at a zero gradient sign steps cannot start
    flat = epsilon_sharpness(_Quadratic(theta.clone(), torch.ones(10), 0.0), x, torch.zeros(2),
                             loss_fn=lambda out, y: out.mean(), epsilon=1e-2)
    sharp = epsilon_sharpness(_Quadratic(theta.clone(), 100 * torch.ones(10), 0.0), x, torch.zeros(2),
                              loss_fn=lambda out, y: out.mean(), epsilon=1e-2)
    assert flat.sharpness > 0 and sharp.sharpness > 50 * flat.sharpness
