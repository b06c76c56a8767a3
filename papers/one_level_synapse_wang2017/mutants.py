"""One-level synapses' mutants (bench/mutants.py): broken reimplementations of the quantization ladder.

- ``dq-network-wide-alpha``: "distribution-aware" quantization fits ONE level α (the mean |w| of the whole
  network, nearest-level rounding) instead of each layer's own least-squares {−α, 0, +α} fit. DQ then equals
  the naive quantizer, and the quantization regularizer (which pulls toward the DQ levels) pulls toward the
  network-wide levels too. It should break ``mlp-each-step-helps`` and ``cnn-each-step-helps`` (DQ's gain over
  naive quantization becomes 0) and ``mnist-cnn-drop`` (LeNet's layers differ in scale, so one level costs
  accuracy well beyond 0.5 pp).

- ``synapses-not-frozen``: bias tuning trains every parameter, the quantized synapses included (as when the
  optimizer is built over ``model.parameters()`` after the freeze, re-enabling them): the synapses leave their
  three levels. It should break ``mnist-cnn-drop`` (``levels_per_layer <= 3``). It patches ``experiment.train``
  for the run whose ``desc`` is ``"bias tuning"`` only.

``experiment.ladder`` looks the quantizer up as ``method.dq_levels`` and ``QuantizationRegularizer`` as the
module global ``dq_levels``: both read the attribute of ``method`` at call time, in the process that runs the
experiment, so patching ``method.dq_levels`` reaches both.
"""

from __future__ import annotations

from unittest import mock

import torch

from bench.mutants import mutant
from papers.one_level_synapse_wang2017 import experiment, method

_naive_levels = method.naive_levels


@mutant("dq-network-wide-alpha")
def dq_network_wide_alpha():
    """DQ with one network-wide level (mean |w| of all weights, nearest-level rounding) instead of a per-layer
    least-squares fit: the mistake of quantizing the model with one global scale, ignoring each layer's
    weight distribution."""
    with mock.patch.object(method, "dq_levels", _naive_levels):
        yield


_train = experiment.train


def _bias_tuning_unfrozen(model, batches, *args, optimizer=None, desc="", **kwargs):
    """Bias tuning with every parameter trainable and in the optimizer; other training runs unchanged."""
    if desc == "bias tuning":
        for p in model.parameters():
            p.requires_grad_(True)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return _train(model, batches, *args, optimizer=optimizer, desc=desc, **kwargs)


@mutant("synapses-not-frozen")
def synapses_not_frozen():
    """Bias tuning that also updates the quantized synapses (they were not frozen)."""
    with mock.patch.object(experiment, "train", _bias_tuning_unfrozen):
        yield
