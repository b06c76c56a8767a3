"""Mutants of DARB's proxy (bench/mutants.py).

- ``no-admm-penalty``: the ADMM engine's penalty gradient is dropped (``experiment.ADMM`` replaced by a subclass
  whose ``add_grad_`` does nothing): one-shot pruning for every pruned arm. Should break ``darb-near-irregular`` and
  ``pruning-ratio-13-25x`` if ADMM is what keeps the structured arms accurate.
- ``density-inverted``: ``method.darb_block_sizes`` (looked up by the experiment through ``method``) hands its
  lengths out in reverse: the line of the i-th highest density gets the i-th longest length, so the kept count is
  the same but the densest lines keep the fewest weights. Should break ``density-adaptive-beats-bmwm`` and
  ``darb-near-irregular``.
"""

from __future__ import annotations

from unittest import mock

from bench.compress.admm import ADMM, Irregular
from bench.mutants import mutant
from papers.darb_ren2019 import experiment, method

_rule = method.darb_block_sizes


class _NoPenalty(ADMM):
    def add_grad_(self, step=None):
        return None


def _inverted(weight, ratio, allowed=method.SIZES):
    sizes = _rule(weight, ratio, allowed)
    m = weight.detach().reshape(weight.shape[0], -1)
    density = Irregular(ratio).support(m).sum(0).tolist()
    by_density = sorted(range(len(sizes)), key=lambda j: (-density[j], j))  # densest first
    longest_first = sorted(sizes, reverse=True)
    out = [0] * len(sizes)
    for j, b in zip(by_density, longest_first, strict=True):
        out[j] = b
    return tuple(out)


@mutant("no-admm-penalty")
def no_admm_penalty():
    """ADMM without its penalty: one-shot projection after unconstrained training."""
    with mock.patch.object(experiment, "ADMM", _NoPenalty):
        yield


@mutant("density-inverted")
def density_inverted():
    """DARB's block lengths in reverse density order."""
    with mock.patch.object(method, "darb_block_sizes", _inverted):
        yield
