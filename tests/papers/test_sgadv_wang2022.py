"""SGADV's PGD harness against a kept attack library, its losses, convergence rule and EER threshold."""

from __future__ import annotations

from collections import deque

import pytest
import torch
from torch import nn

from papers.sgadv_wang2022.attack import cbce_loss, converged, eer_threshold, pgd_linf, similarity, st_loss


def test_pgd_matches_torchattacks_on_cross_entropy():
    torchattacks = pytest.importorskip("torchattacks")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10)).eval()
    x, y = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    ref = torchattacks.PGD(model, eps=0.03, alpha=0.005, steps=20, random_start=False)(x, y)
    ours, steps = pgd_linf(model, x, y, lambda out, t: nn.functional.cross_entropy(out, t, reduction="none"),
                           epsilon=0.03, step=0.005, steps=20, random_start=False)
    assert steps == 20
    assert torch.allclose(ours, ref, atol=1e-6)
    assert (ours - x).abs().max() <= 0.03 + 1e-6 and ours.min() >= 0 and ours.max() <= 1


def test_losses_by_hand():
    a, b = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    assert similarity(a, b).item() == pytest.approx(0.5)  # orthogonal: (0 + 1) / 2
    assert st_loss(0.7)(a, b).item() == pytest.approx(-0.5)
    assert cbce_loss(0.7)(a, b).item() == pytest.approx(torch.log(torch.tensor(0.5 / 0.7)).item())
    assert cbce_loss(0.7)(a, a).item() == pytest.approx(0.0)  # flat once the threshold is passed
    assert st_loss(0.7)(a, a).item() == pytest.approx(0.0)


def test_convergence_rule():
    q: deque = deque(maxlen=11)
    for v in range(10):
        q.append(float(v))
        assert not converged(q, 1e-4)  # window not full
    q.append(10.0)
    assert not converged(q, 1e-4)  # still rising by 1 each step
    flat: deque = deque([5.0 + 1e-6 * i for i in range(11)], maxlen=11)
    assert converged(flat, 1e-4)
    wobble: deque = deque([0.0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0], maxlen=11)
    assert converged(wobble, 1e-4)  # exactly 5 of 10 differences are <= 0


def test_eer_threshold_of_separated_scores():
    genuine, impostor = torch.tensor([0.8, 0.9, 0.95]), torch.tensor([0.1, 0.2, 0.3])
    thr, eer = eer_threshold(genuine, impostor)
    assert thr == pytest.approx(0.8) and eer == 0.0  # the lowest score that rejects every impostor
