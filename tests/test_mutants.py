"""Mutants (bench/mutants.py): a broken variant runs through the ordinary harness and its verdicts are compared."""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml

from bench import mutants, provenance
from bench.claims import ClaimsError, discover
from bench.cli import main
from bench.runner import Runner
from tests.test_claims_schema import VALID, write_paper

CODE = textwrap.dedent('''
    import os
    from dataclasses import dataclass
    from bench.registry import ExperimentConfig, experiment

    @dataclass
    class Cfg(ExperimentConfig):
        steps: int = 1  # unused

    @experiment(config=Cfg, metrics=("gap_pp", "ratio"))
    def toy(cfg, seed, device):
        broken = os.environ.get("TOY_BROKEN") == "1"  # what the mutant switches on
        return {"gap_pp": (3.0 if broken else 0.0) + 0.01 * seed, "ratio": 2.0 + 0.1 * seed}
''')

MUTANTS_PY = textwrap.dedent('''
    import os
    from unittest import mock
    from bench.mutants import mutant

    @mutant("shifted-gap")
    def shifted_gap():
        """The gap moves by 3 pp: what a wrong sign in the method would do."""
        with mock.patch.dict(os.environ, {"TOY_BROKEN": "1"}):
            yield
''')


def spec(**extra) -> dict:
    s = yaml.safe_load(yaml.safe_dump(VALID))
    s["claims"].append({"id": "ratio-claim", "statement": "s", "source": "Fig. 2", "tier": "B", "evidence": "derived",
                        "test": {"experiment": "toy", "metric": "ratio", "criterion": ">= 1.5"},
                        "expect": "reproduced"})
    s["mutants"] = [{"name": "shifted-gap", "description": "the gap shifted by 3 pp", "breaks": ["good-claim"]}]
    s.update(extra)
    return s


@pytest.fixture
def paper(tmp_path):
    folder = write_paper(tmp_path / "papers", spec(), code=CODE)
    (folder / "mutants.py").write_text(MUTANTS_PY)
    (p,) = discover(root=tmp_path / "papers")
    return p


def test_a_mutant_is_detected_by_the_claim_it_breaks_and_missed_by_the_other(paper, tmp_path):
    rec = mutants.evaluate(paper, "cpu", "cpu", cache_dir=tmp_path / "cache", log=lambda s: None)
    claims = rec["shifted-gap"]["claims"]
    assert claims["good-claim"]["intact"] == "reproduced" and claims["good-claim"]["mutant"] == "not_reproduced"
    assert claims["good-claim"]["outcome"] == mutants.DETECTED and claims["good-claim"]["should_break"]
    assert claims["ratio-claim"]["outcome"] == mutants.MISSED  # the ratio does not depend on the mutant
    summary = mutants.summary(paper, rec)
    assert summary["measured"] == {"claims": ["good-claim"], "detecting": ["good-claim"]}
    assert summary["derived"] == {"claims": ["ratio-claim"], "detecting": []}
    assert summary["weak"] == [] and summary["expected_breaks_missed"] == []


def test_mutant_runs_never_mix_with_the_intact_cache(paper, tmp_path):
    cache = tmp_path / "cache"
    mutants.evaluate(paper, "cpu", "cpu", cache_dir=cache, log=lambda s: None)
    intact = Runner("cpu", "cpu", cache_dir=cache, log=lambda s: None)
    res = intact.evaluate(paper, paper.claim("good-claim"))
    assert all(r.cached for r in res.runs) and res.summaries["gap_pp"].mean == pytest.approx(0.01)
    broken = Runner("cpu", "cpu", cache_dir=cache, log=lambda s: None, mutant="shifted-gap")
    res = broken.evaluate(paper, paper.claim("good-claim"))
    assert all(r.cached for r in res.runs) and res.summaries["gap_pp"].mean == pytest.approx(3.01)
    import os
    assert "TOY_BROKEN" not in os.environ  # the patch is undone after each run


def test_mutants_py_is_not_part_of_the_code_hash(paper):
    before = provenance.code_hash(paper.path)
    (paper.path / "mutants.py").write_text(MUTANTS_PY + "\n# edited\n")
    assert provenance.code_hash(paper.path) == before


def test_a_mutant_in_mutants_py_but_not_declared_is_refused(tmp_path):
    folder = write_paper(tmp_path / "papers", spec(mutants=[]), code=CODE)
    (folder / "mutants.py").write_text(MUTANTS_PY)
    with pytest.raises(ClaimsError) as err:
        discover(root=tmp_path / "papers")
    assert "mutant shifted-gap: not declared under mutants:" in str(err.value) and "\n" not in str(err.value)


def test_a_declared_mutant_missing_from_mutants_py_is_refused(tmp_path):
    folder = write_paper(tmp_path / "papers", spec(), code=CODE)
    (folder / "mutants.py").write_text(MUTANTS_PY.replace('"shifted-gap"', '"other"'))
    with pytest.raises(ClaimsError) as err:
        discover(root=tmp_path / "papers")
    assert "mutant shifted-gap: field name: no @mutant('shifted-gap')" in str(err.value)


def test_cli_writes_the_mutants_file(paper, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BENCH_PAPERS_DIR", str(tmp_path / "papers"))
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["mutants", "--scale", "cpu", "--device", "cpu", "--results-dir", str(tmp_path / "res")]) == 0
    (path,) = (tmp_path / "res" / paper.slug).glob("mutants-cpu-*.json")
    rec = json.loads(path.read_text())
    assert rec["summary"]["measured"]["detecting"] == ["good-claim"]
    assert rec["mutants"]["shifted-gap"]["mutants_hash"] == mutants.mutants_hash(paper)
    assert "detected (should break)" in capsys.readouterr().out
    assert main(["mutants", "--mutant", "nope", "--device", "cpu", "--results-dir", "none"]) == 2
    err = capsys.readouterr().err
    assert "no mutant 'nope'" in err and err.count("\n") == 1
