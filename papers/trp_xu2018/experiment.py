"""TRP experiments: CIFAR ResNets trained normally and with TRP, decomposed, compared at equal FLOPs.

One seed trains a baseline and a TRP network from the same initialization with the same data order and
augmentation draws, then:

- deploys the TRP network (``method.deploy``: stride-1 layers decomposed at ``σ ≥ threshold``, no
  fine-tuning) and measures its accuracy and the FLOP reduction (conv MACs of the whole network, the stem
  and the projection shortcuts included and the fc excluded, as ``show_low_rank`` in ``cifar-TRP.py`` counts);
- decomposes the baseline after training (post hoc, energy rule as the repo does for baselines) at the largest
  energy whose network has at most the TRP network's FLOPs, and measures its accuracy: TRP against post-hoc
  decomposition at equal FLOPs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from bench import data
from bench.compress.lowrank import SCHEMES, count_flops, energy_rank
from bench.models import CifarResNet
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, random_crop_flip, seed_everything, shuffled_batches, steps_for, train
from papers.trp_xu2018.method import TrainedRankPruning, deploy, trp_convs


@dataclass
class ResNetTRPConfig(ExperimentConfig):
    """``cifar-TRP.py`` as the README runs it: 164 epochs of batch 128, SGD lr 0.1 × 0.1 at epochs 81 and 122,
    momentum 0.9, wd 1e-4, crop and flip; TRP every iteration (period 1) at energy 0.9 with the nuclear norm at
    3e-4; deployment at σ ≥ 0.05."""

    depth: int = 20  # CIFAR ResNet-n (n = 6k + 2)
    shortcut: str = "B"  # the repo's ResNet: 1×1 conv + BN projections where the shape changes
    train_examples: int = 50000
    test_examples: int = 10000  # test images evaluated (the first n; fewer only to keep smoke runs short)
    batch_size: int = 128
    epochs: float = 164.0
    milestones: tuple[float, ...] = (81 / 164, 122 / 164)  # fractions of the run where lr is multiplied by 0.1
    lr: float = 0.1
    weight_decay: float = 1e-4
    scheme: str = "channel"  # "channel" (NC) or "spatial" (VH)
    energy: float = 0.9  # TRP's rank during training: Σσ² kept
    nuclear_weight: float = 3e-4
    period: int = 1  # substitution every `period` iterations
    threshold: float = 0.05  # deployment: keep σ ≥ threshold
    channels_last: bool = True  # NHWC tensors (faster convolutions on CPUs; same arithmetic)

    def __post_init__(self):
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}")
        if self.train_examples < self.batch_size:
            raise ValueError("train_examples must be at least batch_size")
        self.milestones = tuple(self.milestones)


def _posthoc(model: nn.Module, scheme: str, budget: int, example: torch.Tensor) -> tuple[nn.Module, float, int]:
    """The baseline decomposed at the largest energy (bisection) whose conv FLOPs are at most ``budget``."""
    def at(e: float) -> tuple[nn.Module, int]:
        m, _ = deploy(model, scheme, rank_rule=lambda name, s: energy_rank(s, e))
        return m, count_flops(m, example, conv_only=True)

    lo, hi = 0.0, 1.0  # FLOPs grow with the energy; at e → 0 every layer has rank 1
    best = at(1e-6) + (1e-6,)
    for _ in range(24):
        mid = (lo + hi) / 2
        m, flops = at(mid)
        if flops <= budget:
            lo, best = mid, (m, flops, mid)
        else:
            hi = mid
    return best[0], best[2], best[1]


@experiment(config=ResNetTRPConfig, metrics=(
    "baseline_accuracy_pct", "trp_accuracy_pct", "trp_decomposed_accuracy_pct", "accuracy_loss_pp",
    "flops_reduction", "rank_fraction", "posthoc_accuracy_pct", "posthoc_flops_reduction", "posthoc_energy",
    "posthoc_loss_pp", "trp_over_posthoc_pp"))
def resnet_trp(cfg: ResNetTRPConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Baseline and TRP ResNets; TRP deployed, the baseline decomposed post hoc at no more FLOPs."""
    ds = data.load("cifar10")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds.train), generator=g)[:cfg.train_examples]
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
    x = ds.normalized("train")[idx].to(device, memory_format=fmt)
    y = ds.train.y[idx].to(device)
    xt = ds.normalized("test")[:cfg.test_examples].to(device, memory_format=fmt)
    yt = ds.test.y[:cfg.test_examples].to(device)
    seed_everything(seed)
    nets = {"base": CifarResNet(cfg.depth, shortcut=cfg.shortcut)}
    nets["trp"] = CifarResNet(cfg.depth, shortcut=cfg.shortcut)
    nets["trp"].load_state_dict(nets["base"].state_dict())
    steps = steps_for(cfg.epochs, len(x), cfg.batch_size)
    crop_flip = random_crop_flip(4)

    def augment(xb: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return crop_flip(xb, gen).contiguous(memory_format=fmt)  # the crop's gather returns NCHW

    for kind, model in nets.items():
        model.to(device, memory_format=fmt)
        gen = torch.Generator().manual_seed(seed + 1_000_003)
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, [int(m * steps) for m in cfg.milestones], 0.1)
        hooks = {}
        if kind == "trp":
            trp = TrainedRankPruning(trp_convs(model), cfg.scheme, cfg.energy, cfg.nuclear_weight, cfg.period)
            trp.before_step(0)
            hooks = {"after_backward": trp.add_nuclear_grad_,
                     "after_step": lambda step, trp=trp: trp.before_step(step + 1)}
        train(model, shuffled_batches(x, y, cfg.batch_size, gen, augment), steps=steps, optimizer=opt,
              scheduler=sched, desc=f"{kind} resnet-{cfg.depth} seed {seed}", **hooks)
    acc = {k: 100 * accuracy(m, xt, yt, 500) for k, m in nets.items()}
    example = xt[:1]
    dense = count_flops(nets["base"], example, conv_only=True)
    deployed, layers = deploy(nets["trp"], cfg.scheme, cfg.threshold)
    flops = count_flops(deployed, example, conv_only=True)
    dec_acc = 100 * accuracy(deployed, xt, yt, 500)
    posthoc, energy, posthoc_flops = _posthoc(nets["base"], cfg.scheme, flops, example)
    posthoc_acc = 100 * accuracy(posthoc, xt, yt, 500)
    return {"baseline_accuracy_pct": acc["base"], "trp_accuracy_pct": acc["trp"],
            "trp_decomposed_accuracy_pct": dec_acc, "accuracy_loss_pp": acc["base"] - dec_acc,
            "flops_reduction": dense / flops,
            "rank_fraction": sum(d.rank for d in layers) / sum(d.full_rank for d in layers),
            "posthoc_accuracy_pct": posthoc_acc, "posthoc_flops_reduction": dense / posthoc_flops,
            "posthoc_energy": energy, "posthoc_loss_pp": acc["base"] - posthoc_acc,
            "trp_over_posthoc_pp": dec_acc - posthoc_acc}
