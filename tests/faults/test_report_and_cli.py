"""Class 6: the reports render whatever the results hold, only http(s) links are links, and every bad option is
refused in one line before any work starts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import cli, provenance, report
from bench.claims import PaperMeta, discover
from bench.results import write_paper_results
from bench.runner import Runner
from tests.faults.conftest import tree


@pytest.fixture
def results(toy, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_PAPERS_DIR", str(tmp_path / "papers"))
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    paper = toy()
    runner = Runner("smoke", "cpu", cache_dir=tmp_path / "cache", log=lambda s: None)
    runner.run_paper(paper)
    path = write_paper_results(runner, paper.slug, tmp_path / "results", log=lambda s: None)
    return paper, path


def _render_all(paper, results_dir):
    files = report.read_results(paper, results_dir)
    parts = [report.header_html(paper, files, ["smoke"]), report.status_html(files, ["smoke"]),
             report.claim_table_html(report.claim_table(paper, files)), report.citations_html(
                 report.citations(paper, files)), report.provenance_table(files).to_html()]
    report.seed_values(paper, files)
    parts.append(report.index_html([paper], results_dir, None, ["smoke"]))
    return files, "".join(parts)


def test_every_part_of_the_report_renders_the_measured_file(results, tmp_path):
    paper, _ = results
    files, page = _render_all(paper, tmp_path / "results")
    assert files[0].status == "ok" and "accurate" in page


EDITS = {
    "commit null": lambda r: r["provenance"].update(commit=None),
    "date odd": lambda r: r["provenance"].update(date="yesterday"),
    "verdict null": lambda r: r["claims"]["accurate"].update(verdict=None),
    "reason with HTML": lambda r: r["claims"]["accurate"].update(reason="<script>alert(1)</script>"),
    "statement with HTML": lambda r: r["claims"]["accurate"].update(statement="<img src=x onerror=alert(1)>"),
    "hardware with HTML": lambda r: r.update(hardware="<b>x</b>"),
    "code hash of other code": lambda r: r["provenance"].update(code_hash="0" * 16),
    "claim of other code": lambda r: r["claims"]["accurate"].update(code_hash="1" * 16),
    "claim unknown to the paper": lambda r: r["claims"].update(ghost={"verdict": "reproduced"}),
    "no claims": lambda r: r.update(claims={}),
    "seeds needed a string": lambda r: r["claims"]["accurate"].update(seeds_needed="many"),
    "metrics of a claim empty": lambda r: r["claims"]["accurate"].update(metrics={}),
    "run error text": lambda r: r["experiments"]["toy"]["runs"][0].update(error="x" * 5000),
    "paper value nested": lambda r: r["claims"]["accurate"].update(paper_value={"a": [1, {"b": None}]}),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_odd_but_valid_results_render_escaped(results, tmp_path, edit):
    paper, path = results
    rec = json.loads(path.read_text())
    EDITS[edit](rec)
    path.write_text(json.dumps(rec))
    files, page = _render_all(paper, tmp_path / "results")
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>x</b>" not in page
    if edit in ("code hash of other code", "claim of other code"):
        assert files[0].status == "stale" and "stale" in page


@pytest.mark.parametrize(("url", "ok"), [
    ("https://github.com/wenwei202/terngrad", True),
    ("http://example.org/a?b=c", True),
    ("javascript:alert(1)", False),
    ("JAVASCRIPT:alert(1)", False),
    ("data:text/html,<script>", False),
    ("//evil.example/x", False),
    ("https://x.org/' onmouseover='alert(1)", False),
    ("ftp://x.org/file", False),
    ("", False),
    (None, False),
    (42, False),
])
def test_only_http_links_are_links(url, ok):
    assert (report.safe_link(url) is not None) == ok


def test_a_link_that_got_past_the_schema_is_rendered_as_text(results, tmp_path):
    paper, _ = results
    meta = PaperMeta.model_construct(**{**paper.spec.paper.model_dump(), "code": "javascript:alert(1)",
                                        "url": "https://ok.example/paper"})
    spec = paper.spec.model_copy(update={"paper": meta})
    forged = type(paper)(paper.slug, paper.path, spec)
    html = report.header_html(forged, [], ["cpu"])
    assert "javascript:" not in html and "href='https://ok.example/paper'" in html


# -- the command line: refused in one line, before any work ---------------------------------------------------------

BAD_RUN = {
    "seeds zero": (["run", "--seeds", "0"], "--seeds 0"),
    "seeds negative": (["run", "--seeds", "-2"], "--seeds -2"),
    "seeds too many": (["run", "--seeds", "1000"], "from 1 to 100"),
    "seeds not a number": (["run", "--seeds", "many"], "invalid int value"),
    "device absent": (["run", "--device", "cuda"], "no CUDA GPU"),
    "device unknown": (["run", "--device", "tpu"], "invalid choice"),
    "scale unknown": (["run", "--scale", "huge"], "invalid choice"),
    "results dir is a file": (["run", "--results-dir", "FILE"], "cannot write there"),
    "results dir unwritable": (["run", "--results-dir", "/proc/effdl"], "cannot write there"),
    "paper matches nothing": (["run", "--paper", "nothing_*"], "matches no paper"),
    "report scales unknown": (["report", "--scales", "cpu,huge"], "unknown scale 'huge'"),
    "index scales empty": (["index", "--scales", ","], "at least one scale"),
    "index out unwritable": (["index", "--out", "/proc/effdl"], "--out /proc/effdl: cannot write there"),
    "report out is a file": (["report", "--out", "FILE"], "cannot write there"),
    "show scale unknown": (["show", "--scale", "huge"], "invalid choice"),
    "unknown command": (["frobnicate"], "invalid choice"),
}


@pytest.mark.parametrize("case", sorted(BAD_RUN))
def test_a_bad_option_is_refused_in_one_line_before_any_work(results, tmp_path, capsys, case):
    argv, needle = BAD_RUN[case]
    argv = [str(tmp_path / "a-file") if a == "FILE" else a for a in argv]
    (tmp_path / "a-file").write_text("not a folder")
    before = {"cache": tree(tmp_path / "cache"), "results": tree(tmp_path / "results")}
    try:
        rc = cli.main(argv)
    except SystemExit as e:  # argparse's refusal (one line too: bench.cli._Parser)
        rc = e.code
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("error: ") and needle in err[0]
    assert {"cache": tree(tmp_path / "cache"), "results": tree(tmp_path / "results")} == before


@pytest.mark.parametrize(("option", "needle"), [
    (["--seeds", "0"], "--seeds 0"),
    (["--results-dir", "/proc/effdl"], "cannot write there"),
    (["--device", "cuda"], "no CUDA GPU"),
])
def test_pytest_refuses_a_bad_option_before_collecting(option, needle, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "bench/", "-p", "no:cacheprovider", "-q", *option],
                          cwd=provenance.REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [f"ERROR: {lines[0].removeprefix('ERROR: ')}"] and needle in lines[0]


def test_show_with_no_results_says_where_it_looked(tmp_path, capsys):
    assert cli.main(["show", "--results-dir", str(tmp_path / "empty")]) == 1
    assert "no results found" in capsys.readouterr().err


def test_every_real_paper_renders_its_committed_results():
    for paper in discover():
        files = report.read_results(paper, provenance.REPO_ROOT / "reference_results", ["cpu", "full"])
        assert all(f.status != "malformed" for f in files), [f.problem for f in files]
        report.claim_table_html(report.claim_table(paper, files))


def test_pytest_bench_runs_the_other_papers_past_a_broken_claims_file(tmp_path):
    from tests.faults.conftest import spec_copy, write_toy

    write_toy(tmp_path / "papers", spec_copy(), "good_paper2020")
    write_toy(tmp_path / "papers", "paper: [", "bad_paper2021")
    env = {**__import__("os").environ, "BENCH_PAPERS_DIR": str(tmp_path / "papers"),
           "BENCH_CACHE_DIR": str(tmp_path / "cache"), "BENCH_PROGRESS": "0"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "bench/test_claims.py", "-p", "no:cacheprovider", "-q",
                           "--scale", "smoke", "--results-dir", "none"], cwd=provenance.REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "FAILED bench/test_claims.py::test_claims_files_validate[bad_paper2021]" in proc.stdout
    assert "1 failed, 2 passed, 1 skipped" in proc.stdout


@pytest.mark.parametrize("speedups", [{"g": {"cpu": {"v": "fast"}}}, {"g": ["cpu"]}, "none", {"g": {"cpu": None}}])
def test_a_latency_file_of_the_wrong_shape_is_flagged_not_fatal(results, tmp_path, capsys, speedups):
    paper, _ = results
    bad = tmp_path / "results" / paper.slug / "latency-smoke-cpu-x-2c.json"
    bad.write_text(json.dumps({"paper": paper.slug, "scale": "smoke", "hardware": "cpu-x-2c",
                               "provenance": {"code_hash": "0", "commit": None, "date": "d"}, "speedups": speedups}))
    html = report.latency_html(paper, tmp_path / "results")
    assert "malformed" in html or "stale" in html
    rc = cli.main(["show", "--results-dir", str(tmp_path / "results")])
    out, err = capsys.readouterr()
    assert paper.slug in out
    assert rc == 0 or str(bad.name) in err or "cannot be shown" in err
