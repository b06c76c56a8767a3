"""The compute one cell (one experiment at one seed) took: wall time, CPU seconds, peak memory, GPU use.

Measured around the call by the runner, in the process that runs the cell (``bench.runner``), and stored with
the cell in the cache, so a cached cell keeps the cost it had when it was measured:

- ``wall_s``: elapsed seconds;
- ``cpu_s``: CPU seconds of the process (every thread) plus those of the child processes it waited for
  (SCALE-Sim's simulations). Processes started by a multiprocessing forkserver are the forkserver's children,
  not the cell's, and are not counted: TernGrad's distributed workers are, so its cells' ``cpu_s`` is the
  launcher's alone (a few seconds) while its wall time is the whole run;
- ``peak_rss_mb``: the process's peak resident memory during the cell. Linux lets a process reset its
  high-water mark (``/proc/self/clear_refs``), so the peak is the cell's own; where it cannot be reset the peak
  is the process's since it started, and ``peak_rss_scope`` says ``process`` instead of ``cell``. Children's
  memory is not in it;
- ``torch_threads``: the intra-op threads the cell ran with (they change a trained model's values, so they are
  provenance: ``bench.executors`` keeps the inline count unless told otherwise);
- on CUDA, ``gpu_s`` (the wall seconds the cell held the GPU: a cell runs alone on its device, so this is the
  GPU time it cost, not the kernels' busy time) and ``peak_gpu_mb`` (torch's peak allocated memory).
"""

from __future__ import annotations

import resource
import time
from contextlib import contextmanager
from pathlib import Path

import torch

FIELDS = ("wall_s", "cpu_s", "peak_rss_mb", "gpu_s", "peak_gpu_mb")


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux 4.0+)
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


@contextmanager
def measure(device: torch.device):
    """Measure the block's compute into the dict it yields (filled when the block ends, also on error)."""
    out: dict = {}
    cuda = device.type == "cuda"
    scope = "cell" if _reset_peak_rss() else "process"
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    cpu0, child0, t0 = time.process_time(), _children_cpu(), time.perf_counter()
    try:
        yield out
    finally:
        if cuda:
            torch.cuda.synchronize(device)
        wall = time.perf_counter() - t0
        out |= {"wall_s": round(wall, 2),
                "cpu_s": round(time.process_time() - cpu0 + _children_cpu() - child0, 2),
                "peak_rss_mb": round(_peak_rss_mb(), 1), "peak_rss_scope": scope,
                "torch_threads": torch.get_num_threads()}
        if cuda:
            out |= {"gpu_s": round(wall, 2),
                    "peak_gpu_mb": round(torch.cuda.max_memory_allocated(device) / 2**20, 1)}


def total(costs: list[dict]) -> dict:
    """The sum of cells' costs (wall, CPU and GPU seconds) and the largest of their peaks; ``cells`` counts them,
    ``unknown`` counts cells without a recorded cost (measured before costs were recorded)."""
    known = [c for c in costs if c]
    out: dict = {"cells": len(costs), "unknown": len(costs) - len(known)}
    for f in ("wall_s", "cpu_s", "gpu_s"):
        vals = [c[f] for c in known if isinstance(c.get(f), (int, float))]
        if vals:
            out[f] = round(sum(vals), 1)
    for f in ("peak_rss_mb", "peak_gpu_mb"):
        vals = [c[f] for c in known if isinstance(c.get(f), (int, float))]
        if vals:
            out[f] = round(max(vals), 1)
    return out


def describe(c: dict) -> str:
    """``12.3 min wall, 22.0 CPU-min, peak 812 MB`` (and GPU figures when present)."""
    if not c or "wall_s" not in c:
        return "unknown"
    parts = [f"{c['wall_s'] / 60:.1f} min wall"]
    if "cpu_s" in c:
        parts.append(f"{c['cpu_s'] / 60:.1f} CPU-min")
    if "gpu_s" in c:
        parts.append(f"{c['gpu_s'] / 60:.1f} GPU-min")
    if "peak_rss_mb" in c:
        parts.append(f"peak {c['peak_rss_mb']:.0f} MB RSS")
    if "peak_gpu_mb" in c:
        parts.append(f"{c['peak_gpu_mb']:.0f} MB GPU")
    if c.get("unknown"):
        parts.append(f"{c['unknown']} of {c['cells']} cells without a record")
    return ", ".join(parts)
