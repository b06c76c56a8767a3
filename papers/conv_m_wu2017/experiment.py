"""Conv-M's proxy: unsupervised domain adaptation from MNIST to MNIST on CIFAR-10 backgrounds.

One seed builds the target domain (MNIST digits blended onto random crops of CIFAR-10 JPEG images, unlabelled for
training; the test digits blended the same way for testing), then trains the same small backbone with three kinds
of block, parameter-matched where the claim needs it (Conv-M 64.4K parameters, fire 64.6K; the plain block, the
uncompressed reference, 105.2K; each count includes the same 11.5K-parameter head on a 3×3 average-pooled map
and the same batch norms):

- with the DA objective (source cross-entropy + a domain-adversarial loss through gradient reversal + multi-kernel
  MMD of the features, ``method.da_loss``, ramped up over training as in DANN): plain, fire and Conv-M;
- source only: Conv-M, to see what the DA objective adds. Source only means no target image at all, so its batch
  norms' statistics are the source's: the DA trainings' gain over it includes what the shared statistics give, and
  the mutant ``no-adaptation-term`` (the DA loss at zero, the target batches still through the batch norms)
  separates the two.

Accuracy on the source test set (MNIST) and on the target test set is measured for each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from bench import data
from bench.registry import ExperimentConfig, experiment
from bench.train import seed_everything
from papers.conv_m_wu2017.method import (
    ConvM,
    DomainCritic,
    Fire,
    Net,
    Plain,
    blend_backgrounds,
    da_loss,
    gray_to_rgb,
    params,
)

SQUEEZE = {"plain": (0, 0), "fire": (38, 54), "convm": (16, 24)}  # fire widened to Conv-M's parameter count
BLOCKS = {"plain": Plain, "fire": Fire, "convm": ConvM}


@dataclass
class ConvMConfig(ExperimentConfig):
    """The backbone, the DA weights and the schedule are the suite's [assumption: the paper's Office-31 setting,
    its networks' layouts and its DA loss weights were not reachable]."""

    steps: int = 800  # Adam, one-cycle learning rate (peak lr), batches of 64 source + 64 target images
    # the DA objective's weights and the backbone's batch norms, chosen on calibration seeds 1000, 1001 and 1002
    # (outside the verdict seeds) as the first setting tried in which every DA training adapts (target accuracy
    # 24.9-39.2% for plain, fire and Conv-M against 12.1-16.7% source-only, source 95.9-98.0%). History, all on
    # calibration seeds: the first reading (fixed-bandwidth MMD at weight 1 + 0.1 x entropy) left every DA-trained
    # network at chance in the cpu run of commit 4acd596; MMD at weight 0.3 or 1 collapses the features (source
    # accuracy at chance); the entropy term at 0.1 or 0.01 lowered Conv-M's target accuracy in seed 1000, so it is
    # off; ramped from the first step, these weights collapsed fire and Conv-M in seed 1001, so the DA terms start
    # after the warm-up (below); without batch norms Conv-M stayed at chance in seed 1000 at peak lr 6e-3 and in
    # seeds 1000 and 1001 at 2e-3; with them at 6e-3 plain stayed at chance in seeds 1000 and 1001
    adversarial_weight: float = 0.1
    mmd_weight: float = 0.1
    entropy_weight: float = 0.0
    target_train: int = 20_000  # unlabelled target images for training
    backgrounds: int = 10_000  # CIFAR-10 training images the patches come from
    # the one-cycle peak: 6e-3 was chosen, with the 3×3 head, on source (MNIST) test accuracy alone; 2e-3 with the
    # batch norms (above), on calibration seeds
    lr: float = 2e-3


def _accuracy(net: Net, x: torch.Tensor, y: torch.Tensor) -> float:
    net.eval()
    with torch.no_grad():
        correct = sum((net(x[i:i + 1000])[1].argmax(1) == y[i:i + 1000]).sum().item() for i in range(0, len(x), 1000))
    net.train()
    return 100 * correct / len(x)


def _train(kind: str, adapt: bool, cfg: ConvMConfig, seed: int, xs, ys, xt) -> Net:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 17)
    net = Net(BLOCKS[kind], SQUEEZE[kind])
    critic = DomainCritic(net.head.in_features)
    opt = torch.optim.Adam([*net.parameters(), *critic.parameters()], cfg.lr)
    # one cycle (warm-up over the first 30% of the steps, then cosine annealing): Adam at a constant 1e-3 with a
    # global-average-pooled head stayed below the source-accuracy sanity bound after 600 steps
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps)
    for step in range(cfg.steps):
        i = torch.randint(0, len(xs), (64,), generator=gen)
        if adapt:
            # one batch of both domains, so that the batch norms see (and keep running statistics of) both
            j = torch.randint(0, len(xt), (64,), generator=gen)
            f, logits = net(torch.cat([xs[i], xt[j]]))
            fs, ft, logits_s, logits_t = f[:64], f[64:], logits[:64], logits[64:]
        else:
            fs, logits_s = net(xs[i])
        loss = nn.functional.cross_entropy(logits_s, ys[i])
        if adapt:
            # the DA terms start when the one-cycle warm-up ends (30% of the steps), then ramp up as in DANN
            # (2 / (1 + exp(-10 p)) - 1 over the remaining steps): the classifier learns the source first
            p = max(0.0, (step / cfg.steps - 0.3) / 0.7)
            ramp = 2 / (1 + math.exp(-10 * p)) - 1
            loss = loss + da_loss(fs, ft, logits_t, critic, ramp, cfg.adversarial_weight, cfg.mmd_weight,
                                  cfg.entropy_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{kind} (adapt={adapt}): the loss diverged")
    return net


@experiment(config=ConvMConfig, metrics=(
    "da_gain_convm_over_fire_pp", "da_gap_plain_over_fire_pp", "source_gap_plain_over_fire_pp",
    "da_gain_convm_over_source_only_pp", "target_pct_plain", "target_pct_fire", "target_pct_convm",
    "target_pct_convm_source_only", "source_pct_plain", "source_pct_fire", "source_pct_convm",
    "params_ratio_convm_over_fire"))
def mnist_to_blended(cfg: ConvMConfig, seed: int, device: torch.device) -> dict[str, float]:
    """The four trainings on one target domain; the differences are target-accuracy points."""
    mnist, cifar = data.load("mnist"), data.load("cifar10")
    gen = seed_everything(seed)
    bg = cifar.train.x[torch.randperm(len(cifar.train.x), generator=gen)[: cfg.backgrounds]]
    xs, ys = gray_to_rgb(mnist.train.x), mnist.train.y
    order = torch.randperm(len(mnist.train.x), generator=gen)[: cfg.target_train]
    xt = blend_backgrounds(mnist.train.x[order].squeeze(1), bg, gen)  # labels never used
    xs_test, ys_test = gray_to_rgb(mnist.test.x), mnist.test.y
    xt_test = blend_backgrounds(mnist.test.x.squeeze(1), bg, gen)
    src, tgt = {}, {}
    for kind, adapt in (("plain", True), ("fire", True), ("convm", True), ("convm", False)):
        net = _train(kind, adapt, cfg, seed, xs, ys, xt)
        name = kind if adapt else f"{kind}_source_only"
        src[name], tgt[name] = _accuracy(net, xs_test, ys_test), _accuracy(net, xt_test, ys_test)
    return {
        "da_gain_convm_over_fire_pp": tgt["convm"] - tgt["fire"],
        "da_gap_plain_over_fire_pp": tgt["plain"] - tgt["fire"],
        "source_gap_plain_over_fire_pp": src["plain"] - src["fire"],
        "da_gain_convm_over_source_only_pp": tgt["convm"] - tgt["convm_source_only"],
        "target_pct_plain": tgt["plain"],
        "target_pct_fire": tgt["fire"],
        "target_pct_convm": tgt["convm"],
        "target_pct_convm_source_only": tgt["convm_source_only"],
        "source_pct_plain": src["plain"],
        "source_pct_fire": src["fire"],
        "source_pct_convm": src["convm"],
        "params_ratio_convm_over_fire": params(Net(ConvM, SQUEEZE["convm"])) / params(Net(Fire, SQUEEZE["fire"])),
    }
