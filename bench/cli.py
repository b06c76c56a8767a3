"""``python -m bench list | validate | run | show | report | index``: the suite from the command line.

- ``list``: papers and their claims (tier, experiment, criteria, expect).
- ``validate``: check every claims.yaml against the schema and the code (exit 2 with the first error), then
  every results file against the results schema (exit 1 naming each that cannot be used).
- ``run``: evaluate a paper's claims at a scale, write its results file, print the claim-vs-measured table.
- ``show``: print the claim-vs-measured table from the committed results in ``reference_results/``.
- ``report``: render ``reports/<slug>.html`` per paper (papermill + nbconvert), then ``reports/index.html``.
- ``index``: write only ``reports/index.html``.
- ``rejudge``: re-decide the verdicts of results files from their stored per-seed values under today's rules (a
  seed count raised after a look is judged on its confidence sequence); nothing is measured.
- ``plan``: every cell (paper, experiment, seed, scale, device) a run needs, whether it is cached, whether it is
  timed (runs alone), and its expected time from earlier runs, with totals; ``--json`` for scripts.
- ``cache``: ``export FILE`` / ``import FILE`` cells between machines (``bench.store``), ``info``, ``path``.
- ``mutants``: run each paper's mutants (broken variants of its method, ``bench/mutants.py``) at a scale and write
  ``reference_results/<slug>/mutants-<scale>-<hardware>.json``: which claims detect which mutant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench.claims import MAX_SEEDS, SCALES, SLUG, ClaimsError, discover
from bench.executors import ExecutorError
from bench.files import UnsafePath
from bench.mutants import MutantError
from bench.results import (
    RESULTS_DIR,
    format_latency,
    format_record,
    latency_paths,
    read_json_object,
    results_path,
    scan_results,
    write_paper_results,
)
from bench.schema import ResultsFileError


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
            if c.not_implemented:
                print(f"  {c.id:<40} tier {c.tier}  not_implemented: {c.not_implemented.reason}")
                continue
            crit = "; ".join(f"{m} {k}" for m, k in c.test.all_criteria.items())
            scales = ",".join(paper.spec.experiments[c.test.experiment].scales)
            print(f"  {c.id:<40} tier {c.tier}  {c.test.experiment} [{scales}]  {crit}  expect {c.expect}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    papers = _papers(args.paper)
    print(f"{len(papers)} paper(s), {sum(len(p.spec.claims) for p in papers)} claims: valid")
    records, problems = [], []
    for paper in papers:  # and the results files: the schema that show, the reports and the writer share
        found, bad = scan_results(Path(args.results_dir), paper.slug)
        records += found
        problems += bad
    print(f"{len(records)} results file(s) under {args.results_dir}: "
          + ("valid" if not problems else f"{len(problems)} more could not be used"))
    return _report_problems(problems)


class OptionError(ValueError):
    """A command-line option refused before any work starts; the message is one line."""


def check_seeds(seeds: int | None) -> None:
    if seeds is not None and not 1 <= seeds <= MAX_SEEDS:
        raise OptionError(f"--seeds {seeds}: give a number of seeds from 1 to {MAX_SEEDS}")


def check_results_dir(value: str, option: str = "--results-dir") -> Path | None:
    """The results (or reports) folder (None for 'none'), refused unless a file can be created in it."""
    if value == "none" and option == "--results-dir":
        return None
    root = Path(value)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise OptionError(f"{option} {value}: cannot write there ({e.strerror or e})") from None
    return root


def check_device(device: str) -> None:
    from bench.provenance import resolve_device

    try:
        resolve_device(device)
    except (RuntimeError, ValueError) as e:
        raise OptionError(str(e)) from None


def cmd_run(args: argparse.Namespace) -> int:
    from bench.runner import Runner

    check_seeds(args.seeds)
    check_device(args.device)
    results_dir = check_results_dir(args.results_dir)
    papers = _papers(args.paper)
    options = executor_options(args)
    runner = Runner(args.scale, args.device, args.seeds, args.rerun)
    if results_dir is not None:  # seed counts of earlier results there: a raised count makes verdicts sequential
        from bench.provenance import hardware_name
        from bench.results import seed_history

        runner.history = seed_history(results_dir, runner.scale, hardware_name(runner.device))
    prepare(runner, papers, options)
    status = 0
    for paper in papers:
        results = runner.run_paper(paper)
        if results_dir is not None:
            path = write_paper_results(runner, paper.slug, results_dir)
            print(f"\nresults written to {path}\n")
            import json

            print(format_record(json.loads(path.read_text()), *_labels([paper])))
        if any(r.verdict and r.verdict.verdict == "error" for r in results):
            status = 1
    return status


def executor_options(args: argparse.Namespace):
    """The executor options of ``run``'s command line (``bench.executors.ExecutorOptions``), checked."""
    from bench.executors import ExecutorOptions

    if args.jobs < 1:
        raise OptionError(f"--jobs {args.jobs}: must be at least 1")
    if args.executor == "inline" and args.jobs != 1:
        raise OptionError("--jobs needs --executor local (inline runs one cell at a time, in this process)")
    if args.cell_threads is not None and args.cell_threads < 1:
        raise OptionError(f"--cell-threads {args.cell_threads}: must be at least 1")
    return ExecutorOptions(kind=args.executor, jobs=args.jobs, cell_threads=args.cell_threads,
                           folder=args.submitit_dir,
                           slurm_partition=args.slurm_partition, slurm_gpus=args.slurm_gpus,
                           slurm_time=args.slurm_time, slurm_cpus_per_task=args.slurm_cpus_per_task,
                           slurm_array_parallelism=args.slurm_array_parallelism, slurm_mem_gb=args.slurm_mem_gb,
                           slurm_opts=args.slurm_opt)


def prepare(runner, papers, options, log=None) -> None:
    """Plan the papers' cells, then run them with the executor (``local``/``slurm``) or arrange one progress
    line per finished cell (``inline``); afterwards ``runner.run_paper`` judges as always."""
    from bench.cells import Progress, format_plan, plan
    from bench.executors import run_cells

    log = log or runner.log
    cells = plan(runner, papers)
    todo = [c for c in cells if not c.cached]
    if todo:
        log(format_plan(cells, options.jobs)[-1])
    if options.kind == "inline":
        runner.on_cell = Progress(cells, log).cell_done
    else:
        run_cells(cells, runner, options, log)


def add_executor_arguments(add) -> None:
    """``--executor``, ``--jobs`` and the Slurm options, for argparse's and pytest's ``add_argument``."""
    add("--executor", choices=("inline", "local", "slurm"), default="inline",
        help="inline: in this process (default); local: cells as processes here (--jobs); slurm: a job array")
    add("--jobs", type=int, default=1, help="local: cells run at a time (each with the inline thread count)")
    add("--cell-threads", type=int, default=None,
        help="local: torch threads per cell (default: as inline, so values equal the inline run's; another "
             "count changes floating-point results)")
    add("--submitit-dir", default=None, help="submitit's folder (default: <cache>/submitit; on a cluster, shared)")
    add("--slurm-partition", default=None, help="slurm: the partition")
    add("--slurm-gpus", type=int, default=0, help="slurm: GPUs per cell")
    add("--slurm-time", type=int, default=None, help="slurm: minutes per cell (default 1440)")
    add("--slurm-cpus-per-task", type=int, default=2, help="slurm: CPUs (and torch threads) per cell")
    add("--slurm-array-parallelism", type=int, default=64, help="slurm: cells of the array running at once")
    add("--slurm-mem-gb", type=float, default=None, help="slurm: memory per cell in GB")
    add("--slurm-opt", action="append", default=[], metavar="KEY=VALUE",
        help="any other sbatch option, as --KEY=VALUE (repeatable), e.g. account=myproj or qos=long")


def cmd_plan(args: argparse.Namespace) -> int:
    from bench.cells import format_plan, plan, totals
    from bench.runner import Runner

    check_device(args.device)
    runner = Runner(args.scale, args.device, args.seeds, args.rerun, log=lambda line: None)
    cells = plan(runner, _papers(args.paper), results_dir=Path(args.results_dir))
    if args.json:
        print(json.dumps({"scale": args.scale, "device": runner.device.type, "cells": [c.as_dict() for c in cells],
                          "totals": totals(cells)}, indent=1))
    else:
        print("\n".join(format_plan(cells, args.jobs)))
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from bench import store
    from bench.runner import default_cache_dir

    if args.action in ("export", "import") and not args.file:
        raise OptionError(f"cache {args.action} needs a FILE (.tar.gz)")
    if args.action == "path":
        print(default_cache_dir())
    elif args.action == "info":
        print("\n".join(store.summary()))
    elif args.action == "export":
        n = store.export(Path(args.file), args.paper or None)
        print(f"exported {n} cell(s) to {args.file}")
    else:
        imported, present, refused = store.import_(Path(args.file))
        print(f"imported {len(imported)} cell(s), {len(present)} already there, {len(refused)} refused")
        for line in refused:
            print(f"  refused {line}")
        return 1 if refused and not imported else 0
    return 0


def cmd_mutants(args: argparse.Namespace) -> int:
    from bench import mutants
    from bench.provenance import resolve_device
    from bench.results import format_mutants, write_mutants

    check_device(args.device)
    results_dir = check_results_dir(args.results_dir)
    papers = [p for p in _papers(args.paper) if p.spec.mutants]
    if not papers:
        print("no paper here declares mutants (mutants: in claims.yaml)", file=sys.stderr)
        return 1
    for paper in papers:
        records = mutants.evaluate(paper, args.scale, args.device, args.rerun, only=args.mutant or None)
        if results_dir is None:
            continue
        path = write_mutants(paper, args.scale, resolve_device(args.device), records, results_dir)
        print(f"\nmutants written to {path}\n")
        print(format_mutants(json.loads(path.read_text())))
    return 0


def cmd_rejudge(args: argparse.Namespace) -> int:
    from bench.results import rejudge_file

    papers = _papers(args.paper)
    status, seen = 0, 0
    for paper in papers:
        for path in sorted((Path(args.results_dir) / paper.slug).glob(f"{args.scale or '*'}-*.json")):
            if path.stem.split("-", 1)[0] not in SCALES:
                continue
            seen += 1
            try:
                changes = rejudge_file(path, paper)
            except ResultsFileError as e:
                print(f"problem: {e}", file=sys.stderr)
                status = 1
                continue
            print(f"{path}: re-judged; " + ("; ".join(changes) if changes else "no verdict changed"))
    if not seen:
        print("no results files to re-judge", file=sys.stderr)
        return 1
    return status


def headline_lines(papers, results_dir: Path, scales=("cpu", "full")) -> list[str]:
    """One line per headline claim: paper, claim, verdict at the best scale measured, evidence, measured against
    the paper's value, regime (what the index opens with and the README's paper sections lead with)."""
    from bench import report
    from bench.verdict import shown_verdict

    best = report.best_rows(report.index_rows(papers, results_dir, scales))
    lines = []
    for r in best[best["headline"]].itertuples() if not best.empty else []:
        judged = r.verdict in ("reproduced", "not_reproduced", "inconclusive", "error")
        where = f" at {r.scale} on {r.hardware}" + (" (stale)" if r.status == "stale" else "") if judged else ""
        measured = f"; measured {' '.join(r.measured.split())}" if r.measured else f" ({r.detail})"
        regime_mark = "; proxy regime" if r.proxy else ""
        lines.append(f"{r.paper} · {r.claim}: {shown_verdict(r.verdict, r.evidence or None, r.gpu)}{where} "
                     f"[{r.evidence or 'untested'}]{measured}; paper {r.paper_value}{regime_mark}")
    return lines


def compute_table(papers, results_dir: Path) -> list[str]:
    """The README's compute table (Markdown): per paper and results file, the compute its cells took."""
    from bench.report import compute_rows

    def num(x):
        return "—" if x is None else f"{x:g}"

    lines = ["| paper | scale | hardware | cells | wall (min) | CPU (min) | GPU (min) | peak RSS (MB) |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in compute_rows(papers, results_dir):
        unknown = "†" if r["unknown"] else ""
        stale = " (stale)" if r["stale"] else ""
        lines.append(f"| `{r['paper']}` | {r['scale']} | {r['hardware']}{stale} | {num(r['cells'])}{unknown} | "
                     f"{num(r['wall_min'])} | {num(r['cpu_min'])} | {num(r['gpu_min'])} | {num(r['peak_rss_mb'])} |")
    if any("†" in line for line in lines):
        lines += ["", "† measured before cells recorded their compute: the runs' wall time is all the file has."]
    if any("(stale)" in line for line in lines):
        lines += ["", "(stale): measured with an older code hash than the code's now (see the reports)."]
    return lines


def cmd_show(args: argparse.Namespace) -> int:
    if args.compute:
        problems: list[str] = []
        papers = discover(args.paper or None, problems=problems)
        print("\n".join(compute_table(papers, Path(args.results_dir))))
        return _report_problems(problems)
    if args.headlines:
        problems: list[str] = []
        papers = discover(args.paper or None, problems=problems)
        print("\n".join(headline_lines(papers, Path(args.results_dir))))
        return _report_problems(problems)
    problems: list[str] = []
    records = []
    for pattern in args.paper or [None]:
        found, bad = scan_results(Path(args.results_dir), pattern, args.scale)
        records += [r for r in found if args.hardware is None or r["hardware"] == args.hardware]
        problems += bad
    latency = []  # what bench/test_latency.py measured and simulated
    for pattern in args.paper or [None]:
        for path in latency_paths(Path(args.results_dir), pattern, args.scale):
            try:
                rec = read_json_object(path, ("speedups", "provenance"), "latency")
            except ValueError as e:
                problems.append(str(e))
                continue
            if args.hardware is None or rec.get("hardware") == args.hardware:
                latency.append(rec)
    if not records and not latency and not problems:
        where = results_path(args.paper[0] if args.paper and SLUG.match(args.paper[0]) else "x", args.scale or "cpu",
                             "hardware", Path(args.results_dir))
        print(f"no results found (looked for {where.parent / '<scale>-<hardware>.json'}); run `python -m bench run` "
              f"first", file=sys.stderr)
        return 1
    labels = _labels(discover(problems=problems))
    blocks = [format_record(r, *labels) for r in records]  # records passed the results schema
    for r in latency:
        try:
            blocks.append(format_latency(r))
        except (KeyError, TypeError, ValueError, AttributeError) as e:  # a latency file of an unknown shape
            problems.append(f"{r.get('paper')} ({r.get('scale')}, {r.get('hardware')}): cannot be shown ({e})")
    if records:
        print("legend: * a headline claim; [measured | simulated | derived] the claim's evidence kind (derived: holds "
              "by construction, no evidence that the paper holds)\n")
    print("\n\n".join(blocks))
    return _report_problems(problems)


def _report_problems(problems: list[str]) -> int:
    """Print each problem on stderr after the output; exit status 1 if there was any."""
    for line in problems:
        print(f"problem: {line}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} file(s) could not be used and were left out (listed above)", file=sys.stderr)
    return 1 if problems else 0


def _simulated(papers) -> dict[tuple[str, str], str]:
    """``{(paper, claim id): model}`` for the claims whose figures come from a simulated device."""
    return {(p.slug, c.id): c.test.simulated for p in papers for c in p.spec.claims if c.test and c.test.simulated}


def _labels(papers) -> tuple[dict, dict, set[str], dict]:
    """What ``format_record`` needs to label simulated figures and print each claim's context figures."""
    context = {(p.slug, c.id): c.test.context for p in papers for c in p.spec.claims if c.test and c.test.context}
    # what a context figure is labelled simulated by: a wholly simulated experiment, or a metric some simulated
    # claim decides on ("experiment.metric"); a measured accuracy beside a simulated count stays unlabelled
    simulated_experiments = {f"{c.test.experiment}.{m}" for p in papers for c in p.spec.claims
                             if c.test and c.test.simulated for m in c.test.all_criteria}
    simulated_experiments |= {name for p in papers for name, e in p.spec.experiments.items() if e.simulated}
    return _simulated(papers), context, simulated_experiments, {p.slug: p for p in papers}


def cmd_report(args: argparse.Namespace) -> int:
    from bench import report

    scales = _scales(args.scales)
    out, results_dir = check_results_dir(args.out, "--out"), Path(args.results_dir)
    problems: list[str] = []
    papers = discover(args.paper or None, problems=problems)
    if args.paper and not papers and not problems:
        raise ClaimsError(f"--paper {' '.join(args.paper)} matches no paper folder under papers/")
    for paper in papers:
        print(f"[{paper.slug}] rendering the report (scales {', '.join(scales)}) ...", flush=True)
        path = report.render_report(paper.slug, out, results_dir, scales)
        print(f"[{paper.slug}] wrote {path}")
    if not args.no_index:
        print(f"wrote {report.write_index(out, results_dir, scales, index_problems := [])}")
        problems += [p for p in index_problems if p not in problems]
    return _report_problems(problems)


def cmd_index(args: argparse.Namespace) -> int:
    from bench import report

    scales = _scales(args.scales)
    out = check_results_dir(args.out, "--out")
    problems: list[str] = []
    print(f"wrote {report.write_index(out, Path(args.results_dir), scales, problems)}")
    return _report_problems(problems)


def _scales(text: str) -> list[str]:
    scales = [s for s in text.split(",") if s]
    unknown = [s for s in scales if s not in SCALES]
    if unknown or not scales:
        raise OptionError(f"--scales {text!r}: unknown scale {unknown[0]!r}" if unknown else
                          f"--scales {text!r}: name at least one scale")
    return scales


class _Parser(argparse.ArgumentParser):
    """argparse, with a refused option said in one line (no usage block) and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, fn, helptext in (("list", cmd_list, "list papers and claims"),
                               ("validate", cmd_validate, "validate every claims.yaml"),
                               ("run", cmd_run, "run a paper's claims at a scale"),
                               ("plan", cmd_plan, "list the cells a run needs: cached or not, expected time"),
                               ("show", cmd_show, "print results from reference_results/"),
                               ("report", cmd_report, "render the papers' reports and the index"),
                               ("index", cmd_index, "write reports/index.html"),
                               ("rejudge", cmd_rejudge, "re-decide results files' verdicts from their stored "
                                                        "values (nothing is measured)"),
                               ("mutants", cmd_mutants, "run the papers' mutants and record which claims detect them"),
                               ("cache", cmd_cache, "the cell cache: path, info, export FILE, import FILE")):
        p = sub.add_parser(name, help=helptext)
        p.set_defaults(fn=fn)
        p.add_argument("--paper", action="append", default=[], metavar="GLOB", help="paper slug glob (repeatable)")
        if name in ("run", "mutants", "plan"):
            p.add_argument("--scale", choices=SCALES, default="cpu")
            if name in ("run", "plan"):
                p.add_argument("--seeds", type=int, default=None, help="seeds per experiment (default: the scale's)")
            else:
                p.add_argument("--mutant", action="append", default=[], metavar="NAME", help="only this mutant")
            p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto")
            p.add_argument("--rerun", action="store_true", help="ignore cached per-seed results")
        if name == "run":
            add_executor_arguments(p.add_argument)
        if name == "cache":
            p.add_argument("action", choices=("path", "info", "export", "import"))
            p.add_argument("file", nargs="?", default=None, help="the .tar.gz to export to or import from")
        if name == "plan":
            p.add_argument("--jobs", type=int, default=1, help="estimate the wall time with this many local jobs")
            p.add_argument("--json", action="store_true", help="the plan as JSON (cells and totals)")
        if name in ("run", "show", "report", "index", "validate", "mutants", "rejudge", "plan"):
            p.add_argument("--results-dir", default=str(RESULTS_DIR), help="'none' (run only) writes nothing")
        if name in ("report", "index"):
            p.add_argument("--out", default="reports", help="folder of the HTML reports (default: reports)")
        if name in ("report", "index"):
            p.add_argument("--scales", default="cpu,full", help="comma-separated scales shown (default cpu,full)")
        if name == "report":
            p.add_argument("--no-index", action="store_true", help="do not rewrite index.html")
        if name in ("show", "rejudge"):
            p.add_argument("--scale", choices=SCALES, default=None)
            p.add_argument("--hardware", default=None, help="e.g. cpu-intel-xeon-processor-2c")
            p.add_argument("--compute", action="store_true",
                           help="the compute each results file's cells took, as a Markdown table (README)")
            p.add_argument("--headlines", action="store_true",
                           help="one line per paper's headline claim, at the best scale measured")
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except (ClaimsError, OptionError, UnsafePath, ResultsFileError, FileNotFoundError, TimeoutError,
            MutantError, ExecutorError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
