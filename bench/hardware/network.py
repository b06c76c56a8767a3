"""A network cost model of synchronous data-parallel training on a GPU cluster (simulated; the suite's model).

**What it computes.** The time of one training iteration on ``n`` GPUs, ``g`` per node, as

    t = t_compute + t_exchange,        throughput = n · batch_per_gpu / t,

with ``t_compute`` the single-GPU time of one mini-batch (stated by the caller: measured, or read from a paper)
and ``t_exchange`` the gradient exchange through a parameter server sharded over the nodes, the setting of
TernGrad's Section 5:

- *up*: every GPU sends its gradient to its node over the node's shared link (``g · gpu_push / B_node``); the
  node sums them and sends its share to the parameter-server shard of every other node (each node holds 1/m of
  the model, so it sends (m−1)/m of its node gradient: ``(m−1)/m · node_push / B_net``, plus one latency per
  message);
- *down*: every shard sends the aggregated gradient back, (m−1)/m of it per node over the network, then the
  node hands it to its g GPUs over the node link.

Links are full duplex. With ``pipelined=True`` (the default) the up and down paths overlap, shard by shard, and
``t_exchange = max(up, down)``; with ``pipelined=False`` the exchange is ``up + down``. Both are reported.

**Bytes per element.** fp32 sends 4 bytes per element both ways. TernGrad (with scaler sharing, so ternary
values of different workers add up as integers): a GPU sends the 2-bit code (``ceil(n/4)`` bytes per tensor,
the codec of ``papers/terngrad_wen2017/method.py``) plus one fp32 scaler per tensor; a node's sum of g ternary
gradients has 2g + 1 levels, a cluster's sum of N has 2N + 1 levels (the paper's bound on the server-to-worker
direction), each sent with ``ceil(log2(levels))`` bits per element plus the scalers.

**Sources and assumptions.** The paper's own Section 5 formula could not be read from this project's machines
(only its figure, through the authors' poster and slides), so this is the suite's model, version
``VERSION``, not a reproduction of the paper's: the parameter-server sharding, the per-node aggregation, the
bits of the aggregated gradient and the overlap rule are this model's choices. The pipelined overlap rule was
chosen as the default knowing the paper's Fig. 5 curves (the sequential rule roughly doubles the fp32 exchange
time at every point); every result reports both. Link figures are line rates from the standards and
datasheets named in each :class:`Link`; real links reach less.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

NAME = "bench.hardware.network (parameter server sharded over nodes, per-node aggregation)"
VERSION = "1"


@dataclass(frozen=True)
class Link:
    """A full-duplex link: bytes per second in each direction and a per-message latency."""

    name: str
    bandwidth: float  # bytes/s per direction
    latency: float  # s per message
    source: str


ETHERNET_1G = Link("1 Gbps Ethernet", 125e6, 50e-6,
                   "IEEE 802.3ab line rate 1 Gb/s; 50 µs per message assumed (TCP over 1 GbE)")
INFINIBAND_EDR = Link("100 Gbps InfiniBand EDR", 12.5e9, 1e-6,
                      "InfiniBand EDR 4x line rate 100 Gb/s; about 1 µs per message (Mellanox ConnectX-4 class)")
PCIE3_SWITCH = Link("PCIe 3.0 x16 switch uplink", 15.75e9, 5e-6,
                    "PCI Express 3.0: 8 GT/s per lane with 128b/130b coding, 985 MB/s per lane per direction, ×16; "
                    "5 µs per transfer assumed")
NVLINK_P100 = Link("NVLink 1.0, 4 links (Tesla P100)", 80e9, 5e-6,
                   "NVIDIA Tesla P100 whitepaper: 4 NVLinks of 20 GB/s per direction; 5 µs per transfer assumed")


@dataclass(frozen=True)
class Cluster:
    name: str
    gpu: str
    gpus_per_node: int
    node_link: Link  # between a node's GPUs and the node (where its gradients are summed)
    network: Link  # between nodes


@dataclass(frozen=True)
class Workload:
    """A network to train: its gradient tensors' sizes, the batch per GPU and the single-GPU compute rate."""

    name: str
    tensor_sizes: tuple[int, ...]
    batch_per_gpu: int
    images_per_s: float  # one GPU, compute only (stated: measured, or read from a paper)
    source: str

    @property
    def params(self) -> int:
        return sum(self.tensor_sizes)

    @property
    def compute_s(self) -> float:
        return self.batch_per_gpu / self.images_per_s


def _bits(levels: int) -> int:
    return max(1, math.ceil(math.log2(levels)))


def _coded_bytes(sizes: tuple[int, ...], bits: int) -> int:
    """Bytes of every tensor coded with ``bits`` per element, plus one fp32 scaler per tensor."""
    return sum(math.ceil(n * bits / 8) + 4 for n in sizes)


def exchange_bytes(sizes: tuple[int, ...], scheme: str, gpus_per_node: int, workers: int) -> dict[str, int]:
    """Bytes a GPU pushes, a node pushes (its GPUs' sum) and a node pulls (the cluster's sum), per iteration."""
    if scheme == "fp32":
        b = 4 * sum(sizes)
        return {"gpu_push": b, "node_push": b, "pull": b}
    if scheme == "terngrad":
        return {"gpu_push": _coded_bytes(sizes, 2),
                "node_push": _coded_bytes(sizes, _bits(2 * gpus_per_node + 1)),
                "pull": _coded_bytes(sizes, _bits(2 * workers + 1))}
    raise ValueError(f"scheme must be fp32 or terngrad, not {scheme!r}")


def step_time(work: Workload, cluster: Cluster, gpus: int, scheme: str, pipelined: bool = True) -> dict[str, float]:
    """One iteration on ``gpus`` GPUs: its compute, up, down and total times (s) and the throughput (images/s)."""
    if gpus < 1:
        raise ValueError("gpus must be at least 1")
    per_node = min(gpus, cluster.gpus_per_node)
    nodes = math.ceil(gpus / per_node)
    compute = work.compute_s
    up = down = 0.0
    if gpus > 1:
        b = exchange_bytes(work.tensor_sizes, scheme, per_node, gpus)
        node, net = cluster.node_link, cluster.network
        up = per_node * (b["gpu_push"] / node.bandwidth + node.latency)
        down = per_node * (b["pull"] / node.bandwidth + node.latency)
        if nodes > 1:
            share = (nodes - 1) / nodes
            up += share * b["node_push"] / net.bandwidth + (nodes - 1) * net.latency
            down += share * b["pull"] / net.bandwidth + (nodes - 1) * net.latency
    exchange = max(up, down) if pipelined else up + down
    total = compute + exchange
    return {"compute_s": compute, "up_s": up, "down_s": down, "exchange_s": exchange, "step_s": total,
            "images_per_s": gpus * work.batch_per_gpu / total}


def speedup(work: Workload, cluster: Cluster, gpus: int, pipelined: bool = True) -> float:
    """TernGrad's throughput over fp32's on the same cluster and GPU count."""
    return (step_time(work, cluster, gpus, "terngrad", pipelined)["images_per_s"]
            / step_time(work, cluster, gpus, "fp32", pipelined)["images_per_s"])


def describe(*clusters: Cluster) -> dict:
    """The model's name, version and parameters, for the results' provenance."""
    return {"model": NAME, "version": VERSION, "clusters": [asdict(c) for c in clusters]}
