"""Hydraulis's cost model, planner and assignment (papers/hydraulis_li2024), pinned by hand-computed cases."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from papers.hydraulis_li2024.costmodel import LLAMA7B_A800, Strategy, max_seqlen, state_bytes
from papers.hydraulis_li2024.planner import (
    Replica,
    dispatch,
    homogeneous_packing,
    homogeneous_padding,
    pack,
    pipeline_time,
    plan_replicas,
    propose,
)


def test_memory_bound_by_hand():
    # TP1 PP2 with the optimizer held as <DP 8, TP 4, PP 1>: state 16,528 MiB; free 81,252 - 6,144 - 16,528 -
    # 5,000 MiB over 32 layers x 4,096 x 38 bytes per token = 11,280 tokens, aligned down to 11,264
    assert state_bytes(1, 2) / 2**20 == pytest.approx(16528, abs=1)
    assert max_seqlen(1, 2) == 11264
    assert [k.max_seqlen() for k in LLAMA7B_A800 if k.tp == 8] == [85248, 87552]


def test_time_model_and_pipeline_formula():
    k = Strategy(tp=1, pp=4, a=1e-6, b=0.01, c=5.0)
    assert k.time(1000) == pytest.approx(1.0 + 10.0 + 5.0)
    # two micro-batches: work 1000+1000 tokens -> 2*(1 + 10) = 22, and 500 -> 0.25 + 5; (22 + 5) * (4 - 1 + 2)
    assert pipeline_time(k, [[1000, 1000], [500]]) == pytest.approx(27.0 * 5)


def test_dp_with_one_strategy_uses_every_gpu_it_can():
    k = next(s for s in LLAMA7B_A800 if (s.tp, s.pp) == (8, 1))
    plans = propose([k], gpus=32, lengths=np.array([1000] * 40 + [5000] * 4), max_len=8192)
    assert (k,) * 4 in plans  # the plans of the grid points holding sequences split them over 4 replicas
    assert all(set(p) == {k} for p in plans)


def test_dp_prefers_small_strategies_for_short_sequences():
    # short sequences only: the cheapest GPU-time per token is TP1; no strategy needs to hold long ones
    lengths = np.array([512] * 400)
    plans = propose(LLAMA7B_A800, gpus=16, lengths=lengths, max_len=1024)
    assert all(k.tp * k.pp <= 2 for k in plans[-1])


def test_dispatch_places_each_sequence_once_within_bounds():
    reps = plan_replicas([LLAMA7B_A800[0], LLAMA7B_A800[10]])  # tp1pp2 (11264) and tp8pp1 (85248)
    seqs = [30000, 12000, 800, 900, 4000, 2000, 1500]
    out = dispatch(seqs, reps, random.Random(0), trials=10)
    assert sorted(x for part in out for x in part) == sorted(seqs)
    for part, r in zip(out, reps, strict=True):
        assert all(s <= r.max_seqlen for s in part)
    assert 30000 in out[0] and 12000 in out[0]  # only the TP8 replica holds them


def test_pack_respects_memory_and_keeps_every_sequence():
    r = Replica(LLAMA7B_A800[0], 11264)
    seqs = [6000, 5000, 4000, 3000, 2000, 1000, 500]
    tm, bins = pack(seqs, r)
    assert sorted(x for b in bins for x in b) == sorted(seqs)
    assert all(sum(b) <= 11264 for b in bins)
    assert tm == pytest.approx(pipeline_time(r.strategy, bins))


def test_baselines_refuse_what_memory_cannot_hold():
    tp1pp2 = LLAMA7B_A800[0]
    assert homogeneous_packing([20000], tp1pp2, 32) == math.inf
    assert homogeneous_padding([100], tp1pp2, 32, 32768) == math.inf
    tp8 = LLAMA7B_A800[10]
    # four replicas, 8 padded sequences -> 2 micro-batches of 32768 tokens each per replica
    assert homogeneous_padding([100] * 8, tp8, 32, 32768) == pytest.approx(tp8.time(32768) * 2)
