"""The network cost model (bench/hardware/network.py) against cases computed by hand."""

from __future__ import annotations

import math

import pytest

from bench.hardware import network as net

FAST = net.Link("node", 1e9, 1e-3, "test")
SLOW = net.Link("net", 1e8, 1e-2, "test")
CLUSTER = net.Cluster("test", "gpu", 4, FAST, SLOW)
WORK = net.Workload("toy", (1000, 10), 10, 100.0, "test")  # 1010 parameters, 0.1 s of compute per batch


def test_one_gpu_exchanges_nothing():
    t = net.step_time(WORK, CLUSTER, 1, "fp32")
    assert t["exchange_s"] == 0 and t["step_s"] == pytest.approx(0.1) and t["images_per_s"] == pytest.approx(100)
    assert net.speedup(WORK, CLUSTER, 1) == 1


def test_fp32_within_one_node():
    # 2 GPUs: each pushes 4040 B and pulls 4040 B over the node link, one latency per transfer
    up = 2 * (4040 / 1e9 + 1e-3)
    t = net.step_time(WORK, CLUSTER, 2, "fp32")
    assert t["up_s"] == pytest.approx(up) and t["down_s"] == pytest.approx(up)
    assert t["step_s"] == pytest.approx(0.1 + up)  # pipelined: max(up, down)
    assert net.step_time(WORK, CLUSTER, 2, "fp32", pipelined=False)["step_s"] == pytest.approx(0.1 + 2 * up)


def test_fp32_over_two_nodes():
    # 8 GPUs = 2 nodes of 4: node link 4·(4040/1e9 + 1e-3), then half the node's 4040 B over the network
    up = 4 * (4040 / 1e9 + 1e-3) + 0.5 * 4040 / 1e8 + 1 * 1e-2
    t = net.step_time(WORK, CLUSTER, 8, "fp32")
    assert t["up_s"] == pytest.approx(up) and t["down_s"] == pytest.approx(up)
    assert t["images_per_s"] == pytest.approx(8 * 10 / (0.1 + up))


def test_terngrad_bytes():
    b = net.exchange_bytes((1000, 10), "terngrad", 4, 8)
    assert b["gpu_push"] == (250 + 4) + (3 + 4)  # 2 bits per value, ceil per tensor, one fp32 scaler each
    assert b["node_push"] == (500 + 4) + (5 + 4)  # 4 GPUs: 9 levels, 4 bits
    assert b["pull"] == (625 + 4) + (7 + 4)  # 8 workers: 17 levels, 5 bits
    assert net.exchange_bytes((1000, 10), "fp32", 4, 8) == {"gpu_push": 4040, "node_push": 4040, "pull": 4040}
    with pytest.raises(ValueError, match="scheme"):
        net.exchange_bytes((1,), "int8", 4, 8)


def test_terngrad_speedup_over_two_nodes():
    b = net.exchange_bytes(WORK.tensor_sizes, "terngrad", 4, 8)
    up = 4 * (b["gpu_push"] / 1e9 + 1e-3) + 0.5 * b["node_push"] / 1e8 + 1e-2
    down = 4 * (b["pull"] / 1e9 + 1e-3) + 0.5 * b["pull"] / 1e8 + 1e-2
    fp32 = net.step_time(WORK, CLUSTER, 8, "fp32")["step_s"]
    assert net.speedup(WORK, CLUSTER, 8) == pytest.approx(fp32 / (0.1 + max(up, down)))


def test_describe_names_the_model_and_its_parameters():
    d = net.describe(CLUSTER)
    assert d["version"] == net.VERSION and d["clusters"][0]["network"]["bandwidth"] == 1e8
    assert math.isclose(net.ETHERNET_1G.bandwidth, 125e6)
