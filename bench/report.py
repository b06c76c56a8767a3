"""Claim-vs-measured reports: what the papermill template shows, its figures, the index page, and rendering.

A paper's report (``reports/<slug>.html``) is ``reports/template.ipynb`` executed by papermill with the
parameters ``slug``, ``scales`` and ``results_dir``, then exported to HTML by nbconvert (code cells hidden, no
script loaded from the network). The index (``reports/index.html``) is written directly from the same tables.
Both read only results files, so a missing, stale or malformed file shows as such instead of breaking the run:

- ``ok``: the file parses and was measured with the paper's current code (same code hash);
- ``stale``: it parses, but the paper's code or the measuring harness changed since (``bench.provenance``'s
  code hash differs); its numbers are shown, marked, because they describe the code of the commit they name;
- ``malformed``: not JSON, or a field the report needs is missing or of the wrong type; named with the field.

Figures a paper wants beyond the per-claim plot are declared in its ``claims.yaml`` (``report.figures``).
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from . import cost, provenance, regime
from .claims import PAPERS_DIR, SCALES, Figure, Paper, discover
from .results import RESULTS_DIR, is_measured_device, latency_paths, latency_table
from .runner import not_implemented_reason
from .schema import ResultsFileError, read_results_file
from .verdict import Criterion, about_gpu, shown_verdict

REPORTS_DIR = provenance.REPO_ROOT / "reports"
TEMPLATE = REPORTS_DIR / "template.ipynb"
NBCONVERT_TEMPLATES = REPORTS_DIR / "nbconvert"
EXECUTED_DIR = provenance.REPO_ROOT / ".cache" / "reports"  # executed notebooks, kept for debugging
SUITE = "effdl-claims"

VERDICTS = ("reproduced", "not_reproduced", "inconclusive", "not_testable", "not_implemented", "error", "skipped",
            "no result")
EVIDENCE = ("measured", "simulated", "derived")
COLORS = {"reproduced": "#1a7f37", "not_reproduced": "#cf222e", "inconclusive": "#bf8700",
          "not_testable": "#6e7781", "not_implemented": "#953800", "error": "#8250df", "skipped": "#afb8c1",
          "no result": "#d0d7de"}
_CSS = """
<style>
.effdl table {border-collapse: collapse; font-size: 13px; margin: 0.5em 0 1.5em 0}
.effdl th, .effdl td {border: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; text-align: left !important}
.effdl table.claims td:nth-child(1) {width: 24%} .effdl table.claims td:nth-child(2) {width: 20%}
.effdl table.claims td:nth-child(5) {width: 20%}
.effdl th {background: #f6f8fa; cursor: pointer; user-select: none}
.effdl td.num {text-align: right !important; font-variant-numeric: tabular-nums}
.effdl .badge {display: inline-block; padding: 1px 8px; border-radius: 10px; color: white; font-weight: 600;
  white-space: nowrap; font-size: 12px}
.effdl .warn {background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; margin: 6px 0}
.effdl .bad {background: #ffebe9; border: 1px solid #cf222e; padding: 6px 10px; margin: 6px 0}
.effdl .pre {white-space: pre-line}
.effdl .small {color: #57606a; font-size: 12px}
.effdl code {background: #f6f8fa; padding: 0 3px}
</style>
"""


# ----------------------------------------------------------------------------------------------- result files

@dataclass
class ResultFile:
    """One ``reference_results/<slug>/<scale>-<hardware>.json`` as the report sees it."""

    path: Path
    status: str  # ok | stale | malformed
    problem: str = ""
    record: dict = field(default_factory=dict)

    @property
    def scale(self) -> str:
        return self.record.get("scale") or self.path.stem.split("-", 1)[0]

    @property
    def hardware(self) -> str:
        return self.record.get("hardware") or self.path.stem.split("-", 1)[-1]

    @property
    def label(self) -> str:
        return f"{self.scale} · {self.hardware}"

    @property
    def provenance(self) -> dict:
        return self.record.get("provenance") or {}


def read_results(paper: Paper, results_dir: Path = RESULTS_DIR, scales: Sequence[str] | None = None,
                 ) -> list[ResultFile]:
    """The paper's results files (at ``scales``, all if None), ordered by scale, each checked and classified.

    A file is ``malformed`` when it fails the results schema (``bench.schema``, the one the writer and ``show``
    use), ``stale`` when it or any of its claims was measured with code whose hash differs from the current.
    """
    current = provenance.code_hash(paper.path)
    files = []
    for p in sorted((Path(results_dir) / paper.slug).glob("*.json")):
        scale = p.stem.split("-", 1)[0]
        if scale not in SCALES or (scales and scale not in scales):  # latency-*.json are not claims results
            continue
        try:
            rec = read_results_file(p, paper.slug)
        except ResultsFileError as e:
            files.append(ResultFile(p, "malformed", str(e).removeprefix(f"{p}: ")))
            continue
        measured = {rec["provenance"]["code_hash"]} | {c.get("code_hash") for c in rec["claims"].values()
                                                       if c.get("code_hash")}
        if measured != {current}:
            old = ", ".join(sorted(measured - {current}))
            files.append(ResultFile(p, "stale", f"measured with code hash {old}; the paper's code and the "
                                                f"measuring harness now hash to {current}", rec))
        else:
            files.append(ResultFile(p, "ok", "", rec))
    order = {s: i for i, s in enumerate(SCALES)}
    return sorted(files, key=lambda f: (order.get(f.scale, 9), f.hardware))


def claim_status(f: ResultFile, claim: dict, current: str) -> str:
    """``stale`` when the claim's own code hash (or its file's) differs from the current code's, else ``ok``."""
    return "ok" if (claim.get("code_hash") or f.provenance.get("code_hash")) == current else "stale"


def safe_link(url: object) -> str | None:
    """``url`` when it is an http(s) link that can be put in an ``href``, else None (rendered as text)."""
    return url if isinstance(url, str) and re.match(r"^https?://[^\s<>'\"]+$", url) else None


def missing_scales(files: list[ResultFile], scales: Sequence[str]) -> list[str]:
    """The asked-for scales with no readable results file."""
    have = {f.scale for f in files if f.status != "malformed"}
    return [s for s in scales if s not in have]


def readable(files: list[ResultFile]) -> list[ResultFile]:
    return [f for f in files if f.status != "malformed"]


# ------------------------------------------------------------------------------------------------- formatting

def fmt_num(x: float) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return str(x)
    return f"{x:.4g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.3e}"


def fmt_value(v: object) -> str:
    """A paper value (number, string, nested mapping) as compact text."""
    if isinstance(v, dict):
        return "; ".join(f"{k}: {fmt_value(x)}" if not isinstance(x, dict) else f"{k}: ({fmt_value(x)})"
                         for k, x in v.items())
    if isinstance(v, list):
        return "[" + ", ".join(fmt_value(x) for x in v) + "]"
    return "—" if v is None else str(v)  # numbers exactly as the claims file gives them


def fmt_metric(name: str, s: dict) -> str:
    lo, hi = s["ci95"]
    interval = "" if s.get("point") or len(s["values"]) < 2 else f" [{fmt_num(lo)}, {fmt_num(hi)}]"
    return f"{name} = {fmt_num(s['mean'])}{interval}"


def verdict_of(c: dict) -> str:
    v = c.get("verdict")
    if v in VERDICTS:
        return v
    return "skipped" if c.get("skipped") else (v or "no result")


def evidence_badge(verdict: str, evidence: str, gpu: bool = False) -> str:
    """A verdict badge that never shows a simulated or derived claim as a plain ``reproduced``."""
    shown = shown_verdict(verdict, evidence or None, gpu)
    return badge(verdict, shown[len(verdict):].strip())


def badge(verdict: str, extra: str = "") -> str:
    color = COLORS.get(verdict, "#57606a")
    text = verdict.replace("_", " ") + (f" {extra}" if extra else "")
    return f'<span class="badge" style="background:{color}">{html.escape(text)}</span>'


# ------------------------------------------------------------------------------------------------------ tables

def claim_table(paper: Paper, files: list[ResultFile]) -> pd.DataFrame:
    """One row per claim and readable results file (a claim with none gets one ``no result`` row)."""
    rows = []
    for claim in paper.spec.claims:
        criteria = claim.test.all_criteria if claim.test else {}
        base = {"claim": claim.id, "statement": claim.statement, "source": claim.source, "tier": claim.tier,
                "evidence": claim.evidence or "", "headline": claim.headline, "gpu": about_gpu(claim),
                "simulated": (claim.test.simulated or "") if claim.test else "",
                "paper_value": fmt_value(claim.paper_value),
                "criterion": "\n".join(f"{m} {c}" for m, c in criteria.items())}
        found = False
        current = provenance.code_hash(paper.path)
        for f in readable(files):
            c = f.record["claims"].get(claim.id)
            if c is None:
                continue
            found = True
            metrics = c.get("metrics") or {}
            verdict = verdict_of(c)
            if claim.test is None:  # a label, not a measurement: claims.yaml's current one wins over the file's
                verdict = "not_implemented" if claim.not_implemented else "not_testable"
                c = {**c, "reason": not_implemented_reason(claim) if claim.not_implemented else claim.not_testable}
            regime_text, proxy = regime.assess(paper, claim.id, f.record)
            rows.append({**base, "measured": "\n".join(fmt_metric(m, s) for m, s in metrics.items()),
                         "regime": regime_text, "proxy": bool(proxy),
                         "rule": c.get("verdict_rule") or "student-t", "fixed_n_verdict": c.get("fixed_n_verdict"),
                         "seeds": len(c.get("seeds") or []), "verdict": verdict,
                         "expect": claim.expected(f.scale, f.hardware) if claim.test else
                         "not_implemented" if claim.not_implemented else "not_testable",
                         "detail": c.get("reason") or c.get("skipped") or "",
                         "seeds_needed": c.get("seeds_needed"), "point": bool(c.get("point_verdict")),
                         "scale": f.scale, "hardware": f.hardware,
                         "commit": (c.get("commit") or f.provenance.get("commit") or "")[:10],
                         "date": str(c.get("measured_at") or f.provenance.get("date", ""))[:10],
                         "status": claim_status(f, c, current), "file": f.path.name,
                         "compute": cost.describe(c["compute"]) if c.get("compute") else ""})
        if not found:
            rows.append({**base, "measured": "", "seeds": 0, "regime": "", "proxy": False, "rule": "",
                         "fixed_n_verdict": None,
                         "verdict": "not_testable" if claim.not_testable else
                         "not_implemented" if claim.not_implemented else "no result",
                         "expect": "", "detail": claim.not_testable or (not_implemented_reason(claim) if
                                                                       claim.not_implemented else
                                                                       "no results file has this claim"),
                         "seeds_needed": None, "point": False, "scale": "", "hardware": "", "commit": "",
                         "date": "", "status": "", "file": "", "compute": ""})
    return pd.DataFrame(rows)


def seed_values(paper: Paper, files: list[ResultFile]) -> pd.DataFrame:
    """Long table of every per-seed value of every tested claim's metrics, with its summary and criterion."""
    rows = []
    for claim in paper.spec.claims:
        if not claim.test:
            continue
        for f in readable(files):
            c = f.record["claims"].get(claim.id) or {}
            for metric, s in (c.get("metrics") or {}).items():
                crit = claim.test.all_criteria.get(metric)
                for seed, value in zip(c.get("seeds") or range(len(s["values"])), s["values"], strict=False):
                    rows.append({"claim": claim.id, "metric": metric, "scale": f.scale, "hardware": f.hardware,
                                 "run": f.label, "seed": seed, "value": value, "mean": s["mean"],
                                 "lo": s["ci95"][0], "hi": s["ci95"][1], "criterion": crit or "",
                                 "verdict": verdict_of(c), "status": f.status})
    return pd.DataFrame(rows, columns=["claim", "metric", "scale", "hardware", "run", "seed", "value", "mean",
                                       "lo", "hi", "criterion", "verdict", "status"])


def _cell(text: str) -> str:
    return html.escape(str(text)).replace("\n", "<br>")


def claim_table_html(df: pd.DataFrame) -> str:
    """The claim-vs-measured table of a paper's report as HTML, with verdict badges."""
    head = ["claim", "paper value", "measured: mean [95% CI]", "criterion", "verdict", "run"]
    out = [_CSS, '<div class="effdl"><table class="claims"><thead><tr>',
           "".join(f"<th>{h}</th>" for h in head), "</tr></thead><tbody>"]
    for r in df.itertuples():
        needed = r.seeds_needed if r.seeds_needed == r.seeds_needed else None  # NaN when absent
        extra = f"(~{int(needed)} seeds)" if r.verdict == "inconclusive" and needed else ""
        verdict = evidence_badge(r.verdict, r.evidence, r.gpu) + (f" <span class='small'>{extra}</span>" if extra
                                                                  else "")
        verdict += " <span class='small'>point</span>" if r.point else ""
        if r.proxy:
            verdict += " <span class='small proxy'>proxy regime</span>"
        if r.rule == "confidence-sequence":
            verdict += (f"<div class='small'>seeds added after a look: judged on the anytime-valid confidence "
                        f"sequence (fixed-n t: {_cell(str(r.fixed_n_verdict).replace('_', ' '))})</div>")
        if r.status == "stale":
            verdict += " <span class='small'>⚠ stale</span>"
        detail = f"<div class='small'>{_cell(r.detail)}</div>" if r.detail and r.verdict != "reproduced" else ""
        expect = "" if not r.expect or r.scale == "smoke" else \
            f"<div class='small'>expected: {_cell(r.expect.replace('_', ' '))}</div>"
        seeds = f"<div class='small'>{r.seeds} seeds</div>" if r.seeds else ""
        if r.simulated and r.measured:
            seeds += f"<div class='small'><b>simulated</b>: {_cell(r.simulated)}</div>"
        if r.regime:
            seeds += f"<div class='small'>{_cell(r.regime)}</div>"
        spent = f"<br>compute: {_cell(r.compute)}" if r.compute else ""
        run = (f"<b>{_cell(r.scale)}</b><div class='small'>{_cell(r.hardware)}<br><code>{_cell(r.commit)}</code>"
               f"<br>{_cell(r.date)}{spent}</div>") if r.scale else ""
        out.append(
            f"<tr id='{html.escape(r.claim)}'><td>{'★ ' if r.headline else ''}<code>{_cell(r.claim)}</code>"
            f"<div class='small'>evidence: <b>{_cell(r.evidence or '—')}</b></div><div class='small'>"
            f"{_cell(r.statement)}</div><div class='small'><i>{_cell(r.source)}</i></div></td>"
            f"<td class='small'>{_cell(r.paper_value)}</td><td class='pre'>{_cell(r.measured)}{seeds}</td>"
            f"<td class='pre'>{_cell(r.criterion)}</td><td>{verdict}{expect}{detail}</td><td>{run}</td></tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def status_html(files: list[ResultFile], scales: Sequence[str]) -> str:
    """Warnings for malformed and stale files and for asked-for scales with no results; '' if none."""
    parts = []
    for f in files:
        if f.status == "malformed":
            parts.append(f"<div class='bad'><b>Malformed results file</b> <code>{_cell(f.path.name)}</code>: "
                         f"{_cell(f.problem)}. Its claims are left out of this report.</div>")
        elif f.status == "stale":
            parts.append(f"<div class='warn'><b>Stale results</b> <code>{_cell(f.path.name)}</code>: "
                         f"{_cell(f.problem)}. The numbers describe the code of the commit they name "
                         f"({_cell((f.provenance.get('commit') or '')[:10])}); re-run to refresh them.</div>")
    for s in missing_scales(files, scales):
        parts.append(f"<div class='warn'><b>No results at scale <code>{s}</code></b>: run "
                     f"<code>python -m bench run --scale {s}</code> (or <code>dvc repro</code>).</div>")
    return _CSS + "<div class='effdl'>" + "".join(parts) + "</div>" if parts else ""


def header_html(paper: Paper, files: list[ResultFile], scales: Sequence[str]) -> str:
    """Title, authors, venue and links of the paper; which results files the report shows."""
    m = paper.spec.paper
    links = [(name, url) for name, url in (("paper", safe_link(m.url)), ("code", safe_link(m.code))) if url]
    if m.arxiv:
        links.insert(0, ("arXiv", f"https://arxiv.org/abs/{m.arxiv}"))
    link_html = " · ".join(f"<a href='{html.escape(u)}'>{n}</a>" for n, u in links)
    shown = ", ".join(f"<code>{_cell(f.path.name)}</code> ({f.status})" for f in files) or "none"
    return (f"{_CSS}<div class='effdl'><h1>{_cell(m.title)}</h1><p>{_cell(', '.join(m.authors))}. "
            f"<i>{_cell(m.venue)}</i>. {link_html}</p><p class='small'>Paper folder <code>papers/{paper.slug}/"
            f"</code>; {len(paper.spec.claims)} claims; scales shown: {', '.join(scales)}; results files: {shown}."
            f" Report generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by {SUITE}.</p></div>")


def citations_html(lines: list[str]) -> str:
    if not lines:
        return f"{_CSS}<div class='effdl'><p><i>No claim is reproduced at these scales.</i></p></div>"
    return (f"{_CSS}<div class='effdl'><ul>" + "".join(f"<li><code>{_cell(x)}</code></li>" for x in lines)
            + "</ul></div>")


def notes_html(paper: Paper) -> str:
    """The paper module's docstring (its deviations and assumptions), preformatted."""
    import importlib

    if paper.path.resolve().parent == PAPERS_DIR:
        doc = importlib.import_module(f"papers.{paper.slug}").__doc__ or ""
    else:
        doc = ""
    text = doc.strip() or "(the paper's __init__.py has no docstring)"
    return f"{_CSS}<div class='effdl'><pre style='white-space: pre-wrap'>{html.escape(text)}</pre></div>"


def provenance_table(files: list[ResultFile]) -> pd.DataFrame:
    rows = []
    for f in readable(files):
        p = f.provenance
        dev = p.get("device") or {}
        data = "; ".join(d.get("variant", k) for k, d in (p.get("datasets") or {}).items())
        rows.append({"file": f.path.name, "status": f.status, "scale": f.scale, "hardware": f.hardware,
                     "device": dev.get("name") or dev.get("cpu_model") or "",
                     "commit": (p.get("commit") or "")[:10] + (" (dirty)" if p.get("dirty") else ""),
                     "code hash": p.get("code_hash"), "date": str(p.get("date", ""))[:19],
                     "torch": p.get("torch"), "datasets": data,
                     "measurement (s)": round(p.get("wall_time_s") or 0.0)})
    return pd.DataFrame(rows)


def latency_html(paper: Paper, results_dir: Path = RESULTS_DIR, scales: Sequence[str] | None = None) -> str:
    """The paper's latency files (``bench/test_latency.py``): speedup of each variant per device, with provenance.

    Measured columns are medians timed by pytest-benchmark on this machine; simulated columns (marked so) come
    from the models named under the table. A file measured with other code than the current is marked stale.
    """
    current = provenance.code_hash(paper.path)
    parts = []
    for p in latency_paths(Path(results_dir), paper.slug):
        scale = p.stem.split("-")[1]
        if scales and scale not in scales:
            continue
        try:
            parts.append(_latency_block(p, scale, json.loads(p.read_text()), current))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            parts.append(f"<p><b>{html.escape(p.name)}</b>: malformed ({html.escape(type(e).__name__)}: "
                         f"{html.escape(str(e))})</p>")
    return "".join(parts)


def _latency_block(p: Path, scale: str, rec: dict, current: str) -> str:
    """One latency file as a caption and a table; raises on a file of the wrong shape (flagged by the caller)."""
    prov = rec["provenance"]
    _, table = latency_table(rec)
    rows = [{"group": str(group), "variant": str(variant),
             **{(d if is_measured_device(d) else f"{d} (simulated)"): "–" if x is None else f"{float(x):.2f}×"
                for d, x in cells.items()}}
            for group, variant, cells in table]
    machine = ((rec.get("pytest_benchmark") or {}).get("machine_info") or {})
    stale = "" if prov.get("code_hash") == current else \
        f" <b>stale</b>: measured with code hash {html.escape(str(prov.get('code_hash')))}, now {current}."
    models = sorted({json.dumps({k: v for k, v in s["model"].items() if k in ("model", "version", "name")})
                     for s in rec.get("simulated", [])})
    caption = (f"{html.escape(p.name)}: scale {html.escape(scale)}, {html.escape(str(rec.get('hardware', '')))}"
               f" ({html.escape(str(machine.get('cpu_model') or ''))}"
               f"{', GPU ' + html.escape(str(machine['gpu'])) if machine.get('gpu') else ''}), commit "
               f"{html.escape(str(prov.get('commit') or '')[:10])}{' (dirty)' if prov.get('dirty') else ''}, "
               f"{html.escape(str(prov.get('date', ''))[:19])}.{stale}")
    return (f"<p class='small'>{caption}</p>"
            + pd.DataFrame(rows).to_html(index=False, border=0, classes="effdl")
            + "".join(f"<p class='small'><b>simulated</b>: {html.escape(m)}</p>" for m in models))


def citations(paper: Paper, files: list[ResultFile]) -> list[str]:
    """One citable line per reproduced claim per readable results file."""
    meta = paper.spec.paper
    lines = []
    for f in readable(files):
        if f.scale == "smoke":
            continue  # smoke runs prove a path; they are never cited
        for cid, c in f.record["claims"].items():
            if c.get("verdict") != "reproduced":
                continue
            claim = next((x for x in paper.spec.claims if x.id == cid), None)
            model = claim.test.simulated if claim is not None and claim.test else None
            evidence = claim.evidence if claim is not None else c.get("evidence")
            if evidence == "derived":  # no evidence that the paper holds: said in the citation itself
                how = (f"holds by construction (derived from the suite's own code or arithmetic; not evidence that "
                       f"the paper holds), checked by {SUITE}")
            elif model or evidence == "simulated":
                how = f"reproduced in simulation ({model or 'a simulated device'}) by {SUITE}"
            else:
                how = f"reproduced by {SUITE}"
            if c.get("verdict_rule") == "confidence-sequence":
                how += " (judged on an anytime-valid confidence sequence: seeds were added after a look)"
            values = "; ".join(
                f"{m} = {fmt_num(s['mean'])} (95% CI {fmt_num(s['ci95'][0])} to {fmt_num(s['ci95'][1])}, "
                f"{len(s['values'])} seeds)" for m, s in (c.get("metrics") or {}).items())
            commit = (c.get("commit") or f.provenance.get("commit") or "")[:10]
            date = str(c.get("measured_at") or f.provenance.get("date", ""))[:10]
            stale = " [stale: code changed since]" if f.status == "stale" else ""
            lines.append(f"{', '.join(meta.authors[:1])} et al., \"{meta.title}\" ({meta.venue}), claim {cid}: "
                         f"{values}; {how} at scale {f.scale} on {f.hardware}, commit {commit}, "
                         f"{date} (reference_results/{paper.slug}/{f.path.name}){stale}")
    return lines


# ----------------------------------------------------------------------------------------------------- figures

def _threshold_lines(ax, criterion: str) -> None:
    try:
        c = Criterion.parse(criterion)
    except ValueError:
        return
    for bound in (c.lo, c.hi):
        if math.isfinite(bound):
            ax.axhline(bound, color="#cf222e", ls="--", lw=1.2)


def plot_claims(values: pd.DataFrame):
    """Per claim and metric: per-seed points and the mean with its 95% interval, per run, against the criterion."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    if values.empty:
        return None
    panels = list(values.groupby(["claim", "metric"], sort=False))
    ncol = min(3, len(panels))
    nrow = math.ceil(len(panels) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.3 * nrow), squeeze=False)
    runs = list(dict.fromkeys(values["run"]))
    for ax, ((claim, metric), d) in zip(axes.flat, panels, strict=False):
        sns.stripplot(data=d, x="run", y="value", order=[r for r in runs if r in set(d["run"])], ax=ax,
                      color="#57606a", size=5, jitter=0.08, alpha=0.8)
        order = [r for r in runs if r in set(d["run"])]
        for i, run in enumerate(order):
            s = d[d["run"] == run].iloc[0]
            color = COLORS.get(s["verdict"], "black")
            ax.errorbar(i + 0.25, s["mean"], yerr=[[s["mean"] - s["lo"]], [s["hi"] - s["mean"]]], fmt="D",
                        color=color, capsize=4, ms=6)
        _threshold_lines(ax, d["criterion"].iloc[0])
        ax.set_title(f"{claim}\n{metric}", fontsize=9)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle("Per-seed values (grey), mean and 95% interval (diamond, colored by verdict), criterion (red)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def figure_frame(spec: Figure, files: list[ResultFile]) -> pd.DataFrame:
    """The per-seed data a declared figure draws, from the results files' ``experiments`` sections."""
    rows = []
    for f in readable(files):
        runs = ((f.record.get("experiments") or {}).get(spec.experiment) or {}).get("runs") or []
        for run in runs:
            m = run.get("metrics") or {}
            if spec.kind in ("bars", "lines"):
                for name, template in spec.series.items():
                    for g in spec.groups:
                        v = m.get(template.format(group=g))
                        if v is not None:
                            rows.append({"run": f.label, "series": name, "group": g, "seed": run.get("seed"),
                                         "value": v})
            else:
                for name, xy in spec.series.items():
                    if m.get(xy["x"]) is not None and m.get(xy["y"]) is not None:
                        rows.append({"run": f.label, "series": name, "seed": run.get("seed"), "x": m[xy["x"]],
                                     "y": m[xy["y"]]})
    return pd.DataFrame(rows)


def plot_figure(spec: Figure, files: list[ResultFile]):
    """Draw a figure declared in ``claims.yaml``; None when no results file has its experiment."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = figure_frame(spec, files)
    if data.empty:
        return None
    runs = list(dict.fromkeys(data["run"]))
    if spec.kind == "bars":
        fig, axes = plt.subplots(1, len(runs), figsize=(8.5 * len(runs), 4), squeeze=False)
        paper = pd.DataFrame([{"series": k, "group": g, "value": v} for k, vals in spec.paper.items()
                              for g, v in zip(spec.groups, vals, strict=True)])
        hue_order = list(spec.series) + list(spec.paper)
        for ax, run in zip(axes.flat, runs, strict=True):
            d = pd.concat([data[data["run"] == run], paper], ignore_index=True)
            sns.barplot(data=d, x="group", y="value", hue="series", hue_order=hue_order, order=spec.groups,
                        errorbar=None, ax=ax, palette="deep", alpha=0.85)
            sns.stripplot(data=d[d["series"].isin(spec.series)], x="group", y="value", hue="series",
                          hue_order=hue_order, order=spec.groups, dodge=True, ax=ax, color="black", size=2.5,
                          legend=False)
            if spec.hline is not None:
                ax.axhline(spec.hline, color="grey", lw=0.8)
            ax.set_title(run, fontsize=9)
            ax.set_xlabel("")
            ax.set_ylabel(spec.ylabel or "")
            if spec.log_y:
                ax.set_yscale("log")
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    elif spec.kind == "lines":
        fig, axes = plt.subplots(1, len(runs), figsize=(8.5 * len(runs), 4.5), squeeze=False)
        x_of = {g: float(g) for g in spec.groups}
        palette = dict(zip(list(spec.series) + list(spec.paper),
                           sns.color_palette("deep", len(spec.series) + len(spec.paper)), strict=True))
        for ax, run in zip(axes.flat, runs, strict=True):
            d = data[data["run"] == run]
            for name in spec.series:
                mean = d[d["series"] == name].groupby("group")["value"].mean()
                xs = [g for g in spec.groups if g in mean.index]
                ax.plot([x_of[g] for g in xs], [mean[g] for g in xs], marker="o", ms=4, label=name,
                        color=palette[name])
            for name, vals in spec.paper.items():
                pts = [(x_of[g], v) for g, v in zip(spec.groups, vals, strict=True) if v is not None]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], ls="--", marker="*", ms=7, label=name,
                        color=palette[name])
            if spec.hline is not None:
                ax.axhline(spec.hline, color="grey", lw=0.8)
            ax.set_title(run, fontsize=9)
            ax.set_xlabel(spec.xlabel or "")
            ax.set_ylabel(spec.ylabel or "")
            if spec.log_x:
                ax.set_xscale("log", base=2)
            if spec.log_y:
                ax.set_yscale("log")
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        fig, ax = plt.subplots(figsize=(9, 5))
        sns.scatterplot(data=data, x="x", y="y", hue="series", style="run", ax=ax, s=60, alpha=0.85)
        for i, (label, (x, y)) in enumerate(spec.paper.items()):
            ax.scatter([x], [y], marker="*", s=160, color="black", zorder=5)
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(6, 4 if i % 2 else -11), fontsize=8)
        ys = [*data["y"], *(y for _, y in spec.paper.values())]
        if min(ys) <= 0 <= max(ys):  # the zero line (no change) where the values reach it, not from 0 up to 85%
            ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_xlabel(spec.xlabel or "")
        ax.set_ylabel(spec.ylabel or "")
        if spec.log_x:
            ax.set_xscale("log")
        if spec.log_y:
            ax.set_yscale("log")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(spec.title, fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------------------- index

# In <head>: record script errors, failed resource loads and console errors on <html data-js-errors>, so a
# headless browser's DOM dump shows them (tests/test_browser.py).
_ERRORS_JS = """
<script>
(function () {
  var root = document.documentElement;
  function note(text) { root.dataset.jsErrors = (root.dataset.jsErrors || '') + text + ';'; }
  window.addEventListener('error', function (e) {
    note(e.message || ('failed to load ' + ((e.target && (e.target.src || e.target.href)) || 'a resource')));
  }, true);
  var consoleError = console.error;
  console.error = function () {
    note(Array.prototype.join.call(arguments, ' '));
    consoleError.apply(console, arguments);
  };
})();
</script>
"""

_SORT_JS = """
<script>
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.title = 'sort by this column';
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var dir = th.dataset.dir === 'asc' ? -1 : 1;
      th.dataset.dir = dir === 1 ? 'asc' : 'desc';
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.key || a.cells[col].textContent;
        var y = b.cells[col].dataset.key || b.cells[col].textContent;
        return dir * x.localeCompare(y, undefined, {numeric: true});
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
document.body.dataset.ready = 'yes';
</script>
"""


def index_rows(papers: list[Paper], results_dir: Path = RESULTS_DIR, scales: Sequence[str] | None = None,
               ) -> pd.DataFrame:
    """Every claim of every paper, one row per readable results file it appears in (or one ``no result`` row)."""
    frames = []
    for paper in papers:
        files = read_results(paper, results_dir, scales)
        df = claim_table(paper, files)
        df.insert(0, "paper", paper.slug)
        df.insert(1, "title", paper.spec.paper.title)
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def verdict_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Claims per verdict at each scale and evidence kind (measured, simulated, derived counted apart; a claim with
    no results counts under ``no result``, an untested one under evidence ``—``)."""
    if rows.empty:
        return pd.DataFrame()
    scale = rows["scale"].replace("", "(none)").rename("scale")
    evidence = rows["evidence"].replace("", "—").rename("evidence")
    counts = pd.crosstab([scale, evidence], rows["verdict"]).reindex(
        columns=[v for v in VERDICTS if v in set(rows["verdict"])])
    order = [(s, e) for s in (*SCALES, "(none)") for e in (*EVIDENCE, "—") if (s, e) in counts.index]
    return counts.reindex(order)


_SCALE_RANK = {s: i for i, s in enumerate(SCALES)}
_JUDGED = ("reproduced", "not_reproduced", "inconclusive")


def best_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: the judged verdict at the best scale measured (full over cpu over smoke), current results
    over stale ones; a claim never judged keeps its one row (not_testable, not_implemented, no result)."""
    if rows.empty:
        return rows
    key = rows.assign(_judged=rows["verdict"].isin(_JUDGED).astype(int),
                      _scale=rows["scale"].map(lambda x: _SCALE_RANK.get(x, -1)),
                      _ok=(rows["status"] != "stale").astype(int))
    key = key.sort_values(["_judged", "_scale", "_ok"], ascending=False, kind="stable")
    best = key.drop_duplicates(["paper", "claim"]).drop(columns=["_judged", "_scale", "_ok"])
    order = {(p, c): i for i, (p, c) in enumerate(zip(rows["paper"], rows["claim"], strict=True))}
    return best.assign(_o=[order[(p, c)] for p, c in zip(best["paper"], best["claim"], strict=True)]) \
        .sort_values("_o").drop(columns="_o")


def headline_html(best: pd.DataFrame, reports: set[str] | None) -> str:
    """The index's opening table: each paper's headline claims at the best scale measured."""
    out = ["<table id='headlines'><thead><tr>" + "".join(f"<th>{h}</th>" for h in (
        "paper", "headline claim", "verdict", "evidence", "scale", "measured (mean [95% CI])", "paper value",
        "regime")) + "</tr></thead><tbody>"]
    for r in best[best["headline"]].itertuples():
        link = f"{r.paper}.html" if reports is None or r.paper in reports else None
        claim = f"<a href='{link}#{r.claim}'><code>{_cell(r.claim)}</code></a>" if link else \
            f"<code>{_cell(r.claim)}</code>"
        stale = " <span class='small'>⚠ stale</span>" if r.status == "stale" else ""
        detail = f"<div class='small'>{_cell(r.detail)}</div>" if r.verdict not in _JUDGED and r.detail else ""
        out.append(f"<tr class='headline-row' data-claim='{html.escape(r.paper)}/{html.escape(r.claim)}'>"
                   f"<td>{_cell(r.paper)}</td><td>{claim}<div class='small'>{_cell(r.statement)}</div></td>"
                   f"<td>{evidence_badge(r.verdict, r.evidence, r.gpu)}{stale}{detail}</td>"
                   f"<td>{_cell(r.evidence or '—')}</td><td>{_cell(r.scale)}</td>"
                   f"<td class='pre'>{_cell(r.measured)}</td><td class='small'>{_cell(r.paper_value)}</td>"
                   f"<td class='small'>{'<b>proxy regime</b>: ' if r.proxy else ''}{_cell(r.regime)}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def counts_figure(best: pd.DataFrame):
    """Verdict counts per paper, one panel per evidence kind (and one for the claims not tested), stacked by
    verdict; each claim counted once, at its best scale measured."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [*EVIDENCE, "not tested"]
    frame = best.assign(kind=[e if v in _JUDGED or v in ("error", "no result", "skipped") and e else "not tested"
                              for v, e in zip(best["verdict"], best["evidence"], strict=True)])
    papers = list(dict.fromkeys(frame["paper"]))
    fig, axes = plt.subplots(1, len(kinds), figsize=(13, 0.35 * len(papers) + 1.4), sharey=True)
    for ax, kind in zip(axes, kinds, strict=True):
        sub = frame[frame["kind"] == kind]
        table = pd.crosstab(sub["paper"], sub["verdict"]).reindex(index=papers, fill_value=0)
        left = [0] * len(papers)
        for v in VERDICTS:
            if v not in table.columns:
                continue
            ax.barh(papers, table[v], left=left, color=COLORS[v], label=v.replace("_", " "))
            left = [a + b for a, b in zip(left, table[v], strict=True)]
        ax.set_title(kind if kind == "not tested" else f"{kind} evidence", fontsize=10)
        ax.set_xlabel("claims")
        if ax is axes[0]:  # the y axis is shared: papers top to bottom
            ax.invert_yaxis()
    handles = {h.get_label(): h for ax in axes for h in ax.containers}
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=len(handles), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def _figure_img(fig) -> str:
    import base64
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return (f"<img id='counts-figure' alt='verdict counts per paper and evidence kind' "
            f"src='data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}'>")


def compute_rows(papers: list[Paper], results_dir: Path = RESULTS_DIR, scales: Sequence[str] = ("cpu", "full")
                 ) -> list[dict]:
    """Per paper and results file: the compute its cells took (``provenance.compute``, ``bench.cost.total``)."""
    rows = []
    for paper in papers:
        for f in readable(read_results(paper, results_dir, scales)):
            c = f.provenance.get("compute") or {}
            if not c:  # a file from before costs were recorded: its runs' wall times are all there is
                runs = [r for e in f.record.get("experiments", {}).values() for r in e.get("runs", [])]
                c = {"cells": len(runs), "unknown": len(runs), "wall_s": sum(r.get("wall_s") or 0 for r in runs)}
            rows.append({"paper": paper.slug, "scale": f.scale, "hardware": f.hardware, "cells": c.get("cells"),
                         "wall_min": round(c["wall_s"] / 60, 1) if "wall_s" in c else None,
                         "cpu_min": round(c["cpu_s"] / 60, 1) if "cpu_s" in c else None,
                         "gpu_min": round(c["gpu_s"] / 60, 1) if "gpu_s" in c else None,
                         "peak_rss_mb": c.get("peak_rss_mb"), "unknown": c.get("unknown"),
                         "stale": f.provenance.get("code_hash") != provenance.code_hash(paper.path)})
    return rows


def compute_line(paper: Paper, results_dir: Path, scales: Sequence[str]) -> str:
    """'cpu on cpu-amd-epyc-2c: 6.1 min wall, ...' for each results file of the paper that records its compute."""
    parts = []
    for f in readable(read_results(paper, results_dir, scales)):
        c = f.provenance.get("compute")
        spent = cost.describe(c) if c else "not recorded (measured before costs were recorded)"
        parts.append(f"{f.scale} on {f.hardware}: {spent}")
    return "; ".join(parts)


def mutants_line(paper: Paper, results_dir: Path, scales: Sequence[str]) -> str:
    """'k of n measured claims detect at least one mutant (cpu)' from the paper's mutants files, or ''."""
    from .results import load_mutants

    parts = []
    current = provenance.code_hash(paper.path)
    for scale in scales:
        for rec in load_mutants(results_dir, paper.slug, scale)[0]:
            s = rec["summary"].get("measured") or {}
            weak = rec["summary"].get("weak") or []
            stale = ", stale" if (rec.get("provenance") or {}).get("code_hash") != current else ""
            parts.append(f"{len(s.get('detecting', []))} of {len(s.get('claims', []))} measured claims detect at "
                         f"least one of {len(rec['mutants'])} mutant(s) ({scale}, {rec['hardware']}{stale})"
                         + (f"; weak evidence: {', '.join(weak)}" if weak else ""))
    return "; ".join(parts)


def mutants_html(paper: Paper, results_dir: Path = RESULTS_DIR, scales: Sequence[str] | None = None) -> str:
    """The paper report's detection table: per mutant and judged claim, the verdicts intact and mutated."""
    from .results import load_mutants

    blocks = []
    for scale in scales or SCALES:
        records, problems = load_mutants(results_dir, paper.slug, scale)
        for p in problems:
            blocks.append(f"<div class='bad'>{_cell(p)}</div>")
        for rec in records:
            rows = []
            for name, m in rec["mutants"].items():
                for cid, c in m["claims"].items():
                    outcome = c.get("outcome") or "skipped"
                    color = {"detected": "#1a7f37", "missed": "#cf222e"}.get(outcome, "#6e7781")
                    rows.append(
                        f"<tr><td><code>{_cell(name)}</code><div class='small'>{_cell(m.get('description', ''))}"
                        f"</div></td><td><code>{_cell(cid)}</code>"
                        f"{' <b>(should break)</b>' if c.get('should_break') else ''}"
                        f"<div class='small'>{_cell(c.get('evidence') or '')}</div></td>"
                        f"<td>{badge(c['intact']) if c.get('intact') else '—'}</td>"
                        f"<td>{badge(c['mutant']) if c.get('mutant') else _cell(c.get('skipped', ''))}</td>"
                        f"<td><span class='badge' style='background:{color}'>{_cell(outcome.replace('_', ' '))}"
                        f"</span></td></tr>")
            s = rec["summary"]
            meas = s.get("measured") or {}
            weak = s.get("weak") or []
            measured_with = (rec.get("provenance") or {}).get("code_hash")
            current = provenance.code_hash(paper.path)
            stale = "" if measured_with == current else (
                f"<div class='bad'><b>Stale</b>: these mutants ran on code hash {_cell(str(measured_with))}; the "
                f"paper's code hash is now {current}. Run <code>python -m bench mutants --paper {paper.slug} "
                f"--scale {_cell(scale)}</code> to measure them on the current code.</div>")
            blocks.append(
                f"<h3>Mutants at <code>{_cell(scale)}</code> · {_cell(rec['hardware'])}</h3>{stale}<p class='small'>"
                f"A mutant is a broken variant of the method (papers/{paper.slug}/mutants.py); a claim detects it "
                f"when its verdict under the mutant differs from its verdict on the intact code, on the same seeds. "
                f"{len(meas.get('detecting', []))} of {len(meas.get('claims', []))} measured claims detect at least "
                f"one mutant." + (f" <b>Weak evidence</b> (measured, detect no mutant): {_cell(', '.join(weak))}."
                                  if weak else "") + "</p><table class='claims'><thead><tr><th>mutant</th>"
                "<th>claim</th><th>intact</th><th>under the mutant</th><th>outcome</th></tr></thead><tbody>"
                + "".join(rows) + "</tbody></table>")
    if not blocks:
        return ""
    return _CSS + "<div class='effdl'>" + "".join(blocks) + "</div>"


def index_html(papers: list[Paper], results_dir: Path = RESULTS_DIR, reports: set[str] | None = None,
               scales: Sequence[str] = ("cpu", "full"), problems: Sequence[str] = ()) -> str:
    """The index page: counts per scale and verdict, then every claim grouped by paper, with badges and links."""
    rows = index_rows(papers, results_dir, scales)
    counts = verdict_counts(rows)
    best = best_rows(rows)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>", _ERRORS_JS,
           f"<title>{SUITE}: claims and verdicts</title>", _CSS,
           "<style>body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1f2328}"
           "h1{font-size:22px}h2{font-size:17px;margin-top:28px}</style></head>",
           f"<body data-scales='{','.join(scales)}'><div class='effdl'>",
           f"<h1>{SUITE}: which headline numbers of efficient-deep-learning papers hold</h1>",
           f"<p class='small'>{len(papers)} paper(s), {sum(len(p.spec.claims) for p in papers)} claims. Generated "
           f"{now} from the results files at scales {', '.join(scales)}. Verdicts are decided on the 95% "
           f"Student-t interval over seeds (the anytime-valid confidence sequence where seeds were added after a "
           f"look) against criteria fixed before the results were seen. Evidence: <b>measured</b> here, "
           f"<b>simulated</b> on a model of the paper's device, or <b>derived</b> (holds by construction of the "
           f"suite's own code or arithmetic: no evidence that the paper holds). {html.escape(regime.RULE)}. Click "
           f"a column header to sort.</p>",
           "<h2>Headline claims</h2>",
           headline_html(best, reports) if not best.empty else "<p>No claims.</p>",
           "<h2>Verdicts per paper and evidence kind</h2>",
           _figure_img(counts_figure(best)) if not best.empty else "",
           "<h2>Verdicts per scale and evidence kind</h2>"]
    if problems:
        out.insert(-1, "<div class='bad' id='problems'><b>Left out of this page</b> (fix or remove these files):<ul>"
                   + "".join(f"<li>{_cell(p)}</li>" for p in problems) + "</ul></div>")
    if counts.empty:
        out.append("<p>No claims.</p>")
    else:
        out.append("<table id='counts'><thead><tr><th>scale</th><th>evidence</th>" +
                   "".join(f"<th>{badge(v)}</th>" for v in counts.columns) + "<th>total</th></tr></thead><tbody>")
        for (scale, evidence), r in counts.iterrows():
            out.append(f"<tr data-evidence='{evidence}'><td><code>{scale}</code></td><td>{evidence}</td>"
                       + "".join(f"<td class='num'>{int(n)}</td>" for n in r)
                       + f"<td class='num'>{int(r.sum())}</td></tr>")
        out.append("</tbody></table>")
    out.append("<h2>Every claim</h2><table id='claims' class='sortable'><thead><tr>" + "".join(
        f"<th>{h}</th>" for h in ("paper", "claim", "scale", "hardware", "verdict", "evidence", "expected",
                                  "measured (mean [95% CI])", "paper value", "commit")) + "</tr></thead><tbody>")
    for r in rows.itertuples():
        link = f"{r.paper}.html" if reports is None or r.paper in reports else None
        paper_cell = f"<a href='{link}'>{r.paper}</a>" if link else r.paper
        claim_cell = f"<a href='{link}#{r.claim}'><code>{_cell(r.claim)}</code></a>" if link else \
            f"<code>{_cell(r.claim)}</code>"
        stale = " <span class='small'>⚠ stale</span>" if r.status == "stale" else ""
        rank = VERDICTS.index(r.verdict) if r.verdict in VERDICTS else 9
        out.append(f"<tr class='claim-row' data-claim='{html.escape(r.paper)}/{html.escape(r.claim)}'>"
                   f"<td>{paper_cell}</td><td>{claim_cell}</td><td>{_cell(r.scale)}</td>"
                   f"<td>{_cell(r.hardware)}</td><td data-key='{rank}'>{evidence_badge(r.verdict, r.evidence, r.gpu)}"
                   f"{stale}{' <span class=small>proxy regime</span>' if r.proxy else ''}</td>"
                   f"<td>{_cell(r.evidence or '—')}</td>"
                   f"<td>{'—' if r.scale == 'smoke' else _cell(r.expect.replace('_', ' '))}</td>"
                   f"<td class='pre'>{'<b>simulated</b>: ' if r.simulated and r.measured else ''}"
                   f"{_cell(r.measured)}</td>"
                   f"<td class='small'>{_cell(r.paper_value)}</td><td><code>{_cell(r.commit)}</code></td></tr>")
    out.append("</tbody></table>")
    out.append("<h2>Papers</h2><ul>")
    for p in papers:
        m = p.spec.paper
        link = f"<a href='{p.slug}.html'>report</a>" if reports is None or p.slug in reports else "no report yet"
        detect = mutants_line(p, results_dir, scales) or "no mutants run"
        spent = compute_line(p, results_dir, scales) or "no results"
        out.append(f"<li><code>{p.slug}</code>: {html.escape(m.title)} ({html.escape(m.venue)}): {link}<div "
                   f"class='small mutants'>mutants: {html.escape(detect)}</div><div class='small compute'>"
                   f"compute: {html.escape(spent)}</div></li>")
    out.append("</ul></div>" + _SORT_JS + "</body></html>")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------- rendering

@contextlib.contextmanager
def _kernel_of_this_interpreter(jupyter_dir: Path):
    """A kernelspec running this very interpreter, first on JUPYTER_PATH while the report executes.

    Jupyter resolves a kernel by name, and a user's own ``python3`` kernelspec would win over the suite's
    environment; the report must import this checkout's ``bench`` with its pinned libraries.
    """
    name = "effdl-claims-python"
    spec = jupyter_dir / "kernels" / name
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--IPKernelApp.log_level=ERROR"],  # not the kernel's transport notices
        "display_name": f"Python ({sys.executable})", "language": "python"}))
    before = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(jupyter_dir), before) if p)
    try:
        yield name
    finally:
        if before is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = before


def render_report(slug: str, out_dir: Path = REPORTS_DIR, results_dir: Path = RESULTS_DIR,
                  scales: Sequence[str] = ("cpu", "full"), template: Path = TEMPLATE) -> Path:
    """Execute the template for one paper with papermill and export it to ``<out_dir>/<slug>.html``.

    The executed notebook is kept in ``.cache/reports/<slug>.ipynb`` (not committed). Raises papermill's
    ``PapermillExecutionError`` when a cell fails, so a broken report fails its pipeline stage and CI.
    """
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    EXECUTED_DIR.mkdir(parents=True, exist_ok=True)
    executed = EXECUTED_DIR / f"{slug}.ipynb"
    with tempfile.TemporaryDirectory() as jupyter_dir, _kernel_of_this_interpreter(Path(jupyter_dir)) as kernel:
        pm.execute_notebook(str(template), str(executed), parameters={
            "slug": slug, "scales": ",".join(scales), "results_dir": str(Path(results_dir).resolve())},
            kernel_name=kernel, progress_bar=False, cwd=str(provenance.REPO_ROOT))
    nb = nbformat.read(executed, as_version=4)
    exporter = HTMLExporter(template_name="offline", extra_template_basedirs=[str(NBCONVERT_TEMPLATES)],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": f"{slug}: claims vs measured"}})
    return _write_atomically(out_dir / f"{slug}.html", body)


def write_index(out_dir: Path = REPORTS_DIR, results_dir: Path = RESULTS_DIR,
                scales: Sequence[str] = ("cpu", "full"), problems: list[str] | None = None) -> Path:
    """Write ``<out_dir>/index.html`` for every paper, linking the reports present in ``out_dir``.

    A paper whose claims.yaml does not validate and a malformed results file are left out, listed at the top of
    the page and appended to ``problems`` (when given), so one broken file never hides the others.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    problems = [] if problems is None else problems
    papers = discover(problems=problems)
    for paper in papers:
        problems += [f"{f.path}: {f.problem}" for f in read_results(paper, results_dir, scales)
                     if f.status == "malformed"]
    reports = {p.stem for p in out_dir.glob("*.html") if p.stem != "index"}
    return _write_atomically(out_dir / "index.html", index_html(papers, results_dir, reports, scales, problems))


def _write_atomically(target: Path, text: str) -> Path:
    """Write beside ``target`` and rename: a reader (or a browser) never sees half a page."""
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(target)
    return target
