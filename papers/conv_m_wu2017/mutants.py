"""Mutants of Conv-M's proxy (bench/mutants.py).

- ``no-adaptation-term``: ``experiment.da_loss`` (looked up by ``_train`` in ``experiment``) returns zero, so every
  "DA" training is source-only training: the DA objective's gain over source-only should vanish and break
  ``da-objective-helps``.
- ``convm-is-fire``: ``experiment.BLOCKS`` maps ``convm`` to the fire module (with Conv-M's narrower squeezes),
  so the "Conv-M" network has no dilated or deconvolution branch: if Conv-M's gain over fire comes from its
  diverse branches, this should break ``conv-m-recovers-da``.
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.conv_m_wu2017 import experiment, method


@mutant("no-adaptation-term")
def no_adaptation_term():
    """The DA term is zero."""
    with mock.patch.object(experiment, "da_loss", lambda fs, ft, logits_t, entropy_weight: fs.sum() * 0):
        yield


@mutant("convm-is-fire")
def convm_is_fire():
    """Conv-M's branches replaced by a fire module's."""
    with mock.patch.dict(experiment.BLOCKS, {"convm": method.Fire}):
        yield
