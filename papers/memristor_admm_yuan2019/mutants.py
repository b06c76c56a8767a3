"""Mutants of the memristor framework's proxy (bench/mutants.py).

- ``irregular-blocks``: ``method.projection`` gives irregular pruning for the crossbar arm too. If the crossbar-block
  structure is what saves crossbars, this should break ``crossbar-blocks-save-arrays`` and
  ``convnet-power-area``.
"""

from __future__ import annotations

from unittest import mock

from bench.compress.admm import Irregular
from bench.mutants import mutant
from papers.memristor_admm_yuan2019 import method


def _irregular(kind, weight, compression, array):
    return Irregular(1 - 1 / compression)


@mutant("irregular-blocks")
def irregular_blocks():
    """Crossbar-block pruning replaced by irregular pruning at the same rate."""
    with mock.patch.object(method, "projection", _irregular):
        yield
