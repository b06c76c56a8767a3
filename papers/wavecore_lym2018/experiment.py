"""MBS against layer-by-layer training of ResNet-50 on the suite's analytic traffic, time and energy model.

One run (the model is deterministic: the seed is unused) builds ResNet-50's layer shapes at ``image``×``image``,
groups its layers with the suite's greedy rule for a buffer of ``buffer_mib`` MiB and a mini-batch of ``batch``
(``method.greedy_groups``), and compares the DRAM bytes, roofline time and energy of one training step with those
of layer-by-layer execution (``method.singletons``). The headline mode keeps every GEMM input a layer's backward
needs saved in DRAM (``inner="store"``); the recompute variant (group inputs only, forward run again in backward)
is reported beside it as context.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.registry import ExperimentConfig, experiment
from papers.wavecore_lym2018 import method


@dataclass
class WaveCoreConfig(ExperimentConfig):
    """The suite's setting [assumptions: the paper's body was not reachable, see the package docstring]."""

    image: int = 224  # input side (ImageNet-shaped)
    batch: int = 32  # mini-batch per accelerator
    buffer_mib: float = 10.0  # on-chip global buffer (MiB)
    word: int = 2  # bytes per element (fp16)
    inner: str = "store"  # backward's inner activations: "store" (saved to DRAM) or "recompute"


def run(cfg: WaveCoreConfig, inner: str) -> dict[str, float]:
    """Baseline and MBS figures of one setting."""
    net = method.resnet50(cfg.image)
    buffer = int(cfg.buffer_mib * 2**20)
    base = method.evaluate(net, method.singletons(net), cfg.batch, buffer, cfg.word)
    groups = method.greedy_groups(net, cfg.batch, buffer, cfg.word, inner)
    mbs = method.evaluate(net, groups, cfg.batch, buffer, cfg.word, inner=inner)
    return {"dram_traffic_reduction": 1 - mbs["bytes"] / base["bytes"],
            "speedup": base["time_s"] / mbs["time_s"],
            "energy_saving": 1 - mbs["energy_j"] / base["energy_j"],
            "baseline_gb": base["bytes"] / 1e9, "mbs_gb": mbs["bytes"] / 1e9,
            "baseline_weight_gb": base["weight_bytes"] / 1e9, "mbs_weight_gb": mbs["weight_bytes"] / 1e9,
            "baseline_ms": base["time_s"] * 1e3, "mbs_ms": mbs["time_s"] * 1e3,
            "baseline_mj": base["energy_j"] * 1e3, "mbs_mj": mbs["energy_j"] * 1e3,
            "macs_ratio": mbs["macs"] / base["macs"],
            "groups": mbs["groups"], "multi_layer_groups": float(sum(len(g) > 1 for g in groups)),
            "mean_sub_batch": mbs["mean_sub_batch"]}


METRICS = ("dram_traffic_reduction", "speedup", "energy_saving", "baseline_gb", "mbs_gb", "baseline_weight_gb",
           "mbs_weight_gb", "baseline_ms", "mbs_ms", "baseline_mj", "mbs_mj", "macs_ratio", "groups",
           "multi_layer_groups", "mean_sub_batch")


@experiment(config=WaveCoreConfig, metrics=METRICS + ("buffer_bytes", "layers", "dram_traffic_reduction_recompute",
                                                      "speedup_recompute", "energy_saving_recompute"))
def resnet50_mbs_traffic(cfg: WaveCoreConfig, seed: int, device: torch.device) -> dict[str, float]:
    """One training step of ResNet-50, MBS against layer by layer (``cfg.inner``), and the other inner mode."""
    out = run(cfg, cfg.inner)
    other = run(cfg, "recompute" if cfg.inner == "store" else "store")
    out["buffer_bytes"] = float(int(cfg.buffer_mib * 2**20))
    out["layers"] = float(len(method.resnet50(cfg.image).layers))
    # named for the default mode's alternative; with inner="recompute" these hold the store mode's figures
    out["dram_traffic_reduction_recompute"] = other["dram_traffic_reduction"]
    out["speedup_recompute"] = other["speedup"]
    out["energy_saving_recompute"] = other["energy_saving"]
    return out
