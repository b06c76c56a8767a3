"""Mutants of Force Regularization (bench/mutants.py).

- ``force-sign-flipped``: ``method.force_direction`` (looked up by ``ForceRegularization.add_grad_`` in
  ``method``) returns ``-ΔW``: the force repels the filters. Ranks at 5% PCA error should not fall, and the
  force network should lose its edge at equal ranks: it should break ``lenet-lower-rank`` and
  ``lenet-better-low-rank-start`` (``lenet_force``).
- ``rank-per-group``: ``latency.AlexNetConv.group_ranks`` gives every group the table's whole rank instead of
  splitting it (capped at a group's filters): the decomposed MACs of the two-group conv4 and conv5 double and
  the theoretical speedups no longer match Table 4: it should break ``alexnet-theoretical-speedup``
  (``alexnet_lowrank_speedup``; its timed layers change too).
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.forcereg_wen2017 import latency, method

_force_direction = method.force_direction


def _repulsive(weight, kind="constant", zero_threshold=method.ZERO_THRESHOLD):
    """ΔW with its sign flipped: the solver then moves each filter away from the others."""
    return -_force_direction(weight, kind, zero_threshold)


def _rank_per_group(self, rank: int) -> list[int]:
    """The table's rank given to every group (a rank-106 conv4 becomes 106 + 106), capped at a group's filters."""
    return [min(rank, self.filters // self.groups)] * self.groups


@mutant("force-sign-flipped")
def force_sign_flipped():
    """The force's sign flipped: filters repel instead of attract."""
    with mock.patch.object(method, "force_direction", _repulsive):
        yield


@mutant("rank-per-group")
def rank_per_group():
    """A grouped layer's rank read per group instead of summed over the groups."""
    with mock.patch.object(latency.AlexNetConv, "group_ranks", _rank_per_group):
        yield
