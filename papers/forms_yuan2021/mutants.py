"""Mutants of FORMS's proxy (bench/mutants.py).

- ``no-sign-lock``: retraining without :func:`bench.compress.polarize.sign_lock`; weights drift across zero, and
  ``polarization-keeps-accuracy`` (whose criteria include a fully polarized network) should break.
- ``no-zero-skipping``: the FORMS design never skips a fragment; if the throughput and efficiency gains rest on
  zero-skipping, the two simulated claims should break.
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.forms_yuan2021 import experiment, method


def _no_lock(targets):
    return lambda step=None: None


@mutant("no-sign-lock")
def no_sign_lock():
    """Retraining after the hard projection with no sign lock."""
    with mock.patch.object(experiment, "sign_lock", _no_lock):
        yield


_forms = method.forms


def _never_skip(fragment, skip_zero=True):
    return _forms(fragment, skip_zero=False)


@mutant("no-zero-skipping")
def no_zero_skipping():
    """FORMS reads every fragment in every cycle."""
    with mock.patch.object(method, "forms", _never_skip):
        yield
