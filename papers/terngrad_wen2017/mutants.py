"""TernGrad's mutants (bench/mutants.py): broken reimplementations of its gradient exchange.

- ``model-wide-scaler``: every worker ternarizes all of its quantized gradient tensors with ONE scaler
  (c·σ of the whole flattened gradient) instead of one per layer, in every TernGrad arm. It should break
  ``lenet-no-accuracy-loss`` (calibration seed 1000 at the cpu schedule: one scaler was 1.13 pp worse than
  layer-wise scalers, so the gap to fp32 grows past 0.5 pp).
- ``deterministic-rounding``: ``distributed.ternarize`` keeps a gradient element when ``|g| > s/2`` (rounding
  ``|g|/s`` to the nearest of 0 and 1) instead of with probability ``|g|/s``: the ternary gradient is no longer
  unbiased, and with ``s = 2.5σ`` most elements round to zero. It should break ``lenet-no-accuracy-loss``.

The exchange runs in worker processes that ``distributed.launch`` starts from a forkserver: fresh interpreters,
which a patch made in the parent does not reach. So each mutant patches ``experiment.launch`` (where ``run_arms``
looks it up) with a wrapper that hands the workers :func:`_mutated_worker` (a module-level function of this
file, importable in the workers) and the mutant's name; each worker enters that mutant's patch there, in its own
process, and then calls the original worker function. ``model-wide-scaler`` wraps ``GradientExchange.__init__``
so that a TernGrad exchange is built with ``model_wide_scaler=True`` (the path of the suite's own one-scaler
ablation); ``deterministic-rounding`` replaces ``distributed.ternarize``.
"""

from __future__ import annotations

import dataclasses
from unittest import mock

import torch

from bench.mutants import mutant
from papers.terngrad_wen2017 import distributed, experiment

_original_init = distributed.GradientExchange.__init__
_original_launch = distributed.launch


def _model_wide_init(self, params, cfg, generator=None):
    if cfg.mode == "terngrad":
        cfg = dataclasses.replace(cfg, model_wide_scaler=True)
    _original_init(self, params, cfg, generator)


def _rounded_ternarize(grad, s, generator=None):
    """Deterministic ternarization: sign(g) where |g| > s/2, else 0 (biased, unlike TernGrad's sampling)."""
    g = grad.detach()
    keep = g.abs().float() > float(s) / 2
    return (torch.sign(g).to(torch.int8) * keep.to(torch.int8)).reshape(grad.shape)


_WORKER_PATCHES = {
    "model-wide-scaler": lambda: mock.patch.object(distributed.GradientExchange, "__init__", _model_wide_init),
    "deterministic-rounding": lambda: mock.patch.object(distributed, "ternarize", _rounded_ternarize),
}


def _mutated_worker(rank: int, world: int, name: str, fn, *args):
    """Run in a worker process: apply mutant ``name``'s patch here, then the experiment's own worker function."""
    with _WORKER_PATCHES[name]():
        return fn(rank, world, *args)


def _launcher(name: str):
    def launch(fn, world_size, args=(), **kwargs):
        return _original_launch(_mutated_worker, world_size, (name, fn, *args), **kwargs)
    return launch


@mutant("model-wide-scaler")
def model_wide_scaler():
    """One scaler for the whole model's gradient instead of one per layer, in every TernGrad arm: the mistake of
    ternarizing a fused gradient buffer (as all-reduce libraries fuse tensors) rather than each layer."""
    with mock.patch.object(experiment, "launch", _launcher("model-wide-scaler")):
        yield


@mutant("deterministic-rounding")
def deterministic_rounding():
    """Ternarize by rounding |g|/s to 0 or 1 instead of sampling: the mistake of dropping the stochastic
    rounding that makes the ternary gradient unbiased."""
    with mock.patch.object(experiment, "launch", _launcher("deterministic-rounding")):
        yield
