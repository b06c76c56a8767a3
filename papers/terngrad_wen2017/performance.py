"""TernGrad's Section 5 on the suite's network model: training throughput of fp32 and TernGrad on the paper's
two GPU clusters (simulated).

The clusters and batch sizes are the paper's Fig. 5: (a) 128 nodes of 4 GTX 1080 on a PCI switch, 1 Gbps
Ethernet; (b) 128 nodes of 4 Tesla P100 with NVLink, 100 Gbps InfiniBand; 128, 64 and 32 images per GPU for
AlexNet, GoogLeNet and VggNet-A. The model is :mod:`bench.hardware.network` (the suite's, not the paper's
formula, which could not be recovered). Its inputs:

- the gradient tensors' sizes of torchvision's ``alexnet``, ``googlenet`` (no auxiliary heads) and ``vgg11``
  (VGG configuration A), built on the meta device (no weights), coded by the same codec as the real runs;
- the single-GPU compute rate, *stated*: the paper's own 1-GPU throughputs, digitized from its Fig. 5 (via the
  authors' poster), since this project has neither GPU; they are fp32 figures (the paper's TernGrad 1-GPU
  points are 0-10% lower, the ternarizing cost, which the model leaves out).

The paper's curves (``PAPER_SPEEDUP``) were digitized from the poster's copy of Fig. 5 (images/s read off the
bars, about ±15 images/s on the inset and ±110-300 on the main charts), for the report only: no figure here is
fitted to them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torchvision

from bench.hardware.network import (
    ETHERNET_1G,
    INFINIBAND_EDR,
    NVLINK_P100,
    PCIE3_SWITCH,
    Cluster,
    Workload,
    speedup,
    step_time,
)
from bench.registry import ExperimentConfig, experiment

GPUS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
CLUSTERS = {
    "ethernet": Cluster("(a) 4 GTX 1080 per node, PCI switch, 1 Gbps Ethernet", "GTX 1080", 4, PCIE3_SWITCH,
                        ETHERNET_1G),
    "infiniband": Cluster("(b) 4 Tesla P100 per node, NVLink, 100 Gbps InfiniBand", "Tesla P100", 4, NVLINK_P100,
                          INFINIBAND_EDR),
}
# name: (torchvision builder and its arguments, batch per GPU, 1-GPU images/s on cluster a and b [digitized])
NETWORKS = {
    "alexnet": (("alexnet", {}), 128, {"ethernet": 391.0, "infiniband": 436.0}),
    "googlenet": (("googlenet", {"aux_logits": False, "init_weights": False}), 64,
                  {"ethernet": 176.0, "infiniband": 192.0}),
    "vgg_a": (("vgg11", {}), 32, {"ethernet": 99.0, "infiniband": 102.0}),
}
# TernGrad / fp32 throughput in the paper's Fig. 5, digitized (None where the chart cannot be read)
PAPER_SPEEDUP = {
    "alexnet_ethernet": (0.98, 1.01, 1.02, 3.05, 4.16, 4.03, 4.22, 4.14, 4.06, 3.86),
    "googlenet_ethernet": (1.0, 1.0, 1.0, 1.45, 1.81, 1.80, 1.81, 1.77, 1.74, 1.71),
    "vgg_a_ethernet": (0.91, 1.05, 1.11, None, 7.45, None, None, None, 7.80, 7.89),
    "alexnet_infiniband": (0.97, 0.97, 0.98, 1.20, 1.13, 1.29, 1.29, 1.30, 1.30, 1.31),
    "googlenet_infiniband": (1.0, 1.0, 1.0, 1.03, 1.03, 1.0, 1.03, 1.04, 1.04, 1.04),
    "vgg_a_infiniband": (0.75, 0.94, 0.94, 1.78, 1.97, None, 2.06, 2.27, 2.16, 2.20),
}


def tensor_sizes(builder: str, kwargs: dict) -> tuple[int, ...]:
    """The parameter tensors' sizes of a torchvision model, built on the meta device (no memory, no weights)."""
    with torch.device("meta"):
        model = getattr(torchvision.models, builder)(**kwargs)
    return tuple(p.numel() for p in model.parameters())


def workloads(cluster: str) -> dict[str, Workload]:
    return {name: Workload(name, tensor_sizes(*build), batch, rates[cluster],
                           "1-GPU images/s digitized from the paper's Fig. 5")
            for name, (build, batch, rates) in NETWORKS.items()}


@dataclass
class ThroughputConfig(ExperimentConfig):
    pass


def _metric_names() -> tuple[str, ...]:
    names = []
    for w in NETWORKS:
        for c in CLUSTERS:
            for n in GPUS:
                names += [f"{w}_{c}_speedup_{n}", f"{w}_{c}_fp32_images_per_s_{n}",
                          f"{w}_{c}_terngrad_images_per_s_{n}"]
    return (*names, "alexnet_ethernet_speedup_8_sequential",
            "alexnet_ethernet_peak_gpus", "speedup_grows_with_workers", "ethernet_above_infiniband")


@experiment(config=ThroughputConfig, metrics=_metric_names(), devices=("cpu",))
def throughput_model(cfg: ThroughputConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Simulated fp32 and TernGrad throughput on the paper's clusters, 1 to 512 GPUs (deterministic: no seed).

    ``speedup_grows_with_workers`` is 1 when, for every network on every cluster, TernGrad's speedup never
    falls as the GPU count doubles (1% tolerance); ``ethernet_above_infiniband`` is 1 when, for every network
    and GPU count, the speedup on Ethernet is at least the one on InfiniBand.
    """
    out: dict[str, float] = {}
    grows = above = True
    for c, cluster in CLUSTERS.items():
        for w, work in workloads(c).items():
            curve = []
            for n in GPUS:
                out[f"{w}_{c}_fp32_images_per_s_{n}"] = step_time(work, cluster, n, "fp32")["images_per_s"]
                out[f"{w}_{c}_terngrad_images_per_s_{n}"] = step_time(work, cluster, n, "terngrad")["images_per_s"]
                out[f"{w}_{c}_speedup_{n}"] = speedup(work, cluster, n)
                curve.append(out[f"{w}_{c}_speedup_{n}"])
            grows &= all(b >= 0.99 * a for a, b in zip(curve, curve[1:], strict=False))
    for w in NETWORKS:
        above &= all(out[f"{w}_ethernet_speedup_{n}"] >= out[f"{w}_infiniband_speedup_{n}"] for n in GPUS)
    alexnet = workloads("ethernet")["alexnet"]
    out["alexnet_ethernet_speedup_8_sequential"] = speedup(alexnet, CLUSTERS["ethernet"], 8, pipelined=False)
    out["alexnet_ethernet_peak_gpus"] = float(max(GPUS, key=lambda n: out[f"alexnet_ethernet_speedup_{n}"]))
    out["speedup_grows_with_workers"] = float(grows)
    out["ethernet_above_infiniband"] = float(above)
    return out
