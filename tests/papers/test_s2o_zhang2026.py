"""S2O (papers/s2o_zhang2026/method.py): block-sparse attention selections against brute force."""

import math

import pytest
import torch

from papers.s2o_zhang2026.method import dense_attention, density, loaded_attention, s2o_blocks, topk_blocks
from papers.s2o_zhang2026.model import TransformerLM


def _qkv(n=64, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(n, d, generator=g, dtype=torch.float64) for _ in range(3))


def test_loading_every_causal_key_is_dense_attention():
    q, k, v = _qkv()
    every = torch.ones(4, 64, dtype=torch.bool)
    torch.testing.assert_close(loaded_attention(q, k, v, every, 16), dense_attention(q, k, v))
    full = topk_blocks(q, k, 16, torch.full((4,), 4))
    torch.testing.assert_close(loaded_attention(q, k, v, full, 16), dense_attention(q, k, v))


def test_dense_attention_matches_torch():
    q, k, v = _qkv()
    want = torch.nn.functional.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=True)[0]
    torch.testing.assert_close(dense_attention(q, k, v), want)


def test_topk_picks_the_best_pooled_blocks_and_the_diagonal():
    q, k, _ = _qkv(seed=1)
    loaded = topk_blocks(q, k, 16, torch.tensor([1, 2, 2, 3]))
    blocks = loaded.view(4, 4, 16).all(-1)  # (query block, key block): whole blocks only
    assert torch.equal(blocks, loaded.view(4, 4, 16).any(-1))
    pooled_q, pooled_k = q.view(4, 16, 8).mean(1), k.view(4, 16, 8).mean(1)
    for i, budget in enumerate([1, 2, 2, 3]):
        assert blocks[i, i] and not blocks[i, i + 1:].any()
        scores = {j: float(pooled_q[i] @ pooled_k[j]) for j in range(i)}
        best = sorted(scores, key=scores.get, reverse=True)[:budget - 1]
        assert sorted(j for j in range(i) if blocks[i, j]) == sorted(best)


def test_s2o_loads_the_keys_above_the_threshold_in_whole_virtual_blocks():
    q, k, _ = _qkv(seed=2)
    tau = 0.2
    loaded, blocks = s2o_blocks(q, k, 16, tau)
    est = q.view(4, 16, 8).mean(1) @ k.T / math.sqrt(8)
    for i in range(4):
        causal = est[i, :16 * (i + 1)]
        off = causal[:16 * i]
        above = int((off >= causal.max() + math.log(tau)).sum())
        n_loaded = int(loaded[i, :16 * i].sum())
        assert n_loaded == 16 * math.ceil(above / 16)  # whole virtual blocks
        assert blocks[i] == 1 + math.ceil(above / 16)
        assert loaded[i, 16 * i:16 * (i + 1)].all() and not loaded[i, 16 * (i + 1):].any()
        if 0 < n_loaded < 16 * i:  # the loaded keys are the best-estimated ones
            assert off[loaded[i, :16 * i]].min() >= off[~loaded[i, :16 * i]].max()


def test_s2o_at_a_vanishing_threshold_is_dense():
    q, k, v = _qkv(seed=3)
    loaded, blocks = s2o_blocks(q, k, 16, 1e-300)
    torch.testing.assert_close(loaded_attention(q, k, v, loaded, 16), dense_attention(q, k, v))
    assert density(blocks) == (10.0, 10.0)


def test_ragged_sequence_is_refused():
    q, k, _ = _qkv(n=60)
    with pytest.raises(ValueError, match="multiple"):
        topk_blocks(q, k, 16, torch.ones(3, dtype=torch.long))


def test_the_lm_exposes_the_qkv_its_attention_uses():
    torch.manual_seed(0)
    lm = TransformerLM(50, d_model=16, heads=2, layers=2, context=32).eval()
    tokens = torch.randint(0, 50, (2, 32))
    per_layer = lm.qkv(tokens)
    assert len(per_layer) == 2 and per_layer[0][0].shape == (2, 2, 32, 8)

    def dense(q, k, v):  # the per-head reference, batched
        return torch.stack([torch.stack([dense_attention(q[b, h], k[b, h], v[b, h]) for h in range(q.shape[1])])
                            for b in range(q.shape[0])])
    with torch.no_grad():
        torch.testing.assert_close(lm(tokens, dense), lm(tokens), rtol=1e-4, atol=1e-5)
