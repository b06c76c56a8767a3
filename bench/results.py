"""Result files: ``reference_results/<slug>/<scale>-<hardware>.json``, written atomically, with provenance.

A file holds, per claim, the per-seed values, mean, 95% interval, criterion, verdict and paper value; per
experiment, every metric of every seed and its config; and once per file the provenance (git commit and dirty
flag, code hash, date, versions, device, datasets with variant and md5, wall time). A run that evaluated only
some claims keeps the file's other claims when they were measured on the same code (same code hash).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from bench import provenance
from bench.claims import SCALES
from bench.files import atomic_write_text, locked, safe_join, set_aside
from bench.runner import ClaimResult, Runner
from bench.schema import ResultsFileError, read_results_file, validate_record
from bench.verdict import ERROR, summarize

RESULTS_DIR = provenance.REPO_ROOT / "reference_results"


def results_path(slug: str, scale: str, hardware: str, root: Path = RESULTS_DIR) -> Path:
    """``root/<slug>/<scale>-<hardware>.json``; every part must be an identifier (``bench.files.safe_join``)."""
    return safe_join(Path(root), slug, f"{scale}-{hardware}.json")


def atomic_write_json(path: Path, obj: dict) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it: readers never see half a file."""
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=False, default=str, allow_nan=False) + "\n")


def _experiments_record(runner: Runner, slug: str, results: list[ClaimResult]) -> dict:
    paper = runner.papers[slug]
    out = {}
    for r in results:
        for exp, runs in (({r.claim.test.experiment: r.runs} if r.runs else {}) | r.context_runs).items():
            if exp in out:
                continue
            cfg, _ = paper.scale_config(exp, runner.scale)
            spec = paper.spec.experiments[exp]
            out[exp] = {"function": spec.function or exp, "config": dataclasses.asdict(cfg),
                        **({"simulated": spec.simulated} if spec.simulated else {}),
                        "runs": [{"seed": s.seed, "metrics": s.metrics, "error": s.error,
                                  "wall_s": round(s.wall_s, 2), "cached": s.cached, "measured_at": s.measured_at,
                                  "commit": s.commit} for s in runs]}
    return out


def _is_measurement(claim: dict) -> bool:
    """A claim record that a later run may replace good results with: a verdict other than error or skipped."""
    return claim.get("verdict") not in (None, ERROR)


def write_paper_results(runner: Runner, slug: str, root: Path = RESULTS_DIR, log=None) -> Path:
    """Write (merging) the results file of one paper for the runner's scale and hardware; return its path.

    Under the file's lock: read the old file (an unreadable one is set aside as ``<name>.corrupt-<time>``,
    never overwritten unseen), then per claim keep the old record unless this run measured it (a verdict other
    than ``error`` or skipped). An old good record kept over this run's error gets ``last_failure`` with the
    error, and keeps its own ``code_hash``, by which reports mark it stale when the code has changed since.
    """
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    results = list(runner.results[slug].values())
    paper = runner.papers[slug]
    hardware = provenance.hardware_name(runner.device)
    path = results_path(slug, runner.scale, hardware, root)
    code, commit = runner.code_state(paper)
    now = provenance.now()
    claims = {r.claim.id: {**r.as_dict(), "code_hash": code, "measured_at": now} for r in results}
    experiments = _experiments_record(runner, slug, results)
    with locked(path):
        old = None
        if path.is_file():
            try:
                old = read_results_file(path, slug)
            except ResultsFileError as e:
                aside = set_aside(path)
                log(f"results: {e}; the file was set aside as {aside.name} and a new one is written")
        datasets = {}
        for r in results:
            for run in r.runs:
                datasets.update(run.datasets)
        if old is not None:
            merged, kept = {}, set()
            for cid in [c.id for c in paper.spec.claims]:
                new, prev = claims.get(cid), old["claims"].get(cid)
                if new is not None and (_is_measurement(new) or prev is None or not _is_measurement(prev)):
                    merged[cid] = new
                elif prev is not None:  # nothing measured it this time: the old record stays
                    kept.add(cid)
                    merged[cid] = prev if new is None or new.get("verdict") != ERROR else {**prev, "last_failure": {
                        "reason": new.get("reason"), "code_hash": code, "date": now}}
            claims = merged
            fresh = {c.get("experiment") for cid, c in claims.items() if cid not in kept}
            fresh |= {ref.partition(".")[0] for c in paper.spec.claims if c.id in claims and c.id not in kept
                      and c.test for ref in c.test.context}
            for exp, rec in old.get("experiments", {}).items():
                if exp not in experiments or exp not in fresh:
                    experiments[exp] = rec
            if old["provenance"].get("code_hash") == code:
                datasets = {**old["provenance"].get("datasets", {}), **datasets}
        order = [c.id for c in paper.spec.claims]
        meta = paper.spec.paper
        record = {
            "paper": slug,
            "title": meta.title,
            "arxiv": meta.arxiv,
            "scale": runner.scale,
            "hardware": hardware,
            "provenance": {"commit": commit.removesuffix("-dirty") if commit else None,
                           "dirty": bool(commit and commit.endswith("-dirty")), "code_hash": code,
                           "date": now,
                           **provenance.environment(), "device": provenance.device_info(runner.device),
                           "datasets": datasets, "seeds_override": runner.seeds_override,
                           # compute time of the measurements in this file (cached runs count their original time)
                           "wall_time_s": round(sum(run["wall_s"] for e in experiments.values()
                                                    for run in e["runs"]), 1),
                           "invocation_s": round(runner.wall_s.get(slug, 0.0), 1)},
            "claims": {cid: claims[cid] for cid in order if cid in claims},
            "experiments": experiments,
        }
        validate_record(json.loads(json.dumps(record, default=str)), path, slug, runner.scale)
        atomic_write_json(path, record)
    return path


def scan_results(root: Path = RESULTS_DIR, slug: str | None = None, scale: str | None = None
                 ) -> tuple[list[dict], list[str]]:
    """Every valid results file under ``root`` (filtered by paper and scale) and one line per unusable one."""
    paths = [p for s in ([scale] if scale else SCALES) for p in Path(root).glob(f"{slug or '*'}/{s}-*.json")]
    records, problems = [], []
    for p in sorted(paths):
        try:
            records.append(read_results_file(p))
        except ResultsFileError as e:
            problems.append(str(e))
    return records, problems


def load_results(root: Path = RESULTS_DIR, slug: str | None = None, scale: str | None = None) -> list[dict]:
    """Every valid results file under ``root`` (filtered by paper and scale), parsed; see :func:`scan_results`."""
    return scan_results(root, slug, scale)[0]


def latency_paths(root: Path = RESULTS_DIR, slug: str | None = None, scale: str | None = None) -> list[Path]:
    """The latency files (``<slug>/latency-<scale>-<hardware>.json``, written by bench/test_latency.py)."""
    return sorted(root.glob(f"{slug or '*'}/latency-{scale or '*'}-*.json"))


def load_latency(root: Path = RESULTS_DIR, slug: str | None = None, scale: str | None = None) -> list[dict]:
    """Every latency file under ``root`` (filtered by paper and scale), parsed."""
    return [json.loads(p.read_text()) for p in latency_paths(root, slug, scale)]


def is_measured_device(device: str) -> bool:
    """``cpu`` and ``cuda`` are timed here; every other device of a latency file (``kind:name``) is simulated."""
    return device in ("cpu", "cuda")


def latency_table(record: dict) -> tuple[list[str], list[tuple[str, str, dict[str, float | None]]]]:
    """The devices of a latency file (measured first) and one ``(group, variant, {device: speedup})`` per row."""
    speedups = record["speedups"]
    devices = sorted({d for g in speedups.values() for d in g}, key=lambda d: (not is_measured_device(d), d))
    rows = [(group, v, {d: per_device.get(d, {}).get(v) for d in devices})
            for group, per_device in speedups.items()
            for v in sorted({v for d in per_device.values() for v in d})]
    return devices, rows


def format_latency(record: dict) -> str:
    """The speedup of every variant over its group's baseline, per measured and simulated device."""
    prov = record["provenance"]
    commit = (prov.get("commit") or "uncommitted")[:10] + (" (dirty)" if prov.get("dirty") else "")
    lines = [f"{record['paper']} · latency (bench/test_latency.py) · scale {record['scale']} · "
             f"{record['hardware']} · commit {commit} · {prov['date']}",
             "  speedup over the baseline: median time measured here (pytest-benchmark, cases timed one after "
             "the other), or simulated time or cycles (marked *)"]
    devices, rows = latency_table(record)
    width = max([len(g) for g in record["speedups"]] + [8]) + 2
    lines.append("  " + "group".ljust(width) + "variant".ljust(14)
                 + "".join((d if is_measured_device(d) else "*" + d.partition(":")[2]).rjust(18) for d in devices))
    for group, variant, cells in rows:
        lines.append("  " + group.ljust(width) + variant.ljust(14)
                     + "".join(("-" if x is None else f"{x:.2f}x").rjust(18) for x in cells.values()))
    return "\n".join(lines)


def _fmt_measured(claim: dict) -> str:
    metrics = claim.get("metrics") or {}
    parts = []
    for m, s in metrics.items():
        lo, hi = s["ci95"]
        parts.append(f"{m}={s['mean']:.4g}" + ("" if s["point"] else f" [{lo:.4g}, {hi:.4g}]"))
    return "; ".join(parts)


def table_rows(record: dict) -> list[dict]:
    """Rows of the claim-vs-measured table of one results file."""
    rows = []
    for cid, c in record["claims"].items():
        verdict = c.get("verdict") or "skipped"
        detail = c.get("reason") or c.get("skipped") or ""
        rows.append({"paper": record["paper"], "claim": cid, "scale": record["scale"],
                     "hardware": record["hardware"], "paper_value": json.dumps(c.get("paper_value"))[:60],
                     "measured": _fmt_measured(c), "criterion": "; ".join(f"{m} {k}" for m, k in
                                                                          (c.get("criteria") or {}).items()),
                     "verdict": verdict + (" (point)" if c.get("point_verdict") else ""),
                     "expect": c.get("expect") or "", "detail": detail})
    return rows


def _context_line(record: dict, refs: list[str], simulated_experiments: set[str]) -> str:
    """``metric=mean [lo, hi] (experiment)`` for each ``experiment.metric`` of ``refs`` found in the record."""
    parts = []
    for ref in refs:
        exp, _, metric = ref.partition(".")
        runs = ((record.get("experiments") or {}).get(exp) or {}).get("runs") or []
        values = [r["metrics"][metric] for r in runs if metric in (r.get("metrics") or {})]
        if not values:
            continue
        s = summarize(values)
        interval = "" if s.point or s.std == 0 else f" [{s.lo:.4g}, {s.hi:.4g}]"
        kind = ", simulated" if exp in simulated_experiments else ""
        parts.append(f"{metric}={s.mean:.4g}{interval} ({exp}{kind})")
    return "; ".join(parts)


def format_record(record: dict, simulated: dict[tuple[str, str], str] | None = None,
                  context: dict[tuple[str, str], list[str]] | None = None,
                  simulated_experiments: set[str] | None = None) -> str:
    """A readable block per claim: verdict, paper value, measured mean with interval, criterion.

    ``simulated`` maps ``(paper, claim id)`` of the claims decided on a simulated device to the model's label:
    their figures are printed as ``simulated:`` instead of ``measured:``. ``context`` maps a claim to the
    ``experiment.metric`` figures printed beside it (those of ``simulated_experiments`` marked simulated).
    """
    simulated, context = simulated or {}, context or {}
    prov = record["provenance"]
    commit = (prov.get("commit") or "uncommitted")[:10] + (" (dirty)" if prov.get("dirty") else "")
    lines = [f"{record['paper']} · scale {record['scale']} · {record['hardware']} · commit {commit} · "
             f"{prov['date']} · {prov.get('wall_time_s', 0):.0f} s of measurement"]
    for row, (cid, c) in zip(table_rows(record), record["claims"].items(), strict=True):
        lines.append(f"  {cid:<44} {row['verdict']:<22} expect {row['expect'] or '-'}")
        lines.append(f"      paper:     {json.dumps(c.get('paper_value'))}")
        if row["measured"]:
            model = simulated.get((record["paper"], cid))
            kind = "simulated:" if model else "measured: "
            lines.append(f"      {kind} {row['measured']}  ({len(c.get('seeds', []))} seeds)")
            if model:
                lines.append(f"      model:     {model}")
            refs = context.get((record["paper"], cid))
            line = _context_line(record, refs, simulated_experiments or set()) if refs else ""
            if line:
                lines.append(f"      context:   {line}")
            lines.append(f"      criterion: {row['criterion']}")
        if row["detail"]:
            lines.append(f"      note:      {row['detail']}")
    return "\n".join(lines)
