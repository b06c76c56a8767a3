"""The runner: shared experiments run once, the cache, error verdicts, skips, result files with provenance."""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml

from bench.claims import discover
from bench.results import load_results, write_paper_results
from bench.runner import Runner
from tests.test_claims_schema import VALID, write_paper

CODE = textwrap.dedent('''
    import os
    from dataclasses import dataclass
    from bench.registry import ExperimentConfig, experiment

    CALLS = []

    @dataclass
    class Cfg(ExperimentConfig):
        offset: float = 0.0  # added to every metric
        fail_seed: int = -1  # the seed that raises
        steps: int = 1  # unused

    @experiment(config=Cfg, metrics=("gap_pp", "ratio"))
    def toy(cfg, seed, device):
        CALLS.append(seed)
        if seed == cfg.fail_seed:
            raise RuntimeError("boom")
        return {"gap_pp": cfg.offset + 0.01 * seed, "ratio": 2.0 + 0.1 * seed}
''')


@pytest.fixture
def paper(tmp_path):
    spec = yaml.safe_load(yaml.safe_dump(VALID))
    spec["claims"].append({"id": "ratio-claim", "statement": "s", "source": "Fig. 2", "tier": "B",
                           "test": {"experiment": "toy", "criteria": {"ratio": ">= 1.5", "gap_pp": "<= 1"}},
                           "expect": "reproduced", "evidence": "measured"})
    spec["claims"].append({"id": "gpu-only", "statement": "s", "source": "Table 3", "tier": "B",
                           "test": {"experiment": "toy", "metric": "ratio", "criterion": ">= 1", "devices": ["cuda"]},
                           "expect": "reproduced", "evidence": "measured"})
    write_paper(tmp_path / "papers", spec, code=CODE)
    (p,) = discover(root=tmp_path / "papers")
    p.module.CALLS.clear()
    return p


def make_runner(tmp_path, **kw):
    return Runner(kw.pop("scale", "cpu"), "cpu", cache_dir=tmp_path / "cache", log=lambda s: None, **kw)


def test_claims_share_one_run_per_seed(paper, tmp_path):
    runner = make_runner(tmp_path)
    results = runner.run_paper(paper)
    assert sorted(paper.module.CALLS) == [0, 1, 2]  # two claims on toy, three seeds, one run each
    by_id = {r.claim.id: r for r in results}
    assert by_id["good-claim"].verdict.verdict == "reproduced"
    assert by_id["ratio-claim"].verdict.verdict == "reproduced" and by_id["ratio-claim"].summaries["ratio"].n == 3
    assert by_id["imagenet"].verdict.verdict == "not_testable"
    assert by_id["gpu-only"].skipped and "cuda" in by_id["gpu-only"].skipped


def test_second_run_comes_from_the_cache(paper, tmp_path):
    first = make_runner(tmp_path).run_paper(paper)
    paper.module.CALLS.clear()
    second = make_runner(tmp_path).run_paper(paper)
    assert paper.module.CALLS == []
    assert all(r.cached for res in second for r in res.runs)
    assert [r.measured() for r in first] == [r.measured() for r in second]
    make_runner(tmp_path, rerun=True).run_paper(paper)
    assert sorted(paper.module.CALLS) == [0, 1, 2]


def test_a_failing_seed_is_an_error_verdict_and_not_cached(paper, tmp_path):
    spec = paper.spec.experiments["toy"].scales["cpu"]
    spec["fail_seed"] = 1
    res = make_runner(tmp_path).evaluate(paper, paper.claim("good-claim"))
    assert res.verdict.verdict == "error" and "RuntimeError: boom" in res.verdict.reason
    assert not list((tmp_path / "cache").rglob("*.json")) or all(
        json.loads(p.read_text())["seed"] != 1 for p in (tmp_path / "cache").rglob("*.json"))


def test_missing_scale_is_a_skip(paper, tmp_path):
    res = make_runner(tmp_path, scale="full").evaluate(paper, paper.claim("good-claim"))
    assert res.skipped and "no full scale" in res.skipped


def test_seeds_override_and_point_verdict(paper, tmp_path):
    res = make_runner(tmp_path, seeds=1).evaluate(paper, paper.claim("good-claim"))
    assert res.verdict.point and res.summaries["gap_pp"].n == 1 and "point verdict" in res.line()


def test_results_file_has_provenance_and_merges(paper, tmp_path):
    runner = make_runner(tmp_path)
    runner.run_paper(paper)
    path = write_paper_results(runner, paper.slug, tmp_path / "results")
    rec = json.loads(path.read_text())
    assert path.name.startswith("cpu-cpu-") and rec["scale"] == "cpu"
    for key in ("commit", "dirty", "code_hash", "date", "python", "torch", "device", "datasets", "wall_time_s"):
        assert key in rec["provenance"]
    claim = rec["claims"]["good-claim"]
    assert claim["verdict"] == "reproduced" and claim["metrics"]["gap_pp"]["values"] == [0.0, 0.01, 0.02]
    assert claim["criteria"] == {"gap_pp": "abs <= 0.5"} and claim["paper_value"] == 1.0
    assert rec["experiments"]["toy"]["runs"][2]["metrics"]["ratio"] == pytest.approx(2.2)
    # a later run of one claim keeps the others (same code)
    partial = make_runner(tmp_path)
    partial.evaluate(paper, paper.claim("ratio-claim"))
    write_paper_results(partial, paper.slug, tmp_path / "results")
    assert set(json.loads(path.read_text())["claims"]) == set(rec["claims"])
    assert load_results(tmp_path / "results", paper.slug, "cpu")[0]["paper"] == paper.slug
    assert not list(path.parent.glob(".*tmp*"))  # no temporary file left behind


def test_code_hash_is_taken_once_per_run(paper, tmp_path):
    runner = make_runner(tmp_path)
    runner.evaluate(paper, paper.claim("good-claim"))
    before = runner.code_state(paper)
    (paper.path / "helper.py").write_text("X = 1\n")  # the code changes while the run goes on
    assert runner.code_state(paper) == before  # results keep the hash of the code the run loaded
    assert make_runner(tmp_path).code_state(paper)[0] != before[0]  # a new run sees the change


def test_context_experiments_run_beside_the_claim_and_are_recorded(tmp_path):
    code = CODE + textwrap.dedent('''
        @experiment(config=Cfg, metrics=("cycles_ratio",), devices=("cpu",))
        def sim(cfg, seed, device):
            CALLS.append(("sim", seed))
            return {"cycles_ratio": 4.5}
    ''')
    spec = yaml.safe_load(yaml.safe_dump(VALID))
    spec["experiments"]["sim"] = {"simulated": "toy model v1", "scales": {"cpu": {"seeds": 1}}}
    spec["claims"][0]["test"]["context"] = ["sim.cycles_ratio"]
    write_paper(tmp_path / "papers", spec, code=code)
    (paper,) = discover(root=tmp_path / "papers")
    paper.module.CALLS.clear()
    runner = make_runner(tmp_path)
    (res,) = [r for r in runner.run_paper(paper) if r.claim.id == "good-claim"]
    assert res.verdict.verdict == "reproduced"  # judged on toy alone
    assert [r.metrics for r in res.context_runs["sim"]] == [{"cycles_ratio": 4.5}]
    assert paper.module.CALLS.count(("sim", 0)) == 1
    rec = json.loads(write_paper_results(runner, paper.slug, tmp_path / "results").read_text())
    assert rec["experiments"]["sim"]["simulated"] == "toy model v1"
    assert rec["experiments"]["sim"]["runs"][0]["metrics"] == {"cycles_ratio": 4.5}


def test_seeds_raised_after_a_look_make_the_verdict_sequential(paper, tmp_path):
    """3 seeds written, then 5: the file records the 3-seed look, and the 5-seed verdict is the sequence's."""
    from bench.provenance import hardware_name
    from bench.results import seed_history

    root = tmp_path / "results"
    first = make_runner(tmp_path, seeds=3)
    first.run_paper(paper)
    write_paper_results(first, paper.slug, root)
    second = make_runner(tmp_path, seeds=5)
    second.history = seed_history(root, "cpu", hardware_name(second.device))
    res = second.evaluate(paper, paper.claim("good-claim"))
    assert res.verdict.rule == "confidence-sequence" and res.verdict.fixed_n_verdict == "reproduced"
    assert "seeds were added after a look" in res.verdict.reason
    rec = json.loads(write_paper_results(second, paper.slug, root).read_text())
    assert rec["experiments"]["toy"]["seed_history"][0]["seeds"] == 3
    assert rec["experiments"]["toy"]["seed_history"][0]["verdicts"]["good-claim"] == "reproduced"
    assert rec["claims"]["good-claim"]["verdict_rule"] == "confidence-sequence"
    assert rec["claims"]["good-claim"]["metrics"]["gap_pp"]["cs95"] is not None
    # a fresh runner with no history and no earlier_seeds judges on the t interval
    assert make_runner(tmp_path, seeds=5).evaluate(paper, paper.claim("good-claim")).verdict.rule == "student-t"


def test_earlier_seeds_in_claims_yaml_make_the_verdict_sequential(tmp_path):
    spec = yaml.safe_load(yaml.safe_dump(VALID))
    spec["experiments"]["toy"]["scales"]["cpu"] = {"seeds": 4, "earlier_seeds": [3]}
    write_paper(tmp_path / "papers", spec, code=CODE)
    (p,) = discover(root=tmp_path / "papers")
    res = make_runner(tmp_path).evaluate(p, p.claim("good-claim"))
    assert len(res.runs) == 4 and res.verdict.rule == "confidence-sequence"


def test_rejudge_takes_a_declared_look_from_the_stored_values(tmp_path):
    """A file measured with 4 seeds, then claims.yaml declares a 3-seed look: rejudge re-decides on the
    sequence from the stored values and records the 3-seed look, measuring nothing."""
    from bench.results import rejudge_file

    spec = yaml.safe_load(yaml.safe_dump(VALID))
    spec["experiments"]["toy"]["scales"]["cpu"] = {"seeds": 4}
    folder = write_paper(tmp_path / "papers", spec, code=CODE)
    (p,) = discover(root=tmp_path / "papers")
    runner = make_runner(tmp_path)
    runner.run_paper(p)
    path = write_paper_results(runner, p.slug, tmp_path / "results")
    before = json.loads(path.read_text())
    assert before["claims"]["good-claim"]["verdict_rule"] == "student-t"
    spec["experiments"]["toy"]["scales"]["cpu"] = {"seeds": 4, "earlier_seeds": [3]}
    (folder / "claims.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (p,) = discover(root=tmp_path / "papers")
    calls = len(p.module.CALLS)
    rejudge_file(path, p)
    after = json.loads(path.read_text())
    assert len(p.module.CALLS) == calls  # nothing ran
    claim = after["claims"]["good-claim"]
    assert claim["verdict_rule"] == "confidence-sequence" and claim["fixed_n_verdict"] == "reproduced"
    assert claim["metrics"]["gap_pp"]["values"] == before["claims"]["good-claim"]["metrics"]["gap_pp"]["values"]
    (look,) = after["experiments"]["toy"]["seed_history"]
    assert look["seeds"] == 3 and look["verdicts"]["good-claim"] == "reproduced" and "reconstructed" in look
    assert claim["code_hash"] == before["claims"]["good-claim"]["code_hash"]
