"""Mutants of PatDNN's proxy (bench/mutants.py).

- ``no-admm-penalty``: the ADMM engine's penalty gradient is dropped (``experiment.ADMM`` replaced by a subclass
  whose ``add_grad_`` does nothing), so the ADMM arms train unconstrained, are projected once and retrained. If the
  extended ADMM is what the PatDNN arm gains over one-shot pruning, it should break ``extended-admm``.
- ``random-connectivity``: the connectivity set keeps a fixed random choice of kernels per layer instead of those
  of largest norm (``method.Connectivity`` replaced), in the ADMM and one-shot arms alike. Choosing kernels by norm
  is what keeps the coarse structure accurate; it should break ``patterns-beat-structured`` and
  ``best-of-both-worlds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from unittest import mock

import torch

from bench.compress.admm import ADMM
from bench.compress.structured import Connectivity
from bench.mutants import mutant
from papers.patdnn_niu2020 import experiment, method


class _NoPenalty(ADMM):
    def add_grad_(self, step=None):
        return None


@dataclass(frozen=True)
class _RandomConnectivity(Connectivity):
    """Keeps as many kernels as ``Connectivity``, chosen by a fixed draw seeded by the layer's shape."""

    def support(self, v: torch.Tensor) -> torch.Tensor:
        out, inp = v.shape[0], v.shape[1]
        n = out * inp
        keep = n - int(round(self.ratio * n))
        gen = torch.Generator().manual_seed(1000 * out + inp)
        chosen = torch.zeros(n, dtype=torch.bool)
        chosen[torch.randperm(n, generator=gen)[:keep]] = True
        return chosen.to(v.device)[:, None].expand(n, v[0, 0].numel()).reshape(v.shape)


@mutant("no-admm-penalty")
def no_admm_penalty():
    """ADMM without its penalty: one-shot projection after unconstrained training."""
    with mock.patch.object(experiment, "ADMM", _NoPenalty):
        yield


@mutant("random-connectivity")
def random_connectivity():
    """Connectivity keeps random kernels instead of the largest."""
    with mock.patch.object(method, "Connectivity", _RandomConnectivity):
        yield
