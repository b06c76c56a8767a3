"""Mutants of weight unification's proxy (bench/mutants.py).

- ``no-admm-penalty``: the ADMM engine's penalty gradient is dropped (``experiment.ADMM`` replaced by a subclass
  whose ``add_grad_`` does nothing): the ADMM arm trains unconstrained, is projected once and retrained. It should
  break ``admm-unification``.
- ``signed-mean``: ``Unify.__call__`` (looked up by the experiment through ``method``'s targets) sets a unified
  block to the mean of its signed values in every position, so a block of mixed signs collapses towards zero: the
  "unification" destroys information the paper's set keeps. It should break ``low-degradation``.
"""

from __future__ import annotations

from dataclasses import dataclass
from unittest import mock

import torch

from bench.compress.admm import ADMM
from bench.compress.structured import Unify
from bench.mutants import mutant
from papers.weight_unification_lin2021 import experiment, method


class _NoPenalty(ADMM):
    def add_grad_(self, step=None):
        return None


@dataclass(frozen=True)
class _SignedMean(Unify):
    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        b = self._blocks(v)
        pick = self.unified(v)
        out = b.clone()
        out[pick] = b[pick].mean(1, keepdim=True).expand_as(b[pick])
        return self._unblock(out, v)


@mutant("no-admm-penalty")
def no_admm_penalty():
    """ADMM without its penalty: one-shot unification after unconstrained training."""
    with mock.patch.object(experiment, "ADMM", _NoPenalty):
        yield


@mutant("signed-mean")
def signed_mean():
    """Unified blocks take their signed mean: signs are lost."""
    with mock.patch.object(method, "Unify", _SignedMean):
        yield
