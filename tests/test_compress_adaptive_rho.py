"""The adaptive-ρ option (bench/compress/adaptive_rho.py): the rule's branches, per-layer ρ in the penalty and its
gradient, and the dual update unchanged from the engine's."""

import pytest
import torch
from torch import nn

from bench.compress import admm
from bench.compress.adaptive_rho import AdaptiveRhoADMM


def _engine(rho=0.01):
    torch.manual_seed(0)
    a, b = nn.Linear(6, 4), nn.Linear(4, 3)
    return AdaptiveRhoADMM({"a": (a.weight, admm.Irregular(0.5)), "b": (b.weight, admm.Irregular(0.5))}, rho=rho), a, b


@pytest.mark.parametrize("rho,primal,dual,expected", [
    (0.01, 1.0, 100.0, 0.01 / 1.2),   # primal small against dual: shrink
    (0.01, 1.0, 1.0, 0.012),          # otherwise grow by 1.2 at or below 0.02
    (0.02, 1.0, 1.0, 0.024),
    (0.1, 1.0, 1.0, 0.12),            # above 0.02 the growth is +0.02
    (0.1, 1.0, 100.0, 0.1 / 1.2),     # the decrease stays multiplicative
    (0.6, 1.0, 1.0, 0.6),             # frozen above 0.5
    (0.6, 1.0, 100.0, 0.6),
    (0.01, 1.0, 0.0, 0.012),          # Z did not move: grow
])
def test_rule(rho, primal, dual, expected):
    engine, _, _ = _engine()
    assert engine.next_rho(rho, primal, dual) == pytest.approx(expected)


def test_penalty_and_gradient_use_each_layers_rho():
    engine, a, b = _engine()
    engine.rhos = {"a": 0.1, "b": 2.0}
    expected = sum(0.5 * r * (w - engine.Z[n] + engine.U[n]).pow(2).sum()
                   for (n, r), w in zip(engine.rhos.items(), (a.weight, b.weight), strict=True))
    assert torch.allclose(engine.penalty(), expected)
    a.weight.grad = None
    engine.add_grad_()
    assert torch.allclose(a.weight.grad, 0.1 * (a.weight - engine.Z["a"] + engine.U["a"]))


def test_update_matches_the_engine_and_records_each_layers_rho():
    engine, a, b = _engine()
    plain = admm.ADMM({"a": (a.weight, admm.Irregular(0.5)), "b": (b.weight, admm.Irregular(0.5))}, rho=0.01)
    with torch.no_grad():
        a.weight.add_(0.3)
    z_prev = dict(engine.Z)
    engine.update()
    plain.update()
    for n in ("a", "b"):
        assert torch.equal(engine.Z[n], plain.Z[n]) and torch.equal(engine.U[n], plain.U[n])
        w = dict(a=a.weight, b=b.weight)[n].detach()
        primal, dual = float((w - engine.Z[n]).pow(2).sum()), float((engine.Z[n] - z_prev[n]).pow(2).sum())
        assert engine.rhos[n] == pytest.approx(engine.next_rho(0.01, primal, dual))
    assert len(engine.history) == 2 and engine.rho == max(engine.rhos.values())


def test_admm_training_runs_with_it():
    """The engine's training loop takes it where it takes ADMM, and the layers converge to their sets."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    x, y = torch.randn(256, 8), (torch.randn(256) > 0).long()
    engine = AdaptiveRhoADMM({"0": (model[0].weight, admm.Irregular(0.75))}, rho=0.05)
    from bench.train import shuffled_batches
    admm.admm_train(model, engine, shuffled_batches(x, y, 32, torch.Generator().manual_seed(0)), updates=60,
                    steps_per_update=8, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), desc="test")
    assert engine.residuals()["0"] < 0.05
    assert len(engine.history) == 61
    rhos = [h["0"] for h in engine.history]
    assert rhos[-1] > 0.5 and rhos == sorted(rhos)  # grew (×1.2, then +0.02) until frozen above 0.5
