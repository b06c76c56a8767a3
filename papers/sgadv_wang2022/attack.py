"""L∞ PGD with SGADV's similarity losses and its convergence rule, and the face-verification measures.

Re-implemented from the description of ``azrealwang/SGADV`` @ ba7306f (``foolbox/attacks/gradient_descent_base.py``
and ``foolbox/utils.py``, a modified Foolbox; read, not copied):

- similarity ``s = (cos(f(x), t) + 1) / 2`` between an embedding and a template;
- loss ``ST = s − 1`` (SGADV's, maximised: it keeps pushing ``s`` towards 1) and ``C-BCE = log(min(s, τ) / τ)``
  (the baseline: its gradient vanishes once ``s`` passes the threshold ``τ``);
- L∞ PGD: a uniform random start in the ε-ball (Foolbox's ``LinfPGD`` default), then steps of ``step · sign(∇)``,
  projection onto the ε-ball around the original and onto [0, 1];
- the convergence rule, checked before each step on the batch's summed loss over the last 11 values: stop when the
  latest loss is 0, or every one of the 10 differences is below ``threshold · batch`` in magnitude, or exactly 5 of
  the 10 differences are ≤ 0 (oscillation);
- the threshold of the verification system at its equal error rate, from genuine and impostor pairs.

:func:`pgd_linf` takes any loss, so the suite's tests check it against ``torchattacks.PGD`` on the standard
cross-entropy loss (a kept attack library; SGADV's similarity losses are not in it, which is why the harness is
the suite's).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import torch
from torch import nn


def similarity(emb: torch.Tensor, templates: torch.Tensor) -> torch.Tensor:
    """``(cos + 1) / 2`` row by row (SGADV's ``cos_similarity_score``)."""
    return (nn.functional.cosine_similarity(emb, templates, dim=1, eps=1e-6) + 1) / 2


def st_loss(threshold: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """SGADV's loss ``s − 1`` per sample (maximised)."""
    return lambda emb, t: similarity(emb, t) - 1


def cbce_loss(threshold: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The C-BCE baseline ``log(min(s, τ) / τ)`` per sample (maximised; flat once ``s >= τ``)."""
    return lambda emb, t: torch.log(torch.clamp(similarity(emb, t), max=threshold) / threshold)


def converged(losses: deque, tol: float) -> bool:
    """SGADV's ``convergence``: over a full window of 11 summed losses (see the module docstring)."""
    if len(losses) < losses.maxlen:
        return False
    q = torch.tensor(list(losses))
    delta = q[1:] - q[:-1]
    if q[-1].abs() == 0:
        return True
    if bool((delta.abs() < tol).all()):
        return True
    return int((delta <= 0).sum()) == math.floor((len(q) - 1) / 2)


def pgd_linf(model: nn.Module, x: torch.Tensor, target: torch.Tensor,
             loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], epsilon: float, step: float, steps: int,
             random_start: bool = True, convergence: float | None = None,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, int]:
    """Maximise ``loss(model(x'), target).sum()`` over ``‖x' − x‖∞ ≤ ε`` in [0, 1]; return ``(x', steps run)``."""
    x0 = x.detach()
    if random_start:
        noise = torch.rand(x0.shape, generator=generator) * 2 - 1
        xa = (x0 + epsilon * noise.to(x0)).clamp(0, 1)
    else:
        xa = x0.clone()
    window: deque = deque(maxlen=11)
    done = 0
    for _ in range(steps):
        xa.requires_grad_(True)
        value = loss(model(xa), target).sum()
        (grad,) = torch.autograd.grad(value, xa)
        if convergence is not None:
            window.append(float(value.detach()))
            if converged(window, convergence * len(x0)):
                xa = xa.detach()
                break
        with torch.no_grad():
            xa = xa + step * grad.sign()
            xa = torch.min(torch.max(xa, x0 - epsilon), x0 + epsilon).clamp(0, 1)
        done += 1
    return xa.detach(), done


def eer_threshold(genuine: torch.Tensor, impostor: torch.Tensor) -> tuple[float, float]:
    """The similarity threshold where the false match rate equals the false non-match rate, and that rate.

    Swept over every observed score (SGADV interpolates the ROC with brentq; on thousands of pairs the two agree
    to the resolution of the scores)."""
    scores = torch.cat([genuine, impostor]).sort().values
    imp, gen = impostor.sort().values, genuine.sort().values
    fmr = 1 - torch.searchsorted(imp, scores, right=False).double() / len(imp)  # impostors scoring >= threshold
    fnmr = torch.searchsorted(gen, scores, right=False).double() / len(gen)  # genuine pairs scoring < threshold
    i = int((fmr - fnmr).abs().argmin())
    return float(scores[i]), float((fmr[i] + fnmr[i]) / 2)
