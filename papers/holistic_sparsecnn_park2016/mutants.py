"""Mutants of Holistic SparseCNN's proxies (bench/mutants.py).

- ``inverted-guidance``: the guidance prunes exactly the layers its performance model rejects (crossover above
  ``reach``) and leaves dense those it accepts. If the model's choice is what makes guided pruning pay, this should
  break ``guided-beats-uniform`` (speed) or ``size-and-speed``.
- ``no-threshold``: SkimCaffe's gradient-aware threshold does nothing, so L1 only shrinks the weights and none
  becomes exactly zero. The sparsity, and with it the size and the speed, come from the threshold: this should
  break ``size-and-speed``.
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.holistic_sparsecnn_park2016 import method


def _inverted(crossover_by_layer, reach):
    return [n for n, c in crossover_by_layer.items() if c > reach]


@mutant("inverted-guidance")
def inverted_guidance():
    """The guidance prunes the layers its model rejects."""
    with mock.patch.object(method, "guided_layers", _inverted):
        yield


@mutant("no-threshold")
def no_threshold():
    """No gradient-aware threshold: L1 shrinkage alone."""
    with mock.patch.object(method.GradientAwareL1, "threshold_", lambda self, step=None: None):
        yield
