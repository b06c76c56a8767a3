"""Mutants of Hydraulis (bench/mutants.py).

- ``homogeneous-plans-only``: ``experiment.propose`` (looked up by ``simulate`` in ``experiment``) keeps, of the
  DP's candidate plans, only those of a single ⟨TP, PP⟩ strategy (the optimizer-holding strategy's homogeneous
  plan, always first, among them). Stage-1 dispatch and stage-2 packing stay, so what remains of the speedup is
  the data assignment's; the heterogeneity goes. It should break ``speedup-over-homogeneous``.
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.hydraulis_li2024 import experiment, planner


def _homogeneous(strategies, gpus, lengths, max_len, step=128, weight=1.0):
    return [p for p in planner.propose(strategies, gpus, lengths, max_len, step, weight)
            if len({(k.tp, k.pp) for k in p}) == 1]


@mutant("homogeneous-plans-only")
def homogeneous_plans_only():
    """Plans of one strategy only."""
    with mock.patch.object(experiment, "propose", _homogeneous):
        yield
