"""Tiny but Accurate's pipeline on LeNet-5/MNIST: filter+column ADMM, P-RM, retraining with and without distillation
from the software model, 8-bit memristor weights, and the crossbars each network takes.

Per seed one dense LeNet-5 is pretrained (the software model) and pruned by filter+column ADMM (``admm_rate`` in the
template's proportions, as ``prm_ma2019``) with masked retraining; P-RM then purifies it and removes unused paths
(``papers/prm_ma2019/method.py``). From the same P-RM weights, the same data order and the same steps, two arms are
retrained with the new masks:

- ``plain``: cross-entropy on the labels (``prm_ma2019``'s retraining);
- ``kd``: Hinton's distillation loss from the dense pretrained network (``method.DistillationLoss``).

Each arm's weights are then made 8-bit (``method.quantize_``). The 8-bit networks before P-RM (the ADMM one), after
P-RM (the distilled arm) and the dense one are mapped onto crossbars (``method.ARRAY``; simulated, the suite's model).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from bench.compress import mnist_lenet as lenet
from bench.compress.admm import Masks, prune_rate
from bench.registry import experiment
from bench.train import classification_loss, steps_for, train
from papers.prm_ma2019 import method as prm
from papers.tiny_accurate_ma2019 import method


@dataclass
class TinyConfig(lenet.LeNetADMMConfig):
    """The authors' MNIST template (``bench/compress/mnist_lenet.py``) with P-RM's and distillation's knobs."""

    admm_rate: float = 120.0  # filter+column ADMM target before P-RM [assumption: prm_ma2019's; the paper's unknown]
    emptiness: float = 0.9  # purification's emptiness ratio η (prm_ma2019's assumption)
    importance: float = 0.5  # purification's importance bound σ (prm_ma2019's assumption)
    prm_retrain_epochs: float = 10.0  # masked retraining after P-RM, each arm (prm_ma2019's assumption)
    temperature: float = method.TEMPERATURE  # distillation temperature T [assumption]
    alpha: float = method.ALPHA  # weight of the distillation term [assumption]
    weight_bits: int = method.WEIGHT_BITS  # memristor weight bits (abstract: 8)

    def __post_init__(self):
        super().__post_init__()
        if not 0 < self.emptiness <= 1 or self.importance < 0:
            raise ValueError("emptiness must be in (0, 1] and importance >= 0")
        if self.temperature <= 0 or not 0 <= self.alpha <= 1 or self.weight_bits < 2:
            raise ValueError("temperature must be > 0, alpha in [0, 1] and weight_bits >= 2")


ARMS = ("plain", "kd")


def _rate(model) -> float:
    return prune_rate({n: w.detach() for n, w in lenet.weights(model).items()})


def _retrain(model, teacher, x, y, cfg: TinyConfig, seed: int, desc: str) -> None:
    """Masked retraining after P-RM (Adam, the template's), on cross-entropy or distilled from ``teacher``."""
    if cfg.prm_retrain_epochs <= 0:
        return
    masks = Masks({n: (w, w.detach() != 0) for n, w in lenet.weights(model).items()})
    loss = classification_loss if teacher is None else method.DistillationLoss(teacher, cfg.temperature, cfg.alpha)
    train(model, lenet.batches(x, y, cfg, seed, 4), steps=steps_for(cfg.prm_retrain_epochs, len(x), cfg.batch_size),
          optimizer=torch.optim.Adam(model.parameters(), lr=cfg.retrain_lr), loss_fn=loss,
          after_backward=masks.apply_grad_, after_step=masks.apply_, desc=desc)


@experiment(config=TinyConfig, metrics=(
    "dense_accuracy_pct", "dense_8bit_accuracy_pct", "admm_accuracy_pct", "admm_rate", "prm_rate", "prm_gain",
    "plain_accuracy_pct", "kd_accuracy_pct", "plain_8bit_accuracy_pct", "kd_8bit_accuracy_pct",
    "quant_loss_pp", "quant_loss_plain_pp", "kd_gain_pp", "kd_gain_float_pp", "total_loss_pp", "final_rate",
    "arrays_dense", "arrays_before", "arrays_after", "arrays_after_over_before", "arrays_dense_over_after",
    "arrays32_before", "arrays32_after", "arrays32_after_over_before"))
def lenet_tiny(cfg: TinyConfig, seed: int, device: torch.device) -> dict[str, float]:
    """ADMM filter+column pruning, P-RM, plain and distilled retraining, 8-bit weights, crossbars; LeNet-5."""
    x, y, xt, yt = lenet.mnist(cfg, seed, device)
    base = lenet.pretrain(x, y, cfg, seed, device)
    out = {"dense_accuracy_pct": lenet.accuracy_pct(base, xt, yt)}
    dense8 = method.quantized(base, cfg.weight_bits)
    out["dense_8bit_accuracy_pct"] = lenet.accuracy_pct(dense8, xt, yt)
    out["arrays_dense"] = method.crossbars(dense8)

    model = copy.deepcopy(base)
    masks = lenet.admm_stage(model, lenet.structured_projections(cfg.admm_rate, "template"), x, y, cfg, seed, 2,
                             desc="filter+column admm")
    lenet.retrain(model, masks, x, y, cfg, seed, 3, desc="retrain")
    out["admm_accuracy_pct"] = lenet.accuracy_pct(model, xt, yt)
    out["admm_rate"] = _rate(model)
    before8 = method.quantized(model, cfg.weight_bits)  # the network before P-RM, as it would be mapped
    out["arrays_before"] = method.crossbars(before8)
    out["arrays32_before"] = method.crossbars(before8, method.SMALL_ARRAY)

    prm.purify(model, cfg.emptiness, cfg.importance)
    prm.remove_unused_paths(model)
    out["prm_rate"] = _rate(model)
    out["prm_gain"] = out["prm_rate"] / out["admm_rate"]

    arms = {}
    for arm in ARMS:  # the same P-RM weights, data order and steps; only the loss differs
        arms[arm] = copy.deepcopy(model)
        _retrain(arms[arm], base if arm == "kd" else None, x, y, cfg, seed, desc=f"P-RM retrain ({arm})")
        out[f"{arm}_accuracy_pct"] = lenet.accuracy_pct(arms[arm], xt, yt)
        method.quantize_(arms[arm], cfg.weight_bits)
        out[f"{arm}_8bit_accuracy_pct"] = lenet.accuracy_pct(arms[arm], xt, yt)

    final = arms["kd"]
    out["final_rate"] = _rate(final)
    out["arrays_after"] = method.crossbars(final)
    out["arrays32_after"] = method.crossbars(final, method.SMALL_ARRAY)
    out["arrays_after_over_before"] = out["arrays_after"] / out["arrays_before"]
    out["arrays32_after_over_before"] = out["arrays32_after"] / out["arrays32_before"]
    out["arrays_dense_over_after"] = out["arrays_dense"] / out["arrays_after"]
    out["quant_loss_pp"] = out["kd_accuracy_pct"] - out["kd_8bit_accuracy_pct"]
    out["quant_loss_plain_pp"] = out["plain_accuracy_pct"] - out["plain_8bit_accuracy_pct"]
    out["kd_gain_pp"] = out["kd_8bit_accuracy_pct"] - out["plain_8bit_accuracy_pct"]
    out["kd_gain_float_pp"] = out["kd_accuracy_pct"] - out["plain_accuracy_pct"]
    out["total_loss_pp"] = out["dense_accuracy_pct"] - out["kd_8bit_accuracy_pct"]
    return out
