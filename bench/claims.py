"""``claims.yaml``: its schema, loading with one-line errors, and discovery of papers by folder.

A paper is a folder ``papers/<slug>/`` with ``claims.yaml`` and ``experiment.py``; nothing else in the suite
needs an edit to add one. A malformed file is rejected with one line naming the file, the claim id and the
field (:class:`ClaimsError`). The file's shape::

    paper: {title, authors, venue, arxiv, code}
    experiments:                      # configs per scale, shared by the claims that use the experiment
      lenet_ssl:
        function: lenet_ssl           # optional; defaults to the key
        scales:
          smoke: {seeds: 1, epochs: 0.05}
          cpu:   {seeds: 3, epochs: 2}
          full:  {seeds: 5, earlier_seeds: [3]}   # 3 seeds were looked at first: judged sequentially
    claims:
      - id: lenet-filter-channel
        statement: ...
        source: Table 1
        paper_value: {...}
        tier: A
        test: {experiment: lenet_ssl, criteria: {flops_kept: "<= 0.2", error_increase_pp: "<= 0.3"}}
        expect: reproduced            # or not_reproduced / inconclusive with because:, or per scale:
                                      # {cpu: inconclusive, full: reproduced}
      - id: alexnet-accuracy
        tier: C
        not_testable: needs ImageNet
      - id: resnet-depth
        tier: A
        not_implemented: {reason: ..., needs: ...}   # testable here, not built yet: a verdict of its own
    mutants:                          # broken variants of the method (papers/<slug>/mutants.py, bench/mutants.py)
      - name: l2-instead-of-group-lasso
        description: ...
        breaks: [lenet-filter-channel]

Every tested claim declares its ``evidence``: ``measured`` (a measurement of the paper's method here),
``simulated`` (figures of a simulated device, bench/hardware) or ``derived`` (follows from the suite's own code or
arithmetic, such as a FLOP bound or a property of an encoder: it cannot fail, and is no evidence that the paper
holds). One or two claims per paper carry ``headline: true``. An experiment may name its ``baseline`` (the metric
of the unmodified network and the paper's value of it), by which reports mark a claim measured far from the
paper's regime (``bench.regime``).
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import json
import os
import re
import sys
import typing
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from bench import registry
from bench.verdict import Criterion
from bench.yamlsafe import YAMLStrictError, load_yaml

PAPERS_DIR = Path(__file__).resolve().parent.parent / "papers"
SCALES = ("smoke", "cpu", "full")
SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
CLAIM_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
MAX_SEEDS = 100
EXPECT_KEY = re.compile(r"^(smoke|cpu|full)(@[a-z0-9][a-z0-9\-]*)?$")
ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")


class ClaimsError(ValueError):
    """A claims file that does not validate; the message is one line naming file, claim and field."""

    def __init__(self, message: str):  # one line, even when a key in the file holds a line break
        super().__init__(str(message).replace("\r", "\\r").replace("\n", "\\n"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PaperMeta(_Strict):
    title: str
    authors: list[str]
    venue: str
    arxiv: str | None = None
    code: str | None = None
    url: str | None = None

    @field_validator("code", "url")
    @classmethod
    def _http_link(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s<>'\"]+$", v):
            raise ValueError(f"{v!r} is not an http(s) link (reports render only http and https links)")
        return v

    @field_validator("arxiv")
    @classmethod
    def _arxiv_id(cls, v: str | None) -> str | None:
        if v is not None and not ARXIV_ID.match(v):
            raise ValueError(f"{v!r} is not an arXiv id such as 1608.03665v4")
        return v


class ExperimentSpec(_Strict):
    function: str | None = None
    scales: dict[str, dict[str, Any]]
    # set when every figure of the experiment comes from a simulated device (bench/hardware): the model, its
    # version and parameters; `show` and the reports label its figures "simulated"
    simulated: str | None = None
    # the unmodified network's metric and the paper's value of it (bench.regime marks claims far from it)
    baseline: Baseline | None = None
    # bounds a healthy run always meets, {metric: criterion}: a trained model above chance (e.g. accuracy "> 20"
    # for 10 classes). A seed that breaks one is an `error` with the reason, never a verdict (bench/health.py).
    sanity: dict[str, str] = Field(default_factory=dict)
    # the experiment measures wall time (a speedup, a step time): its cells run alone on a machine (the `local`
    # executor runs nothing beside them, Slurm gets --exclusive), never beside another cell (bench/executors.py)
    timed: StrictBool = False

    @field_validator("sanity")
    @classmethod
    def _sanity_criteria(cls, v: dict[str, str]) -> dict[str, str]:
        for metric, text in v.items():
            try:
                Criterion.parse(text)
            except ValueError as e:
                raise ValueError(f"sanity bound of {metric}: {e}") from None
        return v

    @field_validator("scales")
    @classmethod
    def _known_scales(cls, v: dict[str, dict]) -> dict[str, dict]:
        for name, cfg in v.items():
            if name not in SCALES:
                raise ValueError(f"unknown scale {name!r} (scales are {', '.join(SCALES)})")
            if cfg is not None and not isinstance(cfg, dict):
                raise ValueError(f"scale {name!r}: expected a mapping of config values, not {type(cfg).__name__}")
            seeds = (cfg or {}).get("seeds", 1)
            if not isinstance(seeds, int) or isinstance(seeds, bool) or not 1 <= seeds <= MAX_SEEDS:
                raise ValueError(f"scale {name!r}: seeds must be an integer from 1 to {MAX_SEEDS}, not {seeds!r}")
            earlier = (cfg or {}).get("earlier_seeds", [])
            if not isinstance(earlier, list) or not all(
                    isinstance(k, int) and not isinstance(k, bool) and 1 <= k < seeds for k in earlier):
                raise ValueError(f"scale {name!r}: earlier_seeds lists the seed counts whose results were seen before "
                                 f"the count was raised to {seeds}: integers from 1 to {seeds - 1}, not {earlier!r}")
        return v


EVIDENCE = ("measured", "simulated", "derived")
Evidence = Literal["measured", "simulated", "derived"]
MUTANT_NAME = re.compile(r"^[a-z][a-z0-9\-]*$")


class Baseline(_Strict):
    """The metric of an experiment's unmodified network and the paper's value of it: the regime of its claims."""

    metric: str
    kind: Literal["error_pct", "accuracy_pct"]
    paper: float
    source: str


class NotImplementedSpec(_Strict):
    """A claim testable with what the suite has (data, models, hardware) that is not built yet."""

    reason: str
    needs: str  # what it would take


class MutantSpec(_Strict):
    """A broken variant of the paper's method (``papers/<slug>/mutants.py``) and the claims it should break."""

    name: str
    description: str
    breaks: list[str] = Field(min_length=1)
    # seeds per experiment under the mutant (default: the experiment's at the scale); the intact code is judged on
    # the same seeds, so the two verdicts compare like with like
    seeds: int | None = Field(default=None, ge=1, le=MAX_SEEDS)

    @field_validator("name")
    @classmethod
    def _name_form(cls, v: str) -> str:
        if not MUTANT_NAME.match(v):
            raise ValueError(f"mutant name {v!r} must be lower-case letters, digits and '-'")
        return v


class ClaimTest(_Strict):
    experiment: str
    metric: str | None = None
    criterion: str | None = None
    criteria: dict[str, str] | None = None
    devices: list[Literal["cpu", "cuda"]] | None = None  # where the claim can be tested; default: anywhere
    # set when the figures come from a simulated device (bench/hardware): the model, its version and inputs.
    # Reports and `show` label such results "simulated" instead of "measured".
    simulated: str | None = None
    # figures shown next to the verdict without a criterion, as "experiment.metric" (e.g. a speedup's FLOP bound
    # and its simulated value beside the measured one)
    context: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_form(self) -> ClaimTest:
        single = self.metric is not None or self.criterion is not None
        if single and self.criteria is not None:
            raise ValueError("give either metric + criterion or criteria, not both")
        if single and (self.metric is None or self.criterion is None):
            raise ValueError("metric and criterion go together")
        if not single and not self.criteria:
            raise ValueError("missing metric + criterion (or criteria)")
        for text in self.all_criteria.values():
            Criterion.parse(text)
        return self

    @property
    def all_criteria(self) -> dict[str, str]:
        """The claim's criteria as ``{metric: criterion}``, whichever form the file used."""
        return dict(self.criteria) if self.criteria is not None else {self.metric: self.criterion}


Expectation = Literal["reproduced", "not_reproduced", "inconclusive"]
# Two neighbouring verdicts, for a measurement that sits on its criterion's bound on the reference hardware
# and lands on either side from one session to the next (timings shift with machine state more than within
# one session); never reproduced and not_reproduced together, which would accept nearly anything.
Expectations = Expectation | list[Expectation]


class Claim(_Strict):
    id: str
    statement: str
    source: str
    tier: Literal["A", "B", "C"]
    paper_setting: dict[str, Any] = Field(default_factory=dict)
    paper_value: Any = None
    test: ClaimTest | None = None
    not_testable: str | None = None
    not_implemented: NotImplementedSpec | None = None
    evidence: Evidence | None = None
    headline: StrictBool = False
    expect: Expectations | dict[str, Expectations] | None = None
    because: str | None = None
    notes: str | None = None

    def expected_verdicts(self, scale: str, hardware: str | None = None) -> tuple[str, ...]:
        """The verdicts this claim may get at ``scale`` (``reproduced`` unless the file says otherwise).

        ``expect`` may name a machine: ``{cpu: inconclusive, cpu@cpu-amd-epyc-2c: reproduced}`` is what a claim
        that depends on the processor (a CPU timing, a training trajectory near its bound) records when two
        machines measured different verdicts; the key ``<scale>@<hardware>`` wins over ``<scale>`` on that
        machine (hardware as in the results file's name).
        """
        if isinstance(self.expect, dict):
            value = self.expect.get(f"{scale}@{hardware}") if hardware else None
            value = value if value is not None else self.expect.get(scale, "reproduced")
        else:
            value = self.expect
        value = value or "reproduced"
        return tuple(value) if isinstance(value, list) else (value,)

    def expected(self, scale: str, hardware: str | None = None) -> str:
        """The expected verdict at ``scale`` as text: ``inconclusive`` or ``inconclusive or not_reproduced``."""
        return " or ".join(self.expected_verdicts(scale, hardware))

    def accepts(self, scale: str, verdict: str, hardware: str | None = None) -> bool:
        """Whether ``verdict`` is what the claims file expects at ``scale`` (on ``hardware``)."""
        return verdict in self.expected_verdicts(scale, hardware)

    @field_validator("id")
    @classmethod
    def _id_form(cls, v: str) -> str:
        if not CLAIM_ID.match(v):
            raise ValueError(f"claim id {v!r} must be lower-case letters, digits, '-' and '.'")
        return v

    @model_validator(mode="after")
    def _testable_or_not(self) -> Claim:
        forms = [f for f in ("test", "not_testable", "not_implemented") if getattr(self, f)]
        if not forms:
            reason = "tier C without a reason" if self.tier == "C" else "missing test"
            raise ValueError(f"{reason}: give test, not_testable (data, model or hardware that cannot be had) or "
                             f"not_implemented (testable here, not built yet), with the reason")
        if len(forms) > 1:
            raise ValueError(f"a claim has one of test, not_testable, not_implemented; this one has "
                             f"{' and '.join(forms)}")
        if self.test is not None and self.evidence is None:
            raise ValueError(f"@evidence missing (one of {', '.join(EVIDENCE)}: derived when the claim follows from "
                             f"the suite's own code or arithmetic)")
        if self.test is not None and self.test.simulated and self.evidence == "measured":
            raise ValueError("@evidence measured for a test with a simulated device (test.simulated): evidence is "
                             "simulated, or derived when the simulator's figure follows from arithmetic alone")
        if self.test is not None and self.expect is None:
            raise ValueError("missing expect (reproduced, not_reproduced or inconclusive; or one per scale)")
        values = list(self.expect.values()) if isinstance(self.expect, dict) else [self.expect]
        for v in values:
            if isinstance(v, list) and (len(set(v)) != 2 or {"reproduced", "not_reproduced"} <= set(v)):
                raise ValueError("a list of expected verdicts names two neighbours: [reproduced, inconclusive] "
                                 "or [inconclusive, not_reproduced]")
        values = [x for v in values for x in (v if isinstance(v, list) else [v])]
        if isinstance(self.expect, dict):
            unknown = [s for s in self.expect if not EXPECT_KEY.match(s) or s.partition("@")[0] == "smoke"]
            if unknown:
                raise ValueError(f"expect for unknown or smoke scale {unknown[0]!r} (smoke verdicts are never "
                                 f"compared; keys: cpu, full, or <scale>@<hardware> such as cpu@cpu-amd-epyc-2c)")
        if any(v != "reproduced" for v in values if v) and not self.because:
            raise ValueError("an expect other than reproduced needs because: with the reason")
        return self


class Figure(_Strict):
    """A figure of a paper's report, drawn from its experiments' per-seed metrics (see ``bench/report.py``).

    ``bars``: one group of bars per entry of ``groups``, one bar per ``series`` (a metric-name template in which
    ``{group}`` is replaced), with per-seed points; ``paper`` adds the paper's own values per group.
    ``scatter``: one point per seed and scale for each ``series`` (``{x: metric, y: metric}``); ``paper`` adds the
    paper's own points as ``{label: [x, y]}``.
    ``lines``: like ``bars`` with numeric groups on the x axis (``{group}`` in each template), one line per
    series through the seeds' means; ``paper`` lines may have gaps (``null``) where the paper gives no value.
    """

    kind: Literal["bars", "scatter", "lines"]
    title: str
    experiment: str
    series: dict[str, Any]
    groups: list[str] | None = None
    paper: dict[str, list[float | None]] = Field(default_factory=dict)
    xlabel: str | None = None
    ylabel: str | None = None
    log_x: bool = False
    log_y: bool = False
    hline: float | None = 1.0  # a reference line across bars and lines figures (1 for speedups, 0 for gaps)

    @model_validator(mode="after")
    def _shape(self) -> Figure:
        if self.kind in ("bars", "lines"):
            if not self.groups:
                raise ValueError(f"a {self.kind} figure needs groups")
            if not all(isinstance(v, str) and "{group}" in v for v in self.series.values()):
                raise ValueError(f"a {self.kind} figure's series are metric templates containing {{group}}")
            if any(len(v) != len(self.groups) for v in self.paper.values()):
                raise ValueError(f"a {self.kind} figure's paper values need one number per group")
            if self.kind == "lines":
                try:
                    [float(g) for g in self.groups]
                except ValueError:
                    raise ValueError("a lines figure's groups are numbers (its x values)") from None
        else:
            if not all(isinstance(v, dict) and set(v) == {"x", "y"} for v in self.series.values()):
                raise ValueError("a scatter figure's series are {x: metric, y: metric}")
            if any(len(v) != 2 for v in self.paper.values()):
                raise ValueError("a scatter figure's paper points are [x, y]")
        return self

    def metrics(self) -> list[str]:
        """Every metric the figure reads."""
        if self.kind in ("bars", "lines"):
            return [t.format(group=g) for t in self.series.values() for g in self.groups or []]
        return [m for v in self.series.values() for m in (v["x"], v["y"])]


class Report(_Strict):
    figures: list[Figure] = Field(default_factory=list)


class ClaimsFile(_Strict):
    paper: PaperMeta
    experiments: dict[str, ExperimentSpec] = Field(default_factory=dict)
    claims: list[Claim]
    mutants: list[MutantSpec] = Field(default_factory=list)
    report: Report = Field(default_factory=Report)

    @property
    def headlines(self) -> list[Claim]:
        return [c for c in self.claims if c.headline]

    @field_validator("experiments")
    @classmethod
    def _experiment_names(cls, v: dict[str, ExperimentSpec]) -> dict[str, ExperimentSpec]:
        for name in v:  # an experiment's name is a folder of the result cache: an identifier, never a path
            if not isinstance(name, str) or not SLUG.match(name):
                raise ValueError(f"experiment name {name!r} must be a Python identifier in lower case "
                                 f"(letters, digits, '_'): it names a folder of the result cache")
        return v


def _where(file: Path, raw: dict, loc: tuple) -> str:
    """'file: claim <id>: field <a.b>' for a pydantic error location."""
    claim = ""
    if len(loc) >= 2 and loc[0] == "claims" and isinstance(loc[1], int):
        items = raw.get("claims") or []
        cid = items[loc[1]].get("id") if loc[1] < len(items) and isinstance(items[loc[1]], dict) else None
        claim = f"claim {cid or f'#{loc[1] + 1}'}: "
        loc = loc[2:]
    elif len(loc) >= 2 and loc[0] == "mutants" and isinstance(loc[1], int):
        items = raw.get("mutants") or []
        name = items[loc[1]].get("name") if loc[1] < len(items) and isinstance(items[loc[1]], dict) else None
        claim = f"mutant {name or f'#{loc[1] + 1}'}: "
        loc = loc[2:]
    field = ".".join(str(p) for p in loc) or "(claim)"
    return f"{file}: {claim}field {field}"


def parse_claims_file(path: Path) -> ClaimsFile:
    """Parse and schema-check one claims file; raise ClaimsError with a one-line message."""
    try:
        raw = load_yaml(path)
    except (OSError, YAMLStrictError) as e:
        raise ClaimsError(f"{path}: not a valid claims file: {' '.join(str(e).split())}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(getattr(e, "problem", None) or e).split())  # one line, whatever PyYAML says
        raise ClaimsError(f"{path}: not valid YAML{at}: {problem}") from None
    if not isinstance(raw, dict):
        raise ClaimsError(f"{path}: field (top level): expected a mapping with paper, experiments, claims")
    try:
        parsed = ClaimsFile.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        msg, loc = err["msg"].removeprefix("Value error, "), tuple(err["loc"])
        if msg.startswith("@"):  # a model-level check that concerns one field: "@field message"
            name, _, msg = msg[1:].partition(" ")
            loc = (*loc, name)
        raise ClaimsError(f"{_where(path, raw, loc)}: {msg}") from None
    ids = [c.id for c in parsed.claims]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ClaimsError(f"{path}: claim {dup[0]}: field id: duplicate claim id")
    heads = [c.id for c in parsed.claims if c.headline]
    if not 1 <= len(heads) <= 2:
        raise ClaimsError(f"{path}: field headline: {len(heads)} claims carry headline: true"
                          f"{' (' + ', '.join(heads) + ')' if heads else ''}; mark one or two, the paper's headline "
                          f"claims")
    names = [m.name for m in parsed.mutants]
    for m in parsed.mutants:
        if names.count(m.name) > 1:
            raise ClaimsError(f"{path}: mutant {m.name}: field name: duplicate mutant name")
        for cid in m.breaks:
            target = next((c for c in parsed.claims if c.id == cid), None)
            if target is None:
                raise ClaimsError(f"{path}: mutant {m.name}: field breaks: no claim {cid!r} in this file")
            if target.test is None:
                raise ClaimsError(f"{path}: mutant {m.name}: field breaks: claim {cid} has no test to break")
    return parsed


@dataclass
class Paper:
    """A paper folder: its slug, its parsed claims file and (imported on demand) its experiment module."""

    slug: str
    path: Path
    spec: ClaimsFile

    @property
    def claims_path(self) -> Path:
        return self.path / "claims.yaml"

    @cached_property
    def module(self) -> ModuleType:
        """``papers.<slug>.experiment`` (a folder outside ``papers/`` is loaded from its file)."""
        if self.path.resolve().parent == PAPERS_DIR:
            return importlib.import_module(f"papers.{self.slug}.experiment")
        name = f"_bench_external_{self.slug}_{abs(hash(str(self.path.resolve())))}"
        spec = importlib.util.spec_from_file_location(name, self.path / "experiment.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    def claim(self, claim_id: str) -> Claim:
        for c in self.spec.claims:
            if c.id == claim_id:
                return c
        raise KeyError(f"{self.slug} has no claim {claim_id!r}")

    def experiment_fn(self, name: str) -> registry.ExperimentFn:
        """The function behind experiment ``name`` of the claims file."""
        spec = self.spec.experiments[name]
        return getattr(self.module, spec.function or name)

    def scale_config(self, name: str, scale: str) -> tuple[registry.ExperimentConfig, int] | None:
        """The experiment's config and seed count at ``scale``, or None if it has no such scale."""
        values = self.spec.experiments[name].scales.get(scale)
        if values is None:
            return None
        values = dict(values or {})
        seeds = values.pop("seeds", 1)
        values.pop("earlier_seeds", None)
        return registry.info(self.experiment_fn(name)).config.from_mapping(values), seeds

    def earlier_seeds(self, name: str, scale: str) -> list[int]:
        """Seed counts of experiment ``name`` whose results were seen at ``scale`` before its count was raised."""
        return list((self.spec.experiments[name].scales.get(scale) or {}).get("earlier_seeds", []))

    def validate(self) -> None:
        """Cross-check the claims file against the code: functions, metrics, scale configs and mutants."""
        self._validate_code()
        from bench import mutants  # mutants.py matches the file's mutants: both ways

        try:
            mutants.load(self)
        except mutants.MutantError as e:
            raise ClaimsError(str(e)) from None

    def _validate_code(self) -> None:
        where = self.claims_path
        try:
            module = self.module
        except Exception as e:  # an import error is reported with the file it concerns
            raise ClaimsError(f"{where}: cannot import papers.{self.slug}.experiment: {e}") from e
        for name, spec in self.spec.experiments.items():
            fn = getattr(module, spec.function or name, None)
            if fn is None or registry.info(fn) is None:
                raise ClaimsError(f"{where}: experiment {name}: field function: unknown experiment function "
                                  f"{spec.function or name!r} (not an @experiment in {module.__name__})")
            for scale, values in spec.scales.items():
                problem = config_type_problem(registry.info(fn).config, values or {})
                if problem:
                    raise ClaimsError(f"{where}: experiment {name}: field scales.{scale}.{problem}")
                try:
                    self.scale_config(name, scale)
                except (TypeError, ValueError) as e:
                    raise ClaimsError(f"{where}: experiment {name}: field scales.{scale}: {e}") from None
            declared = registry.info(fn).metrics
            if spec.baseline is not None and spec.baseline.metric not in declared:
                raise ClaimsError(f"{where}: experiment {name}: field baseline.metric: {spec.baseline.metric!r} is not "
                                  f"a metric {name} returns ({', '.join(declared)})")
            for metric in spec.sanity:
                if metric not in declared:
                    raise ClaimsError(f"{where}: experiment {name}: field sanity: {metric!r} is not a metric "
                                      f"{name} returns ({', '.join(declared)})")
            if not spec.timed and _calls_the_timer(fn):
                raise ClaimsError(f"{where}: experiment {name}: field timed: its function times code with "
                                  f"bench.latency.time_interleaved, so it must be declared `timed: true` (its cells "
                                  f"then run alone)")
        for c in self.spec.claims:
            if c.test is None:
                continue
            if c.test.experiment not in self.spec.experiments:
                raise ClaimsError(f"{where}: claim {c.id}: field test.experiment: unknown experiment "
                                  f"{c.test.experiment!r} (declared: {', '.join(self.spec.experiments) or 'none'})")
            simulated_exp = self.spec.experiments[c.test.experiment].simulated
            if c.evidence == "simulated" and not (c.test.simulated or simulated_exp):
                raise ClaimsError(f"{where}: claim {c.id}: field evidence: simulated evidence needs the device model "
                                  f"named in test.simulated or in experiment {c.test.experiment}'s simulated")
            if self.spec.experiments[c.test.experiment].simulated and c.evidence == "measured":
                raise ClaimsError(f"{where}: claim {c.id}: field evidence: experiment {c.test.experiment} is "
                                  f"simulated (its simulated: field), so its claims' evidence is not measured")
            declared = registry.info(self.experiment_fn(c.test.experiment)).metrics
            for metric in c.test.all_criteria:
                if metric not in declared:
                    raise ClaimsError(f"{where}: claim {c.id}: field test.metric: {metric!r} is not a metric "
                                      f"{c.test.experiment} returns ({', '.join(declared)})")
            for ref in c.test.context:
                exp, _, metric = ref.partition(".")
                if exp not in self.spec.experiments or metric not in registry.info(self.experiment_fn(exp)).metrics:
                    raise ClaimsError(f"{where}: claim {c.id}: field test.context: {ref!r} is not "
                                      f"experiment.metric of this paper")
        for i, fig in enumerate(self.spec.report.figures):
            if fig.experiment not in self.spec.experiments:
                raise ClaimsError(f"{where}: report figure #{i + 1}: field experiment: unknown experiment "
                                  f"{fig.experiment!r}")
            declared = registry.info(self.experiment_fn(fig.experiment)).metrics
            unknown = [m for m in fig.metrics() if m not in declared]
            if unknown:
                raise ClaimsError(f"{where}: report figure #{i + 1}: field series: {unknown[0]!r} is not a metric "
                                  f"{fig.experiment} returns")


def config_type_problem(config: type, values: dict[str, Any]) -> str:
    """``'key: why'`` for the first config value whose type is not its field's, or ''.

    Values are checked as JSON against the dataclass's annotations in pydantic's strict mode: an integer may
    stand for a float and a list for a tuple, but ``"2"`` is not a number and ``true`` not an integer. Unknown
    keys are left to ``ExperimentConfig.from_mapping``, which names them.
    """
    hints = typing.get_type_hints(config)
    for key, value in values.items():
        if key in ("seeds", "earlier_seeds") or key not in hints:
            continue
        try:
            TypeAdapter(hints[key]).validate_json(json.dumps(value, allow_nan=False), strict=True)
        except ValidationError as e:
            err = e.errors()[0]
            at = "".join(f"[{p}]" for p in err["loc"])
            return f"{key}{at}: {value!r} is not a valid {_type_name(hints[key])} ({err['msg']})"
        except (TypeError, ValueError) as e:
            return f"{key}: {value!r} is not a valid {_type_name(hints[key])} ({e})"
    return ""


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) if isinstance(tp, type) else str(tp).replace("typing.", "")


def _calls_the_timer(fn) -> bool:
    """Whether an experiment function's own body calls the suite's interleaved timer (a timed experiment)."""
    import inspect

    try:
        return "time_interleaved(" in inspect.getsource(fn)
    except (OSError, TypeError):
        return False


def load_paper(path: Path) -> Paper:
    """Load and fully validate the paper in folder ``path``."""
    slug = path.name
    if not SLUG.match(slug):
        raise ClaimsError(f"{path}: the folder name must be a slug like ssl_wen2016 (a Python identifier)")
    paper = Paper(slug, path, parse_claims_file(path / "claims.yaml"))
    paper.validate()
    return paper


def papers_root() -> Path:
    """``$BENCH_PAPERS_DIR`` (paper folders kept outside the repository, e.g. a test's), else ``papers/``."""
    return Path(os.environ.get("BENCH_PAPERS_DIR") or PAPERS_DIR)


def discover(patterns: list[str] | None = None, root: Path | None = None,
             problems: list[str] | None = None) -> list[Paper]:
    """Every paper folder under ``root`` with a claims.yaml, filtered by glob ``patterns`` on the slug.

    A paper that does not validate raises :class:`ClaimsError`, unless ``problems`` is a list: then its one-line
    error is appended there and the other papers are still returned (``show``, ``index`` and the reports carry
    on past one broken claims file).
    """
    folders = sorted(p.parent for p in (root or papers_root()).glob("*/claims.yaml"))
    if patterns:
        folders = [f for f in folders if any(fnmatch.fnmatchcase(f.name, pat) for pat in patterns)]
    papers = []
    for folder in folders:
        try:
            papers.append(load_paper(folder))
        except ClaimsError as e:
            if problems is None:
                raise
            problems.append(str(e))
    return papers
