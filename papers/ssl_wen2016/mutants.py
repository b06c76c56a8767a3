"""Mutants of Structured Sparsity Learning (bench/mutants.py).

- ``l2-instead-of-group-lasso``: ``method.group_lasso_grad`` (looked up by ``GroupLasso.add_grad_`` in
  ``method``) returns ``w`` instead of ``w / ||w_g||``: plain L2 weight decay at the group Lasso's lambda. Weights
  shrink uniformly, no group reaches the zeroing threshold, the compacted LeNet keeps (nearly) all its FLOPs:
  it should break ``lenet-filter-channel`` and ``lenet-filter-shape`` (``fc_flops_kept``, ``shape_flops_kept``).
- ``zeros-not-removed``: ``experiment.gemm_callable`` (what ``alexnet_gemm_speedup`` times) builds the
  structured variant in the dense shape: the same GEMM as the baseline, as if the zeroed rows and columns had
  stayed in the matrices. The measured speedup falls to about 1: it should break the CPU speedup claims.
"""

from __future__ import annotations

from unittest import mock

import torch

from bench.mutants import mutant
from papers.ssl_wen2016 import experiment, method


def _l2_grad(w: torch.Tensor, kind: str) -> torch.Tensor:
    """Gradient of ½‖w‖² whatever the group kind: the mistake of regularizing weights, not groups."""
    return w.clone()


@mutant("l2-instead-of-group-lasso")
def l2_instead_of_group_lasso():
    """Group Lasso replaced by plain L2 (gradient w) at the same strength: no structured zeros."""
    with mock.patch.object(method, "group_lasso_grad", _l2_grad):
        yield


_gemm_callable = experiment.gemm_callable


def _uncompacted(layer, variant, device, seed):
    """The structured variant left in the dense shape (zeros kept): the dense GEMM; other variants unchanged."""
    return _gemm_callable(layer, "dense" if variant == "structured" else variant, device, seed)


@mutant("zeros-not-removed")
def zeros_not_removed():
    """Structured sparsity never compacted: the "structured" GEMM is the dense one."""
    with mock.patch.object(experiment, "gemm_callable", _uncompacted):
        yield
