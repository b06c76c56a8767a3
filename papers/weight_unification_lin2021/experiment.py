"""Weight unification's proxy: ADMM onto micro-structured unification against one-shot unification at the same
share (the same storage), and against the dense network, on CIFAR-10 (the JPEG q75 re-encoding, a 10k-image
training subset).

Per seed: one dense ``PatternCNN`` (PCONV's 4-conv 3×3 CNN) is pretrained. From the same weights three arms get the
same further epochs (``admm_epochs + retrain_epochs``):

- ``dense``: trained on, no constraint;
- ``admm``: ADMM onto ``Unify(share, 1×4)`` of conv2–conv4, hard projection, then retraining with the unified
  blocks fixed and every other weight trained;
- ``one_shot``: the pretrained network projected at once, then the same retraining for all the epochs.

Test accuracy on the 10k CIFAR-10 test images; the share of unified blocks at the end (it must be at least
``share``) and the storage of the unified convs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from bench.compress.admm import ADMM, admm_train
from bench.compress.cifar_convnet import batches, cifar10
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, seed_everything, steps_for, train
from papers.weight_unification_lin2021 import method

ARMS = ("dense", "admm", "one_shot")


@dataclass
class UnificationConfig(ExperimentConfig):
    """PCONV's cpu setting (``papers.pconv_ma2020.experiment.PatternConfig``; ρ 0.3 chosen there on a calibration
    seed by the ADMM residual alone) [assumption: the paper's schedules were not read]."""

    train_examples: int = 10_000
    test_examples: int = 10_000
    batch_size: int = 128
    widths: tuple[int, int, int, int] = (16, 16, 32, 32)
    pretrain_epochs: float = 10.0  # SGD momentum 0.9, lr 0.05, cosine
    pretrain_lr: float = 0.05
    admm_epochs: float = 4.0  # SGD momentum 0.9 at lr, the dual update every half epoch
    retrain_epochs: float = 2.0  # unified blocks fixed, SGD momentum 0.9 from lr, cosine to 0
    lr: float = 0.01
    weight_decay: float = 5e-4
    rho: float = 0.3
    rho_mult: float = 1.3
    share: float = 0.75  # of the 1x4 blocks of conv2-conv4 unified (SOURCES-WAVE2.md proposes 50-75%)
    block: tuple[int, int] = (1, 4)

    def __post_init__(self):
        self.widths = tuple(self.widths)
        self.block = tuple(self.block)


def _sgd(model, lr: float, cfg: UnificationConfig) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=cfg.weight_decay)


def _cosine(opt, steps: int):
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)


def _retrain_unified(model, tgts, x, y, cfg: UnificationConfig, seed: int, salt: int, steps: int, desc: str):
    """Project every target, then train with the unified blocks fixed."""
    frozen = method.FrozenUnified(tgts)
    opt = _sgd(model, cfg.lr, cfg)
    train(model, batches(x, y, cfg, seed, salt), steps=steps, optimizer=opt, scheduler=_cosine(opt, steps),
          after_backward=frozen.apply_grad_, after_step=frozen.apply_, desc=desc)


def _arm(base, arm: str, x, y, cfg: UnificationConfig, seed: int, salt: int):
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
    tgts = method.targets(model, cfg.share, cfg.block)
    if arm == "one_shot":
        _retrain_unified(model, tgts, x, y, cfg, seed, salt, admm_steps + retrain_steps, "one-shot retrain")
        return model, 0.0
    per_update = max(1, steps_for(0.5, n, cfg.batch_size))
    engine = ADMM(tgts, rho=cfg.rho, rho_mult=cfg.rho_mult)
    admm_train(model, engine, batches(x, y, cfg, seed, salt), updates=max(1, admm_steps // per_update),
               steps_per_update=per_update, optimizer=_sgd(model, cfg.lr, cfg), desc="admm")
    residual = max(engine.residuals().values())
    _retrain_unified(model, tgts, x, y, cfg, seed, salt + 1, retrain_steps, "admm retrain")
    return model, residual


@experiment(config=UnificationConfig, metrics=(
    "admm_minus_one_shot_pp", "admm_minus_dense_pp", "pretrained_accuracy_pct",
    *(f"accuracy_{a}_pct" for a in ARMS), "unified_share_admm", "unified_share_one_shot", "admm_residual",
    "storage_compression"))
def cifar_unification(cfg: UnificationConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Dense, ADMM-unified and one-shot-unified arms from one pretrained network."""
    x, y, xt, yt = cifar10(cfg, seed, device)
    seed_everything(seed)
    base = method.PatternCNN(cfg.widths).to(device)
    steps = steps_for(cfg.pretrain_epochs, len(x), cfg.batch_size)
    opt = _sgd(base, cfg.pretrain_lr, cfg)
    train(base, batches(x, y, cfg, seed, 1), steps=steps, optimizer=opt, scheduler=_cosine(opt, steps),
          desc=f"pretrain seed {seed}")
    out = {"pretrained_accuracy_pct": 100 * accuracy(base, xt, yt)}
    for i, arm in enumerate(ARMS):
        model, residual = _arm(base, arm, x, y, cfg, seed, 10 * (i + 2))
        out[f"accuracy_{arm}_pct"] = 100 * accuracy(model, xt, yt)
        if arm != "dense":
            out[f"unified_share_{arm}"] = method.unified_share(model, cfg.block)
        if arm == "admm":
            out["admm_residual"] = residual
            bits, dense_bits = method.storage_bits(model, cfg.block)
            out["storage_compression"] = dense_bits / bits
    out["admm_minus_one_shot_pp"] = out["accuracy_admm_pct"] - out["accuracy_one_shot_pct"]
    out["admm_minus_dense_pp"] = out["accuracy_admm_pct"] - out["accuracy_dense_pct"]
    return out
