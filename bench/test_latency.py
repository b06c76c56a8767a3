"""Latency cases of every paper under pytest-benchmark, on the CPU and on CUDA when a GPU is present.

Speed targets are not asserted here (timings on shared machines are noisy): speedup claims are decided by
their experiments from ratios measured side by side (``bench.latency.time_interleaved``). These benchmarks
record the same cases in pytest-benchmark's JSON (``--benchmark-json``), with machine info from
``conftest.pytest_benchmark_update_machine_info``.
"""

from __future__ import annotations

import pytest
import torch

from bench.latency import synchronize

pytestmark = pytest.mark.latency


def test_latency(latency_case, benchmark, bench_scale):
    case, device_name = latency_case
    device = torch.device(device_name)
    run = case.build(device, 0)

    def timed():
        run()
        synchronize(device)

    benchmark.group = f"{case.paper}.{case.group}[{device_name}]"
    benchmark.extra_info.update(paper=case.paper, group=case.group, variant=case.variant, note=case.note,
                                device=device_name)
    if bench_scale == "smoke":
        benchmark.pedantic(timed, rounds=2, warmup_rounds=1)
    else:
        benchmark.pedantic(timed, rounds=30, warmup_rounds=3)
