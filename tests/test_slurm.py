"""A real Slurm: one paper's smoke cells submitted through submitit as a job array give exactly the inline run's
verdicts and metrics. Skipped where no Slurm answers, unless ``EFFDL_REQUIRE_SLURM=1`` (CI, after
``.ci/slurm-up`` has started a single-node cluster on localhost), which makes a missing Slurm a failure."""

from __future__ import annotations

import os

import pytest

from bench.cells import plan
from bench.claims import discover
from bench.executors import ExecutorOptions, run_cells, slurm_available
from bench.runner import Runner

PAPER = "prm_ma2019"  # one cell at smoke, about 5 s


@pytest.fixture
def slurm():
    why = slurm_available()
    if why:
        if os.environ.get("EFFDL_REQUIRE_SLURM") == "1":
            pytest.fail(f"EFFDL_REQUIRE_SLURM=1 but Slurm does not answer: {why} (run .ci/slurm-up)")
        pytest.skip(f"no Slurm here ({why}); .ci/slurm-up starts one on localhost")


def test_slurm_cells_give_the_inline_verdicts_and_every_metric(slurm, tmp_path):
    (paper,) = discover([PAPER])
    inline = Runner("smoke", "cpu", cache_dir=tmp_path / "inline", log=lambda line: None)
    expected = {r.claim.id: r for r in inline.run_paper(paper)}
    runner = Runner("smoke", "cpu", cache_dir=tmp_path / "slurm-cache", log=lambda line: None)
    cells = plan(runner, [paper])
    assert cells and not any(c.cached for c in cells)
    lines: list[str] = []
    failures = run_cells(cells, runner, ExecutorOptions("slurm", folder=tmp_path / "submitit", slurm_time=20,
                                                        slurm_cpus_per_task=os.cpu_count() or 1), lines.append)
    assert failures == {}, failures
    assert any(line.startswith("slurm: submitted job array") for line in lines)
    got = {r.claim.id: r for r in runner.run_paper(paper)}
    assert {c: (r.verdict.verdict if r.verdict else None) for c, r in got.items()} == \
        {c: (r.verdict.verdict if r.verdict else None) for c, r in expected.items()}
    for cid, r in expected.items():
        assert [x.metrics for x in got[cid].runs] == [x.metrics for x in r.runs], cid
        assert all(x.cached for x in got[cid].runs)  # read from what the Slurm job wrote, not run here
