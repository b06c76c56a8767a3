"""Mutants of ISS's proxy (bench/mutants.py).

- ``no-group-lasso``: ``method.iss_penalty`` returns 0 (looked up by the experiment through ``method``): the ISS
  arm trains without the group Lasso, with the per-step zeroing only, so the rebuilt LSTM keeps (almost) every
  unit. Should break ``speedup-without-perplexity-loss`` (its size criterion) and ``cpu-inference-speedup``.
- ``random-components``: ``method.shrink`` keeps, in every layer, a random set of as many components as survived
  instead of the surviving ones (the dense reference, built with explicit ``keep``, is untouched). Should break
  ``speedup-without-perplexity-loss`` and ``beats-same-size-from-scratch`` if which units ISS keeps matters.
"""

from __future__ import annotations

from unittest import mock

import torch

from bench.mutants import mutant
from papers.iss_wen2017 import method

_shrink = method.shrink


def _no_penalty(model, lam, size_weighted=False):
    return torch.zeros((), device=model.decoder.weight.device)


def _random_shrink(model, keep=None):
    if keep is not None:
        return _shrink(model, keep)
    g = torch.Generator().manual_seed(0)
    chosen = []
    for alive in method.alive_components(model):
        k = torch.zeros_like(alive)
        k[torch.randperm(len(alive), generator=g)[:int(alive.sum())].to(alive.device)] = True
        chosen.append(k)
    return _shrink(model, chosen)


@mutant("no-group-lasso")
def no_group_lasso():
    """ISS without its group Lasso."""
    with mock.patch.object(method, "iss_penalty", _no_penalty):
        yield


@mutant("random-components")
def random_components():
    """The rebuilt LSTM keeps random components of the learned sizes."""
    with mock.patch.object(method, "shrink", _random_shrink):
        yield
