"""Group Scissor's mutant (bench/mutants.py): a broken reimplementation of group connection deletion.

- ``squared-wire-norms``: the group Lasso over the crossbar wires sums the wires' SQUARED L2 norms (the square
  root dropped), which is plain L2 weight decay (every weight sits in one input and one output wire) and does
  not drive whole wires to zero. It should break ``lenet-routing-area``: deletion then removes few wires
  beyond those rank clipping already left unused. At the cpu scale that claim is already not_reproduced on the
  intact code (routing 0.605 of dense against the bound 0.15), so there it can only be missed.

``experiment.delete_connections`` looks the penalty up as ``method.wire_lasso`` at call time, in the process
that runs the experiment (no worker processes), so patching ``method.wire_lasso`` reaches it.
"""

from __future__ import annotations

from unittest import mock

from bench.hardware import crossbar as xb
from bench.mutants import mutant
from papers.group_scissor_wang2017 import method


def _squared_wire_lasso(model, cfg: xb.CrossbarConfig = xb.CROSSBAR_64):
    total = 0
    for w in method.matrices(model).values():
        inputs, outputs = xb.wire_norms(w, cfg)
        total = total + (inputs ** 2).sum() + (outputs ** 2).sum()
    return total


@mutant("squared-wire-norms")
def squared_wire_norms():
    """The wires' group Lasso with squared norms (Σ‖w_g‖² instead of Σ‖w_g‖): plain L2, no group sparsity, the
    slip of writing the penalty as a sum of squares."""
    with mock.patch.object(method, "wire_lasso", _squared_wire_lasso):
        yield
