"""Criteria and verdicts: a claim's criterion against the 95% confidence interval of its metric over seeds.

A criterion is a string fixed in ``claims.yaml`` before results are seen:

====================  ==========================  ===================================
criterion             accepts                     example
====================  ==========================  ===================================
``<= c``, ``< c``     values below c              ``"<= 0.3"`` (error increase, pp)
``>= c``, ``> c``     values above c              ``">= 1.5"`` (speedup ratio)
``abs <= c``          values in [−c, c]           ``"abs <= 0.5"`` (accuracy gap, pp)
``in [a, b]``         values in [a, b]            ``"in [0.9, 1.1]"``
====================  ==========================  ===================================

Verdict rules (DESIGN.md): with the metric's mean and 95% Student-t interval over seeds, ``reproduced`` when
the whole interval satisfies the criterion, ``not_reproduced`` when none of it does, ``inconclusive``
otherwise (with the number of seeds that would settle it at the same mean and spread). One seed gives a
point verdict. A claim with several criteria is reproduced when all are, not reproduced when any is not.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from scipy import stats as _stats

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not_reproduced", "inconclusive"
NOT_TESTABLE, ERROR = "not_testable", "error"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_TESTABLE, ERROR)

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PATTERNS = [
    (re.compile(rf"^\s*abs\s*(<=|<)\s*({_NUM})\s*$"), "abs"),
    (re.compile(rf"^\s*(<=|<|>=|>)\s*({_NUM})\s*$"), "cmp"),
    (re.compile(rf"^\s*in\s*\[\s*({_NUM})\s*,\s*({_NUM})\s*\]\s*$"), "in"),
]
CRITERION_HELP = "expected one of '<= c', '< c', '>= c', '> c', 'abs <= c', 'abs < c', 'in [a, b]'"


@dataclass(frozen=True)
class Criterion:
    """An acceptance set for a metric: the interval (lo, hi) with open or closed ends."""

    text: str
    lo: float  # -inf when unbounded below
    hi: float  # +inf when unbounded above
    lo_closed: bool = True
    hi_closed: bool = True

    @classmethod
    def parse(cls, text: str) -> Criterion:
        """Parse a criterion string; raise ValueError naming the accepted forms."""
        if not isinstance(text, str):
            raise ValueError(f"criterion must be a string, not {type(text).__name__}; {CRITERION_HELP}")
        for pattern, kind in _PATTERNS:
            m = pattern.match(text)
            if not m:
                continue
            if not all(math.isfinite(float(g)) for g in m.groups() if g and g[-1].isdigit()):
                raise ValueError(f"bad criterion {text!r}: its bound is not a finite number; {CRITERION_HELP}")
            if kind == "abs":
                c = float(m.group(2))
                if c < 0:
                    break
                closed = m.group(1) == "<="
                return cls(text, -c, c, closed, closed)
            if kind == "in":
                a, b = float(m.group(1)), float(m.group(2))
                if a > b:
                    break
                return cls(text, a, b)
            op, c = m.group(1), float(m.group(2))
            if op.startswith("<"):
                return cls(text, -math.inf, c, True, op == "<=")
            return cls(text, c, math.inf, op == ">=", True)
        raise ValueError(f"bad criterion {text!r}; {CRITERION_HELP}")

    def holds(self, x: float) -> bool:
        """Whether the value ``x`` satisfies the criterion."""
        above = x >= self.lo if self.lo_closed else x > self.lo
        below = x <= self.hi if self.hi_closed else x < self.hi
        return above and below

    def judge(self, lo: float, hi: float) -> str:
        """Verdict for an interval ``[lo, hi]`` of the metric (``lo == hi`` for a point)."""
        if self.holds(lo) and self.holds(hi):
            return REPRODUCED
        misses_low = hi < self.lo or (hi == self.lo and not self.lo_closed)
        misses_high = lo > self.hi or (lo == self.hi and not self.hi_closed)
        return NOT_REPRODUCED if misses_low or misses_high else INCONCLUSIVE

    def margin(self, mean: float) -> float:
        """Distance from ``mean`` to the nearest bound of the acceptance set (what an interval must fit inside)."""
        return min(abs(mean - b) for b in (self.lo, self.hi) if math.isfinite(b))


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation and 95% Student-t interval of a metric over ``n`` seeds."""

    values: tuple[float, ...]
    mean: float
    std: float
    lo: float
    hi: float

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def point(self) -> bool:
        """One seed: the interval is the point itself and the verdict is a point verdict."""
        return self.n == 1

    def as_dict(self) -> dict:
        return {"values": list(self.values), "n": self.n, "mean": self.mean, "std": self.std,
                "ci95": [self.lo, self.hi], "point": self.point}


def t_halfwidth(std: float, n: int, confidence: float = 0.95) -> float:
    """Half-width of the two-sided Student-t confidence interval of a mean of ``n`` values."""
    if n < 2:
        return 0.0
    return float(_stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n)


def summarize(values) -> Summary:
    """Summary of a metric's per-seed values; raise ValueError if any is not finite."""
    vals = tuple(float(v) for v in values)
    if not vals:
        raise ValueError("no values to summarize")
    if not all(math.isfinite(v) for v in vals):
        raise ValueError(f"non-finite metric values {vals}")
    n = len(vals)
    mean = math.fsum(vals) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else 0.0
    half = t_halfwidth(std, n)
    return Summary(vals, mean, std, mean - half, mean + half)


def seeds_to_settle(summary: Summary, criterion: Criterion, limit: int = 1000) -> int | None:
    """Smallest number of seeds whose interval would settle the verdict, assuming the same mean and spread.

    Returns None when no number up to ``limit`` would (the mean sits on, or very near, a bound).
    """
    d = criterion.margin(summary.mean)
    if d == 0 or summary.std == 0:
        return None
    for n in range(max(2, summary.n), limit + 1):
        if t_halfwidth(summary.std, n) < d:
            return n
    return None


@dataclass(frozen=True)
class Verdict:
    """The outcome of a claim: its verdict, whether it is a point verdict, and a one-line reason."""

    verdict: str
    point: bool = False
    reason: str = ""
    seeds_needed: int | None = None


def decide(summaries: dict[str, Summary], criteria: dict[str, Criterion]) -> Verdict:
    """Combine the per-metric verdicts of a claim (all reproduced → reproduced; any not → not_reproduced)."""
    parts = {m: criteria[m].judge(summaries[m].lo, summaries[m].hi) for m in criteria}
    point = any(summaries[m].point for m in criteria)
    if any(v == NOT_REPRODUCED for v in parts.values()):
        failed = [m for m, v in parts.items() if v == NOT_REPRODUCED]
        return Verdict(NOT_REPRODUCED, point, f"{', '.join(failed)} outside the criterion")
    if all(v == REPRODUCED for v in parts.values()):
        return Verdict(REPRODUCED, point)
    open_ = [m for m, v in parts.items() if v == INCONCLUSIVE]
    needs = [seeds_to_settle(summaries[m], criteria[m]) for m in open_]
    needed = None if any(n is None for n in needs) else max(needs)
    how = (f"about {needed} seeds would settle it at this mean and spread" if needed
           else "more seeds would not settle it at this mean (it sits on the bound)")
    return Verdict(INCONCLUSIVE, point, f"interval of {', '.join(open_)} straddles the criterion; {how}", needed)
