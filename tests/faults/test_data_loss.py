"""Class 5: nothing lost. A failed run never replaces good results; two writers never drop each other's claims."""

from __future__ import annotations

import json
import multiprocessing as mp
import os

import pytest

from bench import files
from bench.claims import discover
from bench.results import atomic_write_json, write_paper_results
from bench.runner import Runner
from tests.faults.conftest import set_config, spec_copy, write_toy


def _run(paper, tmp_path, results, scale="cpu", claim_ids=None, cache="cache"):
    runner = Runner(scale, "cpu", cache_dir=tmp_path / cache, log=lambda s: None)
    runner.run_paper(paper, claim_ids)
    return json.loads(write_paper_results(runner, paper.slug, results, log=lambda s: None).read_text())


def test_an_error_run_keeps_the_good_verdicts_and_records_the_failure(toy, tmp_path):
    results = tmp_path / "results"
    good = _run(toy(), tmp_path, results)
    assert good["claims"]["accurate"]["verdict"] == "reproduced"
    # the data goes missing: every seed fails (a new config, so nothing comes from the cache)
    bad = _run(toy(set_config(spec_copy(), missing_data=True)), tmp_path, results)
    for cid in ("accurate", "beats-chance"):
        claim = bad["claims"][cid]
        assert claim["verdict"] == "reproduced" and claim["metrics"] == good["claims"][cid]["metrics"]
        assert "FileNotFoundError" in claim["last_failure"]["reason"]
    assert bad["experiments"]["toy"]["runs"] == good["experiments"]["toy"]["runs"]


def test_a_new_measurement_replaces_the_old_one_even_when_worse(toy, tmp_path):
    results = tmp_path / "results"
    _run(toy(), tmp_path, results)
    spec = set_config(spec_copy(), steps=1)  # barely trained: a real, worse measurement
    spec["experiments"]["toy"]["sanity"] = {}
    worse = _run(toy(spec), tmp_path, results)
    assert worse["claims"]["accurate"]["verdict"] in ("not_reproduced", "inconclusive")
    assert "last_failure" not in worse["claims"]["accurate"]


def test_an_error_replaces_an_earlier_error(toy, tmp_path):
    results = tmp_path / "results"
    _run(toy(set_config(spec_copy(), fail_seed=0)), tmp_path, results)
    again = _run(toy(set_config(spec_copy(), fail_seed=1)), tmp_path, results)
    assert again["claims"]["accurate"]["verdict"] == "error" and "seed 1" in again["claims"]["accurate"]["reason"]


def test_a_run_of_some_claims_keeps_the_others(toy, tmp_path):
    results = tmp_path / "results"
    paper = toy()
    _run(paper, tmp_path, results)
    partial = _run(paper, tmp_path, results, claim_ids=["accurate"])
    assert set(partial["claims"]) == {"beats-chance", "accurate", "imagenet"}


def test_a_skipped_claim_does_not_replace_a_measured_one(toy, tmp_path):
    results = tmp_path / "results"
    _run(toy(), tmp_path, results)
    spec = spec_copy()
    spec["claims"][1]["test"]["devices"] = ["cuda"]  # now skipped on this CPU
    kept = _run(toy(spec), tmp_path, results)
    assert kept["claims"]["accurate"]["verdict"] == "reproduced"


def test_results_of_older_code_are_kept_and_marked_by_their_own_code_hash(toy, tmp_path):
    results = tmp_path / "results"
    first = _run(toy(), tmp_path, results)
    code = tmp_path / "papers" / "toy_paper2020" / "experiment.py"
    code.write_text(code.read_text() + "\nEDITED = True  # a code edit: the code hash changes\n")
    (paper,) = discover(root=tmp_path / "papers")
    second = _run(paper, tmp_path, results, claim_ids=["accurate"])
    kept = second["claims"]["beats-chance"]
    assert kept["code_hash"] == first["provenance"]["code_hash"] != second["provenance"]["code_hash"]
    from bench.report import read_results

    (f,) = read_results(paper, results)
    assert f.status == "stale"  # the kept claim is older code's: the report says so


def _writer(args):
    root, papers_dir, claim, barrier_dir, n = args
    os.environ["BENCH_PAPERS_DIR"] = papers_dir
    (paper,) = discover(root=__import__("pathlib").Path(papers_dir))
    runner = Runner("cpu", "cpu", cache_dir=__import__("pathlib").Path(root) / f"cache-{claim}", log=lambda s: None)
    runner.run_paper(paper, [claim])
    for _ in range(n):
        write_paper_results(runner, paper.slug, __import__("pathlib").Path(root) / "results", log=lambda s: None)
    return claim


def test_two_processes_writing_one_results_file_keep_both_claims(tmp_path):
    write_toy(tmp_path / "papers", spec_copy())
    ctx = mp.get_context("spawn")
    args = [(str(tmp_path), str(tmp_path / "papers"), claim, str(tmp_path), 15)
            for claim in ("accurate", "beats-chance")]
    with ctx.Pool(2) as pool:
        assert sorted(pool.map(_writer, args)) == ["accurate", "beats-chance"]
    (path,) = (tmp_path / "results" / "toy_paper2020").glob("cpu-*.json")
    claims = json.loads(path.read_text())["claims"]
    assert claims["accurate"]["verdict"] == claims["beats-chance"]["verdict"] == "reproduced"


def test_a_held_lock_times_out_in_one_line(tmp_path):
    target = tmp_path / "r.json"
    from filelock import FileLock

    with FileLock(str(target.with_name(".r.json.lock"))):
        with pytest.raises(TimeoutError) as err, files.locked(target, timeout=0.2):
            pass
    assert "another process" in str(err.value) and "\n" not in str(err.value)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    atomic_write_json(target, {"v": 1})

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_json(target, {"v": 2})
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_a_value_json_cannot_hold_is_refused_before_the_file_is_touched(tmp_path):
    target = tmp_path / "r.json"
    atomic_write_json(target, {"v": 1})
    with pytest.raises(ValueError):
        atomic_write_json(target, {"v": float("nan")})
    assert json.loads(target.read_text()) == {"v": 1}


def test_the_cache_is_never_written_for_a_failed_seed(toy, tmp_path):
    _run(toy(set_config(spec_copy(), fail_seed=1)), tmp_path, tmp_path / "results")
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert len(entries) == 2 and all(json.loads(e.read_text())["seed"] != 1 for e in entries)


def test_quarantine_keeps_the_relative_path_and_never_overwrites(tmp_path):
    root = tmp_path / "cache"
    (root / "p" / "e").mkdir(parents=True)
    first = root / "p" / "e" / "k.json"
    first.write_text("1")
    a = files.quarantine(first, root)
    first.write_text("2")
    b = files.quarantine(first, root)
    assert a != b and a.read_text() == "1" and b.read_text() == "2"
    assert a.relative_to(root).parts[:3] == (".quarantine", "p", "e")


@pytest.mark.parametrize("scale", ["smoke"])
def test_smoke_sanity_is_a_note_not_an_error(toy, tmp_path, scale):
    spec = set_config(spec_copy(), scale, steps=1)
    spec["experiments"]["toy"]["sanity"] = {"accuracy_pct": "> 100"}
    runner = Runner(scale, "cpu", cache_dir=tmp_path / "cache", log=lambda s: None)
    results = {r.claim.id: r for r in runner.run_paper(toy(spec))}
    v = results["accurate"].verdict
    assert v.verdict != "error" and "proves the path, not the training" in v.reason


def test_set_aside_never_overwrites_an_earlier_one(tmp_path):
    target = tmp_path / "r.json"
    asides = []
    for text in ("a", "b", "c"):
        target.write_text(text)
        asides.append(files.set_aside(target))
    assert len(set(asides)) == 3 and [p.read_text() for p in asides] == ["a", "b", "c"]


def test_a_claim_removed_from_the_paper_leaves_the_results_file(toy, tmp_path):
    results = tmp_path / "results"
    _run(toy(), tmp_path, results)
    spec = spec_copy()
    spec["claims"] = [c for c in spec["claims"] if c["id"] != "beats-chance"]
    after = _run(toy(spec), tmp_path, results)
    assert set(after["claims"]) == {"accurate", "imagenet"}  # git history keeps the old file


def test_the_writer_refuses_to_write_a_record_that_would_not_read_back(toy, tmp_path, monkeypatch):
    from bench import results as results_mod

    results = tmp_path / "results"
    first = _run(toy(), tmp_path, results)
    (path,) = (results / "toy_paper2020").glob("cpu-*.json")
    before = path.read_bytes()
    monkeypatch.setattr(results_mod.provenance, "now", lambda: 12345)  # a date of the wrong type
    runner = Runner("cpu", "cpu", cache_dir=tmp_path / "cache", log=lambda s: None)
    runner.run_paper(toy())
    with pytest.raises(Exception) as err:
        write_paper_results(runner, "toy_paper2020", results, log=lambda s: None)
    assert "field" in str(err.value) and path.read_bytes() == before and first


def test_results_written_are_valid_under_the_schema_every_time(toy, tmp_path):
    from bench.schema import read_results_file

    results = tmp_path / "results"
    for cfg in ({}, {"fail_seed": 0}, {"missing_data": True}, {"poison_step": 2}):
        _run(toy(set_config(spec_copy(), **cfg)), tmp_path, results)
        (path,) = (results / "toy_paper2020").glob("cpu-*.json")
        read_results_file(path)
