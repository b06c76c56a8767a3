"""The ADMM engine (bench/compress/admm.py): projections are Euclidean projections onto their sets; the penalty,
its gradient and the dual update follow the formulas; masked retraining never revives a pruned weight."""

import itertools
import math

import pytest
import torch
from torch import nn

from bench.compress import admm
from bench.train import shuffled_batches

SPARSE = [admm.Irregular(0.6), admm.Filter(0.5), admm.Column(0.5), admm.FilterColumn(0.5, column_ratio=0.5)]
QUANT = [admm.Binary(), admm.Ternary(), admm.KBit(bits=2), admm.KBit(bits=3), admm.KBit(bits=4)]


def _cases(n: int = 12):
    gen = torch.Generator().manual_seed(0)
    shapes = [(4, 6), (3, 2, 2, 2), (5, 3), (2, 3, 3, 1)]
    for i in range(n):
        yield torch.randn(shapes[i % len(shapes)], generator=gen, dtype=torch.float64) * (0.1 + i)


def _random_member(proj, shape, gen) -> torch.Tensor:
    """A random point of the projection's set."""
    v = torch.randn(shape, generator=gen, dtype=torch.float64)
    if isinstance(proj, admm.Sparsity):  # a random support of the allowed size, random values
        m = v.reshape(shape[0], -1)
        rows, cols = m.shape
        keep = torch.zeros_like(m, dtype=torch.bool)
        if isinstance(proj, admm.Irregular):
            keep.view(-1)[torch.randperm(m.numel(), generator=gen)[:admm._kept(m.numel(), proj.ratio)]] = True
        else:
            kr = admm._kept(rows, proj.ratio) if not isinstance(proj, admm.Column) else rows
            kc = cols
            if isinstance(proj, admm.Column):
                kc = admm._kept(cols, proj.ratio)
            if isinstance(proj, admm.FilterColumn):
                kc = admm._kept(cols, proj.column_ratio)
            r = torch.randperm(rows, generator=gen)[:kr]
            c = torch.randperm(cols, generator=gen)[:kc]
            keep[r[:, None], c[None, :]] = True
        return (m * keep).reshape(shape)
    alpha = float(torch.rand(1, generator=gen)) * 3
    top = proj.max_level
    low = 1 if isinstance(proj, admm.Binary) else 0
    q = torch.randint(low, top + 1, shape, generator=gen) * torch.where(torch.rand(shape, generator=gen) < .5, -1, 1)
    return alpha * q.double()


@pytest.mark.parametrize("proj", SPARSE + QUANT, ids=lambda p: repr(p))
def test_projection_is_in_the_set_idempotent_and_no_sampled_point_is_closer(proj):
    gen = torch.Generator().manual_seed(1)
    for v in _cases():
        p = proj(v)
        assert p.shape == v.shape
        if isinstance(proj, admm.Sparsity):
            assert proj.contains(p)
            assert torch.equal(p[proj.support(v)], v[proj.support(v)])  # kept weights unchanged
        else:
            alpha, q = proj.levels(v)
            assert alpha >= 0 and torch.equal(q, q.round()) and q.abs().max() <= proj.max_level
            if isinstance(proj, admm.Binary):
                assert bool((q.abs() == 1).all())
            torch.testing.assert_close(p, alpha * q)
        torch.testing.assert_close(proj(p), p)  # idempotent
        dist = (p - v).norm()
        for _ in range(300):
            assert (_random_member(proj, v.shape, gen) - v).norm() >= dist - 1e-9


def _brute_sparse(proj, v):
    """The exact projection by enumeration of supports (small cases)."""
    m = v.reshape(v.shape[0], -1)
    rows, cols = m.shape
    if isinstance(proj, admm.Irregular):
        k = admm._kept(m.numel(), proj.ratio)
        return float(torch.sort(m.flatten().abs(), descending=True).values[:k].pow(2).sum())
    kr = rows if isinstance(proj, admm.Column) else admm._kept(rows, proj.ratio)
    kc = cols
    if isinstance(proj, admm.Column):
        kc = admm._kept(cols, proj.ratio)
    if isinstance(proj, admm.FilterColumn):
        kc = admm._kept(cols, proj.column_ratio)
    best = 0.0
    for r in itertools.combinations(range(rows), kr):
        for c in itertools.combinations(range(cols), kc):
            best = max(best, float(m[list(r)][:, list(c)].pow(2).sum()))
    return best


@pytest.mark.parametrize("proj", SPARSE, ids=lambda p: repr(p))
def test_sparse_projections_match_brute_force(proj):
    for v in _cases(8):
        kept = float(proj(v).pow(2).sum())
        assert kept == pytest.approx(_brute_sparse(proj, v), rel=1e-9)


def test_filter_column_fallback_is_a_local_maximum_at_least_as_good_as_sequential_pruning():
    gen = torch.Generator().manual_seed(3)
    proj = admm.FilterColumn(0.5, column_ratio=0.6, exact_limit=0)  # force the alternating search
    for _ in range(10):
        v = torch.randn(10, 12, generator=gen, dtype=torch.float64) * torch.rand(10, 1, generator=gen)
        p = proj(v)
        assert proj.contains(p)
        sequential = admm.Column(0.6)(admm.Filter(0.5)(v))
        assert float(p.pow(2).sum()) >= float(sequential.pow(2).sum()) - 1e-12
        exact = admm.FilterColumn(0.5, column_ratio=0.6)(v)  # C(10, 5) = 252 subsets: exact
        assert float(exact.pow(2).sum()) >= float(p.pow(2).sum()) - 1e-12


@pytest.mark.parametrize("bits", [2, 3, 4])
def test_kbit_scale_is_the_best_on_a_fine_grid_and_the_large_case_path_is_close(bits):
    gen = torch.Generator().manual_seed(bits)
    proj = admm.KBit(bits=bits)
    for _ in range(5):
        v = torch.randn(200, generator=gen, dtype=torch.float64)
        err = float((proj(v) - v).norm())
        top = float(v.abs().max())
        for alpha in torch.linspace(1e-3, top, 4000, dtype=torch.float64):
            q = torch.clamp(torch.round(v.abs() / alpha), max=proj.max_level)
            assert float((alpha * q - v.abs()).norm()) >= err - 1e-9
    if bits == 4:  # the subsampled start + refinement on a layer beyond the exact limit
        v = torch.randn(50_000, generator=gen, dtype=torch.float64)
        approx = admm.KBit(bits=4, exact_limit=30_000)
        exact = float((proj(v) - v).norm())
        assert float((approx(v) - v).norm()) <= exact * 1.001


def test_ternary_beats_the_threshold_alternation_of_the_authors_code():
    gen = torch.Generator().manual_seed(5)
    for _ in range(20):
        v = torch.randn(300, generator=gen, dtype=torch.float64) ** 3
        alpha = float(v.abs().mean())
        for _ in range(6):  # threshold 0.5·α, α = mean magnitude above it
            keep = v.abs() > 0.5 * alpha
            alpha = float(v.abs()[keep].mean())
        alternated = alpha * torch.sign(v) * keep
        assert float((admm.Ternary()(v) - v).norm()) <= float((alternated - v).norm()) + 1e-12


def _layer():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    return model, {"0": (model[0].weight, admm.Irregular(0.5)), "2": (model[2].weight, admm.Filter(1 / 3))}


def test_penalty_gradient_and_updates_follow_the_formulas():
    model, targets = _layer()
    engine = admm.ADMM(targets, rho=0.01, rho_mult=1.5, rho_max=0.02)
    for n, (w, proj) in targets.items():  # Z starts at the projection of W, U at zero
        torch.testing.assert_close(engine.Z[n], proj(w.detach()))
        assert not engine.U[n].any()
    with torch.no_grad():
        for w, _ in targets.values():
            w.add_(0.3)
    w0 = {n: w.detach().clone() for n, (w, _) in targets.items()}
    # penalty = Σ 0.5·ρ·‖W − Z + U‖², its autograd gradient equals the hook's
    pen = engine.penalty()
    expected = sum(0.5 * 0.01 * (w0[n] - engine.Z[n]).pow(2).sum() for n in targets)
    torch.testing.assert_close(pen, expected)
    pen.backward()
    auto = {n: w.grad.clone() for n, (w, _) in targets.items()}
    for w, _ in targets.values():
        w.grad = None
    engine.add_grad_(0)
    for n, (w, _) in targets.items():
        torch.testing.assert_close(w.grad, auto[n])
        torch.testing.assert_close(w.grad, 0.01 * (w0[n] - engine.Z[n]))
    # update: Z ← Π(W + U), U ← U + W − Z, ρ ← min(ρ·mult, max)
    u_before = {n: engine.U[n].clone() for n in targets}
    engine.update()
    for n, (_, proj) in targets.items():
        torch.testing.assert_close(engine.Z[n], proj(w0[n] + u_before[n]))
        torch.testing.assert_close(engine.U[n], u_before[n] + w0[n] - engine.Z[n])
    assert engine.rho == pytest.approx(0.015)
    engine.update()
    assert engine.rho == pytest.approx(0.02)  # capped
    engine.update()
    assert engine.rho == pytest.approx(0.02) and engine.updates == 3


def test_hard_projection_then_masked_retraining_never_revives_a_pruned_weight():
    model, targets = _layer()
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    engine = admm.ADMM(targets, rho=0.1)
    batches = shuffled_batches(x, y, 16, torch.Generator().manual_seed(0))
    admm.admm_train(model, engine, batches, updates=3, steps_per_update=4,
                    optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    assert engine.updates == 3
    masks = engine.project_()
    for n, (w, proj) in targets.items():
        assert proj.contains(w.detach())
        assert torch.equal(masks.masks[n][1], w.detach() != 0)
    pruned = {n: ~m for n, (_, m) in masks.masks.items()}
    # Adam with weight decay: moments and decay would move zero-gradient weights without the re-masking
    opt = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=0.01)
    admm.masked_retrain(model, masks, batches, steps=30, optimizer=opt,
                        after_step=lambda s: [None for n, (w, _) in targets.items()
                                              if w.detach()[pruned[n]].abs().sum() != 0 and pytest.fail(n)])
    for n, (w, _) in targets.items():
        assert not w.detach()[pruned[n]].any()
        assert w.detach()[~pruned[n]].ne(0).all()  # the kept weights did train


def test_progressive_stage_keeps_frozen_zeros_while_the_target_rises():
    model, _ = _layer()
    w = model[0].weight
    stage1 = admm.ADMM({"0": (w, admm.Irregular(0.5))}, rho=0.1)
    masks = stage1.project_()
    zero_after_stage1 = w.detach() == 0
    stage2 = admm.ADMM({"0": (w, admm.Irregular(0.8))}, rho=0.1)
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    admm.admm_train(model, stage2, shuffled_batches(x, y, 16, torch.Generator().manual_seed(1)), updates=2,
                    steps_per_update=4, optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                    frozen=masks)
    assert not w.detach()[zero_after_stage1].any()
    final = stage2.project_().merged(masks)
    assert int((w.detach() != 0).sum()) == admm._kept(w.numel(), 0.8)
    assert not w.detach()[zero_after_stage1].any() and final.kept()["0"] == admm._kept(w.numel(), 0.8)


def test_prune_ratios_are_validated_and_rates_counted():
    with pytest.raises(ValueError):
        admm.Irregular(1.0)(torch.ones(3))
    with pytest.raises(ValueError):
        admm.KBit(bits=1)
    w = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    assert admm.prune_rate({"w": w}) == 4.0
    assert math.isclose(admm.prune_rate({"a": w, "b": torch.ones(4)}), 8 / 5)
