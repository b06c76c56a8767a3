"""SmoothOut and AdaSmoothOut: uniform noise on the weights for each ghost mini-batch, removed before the update.

Following ``main_gbn.py`` of ``wenwei202/smoothout`` (the authors' PyTorch 0.3 code):

- a large batch of B examples is split into ghost mini-batches of ``ghost_size`` (128) examples; each one is
  forwarded and back-propagated on its own, so BatchNorm normalizes with the statistics of its 128 examples
  (ghost batch normalization, Hoffer et al. 2017) and updates its running statistics once per ghost batch;
- before each ghost batch's forward pass every parameter outside the BatchNorm layers gets fresh noise
  θ ← θ + n (**SmoothOut**: n ~ U(−a, a) element-wise; **AdaSmoothOut**: u ~ U(−1, 1) per filter, rescaled to
  the norm a·‖θ_filter‖, where a filter is a slice along dim 0: an output neuron's weights, a conv filter, or
  for a 1-D bias each element on its own); after its backward pass the noise is removed (*denoising*), so the
  gradient is taken at θ + n and applied to θ;
- the ghost gradients are averaged, their global norm clipped to 5, and SGD steps once;
- the noise strength is a × a schedule coefficient: ``constant`` 1, ``anneal`` (1 + t)^(−0.55/2), ``tanh``
  (tanh(10·(t/T − 1/2)) + 1)/2, with t the update step and T the number of steps of the run;
- the learning rate of a large batch is the small-batch rate × sqrt(B / 128) (``--lr_bb_fix``, ``sqrt``).

One deliberate difference: denoising restores the clean parameters saved before the noise was added instead
of subtracting the noise. In float32 (θ + n) − n is not always θ; the saved copy makes denoising exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext

import torch
import torch.nn.functional as F
from torch import nn

SCHEDULES = ("constant", "anneal", "tanh")


def large_batch_lr(lr: float, batch_size: int, base_batch: int = 128, policy: str = "sqrt") -> float:
    """The repo's learning-rate fix for a large batch: ``lr·sqrt(B/128)`` (or ``lr·B/128`` with ``linear``)."""
    ratio = batch_size / base_batch
    if policy == "sqrt":
        return lr * math.sqrt(ratio)
    if policy == "linear":
        return lr * ratio
    raise ValueError(f"unknown learning-rate policy {policy!r} (sqrt or linear)")


def noise_coefficient(schedule: str, step: int, total_steps: int, anneal_index: float = 0.55,
                      tanh_scale: float = 10.0) -> float:
    """The factor on the noise strength at update ``step`` of ``total_steps`` (``main_gbn.py``'s schedules)."""
    if schedule == "constant":
        return 1.0
    if schedule == "anneal":
        return (1.0 / (1 + step) ** anneal_index) ** 0.5
    if schedule == "tanh":
        return (math.tanh(tanh_scale * (step / total_steps - 0.5)) + 1.0) / 2.0
    raise ValueError(f"unknown noise schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")


def perturbed_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Every parameter of ``model`` except those of its BatchNorm layers (the repo's ``--exclude-bn``)."""
    excluded = {id(p) for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
                for p in m.parameters(recurse=False)}
    return [p for p in model.parameters() if id(p) not in excluded]


def uniform_noise(p: torch.Tensor, strength: float, adaptive: bool, generator: torch.Generator | None = None
                  ) -> torch.Tensor:
    """Noise for one parameter tensor: U(−a, a) element-wise, or per filter with norm a·‖θ_filter‖ (adaptive).

    ``generator`` (optional) must live on ``p``'s device; without one torch's global generator is used.
    """
    u = torch.empty_like(p, memory_format=torch.contiguous_format).uniform_(-1, 1, generator=generator)
    if not adaptive:
        return u.mul_(strength)
    rows_u = u.view(p.shape[0], -1) if p.dim() else u.view(1, 1)  # (filters, fan-in)
    rows_p = p.detach().view(p.shape[0], -1) if p.dim() else p.detach().view(1, 1)
    # the repo adds 1e-6 to the noise norm; a filter's noise gets the filter's own norm, times a
    scale = rows_p.norm(dim=1, keepdim=True) / (rows_u.norm(dim=1, keepdim=True) + 1e-6)
    return rows_u.mul_(scale * strength).view(p.shape)


class SmoothOut:
    """Noise injection and denoising around each ghost mini-batch, for a fixed set of parameters.

    ``strength`` is a (the half-width of the uniform noise, or the noise-to-filter norm ratio when
    ``adaptive``); ``schedule`` scales it over ``total_steps`` update steps.
    """

    def __init__(self, params: Sequence[nn.Parameter], strength: float, *, adaptive: bool = False,
                 schedule: str = "constant", total_steps: int = 1, generator: torch.Generator | None = None):
        if strength < 0:
            raise ValueError(f"noise strength must be ≥ 0, not {strength}")
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown noise schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")
        self.params = list(params)
        self.strength = strength
        self.adaptive = adaptive
        self.schedule = schedule
        self.total_steps = max(1, total_steps)
        self.generator = generator
        self._clean: list[torch.Tensor] | None = None  # the clean parameters during a perturbed block

    def strength_at(self, step: int) -> float:
        return self.strength * noise_coefficient(self.schedule, step, self.total_steps)

    @contextmanager
    def perturbed(self, step: int) -> Iterator[list[torch.Tensor]]:
        """θ ← θ + n for the duration of the block (yielding the noises), then θ restored exactly."""
        a = self.strength_at(step)
        if a == 0:
            yield []
            return
        if self._clean is None:
            self._clean = [torch.empty_like(p, memory_format=torch.contiguous_format) for p in self.params]
        clean = self._clean
        with torch.no_grad():
            for p, c in zip(self.params, clean, strict=True):
                c.copy_(p)
        noises = [uniform_noise(p, a, self.adaptive, self.generator) for p in self.params]
        with torch.no_grad():
            for p, n in zip(self.params, noises, strict=True):
                p.add_(n)
        try:
            yield noises
        finally:
            with torch.no_grad():
                for p, c in zip(self.params, clean, strict=True):
                    p.copy_(c)  # denoising


class GhostBatchLoss:
    """A ``loss_fn`` for :func:`bench.train.train` that back-propagates a large batch ghost batch by ghost batch.

    Each ghost mini-batch of ``ghost_size`` examples is forwarded on its own (ghost BN), inside SmoothOut's
    noise when ``smoothout`` is given, and back-propagated with weight 1/(number of ghost batches), so the
    accumulated gradient is their average, as the repo's division by ``len(mini_inputs)``. The gradients are
    complete when this returns; the returned loss (the mean ghost loss, for logging and divergence checks) is
    a detached leaf, so the training loop's own ``backward()`` on it adds nothing. Clip the gradient norm in
    ``after_backward`` (:meth:`clip`).
    """

    def __init__(self, ghost_size: int, smoothout: SmoothOut | None = None, clip_norm: float | None = 5.0):
        if ghost_size < 1:
            raise ValueError("ghost_size must be positive")
        self.ghost_size = ghost_size
        self.smoothout = smoothout
        self.clip_norm = clip_norm
        self.step = 0

    def __call__(self, model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        if len(x) % self.ghost_size:
            raise ValueError(f"batch of {len(x)} is not a multiple of the ghost batch {self.ghost_size}")
        chunks = len(x) // self.ghost_size
        total = torch.zeros((), device=x.device)  # summed on the device: no host sync per ghost batch
        for xc, yc in zip(x.split(self.ghost_size), y.split(self.ghost_size), strict=True):
            with self.smoothout.perturbed(self.step) if self.smoothout is not None else nullcontext():
                loss = F.cross_entropy(model(xc), yc)
                (loss / chunks).backward()
            total += loss.detach()
        self.step += 1
        return (total / chunks).requires_grad_()

    def clip(self, model: nn.Module) -> None:
        """Clip the global gradient norm to ``clip_norm`` (the repo's ``clip_grad_norm(…, 5.)``)."""
        if self.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.clip_norm)
