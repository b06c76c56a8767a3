"""Class 4: corrupt state never blocks later runs: it is reported, kept aside for inspection, and the rest goes on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import cli, provenance
from bench.report import index_rows, read_results, write_index
from bench.results import scan_results, write_paper_results
from bench.schema import ResultsFileError, read_results_file
from tests.faults.conftest import FUZZ, one_line, paths_in, spec_copy, tree, write_toy


@pytest.fixture(scope="session")
def _measured_template(tmp_path_factory):
    """Two toy papers measured once per session (papers, cache, results); each test gets a copy."""
    from bench.claims import discover
    from bench.runner import Runner

    root = tmp_path_factory.mktemp("measured")
    for slug in ("toy_paper2020", "other_paper2021"):
        write_toy(root / "papers", spec_copy(), slug)
    for paper in discover(root=root / "papers"):
        runner = Runner("cpu", "cpu", cache_dir=root / "cache", log=lambda s: None)
        runner.run_paper(paper)
        write_paper_results(runner, paper.slug, root / "results")
    return root


@pytest.fixture
def measured(_measured_template, tmp_path, monkeypatch):
    """A copy of the measured toy papers in ``tmp_path``; the CLI pointed at them."""
    for part in ("papers", "cache", "results"):
        shutil.copytree(_measured_template / part, tmp_path / part)
    monkeypatch.setenv("BENCH_PAPERS_DIR", str(tmp_path / "papers"))
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    return {slug: next((tmp_path / "results" / slug).glob("cpu-*.json"))
            for slug in ("toy_paper2020", "other_paper2021")}


def _show(tmp_path, capsys, *extra):
    rc = cli.main(["show", "--results-dir", str(tmp_path / "results"), *extra])
    out, err = capsys.readouterr()
    return rc, out, err


def test_show_reads_good_results(measured, tmp_path, capsys):
    rc, out, err = _show(tmp_path, capsys)
    assert rc == 0 and "toy_paper2020" in out and "other_paper2021" in out and not err


CORRUPTIONS = {
    "truncated": lambda text: text[: len(text) // 3],
    "empty": lambda text: "",
    "not JSON": lambda text: "{not json",
    "a list": lambda text: "[]",
    "NaN constant": lambda text: text.replace('"mean": ', '"mean": NaN, "x": ', 1),
    "claims a list": lambda text: json.dumps({**json.loads(text), "claims": []}),
    "verdict unknown": lambda text: text.replace('"verdict": "reproduced"', '"verdict": "great"', 1),
    "mean a string": lambda text: _claim_metric(text, "mean", "98.1"),
    "ci95 of three": lambda text: _claim_metric(text, "ci95", [1, 2, 3]),
    "ci95 swapped": lambda text: _claim_metric(text, "ci95", [5.0, 1.0]),
    "values empty": lambda text: _claim_metric(text, "values", []),
    "n disagrees": lambda text: _claim_metric(text, "n", 7),
    "std negative": lambda text: _claim_metric(text, "std", -1.0),
    "scale unknown": lambda text: json.dumps({**json.loads(text), "scale": "huge"}),
    "scale differs from the name": lambda text: json.dumps({**json.loads(text), "scale": "full"}),
    "paper differs from the folder": lambda text: json.dumps({**json.loads(text), "paper": "other_paper2021"}),
    "provenance missing": lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "provenance"}),
    "code hash a number": lambda text: json.dumps({**json.loads(text), "provenance": {
        **json.loads(text)["provenance"], "code_hash": 12}}),
    "commit a list": lambda text: json.dumps({**json.loads(text), "provenance": {
        **json.loads(text)["provenance"], "commit": ["x"]}}),
    "run metrics a string": lambda text: _run_field(text, "metrics", "high"),
    "run wall time negative": lambda text: _run_field(text, "wall_s", -3),
    "binary": lambda text: "\x00\xff",
}


def _claim_metric(text, field, value):
    rec = json.loads(text)
    rec["claims"]["accurate"]["metrics"]["accuracy_pct"][field] = value
    return json.dumps(rec)


def _run_field(text, field, value):
    rec = json.loads(text)
    rec["experiments"]["toy"]["runs"][0][field] = value
    return json.dumps(rec)


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_corrupt_results_file_is_named_and_the_others_still_show(measured, tmp_path, capsys, corruption):
    path = measured["toy_paper2020"]
    path.write_text(CORRUPTIONS[corruption](path.read_text()), encoding="latin-1" if corruption == "binary" else None)
    with pytest.raises(ResultsFileError) as err:
        read_results_file(path)
    one_line(str(err.value))
    assert str(path) in str(err.value) and "field" in str(err.value)
    rc, out, err_text = _show(tmp_path, capsys)
    assert rc == 1 and "other_paper2021" in out  # the good file is still shown
    assert str(path) in err_text and "left out" in err_text


@pytest.mark.parametrize("corruption", ["truncated", "mean a string", "verdict unknown", "ci95 of three"])
def test_the_report_and_index_flag_a_corrupt_file_instead_of_breaking(measured, toy, tmp_path, corruption):
    path = measured["toy_paper2020"]
    path.write_text(CORRUPTIONS[corruption](path.read_text()))
    paper = toy(spec_copy(), slug="toy_paper2020")
    (f,) = read_results(paper, tmp_path / "results")
    assert f.status == "malformed" and f.problem
    rows = index_rows([paper], tmp_path / "results", ["cpu"])
    assert set(rows["verdict"]) <= {"no result", "not_testable"}
    problems: list[str] = []
    page = write_index(tmp_path / "reports", tmp_path / "results", ["cpu"], problems)
    assert len(problems) == 1 and "toy_paper2020" in problems[0] and "Left out" in page.read_text()


def test_a_later_run_sets_a_corrupt_results_file_aside_and_writes_a_new_one(measured, toy, runner_for, tmp_path):
    path = measured["toy_paper2020"]
    path.write_text(path.read_text()[:100])
    damaged = path.read_bytes()
    paper = toy(spec_copy(), slug="toy_paper2020")
    runner = runner_for()
    runner.run_paper(paper)
    lines = []
    write_paper_results(runner, paper.slug, tmp_path / "results", log=lines.append)
    assert read_results_file(path)["claims"]["accurate"]["verdict"] == "reproduced"
    (aside,) = path.parent.glob(f"{path.name}.corrupt-*")
    assert aside.read_bytes() == damaged  # kept for inspection, byte for byte
    assert "set aside" in one_line(lines[0])


def test_a_truncated_cache_entry_is_measured_again_on_every_path(measured, toy, runner_for, tmp_path):
    for entry in (tmp_path / "cache").rglob("*.json"):
        entry.write_text(entry.read_text()[:20])
    paper = toy(spec_copy(), slug="toy_paper2020")
    results = {r.claim.id: r for r in runner_for().run_paper(paper)}
    assert results["accurate"].verdict.verdict == "reproduced"
    assert len(list((tmp_path / "cache" / ".quarantine").rglob("*"))) >= 3


def test_one_broken_claims_file_does_not_break_show_or_index(measured, tmp_path, capsys):
    (tmp_path / "papers" / "other_paper2021" / "claims.yaml").write_text("paper: [broken")
    rc, out, err = _show(tmp_path, capsys)
    assert rc == 1 and "toy_paper2020" in out and "other_paper2021" in err and "not valid YAML" in err
    rc = cli.main(["index", "--results-dir", str(tmp_path / "results"), "--out", str(tmp_path / "reports")])
    _, err = capsys.readouterr()
    page = (tmp_path / "reports" / "index.html").read_text()
    assert rc == 1 and "toy_paper2020" in page and "not valid YAML" in page and "other_paper2021" in err
    assert cli.main(["validate"]) == 2
    assert "other_paper2021" in one_line(capsys.readouterr().err.strip())


def test_a_corrupt_latency_file_is_named_and_skipped(measured, tmp_path, capsys):
    bad = tmp_path / "results" / "toy_paper2020" / "latency-cpu-cpu-x-2c.json"
    bad.write_text('{"paper": "toy_paper2020"')
    rc, out, err = _show(tmp_path, capsys)
    assert rc == 1 and str(bad) in err and "toy_paper2020" in out


def test_scan_results_returns_the_good_and_names_the_bad(measured, tmp_path):
    measured["other_paper2021"].write_text("{")
    records, problems = scan_results(tmp_path / "results")
    assert [r["paper"] for r in records] == ["toy_paper2020"]
    assert len(problems) == 1 and "other_paper2021" in problems[0]


def test_an_unknown_extra_field_from_a_newer_suite_still_reads(measured):
    path = measured["toy_paper2020"]
    rec = json.loads(path.read_text())
    rec["claims"]["accurate"]["evidence"] = "measured"
    rec["future"] = {"x": 1}
    path.write_text(json.dumps(rec))
    assert read_results_file(path)["future"] == {"x": 1}


def test_every_committed_results_file_reads_under_the_schema():
    records, problems = scan_results(provenance.REPO_ROOT / "reference_results")
    assert records and not problems


def test_kill_9_during_writes_never_leaves_half_a_file(tmp_path):
    target = tmp_path / "r.json"
    script = (
        "import json, pathlib\n"
        "from bench.files import atomic_write_text  # what atomic_write_json writes with, without torch\n"
        "print('ready', flush=True)\n"
        "i = 0\n"
        "while True:\n"
        "    i += 1\n"
        f"    atomic_write_text(pathlib.Path({str(target)!r}), json.dumps({{'i': i, 'pad': 'x' * 200000}}))\n")
    for delay in (0.05, 0.13, 0.21):
        proc = subprocess.Popen([sys.executable, "-c", script], cwd=provenance.REPO_ROOT, stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.kill()  # SIGKILL: no cleanup runs
        proc.wait()
        assert json.loads(target.read_text())["pad"] == "x" * 200000
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "r.json"]
    assert all(name.startswith(".r.json.tmp") for name in leftovers)  # a killed writer's temporary, never r.json


def test_nothing_outside_the_results_and_cache_changes_during_recovery(measured, toy, runner_for, tmp_path):
    before = tree(tmp_path / "papers")
    measured["toy_paper2020"].write_text("{")
    paper = toy(spec_copy(), slug="toy_paper2020")
    runner = runner_for()
    runner.run_paper(paper)
    write_paper_results(runner, paper.slug, tmp_path / "results", log=lambda s: None)
    assert tree(tmp_path / "papers") == before


# -- property-based: random values at random places of a results file ----------------------------------------------

_JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
                        | st.text(max_size=12), lambda kids: st.lists(kids, max_size=3)
                        | st.dictionaries(st.text(max_size=6), kids, max_size=3), max_leaves=6)


@settings(**FUZZ)
@given(data=st.data())
def test_fuzzed_results_file_reads_and_renders_or_is_named(_measured_template, tmp_path_factory, data):
    from bench.claims import discover
    from bench.results import format_record

    source = next((_measured_template / "results" / "toy_paper2020").glob("cpu-*.json"))
    record = json.loads(source.read_text())
    where = data.draw(st.sampled_from([p for p in paths_in(record) if p]))
    node = record
    for part in where[:-1]:
        node = node[part]
    if data.draw(st.booleans()):
        node[where[-1]] = data.draw(_JSONISH)
    elif isinstance(node, dict):
        del node[where[-1]]
    else:
        node.pop(where[-1])
    root = tmp_path_factory.mktemp("fuzz")
    path = root / "toy_paper2020" / source.name
    path.parent.mkdir()
    path.write_text(json.dumps(record))
    try:
        rec = read_results_file(path)
    except ResultsFileError as e:
        one_line(str(e))
        assert str(path) in str(e)
        return
    format_record(rec)
    (paper,) = [p for p in discover(root=_measured_template / "papers") if p.slug == "toy_paper2020"]
    files = read_results(paper, root)
    from bench import report

    report.claim_table_html(report.claim_table(paper, files))
    report.seed_values(paper, files)
    report.citations(paper, files)
    report.status_html(files, ["cpu"])
    report.provenance_table(files)
