"""Micro-structured weight unification on PCONV's 3×3 CNN: the constraint sets, the retraining that keeps unified
coefficients fixed, and the storage the unified layers take.

- :func:`targets`: one :class:`bench.compress.structured.Unify` per unified conv (conv2–conv4: their lowered
  matrices ``(out, in·9)`` have 144, 144 and 288 columns, so 1×4 blocks tile them; conv1's 27 do not, and it
  stays as it is).
- :class:`FrozenUnified`: after the hard projection, the weights of unified blocks are fixed (their gradient is
  zeroed and their value written back after every step, so that weight decay cannot move them) while every other
  weight trains: the patent's "unified coefficients fixed, the others updated" (SOURCES-WAVE2.md).
- :func:`storage_bits`: 32 bits per weight of a block left as it is; a unified block stores one 32-bit magnitude
  and one sign bit per weight; one flag bit per block says which kind it is.
"""

from __future__ import annotations

import torch
from torch import nn

from bench.compress.structured import Unify
from papers.pconv_ma2020.method import PatternCNN, conv_weights

__all__ = ["PatternCNN", "UNIFIED", "targets", "FrozenUnified", "storage_bits", "unified_share"]

UNIFIED = ("conv2", "conv3", "conv4")


def targets(model: PatternCNN, share: float, block: tuple[int, int] = (1, 4)) -> dict[str, tuple]:
    weights = conv_weights(model)
    return {n: (weights[n], Unify(share, block=tuple(block))) for n in UNIFIED}


def _block_mask(proj: Unify, w: torch.Tensor) -> torch.Tensor:
    """Per weight of ``w``: whether it lies in a block the projection unifies."""
    pick = proj.unified(w).to(w.dtype)  # (blocks,)
    bh, bw = proj.block
    per_block = pick[:, None].expand(-1, bh * bw)
    return proj._unblock(per_block, w).bool()


class FrozenUnified:
    """Projects every target (the hard projection) and keeps its unified blocks fixed at the projected values
    during retraining: :meth:`apply_grad_` after the backward pass, :meth:`apply_` after the step."""

    def __init__(self, tgts: dict[str, tuple]):
        self.frozen = []
        with torch.no_grad():
            for w, proj in tgts.values():
                mask = _block_mask(proj, w)  # the blocks the projection is about to unify
                w.copy_(proj(w))
                self.frozen.append((w, mask, w.detach().clone()))

    def apply_grad_(self, step: int | None = None) -> None:
        for w, mask, _ in self.frozen:
            if w.grad is not None:
                w.grad.masked_fill_(mask, 0.0)

    @torch.no_grad()
    def apply_(self, step: int | None = None) -> None:
        for w, mask, values in self.frozen:
            w.copy_(torch.where(mask, values, w))


def unified_share(model: PatternCNN, block: tuple[int, int] = (1, 4), atol: float = 1e-6) -> float:
    """The fraction of the unified convs' blocks whose weights share one magnitude (to ``atol``)."""
    equal = total = 0
    for n in UNIFIED:
        b = Unify(0.0, block=tuple(block))._blocks(conv_weights(model)[n].detach()).abs()
        equal += int(((b - b.mean(1, keepdim=True)).abs().max(1).values <= atol).sum())
        total += b.shape[0]
    return equal / total


def storage_bits(model: nn.Module, block: tuple[int, int] = (1, 4), atol: float = 1e-6) -> tuple[int, int]:
    """``(bits, dense_bits)`` of the unified convs: unified blocks as one magnitude plus signs, the rest as floats,
    a flag bit per block."""
    bits = dense = 0
    size = block[0] * block[1]
    for n in UNIFIED:
        b = Unify(0.0, block=tuple(block))._blocks(conv_weights(model)[n].detach()).abs()
        unified = (b - b.mean(1, keepdim=True)).abs().max(1).values <= atol
        u = int(unified.sum())
        bits += u * (32 + size) + (b.shape[0] - u) * 32 * size + b.shape[0]
        dense += 32 * b.numel()
    return bits, dense
