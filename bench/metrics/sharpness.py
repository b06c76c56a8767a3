"""ε-sharpness of a minimum (Keskar et al., "On Large-Batch Training for Deep Learning", ICLR 2017, Metric 2.1).

    sharpness = 100 · (max_{θ ∈ C_ε} f(θ) − f(θ₀)) / (1 + f(θ₀)),   C_ε = {θ : |θ_i − θ₀_i| ≤ ε(|θ₀_i| + 1)}

f is the mean loss over a fixed set of examples, with the model in eval mode (BatchNorm uses its running
statistics), and the box is taken in the full parameter space (Keskar's ``A = I``). The maximum is searched by
projected gradient ascent with sign steps: θ ← clip_C(θ + α·w∘sign(∇f)), w the box half-widths, α = 2.5 / steps
(the usual PGD step for an L∞ box, here scaled per coordinate, which is the steepest ascent for the box's own
norm); the largest loss seen at any iterate is kept. The result is a lower bound of the true maximum, like
every local search.

Keskar et al. and the SmoothOut code (``measure_sharpness.py``) search with L-BFGS-B limited to 10 iterations
through ``scipy.optimize.fmin_l_bfgs_b``; here the search is first-order and runs on the model's own device,
with the same budget of about 10 gradient evaluations by default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Sharpness:
    """The ε-sharpness (percent), the loss at the minimum and the largest loss found in the box."""

    sharpness: float
    loss: float
    max_loss: float
    epsilon: float
    steps: int


def _loss_and_grad(model: nn.Module, params: list[nn.Parameter], x: torch.Tensor, y: torch.Tensor,
                   loss_fn: Loss, batch_size: int, grad: bool = True) -> tuple[float, list[torch.Tensor] | None]:
    """Mean loss over (x, y) and, when ``grad``, its gradient with respect to ``params``, accumulated over batches."""
    for p in params:
        p.grad = None
    total = 0.0
    with torch.set_grad_enabled(grad):
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            loss = loss_fn(model(xb), yb) * (len(xb) / len(x))
            if grad:
                loss.backward()
            total += loss.item()
    if not grad:
        return total, None
    return total, [p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p) for p in params]


def epsilon_sharpness(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, epsilon: float = 5e-4,
                      steps: int = 10, loss_fn: Loss = F.cross_entropy, batch_size: int = 1000,
                      params: list[nn.Parameter] | None = None) -> Sharpness:
    """Keskar's ε-sharpness of ``model`` at its current parameters on ``(x, y)``; the parameters are restored.

    Args:
        epsilon: the box's relative size ε (Keskar's 1e-3 and 5e-4; SmoothOut's code uses 5e-4).
        steps: gradient-ascent steps (each one forward and backward pass over ``x``).
        params: the parameters to perturb (default: all of the model's, as in Keskar and the SmoothOut code).
    """
    if epsilon <= 0 or steps < 1:
        raise ValueError("epsilon must be positive and steps at least 1")
    params = list(model.parameters()) if params is None else list(params)
    was_training = model.training
    model.eval()
    start = [p.detach().clone() for p in params]
    width = [epsilon * (s.abs() + 1) for s in start]
    alpha = 2.5 / steps
    try:
        f0, grads = _loss_and_grad(model, params, x, y, loss_fn, batch_size)
        best = f0
        for step in range(steps):
            with torch.no_grad():
                for p, g, s, w in zip(params, grads, start, width, strict=True):
                    p.add_(alpha * w * g.sign()).clamp_(min=s - w, max=s + w)  # step, then project onto the box
            # the last iterate needs its loss only
            f, grads = _loss_and_grad(model, params, x, y, loss_fn, batch_size, grad=step < steps - 1)
            best = max(best, f)
    finally:
        with torch.no_grad():
            for p, s in zip(params, start, strict=True):
                p.copy_(s)
                p.grad = None
        model.train(was_training)
    return Sharpness(100.0 * (best - f0) / (1.0 + f0), f0, best, epsilon, steps)
