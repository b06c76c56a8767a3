"""Real data-parallel training: worker processes exchanging gradients over ``torch.distributed``.

- :class:`GradientExchange` averages the workers' gradients in place after ``backward()``: the fp32 baseline
  all-reduces them as floats; TernGrad all-reduces the per-tensor scalers with MAX (scaler sharing),
  ternarizes each tensor with the shared scaler, packs all signs 2 bits each into one byte buffer, all-gathers
  the buffers and decodes their mean. Tensors left unquantized (the last layer, by default) are all-reduced as
  floats. ``bytes_sent`` counts the bytes of every tensor this worker hands to a collective.
- :func:`launch` starts N worker processes (``forkserver``; gloo on CPU, nccl on GPUs), each with its rank, and
  returns what each returned. A worker that raises, dies or outlives ``timeout_s`` fails the launch with a
  message naming it (and its traceback), and the other workers are terminated: a run never hangs the suite.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from .method import DEFAULT_CLIP_FACTOR, pack, scaler, ternarize, unpack_sum


class WorkerError(RuntimeError):
    """A worker process failed, died or did not finish in time."""


@dataclass
class ExchangeConfig:
    mode: str = "terngrad"  # "terngrad" or "fp32"
    clip_factor: float = DEFAULT_CLIP_FACTOR  # 0 disables clipping: s = max|g|
    quantize_last: bool = False  # the repo leaves the logits layer (last weight and bias) in floats by default
    model_wide_scaler: bool = False  # ablation: one scaler for all quantized tensors instead of one per layer

    def __post_init__(self):
        if self.mode not in ("terngrad", "fp32"):
            raise ValueError(f"exchange mode must be terngrad or fp32, not {self.mode!r}")


class GradientExchange:
    """Average the gradients of ``params`` across the process group, TernGrad-compressed or as fp32."""

    def __init__(self, params: list[torch.nn.Parameter], cfg: ExchangeConfig,
                 generator: torch.Generator | None = None):
        self.params = list(params)
        self.cfg = cfg
        self.generator = generator
        n = len(self.params)
        last = set() if cfg.quantize_last or n < 2 else {n - 2, n - 1}
        self.quantized = [i for i in range(n) if i not in last] if cfg.mode == "terngrad" else []
        self.floats = [i for i in range(n) if i not in self.quantized]
        self.bytes_sent = 0
        self.steps = 0

    def _float_average(self, idx: list[int], world: int) -> None:
        if not idx:
            return
        flat = torch.cat([self.params[i].grad.reshape(-1) for i in idx])
        dist.all_reduce(flat)
        self.bytes_sent += flat.numel() * flat.element_size()
        flat /= world
        offset = 0
        for i in idx:
            g = self.params[i].grad
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def _ternary_average(self, world: int) -> None:
        grads = [self.params[i].grad for i in self.quantized]
        if self.cfg.model_wide_scaler:
            scalers = scaler(torch.cat([g.reshape(-1) for g in grads]), self.cfg.clip_factor).reshape(1)
        else:
            scalers = torch.stack([scaler(g, self.cfg.clip_factor) for g in grads])
        dist.all_reduce(scalers, op=dist.ReduceOp.MAX)  # scaler sharing: every worker uses the max
        self.bytes_sent += scalers.numel() * scalers.element_size()
        shared = scalers.expand(len(grads)) if self.cfg.model_wide_scaler else scalers
        signs = torch.cat([ternarize(g, s, self.generator).reshape(-1) for g, s in zip(grads, shared, strict=True)])
        payload = pack(signs)
        gathered = [torch.empty_like(payload) for _ in range(world)]
        dist.all_gather(gathered, payload)
        self.bytes_sent += payload.numel() * payload.element_size()
        total = unpack_sum(torch.stack(gathered), signs.numel()).float()
        offset = 0
        for g, s in zip(grads, shared, strict=True):
            g.copy_((total[offset:offset + g.numel()] * (s / world)).view_as(g).to(g.dtype))
            offset += g.numel()

    def __call__(self, step: int | None = None) -> None:
        """Replace every worker's gradients by their (estimated) average; call between backward and step."""
        world = dist.get_world_size()
        if self.quantized:
            self._ternary_average(world)
        self._float_average(self.floats, world)
        self.steps += 1

    @property
    def bytes_per_step(self) -> float:
        return self.bytes_sent / max(self.steps, 1)


def _worker(fn: Callable, rank: int, world: int, init_file: str, backend: str, timeout_s: float, args: tuple,
            out_dir: str) -> None:
    torch.set_num_threads(1)  # N workers share the machine's cores
    out = Path(out_dir)
    try:
        dist.init_process_group(backend, init_method=f"file://{init_file}", rank=rank, world_size=world,
                                timeout=timedelta(seconds=timeout_s))
        result = fn(rank, world, *args)
        (out / f"result-{rank}.pkl").write_bytes(pickle.dumps(result))
    except BaseException:
        (out / f"error-{rank}.txt").write_text(traceback.format_exc())
        raise
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _raise_if_failed(procs: list, tmp: str) -> None:
    """Raise WorkerError if a worker exited non-zero.

    When one worker fails, its partners usually fail right after it (their collectives lose a peer); the
    message names first the worker whose traceback was written first, the root cause, then the others.
    """
    if all(p.exitcode in (0, None) for p in procs):
        return
    time.sleep(0.5)  # let the partners of a failed worker fail and write their tracebacks too
    failed = [r for r, p in enumerate(procs) if p.exitcode not in (0, None)]

    def written_at(rank: int) -> float:
        err = Path(tmp, f"error-{rank}.txt")
        return err.stat().st_mtime if err.exists() else float("inf")

    failed.sort(key=written_at)
    first, others = failed[0], failed[1:]
    err = Path(tmp, f"error-{first}.txt")
    detail = err.read_text()[-3000:] if err.exists() else "(no traceback: the process was killed)"
    also = ""
    if others:
        lines = []
        for r in others:
            e = Path(tmp, f"error-{r}.txt")
            last = e.read_text().strip().splitlines()[-1][:200] if e.exists() else "killed"
            lines.append(f"worker {r}: {last}")
        also = "\nthen, probably as a consequence:\n" + "\n".join(lines)
    raise WorkerError(f"worker {first} of {len(procs)} failed (exit code {procs[first].exitcode}):\n{detail}{also}")


def launch(fn: Callable, world_size: int, args: tuple = (), timeout_s: float = 600.0,
           backend: str | None = None) -> list:
    """Run ``fn(rank, world_size, *args)`` in ``world_size`` fresh processes; return their results by rank.

    ``fn`` must be importable (a module-level function). Raises :class:`WorkerError` naming the failed worker,
    with its traceback, when one raises or dies, or when the workers have not all finished in ``timeout_s``.
    """
    backend = backend or ("nccl" if torch.cuda.is_available() and torch.cuda.device_count() >= world_size
                          else "gloo")
    # forkserver: one server process imports torch and ``fn``'s module once, and every worker is forked from it
    # (a fresh interpreter per worker, as with spawn, but without importing torch N times on a few cores)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["torch", "torch.distributed", fn.__module__])
    with tempfile.TemporaryDirectory(prefix="terngrad-") as tmp:
        init_file = os.path.join(tmp, "rendezvous")
        procs = [ctx.Process(target=_worker, args=(fn, r, world_size, init_file, backend, timeout_s, args, tmp),
                             daemon=True) for r in range(world_size)]
        for p in procs:
            p.start()
        deadline = time.monotonic() + timeout_s
        try:
            while any(p.is_alive() for p in procs):
                _raise_if_failed(procs, tmp)
                if time.monotonic() > deadline:
                    alive = [r for r, p in enumerate(procs) if p.is_alive()]
                    raise WorkerError(f"workers {alive} of {world_size} did not finish within {timeout_s:.0f} s")
                time.sleep(0.05)
            _raise_if_failed(procs, tmp)
            return [pickle.loads(Path(tmp, f"result-{r}.pkl").read_bytes()) for r in range(world_size)]
        finally:
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(timeout=5)
