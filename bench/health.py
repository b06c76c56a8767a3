"""Is a run healthy? Guards that turn a broken run into the verdict ``error`` with its reason in words.

A run that diverged, or whose model sits at chance, must never be judged as a result: a retraining learning
rate of 1e6 drives a classifier to chance while its loss stays finite, and a compression claim can then pass.
Three guards, each cheap:

- :func:`watch`, around each experiment (``bench.execute``): after every optimizer step of every
  ``torch.optim`` optimizer (a global post-step hook, so papers need no change), the parameters it updated
  must be finite. The check is one fused pass (the parameters' total norm, ``torch.nn.utils.get_total_norm``
  with ``foreach``, finite unless a value is not; an overflow of huge finite values is told apart by a
  per-tensor check): about 0.1 ms per step for LeNet-5 on 2 CPU cores. On the CPU it is read each step; on
  CUDA the flags accumulate on the device and are read every :data:`CUDA_SYNC_EVERY` steps and at the end, so
  no step waits on the host. ``bench.train.train`` checks the loss too, every 50 steps.
- :func:`check_metrics`: every metric an experiment returns is finite.
- ``bench.verdict.sanity_failures``: the bounds a healthy run always meets, declared per experiment in ``claims.yaml``
  (``experiments.<name>.sanity``, e.g. ``{final_accuracy_pct: "> 20"}`` for a 10-class model whose chance is
  10%); a seed that breaks one is an ``error`` ("the model is at chance"), judged on cached runs too. At the
  ``smoke`` scale, whose configs train for seconds and often leave a model at chance by design, a broken bound
  is a note on the verdict instead: smoke proves the path, its verdicts are never compared or cited.

This module runs inside every measurement (``bench.execute``), so it is in every paper's code hash
(``bench.provenance``: the import closure); the sanity bounds are judged afterwards, on cached runs too, by
``bench.verdict.sanity_failures``, which is not. A stricter step guard added later does not reach the steps of
runs cached before it (their per-step history is gone): ``--rerun`` measures them again under the current
guards.
"""

from __future__ import annotations

import contextlib
import math
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path

import torch
from torch.nn.utils import get_total_norm
from torch.optim.optimizer import register_optimizer_step_post_hook

CUDA_SYNC_EVERY = 50  # optimizer steps between reads of the device-side finiteness flag on CUDA


class BrokenRun(RuntimeError):
    """A run that must not be judged: it diverged or its model is at chance. The message says why in words."""


class Diverged(BrokenRun, FloatingPointError):
    """Parameters, loss or a metric became NaN or infinite."""


class AtChance(BrokenRun):
    """A metric broke its experiment's sanity bound (a model at chance or worse)."""


class _Watch:
    def __init__(self, label: str):
        self.label = label
        self.steps = 0
        self.pending: torch.Tensor | None = None  # CUDA: all-finite flag since the last read
        self.pending_since = 0

    def hook(self, optimizer: torch.optim.Optimizer, args, kwargs) -> None:
        self.steps += 1
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if not params:
            return
        with torch.no_grad():  # one fused pass: the total norm is finite unless some value is not (or it overflows)
            ok = torch.isfinite(get_total_norm(params, foreach=True))
        if params[0].device.type == "cpu":
            if not bool(ok) and _first_non_finite(params) is not None:  # an overflow of huge finite values is not
                raise Diverged(self._message(optimizer, params, _first_non_finite(params)))
            return
        self.pending = ok if self.pending is None else self.pending & ok
        if self.steps - self.pending_since >= CUDA_SYNC_EVERY:
            self.flush(optimizer, params)

    def flush(self, optimizer=None, params=None) -> None:
        if self.pending is not None and not bool(self.pending) and (
                params is None or _first_non_finite(params) is not None):
            first = self.pending_since + 1
            self.pending = None
            where = self._message(optimizer, params, None) if optimizer is not None else \
                f"{self.label}: parameters not finite"
            raise Diverged(f"{where} (at an optimizer step between {first} and {self.steps})")
        self.pending, self.pending_since = None, self.steps

    def _message(self, optimizer, params, index: int | None) -> str:
        if index is None:
            index = _first_non_finite(params) or 0
        p = params[index]
        n_bad = int((~torch.isfinite(p)).sum())
        return (f"{self.label}: the run diverged: parameter {index + 1} of {len(params)} (shape "
                f"{tuple(p.shape)}) has {n_bad} non-finite values after optimizer step {self.steps} "
                f"({type(optimizer).__name__}, lr {optimizer.param_groups[0].get('lr')})")


def _first_non_finite(params: list[torch.Tensor]) -> int | None:
    """The index of the first tensor holding a NaN or an infinity, or None."""
    for i, p in enumerate(params):
        if not bool(torch.isfinite(p).all()):
            return i
    return None


@contextlib.contextmanager
def watch(label: str) -> Iterator[None]:
    """Check, after every optimizer step inside the block, that the updated parameters are finite.

    Raises :class:`Diverged` naming the step, the parameter's shape and the optimizer's learning rate.
    """
    w = _Watch(label)
    handle = register_optimizer_step_post_hook(w.hook)
    try:
        yield
        w.flush()
    finally:
        handle.remove()


def check_metrics(metrics: Mapping[str, float], label: str) -> None:
    """Raise :class:`Diverged` when a returned metric is NaN or infinite."""
    bad = {m: v for m, v in metrics.items() if not math.isfinite(v)}
    if bad:
        listed = ", ".join(f"{m} = {v}" for m, v in bad.items())
        raise Diverged(f"{label}: the run diverged: non-finite metric(s) {listed}")


def describe(exc: BaseException) -> str:
    """One line for a failed run: the reason in words for a broken run, else the exception and where it rose."""
    if isinstance(exc, BrokenRun):
        return str(exc)
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, FloatingPointError):  # bench.train's loss check: already in words
        return text + where
    return f"{type(exc).__name__}: {text}{where}"
