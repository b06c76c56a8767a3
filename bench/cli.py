"""``python -m bench list | validate | run | show | report | index``: the suite from the command line.

- ``list``: papers and their claims (tier, experiment, criteria, expect).
- ``validate``: check every claims.yaml against the schema and the code; exit 1 with the first error.
- ``run``: evaluate a paper's claims at a scale, write its results file, print the claim-vs-measured table.
- ``show``: print the claim-vs-measured table from the committed results in ``reference_results/``.
- ``report``: render ``reports/<slug>.html`` per paper (papermill + nbconvert), then ``reports/index.html``.
- ``index``: write only ``reports/index.html``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.claims import SCALES, ClaimsError, discover
from bench.results import (
    RESULTS_DIR,
    format_latency,
    format_record,
    load_latency,
    load_results,
    results_path,
    write_paper_results,
)


def _papers(patterns: list[str] | None):
    papers = discover(patterns or None)
    if patterns and not papers:
        raise ClaimsError(f"--paper {' '.join(patterns)} matches no paper folder under papers/")
    return papers


def cmd_list(args: argparse.Namespace) -> int:
    for paper in _papers(args.paper):
        meta = paper.spec.paper
        print(f"{paper.slug}: {meta.title} ({meta.venue}, arXiv {meta.arxiv})")
        for c in paper.spec.claims:
            if c.not_testable:
                print(f"  {c.id:<40} tier {c.tier}  not_testable: {c.not_testable}")
                continue
            crit = "; ".join(f"{m} {k}" for m, k in c.test.all_criteria.items())
            scales = ",".join(paper.spec.experiments[c.test.experiment].scales)
            print(f"  {c.id:<40} tier {c.tier}  {c.test.experiment} [{scales}]  {crit}  expect {c.expect}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    papers = _papers(args.paper)
    print(f"{len(papers)} paper(s), {sum(len(p.spec.claims) for p in papers)} claims: valid")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bench.runner import Runner

    runner = Runner(args.scale, args.device, args.seeds, args.rerun)
    status = 0
    for paper in _papers(args.paper):
        results = runner.run_paper(paper)
        if args.results_dir != "none":
            path = write_paper_results(runner, paper.slug, Path(args.results_dir))
            print(f"\nresults written to {path}\n")
            import json

            print(format_record(json.loads(path.read_text()), *_labels([paper])))
        if any(r.verdict and r.verdict.verdict == "error" for r in results):
            status = 1
    return status


def cmd_show(args: argparse.Namespace) -> int:
    records = []
    for pattern in args.paper or [None]:
        records += [r for r in load_results(Path(args.results_dir), pattern, args.scale)
                    if args.hardware is None or r["hardware"] == args.hardware]
    latency = []  # what bench/test_latency.py measured and simulated
    for pattern in args.paper or [None]:
        latency += [r for r in load_latency(Path(args.results_dir), pattern, args.scale)
                    if args.hardware is None or r["hardware"] == args.hardware]
    if not records and not latency:
        where = results_path(args.paper[0] if args.paper else "<slug>", args.scale or "<scale>", "<hardware>",
                             Path(args.results_dir))
        print(f"no results found (looked for {where}); run `python -m bench run` first", file=sys.stderr)
        return 1
    labels = _labels(discover())
    print("\n\n".join([format_record(r, *labels) for r in records] + [format_latency(r) for r in latency]))
    return 0


def _simulated(papers) -> dict[tuple[str, str], str]:
    """``{(paper, claim id): model}`` for the claims whose figures come from a simulated device."""
    return {(p.slug, c.id): c.test.simulated for p in papers for c in p.spec.claims if c.test and c.test.simulated}


def _labels(papers) -> tuple[dict, dict, set[str]]:
    """What ``format_record`` needs to label simulated figures and print each claim's context figures."""
    context = {(p.slug, c.id): c.test.context for p in papers for c in p.spec.claims if c.test and c.test.context}
    simulated_experiments = {c.test.experiment for p in papers for c in p.spec.claims
                             if c.test and c.test.simulated}
    simulated_experiments |= {name for p in papers for name, e in p.spec.experiments.items() if e.simulated}
    return _simulated(papers), context, simulated_experiments


def cmd_report(args: argparse.Namespace) -> int:
    from bench import report

    scales = [s for s in args.scales.split(",") if s]
    unknown = [s for s in scales if s not in SCALES]
    if unknown:
        raise ClaimsError(f"--scales: unknown scale {unknown[0]!r} (scales: {', '.join(SCALES)})")
    out, results_dir = Path(args.out), Path(args.results_dir)
    for paper in _papers(args.paper):
        print(f"[{paper.slug}] rendering the report (scales {', '.join(scales)}) ...", flush=True)
        path = report.render_report(paper.slug, out, results_dir, scales)
        print(f"[{paper.slug}] wrote {path}")
    if not args.no_index:
        print(f"wrote {report.write_index(out, results_dir, scales)}")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from bench import report

    scales = [s for s in args.scales.split(",") if s]
    print(f"wrote {report.write_index(Path(args.out), Path(args.results_dir), scales)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn, helptext in (("list", cmd_list, "list papers and claims"),
                               ("validate", cmd_validate, "validate every claims.yaml"),
                               ("run", cmd_run, "run a paper's claims at a scale"),
                               ("show", cmd_show, "print results from reference_results/"),
                               ("report", cmd_report, "render the papers' reports and the index"),
                               ("index", cmd_index, "write reports/index.html")):
        p = sub.add_parser(name, help=helptext)
        p.set_defaults(fn=fn)
        p.add_argument("--paper", action="append", default=[], metavar="GLOB", help="paper slug glob (repeatable)")
        if name == "run":
            p.add_argument("--scale", choices=SCALES, default="cpu")
            p.add_argument("--seeds", type=int, default=None, help="seeds per experiment (default: the scale's)")
            p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto")
            p.add_argument("--rerun", action="store_true", help="ignore cached per-seed results")
        if name in ("run", "show", "report", "index"):
            p.add_argument("--results-dir", default=str(RESULTS_DIR), help="'none' (run only) writes nothing")
        if name in ("report", "index"):
            p.add_argument("--out", default="reports", help="folder of the HTML reports (default: reports)")
        if name in ("report", "index"):
            p.add_argument("--scales", default="cpu,full", help="comma-separated scales shown (default cpu,full)")
        if name == "report":
            p.add_argument("--no-index", action="store_true", help="do not rewrite index.html")
        if name == "show":
            p.add_argument("--scale", choices=SCALES, default=None)
            p.add_argument("--hardware", default=None, help="e.g. cpu-intel-xeon-processor-2c")
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except (ClaimsError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
