"""Mutants of the generative poisoning attack (bench/mutants.py).

- ``generator-not-trained``: ``experiment.generative_poisons`` (looked up by ``mnist_poisoning`` in ``experiment``)
  runs zero poisoning rounds, so the "poisons" are the pretrained auto-encoder's reconstructions of the seeds with
  shifted labels: nothing optimises them against the target. Their degradation should fall to about the
  unoptimised seeds', below half the direct method's: it should break ``comparable-degradation``.
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.poisoning_yang2017 import experiment, method


def _untrained(model, params, ae, seeds, y_p, xc, yc, rounds=10, lr=method.GENERATOR_LR):
    return method.generative_poisons(model, params, ae, seeds, y_p, xc, yc, 0, lr)


@mutant("generator-not-trained")
def generator_not_trained():
    """No generator rounds."""
    with mock.patch.object(experiment, "generative_poisons", _untrained):
        yield
