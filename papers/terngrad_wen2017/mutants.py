"""TernGrad's mutant (bench/mutants.py): a broken reimplementation of its gradient exchange.

- ``model-wide-scaler``: every worker ternarizes all of its quantized gradient tensors with ONE scaler
  (c·σ of the whole flattened gradient) instead of one per layer, in every TernGrad arm. It should break
  ``lenet-no-accuracy-loss`` (calibration seed 1000 at the cpu schedule: one scaler was 1.13 pp worse than
  layer-wise scalers, so the gap to fp32 grows past 0.5 pp).

The exchange runs in worker processes that ``distributed.launch`` starts from a forkserver: fresh interpreters,
which a patch made in the parent does not reach. So the mutant patches ``experiment.launch`` (where ``run_arms``
looks it up) with a wrapper that hands the workers :func:`_model_wide_worker` (a module-level function of this
file, importable in the workers) as their function; each worker enters the patch there, in its own process, and
then calls the original worker function. The patch itself wraps ``GradientExchange.__init__`` so that a TernGrad
exchange is built with ``model_wide_scaler=True`` (the path of the suite's own one-scaler ablation).
"""

from __future__ import annotations

import dataclasses
from unittest import mock

from bench.mutants import mutant
from papers.terngrad_wen2017 import distributed, experiment

_original_init = distributed.GradientExchange.__init__
_original_launch = distributed.launch


def _model_wide_init(self, params, cfg, generator=None):
    if cfg.mode == "terngrad":
        cfg = dataclasses.replace(cfg, model_wide_scaler=True)
    _original_init(self, params, cfg, generator)


def _model_wide_worker(rank: int, world: int, fn, *args):
    """Run in a worker process: apply the patch here, then the experiment's own worker function."""
    with mock.patch.object(distributed.GradientExchange, "__init__", _model_wide_init):
        return fn(rank, world, *args)


def _launch_model_wide(fn, world_size, args=(), **kwargs):
    return _original_launch(_model_wide_worker, world_size, (fn, *args), **kwargs)


@mutant("model-wide-scaler")
def model_wide_scaler():
    """One scaler for the whole model's gradient instead of one per layer, in every TernGrad arm: the mistake of
    ternarizing a fused gradient buffer (as all-reduce libraries fuse tensors) rather than each layer."""
    with mock.patch.object(experiment, "launch", _launch_model_wide):
        yield
