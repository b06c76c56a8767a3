"""Mutants: broken variants of a paper's method, to show that its verdicts could have come out otherwise.

A check that cannot fail is worth nothing. Each paper declares, in ``claims.yaml``, one or more mutants: the kind
of mistake a reimplementation makes (TernGrad without stochastic rounding, SSL's group Lasso replaced by plain L2,
ADMM without its dual update, Force Regularization with the force's sign flipped), and the claims each should
break. ``papers/<slug>/mutants.py`` implements them as context managers that patch the paper's own code for
the length of a run, with :func:`unittest.mock.patch.object`::

    from unittest import mock
    from bench.mutants import mutant
    from papers.terngrad_wen2017 import method

    @mutant("deterministic-rounding")
    def deterministic_rounding():
        \"\"\"Ternarize by rounding |g|/s to the nearest of 0 and 1 instead of sampling: biased gradients.\"\"\"
        with mock.patch.object(method, "ternarize", _rounded_ternarize):
            yield

``python -m bench mutants --paper GLOB --scale S`` runs each mutant through the ordinary harness (the runner and
its cache: a mutant's runs are keyed by its name and by the hash of ``mutants.py``), judges the claims of the
experiments it touches, judges the intact code on the same seeds, and writes
``reference_results/<slug>/mutants-<scale>-<hardware>.json``. A claim *detects* a mutant when its verdict under the
mutant differs from its verdict on the intact code. A mutant whose runs are refused by the health checks (at
chance, diverged) is *caught by the harness*, which is not a detection by the claim.

``mutants.py`` stays out of the paper's code hash (``bench.provenance.code_files``): adding a mutant does not make
the intact results stale. Patching is done in the process that runs the experiment; an experiment that spawns
worker processes must be patched where the workers look the function up (``mutants.py`` says how, per paper).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

MUTANTS_FILE = "mutants.py"

# outcome of a claim under a mutant
DETECTED, MISSED, CAUGHT, NO_INTACT = "detected", "missed", "caught_by_harness", "no_intact_verdict"


def mutant(name: str) -> Callable:
    """Register a generator function (patch, ``yield``, undo) or a context-manager factory as mutant ``name``."""

    def register(fn: Callable) -> Callable[[], AbstractContextManager]:
        factory = contextlib.contextmanager(fn) if inspect.isgeneratorfunction(fn) else fn
        factory.__mutant_name__ = name
        factory.__mutant_doc__ = inspect.getdoc(fn) or ""
        return factory

    return register


class MutantError(ValueError):
    """A paper's mutants that do not match its claims file (one line naming the file and the mutant)."""


def _module(paper_dir: Path, slug: str):
    from bench.claims import PAPERS_DIR

    if Path(paper_dir).resolve().parent == PAPERS_DIR:
        return importlib.import_module(f"papers.{slug}.mutants")
    name = f"_bench_external_mutants_{slug}_{abs(hash(str(Path(paper_dir).resolve())))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(paper_dir) / MUTANTS_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load(paper) -> dict[str, Callable[[], AbstractContextManager]]:
    """``{name: factory}`` of the paper's mutants; checked against the claims file's ``mutants:`` both ways."""
    path = paper.path / MUTANTS_FILE
    declared = [m.name for m in paper.spec.mutants]
    if not path.is_file():
        if declared:
            raise MutantError(f"{paper.claims_path}: mutant {declared[0]}: field name: declared, but "
                              f"{path} does not exist")
        return {}
    try:
        module = _module(paper.path, paper.slug)
    except Exception as e:  # an import error is reported with the file it concerns
        raise MutantError(f"{path}: cannot import: {type(e).__name__}: {e}") from e
    found = {f.__mutant_name__: f for f in vars(module).values() if callable(f) and hasattr(f, "__mutant_name__")}
    for name in declared:
        if name not in found:
            raise MutantError(f"{paper.claims_path}: mutant {name}: field name: no @mutant({name!r}) in {path.name} "
                              f"(it defines: {', '.join(sorted(found)) or 'none'})")
    for name in found:
        if name not in declared:
            raise MutantError(f"{path}: mutant {name}: not declared under mutants: in {paper.claims_path.name} "
                              f"(declare it with its description and the claims it should break)")
    return found


def mutants_hash(paper) -> str:
    """sha256 (first 16 hex digits) of ``mutants.py``: part of a mutant run's cache key."""
    path = paper.path / MUTANTS_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else ""


def experiments_touched(paper, name: str) -> list[str]:
    """The experiments a mutant runs: those of the claims it should break, in the claims file's order."""
    spec = next(m for m in paper.spec.mutants if m.name == name)
    wanted = {paper.claim(cid).test.experiment for cid in spec.breaks}
    return [e for e in paper.spec.experiments if e in wanted]


def claims_judged(paper, name: str) -> list:
    """Every tested claim of the experiments a mutant runs (not only those it should break)."""
    touched = set(experiments_touched(paper, name))
    return [c for c in paper.spec.claims if c.test is not None and c.test.experiment in touched]


def outcome(intact: str | None, under_mutant: str | None) -> str:
    """How a claim fared against a mutant, from its verdict on the intact code and under the mutant."""
    if intact in (None, "error"):
        return NO_INTACT
    if under_mutant == "error":
        return CAUGHT
    return DETECTED if under_mutant != intact else MISSED


def _figures(result) -> dict:
    """``{metric: {mean, ci95, n}}`` of a judged claim (empty for a skipped or failed one)."""
    return {m: {"mean": s.mean, "ci95": [s.lo, s.hi], "n": s.n} for m, s in result.summaries.items()}


def evaluate(paper, scale: str, device: str = "auto", rerun: bool = False, cache_dir: Path | None = None,
             log: Callable[[str], None] | None = None, only: list[str] | None = None) -> dict:
    """Run the paper's mutants at ``scale`` and judge, per mutant and claim, whether the claim detects it.

    Returns the ``mutants`` part of a mutants file: per mutant its description, the claims it should break, the
    seeds, and per judged claim the verdict on the intact code, the verdict under the mutant and the outcome.
    The intact verdicts come from the ordinary cache (the same seeds as the mutant's); ``rerun`` re-measures
    the mutant's runs only.
    """
    import time

    from bench.runner import Runner, _stderr

    log = log or _stderr
    factories = load(paper)
    unknown = [n for n in only or [] if n not in factories]
    if unknown:
        raise MutantError(f"{paper.claims_path}: no mutant {unknown[0]!r} (declared: "
                          f"{', '.join(m.name for m in paper.spec.mutants) or 'none'})")
    out = {}
    for spec in paper.spec.mutants:
        if only and spec.name not in only:
            continue
        start = time.perf_counter()
        log(f"[{paper.slug}] mutant {spec.name}: {spec.description}")
        intact = Runner(scale, device, spec.seeds, False, cache_dir, log)
        broken = Runner(scale, device, spec.seeds, rerun, cache_dir, log, mutant=spec.name)
        claims = {}
        for c in claims_judged(paper, spec.name):
            a, b = intact.evaluate(paper, c), broken.evaluate(paper, c)
            if a.skipped or b.skipped:
                claims[c.id] = {"evidence": c.evidence, "should_break": c.id in spec.breaks,
                                "skipped": a.skipped or b.skipped}
                continue
            va, vb = a.verdict.verdict, b.verdict.verdict
            claims[c.id] = {"evidence": c.evidence, "should_break": c.id in spec.breaks, "intact": va,
                            "mutant": vb, "outcome": outcome(va, vb), "criteria": c.test.all_criteria,
                            "intact_figures": _figures(a), "mutant_figures": _figures(b),
                            "mutant_reason": b.verdict.reason, "seeds": [r.seed for r in b.runs]}
            log(f"[{paper.slug}] mutant {spec.name}: {c.id}: intact {va}, under the mutant {vb}: "
                f"{claims[c.id]['outcome']}")
        out[spec.name] = {"description": spec.description, "breaks": list(spec.breaks),
                          "seeds": spec.seeds, "experiments": experiments_touched(paper, spec.name),
                          "claims": claims, "wall_s": round(time.perf_counter() - start, 1)}
    return out


def testable_at(paper, claim, scale: str, device: str) -> bool:
    """Whether the claim's experiment has a config at ``scale`` and runs on ``device`` (cpu or cuda)."""
    from bench import registry

    if claim.test is None or paper.scale_config(claim.test.experiment, scale) is None:
        return False
    needs = claim.test.devices or registry.info(paper.experiment_fn(claim.test.experiment)).devices
    return device in needs


def summary(paper, mutant_records: dict, scale: str = "cpu", device: str = "cpu") -> dict:
    """Per evidence kind, the claims tested at this scale and device and those that detect at least one mutant.

    ``weak``: measured claims tested here that detect no mutant (nothing has shown that they can fail);
    ``not_here``: measured claims with nothing to run at this scale or on this device (no mutant can say).
    """
    detecting = {cid for m in mutant_records.values() for cid, c in m["claims"].items()
                 if c.get("outcome") == DETECTED}
    out = {}
    for kind in ("measured", "simulated", "derived"):
        ids = [c.id for c in paper.spec.claims if c.evidence == kind and testable_at(paper, c, scale, device)]
        out[kind] = {"claims": ids, "detecting": [i for i in ids if i in detecting]}
    out["weak"] = [i for i in out["measured"]["claims"] if i not in detecting]
    out["not_here"] = [c.id for c in paper.spec.claims if c.evidence == "measured"
                       and not testable_at(paper, c, scale, device)]
    missed = [(name, cid) for name, m in mutant_records.items() for cid in m["breaks"]
              if m["claims"].get(cid, {}).get("outcome") != DETECTED]
    out["expected_breaks_missed"] = [f"{name}: {cid}" for name, cid in missed]
    return out
