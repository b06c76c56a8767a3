"""bench/latency.py: simulated devices of a latency case, and the latency file's speedups and printout."""

from __future__ import annotations

import pytest
import torch

from bench import latency
from bench.latency import LatencyCase, simulate_case, simulated_devices
from bench.results import format_latency, latency_record


def _mm_case(variant: str, n: int) -> LatencyCase:
    def build(device, seed):
        a, b = torch.randn(64, 128, device=device), torch.randn(128, n, device=device)
        return lambda: a @ b
    return LatencyCase("toy", "layer", variant, build, roofline=("gtx-titan",),
                       gemms=(latency.Gemm(n, 64, 128),))


def test_simulated_devices_of_a_case():
    case = _mm_case("dense", 64)
    assert simulated_devices(case) == ["roofline:gtx-titan", f"systolic:{latency.SYSTOLIC_ARRAY.name}"]
    bare = LatencyCase("toy", "layer", "csr", lambda d, s: (lambda: None))
    assert simulated_devices(bare) == []
    with pytest.raises(ValueError, match="does not run on"):
        simulate_case(bare, "roofline:gtx-titan")
    with pytest.raises(ValueError, match="does not run on"):
        simulate_case(bare, f"systolic:{latency.SYSTOLIC_ARRAY.name}")
    with pytest.raises(ValueError, match="unknown simulated device"):
        simulate_case(case, "fpga:x")


def test_roofline_speedup_of_a_compute_bound_gemm_is_its_flop_ratio():
    dense, small = simulate_case(_mm_case("dense", 4096), "roofline:gtx-titan"), \
        simulate_case(_mm_case("half", 2048), "roofline:gtx-titan")
    assert dense["flops"] == 2 * 64 * 128 * 4096 and dense["simulated"] and dense["model"]["version"]
    assert dense["time_s"] / small["time_s"] == pytest.approx(2.0, rel=0.05)


def test_latency_record_speedups_and_printout(monkeypatch):
    monkeypatch.setattr(latency, "discover_cases", lambda slugs: [_mm_case("dense", 64), _mm_case("half", 32)])
    bench_json = {"machine_info": {"cpu_model": "x"}, "benchmarks": [
        {"extra_info": {"group": "layer", "variant": "dense", "device": "cpu"}, "stats": {"median": 2.0}},
        {"extra_info": {"group": "layer", "variant": "half", "device": "cpu"}, "stats": {"median": 0.5}}]}
    sims = [{"group": "layer", "variant": "dense", "device": "systolic:a", "cycles": 900},
            {"group": "layer", "variant": "half", "device": "systolic:a", "cycles": 300}]
    rec = latency_record("toy", "cpu", "cpu-test-2c", bench_json, sims, "abc")
    assert rec["speedups"] == {"layer": {"cpu": {"dense": 1.0, "half": 4.0},
                                         "systolic:a": {"dense": 1.0, "half": 3.0}}}
    assert rec["pytest_benchmark"]["machine_info"] == {"cpu_model": "x"}
    text = format_latency(rec)
    assert "4.00x" in text and "3.00x" in text and "*a" in text
