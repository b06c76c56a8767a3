"""The suite's MBS traffic model (papers/wavecore_lym2018), pinned by hand-computed byte counts."""

from __future__ import annotations

from unittest import mock

import pytest

from papers.wavecore_lym2018 import experiment, method

# a chain 4 -> 8 -> 2 channels at one pixel: l0 has 32 weights, l1 16; mini-batch 4, fp16
NET = method.chain([4, 8, 2])
B, WORD = 4, 2


def test_baseline_bytes_by_hand():
    # l0: read x (4·4) + write y1 (4·8) + backward reads saved x (16) = 64; weights 32 x 3 (read, read, dW) = 96
    # l1: read y1 (32) + its gradient written and read (64) + write y2 (4·2) + saved y1 (32) = 136; weights 48
    r = method.evaluate(NET, method.singletons(NET), B, 10**6, WORD)
    assert r["bytes"] == WORD * (64 + 96 + 136 + 48) == 688
    assert r["weight_bytes"] == WORD * 144


def test_mbs_one_group_bytes_by_hand():
    # the group keeps y1 on chip: no forward read of y1, no gradient crossing; y1 still saved for backward
    # l0: 16 + 32 + 16 = 64, weights 96; l1: write y2 8 + saved y1 32 = 40, weights 48
    r = method.group_traffic(NET, range(0, 2), B, 10**6, WORD)
    assert (r["bytes"], r["sub_batch"], r["passes"]) == (WORD * (64 + 96 + 40 + 48), 4, 1)
    # recompute: x read twice (32), y2 written (8), weights 5 - 1 = 4 crossings: 128 + 64
    r = method.group_traffic(NET, range(0, 2), B, 10**6, WORD, inner="recompute")
    assert r["bytes"] == WORD * (32 + 128 + 8 + 64)
    assert method.greedy_groups(NET, B, 10**6, WORD) == [range(0, 2)]


def test_sub_batch_and_weight_rereads_by_hand():
    # footprints (elements): l0 s·(2·4 + 8) + 2·32 = 16s + 64, l1 s·(2·8 + 2) + 2·16 = 18s + 32; a 200-byte buffer
    # holds 100 elements: s = min((100 - 64) // 16, (100 - 32) // 18) = 2, two passes
    assert method.sub_batch(NET, range(0, 2), B, 200, WORD) == 2
    r = method.group_traffic(NET, range(0, 2), B, 200, WORD)
    assert r["passes"] == 2
    assert r["weight_bytes"] == WORD * (32 + 16) * (4 * 2 - 1)
    # 2·(104 + 336) = 880 bytes > 688 layer by layer: the greedy rule keeps the layers apart
    assert r["bytes"] == 880
    assert method.greedy_groups(NET, B, 200, WORD) == [range(0, 1), range(1, 2)]


def test_residual_shortcut_is_held():
    net = method.resnet50(32)
    names = [lay.name for lay in net.layers]
    i = names.index("layer1.1.conv2")
    g = range(names.index("layer1.1.conv1"), names.index("layer1.1.conv3") + 1)
    assert method.held(net, g, i) == 0  # the block input comes from outside this group: read when needed
    g = range(names.index("layer1.0.conv3"), names.index("layer1.1.conv3") + 1)
    assert method.held(net, g, i) == 256 * 8 * 8  # layer1.0's output, the shortcut of layer1.1


def test_resnet50_shapes():
    net = method.resnet50()
    assert len(net.layers) == 54
    assert sum(lay.weights for lay in net.layers) == 25_502_912  # torchvision's 25,557,032 less BN and biases
    assert sum(lay.m * lay.n * lay.k for lay in net.layers) == pytest.approx(4.09e9, rel=0.01)  # MACs per image


@pytest.mark.parametrize("buffer_mib", [2, 10, 40])
def test_mbs_never_exceeds_baseline(buffer_mib):
    net, buf = method.resnet50(64), int(buffer_mib * 2**20) + 10 * 2**20
    base = method.evaluate(net, method.singletons(net), 8, buf, WORD)
    for inner in ("store", "recompute"):
        mbs = method.evaluate(net, method.greedy_groups(net, 8, buf, WORD, inner), 8, buf, WORD, inner=inner)
        assert mbs["bytes"] <= base["bytes"]


def test_large_buffer_gives_one_group():
    net = method.resnet50(32)
    assert method.greedy_groups(net, 8, 2**30, WORD) == [range(0, len(net.layers))]


def test_buffer_too_small_for_one_sample_raises():
    with pytest.raises(ValueError, match="cannot hold one sample of layer l0"):
        method.greedy_groups(NET, B, 100, WORD)
    with pytest.raises(ValueError, match="cannot hold one sample"):
        method.sub_batch(NET, range(0, 2), B, 150, WORD)


def test_experiment_and_mutant():
    cfg = experiment.WaveCoreConfig(image=64, batch=8)
    out = experiment.resnet50_mbs_traffic(cfg, 1, None)
    assert 0 < out["dram_traffic_reduction"] < 1 and out["groups"] >= 1
    with mock.patch.object(method, "greedy_groups", lambda net, b, m, w, inner="store": method.singletons(net)):
        broken = experiment.run(cfg, "store")
    assert broken["dram_traffic_reduction"] == 0 and broken["speedup"] == 1
