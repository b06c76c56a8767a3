"""Weight unification's pieces: projection, retraining with the unified blocks fixed, and the storage count."""

from __future__ import annotations

import pytest
import torch

from papers.pconv_ma2020.method import conv_weights
from papers.weight_unification_lin2021 import method


def _model():
    torch.manual_seed(0)
    return method.PatternCNN()


def test_projection_unifies_the_share_and_retraining_keeps_it_fixed():
    model = _model()
    tgts = method.targets(model, 0.75)
    frozen = method.FrozenUnified(tgts)
    assert method.unified_share(model) >= 0.75
    before = {n: w.detach().clone() for n, w in conv_weights(model).items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-3)
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(8, 3, 32, 32)).logsumexp(1).mean().backward()
        frozen.apply_grad_()
        opt.step()
        frozen.apply_()
    assert method.unified_share(model) >= 0.75
    for (w, mask, _), name in zip(frozen.frozen, method.UNIFIED, strict=True):
        assert torch.equal(w[mask], before[name][mask])  # unified blocks unchanged, weight decay included
        assert not torch.equal(w[~mask], before[name][~mask])  # the other weights trained
        assert mask.float().mean().item() == pytest.approx(0.75, abs=0.01)


def test_storage_counts_magnitude_signs_and_flags():
    model = _model()
    with torch.no_grad():
        for w in conv_weights(model).values():
            w.fill_(0.5)  # every block unified
    bits, dense = method.storage_bits(model)
    blocks = sum(conv_weights(model)[n].numel() for n in method.UNIFIED) // 4
    assert dense == 32 * 4 * blocks
    assert bits == blocks * (32 + 4) + blocks
    assert method.unified_share(model) == 1.0


def test_signed_mean_mutant_loses_signs():
    from papers.weight_unification_lin2021.mutants import _SignedMean

    v = torch.tensor([[1.0, -1.0, 1.0, -1.0]])
    assert torch.equal(method.Unify(1.0)(v), v)
    assert torch.equal(_SignedMean(1.0)(v), torch.zeros_like(v))
