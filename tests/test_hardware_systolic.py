"""The systolic-array model (bench/hardware/systolic.py): config, closed form, and SCALE-Sim itself on small GEMMs.

The SCALE-Sim tests run the real simulator in ``.venv-scalesim`` (``./setup.sh`` builds it); they are skipped
when it is missing, unless ``EFFDL_REQUIRE_SCALESIM=1`` (as in CI), where a missing simulator fails.
"""

from __future__ import annotations

import os

import pytest

from bench import provenance
from bench.hardware import systolic as sy


@pytest.fixture
def scalesim(monkeypatch, tmp_path):
    """The SCALE-Sim interpreter, with a fresh result cache in ``tmp_path``."""
    try:
        python = sy.python_executable()
    except sy.SystolicUnavailable as e:
        if os.environ.get("EFFDL_REQUIRE_SCALESIM") == "1":
            pytest.fail(f"{e} (and EFFDL_REQUIRE_SCALESIM=1)")
        pytest.skip(str(e))
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path))
    return python


def test_config_file_has_every_key_scalesim_reads():
    text = sy.ArrayConfig(rows=8, cols=16, dataflow="os").cfg_text()
    for key in ("ArrayHeight: 8", "ArrayWidth: 16", "Dataflow: os", "IfmapSramSzkB: 64", "InterfaceBandwidth: CALC",
                "[layout]", "[sparsity]", "SparsitySupport: false", "ReadRequestBuffer"):
        assert key in text
    assert "[network_presets]" not in text  # scalesim 3.0.0 then reads the topology path from the wrong section


@pytest.mark.parametrize("bad", [{"rows": 0}, {"dataflow": "rs"}, {"bandwidth_mode": "AUTO"}, {"ofmap_sram_kb": 0}])
def test_config_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        sy.ArrayConfig(**bad)


def test_gemm_rejects_empty_dimensions():
    with pytest.raises(ValueError):
        sy.Gemm(0, 4, 4)
    assert sy.Gemm(3, 4, 5, count=2).macs == 120


def test_closed_form_on_alexnet_layers_by_hand():
    cfg = sy.ArrayConfig()  # 32×32
    # conv3 dense: 169 pixels, 384 filters, 2304 columns: 72 × 12 folds of 169 + 94 cycles
    assert sy.ws_calc_cycles(sy.Gemm(169, 384, 2304), cfg) == 72 * 12 * (169 + 94) - 1 == 227231
    # conv2 dense (one group): 729 pixels, 128 filters, 1200 columns: 38 × 4 folds
    assert sy.ws_calc_cycles(sy.Gemm(729, 128, 1200), cfg) == 38 * 4 * (729 + 94) - 1 == 125095
    with pytest.raises(ValueError):
        sy.ws_calc_cycles(sy.Gemm(1, 1, 1), sy.ArrayConfig(dataflow="os"))


def test_missing_environment_says_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setenv("EFFDL_SCALESIM_PYTHON", str(tmp_path / "no-python"))
    with pytest.raises(sy.SystolicUnavailable, match="setup.sh"):
        sy.python_executable()


def test_worker_and_lock_count_in_the_code_hash_of_papers_that_use_the_model():
    files = {p.name for p in provenance.code_files(provenance.REPO_ROOT / "papers" / "ssl_wen2016")}
    assert {"systolic.py", "systolic_worker.py", "systolic_requirements.lock"} <= files
    # a paper whose imports never reach bench.hardware.systolic (nor bench.latency, which imports it)
    files = {p.name for p in provenance.code_files(provenance.REPO_ROOT / "papers" / "trp_xu2018")}
    assert not files & {"systolic.py", "systolic_worker.py", "systolic_requirements.lock"}


@pytest.mark.timeout(300)
def test_scalesim_cycles_match_the_closed_form_and_count_dram_traffic(scalesim):
    cfg = sy.ArrayConfig(rows=4, cols=4)
    gemms = [sy.Gemm(20, 9, 13), sy.Gemm(7, 5, 3, count=2), sy.Gemm(33, 8, 8)]
    results = sy.simulate(gemms, cfg)
    for g, r in zip(gemms, results, strict=True):
        assert r.gemm == g and not r.cached
        assert r.cycles == sy.ws_calc_cycles(g, cfg)
        assert r.stall_cycles == 0  # CALC mode sizes bandwidth so nothing stalls
        assert r.dram_filter_reads == g.k * g.n  # the stationary weights are read once
        assert r.total_cycles == r.cycles * g.count
        assert r.simulator["scalesim"] == "3.0.0" and r.simulator["numpy"].startswith("1.")
    # a full array at every fold: utilization 100% of the mapped rows and columns
    assert results[2].mapping_efficiency_pct == pytest.approx(100.0)
    again = sy.simulate(gemms[:1], cfg)
    assert again[0].cached and again[0].cycles == results[0].cycles


@pytest.mark.timeout(300)
def test_scalesim_failure_is_reported_with_its_output(scalesim, monkeypatch):
    monkeypatch.setattr(sy.ArrayConfig, "cfg_text", lambda self: "[general]\nrun_name = run\n")
    with pytest.raises(sy.SystolicError, match="exit"):
        sy.simulate([sy.Gemm(4, 4, 4)], sy.ArrayConfig(rows=4, cols=4))
