"""Mutants of SEFL's proxy (bench/mutants.py).

- ``dropped-masks-kept``: Flower's SecAgg+ server regenerates, with ``pseudo_rand_gen`` (looked up in
  ``flwr.server.workflow.secure_aggregation.secaggplus_workflow``), the survivors' self-masks and each dropped
  client's pairwise masks, to remove them from the sum. Here the regeneration returns zeros, so those masks stay in
  the aggregate as uniform noise modulo 2^32: the aggregate is garbage, which should break ``dropout-resilient``
  and ``comparable-accuracy``.

- ``divides-by-selected``: the server's total weight, which SecAgg+ recovers from the aggregate
  (``factor_extract``, looked up in the same module), is taken as that of every client selected for the round
  rather than of those that survived: the mean is the survivors' sum divided by too large a weight, 8/10 of the
  true mean with 2 of 10 clients dropping (equal shards). A subtle bug that keeps training finite (it acts like a
  server step of 0.8), so the health checks pass and the claims must see it: it should break
  ``dropout-resilient``, whose check compares each aggregate with the survivors' mean.

No mutant targets ``pruning-runtime``: a claim detects a mutant only by changing verdict, and its intact verdict
is ``not_reproduced`` (2.6x against the 5x criterion); a mutant that removes the pruning (the first one written)
can only slow the pruned run further, so it could not be detected and was dropped before it ran.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
from flwr.server.workflow.secure_aggregation import secaggplus_workflow

from bench.mutants import mutant
from papers.sefl_deng2022.experiment import SEFLConfig

_real_prg = secaggplus_workflow.pseudo_rand_gen


def _zero_pairwise(seed, num_range, shapes):
    return [np.zeros_like(a) for a in _real_prg(seed, num_range, shapes)]


@mutant("dropped-masks-kept")
def dropped_masks_kept():
    """The server's mask regeneration for dropped clients yields zeros."""
    with mock.patch.object(secaggplus_workflow, "pseudo_rand_gen", _zero_pairwise):
        yield


_real_factor_extract = secaggplus_workflow.factor_extract


def _selected_weight(parameters):
    ratio, rest = _real_factor_extract(parameters)
    cfg = SEFLConfig()
    return ratio * cfg.clients / (cfg.clients - cfg.dropouts), rest


@mutant("divides-by-selected")
def divides_by_selected():
    """The mean divides by the weight of the clients selected, not of those that survived."""
    with mock.patch.object(secaggplus_workflow, "factor_extract", _selected_weight):
        yield
