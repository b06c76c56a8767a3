"""Mutants of SGADV (bench/mutants.py).

- ``st-saturates``: ``experiment.st_loss`` (looked up by ``fmnist_verification`` in ``experiment``) returns the
  C-BCE loss, whose gradient vanishes once the similarity reaches the threshold. SGADV's attack then stops where
  the baseline stops, just past the attacked template's threshold, and its gray-box advantage should vanish: it
  should break ``gray-box-outperforms``.
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.sgadv_wang2022 import attack, experiment


@mutant("st-saturates")
def st_saturates():
    """SGADV's loss saturates at the threshold."""
    with mock.patch.object(experiment, "st_loss", attack.cbce_loss):
        yield
