"""Class 3: files the suite wrote earlier are not trusted: no unpickling, no path outside its root, no foreign entry."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
import torch

from bench import data
from bench.files import UnsafePath, cache_entry_problem, safe_join
from bench.results import results_path
from tests.faults.conftest import one_line, spec_copy, tree

# -- the decoded-data cache: never unpickled ---------------------------------------------------------------------


class _Payload:
    """Unpickling this runs ``open(marker, 'w')``: the proof that a cache file ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _build():
    return {"train": (torch.arange(12, dtype=torch.uint8).view(3, 4), torch.tensor([0, 1, 2]))}


@pytest.fixture
def data_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "data"


def _entry(data_cache, key="toy", md5s=None):
    data._cached(key, md5s or {"f": "0" * 32}, _build)  # the path the loader uses for this key and md5s
    (path,) = data_cache.glob(f"{key}-*.npz")
    return path


def test_the_cache_round_trips_tensors_and_strings(data_cache):
    first = data._cached("toy", {"f": "1" * 32}, _build)
    again = data._cached("toy", {"f": "1" * 32}, lambda: pytest.fail("rebuilt a valid cache"))
    assert torch.equal(first["train"][0], again["train"][0]) and torch.equal(first["train"][1], again["train"][1])
    vocab = data._cached("ptb", {"f": "2" * 32}, lambda: {"vocab": ["a", "<eos>"], "ids": {"t": torch.arange(3)}})
    assert data._cached("ptb", {"f": "2" * 32}, None)["vocab"] == vocab["vocab"] == ["a", "<eos>"]


@pytest.mark.parametrize("craft", ["pickle", "torch_save", "npz_object_array"])
def test_a_crafted_cache_file_never_runs_code(data_cache, tmp_path, craft):
    path = _entry(data_cache)
    marker = tmp_path / "pwned"
    if craft == "pickle":
        path.write_bytes(pickle.dumps(_Payload(marker)))
    elif craft == "torch_save":
        torch.save({"train": _Payload(marker)}, path)
    else:
        with open(path, "wb") as f:
            np.savez(f, **{"d:train/t:0/": np.array([_Payload(marker)], dtype=object)})
    out = data._cached("toy", {"f": "0" * 32}, _build)
    assert not marker.exists(), "a cache file ran code"
    assert torch.equal(out["train"][0], _build()["train"][0])  # rebuilt from the raw files
    assert list(data_cache.glob("toy-*.npz.corrupt-*")), "the crafted file is kept aside for inspection"


def test_the_old_pickle_cache_is_ignored_not_loaded(data_cache, tmp_path):
    marker = tmp_path / "pwned"
    data_cache.mkdir(parents=True)
    tag = __import__("hashlib").md5(("0" * 32).encode()).hexdigest()[:12]
    (data_cache / f"toy-{tag}.pt").write_bytes(pickle.dumps(_Payload(marker)))
    data._cached("toy", {"f": "0" * 32}, _build)
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage", "missing_member"])
def test_a_damaged_cache_file_is_set_aside_and_rebuilt(data_cache, damage, capsys):
    path = _entry(data_cache)
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(os.urandom(200))
    else:
        with open(path, "wb") as f:
            np.savez(f, other=np.zeros(1))
    out = data._cached("toy", {"f": "0" * 32}, _build)
    assert "unusable" in one_line(capsys.readouterr().err)
    assert torch.equal(out["train"][1], torch.tensor([0, 1, 2]))
    assert list(data_cache.glob("toy-*.corrupt-*"))


# -- names that become paths -----------------------------------------------------------------------------------

@pytest.mark.parametrize("part", ["..", ".", "../x", "a/b", "/etc", "", "a\x00b", "x/../../y", "\\..\\x", "-rf"])
def test_safe_join_refuses_every_name_that_is_not_an_identifier(tmp_path, part):
    with pytest.raises(UnsafePath) as err:
        safe_join(tmp_path, "paper", part)
    one_line(str(err.value))


def test_safe_join_refuses_a_symlink_out_of_the_root(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(UnsafePath):
        safe_join(tmp_path / "root", "link", "x.json")


@pytest.mark.parametrize("hardware", ["../../etc", "cpu/x", "/abs"])
def test_a_results_path_stays_in_its_folder(tmp_path, hardware):
    with pytest.raises(UnsafePath):
        results_path("toy_paper2020", "cpu", hardware, tmp_path)


def test_the_runner_never_writes_outside_its_cache(toy, runner_for, tmp_path):
    paper = toy()
    runner = runner_for()
    for name in ("../../escape", "/tmp/escape"):
        with pytest.raises(UnsafePath):
            runner.cache_path(paper, name, "0" * 24)
    assert not (tmp_path / "escape").exists()


# -- cache entries: validated on read, quarantined when foreign or damaged ------------------------------------------

def _cached_entry(toy, runner_for, tmp_path):
    paper = toy(spec_copy())
    runner = runner_for()
    runner.run_paper(paper)
    entries = sorted((tmp_path / "cache").rglob("*.json"))
    assert len(entries) == 3
    return paper, entries


FORGERIES = {
    "truncated": lambda rec, raw: raw[: len(raw) // 2],
    "empty": lambda rec, raw: "",
    "not an object": lambda rec, raw: "[1, 2]",
    "other seed": lambda rec, raw: json.dumps({**rec, "seed": rec["seed"] + 1}),
    "other config": lambda rec, raw: json.dumps({**rec, "config": {**rec["config"], "lr": 9.0}}),
    "other device": lambda rec, raw: json.dumps({**rec, "device": "cuda"}),
    "metric missing": lambda rec, raw: json.dumps({**rec, "metrics": {"gain_pp": 1.0}}),
    "metric extra": lambda rec, raw: json.dumps({**rec, "metrics": {**rec["metrics"], "x": 1.0}}),
    "metric NaN": lambda rec, raw: json.dumps({**rec, "metrics": {**rec["metrics"], "gain_pp": float("nan")}}),
    "metric a string": lambda rec, raw: json.dumps({**rec, "metrics": {**rec["metrics"], "gain_pp": "99"}}),
    "metric a bool": lambda rec, raw: json.dumps({**rec, "metrics": {**rec["metrics"], "gain_pp": True}}),
    "negative wall time": lambda rec, raw: json.dumps({**rec, "wall_s": -1}),
    "datasets not an object": lambda rec, raw: json.dumps({**rec, "datasets": "x"}),
    "binary garbage": lambda rec, raw: "\x00\x01\x02",
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_an_unusable_cache_entry_is_quarantined_and_measured_again(toy, runner_for, tmp_path, forgery):
    paper, entries = _cached_entry(toy, runner_for, tmp_path)
    raw = entries[0].read_text()
    entries[0].write_text(FORGERIES[forgery](json.loads(raw), raw))
    runner = runner_for()
    results = {r.claim.id: r for r in runner.run_paper(paper)}
    assert results["accurate"].verdict.verdict == "reproduced"
    assert [r.cached for r in results["accurate"].runs].count(False) == 1  # the forged seed ran again
    assert json.loads(entries[0].read_text())["metrics"] == json.loads(raw)["metrics"]  # measured again, same
    quarantined = list((tmp_path / "cache" / ".quarantine").rglob("*.json.*"))
    assert len(quarantined) == 1, "the forged entry is kept for inspection"
    line = next(ln for ln in runner.lines if "unusable" in ln)
    one_line(line)


def test_cache_entry_problem_accepts_what_the_runner_writes():
    rec = {"metrics": {"a": 1.0, "b": 2}, "wall_s": 0.5, "datasets": {}, "config": {"t": (1, 2)}, "seed": 3,
           "device": "cpu"}
    assert cache_entry_problem(json.loads(json.dumps(rec)), 3, {"t": (1, 2)}, "cpu", ("a", "b")) == ""


def test_a_read_only_cache_costs_the_entry_not_the_result(toy, runner_for, tmp_path):
    paper = toy()
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / paper.slug).write_text("a file where a folder should be")
    runner = runner_for()
    results = {r.claim.id: r for r in runner.run_paper(paper)}
    assert results["accurate"].verdict.verdict == "reproduced"
    assert any("could not be cached" in ln for ln in runner.lines)
    assert tree(tmp_path / "cache") == {paper.slug: tree(tmp_path / "cache")[paper.slug]}
