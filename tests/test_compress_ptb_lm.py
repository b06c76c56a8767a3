"""The shared PTB recurrent LM recipe: both cells learn a periodic stream, the state is carried across windows,
the weights helper names what a pruning paper constrains, and the pruning arm keeps its constraint."""

from __future__ import annotations

import pytest
import torch

from bench.compress import ptb_lm
from bench.compress.admm import Irregular
from bench.train import perplexity


def _periodic(n: int = 4000, period: int = 7, vocab: int = 12) -> torch.Tensor:
    return (torch.arange(n) % period) % vocab


def _cfg(cell: str, **kw) -> ptb_lm.PTBPruneConfig:
    base = dict(cell=cell, hidden=16, layers=2, batch_size=4, bptt=10, lr=1.0, clip=5.0, pretrain_epochs=3.0,
                decay_after=10.0, eval_batch=4)
    return ptb_lm.PTBPruneConfig(**{**base, **kw})


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_perplexity_falls_on_a_periodic_stream(cell):
    torch.manual_seed(0)
    ids = _periodic()
    cfg = _cfg(cell, hidden=32, lr=2.0, pretrain_epochs=4.0)
    model = ptb_lm.build_model(cfg, 12, torch.device("cpu"))
    before = ptb_lm.lm_perplexity(model, ids[:800], cfg)
    ptb_lm.train_lm(model, ids, cfg, epochs=cfg.pretrain_epochs)
    after = ptb_lm.lm_perplexity(model, ids[:800], cfg)
    assert before > 8 and after < 1.5  # near-uniform over 12 words, then the period is learnt


@pytest.mark.parametrize("cell,size", [("gru", 1), ("lstm", 2)])
def test_state_is_a_tuple_and_is_carried(cell, size):
    torch.manual_seed(0)
    model = ptb_lm.RecurrentLM(12, hidden=8, layers=2, cell=cell).eval()
    x = torch.randint(0, 12, (3, 10))
    logits, state = model(x)
    assert logits.shape == (3, 10, 12) and isinstance(state, tuple) and len(state) == size
    assert all(s.shape == (2, 3, 8) for s in state)
    # two windows with the state carried equal one long window
    a, s1 = model(x[:, :4])
    b, _ = model(x[:, 4:], s1)
    torch.testing.assert_close(torch.cat([a, b], 1), logits)
    # bench.train.perplexity takes the tuple state back
    assert perplexity(model, torch.randint(0, 12, (200,)), batch_size=2, bptt=5) > 1


def test_truncated_bptt_wrapper_detaches_the_carried_state():
    torch.manual_seed(0)
    wrapped = ptb_lm.TruncatedBPTT(ptb_lm.RecurrentLM(12, hidden=8, layers=1, cell="lstm"))
    x = torch.randint(0, 12, (2, 5))
    assert wrapped(x).shape == (10, 12)
    assert all(s.requires_grad for s in wrapped.state)
    wrapped(x).sum().backward()  # a second window: no backward through the first one's graph
    assert wrapped.state is not None


@pytest.mark.parametrize("cell,gates", [("gru", 3), ("lstm", 4)])
def test_recurrent_weights_are_the_ih_and_hh_matrices(cell, gates):
    model = ptb_lm.RecurrentLM(50, hidden=8, layers=2, cell=cell)
    ws = ptb_lm.recurrent_weights(model)
    assert list(ws) == ["weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"]
    assert all(w.shape == (gates * 8, 8) for w in ws.values())
    assert all(w is getattr(model.rnn, n) for n, w in ws.items())


def test_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="cell"):
        ptb_lm.RecurrentLM(10, cell="rnn")


def test_decay_schedule_halves_after_the_given_epochs():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = ptb_lm.decay_schedule(opt, _cfg("gru"), steps_per_epoch=10, lr_decay=0.5, decay_after=2.0)
    f = sched.lr_lambdas[0]
    assert [f(0), f(19), f(20), f(29), f(30)] == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_clipped_sgd_clips_the_global_norm():
    p = torch.nn.Parameter(torch.zeros(4))
    opt = ptb_lm.ClippedSGD([p], lr=1.0, clip=1.0)
    p.grad = torch.full((4,), 10.0)
    opt.step()
    assert float(p.detach().norm()) == pytest.approx(1.0)


def test_clipped_adam_clips_before_its_step_and_the_optimizer_is_chosen_by_name():
    p = torch.nn.Parameter(torch.zeros(4))
    opt = ptb_lm.make_optimizer([p], _cfg("gru", optimizer="adam"), lr=0.1)
    assert isinstance(opt, ptb_lm.ClippedAdam) and opt.clip == 5.0
    p.grad = torch.tensor([100.0, 0.0, 0.0, 0.0])
    opt.step()
    assert p.grad.norm() == pytest.approx(5.0)  # clipped in place before Adam's update
    assert float(p.detach()[0]) == pytest.approx(-0.1, rel=1e-3) and float(p.detach()[1:].abs().sum()) == 0.0
    assert isinstance(ptb_lm.make_optimizer([p], _cfg("gru"), lr=1.0), ptb_lm.ClippedSGD)
    with pytest.raises(ValueError, match="optimizer"):
        ptb_lm.make_optimizer([p], _cfg("gru", optimizer="lion"), lr=1.0)


def test_admm_prune_arm_meets_its_ratio_and_dense_arm_stays_dense():
    torch.manual_seed(0)
    ids = _periodic(3000)
    cfg = _cfg("gru", pretrain_epochs=1.0, admm_epochs=0.5, retrain_epochs=0.3, admm_lr=0.5, retrain_lr=0.5, rho=0.1)
    base = ptb_lm.build_model(cfg, 12, torch.device("cpu"))
    projs = {n: Irregular(0.75) for n in ptb_lm.recurrent_weights(base)}
    pruned = ptb_lm.admm_prune_lm(base, projs, ids, cfg)
    assert ptb_lm.kept_fraction(pruned.model) == pytest.approx(0.25, abs=1e-3)
    assert 0 <= pruned.residual < 1.5 and ptb_lm.kept_fraction(base) == 1.0  # the base is not touched
    dense = ptb_lm.admm_prune_lm(base, {}, ids, cfg)
    assert dense.residual == 0.0 and ptb_lm.kept_fraction(dense.model) == 1.0
    with pytest.raises(KeyError):
        ptb_lm.admm_prune_lm(base, {"decoder": Irregular(0.5)}, ids, cfg)
