"""The plan of cells (python -m bench plan), the cache as a store (export/import checked against the code here,
foreign entries refused on read), and the compute recorded per cell, per claim and per file."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from bench import cli, store
from bench.cells import Progress, plan
from bench.claims import discover
from bench.results import write_paper_results
from bench.runner import Runner
from tests.faults.conftest import set_config, spec_copy, write_toy


@pytest.fixture
def env(tmp_path, monkeypatch):
    write_toy(tmp_path / "papers", set_config(spec_copy(), steps=30))
    monkeypatch.setenv("BENCH_PAPERS_DIR", str(tmp_path / "papers"))
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BENCH_PROGRESS", "0")
    (paper,) = discover()
    return paper, tmp_path


def _plan_json(capsys, tmp_path) -> dict:
    assert cli.main(["plan", "--scale", "cpu", "--device", "cpu", "--json", "--results-dir",
                     str(tmp_path / "results")]) == 0
    return json.loads(capsys.readouterr().out)


def test_plan_lists_cells_cached_state_and_expected_time(env, capsys):
    paper, tmp_path = env
    before = _plan_json(capsys, tmp_path)
    assert [c["id"] for c in before["cells"]] == [f"toy_paper2020.toy#{s}" for s in range(3)]
    assert all(not c["cached"] and c["expected_s"] is None for c in before["cells"])
    assert before["cells"][0]["claims"] == ["beats-chance", "accurate"]  # shared by both claims, run once
    assert before["totals"] == {"cells": 3, "cached": 0, "to_run": 3, "timed": 0, "expected_s": 0.0, "unknown": 3}
    lines: list[str] = []
    runner = Runner("cpu", "cpu", log=lambda line: None)
    runner.on_cell = Progress(plan(runner, [paper]), lines.append).cell_done
    runner.run_paper(paper)
    assert lines[0].startswith("[toy_paper2020] cells 1/3 (toy seed 0: ") and lines[-1].endswith("; done")
    after = _plan_json(capsys, tmp_path)
    assert all(c["cached"] for c in after["cells"]) and after["totals"]["to_run"] == 0
    # a new seed count: the recorded runs of the same config give the new cells' expected time
    write_toy(tmp_path / "papers", set_config(spec_copy(), steps=30, seeds=4))
    grown = _plan_json(capsys, tmp_path)
    new = [c for c in grown["cells"] if not c["cached"]]
    assert [c["seed"] for c in new] == [3] and new[0]["expected_s"] > 0
    assert "this hardware" in new[0]["expected_from"]
    assert cli.main(["plan", "--scale", "cpu", "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    assert "toy_paper2020.toy#3 [cpu, cpu]" in text and text.strip().splitlines()[-1].startswith("total: 4 cells")


def test_cells_record_their_compute_and_claims_and_files_sum_it(env):
    paper, tmp_path = env
    runner = Runner("cpu", "cpu", log=lambda line: None)
    runner.run_paper(paper)
    path = write_paper_results(runner, paper.slug, tmp_path / "results")
    rec = json.loads(path.read_text())
    runs = rec["experiments"]["toy"]["runs"]
    assert all(r["cost"]["cpu_s"] >= 0 and r["cost"]["peak_rss_mb"] > 0 for r in runs)
    compute = rec["claims"]["accurate"]["compute"]
    assert compute["cells"] == 3 and compute["unknown"] == 0
    assert compute["wall_s"] == pytest.approx(sum(r["cost"]["wall_s"] for r in runs), abs=0.2)
    assert rec["provenance"]["compute"]["cells"] == 3  # the file's cells, each once
    entry = json.loads(next((tmp_path / "cache" / "bench").rglob("*.json")).read_text())
    assert {"key", "paper", "experiment", "code_hash", "cost", "hardware"} <= set(entry)


def test_export_and_import_move_cells_and_refuse_what_the_code_here_would_not_make(env, capsys):
    paper, tmp_path = env
    Runner("cpu", "cpu", log=lambda line: None).run_paper(paper)
    archive = tmp_path / "cells.tar.gz"
    assert store.export(archive) == 3
    fresh = tmp_path / "other-cache"
    imported, present, refused = store.import_(archive, fresh)
    assert len(imported) == 3 and not present and not refused
    assert store.import_(archive, fresh)[1] == imported  # a second import finds them there
    again = Runner("cpu", "cpu", cache_dir=fresh, log=lambda line: None).run_paper(paper)
    assert all(r.cached for res in again for r in res.runs)  # the imported cells are used as measured

    def tampered(edit) -> list[str]:
        out = tmp_path / "tampered.tar.gz"
        with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
            for m in src.getmembers():
                data = src.extractfile(m).read()
                if m.name.endswith(".json") and m.name != store.MANIFEST:
                    data = json.dumps(edit(json.loads(data))).encode()
                m.size = len(data)
                dst.addfile(m, io.BytesIO(data))
        return store.import_(out, tmp_path / "third-cache")[2]

    assert all("measured with code hash 0000, the code here is" in r
               for r in tampered(lambda e: {**e, "code_hash": "0000"}))
    assert all("not toy's config at any scale" in r for r in tampered(lambda e: {**e, "config": {"lr": 9}}))
    assert all("is not the key computed here" in r for r in tampered(lambda e: {**e, "key": "f" * 24}))
    assert all("paper 'gone_paper2020' is not here" in r for r in tampered(lambda e: {**e, "paper": "gone_paper2020"}))
    assert cli.main(["cache", "import", str(archive)]) == 0
    assert "imported 0 cell(s), 3 already there, 0 refused" in capsys.readouterr().out


def test_an_entry_under_another_cells_key_is_refused_and_measured_again(env):
    paper, tmp_path = env
    runner = Runner("cpu", "cpu", log=lambda line: None)
    runner.run_paper(paper)
    entries = sorted((tmp_path / "cache" / "bench" / paper.slug / "toy").glob("*.json"))
    one, two = entries[0], entries[1]
    two.write_text(one.read_text())  # seed x's entry placed at seed y's key
    lines: list[str] = []
    again = Runner("cpu", "cpu", log=lines.append)
    again.run_paper(paper)
    assert any("is unusable (field key" in line or "is unusable (field seed" in line for line in lines)
