"""Regime of the baseline: whether a claim was measured on a network near the paper's, or far below it.

A gap claim ("TernGrad loses no accuracy") measured on a LeNet at 4% error says less than one measured at the
paper's 0.8%: small networks trained briefly leave room for differences that a converged network would not
show, and hide ones it would. Each training experiment names its baseline in ``claims.yaml``::

    baseline: {metric: fp32_error_pct, kind: error_pct, paper: 0.8, source: "Fig. 3"}

and the reports show, beside every claim of the experiment, the measured baseline (mean over the seeds) next
to the paper's. The rule, declared once here, marks a claim **proxy regime** when

- ``error_pct``: the measured error is more than twice the paper's (``PROXY_ERROR_FACTOR``);
- ``accuracy_pct``: the measured accuracy is more than 2 percentage points below the paper's
  (``PROXY_ACCURACY_PP``).

The mark labels; it never changes a verdict.
"""

from __future__ import annotations

import math

PROXY_ERROR_FACTOR = 2.0
PROXY_ACCURACY_PP = 2.0
RULE = (f"proxy regime: the baseline's error is more than {PROXY_ERROR_FACTOR:g}× the paper's, or its accuracy more "
        f"than {PROXY_ACCURACY_PP:g} pp below the paper's (bench/regime.py); a label, never a change of verdict")


def is_proxy(kind: str, measured: float, paper: float) -> bool:
    """Whether a baseline measured at ``measured`` is far from the paper's ``paper`` (see the module's rule)."""
    if kind == "error_pct":
        return measured > PROXY_ERROR_FACTOR * paper
    if kind == "accuracy_pct":
        return measured < paper - PROXY_ACCURACY_PP
    raise ValueError(f"unknown baseline kind {kind!r}")


def measured_baseline(record: dict, experiment: str, metric: str) -> float | None:
    """Mean over the seeds of the baseline metric in a results file's experiment record, or None."""
    runs = ((record.get("experiments") or {}).get(experiment) or {}).get("runs") or []
    values = [r["metrics"][metric] for r in runs if isinstance(r.get("metrics"), dict) and metric in r["metrics"]]
    values = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return sum(values) / len(values) if values else None


def assess(paper, claim_id: str, record: dict) -> tuple[str, bool | None]:
    """``(text, proxy)`` for a claim in a results file: the baseline here and in the paper, and the mark.

    ``proxy`` is None (and the text empty) when the claim's experiment names no baseline or the file has no runs.
    """
    claim = paper.claim(claim_id)
    if claim.test is None:
        return "", None
    spec = paper.spec.experiments[claim.test.experiment].baseline
    if spec is None:
        return "", None
    value = measured_baseline(record, claim.test.experiment, spec.metric)
    if value is None:
        return "", None
    proxy = is_proxy(spec.kind, value, spec.paper)
    text = f"baseline {spec.metric} {value:.4g} here, {spec.paper:g} in the paper ({spec.source})"
    return text + ("; proxy regime" if proxy else ""), proxy
