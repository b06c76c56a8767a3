"""The pneumonia paper's proxy: combined filter+column sparsity against filter or column sparsity alone, at the same
compression of every pruned layer, by ADMM on Caffe's CIFAR-10 ConvNet (the JPEG q75 re-encoding, a 10k-image
training subset).

Per seed: one dense ConvNet (``bench.compress.cifar_convnet``) is pretrained; from the same weights four arms get
the same further epochs (``admm_epochs + retrain_epochs``):

- ``dense``: trained on, no constraint;
- ``filter``, ``column``, ``combined``: ADMM onto that sparsity of conv2 and conv3 at ``compression``× each, hard
  projection, masked retraining.

Test accuracy on the 10k CIFAR-10 test images; the kept fraction of the pruned layers per arm.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from bench.compress.admm import ADMM, admm_train, masked_retrain
from bench.compress.cifar_convnet import CaffeCifarConvNet, ConvNetConfig, accuracy_pct, batches, cifar10
from bench.registry import experiment
from bench.train import seed_everything, steps_for, train
from papers.pneumonia_li2019 import method

ARMS = ("dense", *method.KINDS)


@dataclass
class CombinedConfig(ConvNetConfig):
    """Caffe's ConvNet, its batch and weight decay; the schedule is the suite's [assumption: the paper trains a
    106-layer detector on RSNA; no setting of it transfers]."""

    train_examples: int = 10_000
    test_examples: int = 10_000
    # settings chosen on calibration seed 1000 only, before the verdict runs, on health metrics alone: 8
    # pretraining epochs and 3 + 1.5 took 190 s a seed (too long for three seeds in 10 minutes), 6 and 2.5 + 1 take
    # 150 s (pretrained 53.8%, the Caffe recipe's lr 1e-3 kept); ρ from 0.3 (largest relative ADMM residual
    # ‖W − Z‖/‖W‖ 0.84: the hard projection did the pruning) to 1.0 (0.09) and 3.0 (0.06): the smaller taken
    pretrain_epochs: float = 6.0  # SGD momentum 0.9 at pretrain_lr, cosine to 0
    pretrain_lr: float = 0.001
    admm_epochs: float = 2.5  # SGD momentum 0.9 at lr, the dual update every half epoch
    retrain_epochs: float = 1.0  # masked, from lr, cosine to 0
    lr: float = 0.001
    rho: float = 1.0
    rho_mult: float = 1.3
    compression: float = 4.0  # per pruned layer, every arm

    def __post_init__(self):
        self.pretrain_drops = list(self.pretrain_drops)


def _sgd(model, lr: float, cfg: CombinedConfig) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=cfg.weight_decay)


def _cosine(opt, steps: int):
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)


def _arm(base, arm: str, x, y, cfg: CombinedConfig, seed: int, salt: int):
    model = copy.deepcopy(base)
    n = len(x)
    admm_steps = steps_for(cfg.admm_epochs, n, cfg.batch_size)
    retrain_steps = steps_for(cfg.retrain_epochs, n, cfg.batch_size)
    if arm == "dense":
        steps = admm_steps + retrain_steps
        opt = _sgd(model, cfg.lr, cfg)
        train(model, batches(x, y, cfg, seed, salt), steps=steps, optimizer=opt, scheduler=_cosine(opt, steps),
              desc="dense train on")
        return model, 0.0
    per_update = max(1, steps_for(0.5, n, cfg.batch_size))
    engine = ADMM(method.targets(model, arm, cfg.compression), rho=cfg.rho, rho_mult=cfg.rho_mult)
    admm_train(model, engine, batches(x, y, cfg, seed, salt), updates=max(1, admm_steps // per_update),
               steps_per_update=per_update, optimizer=_sgd(model, cfg.lr, cfg), desc=f"{arm} admm")
    residual = max(engine.residuals().values())
    masks = engine.project_()
    opt = _sgd(model, cfg.lr, cfg)
    masked_retrain(model, masks, batches(x, y, cfg, seed, salt + 1), steps=retrain_steps, optimizer=opt,
                   scheduler=_cosine(opt, retrain_steps), desc=f"{arm} retrain")
    return model, residual


def _kept_fraction(model) -> float:
    ws = method.pruned_weights(model).values()
    return sum(int((w != 0).sum()) for w in ws) / sum(w.numel() for w in ws)


@experiment(config=CombinedConfig, metrics=(
    "combined_minus_filter_pp", "combined_minus_column_pp", "combined_minus_dense_pp", "pretrained_accuracy_pct",
    *(f"accuracy_{a}_pct" for a in ARMS), *(f"kept_fraction_{k}" for k in method.KINDS),
    *(f"admm_residual_{k}" for k in method.KINDS)))
def cifar_combined_sparsity(cfg: CombinedConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Dense, filter, column and combined arms from one pretrained ConvNet."""
    x, y, xt, yt = cifar10(cfg, seed, device)
    seed_everything(seed)
    base = CaffeCifarConvNet().to(device)
    steps = steps_for(cfg.pretrain_epochs, len(x), cfg.batch_size)
    opt = _sgd(base, cfg.pretrain_lr, cfg)
    train(base, batches(x, y, cfg, seed, 1), steps=steps, optimizer=opt, scheduler=_cosine(opt, steps),
          desc=f"pretrain seed {seed}")
    out = {"pretrained_accuracy_pct": accuracy_pct(base, xt, yt)}
    for i, arm in enumerate(ARMS):
        model, residual = _arm(base, arm, x, y, cfg, seed, 10 * (i + 2))
        out[f"accuracy_{arm}_pct"] = accuracy_pct(model, xt, yt)
        if arm != "dense":
            out[f"kept_fraction_{arm}"] = _kept_fraction(model)
            out[f"admm_residual_{arm}"] = residual
    for other in ("filter", "column", "dense"):
        out[f"combined_minus_{other}_pp"] = out["accuracy_combined_pct"] - out[f"accuracy_{other}_pct"]
    return out
