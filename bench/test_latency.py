"""Latency cases of every paper under pytest-benchmark, on the CPU, on CUDA when a GPU is present, and on the
simulated devices each case names (the paper's processors as a roofline, a SCALE-Sim systolic array).

Speed targets are not asserted here (timings on shared machines are noisy): speedup claims are decided by
their experiments from ratios measured side by side (``bench.latency.time_interleaved``). These benchmarks
record the same cases in each paper's latency file, ``reference_results/<slug>/latency-<scale>-<hardware>.json``
(pytest-benchmark's JSON with machine info from ``conftest.pytest_benchmark_update_machine_info``, the
simulated figures, and the speedups per group), and in ``--benchmark-json`` when asked.
``--benchmark-disable`` runs every case once, untimed: a smoke check.
"""

from __future__ import annotations

import pytest
import torch

from bench.latency import simulate_case, simulation_seconds, synchronize

pytestmark = pytest.mark.latency

ROUNDS = {"smoke": (2, 1), "cpu": (30, 3), "full": (100, 10)}  # timed rounds, warm-up rounds
SMOKE_SIMULATION_S = 10.0  # at the smoke scale, longer (uncached) simulations are skipped


def test_latency(latency_case, benchmark, bench_scale):
    case, device_name = latency_case
    device = torch.device(device_name)
    run = case.build(device, 0)

    def timed():
        run()
        synchronize(device)

    benchmark.group = f"{case.paper}.{case.group}[{device_name}]"
    benchmark.extra_info.update(paper=case.paper, case=case.id, group=case.group, variant=case.variant,
                                baseline=case.baseline, note=case.note, device=device_name)
    rounds, warmup = ROUNDS[bench_scale]
    benchmark.pedantic(timed, rounds=rounds, warmup_rounds=warmup)


def test_simulated_latency(simulated_case, bench_scale, latency_store):
    case, device = simulated_case
    expected_s = simulation_seconds(case, device)
    if bench_scale == "smoke" and expected_s > SMOKE_SIMULATION_S:
        pytest.skip(f"smoke scale: simulating {case.id} on {device} takes about {expected_s:.0f} s "
                    f"(runs at the cpu scale, then cached)")
    record = simulate_case(case, device)
    cost = record.get("time_s", record.get("cycles"))
    assert cost is not None and cost > 0, record
    assert record["model"]["version"], "a simulated figure must name its model's version"
    latency_store.setdefault(case.paper, []).append(record)
