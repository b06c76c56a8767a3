"""Mutants of Trained Rank Pruning (bench/mutants.py).

- ``no-rank-substitution``: ``experiment.TrainedRankPruning`` (the name ``resnet_trp`` looks up) is replaced by
  the same class with ``substitute=False``: the SVD and the nuclear-norm subgradient still run on every
  period, but the weights are never replaced by their truncated reconstruction. The deployed network then
  keeps most of its singular values above the threshold (few FLOPs saved) and is no better than the baseline
  decomposed post hoc at equal FLOPs: it should break ``trp-beats-posthoc`` and ``resnet20-channel``
  (``resnet20_trp_channel``).
"""

from __future__ import annotations

import functools
from unittest import mock

from bench.mutants import mutant
from papers.trp_xu2018 import experiment, method


@mutant("no-rank-substitution")
def no_rank_substitution():
    """TRP without the periodic low-rank substitution: nuclear norm only."""
    with mock.patch.object(experiment, "TrainedRankPruning",
                           functools.partial(method.TrainedRankPruning, substitute=False)):
        yield
