"""Force Regularization experiments: LeNet on MNIST, ResNet-20 on CIFAR-10, AlexNet's low-rank layer speedups.

The training experiments train a network without and with the force from the same initialization and the same
data order (one seed = one pair), then compare the ranks PCA needs at ≤ 5% reconstruction error, the accuracy
of the networks decomposed at those ranks and at equal ranks, and a short fine-tuning of the decomposed
networks. Recipes follow ``wenwei202/caffe`` (README's LeNet example; ``examples/cifar10`` ResNet-20 solver).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch
from torch import nn

from bench import data
from bench.compress.lowrank import count_flops, decompose, energy_rank, singular_values
from bench.latency import median_speedups, time_interleaved
from bench.models import CifarResNet, LeNet5
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, random_crop_flip, seed_everything, shuffled_batches, steps_for, train
from papers.forcereg_wen2017.latency import ALEXNET, layer_callable
from papers.forcereg_wen2017.method import FORCE_TYPES, ForceRegularization

# ---------------------------------------------------------------------------------------------------------
# shared: a pair of networks (no force, force) and their low-rank approximations


@dataclass
class ForcePairConfig(ExperimentConfig):
    """Knobs shared by the training experiments."""

    train_examples: int = 60000  # training images used (the first n of a seeded permutation)
    test_examples: int = 10000  # test images evaluated (the first n; fewer only to keep smoke runs short)
    batch_size: int = 64
    epochs: float = 10.67  # training of each network of the pair
    lr: float = 0.01
    milestones: tuple[float, ...] = (0.5, 0.7, 0.8, 0.9, 0.95)  # fractions of the run where lr is multiplied by gamma
    gamma: float = 0.9
    weight_decay: float = 5e-4
    force_decay: float = 1e-3  # λ (force_mult 1 on every regularized layer)
    force_type: str = "constant"  # "constant" (L1 form) or "degradation" (L2 form)
    energy: float = 0.95  # PCA rank at ≤ 5% reconstruction error
    finetune_epochs: float = 0.1  # fine-tuning of the decomposed networks (at equal ranks)
    finetune_lr: float = 0.001

    def __post_init__(self):
        if self.force_type not in FORCE_TYPES:
            raise ValueError(f"force_type must be one of {FORCE_TYPES}")
        if self.train_examples < self.batch_size:
            raise ValueError("train_examples must be at least batch_size")
        self.milestones = tuple(self.milestones)


def _sgd(model: nn.Module, lr: float, wd: float) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)


def _train_pair(make_model, regularized, x, y, cfg: ForcePairConfig, seed: int, augment=None):
    """The no-force and force networks from one initialization and one data order."""
    seed_everything(seed)
    nets = {"base": make_model()}
    nets["force"] = make_model()
    nets["force"].load_state_dict(nets["base"].state_dict())
    steps = steps_for(cfg.epochs, len(x), cfg.batch_size)
    for kind, model in nets.items():
        gen = torch.Generator().manual_seed(seed + 1_000_003)
        opt = _sgd(model, cfg.lr, cfg.weight_decay)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, [int(m * steps) for m in cfg.milestones], cfg.gamma)
        force = ForceRegularization([m.weight for m in regularized(model)],
                                    cfg.force_decay if kind == "force" else 0.0, cfg.force_type)
        train(model, shuffled_batches(x, y, cfg.batch_size, gen, augment), steps=steps, optimizer=opt,
              scheduler=sched, after_backward=force.add_grad_, desc=f"{kind} seed {seed}")
    return nets


def _ranks(model: nn.Module, names: list[str], energy: float) -> dict[str, int]:
    return {n: energy_rank(singular_values(model.get_submodule(n).weight, "channel"), energy) for n in names}


def _lowrank(model: nn.Module, ranks: dict[str, int]) -> nn.Module:
    """``model`` with the layers of ``ranks`` decomposed (PCA basis filters + 1×1 combination)."""
    out, _ = decompose(model, "channel", lambda name, s: ranks[name], include=lambda name, conv: name in ranks,
                       balance=1.0, only_if_cheaper=False)
    return out


def _compare(nets, names, x, y, xt, yt, example, cfg: ForcePairConfig, seed: int, augment=None) -> dict[str, float]:
    """Ranks at the energy, accuracy decomposed at own and at equal ranks, fine-tuning, FLOPs."""
    acc = {k: 100 * accuracy(m, xt, yt, 500) for k, m in nets.items()}
    ranks = {k: _ranks(m, names, cfg.energy) for k, m in nets.items()}
    own = {k: 100 * accuracy(_lowrank(m, ranks[k]), xt, yt, 500) for k, m in nets.items()}
    # equal ranks: both decomposed at the force network's ranks
    equal = {k: _lowrank(m, ranks["force"]) for k, m in nets.items()}
    equal_acc = {k: 100 * accuracy(m, xt, yt, 500) for k, m in equal.items()}
    tuned = {}
    steps = steps_for(cfg.finetune_epochs, len(x), cfg.batch_size)
    for k, m in equal.items():
        gen = torch.Generator().manual_seed(seed + 2_000_003)
        train(m, shuffled_batches(x, y, cfg.batch_size, gen, augment), steps=steps,
              optimizer=_sgd(m, cfg.finetune_lr, cfg.weight_decay), desc=f"finetune {k}")
        tuned[k] = 100 * accuracy(m, xt, yt, 500)
    dense_flops = count_flops(nets["base"], example, conv_only=True)
    out = {"baseline_accuracy_pct": acc["base"], "force_accuracy_pct": acc["force"],
           "accuracy_loss_pp": acc["base"] - acc["force"]}
    for n in names:
        out[f"base_rank_{n}"] = ranks["base"][n]
        out[f"force_rank_{n}"] = ranks["force"][n]
    out["rank_ratio"] = sum(ranks["force"].values()) / sum(ranks["base"].values())
    out["max_layer_rank_ratio"] = max(ranks["force"][n] / ranks["base"][n] for n in names)
    out["base_lowrank_loss_pp"] = acc["base"] - own["base"]
    out["force_lowrank_loss_pp"] = acc["force"] - own["force"]
    out["force_lowrank_loss_vs_base_pp"] = acc["base"] - own["force"]
    out["equal_rank_base_accuracy_pct"] = equal_acc["base"]
    out["equal_rank_force_accuracy_pct"] = equal_acc["force"]
    out["equal_rank_gap_pp"] = equal_acc["force"] - equal_acc["base"]
    out["finetuned_base_accuracy_pct"] = tuned["base"]
    out["finetuned_force_accuracy_pct"] = tuned["force"]
    out["finetuned_gap_pp"] = tuned["force"] - tuned["base"]
    for k in ("base", "force"):
        out[f"{k}_conv_flops_kept"] = count_flops(_lowrank(nets[k], ranks[k]), example, conv_only=True) / dense_flops
    return out


def _metrics(names: list[str]) -> tuple[str, ...]:
    return ("baseline_accuracy_pct", "force_accuracy_pct", "accuracy_loss_pp",
            *(f"{k}_rank_{n}" for n in names for k in ("base", "force")), "rank_ratio", "max_layer_rank_ratio",
            "base_lowrank_loss_pp", "force_lowrank_loss_pp", "force_lowrank_loss_vs_base_pp",
            "equal_rank_base_accuracy_pct", "equal_rank_force_accuracy_pct", "equal_rank_gap_pp",
            "finetuned_base_accuracy_pct", "finetuned_force_accuracy_pct", "finetuned_gap_pp",
            "base_conv_flops_kept", "force_conv_flops_kept")


# ---------------------------------------------------------------------------------------------------------
# LeNet on MNIST (the README's example: force on conv1 and conv2)

_LENET = ["conv1", "conv2"]


@dataclass
class LeNetForceConfig(ForcePairConfig):
    """The README's LeNet example: 10k iterations of batch 64, lr 0.01 × 0.9 at 5k/7k/8k/9k/9.5k, wd 5e-4,
    force_decay 1e-3, Constant (L1) force on conv1 and conv2."""


@experiment(config=LeNetForceConfig, metrics=_metrics(_LENET))
def lenet_force(cfg: LeNetForceConfig, seed: int, device: torch.device) -> dict[str, float]:
    """LeNet without and with the force; ranks at ≤ 5% PCA error of conv1 and conv2, decomposition, fine-tuning."""
    ds = data.load("mnist")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds.train), generator=g)[:cfg.train_examples]
    x = (ds.train.x[idx].float() / 256).to(device)  # Caffe's LeNet input scale 0.00390625
    y = ds.train.y[idx].to(device)
    xt = (ds.test.x[:cfg.test_examples].float() / 256).to(device)
    yt = ds.test.y[:cfg.test_examples].to(device)
    nets = _train_pair(lambda: LeNet5().to(device), lambda m: [m.conv1, m.conv2], x, y, cfg, seed)
    return _compare(nets, _LENET, x, y, xt, yt, xt[:1], cfg, seed)


# ---------------------------------------------------------------------------------------------------------
# ResNet-20 on CIFAR-10 (examples/cifar10: force on the 18 residual-branch convs)

_RESNET20 = [f"blocks.{b}.conv{i}" for b in range(9) for i in (1, 2)]


@dataclass
class ResNetForceConfig(ForcePairConfig):
    """The repo's ResNet-20 solver: 64k iterations of batch 256 (≈ 328 epochs), lr 0.1 × 0.1 at 32k and 48k,
    wd 1e-4, force on the 18 residual-branch convs. The force strength and type for ResNet-20 are not recorded
    anywhere reachable [assumption: the L2 (degradation) force the author's answer in issue #29 names, at the
    LeNet example's λ = 1e-3]."""

    train_examples: int = 50000
    batch_size: int = 256
    epochs: float = 327.68
    lr: float = 0.1
    milestones: tuple[float, ...] = (0.5, 0.75)
    gamma: float = 0.1
    weight_decay: float = 1e-4
    force_type: str = "degradation"
    finetune_epochs: float = 1.0


@experiment(config=ResNetForceConfig, metrics=_metrics(_RESNET20))
def resnet_force(cfg: ResNetForceConfig, seed: int, device: torch.device) -> dict[str, float]:
    """ResNet-20 (1×1 projection shortcuts, as the repo's generator) without and with the force."""
    ds = data.load("cifar10")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds.train), generator=g)[:cfg.train_examples]
    x, y = ds.normalized("train")[idx].to(device), ds.train.y[idx].to(device)
    xt = ds.normalized("test")[:cfg.test_examples].to(device)
    yt = ds.test.y[:cfg.test_examples].to(device)

    def regularized(m: CifarResNet) -> list[nn.Conv2d]:
        return [m.get_submodule(n) for n in _RESNET20]

    nets = _train_pair(lambda: CifarResNet(20, shortcut="B").to(device), regularized, x, y, cfg, seed,
                       random_crop_flip(4))
    return _compare(nets, _RESNET20, x, y, xt, yt, xt[:1], cfg, seed, random_crop_flip(4))


# ---------------------------------------------------------------------------------------------------------
# AlexNet conv3–conv5: measured speedups of the low-rank layers at the paper's ranks (latency.py)


@dataclass
class AlexNetSpeedupConfig(ExperimentConfig):
    rounds: int = 30  # timed rounds per variant (interleaved; medians)
    warmup: int = 3

    def __post_init__(self):
        if self.rounds < 1 or self.warmup < 0:
            raise ValueError("rounds must be >= 1 and warmup >= 0")


_LAYERS = [layer.name for layer in ALEXNET]


@experiment(config=AlexNetSpeedupConfig, metrics=(
    *(f"{v}_{n}" for v in ("force", "noforce", "flop_bound_force", "flop_bound_noforce") for n in _LAYERS),
    "force_mean", "noforce_mean", "flop_bound_force_mean", "flop_bound_noforce_mean", "force_over_noforce"))
def alexnet_lowrank_speedup(cfg: AlexNetSpeedupConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Speedup of each decomposed layer over the dense one (ratio of medians, timed side by side), with the
    L2-force ranks and the no-force ranks of Table 4, and the theoretical (MAC) speedups; means over conv3–conv5
    (the paper's table gives per-layer values; the mean is this suite's summary of them)."""
    out: dict[str, float] = {}
    for layer in ALEXNET:
        fns = {v: layer_callable(layer, v, device, seed) for v in ("dense", "lowrank-force", "lowrank-noforce")}
        speedups = median_speedups(time_interleaved(fns, device, cfg.rounds, cfg.warmup))
        out[f"force_{layer.name}"] = speedups["lowrank-force"]
        out[f"noforce_{layer.name}"] = speedups["lowrank-noforce"]
        out[f"flop_bound_force_{layer.name}"] = layer.macs() / layer.macs(layer.rank_force)
        out[f"flop_bound_noforce_{layer.name}"] = layer.macs() / layer.macs(layer.rank_noforce)
    for v in ("force", "noforce", "flop_bound_force", "flop_bound_noforce"):
        out[f"{v}_mean"] = statistics.fmean(out[f"{v}_{n}"] for n in _LAYERS)
    out["force_over_noforce"] = out["force_mean"] / out["noforce_mean"]
    return out
