"""RTMobile's block-based structured pruning (BSP) and the two pruning schemes it is set against.

A recurrent weight ``W`` (``(G·hidden, input)``, gates stacked, ``nn.GRU``'s layout) is cut column-wise into
``blocks`` equal blocks ``W[:, B_j]``; inside each block the rows are ranked by ``‖W[i, B_j]‖₂`` and all but the
largest ``k`` are zeroed (the group's ``block_prune_filter``, ``cross_x = 4``). The constraint set is

    S_BSP = { W : every column block W[:, B_j] has at most k nonzero rows },

whose Euclidean projection keeps, block by block, the ``k`` rows of largest norm (``bench.compress.structured.
BlockRows``, tested as an exact projection there). ADMM solves ``min f(W) s.t. W ∈ S`` with the penalty
``ρ/2·‖W − Z + U‖²``, ``Z ← Π_S(W + U)``, ``U ← U + W − Z`` (``bench.compress.admm``).

The comparison schemes at the same prune ratio, by the same ADMM:

- :func:`unstructured`: ``S = {W : ‖W‖₀ ≤ k}`` (irregular pruning, the accurate but irregular extreme);
- :func:`whole_rows`: ``BlockRows`` with one block, i.e. whole rows kept or removed (the regular extreme: a
  pruned row removes one gate unit's whole input).
"""

from __future__ import annotations

from bench.compress.admm import Irregular, Sparsity
from bench.compress.structured import BlockRows, block_rows_storage, csr_storage

__all__ = ["ARMS", "bsp", "whole_rows", "unstructured", "projection", "block_rows_storage", "csr_storage"]

ARMS = ("bsp", "unstructured", "row")


def bsp(ratio: float, blocks: int = 4) -> Sparsity:
    """Block row pruning: ``blocks`` column blocks, each keeping its ``1 − ratio`` share of rows by block norm."""
    return BlockRows(ratio, blocks=blocks)


def whole_rows(ratio: float) -> Sparsity:
    """Row pruning: the ``1 − ratio`` share of rows of largest norm kept whole."""
    return BlockRows(ratio, blocks=1)


def unstructured(ratio: float) -> Sparsity:
    """Irregular pruning: the ``1 − ratio`` share of weights of largest magnitude, anywhere."""
    return Irregular(ratio)


def projection(arm: str, ratio: float, blocks: int) -> Sparsity:
    """The projection of arm ``arm`` (one of :data:`ARMS`) at prune ratio ``ratio``."""
    if arm == "bsp":
        return bsp(ratio, blocks)
    if arm == "row":
        return whole_rows(ratio)
    if arm == "unstructured":
        return unstructured(ratio)
    raise ValueError(f"unknown arm {arm!r}; known: {', '.join(ARMS)}")
