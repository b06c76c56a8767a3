"""Progressive ADMM on LeNet-5/MNIST: one-shot against progressive pruning at equal epochs, and binarization.

Both arms of a seed start from the same pretrained dense network. One-shot ADMM prunes straight to the target
rate in one stage of ``2·admm_epochs`` then retrains ``2·retrain_epochs``; progressive ADMM spends the same
epochs in two stages (``admm_epochs`` + ``retrain_epochs`` each): to ``stage1_rate`` first, then to the target
with the weights pruned by stage 1 frozen at zero. Per-layer ratios keep the authors' template proportions
(``bench.compress.mnist_lenet.ratios_for_rate``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from bench.compress import mnist_lenet as lenet
from bench.compress.admm import Irregular, prune_rate
from bench.registry import experiment


@dataclass
class ProgressivePruningConfig(lenet.LeNetADMMConfig):
    """Paper: 246× on LeNet-5 in two steps (the first at about half the final rate [assumption, module docstring
    of the paper])."""

    target_rate: float = 246.0
    stage1_rate: float = 123.0

    def __post_init__(self):
        super().__post_init__()
        if not 1 < self.stage1_rate < self.target_rate:
            raise ValueError("need 1 < stage1_rate < target_rate")


def _irregular(rate: float) -> dict[str, Irregular]:
    return {n: Irregular(r) for n, r in lenet.ratios_for_rate(rate).items()}


def _rate(model) -> float:
    return prune_rate({n: w.detach() for n, w in lenet.weights(model).items()})


@experiment(config=ProgressivePruningConfig, metrics=(
    "baseline_accuracy_pct", "oneshot_accuracy_pct", "oneshot_rate", "oneshot_loss_pp",
    "progressive_stage1_accuracy_pct", "progressive_stage1_rate", "progressive_accuracy_pct", "progressive_rate",
    "progressive_loss_pp", "progressive_gain_pp"))
def lenet_progressive_pruning(cfg: ProgressivePruningConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Irregular ADMM pruning of LeNet-5 to ``target_rate``: one stage against two at equal epochs."""
    x, y, xt, yt = lenet.mnist(cfg, seed, device)
    base = lenet.pretrain(x, y, cfg, seed, device)
    out = {"baseline_accuracy_pct": lenet.accuracy_pct(base, xt, yt)}

    oneshot = copy.deepcopy(base)
    masks = lenet.admm_stage(oneshot, _irregular(cfg.target_rate), x, y, cfg, seed, 2, epochs=2 * cfg.admm_epochs,
                             desc="one-shot admm")
    lenet.retrain(oneshot, masks, x, y, cfg, seed, 3, epochs=2 * cfg.retrain_epochs, desc="one-shot retrain")
    out["oneshot_accuracy_pct"] = lenet.accuracy_pct(oneshot, xt, yt)
    out["oneshot_rate"] = _rate(oneshot)

    prog = copy.deepcopy(base)
    masks = lenet.admm_stage(prog, _irregular(cfg.stage1_rate), x, y, cfg, seed, 4, desc="progressive admm 1")
    lenet.retrain(prog, masks, x, y, cfg, seed, 5, desc="progressive retrain 1")
    out["progressive_stage1_accuracy_pct"] = lenet.accuracy_pct(prog, xt, yt)
    out["progressive_stage1_rate"] = _rate(prog)
    masks = lenet.admm_stage(prog, _irregular(cfg.target_rate), x, y, cfg, seed, 6, frozen=masks,
                             desc="progressive admm 2")
    lenet.retrain(prog, masks, x, y, cfg, seed, 7, desc="progressive retrain 2")
    out["progressive_accuracy_pct"] = lenet.accuracy_pct(prog, xt, yt)
    out["progressive_rate"] = _rate(prog)

    out["oneshot_loss_pp"] = out["baseline_accuracy_pct"] - out["oneshot_accuracy_pct"]
    out["progressive_loss_pp"] = out["baseline_accuracy_pct"] - out["progressive_accuracy_pct"]
    out["progressive_gain_pp"] = out["progressive_accuracy_pct"] - out["oneshot_accuracy_pct"]
    return out


@experiment(config=lenet.BinarizeConfig, metrics=lenet.BINARIZE_METRICS)
def lenet_binarize(cfg: lenet.BinarizeConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Every weight of LeNet-5 binarized by ADMM: one-shot against progressive (middle layers, then the first
    and last) at equal epochs (``bench.compress.mnist_lenet.binarize``)."""
    return lenet.binarize(cfg, seed, device)
