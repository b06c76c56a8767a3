"""The training loop: determinism, hooks, divergence, batching and augmentation."""

import pytest
import torch

from bench.models import LeNet5, LSTMLanguageModel
from bench.train import (
    LanguageModelLoss,
    accuracy,
    bptt_batches,
    perplexity,
    random_crop_flip,
    seed_everything,
    shuffled_batches,
    steps_for,
    train,
)


def _run(seed, steps=5, **hooks):
    gen = seed_everything(seed)
    x, y = torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses = train(model, shuffled_batches(x, y, 32, gen), steps=steps, optimizer=opt, log_every=1, **hooks)
    return model, losses


def test_same_seed_same_weights_and_losses():
    (a, la), (b, lb) = _run(0), _run(0)
    assert la == lb
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    c, _ = _run(1)
    assert not torch.equal(a.fc2.weight, c.fc2.weight)


def test_hooks_run_in_order_every_step():
    calls = []
    _run(0, steps=3, after_backward=lambda s: calls.append(("grad", s)), after_step=lambda s: calls.append(("step", s)))
    assert calls == [("grad", 0), ("step", 0), ("grad", 1), ("step", 1), ("grad", 2), ("step", 2)]


def test_divergence_raises():
    model = LeNet5()
    x, y = torch.full((64, 1, 28, 28), float("nan")), torch.zeros(64, dtype=torch.long)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match="diverged"):
        train(model, shuffled_batches(x, y, 32, torch.Generator()), steps=2, optimizer=opt)


def test_batches_cover_an_epoch_without_repeats():
    x = torch.arange(10).float().view(10, 1)
    batches = shuffled_batches(x, torch.arange(10), 5, torch.Generator().manual_seed(0))
    seen = torch.cat([next(batches)[1] for _ in range(2)])
    assert sorted(seen.tolist()) == list(range(10))
    with pytest.raises(ValueError, match="exceeds"):
        next(shuffled_batches(x, torch.arange(10), 11, torch.Generator()))


def test_steps_for():
    assert steps_for(1.0, 60000, 64) == 937 and steps_for(0.5, 100, 64) == 1


def test_crop_flip_keeps_shape_and_content():
    x = torch.rand(8, 3, 32, 32)
    out = random_crop_flip(4)(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    # every output row is a (possibly flipped, shifted) piece of the input or zero padding
    assert torch.isin(out[out != 0], x).all()


def test_accuracy_restores_train_mode():
    model = LeNet5().train()
    acc = accuracy(model, torch.rand(10, 1, 28, 28), torch.zeros(10, dtype=torch.long), batch_size=4)
    assert 0.0 <= acc <= 1.0 and model.training


def test_lstm_lm_trains_with_carried_state():
    seed_everything(0)
    ids = torch.arange(8).repeat(200)  # a periodic stream: perplexity should fall towards 1
    model = LSTMLanguageModel(8, hidden=16, layers=1)
    before = perplexity(model, ids, batch_size=4, bptt=10)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    train(model, bptt_batches(ids, 4, 10), steps=60, optimizer=opt, loss_fn=LanguageModelLoss())
    after = perplexity(model, ids, batch_size=4, bptt=10)
    assert before > 6 and after < 1.5


def test_bptt_windows_continue_each_other():
    ids = torch.arange(40)
    x1, y1 = next(bptt_windows := bptt_batches(ids, 2, 5))
    x2, _ = next(bptt_windows)
    assert x1.shape == (2, 5) and torch.equal(y1[:, :-1], x1[:, 1:]) and torch.equal(x2[:, 0], x1[:, -1] + 1)
