"""Mutants of Conv-M's proxy (bench/mutants.py).

- ``no-adaptation-term``: ``experiment.da_loss`` (looked up by ``_train`` in ``experiment``) returns zero, so every
  "DA-trained" network is trained on the source alone. Conv-M with DA is then the same training as Conv-M source
  only, so ``da-objective-helps`` should break (its gain falls to the seed-to-seed noise of one training).
- ``convm-is-fire``: ``experiment.BLOCKS["convm"]`` is SqueezeNet's fire module (at Conv-M's squeeze widths, so
  with fewer parameters than the widened fire baseline): whatever Conv-M's extra branches add is gone, so
  ``conv-m-recovers-da`` should break.
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.conv_m_wu2017 import experiment, method


def _no_da(fs, ft, logits_t, critic, ramp, *weights):
    return fs.sum() * 0


@mutant("no-adaptation-term")
def no_adaptation_term():
    """The DA loss is zero: source-only training under the DA label."""
    with mock.patch.object(experiment, "da_loss", _no_da):
        yield


@mutant("convm-is-fire")
def convm_is_fire():
    """Conv-M's block replaced by the fire module."""
    with mock.patch.dict(experiment.BLOCKS, {"convm": method.Fire}):
        yield
