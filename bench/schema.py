"""The schema of a results file, shared by the writer, ``python -m bench show``, the reports and the index.

A results file (``reference_results/<slug>/<scale>-<hardware>.json``) is read back by several commands, and it
may have been edited by hand, cut short, or written by an older version of the suite. Every reader goes through
:func:`read_results_file`, which either returns the parsed record or raises :class:`ResultsFileError` with one
line naming the file and the field at fault; a reader then flags that file and carries on with the others.
The writer validates what it is about to write with the same models, so a file it wrote always reads back.

The models check the fields the suite reads (types, finite numbers, known verdicts and scales) and keep any
other field as it is, so a file written by a newer version with extra fields still reads.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bench.claims import SCALES, SLUG
from bench.verdict import VERDICTS

MAX_BYTES = 50_000_000  # a results file larger than this is refused before parsing


class ResultsFileError(ValueError):
    """A results file that cannot be used; the message is one line naming the file and the field."""

    def __init__(self, message: str):  # one line, even when a key in the file holds a line break
        super().__init__(str(message).replace("\r", "\\r").replace("\n", "\\n"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


def _finite(v: float) -> float:
    if not math.isfinite(v):
        raise ValueError(f"{v} is not a finite number")
    return v


class MetricSummary(_Model):
    values: list[float] = Field(min_length=1)
    n: int = Field(ge=1)
    mean: float
    std: float = Field(ge=0)
    ci95: list[float] = Field(min_length=2, max_length=2)
    cs95: list[float] | None = Field(default=None, min_length=2, max_length=2)  # anytime-valid sequence
    point: bool

    @field_validator("mean", "std")
    @classmethod
    def _finite_number(cls, v: float) -> float:
        return _finite(v)

    @field_validator("values", "ci95", "cs95")
    @classmethod
    def _finite_numbers(cls, v):
        for x in v or ():
            _finite(x)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> MetricSummary:
        if self.n != len(self.values):
            raise ValueError(f"n is {self.n} but there are {len(self.values)} values")
        lo, hi = self.ci95
        if lo > hi:
            raise ValueError(f"ci95 [{lo}, {hi}] has its ends swapped")
        return self


class ClaimRecord(_Model):
    statement: str | None = None
    source: str | None = None
    tier: str | None = None
    verdict: Literal[VERDICTS] | None = None  # type: ignore[valid-type]  # None: skipped at this scale/device
    skipped: str | None = None
    reason: str | None = None
    expect: str | None = None
    because: str | None = None
    experiment: str | None = None
    criteria: dict[str, str] = Field(default_factory=dict)
    point_verdict: bool = False
    seeds: list[int] = Field(default_factory=list)
    metrics: dict[str, MetricSummary] = Field(default_factory=dict)
    errors: dict[str, str | None] = Field(default_factory=dict)
    code_hash: str | None = None
    measured_at: str | None = None
    paper_value: Any = None
    paper_setting: Any = None
    evidence: Literal["measured", "simulated", "derived"] | None = None  # absent in files older than issue 19
    headline: bool = False
    verdict_rule: Literal["student-t", "confidence-sequence"] = "student-t"
    fixed_n_verdict: Literal[VERDICTS] | None = None  # type: ignore[valid-type]
    # the compute its verdict took, summed over its cells (bench.cost.total); absent in files before issue 21
    compute: dict[str, float | int] | None = None


class Run(_Model):
    seed: int
    metrics: dict[str, float] | None
    error: str | None = None
    wall_s: float = Field(ge=0)
    cached: bool = False
    measured_at: str | None = None
    commit: str | None = None
    cost: dict[str, float | int | str] = Field(default_factory=dict)  # bench.cost.measure; {} before issue 21

    @field_validator("metrics")
    @classmethod
    def _finite_metrics(cls, v):
        for x in (v or {}).values():
            _finite(x)
        return v


class ExperimentRecord(_Model):
    function: str
    config: dict[str, Any]
    runs: list[Run]
    simulated: str | None = None


class DatasetRecord(_Model):
    variant: str | None = None
    md5: dict[str, str] = Field(default_factory=dict)


class Provenance(_Model):
    commit: str | None
    dirty: bool
    code_hash: str
    date: str
    datasets: dict[str, DatasetRecord] = Field(default_factory=dict)
    device: dict[str, Any] = Field(default_factory=dict)
    wall_time_s: float = Field(default=0.0, ge=0)
    compute: dict[str, float | int] | None = None  # every cell of the file (bench.cost.total)


class ResultsRecord(_Model):
    paper: str
    title: str | None = None
    arxiv: str | None = None
    scale: Literal[SCALES]  # type: ignore[valid-type]
    hardware: str
    provenance: Provenance
    claims: dict[str, ClaimRecord]
    experiments: dict[str, ExperimentRecord] = Field(default_factory=dict)

    @field_validator("paper")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"{v!r} is not a paper slug")
        return v


def _field(loc: tuple) -> str:
    """``claims.accurate.metrics`` for a pydantic location; a key with odd characters is quoted (one line)."""
    return ".".join(str(p) if re.match(r"^[\w\-@]+$", str(p)) else repr(str(p)) for p in loc) or "(top level)"


def validate_record(record: dict, where: str | Path, slug: str | None = None, scale: str | None = None) -> dict:
    """Check a parsed results record; return it, or raise :class:`ResultsFileError` naming file and field."""
    if not isinstance(record, dict):
        raise ResultsFileError(f"{where}: field (top level): expected a JSON object, not {type(record).__name__}")
    try:
        ResultsRecord.model_validate(record)
    except ValidationError as e:
        err = e.errors()[0]
        msg = " ".join(err["msg"].removeprefix("Value error, ").split())
        raise ResultsFileError(f"{where}: field {_field(tuple(err['loc']))}: {msg}") from None
    if slug is not None and record["paper"] != slug:
        raise ResultsFileError(f"{where}: field paper: {record['paper']!r}, but the file is in {slug}/")
    if scale is not None and record["scale"] != scale:
        raise ResultsFileError(f"{where}: field scale: {record['scale']!r}, but the file is named for {scale}")
    return record


def read_results_file(path: Path, slug: str | None = None) -> dict:
    """Parse and check one results file; the slug and scale default to those its path names."""
    path = Path(path)
    slug = slug if slug is not None else path.parent.name
    scale = path.stem.split("-", 1)[0]
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ResultsFileError(f"{path}: field (file): larger than {MAX_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ResultsFileError(f"{path}: field (file): not readable ({type(e).__name__}: {e})") from None
    try:
        record = json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, ValueError, RecursionError) as e:
        raise ResultsFileError(f"{path}: field (file): not valid JSON ({e})") from None
    return validate_record(record, path, slug, scale if scale in SCALES else None)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")
