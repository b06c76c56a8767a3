"""Mutants of SmoothOut (bench/mutants.py).

- ``no-denoising``: ``method.SmoothOut.perturbed`` (used by ``GhostBatchLoss`` and by the unbiasedness check)
  adds the noise and never restores the clean weights. The weights drift by the accumulated noise: the draws no
  longer average to the smoothed gradient at θ, and large-batch training is degraded rather than smoothed: it
  should break ``stochastic-smoothout-unbiased`` (``smoothout_unbiasedness``) and
  ``large-batch-smoothout-closes-gap`` (``fmnist_f1_batch``).
- ``gaussian-noise``: ``method.uniform_noise`` (looked up by ``SmoothOut.perturbed`` in ``method``) draws
  N(0, a²) instead of U(−a, a) for SmoothOut (AdaSmoothOut unchanged). The mean gradient then matches the
  Gaussian-smoothed loss (factor exp(−ω²a²/2) = 0.14 on the check's sine loss, against sin(ωa)/(ωa) = 0.45): it
  should break ``stochastic-smoothout-unbiased`` (``smoothout_unbiasedness``, 3 s).
- ``noise-on-a-copy``: ``method.SmoothOut.perturbed`` draws the noises and yields them but never adds them to
  the parameters the forward pass reads (as when the noise goes onto a detached copy of the weights). Training
  is then plain large-batch SGD: the SmoothOut arms should lose their gain over the large-batch baseline and
  their flatter minima (``large-batch-smoothout-closes-gap``, ``large-batch-adasmoothout-closes-gap``,
  ``flatter-minima``).
"""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import torch

from bench.mutants import mutant
from papers.smoothout_wen2018 import method

_uniform_noise = method.uniform_noise


@contextmanager
def _perturbed_without_denoising(self, step: int):
    """θ ← θ + n for the block, and θ left there afterwards (no de-noising)."""
    a = self.strength_at(step)
    noises = [method.uniform_noise(p, a, self.adaptive, self.generator) for p in self.params] if a else []
    with torch.no_grad():
        for p, n in zip(self.params, noises, strict=True):
            p.add_(n)
    yield noises


def _gaussian_noise(p, strength, adaptive, generator=None):
    """N(0, a²) element-wise for SmoothOut; AdaSmoothOut's noise as in the method."""
    if adaptive:
        return _uniform_noise(p, strength, adaptive, generator)
    return torch.empty_like(p, memory_format=torch.contiguous_format).normal_(0, 1, generator=generator).mul_(strength)


@mutant("no-denoising")
def no_denoising():
    """The noise is never removed before the update: a random walk instead of smoothing."""
    with mock.patch.object(method.SmoothOut, "perturbed", _perturbed_without_denoising):
        yield


@mutant("gaussian-noise")
def gaussian_noise():
    """Gaussian noise of standard deviation a instead of uniform noise on [−a, a]."""
    with mock.patch.object(method, "uniform_noise", _gaussian_noise):
        yield


@contextmanager
def _noise_on_a_copy(self, step: int):
    """The noises drawn (the generator advances as in the method) but the parameters left untouched."""
    a = self.strength_at(step)
    yield [method.uniform_noise(p.detach().clone(), a, self.adaptive, self.generator) for p in self.params] if a \
        else []


@mutant("noise-on-a-copy")
def noise_on_a_copy():
    """The noise is added to a copy of the weights, not to the weights the forward pass uses: no smoothing."""
    with mock.patch.object(method.SmoothOut, "perturbed", _noise_on_a_copy):
        yield
