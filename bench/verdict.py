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

Seeds added after a look. A 95% interval is 95% only when the number of seeds was fixed before any result was
seen; adding seeds after an inconclusive look and judging again inflates the chance of a wrong verdict (peeking
after every seed from 3 to 20, the Student-t interval misses the true mean in about a quarter of the runs:
tests/test_verdict.py). Every summary therefore also carries an anytime-valid 95% *confidence sequence*
(:func:`confidence_sequence`), which covers the mean at every seed count at once, however often one looks. When
a metric's seed count was ever raised after a result (``earlier_seeds`` in claims.yaml, or the results file's
``seed_history``), the verdict that counts is the one on the sequence (``decide(..., sequential=True)``).

The sequence is Lai's (1976) t-confidence sequence for the mean of Gaussian values of unknown variance: the
ratio of the scale-invariant (Haar) mixture likelihoods with μ − μ0 ~ N(0, σ²/c) against μ = μ0,

    M_n(μ0) = sqrt(c / (n + c)) · (1 − S² / ((n + c) Q))^(−n/2),   S = Σ(x_i − μ0),  Q = Σ(x_i − μ0)²,

is a nonnegative martingale under μ0 (Lai 1976; Wang and Ramdas 2023, "Anytime-valid t-tests and confidence
sequences for Gaussian means with unknown variance"), so by Ville's inequality {μ0 : M_n(μ0) < 1/α} holds the
mean at every n with probability ≥ 1 − α. Solved for μ0 it is the interval x̄ ± h_n with

    h_n² = a (n + c) V / (n (n − a (n + c))),   a = 1 − (α² c / (n + c))^(1/n),   V = Σ(x_i − x̄)²,

unbounded while n ≤ a (n + c). ``c = 0.05`` (CS_C, fixed before any re-judgement) makes it finite from 3 seeds
and about twice the Student-t width from 4 to 20 seeds. Like the t interval, it assumes roughly Gaussian
per-seed values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from scipy import stats as _stats

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not_reproduced", "inconclusive"
NOT_TESTABLE, NOT_IMPLEMENTED, ERROR = "not_testable", "not_implemented", "error"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_TESTABLE, NOT_IMPLEMENTED, ERROR)

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


CS_C = 0.05  # the mixture's precision parameter (module docstring); fixed, never tuned to a result


def cs_halfwidth(values, alpha: float = 0.05, c: float = CS_C) -> float:
    """Half-width of the anytime-valid (1 − alpha) confidence sequence at these values (``inf`` when unbounded)."""
    vals = [float(v) for v in values]
    n = len(vals)
    if n < 2:
        return math.inf
    mean = math.fsum(vals) / n
    v = math.fsum((x - mean) ** 2 for x in vals)
    a = 1.0 - (alpha ** 2 * c / (n + c)) ** (1.0 / n)
    den = n - a * (n + c)
    if den <= 0:
        return math.inf
    return math.sqrt(a * (n + c) * v / (n * den))


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation, 95% Student-t interval and 95% confidence sequence over ``n`` seeds."""

    values: tuple[float, ...]
    mean: float
    std: float
    lo: float
    hi: float
    cs_lo: float = -math.inf
    cs_hi: float = math.inf

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def point(self) -> bool:
        """One seed: the interval is the point itself and the verdict is a point verdict."""
        return self.n == 1

    def as_dict(self) -> dict:
        cs = [self.cs_lo, self.cs_hi] if math.isfinite(self.cs_lo) and math.isfinite(self.cs_hi) else None
        return {"values": list(self.values), "n": self.n, "mean": self.mean, "std": self.std,
                "ci95": [self.lo, self.hi], "cs95": cs, "point": self.point}


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
    cs = cs_halfwidth(vals) if n > 1 else math.inf
    return Summary(vals, mean, std, mean - half, mean + half, mean - cs, mean + cs)


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
    # "student-t" (a seed count fixed before any result) or "confidence-sequence" (raised after a look); with the
    # latter, the verdict the t interval would have given
    rule: str = "student-t"
    fixed_n_verdict: str | None = None


def _combined(parts: dict[str, str]) -> str:
    """All metrics reproduced → reproduced; any not reproduced → not_reproduced; else inconclusive."""
    if any(v == NOT_REPRODUCED for v in parts.values()):
        return NOT_REPRODUCED
    return REPRODUCED if all(v == REPRODUCED for v in parts.values()) else INCONCLUSIVE


def decide(summaries: dict[str, Summary], criteria: dict[str, Criterion], sequential: bool = False) -> Verdict:
    """Combine the per-metric verdicts of a claim (all reproduced → reproduced; any not → not_reproduced).

    ``sequential``: the seed count was raised after a look, so the verdict is taken on each metric's confidence
    sequence instead of its Student-t interval (the t verdict is kept in ``fixed_n_verdict``).
    """
    point = any(summaries[m].point for m in criteria)
    if sequential:
        fixed = decide(summaries, criteria)
        parts = {m: criteria[m].judge(summaries[m].cs_lo, summaries[m].cs_hi) for m in criteria}
        verdict = _combined(parts)
        failed = [m for m, v in parts.items() if v == verdict and v != REPRODUCED]
        reason = (f"{', '.join(failed)} outside the criterion" if verdict == NOT_REPRODUCED else
                  f"confidence sequence of {', '.join(failed)} straddles the criterion" if failed else "")
        note = (f"seeds were added after a look: judged on the anytime-valid confidence sequence (the fixed-n "
                f"Student-t interval gives {fixed.verdict})")
        return Verdict(verdict, point, f"{reason}; {note}" if reason else note, None, "confidence-sequence",
                       fixed.verdict)
    parts = {m: criteria[m].judge(summaries[m].lo, summaries[m].hi) for m in criteria}
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


EVIDENCE_LABELS = {"simulated": "simulated", "derived": "derived: holds by construction"}


def shown_verdict(verdict: str, evidence: str | None, gpu: bool = False) -> str:
    """A verdict as shown to readers: a simulated or derived claim is never a plain ``reproduced``.

    ``reproduced (simulated)``, ``reproduced (derived: holds by construction)``; ``gpu``: the claim is about a GPU
    and nothing measured one (``... ; no GPU measured``). Measured claims and verdicts that are not judgements
    (not_testable, not_implemented, error) are shown as they are.
    """
    if evidence not in EVIDENCE_LABELS or verdict not in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE):
        return verdict
    return f"{verdict} ({EVIDENCE_LABELS[evidence]}{'; no GPU measured' if gpu else ''})"


def about_gpu(claim) -> bool:
    """Whether a claim is about a GPU (its id or statement names one): with only simulated or derived evidence,
    its verdict says that no GPU measured it."""
    return "gpu" in claim.id.lower() or "gpu" in claim.statement.lower()


# -- sanity bounds of a run (claims.yaml experiments.<name>.sanity), judged by the runner ----------------


def sanity_broken(metrics: Mapping[str, float], sanity: Mapping[str, str]) -> list[str]:
    """``"metric = value fails 'criterion'"`` for every sanity bound (``{metric: criterion}``) the run breaks."""
    return [f"{m} = {metrics[m]:.4g} fails {c!r}" for m, c in sanity.items()
            if m in metrics and not Criterion.parse(c).holds(metrics[m])]


def at_chance_reason(broken: list[str]) -> str:
    """The error of a run that broke the sanity bounds listed in ``broken`` (from :func:`sanity_broken`)."""
    return ("the model is at chance or broken (a diverged or untrained run), so no verdict is drawn from it: "
            + "; ".join(broken) + " (the experiment's sanity bounds in claims.yaml)")


def sanity_failures(metrics: Mapping[str, float], sanity: Mapping[str, str]) -> str | None:
    """The reason a run breaks its experiment's sanity bounds, or None."""
    broken = sanity_broken(metrics, sanity)
    return at_chance_reason(broken) if broken else None
