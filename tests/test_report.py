"""Reports: result files classified (ok, stale, malformed, missing), tables, citations, index, the DVC pipeline."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from bench import provenance, report
from bench.claims import ClaimsError, discover
from bench.results import write_paper_results
from tests.test_runner import make_runner, paper  # noqa: F401  (fixture)


@pytest.fixture
def results(paper, tmp_path):  # noqa: F811
    runner = make_runner(tmp_path)
    runner.run_paper(paper)
    return write_paper_results(runner, paper.slug, tmp_path / "results")


def test_current_results_are_ok_and_tabled(paper, results, tmp_path):  # noqa: F811
    files = report.read_results(paper, tmp_path / "results", ["cpu", "full"])
    assert [(f.status, f.scale) for f in files] == [("ok", "cpu")]
    assert report.missing_scales(files, ["cpu", "full"]) == ["full"]
    table = report.claim_table(paper, files)
    assert set(table["claim"]) == {c.id for c in paper.spec.claims}
    row = table[table["claim"] == "ratio-claim"].iloc[0]
    assert row["verdict"] == "reproduced" and row["seeds"] == 3 and "ratio = 2.1 [" in row["measured"]
    assert table[table["claim"] == "gpu-only"].iloc[0]["verdict"] == "skipped"
    html = report.claim_table_html(table)
    assert html.count("<tr id=") == len(table) and "reproduced" in html
    warn = report.status_html(files, ["cpu", "full"])
    assert "No results at scale <code>full</code>" in warn and "Stale" not in warn


def test_changed_code_marks_results_stale(paper, results, tmp_path):  # noqa: F811
    (paper.path / "experiment.py").write_text((paper.path / "experiment.py").read_text() + "\nEDITED = 1\n")
    (f,) = report.read_results(paper, tmp_path / "results")
    assert f.status == "stale" and provenance.code_hash(paper.path) in f.problem
    table = report.claim_table(paper, [f])
    assert (table["status"] == "stale").all()  # still shown, marked
    assert "Stale results" in report.status_html([f], ["cpu"])


@pytest.mark.parametrize("mutate, field", [
    (lambda r: "{not json", "JSON"),
    (lambda r: {k: v for k, v in r.items() if k != "claims"}, "field claims"),
    (lambda r: {**r, "provenance": {k: v for k, v in r["provenance"].items() if k != "code_hash"}},
     "provenance.code_hash"),
    (lambda r: {**r, "claims": {"ratio-claim": {**r["claims"]["ratio-claim"], "metrics": {"ratio": {"mean": 1}}}}},
     "metrics.ratio"),
    (lambda r: {**r, "scale": "huge"}, "field scale"),
])
def test_malformed_results_are_named_not_fatal(paper, results, tmp_path, mutate, field):  # noqa: F811
    rec = json.loads(results.read_text())
    bad = mutate(rec)
    results.write_text(bad if isinstance(bad, str) else json.dumps(bad))
    (f,) = report.read_results(paper, tmp_path / "results")
    assert f.status == "malformed" and field in f.problem
    table = report.claim_table(paper, [f])
    assert set(table["verdict"]) <= {"no result", "not_testable"}  # its claims are left out, none crash
    assert "Malformed results file" in report.status_html([f], ["cpu"])


def test_citations_only_for_reproduced_non_smoke_claims(paper, results, tmp_path):  # noqa: F811
    files = report.read_results(paper, tmp_path / "results")
    lines = report.citations(paper, files)
    rec = json.loads(results.read_text())
    reproduced = [c for c, v in rec["claims"].items() if v.get("verdict") == "reproduced"]
    assert len(lines) == len(reproduced) > 0
    assert all("95% CI" in x and "scale cpu" in x and results.name in x for x in lines)
    smoke = make_runner(tmp_path, scale="smoke")
    smoke.run_paper(paper)
    write_paper_results(smoke, paper.slug, tmp_path / "results")
    assert len(report.citations(paper, report.read_results(paper, tmp_path / "results"))) == len(lines)


def test_seed_values_hold_every_seed(paper, results, tmp_path):  # noqa: F811
    values = report.seed_values(paper, report.read_results(paper, tmp_path / "results"))
    ratio = values[(values["claim"] == "ratio-claim") & (values["metric"] == "ratio")]
    assert sorted(ratio["value"]) == pytest.approx([2.0, 2.1, 2.2]) and set(ratio["criterion"]) == {">= 1.5"}


def test_index_lists_every_claim_with_counts(paper, results, tmp_path):  # noqa: F811
    page = report.index_html([paper], tmp_path / "results", reports={paper.slug}, scales=["cpu", "full"])
    rows = re.findall(r"<tr class='claim-row' data-claim='([^']+)'", page)
    assert sorted(rows) == sorted(f"{paper.slug}/{c.id}" for c in paper.spec.claims)
    counts = report.verdict_counts(report.index_rows([paper], tmp_path / "results"))
    assert counts.loc["cpu"].to_numpy().sum() == len(paper.spec.claims)  # rows: (scale, evidence kind)
    assert "http" not in page.split("<body>")[0]  # nothing loaded from the network


def test_figure_specs_are_checked(tmp_path):
    from bench.claims import Figure

    with pytest.raises(ValueError, match="needs groups"):
        Figure(kind="bars", title="t", experiment="e", series={"a": "m_{group}"})
    with pytest.raises(ValueError, match=r"\{x: metric, y: metric\}"):
        Figure(kind="scatter", title="t", experiment="e", series={"a": "m"})
    fig = Figure(kind="bars", title="t", experiment="e", series={"a": "m_{group}"}, groups=["1", "2"])
    assert fig.metrics() == ["m_1", "m_2"]


def test_figure_with_unknown_metric_is_rejected(paper):  # noqa: F811
    spec = yaml.safe_load(paper.claims_path.read_text())
    spec["report"] = {"figures": [{"kind": "scatter", "title": "t", "experiment": "toy",
                                   "series": {"s": {"x": "ratio", "y": "nope"}}}]}
    paper.claims_path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ClaimsError, match="report figure #1: field series: 'nope'"):
        discover(root=paper.path.parent)


def test_pipeline_covers_every_paper_and_the_measuring_code():
    dvc = yaml.safe_load((provenance.REPO_ROOT / "dvc.yaml").read_text())
    slugs = {p.slug for p in discover()}
    assert set(dvc["vars"][0]["papers"]) == slugs, "add the paper to vars.papers in dvc.yaml"
    deps = set(dvc["stages"]["results"]["do"]["deps"])
    for p_ in discover():
        needed = {str(p.relative_to(provenance.REPO_ROOT)) for p in provenance.code_files(p_.path)
                  if not p.is_relative_to(p_.path)} | {"bench/verdict.py", "bench/claims.py", "bench/results.py"}
        uncovered = {f for f in needed if not any(f == d or f.startswith(d + "/") for d in deps)}
        assert not uncovered, f"add {sorted(uncovered)} to the results stage's deps"
    index_deps = set(dvc["stages"]["index"]["deps"])
    assert {f"reports/{s}.html" for s in slugs} <= index_deps, "add reports/<slug>.html to the index's deps"
    assert {f"papers/{s}/claims.yaml" for s in slugs} <= index_deps, "add papers/<slug>/claims.yaml to the index's deps"


@pytest.mark.timeout(180)
def test_a_failing_report_cell_fails_the_render(tmp_path):
    import nbformat
    from papermill.exceptions import PapermillExecutionError

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('slug = ""\nscales = ""\nresults_dir = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell('import sys\nprint(sys.executable)\nraise RuntimeError("broken")')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    template = tmp_path / "t.ipynb"
    nbformat.write(nb, template)
    with pytest.raises(PapermillExecutionError, match="broken"):
        report.render_report("ssl_wen2016", tmp_path / "out", tmp_path, ["cpu"], template=template)
    assert not (tmp_path / "out" / "ssl_wen2016.html").exists()


def test_simulated_claims_are_labelled_everywhere():
    from bench.cli import _simulated
    from bench.results import format_record, load_results

    tg = discover(["terngrad_wen2017"])[0]
    files = report.read_results(tg, provenance.REPO_ROOT / "reference_results", ["cpu"])
    lines = report.citations(tg, files)
    simulated = [x for x in lines if "throughput-speedup-alexnet-ethernet" in x]
    measured = [x for x in lines if "communication-2-bits" in x]
    assert simulated and "reproduced in simulation (bench.hardware.network v1" in simulated[0]
    assert measured and "in simulation" not in measured[0]
    page = report.index_html([tg], provenance.REPO_ROOT / "reference_results", scales=["cpu"])
    assert "<b>simulated</b>: alexnet_ethernet_speedup_8" in page
    record = load_results(provenance.REPO_ROOT / "reference_results", "terngrad_wen2017", "cpu")[0]
    text = format_record(record, _simulated([tg]))
    assert "simulated: alexnet_ethernet_speedup_8" in text and "measured:  gap_pp_n2" in text


def test_lines_figures_need_numeric_groups_and_draw_paper_gaps():
    from bench.claims import Figure

    with pytest.raises(ValueError, match="groups are numbers"):
        Figure(kind="lines", title="t", experiment="e", groups=["a"], series={"s": "m_{group}"})
    with pytest.raises(ValueError, match="one number per group"):
        Figure(kind="lines", title="t", experiment="e", groups=["1", "2"], series={"s": "m_{group}"},
               paper={"p": [1.0]})
    fig = Figure(kind="lines", title="t", experiment="throughput_model", groups=["1", "8"],
                 series={"model": "alexnet_ethernet_speedup_{group}"}, paper={"paper": [1.0, None]}, log_x=True)
    tg = discover(["terngrad_wen2017"])[0]
    files = report.read_results(tg, provenance.REPO_ROOT / "reference_results", ["cpu"])
    drawn = report.plot_figure(fig, files)
    ax = drawn.axes[0]
    assert [len(line.get_xdata()) for line in ax.get_lines() if line.get_label() in ("model", "paper")] == [2, 1]


def test_scatter_figures_honour_log_axes():
    nns = discover(["admm_nn_s_ma2019"])[0]
    spec = next(f for f in nns.spec.report.figures if f.kind == "scatter")
    assert spec.log_x
    files = report.read_results(nns, provenance.REPO_ROOT / "reference_results", ["cpu"])
    assert report.plot_figure(spec, files).axes[0].get_xscale() == "log"


def test_show_prints_a_claims_context_figures():
    from bench.cli import _labels
    from bench.results import format_record, load_results

    ssl = discover(["ssl_wen2016"])[0]
    record = load_results(provenance.REPO_ROOT / "reference_results", "ssl_wen2016", "cpu")[0]
    text = format_record(record, *_labels([ssl]))
    block = text.split("alexnet-cpu-speedup ")[1].split("\n  alexnet-cpu-structured")[0]
    assert "measured:  structured_mean=" in block
    assert "context:   flop_bound_mean=" in block and "(alexnet_roofline_speedup, simulated)" in block


def test_show_labels_only_simulated_figures_in_a_mixed_experiment():
    from bench.cli import _labels
    from bench.results import format_record, load_results

    mem = discover(["memristor_admm_yuan2019"])[0]
    record = load_results(provenance.REPO_ROOT / "reference_results", "memristor_admm_yuan2019", "cpu")[0]
    text = format_record(record, *_labels([mem]))
    block = text.split("crossbar-blocks-save-arrays ")[1]
    # a measured accuracy beside the simulated crossbar counts is not labelled simulated
    assert "(cifar_memristor)" in block.split("accuracy_irregular_pct=")[1].split(";")[0]
    # the figure a simulated claim decides on is, wherever it is shown
    labels = _labels([mem])[2]
    assert "cifar_memristor.arrays_crossbar_over_irregular" in labels and "cifar_memristor" not in labels


def test_context_must_name_an_experiment_metric(paper, tmp_path):  # noqa: F811
    spec = yaml.safe_load(paper.claims_path.read_text())
    spec["claims"][0]["test"]["context"] = ["nope.metric"]
    paper.claims_path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ClaimsError, match="test.context: 'nope.metric'"):
        discover(root=paper.path.parent)


def _labelled_paper(tmp_path):
    """The toy paper with a derived claim, a not_implemented one and a headline on the measured claim."""
    from tests.test_runner import CODE, VALID, write_paper

    spec = yaml.safe_load(yaml.safe_dump(VALID))
    spec["claims"][0]["headline"] = True
    spec["claims"][1].pop("headline")
    spec["claims"].append({"id": "ratio-claim", "statement": "s", "source": "Fig. 2", "tier": "B",
                           "evidence": "derived", "test": {"experiment": "toy", "metric": "ratio",
                                                           "criterion": ">= 1.5"}, "expect": "reproduced"})
    spec["claims"].append({"id": "resnet", "statement": "s", "source": "Table 4", "tier": "A",
                           "not_implemented": {"reason": "CIFAR-10 is here; the model is not built",
                                               "needs": "ResNet-56 and 2 GPU hours"}})
    spec["experiments"]["toy"]["baseline"] = {"metric": "ratio", "kind": "accuracy_pct", "paper": 99.0,
                                              "source": "Table 1"}
    write_paper(tmp_path / "papers", spec, code=CODE)
    (p,) = discover(root=tmp_path / "papers")
    runner = make_runner(tmp_path)
    runner.run_paper(p)
    write_paper_results(runner, p.slug, tmp_path / "results")
    return p


def test_index_separates_evidence_kinds_and_never_shows_derived_as_plain_reproduced(tmp_path):
    from bench.cli import _labels
    from bench.results import format_record, load_results

    p = _labelled_paper(tmp_path)
    page = report.index_html([p], tmp_path / "results", scales=["cpu"])
    counts = report.verdict_counts(report.index_rows([p], tmp_path / "results", ["cpu"]))
    assert counts.loc[("cpu", "measured"), "reproduced"] == 1 and counts.loc[("cpu", "derived"), "reproduced"] == 1
    assert counts.loc[("cpu", "—"), "not_implemented"] == 1 and counts.loc[("cpu", "—"), "not_testable"] == 1
    assert "reproduced (derived: holds by construction)" in page
    row = re.search(r"data-claim='toy_paper2020/ratio-claim'>.*?</tr>", page).group(0)
    assert ">reproduced</span>" not in row and "reproduced (derived: holds by construction)</span>" in row
    heads = re.findall(r"<tr class='headline-row' data-claim='([^']+)'", page)
    assert heads == ["toy_paper2020/good-claim"]
    assert "id='counts-figure'" in page and "data:image/png;base64," in page
    assert "proxy regime" in page  # the toy's baseline (ratio ~2.1 as an accuracy) is far below the paper's 99
    text = format_record(load_results(tmp_path / "results", p.slug, "cpu")[0], *_labels([p]))
    assert "reproduced (derived: holds by construction)" in text and "regime:    baseline ratio" in text
    assert "not_implemented" in text and "it would take: ResNet-56" in text
    lines = report.citations(p, report.read_results(p, tmp_path / "results", ["cpu"]))
    assert any("ratio-claim" in x and "holds by construction" in x for x in lines)


def test_regime_rule():
    from bench.regime import is_proxy

    assert is_proxy("error_pct", 4.0, 0.8) and not is_proxy("error_pct", 1.5, 0.8)
    assert is_proxy("accuracy_pct", 95.0, 99.0) and not is_proxy("accuracy_pct", 97.5, 99.0)


def test_readme_paper_sections_lead_with_their_headline_claims():
    """Each paper's section of the README opens with a line per headline claim (python -m bench show --headlines)."""
    readme = (provenance.REPO_ROOT / "README.md").read_text()
    lines = [x for x in readme.splitlines() if x.startswith("**Headline**")]
    for p_ in discover():
        for claim in p_.spec.headlines:
            assert any(f"`{p_.slug}` · `{claim.id}`" in x for x in lines), \
                f"README: no **Headline** line for {p_.slug} · {claim.id}"


def test_readme_compute_table_is_that_of_the_committed_results():
    """The README's compute table is `python -m bench show --compute` over the committed results files."""
    from bench.cli import compute_table
    from bench.results import RESULTS_DIR

    readme = (provenance.REPO_ROOT / "README.md").read_text()
    block = readme.split("<!-- compute-table -->\n", 1)[1].split("\n<!-- /compute-table -->", 1)[0]
    assert block.splitlines() == compute_table(discover(), RESULTS_DIR), \
        "regenerate the README's compute table: python -m bench show --compute"
