"""Mutants of PruneTrain's proxy (bench/mutants.py).

- ``no-group-lasso``: ``method.auto_lambda`` returns 0 (looked up by the experiment through ``method``), so the
  group Lasso adds nothing: the network trains densely, with the zeroing and reconfigurations only, and keeps
  (almost) every channel. Should break every measured claim: the FLOPs, the time and the inference FLOPs.
- ``no-reconfiguration``: ``method.reconfigure`` hands back the same network and optimizer: the channels are zeroed
  but never removed, so the network trains at its full size. Should break the same three claims; the accuracy
  part of the headline may hold.
"""

from __future__ import annotations

from unittest import mock

from bench.mutants import mutant
from papers.prunetrain_lym2019 import method


def _zero_lambda(loss0, reg0, r=method.PENALTY_RATIO):
    return 0.0


def _same_network(model, optimizer=None, carry_state=True):
    return model, optimizer, {}


@mutant("no-group-lasso")
def no_group_lasso():
    """PruneTrain without its group Lasso."""
    with mock.patch.object(method, "auto_lambda", _zero_lambda):
        yield


@mutant("no-reconfiguration")
def no_reconfiguration():
    """PruneTrain that never rebuilds the network."""
    with mock.patch.object(method, "reconfigure", _same_network):
        yield
