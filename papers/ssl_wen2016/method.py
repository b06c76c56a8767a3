r"""Structured Sparsity Learning: group Lasso over structures, zeroing, freezing, and physical compaction.

The regularized objective (paper Eq. 1–2)

.. math::
    E(W) = E_D(W) + \lambda R(W) + \lambda_g \sum_{l} \sum_{g} \lVert W^{(l)}_g \rVert_2

with groups of a conv weight :math:`W^{(l)} \in \mathbb{R}^{N \times C \times M \times K}` (paper Sec. 3.2):

- filter-wise  :math:`W_{n,:,:,:}`  (a row of the lowered GEMM weight matrix ``N × CMK``),
- channel-wise :math:`W_{:,c,:,:}`  (``MK`` columns of it),
- shape-wise   :math:`W_{:,c,m,k}`  (one column of it),
- depth-wise   :math:`W^{(l)}`      (the whole layer; for ResNets each conv between shortcut endpoints).

For a fully connected weight ``(out, in)`` filter-wise groups are rows (output neurons) and channel/shape-wise
groups are columns (input neurons).

As in the authors' Caffe solver (``wenwei202/caffe`` branch ``scnn``, ``SGDSolver::GroupLassoRegularize``),
the regularizer enters training as a subgradient added to the loss gradient before the momentum update:
:math:`\partial \lVert w_g \rVert_2 / \partial w = w / \lVert w_g \rVert_2`, and 0 for a group whose norm is
exactly 0 (no epsilon). After every update, every learnable value with :math:`|w| < 10^{-4}` is set to 0
(``Net::Update`` → ``Zerout``, ``ZEROUT_THRESHOLD``). Fine-tuning freezes the zeros: Caffe's
``DISCONNECTED_GRPWISE`` masks all-zero rows and columns of each weight matrix, ``DISCONNECTED_ELTWISE`` every
zero weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

GROUP_KINDS = ("filter", "channel", "shape", "depth")
ZEROUT_THRESHOLD = 1e-4  # Caffe scnn: include/caffe/common.hpp


def lowered(w: torch.Tensor) -> torch.Tensor:
    """The GEMM weight matrix of a conv or linear weight: ``(N, C·M·K)`` (rows = filters, columns = shapes)."""
    return w.reshape(w.shape[0], -1)


def group_norms(w: torch.Tensor, kind: str) -> torch.Tensor:
    """L2 norm of every group of ``kind`` in weight ``w`` (conv ``(N, C, M, K)`` or linear ``(N, C)``)."""
    if kind == "filter":
        return lowered(w).norm(dim=1)  # (N,)
    if kind == "channel":
        return w.transpose(0, 1).reshape(w.shape[1], -1).norm(dim=1)  # (C,)
    if kind == "shape":
        return lowered(w).norm(dim=0)  # (C·M·K,)
    if kind == "depth":
        return w.norm().reshape(1)  # (1,)
    raise ValueError(f"group kind must be one of {GROUP_KINDS}, not {kind!r}")


def group_lasso_penalty(w: torch.Tensor, kind: str) -> torch.Tensor:
    r""":math:`R_g(w) = \sum_g \lVert w_g \rVert_2` for the groups of ``kind``."""
    return group_norms(w, kind).sum()


def _broadcast(norms: torch.Tensor, w: torch.Tensor, kind: str) -> torch.Tensor:
    """Each group's norm placed at every element of the group, shaped like ``w``."""
    if kind == "filter":
        return norms.view(-1, *([1] * (w.dim() - 1)))
    if kind == "channel":
        return norms.view(1, -1, *([1] * (w.dim() - 2)))
    if kind == "shape":
        return norms.view(1, *w.shape[1:])
    return norms.view(*([1] * w.dim()))


def group_lasso_grad(w: torch.Tensor, kind: str) -> torch.Tensor:
    r"""Subgradient of :math:`\sum_g \lVert w_g \rVert_2`: :math:`w / \lVert w_g \rVert_2`, 0 where the norm is 0."""
    norms = _broadcast(group_norms(w, kind), w, kind)
    return torch.where(norms > 0, w / norms.clamp_min(torch.finfo(w.dtype).tiny), torch.zeros_like(w))


@dataclass(frozen=True)
class GroupTerm:
    """One regularized weight: the parameter, the kind of its groups and its coefficient λ_g."""

    weight: nn.Parameter
    kind: str
    strength: float


class GroupLasso:
    """The SSL regularizer over a list of terms; :meth:`add_grad_` is a ``train(after_backward=...)`` hook."""

    def __init__(self, terms: Sequence[GroupTerm]):
        for t in terms:
            if t.kind not in GROUP_KINDS:
                raise ValueError(f"group kind must be one of {GROUP_KINDS}, not {t.kind!r}")
            if t.strength < 0:
                raise ValueError(f"group Lasso strength must be >= 0, not {t.strength}")
        self.terms = list(terms)

    @torch.no_grad()
    def add_grad_(self, step: int | None = None) -> None:
        """Add λ_g · ∂R_g/∂W to each regularized weight's gradient (Caffe adds it before momentum)."""
        for t in self.terms:
            if t.strength:
                t.weight.grad.add_(group_lasso_grad(t.weight, t.kind), alpha=t.strength)

    @torch.no_grad()
    def penalty(self) -> float:
        """Σ λ_g R_g(W) over the terms (for logging)."""
        return sum(t.strength * group_lasso_penalty(t.weight, t.kind).item() for t in self.terms)


@torch.no_grad()
def zerout_(model: nn.Module, threshold: float = ZEROUT_THRESHOLD) -> None:
    """Set every learnable value with ``|w| < threshold`` to 0, as Caffe's ``Net::Update`` does each step."""
    for p in model.parameters():
        p.masked_fill_(p.abs() < threshold, 0.0)


@torch.no_grad()
def connectivity_mask(w: torch.Tensor, mode: str = "groupwise") -> torch.Tensor:
    """Caffe's fine-tuning mask: ``eltwise`` keeps nonzero weights; ``groupwise`` drops all-zero rows and columns."""
    if mode == "eltwise":
        return (w != 0).to(w.dtype)
    if mode != "groupwise":
        raise ValueError(f"mode must be 'eltwise' or 'groupwise', not {mode!r}")
    mat = lowered(w)
    rows = (mat != 0).any(dim=1, keepdim=True)
    cols = (mat != 0).any(dim=0, keepdim=True)
    return (rows & cols).to(w.dtype).reshape(w.shape)


class FrozenZeros:
    """Keeps masked weights at zero during fine-tuning; :meth:`apply_` is a ``train(after_step=...)`` hook."""

    def __init__(self, weights: Sequence[nn.Parameter], mode: str = "groupwise"):
        self.pairs = [(w, connectivity_mask(w, mode)) for w in weights]

    @torch.no_grad()
    def apply_(self, step: int | None = None) -> None:
        """Multiply each weight by its mask (Caffe masks the update; zero weights stay zero either way)."""
        for w, mask in self.pairs:
            w.mul_(mask)


# ---------------------------------------------------------------------------------------------------------
# Physical compaction: zero groups removed, the rest concatenated into smaller dense GEMMs (paper Sec. 4,
# Caffe's LOWERED_CCNMM mode), with the constant outputs of removed filters folded into the next layer's bias.

@dataclass(frozen=True)
class ChainLayer:
    """A conv or linear layer of a feed-forward chain and what follows it.

    Attributes:
        layer: the ``nn.Conv2d`` (no padding, no groups) or ``nn.Linear``.
        post: the elementwise or pooling op after it (``"maxpool2"``, ``"relu"`` or ``"none"``); all of them
            map a constant channel to a constant, which is what lets a removed filter be folded away.
        spatial: for a linear layer fed by a flattened conv output, the positions per input channel (16 for
            LeNet's ip1 reading 50 channels of 4×4); 1 otherwise.
    """

    layer: nn.Module
    post: str = "none"
    spatial: int = 1


def _post(x: torch.Tensor, post: str) -> torch.Tensor:
    if post == "maxpool2":
        return F.max_pool2d(x, 2)
    if post == "relu":
        return F.relu(x)
    if post == "none":
        return x
    raise ValueError(f"post op must be maxpool2, relu or none, not {post!r}")


class CompactLayer(nn.Module):
    """A layer reduced to its kept filters (rows) and kept shape columns: one dense GEMM per input.

    For a conv, the input is lowered (im2col over the kept input channels), the kept columns selected and
    multiplied by the ``(rows, cols)`` weight; when no column inside the kept channels was removed it runs as a
    plain, smaller convolution. For a linear layer, the kept input features are gathered first.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, in_channels: int, cols: torch.Tensor,
                 kernel: tuple[int, int] | None, post: str):
        super().__init__()
        self.register_buffer("weight", weight)  # (rows, kept cols)
        self.register_buffer("bias", bias)  # (rows,)
        self.register_buffer("cols", cols)  # kept columns of the lowered input (its channels are all kept ones)
        self.in_channels = in_channels  # the producer emits exactly the kept channels, in order
        self.kernel = kernel
        self.post = post
        self.dense_cols = len(cols) == in_channels * (kernel[0] * kernel[1] if kernel else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel is None:  # linear
            x = x.flatten(1)  # (B, kept features)
            x = x if self.dense_cols else x.index_select(1, self.cols)
            return _post(F.linear(x, self.weight, self.bias), self.post)
        kh, kw = self.kernel
        if self.dense_cols:
            w = self.weight.view(len(self.weight), self.in_channels, kh, kw)
            return _post(F.conv2d(x, w, self.bias), self.post)
        b, _, h, wd = x.shape  # (B, C', H, W)
        cols = F.unfold(x, self.kernel).index_select(1, self.cols)  # (B, kept cols, L)
        out = self.weight @ cols + self.bias.view(1, -1, 1)  # (B, rows, L)
        return _post(out.view(b, -1, h - kh + 1, wd - kw + 1), self.post)


class CompactChain(nn.Module):
    """The compacted network: a sequence of :class:`CompactLayer`, with its structure statistics."""

    def __init__(self, layers: Sequence[CompactLayer], stats: list[dict]):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.stats = stats  # per layer: rows, in_channels, cols, macs, dense_macs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


@torch.no_grad()
def compact_chain(chain: Sequence[ChainLayer], input_hw: tuple[int, int] | None) -> CompactChain:
    """Remove all-zero filters, unused filters, all-zero channels and all-zero shape columns from a chain.

    A filter whose weights are all zero outputs a constant (its bias, passed through ``post``); its effect on
    the next layer is folded exactly into that layer's bias (exact because the chain's convs have no padding).
    A filter the next layer does not read (an all-zero input channel there) is dropped. What remains is
    concatenated into smaller dense matrices. The output equals the original network's output.

    Args:
        chain: the layers in order; the last layer's outputs (the logits) are all kept.
        input_hw: spatial size of the input for conv chains (to count MACs), None for linear chains.
    """
    layers, stats = [], []
    keep_in = None  # kept input channels of the current layer
    carry_bias = None  # constant contributions of removed producer channels, per input channel
    hw = input_hw
    for i, spec in enumerate(chain):
        layer = spec.layer
        is_conv = isinstance(layer, nn.Conv2d)
        if is_conv and (layer.padding not in (0, (0, 0)) or layer.groups != 1 or layer.stride not in (1, (1, 1))):
            raise ValueError("compact_chain handles unpadded, ungrouped, stride-1 convolutions")
        w = layer.weight.detach().clone()
        b = layer.bias.detach().clone() if layer.bias is not None else torch.zeros(w.shape[0])
        c_in = w.shape[1]
        # fold the constants of removed producer channels into this layer's bias: Σ_{c,m,k} W[n,c,m,k]·const_c
        if carry_bias is not None:
            per_channel = w.reshape(w.shape[0], c_in, -1).sum(-1)  # (N, C)
            b += per_channel @ carry_bias
        if keep_in is None:
            keep_in = torch.arange(c_in)
        w = w.index_select(1, keep_in)  # (N, C', M, K) or (N, C')
        mat = lowered(w)
        last = i == len(chain) - 1
        zero_rows = ~(mat != 0).any(dim=1)
        if last:
            rows = torch.arange(w.shape[0])
            unused = torch.zeros(w.shape[0], dtype=torch.bool)
        else:
            nxt = chain[i + 1].layer.weight.detach()
            per = chain[i + 1].spatial
            nxt_cols = lowered(nxt).reshape(nxt.shape[0], w.shape[0], -1)  # (N', C_next, per·M'·K')
            if per > 1:  # conv → linear: each channel owns `per` consecutive features
                nxt_cols = nxt.reshape(nxt.shape[0], w.shape[0], per)
            unused = ~(nxt_cols != 0).any(dim=(0, 2))
            rows = torch.nonzero(~zero_rows & ~unused).flatten()
        # constant outputs of all-zero, used filters go to the next layer's bias
        carry_bias = torch.zeros(w.shape[0])
        const = zero_rows & ~unused
        if not last and const.any():
            if is_conv:
                value = _post(b.view(1, -1, 1, 1), "relu" if spec.post == "relu" else "none").flatten()
            else:
                value = _post(b.view(1, -1), spec.post if spec.post == "relu" else "none").flatten()
            carry_bias[const] = value[const]
        mat = mat.index_select(0, rows)
        cols = torch.nonzero((mat != 0).any(dim=0)).flatten()
        if len(cols) == 0:  # everything removed: keep one zero column so shapes stay valid
            cols = torch.zeros(1, dtype=torch.long)
        kernel = tuple(layer.kernel_size) if is_conv else None
        positions = 1
        if is_conv:
            hw = (hw[0] - kernel[0] + 1, hw[1] - kernel[1] + 1)
            positions = hw[0] * hw[1]
        dense_macs = w.shape[0] * c_in * (kernel[0] * kernel[1] if is_conv else 1) * positions
        macs = len(rows) * len(cols) * positions if mat.numel() else 0
        layers.append(CompactLayer(mat.index_select(1, cols).contiguous(), b.index_select(0, rows),
                                   len(keep_in), cols, kernel, spec.post))
        stats.append({"rows": len(rows), "in_channels": len(keep_in), "cols": len(cols), "macs": macs,
                      "dense_macs": dense_macs, "dense_rows": w.shape[0], "dense_in_channels": c_in})
        if is_conv and spec.post == "maxpool2":
            hw = (hw[0] // 2, hw[1] // 2)
        # the next layer reads only the kept rows (channels); for conv → linear expand to their features
        per = chain[i + 1].spatial if not last else 1
        keep_in = rows if per == 1 else (rows.view(-1, 1) * per + torch.arange(per)).flatten()
        if per > 1:
            carry_bias = carry_bias.repeat_interleave(per)
    return CompactChain(layers, stats)
