"""Mutants of Progressive ADMM (``bench/mutants.py``).

- ``one-stage-pruning``: the progressive run's first stage prunes nothing (its projections keep every weight,
  ``Irregular(0.0)``), so all of the pruning to 246x happens in the second stage, with half the epochs the
  one-shot run spends on it; the progressive schedule, the paper's point, is gone. Should break
  ``progressive-beats-oneshot`` (the gain, 0.64 pp [-0.61, 1.89] intact, is expected at or below 0).
  ``lenet-246x`` is judged too (its rate is still met; its loss is not reproduced intact already).

``experiment.py`` builds each stage's projections with its module-level ``_irregular(rate)`` at run time; the
mutant patches ``experiment._irregular`` so that any rate below the configured target (the stage-1 rate) gives
projections that keep everything. The one-shot run and stage 2 (both at the target) are unchanged.
"""

from __future__ import annotations

from unittest import mock

from bench.compress.admm import Irregular
from bench.mutants import mutant
from papers.progressive_admm_ye2019 import experiment

_irregular = experiment._irregular
_TARGET = experiment.ProgressivePruningConfig.target_rate  # the claims file keeps the default (246x) at every scale


def _final_rate_only(rate: float):
    """Projections of the target rate as before; the intermediate rate prunes nothing."""
    if rate < _TARGET:
        return {n: Irregular(0.0) for n in _irregular(rate)}
    return _irregular(rate)


@mutant("one-stage-pruning")
def one_stage_pruning():
    """Progressive ADMM reduced to one pruning stage (stage 1 prunes nothing; stage 2 prunes straight to 246x)."""
    with mock.patch.object(experiment, "_irregular", _final_rate_only):
        yield
