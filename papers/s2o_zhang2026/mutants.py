"""Mutants of S2O (bench/mutants.py).

- ``no-permutation``: ``experiment.s2o_blocks`` (looked up by ``ptb_sparse_attention`` in ``experiment``) keeps
  the early stop but drops the online permutation: the blocks are the contiguous ones, ordered by their pooled
  score q̄·k̄/√d, and loading stops at the first whose score relative to the best block falls below τ. Top-k at
  matched density then loads the same blocks, so S2O's advantage should vanish: it should break
  ``lower-mse-matched-sparsity`` and ``lower-density-matched-mse``.
"""

from __future__ import annotations

import math
from unittest import mock

import torch

from bench.mutants import mutant
from papers.s2o_zhang2026 import experiment, method


def _contiguous_early_stop(q, k, block, tau):
    n, nb = q.shape[0], q.shape[0] // block
    pooled = method._pooled(q, block) @ method._pooled(k, block).T / math.sqrt(q.shape[-1])  # (nb, nb)
    causal = torch.ones(nb, nb, dtype=torch.bool).tril()
    pooled = pooled.masked_fill(~causal, float("-inf"))
    top = pooled.max(dim=1, keepdim=True).values
    chosen = (pooled >= top + math.log(tau)) & torch.ones(nb, nb, dtype=torch.bool).tril(-1)
    chosen |= torch.eye(nb, dtype=torch.bool)
    return chosen.repeat_interleave(block, dim=1)[:, :n], chosen.sum(1)


@mutant("no-permutation")
def no_permutation():
    """Early stopping over contiguous blocks instead of permuted ones."""
    with mock.patch.object(experiment, "s2o_blocks", _contiguous_early_stop):
        yield
