"""pytest plugin of the claims suite: ``pytest bench/ [--scale cpu] [--paper 'ssl_*'] [--seeds N] [--device auto]``.

One test per claim (``test_claims.py``), one benchmark per latency case (``test_latency.py``) and the harness
overhead benchmark (``test_overhead.py``). After the run, each evaluated paper's results file is written to
``reference_results/<slug>/<scale>-<hardware>.json`` and a claim-by-claim summary is printed.
"""

from __future__ import annotations

import contextlib

import pytest
import torch

from bench import provenance
from bench.claims import SCALES, ClaimsError, discover
from bench.latency import discover_cases
from bench.results import RESULTS_DIR, write_paper_results
from bench.runner import Runner


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("bench", "claims verification (bench/)")
    g.addoption("--scale", choices=SCALES, default="cpu",
                help="smoke: seconds, proves the path (verdicts not compared); cpu: the citable scaled run "
                     "(default); full: the paper's setting, meant for a GPU")
    g.addoption("--paper", action="append", default=[], metavar="GLOB",
                help="only papers whose slug matches the glob (repeatable), e.g. 'ssl_*'")
    g.addoption("--seeds", type=int, default=None, metavar="N", help="seeds per experiment (default: the scale's)")
    g.addoption("--device", choices=("cpu", "cuda", "auto"), default="auto",
                help="where experiments run (auto: cuda when available)")
    g.addoption("--rerun", action="store_true", help="ignore cached per-seed results and measure again")
    g.addoption("--results-dir", default=str(RESULTS_DIR), metavar="DIR",
                help="where result files are written ('none' writes none)")


def _papers(config: pytest.Config):
    if not hasattr(config, "_bench_papers"):
        patterns = config.getoption("paper") or None
        try:
            config._bench_papers = discover(patterns)
        except ClaimsError as e:
            raise pytest.UsageError(str(e)) from None
        if patterns and not config._bench_papers:
            raise pytest.UsageError(f"--paper {' '.join(patterns)} matches no paper folder under papers/")
    return config._bench_papers


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    if "claim_case" in metafunc.fixturenames:
        cases = [(p, c) for p in _papers(config) for c in p.spec.claims]
        metafunc.parametrize("claim_case", cases, ids=[f"{p.slug}::{c.id}" for p, c in cases])
    if "latency_case" in metafunc.fixturenames:
        cases = discover_cases([p.slug for p in _papers(config)])
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        params = [(c, d) for c in cases for d in devices]
        metafunc.parametrize("latency_case", params, ids=[f"{c.id}[{d}]" for c, d in params])


@pytest.fixture(scope="session")
def bench_scale(pytestconfig: pytest.Config) -> str:
    return pytestconfig.getoption("scale")


@pytest.fixture(scope="session")
def bench_runner(pytestconfig: pytest.Config) -> Runner:
    """The session's runner; it logs one line per stage straight to the terminal (not captured)."""
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")

    def log(line: str) -> None:
        if reporter is None:
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.ensure_newline()
            reporter.write(line + "\n", flush=True)

    try:
        runner = Runner(pytestconfig.getoption("scale"), pytestconfig.getoption("device"),
                        pytestconfig.getoption("seeds"), pytestconfig.getoption("rerun"), log=log)
    except (RuntimeError, ValueError) as e:
        raise pytest.UsageError(str(e)) from None
    pytestconfig._bench_runner = runner
    return runner


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    runner = getattr(session.config, "_bench_runner", None)
    target = session.config.getoption("results_dir", default="none")
    if runner is None or target == "none":
        return
    from pathlib import Path

    session.config._bench_written = [write_paper_results(runner, slug, Path(target)) for slug in runner.results]


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "_bench_overhead"):
        terminalreporter.section("harness overhead")
        terminalreporter.write_line(config._bench_overhead)
    runner = getattr(config, "_bench_runner", None)
    if runner is None or not runner.results:
        return
    hw = provenance.hardware_name(runner.device)
    terminalreporter.section(f"claims at scale {runner.scale} on {hw}")
    if runner.scale == "smoke":
        terminalreporter.write_line("smoke scale proves the path works; its verdicts are not compared with "
                                    "expect and are never cited")
    for results in runner.results.values():
        for res in results.values():
            terminalreporter.write_line(res.line())
    for path in getattr(config, "_bench_written", []):
        terminalreporter.write_line(f"results written to {path}")


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Record torch, CUDA, git and the CPU/GPU in every pytest-benchmark JSON."""
    machine_info["torch"] = torch.__version__
    machine_info["cuda"] = torch.version.cuda if torch.cuda.is_available() else None
    machine_info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    machine_info["cpu_model"] = provenance.cpu_model()
    machine_info["torch_threads"] = torch.get_num_threads()
    machine_info["git"] = provenance.git_state()
