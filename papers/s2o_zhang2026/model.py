"""A small causal transformer language model whose attention inputs can be read out.

nanoGPT's shape at toy size: token and learned position embeddings, pre-LayerNorm blocks of causal multi-head
self-attention and a GELU MLP, a final LayerNorm and a decoder tied to the embedding. ``qkv(tokens)`` returns the
queries, keys and values every head of every layer computes on a sequence, which is what the sparse-attention
experiments approximate (the dense attention output of each head is their reference).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

Attention = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]  # (B, h, N, d) ×3 -> (B, h, N, d)


class Block(nn.Module):
    """x + Attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def split_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Queries, keys and values ``(B, heads, N, d_head)`` of the block's attention for input ``x`` (B, N, D)."""
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        return tuple(t.view(b, n, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))

    def forward(self, x: torch.Tensor, attention: Attention | None = None) -> torch.Tensor:  # (B, N, D)
        q, k, v = self.split_heads(x)
        if attention is None:
            att = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, heads, N, d_head)
        else:
            att = attention(q, k, v)
        x = x + self.proj(att.transpose(1, 2).reshape(x.shape))
        return x + self.mlp(self.ln2(x))


class TransformerLM(nn.Module):
    """Causal transformer LM: logits ``(B, N, V)`` for tokens ``(B, N)``."""

    def __init__(self, vocab_size: int, d_model: int = 128, heads: int = 4, layers: int = 2, context: int = 256):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model {d_model} is not a multiple of heads {heads}")
        self.context = context
        self.embed = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Parameter(torch.zeros(context, d_model))
        self.blocks = nn.ModuleList(Block(d_model, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d_model)
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.pos, std=0.02)

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.shape[1] > self.context:
            raise ValueError(f"sequence of {tokens.shape[1]} tokens exceeds the context of {self.context}")
        return self.embed(tokens) + self.pos[:tokens.shape[1]]

    def forward(self, tokens: torch.Tensor, attention: Attention | None = None) -> torch.Tensor:
        """``attention(q, k, v)`` replaces causal softmax attention in every layer when given."""
        x = self._embed(tokens)
        for block in self.blocks:
            x = block(x, attention)
        return self.ln(x) @ self.embed.weight.T  # decoder tied to the embedding

    @torch.no_grad()
    def qkv(self, tokens: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Per layer, the (q, k, v) ``(B, heads, N, d_head)`` its attention sees on ``tokens`` (B, N)."""
        x, out = self._embed(tokens), []
        for block in self.blocks:
            out.append(block.split_heads(x))
            x = block(x)
        return out


def lm_loss(model: TransformerLM, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Mean next-token cross-entropy."""
    x, y = batch
    return F.cross_entropy(model(x).flatten(0, 1), y.flatten())


@torch.no_grad()
def perplexity(model: TransformerLM, ids: torch.Tensor, context: int, windows: int,
               attention: Attention | None = None) -> float:
    """exp(mean cross-entropy) over the first ``windows`` non-overlapping windows of ``ids``."""
    model.eval()
    n = min(windows, (len(ids) - 1) // context)
    x = ids[: n * context].view(n, context)
    y = ids[1: n * context + 1].view(n, context)
    loss = F.cross_entropy(model(x, attention).flatten(0, 1), y.flatten())
    model.train()
    return math.exp(loss.item())
