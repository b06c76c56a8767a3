"""The one training loop of the suite, with seeding, in-memory batching, hooks, progress and evaluation.

Data stays as tensors on the training device; a batch is an index into them, so the hot loop does no
per-sample Python work. Papers change training through two hooks, called every step:

- ``after_backward(step)``: gradients are populated, the optimizer has not stepped (add regularizer
  gradients here, as Caffe's solver does in ``Regularize``);
- ``after_step(step)``: parameters were just updated (zero small weights, re-apply masks).
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

Batch = tuple[torch.Tensor, ...]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU generator for data order seeded from ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed + 1_000_003)


def progress_enabled() -> bool:
    """Progress bars are on unless ``BENCH_PROGRESS=0``."""
    return os.environ.get("BENCH_PROGRESS", "1") != "0"


def steps_for(epochs: float, n: int, batch_size: int) -> int:
    """Number of optimizer steps in ``epochs`` passes over ``n`` examples (partial last batches dropped)."""
    return max(1, math.ceil(epochs * (n // batch_size)))


def shuffled_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, generator: torch.Generator,
                     augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None
                     ) -> Iterator[Batch]:
    """Endless mini-batches ``(x[idx], y[idx])``, a fresh permutation each epoch, last partial batch dropped."""
    n = len(x)
    if batch_size > n:
        raise ValueError(f"batch size {batch_size} exceeds the {n} training examples")
    while True:
        perm = torch.randperm(n, generator=generator).to(x.device)
        for i in range(n // batch_size):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            xb = x[idx]
            yield (augment(xb, generator) if augment else xb), y[idx]


def random_crop_flip(pad: int = 4) -> Callable[[torch.Tensor, torch.Generator], torch.Tensor]:
    """Batch-wise CIFAR augmentation: random crop after ``pad`` zero padding and random horizontal flip."""

    def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        b, _, h, w = x.shape  # (B, C, H, W)
        padded = F.pad(x, (pad, pad, pad, pad))
        dx, dy = (torch.randint(0, 2 * pad + 1, (2, b), generator=generator)).to(x.device)
        rows = (dy.view(b, 1) + torch.arange(h, device=x.device)).view(b, 1, h, 1)
        cols = (dx.view(b, 1) + torch.arange(w, device=x.device)).view(b, 1, 1, w)
        out = padded[torch.arange(b, device=x.device).view(b, 1, 1, 1), torch.arange(x.shape[1],
                     device=x.device).view(1, -1, 1, 1), rows, cols]
        flip = (torch.rand(b, generator=generator) < 0.5).to(x.device)
        return torch.where(flip.view(b, 1, 1, 1), out.flip(3), out)

    return augment


def classification_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Cross-entropy of the model's logits on ``(x, y)``."""
    x, y = batch
    return F.cross_entropy(model(x), y)


def train(model: nn.Module, batches: Iterator[Batch], *, steps: int, optimizer: torch.optim.Optimizer,
          scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
          loss_fn: Callable[[nn.Module, Batch], torch.Tensor] = classification_loss,
          after_backward: Callable[[int], None] | None = None, after_step: Callable[[int], None] | None = None,
          desc: str = "train", log_every: int = 50) -> list[float]:
    """Run ``steps`` optimizer steps; return the training loss every ``log_every`` steps.

    Raises:
        FloatingPointError: the loss became NaN or infinite (the run diverged).
    """
    model.train()
    losses: list[float] = []
    bar = tqdm(total=steps, desc=desc, disable=not progress_enabled(), leave=False, mininterval=2.0,
               dynamic_ncols=True)
    for step in range(steps):
        batch = next(batches)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model, batch)
        loss.backward()
        if after_backward is not None:
            after_backward(step)
        optimizer.step()
        if after_step is not None:
            after_step(step)
        if scheduler is not None:
            scheduler.step()
        if step % log_every == 0 or step == steps - 1:
            value = loss.item()
            if not math.isfinite(value):
                bar.close()
                raise FloatingPointError(f"{desc}: loss is {value} at step {step}: the run diverged")
            losses.append(value)
            bar.set_postfix(loss=f"{value:.4f}", refresh=False)
        bar.update()
    bar.close()
    return losses


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy in [0, 1] of ``model`` on ``(x, y)``, in eval mode."""
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += (model(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
    model.train(was_training)
    return correct / len(x)


def bptt_batches(ids: torch.Tensor, batch_size: int, bptt: int) -> Iterator[Batch]:
    """Endless ``(inputs, targets)`` windows ``(B, bptt)`` over a token stream cut into ``batch_size`` rows.

    As in Zaremba et al.'s PTB reader: the stream is split into ``batch_size`` contiguous rows and read left to
    right in windows of ``bptt`` tokens, so a window continues the previous one (carry the LSTM state across).
    """
    rows = len(ids) // batch_size
    if rows <= bptt:
        raise ValueError(f"{len(ids)} tokens are too few for batch {batch_size} × bptt {bptt}")
    data = ids[: rows * batch_size].view(batch_size, rows)  # (B, T)
    while True:
        for i in range(0, rows - 1 - bptt + 1, bptt):
            yield data[:, i:i + bptt], data[:, i + 1:i + 1 + bptt]


class LanguageModelLoss:
    """Mean token cross-entropy of an LSTM LM, carrying its state across windows (detached: truncated BPTT)."""

    def __init__(self):
        self.state = None

    def __call__(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        x, y = batch
        if self.state is not None:
            self.state = tuple(s.detach() for s in self.state)
        logits, self.state = model(x, self.state)  # (B, T, V)
        return F.cross_entropy(logits.flatten(0, 1), y.flatten())


@torch.no_grad()
def perplexity(model: nn.Module, ids: torch.Tensor, batch_size: int = 10, bptt: int = 35) -> float:
    """exp(mean token cross-entropy) of a language model over a token stream, in eval mode."""
    was_training = model.training
    model.eval()
    rows = len(ids) // batch_size
    data = ids[: rows * batch_size].view(batch_size, rows)
    state, total, count = None, 0.0, 0
    for i in range(0, rows - 1, bptt):
        x, y = data[:, i:min(i + bptt, rows - 1)], data[:, i + 1:min(i + 1 + bptt, rows)]
        logits, state = model(x, state)
        total += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
        count += y.numel()
    model.train(was_training)
    return math.exp(total / count)


def caffe_inv_lr(gamma: float = 1e-4, power: float = 0.75) -> Callable[[int], float]:
    """Caffe's ``inv`` learning-rate policy as a LambdaLR factor: ``(1 + gamma·iter)^(−power)``."""
    return lambda it: (1.0 + gamma * it) ** (-power)
