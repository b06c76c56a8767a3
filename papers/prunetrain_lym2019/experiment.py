"""PruneTrain's proxy: a CIFAR ResNet trained from scratch twice from the same initial weights and data order,
densely and with PruneTrain (channel group Lasso with λ set once at the first batch, then every
``reconf_interval`` epochs the small weights zeroed and the network rebuilt from its surviving channels), and
compared in cumulative training FLOPs, final inference FLOPs, CPU training wall time and test accuracy.

Per seed:

- ``dense``: ``epochs`` of SGD (momentum 0.9, weight decay, step decays at ``milestones``), the architecture fixed;
- ``prunetrain``: the same, with ``method.group_terms`` (SSL's group Lasso over PruneTrain's channel groups) added
  to the gradient after each backward pass, λ set by ``method.auto_lambda`` from the first batch's loss and penalty
  (``penalty_ratio`` r: λR/(λR + L) = r) and then fixed, and at the end of every ``reconf_interval`` epochs
  ``method.zero_small_`` and ``method.reconfigure`` (the optimizer's momentum carried over, or a fresh optimizer
  with ``carry_state`` off as the original code does every epoch).

Cumulative training FLOPs count one forward and backward pass of a batch of the architecture in force at every
step (``method.FlopLedger``; convolutions and matrix products as ``torch.utils.flop_counter`` counts them, so
BatchNorm, ReLU and the optimizer's update are not in it, for either arm). The wall time is each arm's training loop
alone (data order and augmentation included, evaluation excluded), both arms in one process one after the other.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch

from bench import data
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, classification_loss, random_crop_flip, seed_everything, shuffled_batches, train
from papers.prunetrain_lym2019 import method
from papers.ssl_wen2016.method import GroupLasso


@dataclass
class PruneTrainConfig(ExperimentConfig):
    """``configs/cifar_resnet32.yaml`` and ``src/cifar.py`` of the authors' code (read through
    ``../shared/SOURCES-WAVE2.md``): SGD lr 0.1, momentum 0.9, weight decay 5e-4, batch 128, lr × 0.1 at 91 and
    136 of 182 epochs, r = 0.2, zeroing threshold 1e-4, reconfiguration every 10 epochs."""

    depth: int = 32
    stage_widths: tuple[int, ...] = (16, 32, 64)
    train_examples: int = 50000
    test_examples: int = 10000
    batch_size: int = 128
    epochs: int = 182
    milestones: tuple[float, ...] = (91 / 182, 136 / 182)  # fractions of the run: lr × 0.1 from these epochs
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    penalty_ratio: float = 0.2  # r: the group Lasso's share of the first batch's objective
    zero_threshold: float = 1e-4
    reconf_interval: int = 10  # epochs between reconfigurations
    carry_state: bool = True  # momentum buffers sliced into the rebuilt network's optimizer
    channels_last: bool = True

    def __post_init__(self):
        self.stage_widths = tuple(self.stage_widths)
        self.milestones = tuple(self.milestones)
        if self.train_examples < self.batch_size:
            raise ValueError("train_examples must be at least batch_size")


def _lr_at(cfg: PruneTrainConfig, epoch: int) -> float:
    return cfg.lr * 0.1 ** sum(epoch >= round(m * cfg.epochs) for m in cfg.milestones)


def _run(cfg: PruneTrainConfig, model: method.PrunableResNet, x, y, seed: int, prune: bool, fmt
         ) -> tuple[method.PrunableResNet, float, int, float]:
    """Train one arm; return the final model, its training wall seconds, cumulative training FLOPs and its λ."""
    crop_flip = random_crop_flip(4)

    def augment(xb: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        return crop_flip(xb, g).contiguous(memory_format=fmt)  # the crop's gather returns NCHW

    def data_order() -> torch.Generator:  # the same data order and augmentation in both arms
        return torch.Generator().manual_seed(seed + 1_000_003)

    batches = shuffled_batches(x, y, cfg.batch_size, data_order(), augment)
    per_epoch = len(x) // cfg.batch_size
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    ledger = method.FlopLedger()
    lam = 0.0
    start = time.perf_counter()
    if prune:  # λ from the first batch (the code: the first batch of epoch 1), then fixed
        first = next(shuffled_batches(x, y, cfg.batch_size, data_order(), augment))
        probe = copy.deepcopy(model)  # a training-mode forward would move the BatchNorm statistics
        with torch.no_grad():
            loss0 = float(classification_loss(probe, first))
        lam = method.auto_lambda(loss0, method.penalty_sum(model), cfg.penalty_ratio)
    for epoch in range(cfg.epochs):
        for group in opt.param_groups:
            group["lr"] = _lr_at(cfg, epoch)
        hooks = {"after_backward": GroupLasso(method.group_terms(model, lam)).add_grad_} if prune else {}
        ledger.add(model, per_epoch, cfg.batch_size)
        train(model, batches, steps=per_epoch, optimizer=opt, desc=f"{'prunetrain' if prune else 'dense'} "
              f"epoch {epoch + 1}/{cfg.epochs}", **hooks)
        if prune and ((epoch + 1) % cfg.reconf_interval == 0 or epoch + 1 == cfg.epochs):  # the last: the final net
            method.zero_small_(model, cfg.zero_threshold)
            model, opt, _ = method.reconfigure(model, opt, carry_state=cfg.carry_state)
            model.to(memory_format=fmt)
    return model, time.perf_counter() - start, ledger.total, lam


@experiment(config=PruneTrainConfig, metrics=(
    "training_flops_ratio", "accuracy_drop_pp", "train_time_ratio", "inference_flops_ratio", "accuracy_dense_pct",
    "accuracy_prunetrain_pct", "params_kept_fraction", "channels_kept_fraction", "lam", "train_s_dense",
    "train_s_prunetrain"))
def cifar_prunetrain(cfg: PruneTrainConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Dense and PruneTrain ResNets from the same initialization and data order."""
    ds = data.load("cifar10")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds.train), generator=g)[:cfg.train_examples]
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    x = ds.normalized("train")[idx].to(device, memory_format=fmt)
    y = ds.train.y[idx].to(device)
    xt = ds.normalized("test")[:cfg.test_examples].to(device, memory_format=fmt)
    yt = ds.test.y[:cfg.test_examples].to(device)
    seed_everything(seed)
    dense0 = method.PrunableResNet(cfg.depth, cfg.stage_widths).to(device, memory_format=fmt)
    pruned0 = method.PrunableResNet(cfg.depth, cfg.stage_widths).to(device, memory_format=fmt)
    pruned0.load_state_dict(dense0.state_dict())
    example = (cfg.batch_size, 3, 32, 32)
    dense, t_dense, f_dense, _ = _run(cfg, dense0, x, y, seed, False, fmt)
    pruned, t_pruned, f_pruned, lam = _run(cfg, pruned0, x, y, seed, True, fmt)
    acc_d, acc_p = (100 * accuracy(m, xt, yt, 500) for m in (dense, pruned))
    n_params = [method.n_params(m) for m in (dense, pruned)]
    widths = [sum(m.spec()["stage_widths"]) + sum(m.spec()["inner_widths"]) for m in (dense, pruned)]
    return {"training_flops_ratio": f_pruned / f_dense, "accuracy_drop_pp": acc_d - acc_p,
            "train_time_ratio": t_pruned / t_dense,
            "inference_flops_ratio": method.inference_flops(pruned, example) / method.inference_flops(dense, example),
            "accuracy_dense_pct": acc_d, "accuracy_prunetrain_pct": acc_p, "params_kept_fraction":
            n_params[1] / n_params[0], "channels_kept_fraction": widths[1] / widths[0], "lam": lam,
            "train_s_dense": t_dense, "train_s_prunetrain": t_pruned}
