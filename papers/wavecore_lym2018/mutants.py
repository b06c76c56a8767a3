"""Mutants of MBS (bench/mutants.py).

- ``no-inter-layer-reuse``: ``method.greedy_groups`` (looked up by ``experiment.run`` at call time) returns every
  layer as a group of its own, so no activation stays on chip between layers and MBS degenerates to layer-by-layer
  execution: traffic, time and energy equal the baseline's (reduction 0, speedup 1). It should break
  ``dram-traffic-73pct`` (and would break the performance and energy claims were they reproduced).
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.wavecore_lym2018 import method


def _singletons(net, batch, buffer, word, inner="store"):
    return method.singletons(net)


@mutant("no-inter-layer-reuse")
def no_inter_layer_reuse():
    """Groups of one layer: no inter-layer reuse, MBS is the baseline."""
    with mock.patch.object(method, "greedy_groups", _singletons):
        yield
