"""Low-rank decomposition of convolutions: one toolkit for Force Regularization, TRP and Group Scissor.

A conv weight ``W`` of shape ``(N, C, kh, kw)`` is read as a matrix in one of two *schemes* and factored by SVD,
``M = U·diag(σ)·Vᵀ``; keeping the first ``r`` singular triplets turns the layer into two smaller convs:

- ``"channel"`` (Force Regularization's PCA basis filters; TRP's channel decomposition, Zhang et al.):
  ``M = W.reshape(N, C·kh·kw)``, one row per filter. The layer becomes ``r`` basis filters ``(r, C, kh, kw)``
  with the original stride and padding, then a 1×1 conv ``(N, r)`` that combines them (carrying the bias).
  Keeping the top ``r`` right singular vectors is PCA over the filters without centering: the eigenvalues of
  ``MᵀM`` are ``σ²``, so an energy ratio over ``σ²`` is the PCA's explained-variance ratio.
- ``"spatial"`` (TRP's spatial decomposition, Jaderberg et al. 2014): ``M[(c, i), (n, j)] = W[n, c, i, j]``, of
  shape ``(C·kh, N·kw)``. The layer becomes a vertical ``kh×1`` conv ``C → r`` (vertical stride and padding),
  then a horizontal ``1×kw`` conv ``r → N`` (horizontal stride and padding, the bias).

Both are exact at full rank, and at rank ``r`` the squared Frobenius error of the weight is ``Σ_{i>r} σ_i²``
(Eckart–Young), which :func:`energy_rank` bounds. ``balance`` splits ``σ`` between the factors, the product
being the same: ``1`` puts all of it in the first (Force Regularization's ``nn_decomposer.py``: basis filters
``U_rᵀ·W``, an orthonormal combination ``U_r``), ``0.5`` puts ``√σ`` in each (TRP's channel scheme), ``0`` all
in the second (TRP's spatial scheme).

Rank rules: :func:`energy_rank` (smallest ``r`` keeping a fraction of ``Σσ²``) and :func:`threshold_rank`
(singular values above a threshold). Training-time tools: :func:`low_rank_weight` (TRP's periodic substitution)
and :func:`nuclear_subgradient` (``U·Vᵀ``, a subgradient of the nuclear norm ``Σσ``). :func:`decompose` replaces
the convs of a model; :func:`count_flops` counts a network's FLOPs with ``torch.utils.flop_counter``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

SCHEMES = ("channel", "spatial")


def _check(weight: torch.Tensor, scheme: str) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, not {scheme!r}")
    if weight.dim() != 4:
        raise ValueError(f"expected a conv weight (N, C, kh, kw), got shape {tuple(weight.shape)}")


def as_matrix(weight: torch.Tensor, scheme: str) -> torch.Tensor:
    """The conv weight ``(N, C, kh, kw)`` as the matrix the scheme factors (see the module docstring)."""
    _check(weight, scheme)
    n, c, kh, kw = weight.shape
    if scheme == "channel":
        return weight.reshape(n, c * kh * kw)
    return weight.permute(1, 2, 0, 3).reshape(c * kh, n * kw)  # (C·kh, N·kw)


def from_matrix(matrix: torch.Tensor, scheme: str, shape: torch.Size | tuple[int, ...]) -> torch.Tensor:
    """Inverse of :func:`as_matrix`: the matrix back as a conv weight of ``shape``."""
    n, c, kh, kw = shape
    if scheme == "channel":
        return matrix.reshape(n, c, kh, kw)
    if scheme == "spatial":
        return matrix.reshape(c, kh, n, kw).permute(2, 0, 1, 3).contiguous()
    raise ValueError(f"scheme must be one of {SCHEMES}, not {scheme!r}")


def singular_values(weight: torch.Tensor, scheme: str) -> torch.Tensor:
    """The singular values of the scheme's matrix, descending (float64 for stable ratios)."""
    return torch.linalg.svdvals(as_matrix(weight.detach(), scheme).double())


def energy_rank(sigma: torch.Tensor, energy: float) -> int:
    """The smallest ``r ≥ 1`` with ``Σ_{i≤r} σ_i² ≥ energy · Σ σ_i²`` (PCA's explained-variance ratio)."""
    if not 0 < energy <= 1:
        raise ValueError(f"energy must be in (0, 1], not {energy}")
    power = sigma.double() ** 2
    total = power.sum()
    if total == 0:
        return 1
    cum = torch.cumsum(power, 0) / total
    # a tolerance so that energy=1 keeps the numerical rank, not every tiny rounding-level value
    return max(1, int((cum < energy - 1e-12).sum().item()) + 1)


def threshold_rank(sigma: torch.Tensor, threshold: float, relative: bool = False) -> int:
    """The number of singular values above ``threshold`` (times ``σ_1`` when ``relative``), at least 1."""
    bound = threshold * float(sigma[0]) if relative else threshold
    return max(1, int((sigma > bound).sum().item()))


def energy_kept(sigma: torch.Tensor, rank: int) -> float:
    """``Σ_{i≤rank} σ_i² / Σ σ_i²``: the fraction of the weight's squared norm rank ``rank`` keeps."""
    power = sigma.double() ** 2
    total = power.sum()
    return 1.0 if total == 0 else float(power[:rank].sum() / total)


def factorize(weight: torch.Tensor, scheme: str, rank: int, balance: float = 0.5
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """The two conv weights of the rank-``rank`` decomposition of ``weight`` in ``scheme``.

    Returns ``(first, second)``: for ``"channel"`` ``(r, C, kh, kw)`` and ``(N, r, 1, 1)``; for ``"spatial"``
    ``(r, C, kh, 1)`` and ``(N, r, 1, kw)``. The first factor carries ``σ^balance``, the second ``σ^(1−balance)``:
    ``balance=0`` leaves the first factor orthonormal, ``1`` the second.
    """
    _check(weight, scheme)
    n, c, kh, kw = weight.shape
    m = as_matrix(weight.detach(), scheme).double()
    full = min(m.shape)
    if not 1 <= rank <= full:
        raise ValueError(f"rank must be in [1, {full}] for a {tuple(weight.shape)} weight, not {rank}")
    u, s, vh = torch.linalg.svd(m, full_matrices=False)
    u, s, vh = u[:, :rank], s[:rank], vh[:rank]
    if scheme == "channel":
        # M (N, K) = U S Vᵀ: basis filters are rows of S^b Vᵀ, the combination is U S^(1−b)
        first = (s[:, None] ** balance * vh).reshape(rank, c, kh, kw)
        second = (u * s ** (1 - balance)).reshape(n, rank, 1, 1)
    else:
        # M (C·kh, N·kw) = U S Vᵀ: the vertical filters are columns of U S^b, the horizontal ones rows of S^(1−b) Vᵀ
        first = (u * s ** balance).reshape(c, kh, rank).permute(2, 0, 1).unsqueeze(-1)  # (r, C, kh, 1)
        second = (s[:, None] ** (1 - balance) * vh).reshape(rank, n, kw).permute(1, 0, 2).unsqueeze(2)  # (N, r, 1, kw)
    return first.to(weight.dtype).contiguous(), second.to(weight.dtype).contiguous()


def low_rank_weight(weight: torch.Tensor, scheme: str, rank: int) -> torch.Tensor:
    """The best rank-``rank`` approximation of ``weight`` in ``scheme``, as a weight of the same shape."""
    m = as_matrix(weight.detach(), scheme)
    u, s, vh = torch.linalg.svd(m.double(), full_matrices=False)
    approx = (u[:, :rank] * s[:rank]) @ vh[:rank]
    return from_matrix(approx.to(weight.dtype), scheme, weight.shape)


def nuclear_subgradient(weight: torch.Tensor, scheme: str, rank: int | None = None) -> torch.Tensor:
    """``U_r·V_rᵀ`` of the scheme's matrix as a weight: a subgradient of the nuclear norm ``Σσ`` at ``weight``.

    With ``rank=None`` every singular triplet with ``σ > 0`` is used (the gradient of ``Σσ`` where the matrix
    has full rank and distinct singular values).
    """
    m = as_matrix(weight.detach(), scheme)
    u, s, vh = torch.linalg.svd(m.double(), full_matrices=False)
    if rank is None:
        rank = int((s > s[0] * torch.finfo(torch.float64).eps * max(m.shape)).sum()) if s[0] > 0 else 0
    return from_matrix((u[:, :rank] @ vh[:rank]).to(weight.dtype), scheme, weight.shape)


def decomposed_conv(conv: nn.Conv2d, scheme: str, rank: int, balance: float = 0.5) -> nn.Sequential:
    """``conv`` as two convs of rank ``rank`` (see the module docstring); exact at full rank."""
    if conv.groups != 1:
        raise ValueError("grouped convolutions are not decomposed (groups must be 1)")
    if isinstance(conv.padding, str):
        raise ValueError("string padding ('same', 'valid') is not supported; use integers")
    first_w, second_w = factorize(conv.weight, scheme, rank, balance)
    n, c, kh, kw = conv.weight.shape
    (sh, sw), (ph, pw), (dh, dw) = conv.stride, conv.padding, conv.dilation
    kwargs = {"device": conv.weight.device, "dtype": conv.weight.dtype, "padding_mode": conv.padding_mode}
    if scheme == "channel":
        first = nn.Conv2d(c, rank, (kh, kw), conv.stride, conv.padding, conv.dilation, bias=False, **kwargs)
        second = nn.Conv2d(rank, n, 1, bias=conv.bias is not None, **kwargs)
    else:
        first = nn.Conv2d(c, rank, (kh, 1), (sh, 1), (ph, 0), (dh, 1), bias=False, **kwargs)
        second = nn.Conv2d(rank, n, (1, kw), (1, sw), (0, pw), (1, dw), bias=conv.bias is not None, **kwargs)
    with torch.no_grad():
        first.weight.copy_(first_w)
        second.weight.copy_(second_w)
        if conv.bias is not None:
            second.bias.copy_(conv.bias)
    return nn.Sequential(first, second)


def conv_macs(conv: nn.Conv2d, out_hw: tuple[int, int], scheme: str | None = None, rank: int | None = None) -> int:
    """Multiply-accumulates of ``conv`` at output size ``out_hw``, or of its rank-``rank`` decomposition.

    Spatial decomposition: the vertical conv runs at the input's width (no horizontal stride yet); the width
    is taken as ``out_w · stride_w`` (exact for 'same'-padded convs, the common case).
    """
    n, c, kh, kw = conv.weight.shape
    h, w = out_hw
    if scheme is None:
        return n * c * kh * kw * h * w
    if scheme == "channel":
        return rank * c * kh * kw * h * w + n * rank * h * w
    return rank * c * kh * h * (w * conv.stride[1]) + n * rank * kw * h * w


@dataclass(frozen=True)
class LayerDecomposition:
    """What :func:`decompose` did to one conv: its rank, the full rank, and the energy the rank keeps."""

    name: str
    scheme: str
    rank: int
    full_rank: int
    energy: float
    replaced: bool  # False when the decomposition would not have saved MACs and the conv was kept


RankRule = Callable[[str, torch.Tensor], int]


def decompose(model: nn.Module, scheme: str, rank_rule: RankRule,
              include: Callable[[str, nn.Conv2d], bool] = lambda name, conv: True, balance: float = 0.5,
              only_if_cheaper: bool = True) -> tuple[nn.Module, list[LayerDecomposition]]:
    """A copy of ``model`` whose convs are replaced by their low-rank decompositions, and what was done.

    ``rank_rule(name, σ)`` picks each layer's rank from its singular values (e.g.
    ``lambda name, s: energy_rank(s, 0.95)``); ``include(name, conv)`` selects the layers (e.g. skip the
    first conv). With ``only_if_cheaper`` a layer whose decomposition costs at least the original's MACs per
    output position is kept as it is (``replaced=False``).
    """
    out = copy.deepcopy(model)
    report: list[LayerDecomposition] = []
    for name, conv in list(out.named_modules()):
        if not isinstance(conv, nn.Conv2d) or conv.groups != 1 or not include(name, conv):
            continue
        sigma = singular_values(conv.weight, scheme)
        rank = min(int(rank_rule(name, sigma)), len(sigma))
        n, c, kh, kw = conv.weight.shape
        cheaper = conv_macs(conv, (1, 1), scheme, rank) < conv_macs(conv, (1, 1))
        replace = cheaper or not only_if_cheaper
        report.append(LayerDecomposition(name, scheme, rank, len(sigma), energy_kept(sigma, rank), replace))
        if replace:
            parent_name, _, attr = name.rpartition(".")
            parent = out.get_submodule(parent_name) if parent_name else out
            setattr(parent, attr, decomposed_conv(conv, scheme, rank, balance))
    return out, report


@torch.no_grad()
def count_flops(model: nn.Module, example: torch.Tensor, conv_only: bool = False) -> int:
    """FLOPs (2 per multiply-accumulate) of one forward pass of ``model`` on ``example``, counted by
    ``torch.utils.flop_counter`` (convolutions and matrix products; element-wise work counts 0).

    ``conv_only`` counts the convolutions alone (TRP's ``show_low_rank`` counts every conv and no fc layer).
    """
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter:
        model(example)
    model.train(was_training)
    if not conv_only:
        return int(counter.get_total_flops())
    return int(sum(n for op, n in counter.get_flop_counts()["Global"].items() if "convolution" in str(op)))
