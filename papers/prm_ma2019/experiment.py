"""P-RM on LeNet-5/MNIST: filter+column ADMM pruning, then network purification and unused path removal.

One pretrained network per seed is pruned by ADMM onto filters and columns of every layer
(``bench/compress/mnist_lenet.structured_projections`` in the template's proportions, at ``admm_rate``) and
retrained with masks; P-RM then purifies it and removes unused paths (``method.py``) and retrains briefly with
the new masks. The rate and accuracy before and after P-RM, and the share unused path removal alone adds, are
reported.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from bench.compress import mnist_lenet as lenet
from bench.compress.admm import Masks, prune_rate
from bench.registry import experiment
from papers.prm_ma2019 import method


@dataclass
class PRMConfig(lenet.LeNetADMMConfig):
    admm_rate: float = 120.0  # filter+column ADMM target [assumption: the paper's structured rate before P-RM]
    emptiness: float = 0.9  # purification: share of zero weights in a channel group or filter (η) [assumption]
    importance: float = 0.5  # purification: at most this × the layer's mean group norm (σ) [assumption]
    prm_retrain_epochs: float = 10.0  # masked retraining after P-RM [assumption]

    def __post_init__(self):
        super().__post_init__()
        if not 0 < self.emptiness <= 1 or self.importance < 0:
            raise ValueError("emptiness must be in (0, 1] and importance >= 0")


def _rate(model) -> float:
    return prune_rate({n: w.detach() for n, w in lenet.weights(model).items()})


@experiment(config=PRMConfig, metrics=(
    "baseline_accuracy_pct", "admm_accuracy_pct", "admm_rate", "unused_path_rate", "prm_rate", "prm_accuracy_pct",
    "prm_gain", "unused_path_gain", "prm_loss_pp", "total_loss_pp"))
def lenet_prm(cfg: PRMConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Filter+column ADMM pruning of LeNet-5, then P-RM; rates and accuracies before and after."""
    x, y, xt, yt = lenet.mnist(cfg, seed, device)
    base = lenet.pretrain(x, y, cfg, seed, device)
    out = {"baseline_accuracy_pct": lenet.accuracy_pct(base, xt, yt)}
    model = copy.deepcopy(base)
    masks = lenet.admm_stage(model, lenet.structured_projections(cfg.admm_rate, "template"), x, y, cfg, seed, 2,
                             desc="filter+column admm")
    lenet.retrain(model, masks, x, y, cfg, seed, 3, desc="retrain")
    out["admm_accuracy_pct"] = lenet.accuracy_pct(model, xt, yt)
    out["admm_rate"] = _rate(model)

    paths_only = copy.deepcopy(model)
    method.remove_unused_paths(paths_only)
    out["unused_path_rate"] = _rate(paths_only)

    method.purify(model, cfg.emptiness, cfg.importance)
    method.remove_unused_paths(model)
    w = lenet.weights(model)
    lenet.retrain(model, Masks({n: (t, t.detach() != 0) for n, t in w.items()}), x, y, cfg, seed, 4,
                  epochs=cfg.prm_retrain_epochs, desc="P-RM retrain")
    out["prm_accuracy_pct"] = lenet.accuracy_pct(model, xt, yt)
    out["prm_rate"] = _rate(model)
    out["prm_gain"] = out["prm_rate"] / out["admm_rate"]
    out["unused_path_gain"] = out["unused_path_rate"] / out["admm_rate"]
    out["prm_loss_pp"] = out["admm_accuracy_pct"] - out["prm_accuracy_pct"]
    out["total_loss_pp"] = out["baseline_accuracy_pct"] - out["prm_accuracy_pct"]
    return out
