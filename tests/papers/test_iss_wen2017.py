"""ISS's pieces: the groups are what the paper says (checked element by element), the rebuilt LSTM computes exactly
what the masked one did, the zeroing is element-wise, and the mutants change what they claim to."""

from __future__ import annotations

import pytest
import torch

from bench.compress import ptb_lm
from papers.iss_wen2017 import method, mutants


def _lm(hidden: int = 6, vocab: int = 11, seed: int = 0) -> ptb_lm.RecurrentLM:
    torch.manual_seed(seed)
    return ptb_lm.RecurrentLM(vocab, hidden, layers=2, cell="lstm", init_scale=0.5)


def _group(model: ptb_lm.RecurrentLM, layer: int, k: int) -> torch.Tensor:
    """Component k of layer `layer`, gathered element by element from the paper's definition."""
    h, rnn = model.rnn.hidden_size, model.rnn
    w_ih, w_hh = getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}")
    nxt = getattr(rnn, f"weight_ih_l{layer + 1}") if layer + 1 < rnn.num_layers else model.decoder.weight
    parts = [w_ih[g * h + k] for g in range(4)] + [w_hh[g * h + k] for g in range(4)]
    parts += [w_hh[:, k], nxt[:, k]]
    return torch.cat([p.reshape(-1) for p in parts])


def _kill(model: ptb_lm.RecurrentLM, layer: int, k: int) -> None:
    """Zero every weight of component k of layer `layer` (its biases stay)."""
    h, rnn = model.rnn.hidden_size, model.rnn
    nxt = getattr(rnn, f"weight_ih_l{layer + 1}") if layer + 1 < rnn.num_layers else model.decoder.weight
    with torch.no_grad():
        for g in range(4):
            getattr(rnn, f"weight_ih_l{layer}")[g * h + k] = 0
            getattr(rnn, f"weight_hh_l{layer}")[g * h + k] = 0
        getattr(rnn, f"weight_hh_l{layer}")[:, k] = 0
        nxt[:, k] = 0


def test_component_norms_are_the_papers_groups():
    model = _lm()
    sq = [s.detach() for s in method.component_sq_norms(model)]
    assert [s.shape for s in sq] == [(6,), (6,)]
    for layer in range(2):
        for k in range(6):
            # rows and the recurrent column share four elements (w_hh[g·h+k, k]), counted in both (method's note)
            assert float(sq[layer][k]) == pytest.approx(float(_group(model, layer, k).detach().pow(2).sum()), rel=1e-5)
    pen = method.iss_penalty(model, 0.1)
    expected = 0.1 * sum(float(torch.sqrt(_group(model, l_, k).detach().pow(2).sum() + method.EPS))
                         for l_ in range(2) for k in range(6))
    assert float(pen.detach()) == pytest.approx(expected, rel=1e-5)


def test_penalty_gradient_is_finite_on_a_dead_group():
    model = _lm()
    _kill(model, 0, 2)
    method.iss_penalty(model, 1.0).backward()
    assert all(torch.isfinite(p.grad).all() for p in method.grouped_weights(model))
    assert float(model.rnn.weight_hh_l0.grad[:, 2].abs().sum()) == 0.0


def test_shrunk_lstm_computes_exactly_what_the_masked_one_did():
    model = _lm(seed=3)
    for layer, k in [(0, 1), (0, 4), (1, 0), (1, 5), (1, 2)]:
        _kill(model, layer, k)
    alive = method.alive_components(model)
    assert [int(a.sum()) for a in alive] == [4, 3]
    small = method.shrink(model)
    assert small.sizes == (4, 3)
    x = torch.randint(0, 11, (3, 7), generator=torch.Generator().manual_seed(0))
    big_logits, big_state = model(x)
    small_logits, small_state = small(x)
    torch.testing.assert_close(small_logits, big_logits, rtol=1e-5, atol=1e-6)
    # the state carries over to the next window: the same on the kept units
    x2 = torch.randint(0, 11, (3, 5), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(small(x2, small_state)[0], model(x2, big_state)[0], rtol=1e-5, atol=1e-6)
    # the dense copy is the same network
    torch.testing.assert_close(method.as_shrunk(model)(x)[0], big_logits, rtol=1e-5, atol=1e-6)


def test_shrink_refuses_to_cut_the_network():
    model = _lm()
    for k in range(6):
        _kill(model, 1, k)
    with pytest.raises(ValueError, match="lost every component"):
        method.shrink(model)


def test_zeroing_is_element_wise_below_the_threshold():
    model = _lm()
    with torch.no_grad():
        model.rnn.weight_hh_l0[0, 0] = 5e-5
        model.rnn.weight_hh_l0[0, 1] = -2e-4
        model.decoder.weight[0, 0] = -1e-5
    method.zero_small_(model)
    assert float(model.rnn.weight_hh_l0[0, 0]) == 0.0 and float(model.rnn.weight_hh_l0[0, 1]) == pytest.approx(-2e-4)
    assert float(model.decoder.weight[0, 0]) == 0.0
    assert all(bool((w.abs() >= method.ZERO_THRESHOLD).logical_or(w == 0).all()) for w in method.grouped_weights(model))


def test_random_components_mutant_keeps_the_counts_not_the_units():
    model = _lm(seed=2)
    for layer, k in [(0, 0), (0, 1), (0, 2), (1, 3)]:
        _kill(model, layer, k)
    small = mutants._random_shrink(model)
    assert small.sizes == method.shrink(model).sizes == (3, 5)
    assert float(mutants._no_penalty(model, 1.0)) == 0.0
