"""Mutants of the pneumonia paper's proxy (bench/mutants.py).

- ``no-admm-penalty``: the ADMM engine's penalty gradient is dropped (``experiment.ADMM`` replaced by a subclass
  whose ``add_grad_`` does nothing): the pruned arms train unconstrained, are projected once and retrained. If
  ADMM is what keeps structured pruning lossless, it should break ``structured-no-degradation``.
- ``combined-is-filter``: ``method.projection("combined", c)`` returns filter sparsity at ``c`` (1/4 of the
  filters, every column), so the combined arm is a second filter arm; unless filter pruning alone is as good as
  combined, it should break ``combined-at-least-either``.
"""

from __future__ import annotations

from unittest import mock

from bench.compress.admm import ADMM
from bench.mutants import mutant
from papers.pneumonia_li2019 import method

_projection = method.projection


class _NoPenalty(ADMM):
    def add_grad_(self, step=None):
        return None


def _combined_as_filter(kind: str, compression: float):
    return _projection("filter" if kind == "combined" else kind, compression)


@mutant("no-admm-penalty")
def no_admm_penalty():
    """ADMM without its penalty: one-shot projection after unconstrained training."""
    from papers.pneumonia_li2019 import experiment

    with mock.patch.object(experiment, "ADMM", _NoPenalty):
        yield


@mutant("combined-is-filter")
def combined_is_filter():
    """The combined arm prunes filters only."""
    with mock.patch.object(method, "projection", _combined_as_filter):
        yield
