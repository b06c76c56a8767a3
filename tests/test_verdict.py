"""Criteria parsing, intervals and verdict rules, at the edges."""

import math

import pytest
from scipy import stats

from bench.verdict import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    Criterion,
    decide,
    seeds_to_settle,
    summarize,
    t_halfwidth,
)


@pytest.mark.parametrize("text,lo,hi", [
    ("<= 0.3", -math.inf, 0.3), ("< 2", -math.inf, 2), (">= 1.5", 1.5, math.inf), ("> -1e-3", -1e-3, math.inf),
    ("abs <= 0.5", -0.5, 0.5), ("in [0.9, 1.1]", 0.9, 1.1), ("  >=4.08 ", 4.08, math.inf),
])
def test_parse_forms(text, lo, hi):
    c = Criterion.parse(text)
    assert (c.lo, c.hi) == (lo, hi)


@pytest.mark.parametrize("text", ["", "<<3", "== 1", "abs >= 1", "abs <= -1", "in [2, 1]", ">= x", "<= 1 2", 3])
def test_parse_rejects(text):
    with pytest.raises(ValueError, match="criterion"):
        Criterion.parse(text)


@pytest.mark.parametrize("text,lo,hi,verdict", [
    ("<= 0.3", 0.1, 0.3, REPRODUCED),          # closed bound: touching it is inside
    ("< 0.3", 0.1, 0.3, INCONCLUSIVE),         # open bound: the interval's edge is outside
    ("<= 0.3", 0.3, 0.5, INCONCLUSIVE),        # shares one point with the acceptance set
    ("< 0.3", 0.3, 0.5, NOT_REPRODUCED),       # shares nothing
    ("<= 0.3", 0.31, 0.5, NOT_REPRODUCED),
    (">= 1.5", 1.5, 2.0, REPRODUCED),
    (">= 1.5", 1.4, 2.0, INCONCLUSIVE),
    (">= 1.5", 1.0, 1.49, NOT_REPRODUCED),
    ("abs <= 0.5", -0.5, 0.5, REPRODUCED),
    ("abs <= 0.5", 0.4, 0.6, INCONCLUSIVE),
    ("abs <= 0.5", -0.9, -0.6, NOT_REPRODUCED),
    ("abs <= 0.5", -0.6, 0.6, INCONCLUSIVE),   # covers the whole set and more
    ("in [1, 2]", 1.2, 1.8, REPRODUCED),
    ("in [1, 2]", 2.5, 3.0, NOT_REPRODUCED),
])
def test_judge_edges(text, lo, hi, verdict):
    assert Criterion.parse(text).judge(lo, hi) == verdict


def test_summary_matches_student_t():
    vals = [1.0, 2.0, 4.0]
    s = summarize(vals)
    lo, hi = stats.t.interval(0.95, 2, loc=sum(vals) / 3, scale=stats.sem(vals))
    assert s.mean == pytest.approx(7 / 3) and s.std == pytest.approx(stats.tstd(vals))
    assert (s.lo, s.hi) == pytest.approx((lo, hi))


def test_single_seed_is_a_point_verdict():
    s = summarize([0.7])
    assert s.point and s.lo == s.hi == 0.7
    v = decide({"m": s}, {"m": Criterion.parse("<= 1")})
    assert v.verdict == REPRODUCED and v.point


def test_non_finite_values_are_refused():
    with pytest.raises(ValueError, match="non-finite"):
        summarize([1.0, float("nan")])


def test_decide_combines_criteria():
    good, bad, edge = summarize([1.0, 1.1, 0.9]), summarize([5.0, 5.1, 4.9]), summarize([1.0, 3.0, 2.0])
    crit = Criterion.parse("<= 2")
    assert decide({"a": good, "b": good}, {"a": crit, "b": crit}).verdict == REPRODUCED
    assert decide({"a": good, "b": bad}, {"a": crit, "b": crit}).verdict == NOT_REPRODUCED
    assert decide({"a": good, "b": edge}, {"a": crit, "b": crit}).verdict == INCONCLUSIVE
    assert decide({"a": bad, "b": edge}, {"a": crit, "b": crit}).verdict == NOT_REPRODUCED


def test_seeds_to_settle_is_the_first_n_whose_interval_fits():
    s = summarize([0.0, 0.2, 0.1])  # mean 0.1, std 0.1
    crit = Criterion.parse("<= 0.2")
    assert crit.judge(s.lo, s.hi) == INCONCLUSIVE
    n = seeds_to_settle(s, crit)
    assert t_halfwidth(s.std, n) < 0.1 <= t_halfwidth(s.std, n - 1)
    v = decide({"m": s}, {"m": crit})
    assert v.verdict == INCONCLUSIVE and v.seeds_needed == n and str(n) in v.reason


def test_seeds_to_settle_none_on_the_bound():
    s = summarize([0.1, 0.3, 0.2])  # mean exactly on the bound
    assert seeds_to_settle(s, Criterion.parse("<= 0.2")) is None


def test_peeking_after_every_seed_breaks_the_t_interval_but_not_the_confidence_sequence():
    """Under the null, look after every seed from 3 to 20 and stop at the first interval that misses the mean.

    The fixed-n Student-t interval misses in far more than 5% of the runs; the anytime-valid confidence
    sequence (bench.verdict.cs_halfwidth) in at most 5% (a seeded simulation, a few seconds).
    """
    import numpy as np

    from bench.verdict import cs_halfwidth, t_halfwidth

    rng = np.random.default_rng(20261202)
    runs, looks = 4000, range(3, 21)
    t_miss = cs_miss = 0
    for x in rng.normal(5.0, 2.0, size=(runs, 20)):  # true mean 5
        t_hit = cs_hit = False
        for n in looks:
            v = x[:n]
            m, s = v.mean(), v.std(ddof=1)
            t_hit = t_hit or abs(m - 5.0) > t_halfwidth(s, n)
            cs_hit = cs_hit or abs(m - 5.0) > cs_halfwidth(v)
        t_miss += t_hit
        cs_miss += cs_hit
    assert t_miss / runs > 0.15  # about a quarter
    assert cs_miss / runs <= 0.05


def test_sequential_verdict_uses_the_confidence_sequence():
    from bench.verdict import Criterion, decide, summarize

    s = summarize([0.21, 0.11, 0.16, 0.10, 0.12])  # mean 0.14, narrow t interval, wider sequence
    crit = {"gap": Criterion.parse("<= 0.2")}
    assert decide({"gap": s}, crit).verdict == "reproduced"
    v = decide({"gap": s}, crit, sequential=True)
    assert v.rule == "confidence-sequence" and v.fixed_n_verdict == "reproduced"
    assert s.cs_lo < s.lo and s.cs_hi > s.hi
    assert v.verdict == ("reproduced" if s.cs_hi <= 0.2 else "inconclusive")
    assert "seeds were added after a look" in v.reason
