"""Mutants of SEFL's proxy (bench/mutants.py).

- ``dropped-masks-kept``: Flower's SecAgg+ server regenerates, with ``pseudo_rand_gen`` (looked up in
  ``flwr.server.workflow.secure_aggregation.secaggplus_workflow``), the survivors' self-masks and each dropped
  client's pairwise masks, to remove them from the sum. Here the regeneration returns zeros, so those masks stay in
  the aggregate as uniform noise modulo 2^32: the aggregate is garbage, which should break ``dropout-resilient``
  and ``comparable-accuracy``.

No mutant targets ``pruning-runtime``: a claim detects a mutant only by changing verdict, and its intact verdict
is ``not_reproduced`` (2.6x against the 5x criterion); a mutant that removes the pruning (the first one written)
can only slow the pruned run further, so it could not be detected and was dropped before it ran.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
from flwr.server.workflow.secure_aggregation import secaggplus_workflow

from bench.mutants import mutant

_real_prg = secaggplus_workflow.pseudo_rand_gen


def _zero_pairwise(seed, num_range, shapes):
    return [np.zeros_like(a) for a in _real_prg(seed, num_range, shapes)]


@mutant("dropped-masks-kept")
def dropped_masks_kept():
    """The server's mask regeneration for dropped clients yields zeros."""
    with mock.patch.object(secaggplus_workflow, "pseudo_rand_gen", _zero_pairwise):
        yield
