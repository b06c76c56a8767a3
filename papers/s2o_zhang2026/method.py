"""Block-sparse causal attention: contiguous top-k key blocks against S2O's permuted, early-stopped blocks.

Causal attention of one head, queries and keys cut into blocks of B tokens (query block i sees key blocks
0..i). A block-sparse kernel loads, for each query block, a set of key blocks and computes exact attention over
the loaded keys (softmax renormalized over them); the fraction of the causal key blocks it loads is its
*compute density*, and its error is the MSE of its output against dense attention. Both methods here always load
the diagonal block (each query then sees itself; the local window that block-sparse kernels keep).

**Contiguous top-k** (the block-sparse baseline, as in MInference or FlexPrefill): key blocks are the contiguous
spans of the original order; each off-diagonal block j of query block i is scored by pooled estimates,
s_ij = q̄_i · k̄_j / √d (q̄, k̄ the mean query and key of the blocks), and the k − 1 best are loaded.

**S2O** (the suite's reading of the abstract; its block score, threshold rule and permutation granularity were
not reachable): the off-diagonal causal keys of query block i are permuted by a token-level importance estimate,
e_ij = q̄_i · k_j / √d, highest first, and regrouped into virtual blocks of B tokens (the index-guided,
non-contiguous loading of its virtual-to-physical mapping). Blocks are processed from high to low importance and
the kernel stops at the first block whose score falls below the threshold τ, the score being the block's best
estimated attention weight relative to the best of all causal keys, exp(max_{j ∈ block} e_ij − max_j e_ij).
Since blocks are sorted, the number loaded is ⌈#{j off-diagonal : e_ij ≥ max e + ln τ} / B⌉.

The two methods compare at matched density (top-k given, per query block, as many blocks as S2O loaded) and at
matched error (top-k's density at S2O's MSE, interpolated over its curve as k grows).
"""

from __future__ import annotations

import math

import torch


def dense_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal softmax attention of one head: ``(N, d)`` inputs, ``(N, d)`` output."""
    n = q.shape[0]
    scores = q @ k.T / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def loaded_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, loaded: torch.Tensor,
                     block: int) -> torch.Tensor:
    """Attention of each query over the keys its query block loaded (``loaded`` (nb, N) bool), causally masked."""
    n = q.shape[0]
    allowed = loaded.repeat_interleave(block, dim=0)[:n] & torch.ones(n, n, dtype=torch.bool).tril()
    scores = (q @ k.T / math.sqrt(q.shape[-1])).masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _pooled(x: torch.Tensor, block: int) -> torch.Tensor:
    """Mean of each block of ``block`` rows: ``(N, d) -> (nb, d)``."""
    n, d = x.shape
    if n % block:
        raise ValueError(f"sequence length {n} is not a multiple of the block size {block}")
    return x.view(n // block, block, d).mean(1)


def topk_blocks(q: torch.Tensor, k: torch.Tensor, block: int, budget: torch.Tensor) -> torch.Tensor:
    """Keys loaded (nb, N) by contiguous top-k: the diagonal block and the ``budget[i] − 1`` best-scored others."""
    n, nb = q.shape[0], q.shape[0] // block
    scores = _pooled(q, block) @ _pooled(k, block).T / math.sqrt(q.shape[-1])  # (nb, nb) pooled estimates
    scores = scores.masked_fill(torch.ones(nb, nb, dtype=torch.bool).tril(-1).logical_not(), float("-inf"))
    order = scores.argsort(dim=1, descending=True)  # off-diagonal causal blocks first, best first
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(nb).expand(nb, nb))
    chosen = rank < (budget - 1).clamp(min=0).view(nb, 1)  # (nb, nb) key blocks chosen per query block
    chosen &= torch.ones(nb, nb, dtype=torch.bool).tril(-1)
    chosen |= torch.eye(nb, dtype=torch.bool)
    return chosen.repeat_interleave(block, dim=1)[:, :n]


def s2o_blocks(q: torch.Tensor, k: torch.Tensor, block: int, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Keys loaded (nb, N) by S2O at threshold ``tau``, and the blocks each query block loaded (nb,)."""
    n, nb = q.shape[0], q.shape[0] // block
    est = _pooled(q, block) @ k.T / math.sqrt(q.shape[-1])  # (nb, N) token-level estimates e_ij
    block_of_key = torch.arange(n) // block
    causal = block_of_key.view(1, n) <= torch.arange(nb).view(nb, 1)
    off_diagonal = block_of_key.view(1, n) < torch.arange(nb).view(nb, 1)
    est = est.masked_fill(~causal, float("-inf"))
    top = est.max(dim=1, keepdim=True).values
    above = (est >= top + math.log(tau)) & off_diagonal  # keys whose block is processed before the stop
    virtual_blocks = (above.sum(1) + block - 1) // block  # ⌈count / B⌉ permuted blocks loaded
    order = est.masked_fill(~off_diagonal, float("-inf")).argsort(dim=1, descending=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(n).expand(nb, n))
    loaded = (rank < (virtual_blocks * block).view(nb, 1)) & off_diagonal
    loaded |= block_of_key.view(1, n) == torch.arange(nb).view(nb, 1)  # the diagonal block
    return loaded, virtual_blocks + 1


def density(loaded_blocks: torch.Tensor) -> tuple[float, float]:
    """(blocks loaded, causal blocks) summed over query blocks, for ``loaded_blocks`` (nb,)."""
    nb = loaded_blocks.shape[0]
    return float(loaded_blocks.sum()), float(nb * (nb + 1) / 2)
