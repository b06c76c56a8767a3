"""Mutants of ESMFL's proxy (bench/mutants.py).

- ``no-error-feedback``: ``experiment.topk_encoder`` (looked up by ``mnist_fedavg_topk`` in ``experiment``) drops
  the residual, so 99% of every update is lost for good. Top-k without error feedback at 1% density is known to
  train much worse; it should break ``sparsified-reasonable-accuracy``.
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.esmfl_lin2020 import experiment, method


@mutant("no-error-feedback")
def no_error_feedback():
    """Top-k without the residual."""
    with mock.patch.object(experiment, "topk_encoder", lambda density: method.topk_encoder(density, False)):
        yield
