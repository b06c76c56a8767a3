"""Mutants of the SOT-MRAM PIM proxy (``bench/mutants.py``).

- ``quantize-without-masks``: ``experiment.quantize_admm_`` runs its ADMM stage without ``frozen``: the pruned
  weights get gradients again, and the final projection onto 2-bit levels keeps every one that rounds to a
  nonzero level; a single such weight restores its filter or column of the compacted matrix. Should break
  ``pim-cells-and-operations`` (the cells and operations fall short of the construction).
- ``rounding-instead-of-admm``: ``experiment.quantize_admm_`` becomes ``experiment.quantize_rounding_`` (the stage
  without the ADMM term, then the projection). Both arms are then the same computation on the same data, so
  ``admm_over_rounding_pp`` is 0 on every seed and should break ``admm-beats-rounding``.

The experiment looks both functions up in its module at run time, so the mutants patch that module's attributes.
"""

from __future__ import annotations

from unittest import mock

from bench.compress import mnist_lenet as lenet
from bench.mutants import mutant
from papers.sot_mram_pim_yuan2019 import experiment, method


def _without_masks(model, masks, x, y, cfg, seed, salt):
    """``quantize_admm_`` with the pruning masks left out of the stage."""
    projections = {n: method.quantizer(cfg.weight_bits) for n in method.LAYERS}
    return lenet.admm_stage(model, projections, x, y, experiment._quant_cfg(cfg), seed, salt,
                            epochs=cfg.quant_epochs, desc="admm quantize (no masks)")


@mutant("quantize-without-masks")
def quantize_without_masks():
    """ADMM quantization without the frozen pruning masks: pruned weights come back."""
    with mock.patch.object(experiment, "quantize_admm_", _without_masks):
        yield


@mutant("rounding-instead-of-admm")
def rounding_instead_of_admm():
    """The quantization stage without its ADMM term: direct rounding after training."""
    with mock.patch.object(experiment, "quantize_admm_", experiment.quantize_rounding_):
        yield
