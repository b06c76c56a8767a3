"""Group Scissor on LeNet/MNIST and ConvNet/CIFAR-10: rank clipping, then group connection deletion; crossbar
area and routing.

Per seed, one dense LeNet is trained (``pretrain_epochs``) and then continued in two arms from the same point,
with the same data order, schedule and number of iterations (``clip_epochs``): the **reference** stays dense
(the accuracy the clipped network must match), the **clipped** arm is factored at full rank and its ranks
clipped every ``clip_every`` iterations until ``clip_until`` of the run (``method.clip_ranks``). The clipped
network is then mapped (``method.deploy``) and trained with the group Lasso over its crossbar wires
(``lasso_epochs``), its weak wires deleted and the rest fine-tuned (``finetune_epochs``).

Measured on the mapped networks (``bench/hardware/crossbar.py``, simulated crossbars): cross-point cells,
64×64 crossbars and routing wires, each as a ratio to the dense network's; accuracies after each step. The
ConvNet experiment (``convnet_group_scissor``, Caffe's ``cifar10_full`` from ``bench/compress/cifar_convnet.py``)
runs the same steps on CIFAR-10 (the JPEG re-encoding unless the canonical files are present).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch

from bench.compress import cifar_convnet as convnet
from bench.compress import mnist_lenet as lenet
from bench.compress.admm import masked_retrain
from bench.hardware import crossbar as xb
from bench.registry import ExperimentConfig, experiment
from bench.train import classification_loss, steps_for, train
from papers.group_scissor_wang2017 import method

CLIPPED = ("conv1", "conv2", "fc1")  # every layer but the classifier (the authors' except_layers: ip2)


@dataclass
class GroupScissorConfig(ExperimentConfig):
    """The authors' LeNet settings (``wenwei202/caffe`` ``examples/mnist/readme.md``, rank clipping); the group
    Lasso's strength, deletion threshold and fine-tuning are this suite's assumptions (see the package)."""

    train_examples: int = 60000
    test_examples: int = 10000
    batch_size: int = 64
    pretrain_epochs: float = 10.67  # Caffe's LeNet recipe (10k iterations), the authors' 99.17% start
    pretrain_lr: float = 0.01
    clip_epochs: float = 32.0  # 30k iterations of batch 64
    clip_lr: float = 0.01  # momentum 0.9, weight decay 5e-4; × 0.9 at 2/3, 0.8, 13/15, 14/15, 29/30 of the run
    clip_energy: float = 0.99  # share of Σσ² a clipped rank keeps (the authors' ratio for LeNet)
    clip_every: int = 500  # iterations between clippings
    clip_until: float = 0.6  # clipping stops after this share of the run (18k of 30k iterations)
    clip_weight_decay: float = 5e-4
    lasso: float = 1e-4  # group Lasso strength over the crossbar wires [assumption]
    lasso_epochs: float = 32.0  # training with the group Lasso (lr 0.01, momentum 0.9, no weight decay)
    delete_threshold: float = 1e-2  # wires whose weights' L2 norm is below this are deleted [assumption]
    finetune_epochs: float = 5.0  # fine-tuning with the deleted wires held at zero (lr 0.001) [assumption]
    crossbar_size: int = 64  # S [assumption: Wen et al., DAC 2015]
    lr_drops: list[float] = field(default_factory=lambda: [2 / 3, 0.8, 13 / 15, 14 / 15, 29 / 30])

    def __post_init__(self):
        if not 0 < self.clip_energy <= 1:
            raise ValueError("clip_energy must be in (0, 1]")
        if self.clip_every < 1 or not 0 <= self.clip_until <= 1:
            raise ValueError("clip_every must be >= 1 and clip_until in [0, 1]")
        if self.lasso < 0 or self.delete_threshold < 0:
            raise ValueError("lasso and delete_threshold must be >= 0")


def _schedule(cfg, steps: int):
    gamma = getattr(cfg, "lr_gamma", 0.9)
    return lambda s: gamma ** sum(s >= d * steps for d in cfg.lr_drops)


def _sgd(model, lr: float, weight_decay: float) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)


def _segments(total: int, every: int, until: int):
    """(start, length, clip after) segments of a run of ``total`` iterations."""
    start = 0
    while start < total:
        length = min(every, total - start) if start < until else total - start
        yield start, length, start + length <= until and start + length < total
        start += length


@dataclass
class ConvNetGroupScissorConfig(convnet.ConvNetConfig):
    """ConvNet/CIFAR-10: the authors' rank-clipping example (``examples/cifar10/readme.md``: lr 0.001, energy
    0.98, a clipping every 1000 iterations, 200k iterations, weight decay 0.004, × 0.1 at 100k and 160k); the
    clipping stop (half the run), the group Lasso and the fine-tuning are assumptions."""

    clip_epochs: float = 400.0  # 200k iterations of batch 100
    clip_lr: float = 0.001
    clip_energy: float = 0.98
    clip_every: int = 1000
    clip_until: float = 0.5  # [assumption: the example sets no stop]
    clip_weight_decay: float = 0.004
    lasso: float = 1e-4  # [assumption]
    lasso_epochs: float = 140.0  # [assumption: the pretraining's length]
    delete_threshold: float = 1e-2  # [assumption]
    finetune_epochs: float = 20.0  # [assumption]
    crossbar_size: int = 64
    lr_drops: list[float] = field(default_factory=lambda: [0.5, 0.8])
    lr_gamma: float = 0.1

    def __post_init__(self):
        GroupScissorConfig.__post_init__(self)


def clip_train(model, x, y, cfg, seed: int, salt: int, clip: bool, desc: str, names=CLIPPED,
               batches=lenet.batches) -> dict:
    """``clip_epochs`` of training; with ``clip`` the layers are factored and rank-clipped periodically.

    The optimizer is rebuilt after each clipping (the factors change shape; the authors' solver also restarts),
    the learning rate following the run's schedule. Returns the final ranks.
    """
    total = steps_for(cfg.clip_epochs, len(x), cfg.batch_size)
    sched = _schedule(cfg, total)
    data = batches(x, y, cfg, seed, salt)
    if clip:
        method.factorize(model, names)
    ranks = {n: method.rank(model.get_submodule(n)) for n in names}
    segments = list(_segments(total, cfg.clip_every, math.floor(cfg.clip_until * total))) if clip else [
        (0, total, False)]
    for start, length, clip_after in segments:
        opt = _sgd(model, cfg.clip_lr, cfg.clip_weight_decay)
        lr_at = torch.optim.lr_scheduler.LambdaLR(opt, lambda s, start=start: sched(start + s))
        train(model, data, steps=length, optimizer=opt, scheduler=lr_at, desc=f"{desc} {start}/{total}")
        if clip_after:
            ranks = method.clip_ranks(model, names, cfg.clip_energy)
    return ranks


def delete_connections(model, x, y, cfg, seed: int, salt: int, xcfg: xb.CrossbarConfig, batches=lenet.batches):
    """Group Lasso training over the crossbar wires, deletion of the weak wires, masked fine-tuning."""

    def loss(m, batch):
        return classification_loss(m, batch) + cfg.lasso * method.wire_lasso(m, xcfg)

    steps = steps_for(cfg.lasso_epochs, len(x), cfg.batch_size)
    opt = _sgd(model, cfg.clip_lr, 0.0)
    train(model, batches(x, y, cfg, seed, salt), steps=steps, optimizer=opt, loss_fn=loss,
          scheduler=torch.optim.lr_scheduler.LambdaLR(opt, _schedule(cfg, steps)), desc="group lasso")
    masks = method.delete_wires(model, cfg.delete_threshold, xcfg)
    steps = steps_for(cfg.finetune_epochs, len(x), cfg.batch_size)
    if steps:
        masked_retrain(model, masks, batches(x, y, cfg, seed, salt + 1), steps=steps,
                       optimizer=_sgd(model, cfg.clip_lr / 10, 0.0), desc="fine-tune")


METRICS = (
    "reference_accuracy_pct", "clipped_accuracy_pct", "deleted_accuracy_pct", "clip_loss_pp", "deletion_loss_pp",
    "crossbar_area_ratio", "crossbar_count_ratio", "routing_ratio_clipped", "routing_ratio",
    "routing_deletion_vs_clipping", "deleted_crossbar_count_ratio")


def group_scissor(cfg, seed: int, device: torch.device, recipe, names) -> dict[str, float]:
    """Dense reference, rank clipping, group connection deletion on ``recipe``'s network and data."""
    xcfg = xb.CrossbarConfig(size=cfg.crossbar_size)
    x, y, xt, yt = recipe.cifar10(cfg, seed, device) if recipe is convnet else recipe.mnist(cfg, seed, device)
    base = recipe.pretrain(x, y, cfg, seed, device)
    dense_cells, dense_xbars, dense_wires = method.cells(base), method.crossbar_count(base, xcfg), method.wires(
        base, xcfg)

    reference = copy.deepcopy(base)
    clip_train(reference, x, y, cfg, seed, 2, clip=False, desc="dense reference", names=names,
               batches=recipe.batches)
    model = copy.deepcopy(base)
    ranks = clip_train(model, x, y, cfg, seed, 2, clip=True, desc="rank clipping", names=names,
                       batches=recipe.batches)
    method.deploy(model, names)
    out = {"reference_accuracy_pct": recipe.accuracy_pct(reference, xt, yt),
           "clipped_accuracy_pct": recipe.accuracy_pct(model, xt, yt),
           **{f"{n}_rank": float(r) for n, r in ranks.items()},
           "crossbar_area_ratio": method.cells(model) / dense_cells,
           "crossbar_count_ratio": method.crossbar_count(model, xcfg) / dense_xbars}
    clipped_wires = method.wires(model, xcfg)

    delete_connections(model, x, y, cfg, seed, 3, xcfg, batches=recipe.batches)
    deleted_wires = method.wires(model, xcfg)
    out["deleted_accuracy_pct"] = recipe.accuracy_pct(model, xt, yt)
    out["clip_loss_pp"] = out["reference_accuracy_pct"] - out["clipped_accuracy_pct"]
    out["deletion_loss_pp"] = out["reference_accuracy_pct"] - out["deleted_accuracy_pct"]
    out["routing_ratio_clipped"] = clipped_wires / dense_wires
    out["routing_ratio"] = deleted_wires / dense_wires
    out["routing_deletion_vs_clipping"] = deleted_wires / clipped_wires
    out["deleted_crossbar_count_ratio"] = sum(
        xb.used_crossbars(w, xcfg) for w in method.matrices(model).values()) / dense_xbars
    return out


@experiment(config=GroupScissorConfig, metrics=METRICS + ("conv1_rank", "conv2_rank", "fc1_rank"))
def lenet_group_scissor(cfg: GroupScissorConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Rank clipping and group connection deletion on LeNet/MNIST against a dense reference."""
    return group_scissor(cfg, seed, device, lenet, CLIPPED)


CONVNET_CLIPPED = ("conv1", "conv2", "conv3")  # the authors' CIFAR example leaves ip1 whole


@experiment(config=ConvNetGroupScissorConfig, metrics=METRICS + ("conv1_rank", "conv2_rank", "conv3_rank"))
def convnet_group_scissor(cfg: ConvNetGroupScissorConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Rank clipping and group connection deletion on Caffe's CIFAR-10 ConvNet against a dense reference."""
    return group_scissor(cfg, seed, device, convnet, CONVNET_CLIPPED)
