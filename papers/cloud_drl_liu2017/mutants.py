"""Mutants of the hierarchical cloud framework (bench/mutants.py).

- ``random-global-tier``: ``experiment._eval_drl`` (looked up by ``cloud_hierarchical`` in ``experiment``)
  evaluates a global tier that picks a server uniformly at random instead of the trained DQN's choice; the learned
  local tier stays. A random allocator spreads jobs over every server, so consolidation and the trade-off go: it
  should break ``best-tradeoff``.
"""

from __future__ import annotations

from unittest import mock

import numpy as np

from bench.mutants import mutant
from papers.cloud_drl_liu2017 import experiment

_eval_drl = experiment._eval_drl


class _Random:
    def __init__(self, servers: int):
        self.rng, self.servers = np.random.default_rng(0), servers

    def predict(self, obs, deterministic=True):
        return int(self.rng.integers(self.servers)), None


def _random_eval(model, local, cfg, works):
    return _eval_drl(_Random(cfg.servers), local, cfg, works)


@mutant("random-global-tier")
def random_global_tier():
    """A uniformly random global tier at evaluation."""
    with mock.patch.object(experiment, "_eval_drl", _random_eval):
        yield
