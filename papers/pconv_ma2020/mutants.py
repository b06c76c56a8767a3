"""Mutants of PCONV's proxy (bench/mutants.py).

- ``random-library``: ``method.extracted_library`` (looked up by the experiment through ``method``) returns a
  random library of the same size, so the "carefully designed" arm is one more random-pattern arm; it should
  break ``designed-patterns``.
- ``no-admm-penalty``: the ADMM engine's penalty gradient is dropped (``experiment.ADMM`` replaced by a subclass
  whose ``add_grad_`` does nothing), so every pruned arm is trained unconstrained, projected once and retrained:
  one-shot pruning instead of ADMM. If ADMM is what keeps pattern pruning accurate, it should break
  ``accuracy-enhancement`` and ``pattern-no-accuracy-loss``.
"""

from __future__ import annotations

from unittest import mock

import torch

from bench.compress.admm import ADMM
from bench.mutants import mutant
from papers.pconv_ma2020 import experiment, method


def _random_instead(model, size):
    return method.random_library(size, torch.Generator().manual_seed(12345))


class _NoPenalty(ADMM):
    def add_grad_(self, step=None):
        return None


@mutant("random-library")
def random_library():
    """The extracted library replaced by a random one."""
    with mock.patch.object(method, "extracted_library", _random_instead):
        yield


@mutant("no-admm-penalty")
def no_admm_penalty():
    """ADMM without its penalty: one-shot projection after unconstrained training."""
    with mock.patch.object(experiment, "ADMM", _NoPenalty):
        yield
