"""The executors (bench/executors.py): cells as processes through submitit give the inline run's verdicts and
values, a failed or crashed cell becomes an `error` with its log's tail, and timed cells never share the
machine with another cell."""

from __future__ import annotations

import pytest

from bench import executors
from bench.cells import plan
from bench.claims import discover
from bench.executors import ExecutorOptions, run_cells
from bench.runner import Runner
from tests.faults.conftest import TOY_PY, set_config, spec_copy, write_toy


@pytest.fixture
def toy(tmp_path):
    """``toy(spec=None, code=TOY_PY)``: the fault suite's toy paper, written under ``tmp_path/papers``."""
    def make(spec=None, code=TOY_PY):
        write_toy(tmp_path / "papers", spec, code=code)
        (paper,) = discover(root=tmp_path / "papers")
        return paper
    return make


def _judge(runner: Runner, paper) -> dict:
    return {r.claim.id: r for r in runner.run_paper(paper)}


def _values(results: dict) -> dict:
    return {cid: (r.verdict.verdict, [r_.metrics for r_ in r.runs])
            for cid, r in results.items() if r.verdict is not None}


def test_local_executor_gives_the_inline_verdicts_and_values(toy, tmp_path):
    paper = toy(set_config(spec_copy(), steps=40))
    inline = _judge(Runner("cpu", "cpu", cache_dir=tmp_path / "inline", log=lambda line: None), paper)
    runner = Runner("cpu", "cpu", cache_dir=tmp_path / "local", log=lambda line: None)
    cells = plan(runner, [paper])
    assert [c.id for c in cells] == [f"toy_paper2020.toy#{s}" for s in range(3)] and not any(c.cached for c in cells)
    lines: list[str] = []
    failures = run_cells(cells, runner, ExecutorOptions("local", jobs=2, folder=tmp_path / "submitit"),
                         lines.append, papers_dir=paper.path.parent)
    assert failures == {}
    local = _judge(runner, paper)
    assert _values(local) == _values(inline)
    assert all(not r.cached for r in inline["accurate"].runs) and all(r.cached for r in local["accurate"].runs)
    assert any(line.startswith("cells 0/3 done") for line in lines)  # the board, with an ETA
    assert all(r.cost.get("cpu_s") is not None for r in local["accurate"].runs)  # each cell's compute, recorded


def test_a_cell_that_raises_or_crashes_is_an_error_with_its_log_tail(toy, tmp_path):
    crash = TOY_PY.replace('raise RuntimeError("boom")',
                           'print("about to crash", flush=True); import os; os._exit(3)')
    paper = toy(set_config(spec_copy(), steps=20, fail_seed=1), code=crash)
    runner = Runner("cpu", "cpu", cache_dir=tmp_path / "cache", log=lambda line: None)
    failures = run_cells(plan(runner, [paper]), runner, ExecutorOptions("local", jobs=2, folder=tmp_path / "s"),
                         lambda line: None, papers_dir=paper.path.parent)
    assert list(failures) == ["toy_paper2020.toy#1"]
    assert "about to crash" in failures["toy_paper2020.toy#1"].error  # the log's tail
    res = _judge(runner, paper)["accurate"]
    assert res.verdict.verdict == "error" and "seed 1" in res.verdict.reason
    # an exception inside the experiment is the run's own error (the cell process lives on)
    paper = toy(set_config(spec_copy(), steps=20, fail_seed=2))
    runner = Runner("cpu", "cpu", cache_dir=tmp_path / "cache2", log=lambda line: None)
    failures = run_cells(plan(runner, [paper]), runner, ExecutorOptions("local", jobs=2, folder=tmp_path / "s2"),
                         lambda line: None, papers_dir=paper.path.parent)
    assert "RuntimeError: boom" in failures["toy_paper2020.toy#2"].error
    assert _judge(runner, paper)["accurate"].verdict.verdict == "error"


class _FakeJob:
    def __init__(self, log, spec):
        self.spec, self.log, self.polls = spec, log, 0

    def done(self):
        self.polls += 1
        return self.polls > 2

    def result(self):
        return {"key": self.spec["key"], "run": {"error": None, "wall_s": 0.0}}


class _FakeExecutor:
    """Records which cells run at the same time."""

    running: list = []
    overlaps: list = []

    def __init__(self, folder):
        pass

    def update_parameters(self, **kw):
        pass

    def submit(self, fn, spec):
        job = _FakeJob(self, spec)
        live = [j for j in _FakeExecutor.running if j.polls <= 2]
        _FakeExecutor.overlaps.append((spec["experiment"], spec["threads"], [j.spec["experiment"] for j in live]))
        _FakeExecutor.running.append(job)
        return job


def test_timed_cells_run_alone_with_every_core(toy, tmp_path, monkeypatch):
    spec = spec_copy()
    spec["experiments"]["timer"] = {"function": "toy", "timed": True, "scales": {"cpu": {"seeds": 2}}}
    spec["claims"][0]["test"]["context"] = ["timer.gain_pp"]
    paper = toy(spec)
    runner = Runner("cpu", "cpu", cache_dir=tmp_path / "cache", log=lambda line: None)
    cells = plan(runner, [paper])
    assert sorted((c.experiment, c.timed) for c in cells) == [("timer", True)] * 2 + [("toy", False)] * 3
    import submitit

    monkeypatch.setattr(submitit, "LocalExecutor", _FakeExecutor)
    monkeypatch.setattr(executors, "POLL_S", 0.0)
    run_cells(cells, runner, ExecutorOptions("local", jobs=2), lambda line: None, papers_dir=paper.path.parent)
    timed = [o for o in _FakeExecutor.overlaps if o[0] == "timer"]
    assert len(timed) == 2 and all(not others for _, _, others in timed)  # nothing else ran beside them
    # every cell runs with the inline thread count (None: torch's default), so its values are the inline run's
    assert all(threads is None for _, threads, _ in _FakeExecutor.overlaps)
    assert any(others for exp, _, others in _FakeExecutor.overlaps if exp == "toy")  # the rest ran 2 at a time


def test_the_inline_executor_runs_nothing_ahead(toy, tmp_path):
    paper = toy()
    runner = Runner("cpu", "cpu", cache_dir=tmp_path / "cache", log=lambda line: None)
    assert run_cells(plan(runner, [paper]), runner, ExecutorOptions("inline")) == {} and not runner.offline


def test_slurm_is_refused_in_one_line_where_there_is_none(toy, tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "slurm_available", lambda: "sbatch is not on PATH")
    paper = toy()
    runner = Runner("cpu", "cpu", cache_dir=tmp_path / "cache", log=lambda line: None)
    with pytest.raises(executors.ExecutorError, match="Slurm is not reachable from here: sbatch is not on PATH"):
        run_cells(plan(runner, [paper]), runner, ExecutorOptions("slurm", folder=tmp_path / "s"), lambda line: None,
                  papers_dir=paper.path.parent)
