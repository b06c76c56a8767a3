"""TrueNorth learning method's mutant (bench/mutants.py): a broken reimplementation of the variance penalty.

- ``penalty-without-gradient``: the penalty λ·Σ p(1 − p) enters the loss detached from the weights (as when the
  deployment's variance metric, a plain number, is added to the loss instead of the differentiable penalty).
  The loss shifts by a constant, no gradient pushes the connection probabilities toward 0 or 1, and the
  method trains exactly as the baseline. It should break ``fewer-cores`` and ``speedup-6.5x``: the method's
  copy curve is then the baseline's own (same weights, same draws), so its figures are those of the baseline
  against itself: at most 1 for the cores ratio and at least 1 for the speedup, not exactly 1, since the first
  K whose ensemble reaches the baseline's K = 16 (or 32) accuracy can come earlier on a flat, noisy curve
  (smoke: cores ratio 0.62 and 0.81, speedup 3.2 of 32 copies).

``experiment._train`` looks the penalty up as ``method.variance_penalty`` at call time, in the process that runs
the experiment (no worker processes), so patching ``method.variance_penalty`` reaches it.
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.truenorth_wen2016 import method

_variance_penalty = method.variance_penalty


def _detached_penalty(model, mult):
    return _variance_penalty(model, mult).detach()


@mutant("penalty-without-gradient")
def penalty_without_gradient():
    """The variance penalty added to the loss without its gradient (detached): the method trains as the
    baseline, the slip of adding the deployment's variance metric to the loss instead of the penalty."""
    with mock.patch.object(method, "variance_penalty", _detached_penalty):
        yield
