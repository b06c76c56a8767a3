"""Mutants of progressive ADMM quantization (``bench/mutants.py``).

- ``one-stage-binarization``: the progressive run gets an empty first stage (``first_stage = ()``): stage 1
  binarizes nothing (full-precision fine-tuning, the ADMM engine without targets), stage 2 binarizes all four
  layers at once. The progressive run becomes one-shot binarization with half its ADMM epochs, so the layer
  split the paper credits is gone. Should break ``progressive-beats-oneshot-binary`` (the gain, 1.27 pp
  [-0.35, 2.89] intact on the Xeon and 1.33 pp [0.16, 2.50] on the EPYC, is expected near 0).

``experiment.py`` calls ``lenet.binarize`` on ``bench.compress.mnist_lenet`` at run time; the mutant patches that
module attribute (only for the run under the mutant) with a wrapper that hands the original a copy of the config
whose ``first_stage`` is empty (``BinarizeConfig.__post_init__`` would refuse it, so the copy is not re-validated).
"""

from __future__ import annotations

import copy
from unittest import mock

from bench.compress import mnist_lenet
from bench.mutants import mutant

_binarize = mnist_lenet.binarize


def _binarize_one_stage(cfg, seed, device):
    """The shared recipe's binarization with an empty first stage: every layer binarized in stage 2."""
    cfg = copy.copy(cfg)
    cfg.first_stage = ()
    return _binarize(cfg, seed, device)


@mutant("one-stage-binarization")
def one_stage_binarization():
    """Progressive binarization reduced to one stage (stage 1 binarizes nothing, stage 2 every layer)."""
    with mock.patch.object(mnist_lenet, "binarize", _binarize_one_stage):
        yield
