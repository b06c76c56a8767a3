"""Mutants of RTMobile's proxy (bench/mutants.py).

- ``no-admm-penalty``: the ADMM engine's penalty gradient is dropped (``experiment.ADMM`` replaced by a subclass
  whose ``add_grad_`` does nothing), so every pruned arm is trained unconstrained, projected once and retrained:
  one-shot pruning. If ADMM is what lets the block structure match unstructured pruning, it should break
  ``bsp-near-unstructured``.
- ``blocks-are-rows``: ``method.bsp`` (looked up by ``method.projection``) cuts the matrix into one column block,
  so BSP degenerates to whole-row pruning; it should break ``bsp-beats-row``.
"""

from __future__ import annotations

from unittest import mock

from bench.compress.admm import ADMM
from bench.compress.structured import BlockRows
from bench.mutants import mutant
from papers.rtmobile_dong2020 import experiment, method


class _NoPenalty(ADMM):
    def add_grad_(self, step=None):
        return None


def _one_block(ratio, blocks=4):
    return BlockRows(ratio, blocks=1)


@mutant("no-admm-penalty")
def no_admm_penalty():
    """ADMM without its penalty: one-shot projection after unconstrained training."""
    with mock.patch.object(experiment, "ADMM", _NoPenalty):
        yield


@mutant("blocks-are-rows")
def blocks_are_rows():
    """BSP with one column block: whole-row pruning."""
    with mock.patch.object(method, "bsp", _one_block):
        yield
