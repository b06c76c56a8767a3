"""pytest plugin of the claims suite: ``pytest bench/ [--scale cpu] [--paper 'ssl_*'] [--seeds N] [--device auto]``.

One test per claim (``test_claims.py``), one benchmark per latency case (``test_latency.py``) and the harness
overhead benchmark (``test_overhead.py``). After the run, each evaluated paper's results file is written to
``reference_results/<slug>/<scale>-<hardware>.json`` and a claim-by-claim summary is printed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import torch

from bench import provenance
from bench.claims import SCALES, discover
from bench.hardware import systolic
from bench.latency import SYSTOLIC_ARRAY, discover_cases, simulated_devices
from bench.results import RESULTS_DIR, atomic_write_json, latency_record, write_paper_results
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
    from bench.cli import add_executor_arguments

    add_executor_arguments(g.addoption)


def pytest_configure(config: pytest.Config) -> None:
    """Refuse a bad option in one line before anything is collected or run."""
    from bench.cli import OptionError, check_device, check_results_dir, check_seeds

    try:
        check_seeds(config.getoption("seeds", default=None))
        if config.getoption("device", default="auto") == "cuda":
            check_device("cuda")
        check_results_dir(config.getoption("results_dir", default="none"))
        if config.getoption("executor", default="inline") != "inline" or config.getoption("jobs", default=1) != 1:
            from argparse import Namespace

            from bench.cli import executor_options

            names = ("executor", "jobs", "cell_threads", "submitit_dir", "slurm_partition", "slurm_gpus",
                     "slurm_time",
                     "slurm_cpus_per_task", "slurm_array_parallelism", "slurm_mem_gb", "slurm_opt")
            config._bench_executor = executor_options(Namespace(**{n: config.getoption(n) for n in names}))
    except OptionError as e:
        raise pytest.UsageError(str(e)) from None


def _papers(config: pytest.Config):
    """The selected papers that validate; a paper whose claims.yaml does not is one failing test of its own
    (``claims_file_problems``), so the others still run."""
    if not hasattr(config, "_bench_papers"):
        patterns = config.getoption("paper") or None
        config._bench_problems = []
        config._bench_papers = discover(patterns, problems=config._bench_problems)
        if patterns and not config._bench_papers and not config._bench_problems:
            raise pytest.UsageError(f"--paper {' '.join(patterns)} matches no paper folder under papers/")
    return config._bench_papers


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    if "claims_file_problem" in metafunc.fixturenames:
        _papers(config)
        problems = config._bench_problems
        metafunc.parametrize("claims_file_problem", problems or [None],
                             ids=[p.split(":", 1)[0].rsplit("/", 2)[-2] for p in problems] or ["all"])
    if "claim_case" in metafunc.fixturenames:
        cases = [(p, c) for p in _papers(config) for c in p.spec.claims]
        metafunc.parametrize("claim_case", cases, ids=[f"{p.slug}::{c.id}" for p, c in cases])
    if "latency_case" in metafunc.fixturenames:
        cases = discover_cases([p.slug for p in _papers(config)])
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        params = [(c, d) for c in cases for d in devices]
        metafunc.parametrize("latency_case", params, ids=[f"{c.id}[{d}]" for c, d in params])
    if "simulated_case" in metafunc.fixturenames:
        cases = discover_cases([p.slug for p in _papers(config)])
        params = [(c, d) for c in cases for d in simulated_devices(c)]
        metafunc.parametrize("simulated_case", params, ids=[f"{c.id}[{d}]" for c, d in params])


@pytest.fixture(scope="session")
def bench_scale(pytestconfig: pytest.Config) -> str:
    return pytestconfig.getoption("scale")


@pytest.fixture(scope="session")
def latency_store(pytestconfig: pytest.Config) -> dict[str, list[dict]]:
    """The simulated latency records of this session, per paper (written to the latency files at the end).

    First, outside smoke, every systolic-array GEMM of the selected cases is simulated in one batch, in
    parallel over the cores (SCALE-Sim takes minutes on AlexNet's layers; later tests read its cache).
    """
    if not hasattr(pytestconfig, "_bench_simulated"):
        pytestconfig._bench_simulated = {}
        if pytestconfig.getoption("scale") != "smoke":
            cases = discover_cases([p.slug for p in _papers(pytestconfig)])
            gemms = [g for c in cases if c.gemms for g in c.gemms]
            if gemms:
                systolic.simulate(gemms, SYSTOLIC_ARRAY, log=_terminal_log(pytestconfig))
    return pytestconfig._bench_simulated


def _terminal_log(config: pytest.Config):
    """A function writing one line straight to the terminal (not captured by pytest)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def log(line: str) -> None:
        if reporter is None:
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.ensure_newline()
            reporter.write(line + "\n", flush=True)

    return log


@pytest.fixture(scope="session")
def bench_runner(pytestconfig: pytest.Config) -> Runner:
    """The session's runner; it logs one line per stage straight to the terminal (not captured)."""
    log = _terminal_log(pytestconfig)
    try:
        runner = Runner(pytestconfig.getoption("scale"), pytestconfig.getoption("device"),
                        pytestconfig.getoption("seeds"), pytestconfig.getoption("rerun"), log=log)
        target = pytestconfig.getoption("results_dir", default="none")
        if target != "none":  # seed counts of earlier results there: a raised count makes verdicts sequential
            from bench.provenance import hardware_name
            from bench.results import seed_history

            runner.history = seed_history(Path(target), runner.scale, hardware_name(runner.device))
    except (RuntimeError, ValueError) as e:
        raise pytest.UsageError(str(e)) from None
    pytestconfig._bench_runner = runner
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    if capture is not None:  # each cell's progress bar (bench.train) reaches the terminal, not pytest's capture
        runner.around_execute = capture.global_and_fixture_disabled
    from bench.cli import prepare
    from bench.executors import ExecutorError, ExecutorOptions

    papers = [p for p in _papers(pytestconfig) if _selected(pytestconfig, p)]
    try:
        prepare(runner, papers, getattr(pytestconfig, "_bench_executor", None) or ExecutorOptions(), log)
    except ExecutorError as e:
        raise pytest.UsageError(str(e)) from None
    return runner


def _selected(config: pytest.Config, paper) -> bool:
    """Whether any of the paper's claim tests was collected (``-k`` and node ids narrow the run)."""
    items = getattr(config, "_bench_claim_items", None)
    return items is None or paper.slug in items


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Remember which papers have claim tests in this session (the executor plans only their cells)."""
    config._bench_claim_items = {item.callspec.params["claim_case"][0].slug for item in items
                                 if hasattr(item, "callspec") and "claim_case" in item.callspec.params}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    target = config.getoption("results_dir", default="none")
    if target == "none":
        return
    runner = getattr(config, "_bench_runner", None)
    written = [write_paper_results(runner, slug, Path(target)) for slug in runner.results] if runner else []
    config._bench_written = written + _write_latency(config, Path(target))


def _benchmark_json(config: pytest.Config, slug: str) -> dict | None:
    """pytest-benchmark's JSON (machine info, commit info, every round) of one paper's timed cases, or None."""
    bs = getattr(config, "_benchmarksession", None)
    mine = [b for b in (bs.benchmarks if bs else []) if b and b.extra_info.get("paper") == slug and not b.has_error]
    if not mine:
        return None
    commit = config.hook.pytest_benchmark_generate_commit_info(config=config)
    config.hook.pytest_benchmark_update_commit_info(config=config, commit_info=commit)
    return config.hook.pytest_benchmark_generate_json(config=config, benchmarks=mine, include_data=True,
                                                      machine_info=bs.get_machine_info(), commit_info=commit)


def _write_latency(config: pytest.Config, root: Path) -> list[Path]:
    """Each paper's latency file, from this session's benchmarks and simulations (nothing when none ran)."""
    simulated = getattr(config, "_bench_simulated", {})
    scale = config.getoption("scale")
    hardware = provenance.hardware_name(torch.device("cpu"))
    paths = []
    for paper in _papers(config):
        bench_json = _benchmark_json(config, paper.slug)
        if bench_json is None and not simulated.get(paper.slug):
            continue
        path = root / paper.slug / f"latency-{scale}-{hardware}.json"
        record = latency_record(paper.slug, scale, hardware, bench_json, simulated.get(paper.slug, []),
                                provenance.code_hash(paper.path))
        atomic_write_json(path, record)
        paths.append(path)
    return paths


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "_bench_overhead"):
        terminalreporter.section("harness overhead")
        terminalreporter.write_line(config._bench_overhead)
    runner = getattr(config, "_bench_runner", None)
    if runner is None or not runner.results:
        for path in getattr(config, "_bench_written", []):
            terminalreporter.write_line(f"latency results written to {path}")
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
