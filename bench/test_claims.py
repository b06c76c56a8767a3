"""One test per claim: it passes when the claim's verdict at the chosen scale is its ``expect`` there.

``not_testable`` claims and claims with nothing to run at this scale or on this device are skipped with the
reason. At the ``smoke`` scale the path is what is tested (the experiment ran and returned every metric);
smoke verdicts are printed but not compared with ``expect`` (DESIGN.md: they are never cited).
"""

from __future__ import annotations

import pytest

from bench.verdict import ERROR, NOT_IMPLEMENTED, NOT_TESTABLE

pytestmark = pytest.mark.claim


def test_claim(claim_case, bench_runner, bench_scale, record_property):
    paper, claim = claim_case
    result = bench_runner.evaluate(paper, claim)
    record_property("claim", result.line())
    if result.skipped:
        pytest.skip(result.skipped)
    if result.verdict.verdict == NOT_TESTABLE:
        pytest.skip(f"not_testable: {claim.not_testable}")
    if result.verdict.verdict == NOT_IMPLEMENTED:
        pytest.skip(f"not_implemented: {result.verdict.reason}")
    assert result.verdict.verdict != ERROR, result.line()
    if bench_scale == "smoke":
        return
    expected = claim.expected(bench_scale, result.hardware)
    assert claim.accepts(bench_scale, result.verdict.verdict, result.hardware), f"expected {expected}: {result.line()}"


def test_claims_files_validate(claims_file_problem):
    """One failure per paper whose claims.yaml does not validate (the other papers' claims still run)."""
    assert claims_file_problem is None, claims_file_problem
