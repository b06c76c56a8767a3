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

from bench import cost, latency, provenance
from bench.claims import SCALES
from bench.files import UnsafePath, atomic_write_text, locked, safe_join, set_aside
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
                                  "commit": s.commit, "cost": s.cost} for s in runs]}
    return out


def _seed_history(name: str, old_exp: dict, new_exp: dict, old_file: dict) -> list[dict]:
    """The experiment's earlier seed counts, each with the verdicts it gave, plus the old file's when it differs.

    A count raised after a result was seen makes the verdicts sequential (``Runner.raised_after_look``); this is
    the record by which the next run knows, even when claims.yaml does not declare ``earlier_seeds``.
    """
    history = list(old_exp.get("seed_history") or [])
    n_old, n_new = len(old_exp.get("runs") or []), len(new_exp.get("runs") or [])
    if n_old and n_old != n_new:
        verdicts = {cid: c.get("verdict") for cid, c in old_file.get("claims", {}).items()
                    if c.get("experiment") == name}
        history.append({"seeds": n_old, "verdicts": verdicts, "date": old_file["provenance"].get("date")})
    return history


def seed_history(root: Path, scale: str, hardware: str):
    """For ``Runner(history=...)``: ``(slug, experiment) -> [earlier seed counts]`` from the results file at
    ``root`` (its recorded ``seed_history`` and the count of its current runs)."""
    def earlier(paper_slug: str, experiment: str) -> list[int]:
        try:
            rec = read_results_file(results_path(paper_slug, scale, hardware, root), paper_slug)
        except (ResultsFileError, UnsafePath):
            return []
        exp = rec.get("experiments", {}).get(experiment) or {}
        counts = [h.get("seeds") for h in exp.get("seed_history") or [] if isinstance(h, dict)]
        return [k for k in [*counts, len(exp.get("runs") or [])] if isinstance(k, int) and k > 0]
    return earlier


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
                else:
                    experiments[exp]["seed_history"] = _seed_history(exp, rec, experiments[exp], old)
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
                           "invocation_s": round(runner.wall_s.get(slug, 0.0), 1),
                           "compute": cost.total([run.get("cost") or {} for e in experiments.values()
                                                  for run in e["runs"]])},
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
        kind = ", simulated" if exp in simulated_experiments or ref in simulated_experiments else ""
        parts.append(f"{metric}={s.mean:.4g}{interval} ({exp}{kind})")
    return "; ".join(parts)


def format_record(record: dict, simulated: dict[tuple[str, str], str] | None = None,
                  context: dict[tuple[str, str], list[str]] | None = None,
                  simulated_experiments: set[str] | None = None, papers: dict | None = None) -> str:
    """A readable block per claim: verdict, paper value, measured mean with interval, criterion.

    ``simulated`` maps ``(paper, claim id)`` of the claims decided on a simulated device to the model's label:
    their figures are printed as ``simulated:`` instead of ``measured:``. ``context`` maps a claim to the
    ``experiment.metric`` figures printed beside it (marked simulated when ``simulated_experiments`` holds the
    experiment, wholly simulated, or the ``experiment.metric`` itself).
    ``papers`` (slug -> Paper) gives each claim's evidence kind as claims.yaml declares it now (else the file's)
    and its baseline regime (bench/regime.py).
    """
    from bench import regime
    from bench.verdict import about_gpu, shown_verdict

    simulated, context = simulated or {}, context or {}
    prov = record["provenance"]
    commit = (prov.get("commit") or "uncommitted")[:10] + (" (dirty)" if prov.get("dirty") else "")
    lines = [f"{record['paper']} · scale {record['scale']} · {record['hardware']} · commit {commit} · "
             f"{prov['date']} · {prov.get('wall_time_s', 0):.0f} s of measurement"]
    paper = (papers or {}).get(record["paper"])
    for row, (cid, c) in zip(table_rows(record), record["claims"].items(), strict=True):
        claim = next((x for x in paper.spec.claims if x.id == cid), None) if paper else None
        evidence = (claim.evidence if claim else None) or c.get("evidence")
        verdict = shown_verdict(c.get("verdict") or "skipped", evidence, bool(claim and about_gpu(claim)))
        verdict += " (point)" if c.get("point_verdict") else ""
        head = "*" if (claim.headline if claim else c.get("headline")) else " "
        lines.append(f" {head}{cid:<44} {verdict:<22} expect {row['expect'] or '-'}"
                     f"{'  [' + evidence + ']' if evidence else ''}")
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
            if c.get("verdict_rule") == "confidence-sequence":
                lines.append(f"      rule:      seeds added after a look: anytime-valid confidence sequence "
                             f"(fixed-n t interval: {c.get('fixed_n_verdict')})")
            text = regime.assess(paper, cid, record)[0] if claim else ""
            if text:
                lines.append(f"      regime:    {text}")
        if row["detail"]:
            lines.append(f"      note:      {row['detail']}")
    return "\n".join(lines)


def mutants_path(slug: str, scale: str, hardware: str, root: Path = RESULTS_DIR) -> Path:
    """``root/<slug>/mutants-<scale>-<hardware>.json``."""
    return safe_join(Path(root), slug, f"mutants-{scale}-{hardware}.json")


def write_mutants(paper, scale: str, device, records: dict, root: Path = RESULTS_DIR, log=None) -> Path:
    """Write (merging by mutant name) a paper's mutants file; return its path.

    Each mutant's record carries the code hash and the hash of ``mutants.py`` it ran with, so a mutant kept from
    an earlier run is recognisably older. The summary (claims that detect at least one mutant) is recomputed over
    every mutant in the file.
    """
    from bench import mutants

    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    hardware = provenance.hardware_name(device)
    path = mutants_path(paper.slug, scale, hardware, root)
    code, mhash, now = provenance.code_hash(paper.path), mutants.mutants_hash(paper), provenance.now()
    state = provenance.git_state()
    for rec in records.values():
        rec.update(code_hash=code, mutants_hash=mhash, measured_at=now)
    with locked(path):
        old = {}
        if path.is_file():
            try:
                old = read_json_object(path, ("mutants",), "mutants")["mutants"]
            except ValueError as e:
                aside = set_aside(path)
                log(f"mutants: {e}; set aside as {aside.name}")
        declared = [m.name for m in paper.spec.mutants]
        merged = {n: records.get(n) or old.get(n) for n in declared if records.get(n) or old.get(n)}
        record = {"paper": paper.slug, "scale": scale, "hardware": hardware,
                  "provenance": {"commit": state["commit"], "dirty": state["dirty"], "code_hash": code,
                                 "mutants_hash": mhash, "date": now, **provenance.environment(),
                                 "device": provenance.device_info(device)},
                  "mutants": merged, "summary": mutants.summary(paper, merged, scale, device.type)}
        atomic_write_json(path, record)
    return path


def read_json_object(path: Path, fields: tuple[str, ...], kind: str) -> dict:
    """A JSON file whose ``fields`` are objects (a latency or mutants file); ValueError in one line otherwise."""
    try:
        rec = json.loads(Path(path).read_text())
        if not isinstance(rec, dict) or not all(isinstance(rec.get(f), dict) for f in fields):
            raise ValueError(f"fields {' and '.join(fields)} must be objects")
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"{path}: not a {kind} file ({e})") from None
    return rec


def load_mutants(root: Path = RESULTS_DIR, slug: str | None = None, scale: str | None = None
                 ) -> tuple[list[dict], list[str]]:
    """Every readable mutants file (filtered by paper and scale) and one line per unusable one."""
    records, problems = [], []
    for p in sorted(Path(root).glob(f"{slug or '*'}/mutants-{scale or '*'}-*.json")):
        try:
            records.append(read_json_object(p, ("mutants", "summary"), "mutants"))
        except ValueError as e:
            problems.append(str(e))
    return records, problems


def format_mutants(record: dict) -> str:
    """A readable table per mutant: claim, verdict intact, verdict under the mutant, outcome."""
    prov = record["provenance"]
    lines = [f"{record['paper']} · mutants · scale {record['scale']} · {record['hardware']} · commit "
             f"{(prov.get('commit') or 'uncommitted')[:10]} · {prov.get('date')}"]
    for name, m in record["mutants"].items():
        seeds = f"{m['seeds']} seeds" if m.get("seeds") else "the scale's seeds"
        lines.append(f"  mutant {name} ({seeds}): {m.get('description', '')}")
        for cid, c in m["claims"].items():
            mark = " (should break)" if c.get("should_break") else ""
            if c.get("skipped"):
                lines.append(f"      {cid:<44} skipped: {c['skipped']}")
                continue
            lines.append(f"      {cid:<44} {c.get('evidence') or '-':<9} intact {c['intact']:<15} mutant "
                         f"{c['mutant']:<15} {c['outcome']}{mark}")
    s = record["summary"]
    for kind in ("measured", "simulated", "derived"):
        k = s.get(kind) or {}
        if k.get("claims"):
            lines.append(f"  {kind} claims detecting at least one mutant: {len(k['detecting'])} of "
                         f"{len(k['claims'])}")
    if s.get("weak"):
        lines.append(f"  weak evidence (measured, detect no mutant): {', '.join(s['weak'])}")
    if s.get("not_here"):
        lines.append(f"  measured claims with nothing to run at this scale and device: {', '.join(s['not_here'])}")
    if s.get("expected_breaks_missed"):
        lines.append(f"  mutants that missed a claim they should break: {'; '.join(s['expected_breaks_missed'])}")
    return "\n".join(lines)


def rejudge_file(path: Path, paper, log=None) -> list[str]:
    """Re-decide every judged claim of a results file from its stored per-seed values, under today's rules.

    Nothing is measured: the values, criteria and code hash stay as they are. What may change is the rule: a
    metric whose seed count was raised after a look (claims.yaml's ``earlier_seeds`` at the file's scale, or the
    file's ``seed_history``) is judged on its confidence sequence. An ``earlier_seeds`` count missing from the
    file's history is added to it, with the verdicts the first that many stored seeds give (marked
    ``reconstructed``). Returns one line per claim whose verdict changed.
    """
    from bench.verdict import NOT_IMPLEMENTED, NOT_TESTABLE, Criterion, decide

    rec = read_results_file(path, paper.slug)
    scale, now, changes = rec["scale"], provenance.now(), []
    for exp, erec in rec.get("experiments", {}).items():
        if exp not in paper.spec.experiments:
            continue
        history = erec.setdefault("seed_history", [])
        known = {h.get("seeds") for h in history if isinstance(h, dict)}
        n = len(erec.get("runs") or [])
        for k in paper.earlier_seeds(exp, scale):
            if k in known or k >= n:
                continue
            verdicts = {}
            for cid, c in rec["claims"].items():
                if c.get("experiment") != exp or not c.get("metrics") or len(c.get("seeds") or []) < k:
                    continue
                crit = {m: Criterion.parse(t) for m, t in (c.get("criteria") or {}).items()}
                verdicts[cid] = decide({m: summarize(c["metrics"][m]["values"][:k]) for m in crit}, crit).verdict
            history.append({"seeds": k, "verdicts": verdicts, "reconstructed": f"from the first {k} per-seed "
                            f"values of this file (claims.yaml: earlier_seeds), on {now}"})
        history.sort(key=lambda h: h.get("seeds") or 0)
    for cid, c in rec["claims"].items():
        if c.get("verdict") in (None, ERROR, NOT_TESTABLE, NOT_IMPLEMENTED) or not c.get("metrics"):
            continue
        exp, n = c.get("experiment"), len(c.get("seeds") or [])
        hist = [h.get("seeds") for h in (rec["experiments"].get(exp) or {}).get("seed_history") or []]
        earlier = [*(paper.earlier_seeds(exp, scale) if exp in paper.spec.experiments else []), *hist]
        crit = {m: Criterion.parse(t) for m, t in (c.get("criteria") or {}).items()}
        summaries = {m: summarize(c["metrics"][m]["values"]) for m in crit}
        v = decide(summaries, crit, sequential=any(isinstance(k, int) and k < n for k in earlier))
        if v.verdict != c["verdict"]:
            changes.append(f"{paper.slug}::{cid} ({rec['scale']}, {rec['hardware']}): {c['verdict']} -> {v.verdict}"
                           f" ({v.rule})")
        c.update(verdict=v.verdict, reason=v.reason, seeds_needed=v.seeds_needed, verdict_rule=v.rule,
                 metrics={**c["metrics"], **{m: s.as_dict() for m, s in summaries.items()}}, rejudged_at=now)
        if v.fixed_n_verdict:
            c["fixed_n_verdict"] = v.fixed_n_verdict
        else:
            c.pop("fixed_n_verdict", None)
    validate_record(json.loads(json.dumps(rec, default=str)), path, paper.slug, scale)
    with locked(path):
        atomic_write_json(path, rec)
    return changes


# -- the latency file of a paper ---------------------------------------------------------------------------


def _speedups(entries: list[tuple[str, str, str, float]], baselines: dict[str, str]) -> dict:
    """``{group: {device: {variant: baseline cost / variant cost}}}`` from ``(group, variant, device, cost)``."""
    cost = {(g, v, d): c for g, v, d, c in entries}
    out: dict = {}
    for (g, v, d), c in sorted(cost.items()):
        base = cost.get((g, baselines[g], d))
        if base is not None and c > 0:
            out.setdefault(g, {}).setdefault(d, {})[v] = base / c
    return out


def latency_record(slug: str, scale: str, hardware: str, benchmarks: dict | None, simulated: list[dict],
                   code_hash: str) -> dict:
    """The latency file of one paper: pytest-benchmark's JSON of its cases, the simulated figures, speedups.

    ``benchmarks``: pytest-benchmark's output JSON restricted to the paper's cases (``None`` when benchmarks
    were disabled); each benchmark's ``extra_info`` names its case, group, variant and device.
    """
    cases = {c.id: c for c in latency.discover_cases([slug])}
    baselines = {c.group: c.baseline for c in cases.values()}
    entries = []
    for b in (benchmarks or {}).get("benchmarks", []):
        info = b["extra_info"]
        entries.append((info["group"], info["variant"], info["device"], b["stats"]["median"]))
    for s in simulated:
        entries.append((s["group"], s["variant"], s["device"], s.get("time_s", s.get("cycles", 0))))
    state = provenance.git_state()
    return {
        "paper": slug, "kind": "latency", "scale": scale, "hardware": hardware,
        "provenance": {"commit": state["commit"], "dirty": state["dirty"], "code_hash": code_hash,
                       "date": provenance.now(), **provenance.environment()},
        "note": "speedups: median time (measured) or simulated time or cycles of the baseline over the variant's; "
                "measured speedups here come from cases timed one after the other, the paper's speedup claims "
                "from its experiments' interleaved timing",
        "speedups": _speedups(entries, baselines),
        "simulated": simulated,
        "pytest_benchmark": benchmarks,
    }
