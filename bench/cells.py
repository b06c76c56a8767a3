"""Cells, the unit of work: one experiment of one paper at one seed, scale and device, cached under one key.

``plan`` lists the cells that judging a set of claims needs (``Runner.cells``: the claim's experiment and the
context experiments shown beside it, shared between claims), whether each is in the cache already, whether it
measures time (``timed: true`` in claims.yaml: it must run alone), and how long it is expected to take.

The expected time of a cell is the median wall time of earlier runs of the same experiment with the same config
on the same device: first those recorded on this hardware (the cache entries of any code version, and the
committed results file of this scale and hardware), else those of other hardware (said so), else unknown.

``Progress`` turns finished cells into one line per paper: cells done of total and the time expected to remain.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import provenance
from bench.claims import Paper
from bench.results import RESULTS_DIR
from bench.runner import Runner, SeedRun


@dataclass
class Cell:
    """One (paper, experiment, seed, scale, device) unit and what is known of it before it runs."""

    paper: str
    experiment: str
    seed: int
    scale: str
    device: str
    key: str
    cached: bool
    timed: bool
    expected_s: float | None  # median wall time of earlier runs (None: unknown)
    expected_from: str  # where the expectation comes from, in words
    claims: list[str] = field(default_factory=list)  # the claims whose verdicts use this cell

    @property
    def id(self) -> str:
        return f"{self.paper}.{self.experiment}#{self.seed}"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self) | {"id": self.id}


def _config_json(paper: Paper, experiment: str, scale: str) -> dict:
    cfg, _ = paper.scale_config(experiment, scale)
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


def _earlier_walls(runner: Runner, paper: Paper, experiment: str, results_dir: Path) -> tuple[list[float], str]:
    """Wall times of earlier runs of this experiment and config on this device: this hardware's, else others'."""
    config, device = _config_json(paper, experiment, runner.scale), runner.device.type
    hardware = provenance.hardware_name(runner.device)
    mine: list[float] = []
    folder = runner.cache_dir / paper.slug / experiment
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            rec = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if (isinstance(rec, dict) and rec.get("config") == config and rec.get("device") == device
                and rec.get("hardware", hardware) == hardware and isinstance(rec.get("wall_s"), (int, float))):
            mine.append(float(rec["wall_s"]))
    others: dict[str, list[float]] = {}
    for path in sorted((results_dir / paper.slug).glob(f"{runner.scale}-{device}-*.json")):
        try:
            rec = json.loads(path.read_text())
            exp = rec["experiments"][experiment]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            continue
        if not isinstance(exp, dict) or exp.get("config") != config:
            continue
        walls = [float(r["wall_s"]) for r in exp.get("runs") or [] if isinstance(r, dict)
                 and isinstance(r.get("wall_s"), (int, float)) and not r.get("error")]
        if rec.get("hardware") == hardware:
            mine += walls
        else:
            others.setdefault(str(rec.get("hardware")), []).extend(walls)
    if mine:
        return mine, f"median of {len(mine)} earlier run(s) on this hardware"
    if others:
        hw, walls = sorted(others.items(), key=lambda kv: -len(kv[1]))[0]
        return walls, f"median of {len(walls)} run(s) on {hw} (other hardware)"
    return [], "unknown: no earlier run of this experiment and config"


def plan(runner: Runner, papers: list[Paper], claim_ids: list[str] | None = None,
         results_dir: Path = RESULTS_DIR) -> list[Cell]:
    """Every cell that judging the papers' claims (or those named) needs at the runner's scale and device."""
    cells: dict[tuple[str, str, int], Cell] = {}
    estimates: dict[tuple[str, str], tuple[float | None, str]] = {}
    for paper in papers:
        runner.papers[paper.slug] = paper
        for claim in paper.spec.claims:
            if claim_ids and claim.id not in claim_ids:
                continue
            for experiment, seed in runner.cells(paper, claim):
                ident = (paper.slug, experiment, seed)
                if ident in cells:
                    cells[ident].claims.append(claim.id)
                    continue
                if (paper.slug, experiment) not in estimates:
                    walls, source = _earlier_walls(runner, paper, experiment, results_dir)
                    estimates[paper.slug, experiment] = (statistics.median(walls) if walls else None, source)
                expected, source = estimates[paper.slug, experiment]
                cached = not runner.rerun and runner.peek(paper, experiment, seed) is not None
                cells[ident] = Cell(paper.slug, experiment, seed, runner.scale, runner.device.type,
                                    runner.key(paper, experiment, seed), cached,
                                    paper.spec.experiments[experiment].timed, expected, source, [claim.id])
    return list(cells.values())


def totals(cells: list[Cell]) -> dict:
    """Counts and expected seconds: cells, cached, to run, timed, expected seconds of those to run, unknown."""
    todo = [c for c in cells if not c.cached]
    return {"cells": len(cells), "cached": len(cells) - len(todo), "to_run": len(todo),
            "timed": sum(c.timed for c in todo),
            "expected_s": round(sum(c.expected_s for c in todo if c.expected_s is not None), 1),
            "unknown": sum(c.expected_s is None for c in todo)}


def duration(seconds: float | None) -> str:
    """``42 s``, ``3.5 min``, ``1.2 h`` or ``unknown``."""
    if seconds is None:
        return "unknown"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def format_plan(cells: list[Cell], jobs: int = 1) -> list[str]:
    """The plan as text lines: one per cell, a subtotal per paper, and the total."""
    lines = [f"{'cell':<58} {'state':<7} {'expected':>9}  timed"]
    by_paper: dict[str, list[Cell]] = {}
    for c in cells:
        by_paper.setdefault(c.paper, []).append(c)
    for slug, mine in by_paper.items():
        for c in mine:
            lines.append(f"{c.id + ' [' + c.scale + ', ' + c.device + ']':<58} "
                         f"{'cached' if c.cached else 'to run':<7} "
                         f"{'-' if c.cached else duration(c.expected_s):>9}  {'yes' if c.timed else ''}")
        t = totals(mine)
        lines.append(f"  {slug}: {t['cells']} cells, {t['cached']} cached, {t['to_run']} to run, "
                     f"expected {duration(t['expected_s'])}" + (f" + {t['unknown']} unknown" if t["unknown"] else ""))
    t = totals(cells)
    serial = t["expected_s"]
    timed_s = sum(c.expected_s or 0 for c in cells if c.timed and not c.cached)
    wall = timed_s + (serial - timed_s) / max(1, jobs)
    if t["to_run"] and t["unknown"] == t["to_run"]:
        expected = "expected time unknown (no earlier run of these experiments and configs)"
    else:
        expected = (f"expected {duration(serial)} one at a time"
                    + (f", about {duration(wall)} with {jobs} jobs" if jobs > 1 else "")
                    + (f"; {t['unknown']} cell(s) of unknown duration" if t["unknown"] else ""))
    lines.append(f"total: {t['cells']} cells, {t['cached']} cached, {t['to_run']} to run ({t['timed']} timed, run "
                 f"alone), {expected}")
    return lines


def time_left(left: list[Cell]) -> str:
    """``about 3.5 min left``, ``done`` or ``time left unknown`` for the cells still to run (their recorded
    medians; cells of unknown duration are counted apart)."""
    if not left:
        return "done"
    known = [c.expected_s for c in left if c.expected_s is not None]
    if not known:
        return "time left unknown"
    unknown = len(left) - len(known)
    return f"about {duration(sum(known))} left" + (f" ({unknown} cell(s) of unknown duration)" if unknown else "")


class Progress:
    """One line per finished cell of a paper: cells done of total, and the time its remaining cells are expected
    to take (their recorded medians, ``time_left``)."""

    def __init__(self, cells: list[Cell], log: Callable[[str], None]):
        self.log = log
        self.cells = {(c.paper, c.experiment, c.seed): c for c in cells}
        self.done: set[tuple[str, str, int]] = set()

    def cell_done(self, paper: Paper | str, experiment: str, seed: int, run: SeedRun) -> None:
        slug = paper if isinstance(paper, str) else paper.slug
        ident = (slug, experiment, seed)
        if ident not in self.cells or ident in self.done:
            return
        self.done.add(ident)
        mine = [(i, c) for i, c in self.cells.items() if c.paper == slug]
        left = [c for i, c in mine if i not in self.done and not c.cached]
        state = "failed" if run.error else ("cached" if run.cached else f"{run.wall_s:.0f} s")
        n_done = sum(1 for i, _ in mine if i in self.done)
        self.log(f"[{slug}] cells {n_done}/{len(mine)} ({experiment} seed {seed}: {state}); {time_left(left)}")
