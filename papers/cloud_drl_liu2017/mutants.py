"""Mutants of the hierarchical cloud framework (bench/mutants.py).

- ``random-global-tier``: ``experiment._eval_drl`` (looked up by ``cloud_hierarchical`` in ``experiment``)
  evaluates a global tier that picks a server uniformly at random instead of the trained DQN's choice; the learned
  local tier stays. A random allocator spreads jobs over every server, so consolidation and the trade-off go: it
  should break ``best-tradeoff``.
- ``always-on-local-tier``: ``experiment.TimeoutLearner`` (looked up by ``cloud_hierarchical`` and ``_train_drl``
  in ``experiment``) is replaced by a local tier that never lets a server sleep, for the framework and the
  baselines alike. Without sleep an idle server still draws 87 W, so consolidation alone saves little: it should
  break ``energy-saving-vs-round-robin``.
"""

from __future__ import annotations

from unittest import mock

import numpy as np

from bench.mutants import mutant
from papers.cloud_drl_liu2017 import experiment
from papers.cloud_drl_liu2017.simulator import TIMEOUTS, TimeoutLearner

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


class _NeverSleep(TimeoutLearner):
    """A local tier that always picks the infinite timeout and learns nothing."""

    def choose(self, state: int) -> int:
        return TIMEOUTS.index(float("inf"))

    def update(self, state: int, action: int, reward: float) -> None:
        pass


@mutant("always-on-local-tier")
def always_on_local_tier():
    """Servers never sleep."""
    with mock.patch.object(experiment, "TimeoutLearner", _NeverSleep):
        yield
