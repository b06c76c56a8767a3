"""Run a paper's experiments per seed at a scale, cache them, and decide each claim's verdict.

Claims that share an experiment (same function and config at the scale) run it once per seed. A seed's
metrics are cached on disk under ``.cache/bench/`` by (paper code hash, experiment, config, seed, device,
torch version, data variant), so a second run is instant; ``rerun=True`` ignores the cache. A failed or
diverged run is recorded as the verdict ``error`` with its message, never hidden.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from bench import cost, data, mutants, paths, provenance, registry
from bench.claims import Claim, Paper
from bench.execute import execute
from bench.files import atomic_write_text, cache_entry_problem, quarantine, safe_join
from bench.verdict import (
    ERROR,
    NOT_IMPLEMENTED,
    NOT_TESTABLE,
    Criterion,
    Summary,
    Verdict,
    about_gpu,
    at_chance_reason,
    decide,
    sanity_broken,
    shown_verdict,
    summarize,
)


def default_cache_dir() -> Path:
    """``<cache root>/bench``: ``$BENCH_CACHE_DIR/bench``, else the user's cache directory (``bench.paths``)."""
    return paths.cache_root() / "bench"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class SeedRun:
    """One run of an experiment at one seed: its metrics, or the error it raised."""

    seed: int
    metrics: dict[str, float] | None
    error: str | None = None
    wall_s: float = 0.0
    cached: bool = False
    datasets: dict = field(default_factory=dict)
    measured_at: str = ""  # when the metrics were measured (a cached run keeps its original date and commit)
    commit: str | None = None
    note: str | None = None  # said beside the verdict (a smoke run's model at chance)
    cost: dict = field(default_factory=dict)  # compute the cell took when measured (bench.cost); {} if unknown


@dataclass
class ClaimResult:
    """A claim's outcome at a scale: verdict, per-metric summaries, the runs behind them, or why it was skipped."""

    paper: str
    claim: Claim
    scale: str
    verdict: Verdict | None = None
    summaries: dict[str, Summary] = field(default_factory=dict)
    runs: list[SeedRun] = field(default_factory=list)
    skipped: str | None = None
    # the runs of the other experiments named in the claim's test.context (shown beside it, not judged)
    context_runs: dict[str, list[SeedRun]] = field(default_factory=dict)
    hardware: str | None = None  # the machine's name in results files (expect may name one)

    @property
    def criteria(self) -> dict[str, str]:
        return self.claim.test.all_criteria if self.claim.test else {}

    def compute(self) -> dict:
        """The compute this verdict took: its cells' costs summed (the context experiments' cells too)."""
        runs = [*self.runs, *(r for rs in self.context_runs.values() for r in rs)]
        return cost.total([r.cost for r in runs])

    def measured(self) -> str:
        """Measured values as 'metric = mean [lo, hi]' (or the point value for one seed)."""
        parts = []
        for m, s in self.summaries.items():
            parts.append(f"{m} = {s.mean:.4g}" if s.point else f"{m} = {s.mean:.4g} [{s.lo:.4g}, {s.hi:.4g}]")
        return "; ".join(parts)

    def line(self) -> str:
        """One line: claim, paper value, measured with interval, criterion, verdict."""
        if self.skipped:
            return f"{self.paper}::{self.claim.id}: skipped ({self.skipped})"
        v = self.verdict
        if v.verdict == NOT_TESTABLE:
            return f"{self.paper}::{self.claim.id}: not_testable ({self.claim.not_testable})"
        if v.verdict == NOT_IMPLEMENTED:
            return f"{self.paper}::{self.claim.id}: not_implemented ({v.reason})"
        if v.verdict == ERROR:
            return f"{self.paper}::{self.claim.id}: error ({v.reason})"
        crit = "; ".join(f"{m} {c}" for m, c in self.criteria.items())
        n = len(self.runs)
        tag = " (point verdict, 1 seed)" if v.point else f" ({n} seeds)"
        if self.scale != "smoke" and not self.claim.accepts(self.scale, v.verdict, self.hardware):
            tag += f" [expected {self.claim.expected(self.scale, self.hardware)}]"
        shown = shown_verdict(v.verdict, self.claim.evidence, about_gpu(self.claim))
        return (f"{self.paper}::{self.claim.id}: paper {_compact(self.claim.paper_value)} | measured "
                f"{self.measured()} | criterion {crit} | {shown}{tag}" + (f": {v.reason}" if v.reason else ""))

    def as_dict(self) -> dict:
        """The JSON record of this claim in a results file."""
        c = self.claim
        out = {"statement": c.statement, "source": c.source, "tier": c.tier, "paper_setting": c.paper_setting,
               "paper_value": c.paper_value, "expect": c.expected(self.scale, self.hardware) if c.test else None,
               "because": c.because, "evidence": c.evidence, "headline": c.headline}
        if self.skipped:
            return {**out, "verdict": None, "skipped": self.skipped}
        if c.not_testable:
            return {**out, "verdict": NOT_TESTABLE, "reason": c.not_testable}
        if c.not_implemented:
            return {**out, "verdict": NOT_IMPLEMENTED, "reason": not_implemented_reason(c)}
        return {**out, "experiment": c.test.experiment, "criteria": self.criteria,
                "verdict": self.verdict.verdict, "point_verdict": self.verdict.point, "reason": self.verdict.reason,
                "seeds_needed": self.verdict.seeds_needed, "seeds": [r.seed for r in self.runs],
                "verdict_rule": self.verdict.rule,
                **({"fixed_n_verdict": self.verdict.fixed_n_verdict} if self.verdict.fixed_n_verdict else {}),
                "metrics": {m: s.as_dict() for m, s in self.summaries.items()},
                "compute": self.compute(),
                "errors": {str(r.seed): r.error for r in self.runs if r.error}}


def not_implemented_reason(claim: Claim) -> str:
    """'<reason>; it would take: <needs>' for a claim that is testable here but not built yet."""
    n = claim.not_implemented
    return f"{n.reason.strip()}; it would take: {n.needs.strip()}"


def _compact(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_compact(v)}" for k, v in value.items()) + "}"
    return str(value)


class Runner:
    """Runs experiments and judges claims at one scale on one device, with a per-seed result cache."""

    def __init__(self, scale: str = "cpu", device: str = "auto", seeds: int | None = None, rerun: bool = False,
                 cache_dir: Path | None = None, log: Callable[[str], None] = _stderr, mutant: str | None = None,
                 history: Callable[[str, str], list[int]] | None = None, offline: bool = False):
        self.scale = scale
        # a broken variant of the papers' method (bench/mutants.py) that every run of this runner is made under
        self.mutant = mutant
        # (paper, experiment) -> the seed counts of earlier results at this scale and hardware; a count raised after
        # a result makes the verdict the anytime-valid one (bench.verdict.decide, sequential=True)
        self.history = history or (lambda slug, experiment: [])
        self.device = provenance.resolve_device(device)
        self.seeds_override = seeds
        self.rerun = rerun
        self.cache_dir = cache_dir or default_cache_dir()
        self.log = log
        self._memo: dict[str, SeedRun] = {}
        self._code: dict[str, tuple[str, str | None]] = {}  # slug -> (code hash, commit) when first used
        self.results: dict[str, dict[str, ClaimResult]] = {}  # slug -> claim id -> result
        self.papers: dict[str, Paper] = {}
        self.wall_s: dict[str, float] = {}
        # set by a driver whose cells ran elsewhere (bench.executors): a cell missing from the cache is then an
        # error, never run here behind the driver's back
        self.offline = offline
        # wraps each measurement (pytest's conftest lifts its output capture so progress bars reach the terminal)
        self.around_execute: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
        # called after each cell is run or read: (paper, experiment, seed, run) (bench.cells.Progress)
        self.on_cell: Callable[[Paper, str, int, SeedRun], None] | None = None

    # -- experiments -------------------------------------------------------------------------------------

    def seeds_for(self, paper: Paper, experiment: str) -> list[int] | None:
        """The seeds to run ``experiment`` with at this scale, or None when it has no config at this scale."""
        got = paper.scale_config(experiment, self.scale)
        if got is None:
            return None
        return list(range(self.seeds_override or got[1]))

    def code_state(self, paper: Paper) -> tuple[str, str | None]:
        """The paper's code hash and the commit (``-dirty`` when code differed), taken once when first used.

        Snapshotting matters for long runs: files edited while a run goes on must not relabel the results of
        the code the run has already loaded.
        """
        if paper.slug not in self._code:
            state = provenance.git_state()
            commit = state["commit"] and state["commit"] + ("-dirty" if state["dirty"] else "")
            self._code[paper.slug] = (provenance.code_hash(paper.path), commit)
        return self._code[paper.slug]

    def _key(self, paper: Paper, experiment: str, cfg: registry.ExperimentConfig | dict, seed: int,
             device: str | None = None) -> str:
        config = cfg if isinstance(cfg, dict) else dataclasses.asdict(cfg)
        fields = {"code": self.code_state(paper)[0], "experiment": experiment,
                  "function": paper.spec.experiments[experiment].function or experiment,
                  "config": config, "seed": seed, "device": device or self.device.type,
                  "torch": torch.__version__, "cifar10_variant": os.environ.get("BENCH_CIFAR10_VARIANT", "auto"),
                  "cifar10_canonical_present": (data.data_dir() / "cifar-10-batches-py").is_dir()}
        if self.mutant:  # only then: the intact runs' keys are those of a runner that knows nothing of mutants
            fields |= {"mutant": self.mutant, "mutants_code": mutants.mutants_hash(paper)}
        return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:24]

    def key(self, paper: Paper, experiment: str, seed: int) -> str:
        """The cache key of one cell at this runner's scale and device."""
        cfg, _ = paper.scale_config(experiment, self.scale)
        return self._key(paper, experiment, cfg, seed)

    def preset(self, paper: Paper, experiment: str, seed: int, run: SeedRun) -> None:
        """Use ``run`` for this cell instead of running or reading it (a cell that failed under an executor)."""
        self._memo[self.key(paper, experiment, seed)] = run

    def peek(self, paper: Paper, experiment: str, seed: int) -> dict | None:
        """The cell's cache entry when it is there and usable, else None; nothing is moved or logged."""
        cfg, _ = paper.scale_config(experiment, self.scale)
        key = self._key(paper, experiment, cfg, seed)
        rec, problem = self._load_entry(paper, experiment, cfg, seed, self.cache_path(paper, experiment, key), key)
        return None if problem else rec

    def _load_entry(self, paper: Paper, experiment: str, cfg: registry.ExperimentConfig, seed: int, path: Path,
                    key: str) -> tuple[dict | None, str]:
        """The entry at ``path`` and why it cannot stand for this cell ('' when it can)."""
        declared = registry.info(paper.experiment_fn(experiment)).metrics
        try:
            rec = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as e:
            return None, f"not readable as JSON ({type(e).__name__}: {e})"
        return rec, cache_entry_problem(rec, seed, dataclasses.asdict(cfg), self.device.type, declared, key)

    def cache_path(self, paper: Paper, experiment: str, key: str) -> Path:
        """Where a seed run is cached; every part is an identifier, and the path stays inside the cache."""
        return safe_join(self.cache_dir, paper.slug, experiment, f"{key}.json")

    def run_seed(self, paper: Paper, experiment: str, seed: int) -> SeedRun:
        """Run (or fetch from the cache) one experiment at one seed.

        A cache entry is used only when it parses and matches what was asked (seed, config, device, exactly the
        declared metrics, each finite); anything else is moved aside to ``<cache>/.quarantine/`` with a line saying
        why, and the seed runs again. A run that breaks its experiment's sanity bounds is an ``error``.
        """
        cfg, _ = paper.scale_config(experiment, self.scale)
        key = self._key(paper, experiment, cfg, seed)
        if key in self._memo:
            return self._memo[key]
        path = self.cache_path(paper, experiment, key)
        run = None if self.rerun and not self.offline else self._read_cached(paper, experiment, cfg, seed, path, key)
        if run is None and self.offline:
            run = SeedRun(seed, None, f"its cell ran under an executor, but no result is in the cache under key {key} "
                                      f"({self.cache_dir}): was the cache on a filesystem the nodes share?")
        elif run is None:
            run = self._execute(paper, experiment, cfg, seed)
            if run.error is None:
                entry = {"metrics": run.metrics, "wall_s": run.wall_s, "datasets": run.datasets,
                         "config": dataclasses.asdict(cfg), "seed": seed, "device": self.device.type,
                         "measured_at": run.measured_at, "commit": run.commit, "cost": run.cost,
                         "key": key, "paper": paper.slug, "experiment": experiment,
                         "code_hash": self.code_state(paper)[0], "hardware": provenance.hardware_name(self.device),
                         "torch": torch.__version__, "mutant": self.mutant}
                try:  # same key, same content: a rename needs no lock
                    atomic_write_text(path, json.dumps(entry, allow_nan=False))
                except OSError as e:  # a full disk or read-only cache costs the cache entry, not the result
                    self.log(f"[{paper.slug}] {experiment} seed {seed}: could not be cached ({e.strerror or e}); "
                             f"the result stands, the next run measures it again")
        broken = sanity_broken(run.metrics, paper.spec.experiments[experiment].sanity) if run.error is None \
            else []
        if broken and self.scale == "smoke":
            run = dataclasses.replace(run, note=f"at smoke scale a model is at chance ({'; '.join(broken)}): this "
                                                f"run proves the path, not the training")
        elif broken:
            run = dataclasses.replace(run, error=at_chance_reason(broken))
            self.log(f"[{paper.slug}] {experiment} seed {seed}: error: {run.error}")
        self._memo[key] = run
        if self.on_cell is not None:
            self.on_cell(paper, experiment, seed, run)
        return run

    def _read_cached(self, paper: Paper, experiment: str, cfg: registry.ExperimentConfig, seed: int,
                     path: Path, key: str) -> SeedRun | None:
        """The cached run at ``path``, or None when there is none or it is unusable (then quarantined)."""
        if not path.is_file():
            return None
        rec, problem = self._load_entry(paper, experiment, cfg, seed, path, key)
        if problem:
            aside = quarantine(path, self.cache_dir)
            self.log(f"[{paper.slug}] {experiment} seed {seed}: the cache entry {path.name} is unusable ({problem});"
                     f" moved to {aside} and measured again")
            return None
        if not self.offline:
            self.log(f"[{paper.slug}] {experiment} seed {seed}: cached ({rec['wall_s']:.1f} s when measured)")
        declared = registry.info(paper.experiment_fn(experiment)).metrics
        return SeedRun(seed, {m: float(rec["metrics"][m]) for m in declared}, None, float(rec["wall_s"]), True,
                       rec.get("datasets") or {}, str(rec.get("measured_at") or ""), rec.get("commit"),
                       cost=rec.get("cost") if isinstance(rec.get("cost"), dict) else {})

    def _execute(self, paper: Paper, experiment: str, cfg: registry.ExperimentConfig, seed: int) -> SeedRun:
        self.log(f"[{paper.slug}] {experiment} seed {seed} on {self.device.type} at {self.scale} scale"
                 f"{' under mutant ' + self.mutant if self.mutant else ''}: running")
        under = f" under mutant {self.mutant}" if self.mutant else ""
        with (mutants.load(paper)[self.mutant]() if self.mutant else contextlib.nullcontext()), \
                self.around_execute(), cost.measure(self.device) as spent:
            out = execute(paper.experiment_fn(experiment), cfg, seed, self.device, f"{paper.slug}.{experiment}{under}")
        self.log(f"[{paper.slug}] {experiment} seed {seed}: {'failed: ' + out.error if out.error else 'done'} "
                 f"in {out.wall_s:.1f} s")
        return SeedRun(seed, out.metrics, out.error, out.wall_s, False, out.datasets, provenance.now(),
                       self.code_state(paper)[1], cost=spent)

    # -- claims ------------------------------------------------------------------------------------------

    def evaluate(self, paper: Paper, claim: Claim) -> ClaimResult:
        """Run what the claim needs (once, shared with other claims) and decide its verdict."""
        cached = self.results.get(paper.slug, {}).get(claim.id)
        if cached is not None:
            return cached
        self.papers[paper.slug] = paper
        self.code_state(paper)
        result = ClaimResult(paper.slug, claim, self.scale, hardware=provenance.hardware_name(self.device))
        start = time.perf_counter()
        if claim.not_testable:
            result.verdict = Verdict(NOT_TESTABLE, reason=claim.not_testable)
        elif claim.not_implemented:
            result.verdict = Verdict(NOT_IMPLEMENTED, reason=not_implemented_reason(claim))
        else:
            result.skipped = self._skip_reason(paper, claim)
            if result.skipped is None:
                self._judge(paper, claim, result)
        self.wall_s[paper.slug] = self.wall_s.get(paper.slug, 0.0) + time.perf_counter() - start
        self.results.setdefault(paper.slug, {})[claim.id] = result
        return result

    def _skip_reason(self, paper: Paper, claim: Claim) -> str | None:
        exp = claim.test.experiment
        if self.seeds_for(paper, exp) is None:
            defined = ", ".join(paper.spec.experiments[exp].scales)
            return f"no {self.scale} scale for experiment {exp} (defined at: {defined})"
        needs = claim.test.devices or registry.info(paper.experiment_fn(exp)).devices
        if self.device.type not in needs:
            return f"needs device {' or '.join(needs)}; this run is on {self.device.type}"
        return None

    def _judge(self, paper: Paper, claim: Claim, result: ClaimResult) -> None:
        exp = claim.test.experiment
        result.runs = [self.run_seed(paper, exp, s) for s in self.seeds_for(paper, exp)]
        failed = [r for r in result.runs if r.error]
        if failed:
            result.verdict = Verdict(ERROR, reason=f"seed {failed[0].seed}: {failed[0].error}")
            return
        criteria = {m: Criterion.parse(c) for m, c in claim.test.all_criteria.items()}
        result.summaries = {m: summarize([r.metrics[m] for r in result.runs]) for m in criteria}
        sequential = self.raised_after_look(paper, exp, len(result.runs))
        result.verdict = decide(result.summaries, criteria, sequential=sequential)
        notes = sorted({r.note for r in result.runs if r.note})
        if notes:
            v = result.verdict
            result.verdict = Verdict(v.verdict, v.point, "; ".join([*([v.reason] if v.reason else []), *notes]),
                                     v.seeds_needed)
        for other in self.context_experiments(paper, claim):  # figures shown beside the verdict: run them too
            result.context_runs[other] = [self.run_seed(paper, other, s) for s in self.seeds_for(paper, other)]

    def context_experiments(self, paper: Paper, claim: Claim) -> list[str]:
        """The other experiments named in the claim's ``test.context`` that can run at this scale and device."""
        out: list[str] = []
        for ref in claim.test.context:
            other = ref.partition(".")[0]
            if other == claim.test.experiment or other in out or self.seeds_for(paper, other) is None:
                continue
            if self.device.type in registry.info(paper.experiment_fn(other)).devices:
                out.append(other)
        return out

    def cells(self, paper: Paper, claim: Claim) -> list[tuple[str, int]]:
        """The (experiment, seed) cells judging ``claim`` runs here, in the order ``evaluate`` runs them: none
        for a claim that is not tested or is skipped at this scale or on this device."""
        if claim.not_testable or claim.not_implemented or self._skip_reason(paper, claim) is not None:
            return []
        exps = [claim.test.experiment, *self.context_experiments(paper, claim)]
        return [(e, s) for e in exps for s in self.seeds_for(paper, e)]

    def raised_after_look(self, paper: Paper, experiment: str, n: int) -> bool:
        """Whether results of ``experiment`` were seen at this scale with fewer seeds than ``n`` (claims.yaml's
        ``earlier_seeds`` or the results file's history): then verdicts are taken on the confidence sequence."""
        earlier = [*paper.earlier_seeds(experiment, self.scale), *self.history(paper.slug, experiment)]
        return any(k < n for k in earlier)

    def run_paper(self, paper: Paper, claim_ids: list[str] | None = None) -> list[ClaimResult]:
        """Evaluate every claim of the paper (or those named), logging one line per claim."""
        out = []
        for claim in paper.spec.claims:
            if claim_ids and claim.id not in claim_ids:
                continue
            res = self.evaluate(paper, claim)
            self.log(res.line())
            out.append(res)
        return out
