"""Latency cases and the timer that speedup experiments use.

A paper exposes latency cases in ``papers/<slug>/latency.py`` as ``latency_cases() -> list[LatencyCase]``: a
dense baseline and its compressed counterparts on the same inputs, grouped by layer. The same cases run:

- in ``bench/test_latency.py`` under pytest-benchmark (one benchmark per case, machine info in its JSON), and
- in a paper's speedup experiment through :func:`time_interleaved`, which times every variant of a group in
  the same rounds, in rotating order, so that a speedup is a ratio of medians measured side by side in one
  run (timings on shared machines drift; ratios measured together are what can be compared);
- on simulated devices through :func:`simulate_case`: the roofline model of the paper's own processors
  (``roofline:<device>``) and a systolic-array accelerator (``systolic:<array>``, SCALE-Sim).

``bench/test_latency.py`` writes what it measured and simulated to ``reference_results/<slug>/latency-<scale>-
<hardware>.json`` (``bench.results.latency_record``): pytest-benchmark's own JSON for the paper's cases (machine info,
commit, every round), the simulated figures with their models, and per group the speedup of each variant over
the baseline on each device.
"""

from __future__ import annotations

import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from bench.hardware import roofline, systolic
from bench.hardware.systolic import Gemm

PAPERS_DIR = Path(__file__).resolve().parent.parent / "papers"


@dataclass(frozen=True)
class LatencyCase:
    """One timed operation: ``build(device, seed)`` returns a zero-argument callable that runs it once.

    Simulated devices run a case too: ``roofline`` names the paper's own processors in
    ``bench.hardware.roofline.DEVICES`` (the callable runs once on the CPU under the operator counter), and
    ``gemms`` gives the case as dense GEMMs for the systolic array of ``bench.hardware.systolic`` (empty when
    the case is not a dense GEMM workload, e.g. a sparse CSR product).
    """

    paper: str
    group: str  # the layer or op, e.g. "alexnet.conv3"
    variant: str  # the baseline (BASELINE) or the compressed form, e.g. "structured", "csr-l1"
    build: Callable[[torch.device, int], Callable[[], object]]
    note: str = ""
    baseline: str = "dense"  # the variant of the same group that speedups are taken over
    roofline: tuple[str, ...] = ()
    gemms: tuple[Gemm, ...] = ()

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


# -- simulated devices -------------------------------------------------------------------------------------

SYSTOLIC_ARRAY = systolic.ArrayConfig()  # SCALE-Sim's 32×32 example array, weight-stationary, no stalls


def simulated_devices(case: LatencyCase) -> list[str]:
    """The simulated devices ``case`` runs on: the paper's processors (roofline) and, for GEMMs, the array."""
    return [f"roofline:{d}" for d in case.roofline] + ([f"systolic:{SYSTOLIC_ARRAY.name}"] if case.gemms else [])


def simulation_seconds(case: LatencyCase, device: str) -> float:
    """Roughly how long simulating ``case`` on ``device`` takes here (0 when SCALE-Sim's cache has it)."""
    if not device.startswith("systolic:"):
        return 0.0
    todo = [g for g in case.gemms if not systolic.is_cached(g, SYSTOLIC_ARRAY)]
    return sum(systolic.estimated_cycles(g, SYSTOLIC_ARRAY) for g in todo) * systolic.SECONDS_PER_CYCLE


def simulate_case(case: LatencyCase, device: str, seed: int = 0,
                  log: Callable[[str], None] | None = None) -> dict:
    """The simulated cost of one run of ``case`` on ``device`` (``roofline:<key>`` or ``systolic:<array>``).

    Roofline: the case's callable runs once on the CPU under the operator counter; ``time_s`` is its ideal time
    on the device. Systolic: the case's GEMMs through SCALE-Sim; ``cycles`` (all copies, one after the other)
    and ``dram_words``. Every record carries ``model``: the model's name, version and parameters.
    """
    kind, _, name = device.partition(":")
    base = {"case": case.id, "group": case.group, "variant": case.variant, "device": device, "simulated": True}
    if kind == "roofline":
        if name not in case.roofline:
            raise ValueError(f"{case.id} does not run on {device} (its roofline devices: {case.roofline})")
        dev = roofline.DEVICES[name]
        cost = roofline.roofline_time(roofline.op_costs(case.build(torch.device("cpu"), seed)), dev)
        return base | {"time_s": cost["time_s"], "flops": cost["flops"], "bytes": cost["bytes"],
                       "compute_bound_fraction": cost["compute_bound_fraction"], "model": roofline.describe(dev)}
    if kind == "systolic":
        if not case.gemms or name != SYSTOLIC_ARRAY.name:
            raise ValueError(f"{case.id} does not run on {device} (systolic: {SYSTOLIC_ARRAY.name}, GEMM cases only)")
        res = systolic.simulate(case.gemms, SYSTOLIC_ARRAY, log=log)
        return base | {"cycles": sum(r.total_cycles for r in res), "dram_words": sum(r.total_dram_words for r in res),
                       "compute_util_pct": [r.compute_util_pct for r in res],
                       "gemms": [[r.gemm.m, r.gemm.n, r.gemm.k, r.gemm.count] for r in res],
                       "model": systolic.describe(SYSTOLIC_ARRAY, res)}
    raise ValueError(f"unknown simulated device {device!r} (roofline:<device> or systolic:<array>)")
