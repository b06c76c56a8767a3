"""One-level synapses' mutant (bench/mutants.py): a broken reimplementation of distribution-aware quantization.

- ``dq-network-wide-alpha``: "distribution-aware" quantization fits ONE level α (the mean |w| of the whole
  network, nearest-level rounding) instead of each layer's own least-squares {−α, 0, +α} fit. DQ then equals
  the naive quantizer, and the quantization regularizer (which pulls toward the DQ levels) pulls toward the
  network-wide levels too. It should break ``mlp-each-step-helps`` and ``cnn-each-step-helps`` (DQ's gain over
  naive quantization becomes 0) and ``mnist-cnn-drop`` (LeNet's layers differ in scale, so one level costs
  accuracy well beyond 0.5 pp).

``experiment.ladder`` looks the quantizer up as ``method.dq_levels`` and ``QuantizationRegularizer`` as the
module global ``dq_levels``: both read the attribute of ``method`` at call time, in the process that runs the
experiment, so patching ``method.dq_levels`` reaches both.
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.one_level_synapse_wang2017 import method

_naive_levels = method.naive_levels


@mutant("dq-network-wide-alpha")
def dq_network_wide_alpha():
    """DQ with one network-wide level (mean |w| of all weights, nearest-level rounding) instead of a per-layer
    least-squares fit: the mistake of quantizing the model with one global scale, ignoring each layer's
    weight distribution."""
    with mock.patch.object(method, "dq_levels", _naive_levels):
        yield
