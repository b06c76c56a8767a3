"""Latency cases and the timer that speedup experiments use.

A paper exposes latency cases in ``papers/<slug>/latency.py`` as ``latency_cases() -> list[LatencyCase]``: a
dense baseline and its compressed counterparts on the same inputs, grouped by layer. The same cases run:

- in ``bench/test_latency.py`` under pytest-benchmark (one benchmark per case, machine info in its JSON), and
- in a paper's speedup experiment through :func:`time_interleaved`, which times every variant of a group in
  the same rounds, in rotating order, so that a speedup is a ratio of medians measured side by side in one
  run (timings on shared machines drift; ratios measured together are what can be compared).
"""

from __future__ import annotations

import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from bench.claims import PAPERS_DIR


@dataclass(frozen=True)
class LatencyCase:
    """One timed operation: ``build(device, seed)`` returns a zero-argument callable that runs it once."""

    paper: str
    group: str  # the layer or op, e.g. "alexnet.conv3"
    variant: str  # "dense" for the baseline, else the compressed form, e.g. "structured", "csr-l1"
    build: Callable[[torch.device, int], Callable[[], object]]
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.paper}.{self.group}.{self.variant}"


def discover_cases(slugs: list[str] | None = None) -> list[LatencyCase]:
    """Latency cases of every paper folder that has a ``latency.py`` (or of the given slugs)."""
    cases = []
    for path in sorted(PAPERS_DIR.glob("*/latency.py")):
        slug = path.parent.name
        if slugs is not None and slug not in slugs:
            continue
        cases.extend(importlib.import_module(f"papers.{slug}.latency").latency_cases())
    return cases


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work so a timer measures it (a no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_interleaved(fns: dict[str, Callable[[], object]], device: torch.device, rounds: int = 30,
                     warmup: int = 3) -> dict[str, list[float]]:
    """Seconds per call of each function, over ``rounds`` rounds in which every function runs once.

    The order rotates each round so no variant always runs first (cache, frequency and turbo effects).
    """
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    synchronize(device)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            synchronize(device)
            start = time.perf_counter()
            fns[name]()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return times


def median_speedups(times: dict[str, list[float]], baseline: str = "dense") -> dict[str, float]:
    """``median(baseline) / median(variant)`` for every variant."""
    base = statistics.median(times[baseline])
    return {name: base / statistics.median(t) for name, t in times.items()}
