"""Caffe's CIFAR-10 ConvNet (``examples/cifar10/cifar10_full``) and its training recipe, shared by the
neuromorphic papers whose CIFAR-10 claims use it (Group Scissor's "ConvNet"; the one-level synapse paper's
CIFAR-10 network is assumed to be the same).

The network (``cifar10_full_train_test.prototxt``): conv 32 (5×5, pad 2) → max-pool 3/2 → ReLU → LRN → conv 32
(5×5, pad 2) → ReLU → avg-pool 3/2 → LRN → conv 64 (5×5, pad 2) → ReLU → avg-pool 3/2 → ip 10; Caffe's pooling
rounds up (32 → 16 → 8 → 4), its LRN is within-channel (3×3, α 5e-5, β 0.75). The recipe
(``cifar10_full_solver*.prototxt``): batch 100, SGD momentum 0.9, lr 0.001 for 60k iterations, then 1e-4 and
1e-5 for 5k each (140 epochs), weight decay 0.004 (× 250 on ip1 in the prototxt: taken as 0.004 on every
layer here, an assumption), no augmentation, the mean image subtracted. The authors' checkpoint reached 82.01%.
CIFAR-10 here is the project's JPEG re-encoding unless the canonical files are present (``bench.data``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from bench import data
from bench.registry import ExperimentConfig
from bench.train import accuracy, seed_everything, shuffled_batches, steps_for, train


class WithinChannelLRN(nn.Module):
    """Caffe's ``WITHIN_CHANNEL`` LRN: ``x / (1 + α·mean_{k×k}(x²))^β`` (zero-padded windows)."""

    def __init__(self, size: int = 3, alpha: float = 5e-5, beta: float = 0.75):
        super().__init__()
        self.size, self.alpha, self.beta = size, alpha, beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sq = F.avg_pool2d(x * x, self.size, 1, self.size // 2, count_include_pad=True)
        return x / (1 + self.alpha * sq) ** self.beta


class CaffeCifarConvNet(nn.Module):
    """``cifar10_full``: layers ``conv1``, ``conv2``, ``conv3``, ``ip1`` (89.4K weights)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 32, 5, padding=2)
        self.conv3 = nn.Conv2d(32, 64, 5, padding=2)
        self.ip1 = nn.Linear(64 * 4 * 4, num_classes)
        self.norm1, self.norm2 = WithinChannelLRN(), WithinChannelLRN()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(F.relu(F.max_pool2d(self.conv1(x), 3, 2, ceil_mode=True)))  # (B, 32, 16, 16)
        x = self.norm2(F.avg_pool2d(F.relu(self.conv2(x)), 3, 2, ceil_mode=True))  # (B, 32, 8, 8)
        x = F.avg_pool2d(F.relu(self.conv3(x)), 3, 2, ceil_mode=True)  # (B, 64, 4, 4)
        return self.ip1(x.flatten(1))


@dataclass
class ConvNetConfig(ExperimentConfig):
    """The Caffe recipe (module docstring); a paper's ``claims.yaml`` may scale it down."""

    train_examples: int = 50000
    test_examples: int = 10000
    batch_size: int = 100
    pretrain_epochs: float = 140.0  # 70k iterations of batch 100
    pretrain_lr: float = 0.001
    pretrain_drops: list[float] = field(default_factory=lambda: [6 / 7, 13 / 14])  # × 0.1 at 60k and 65k
    weight_decay: float = 0.004


def cifar10(cfg: ConvNetConfig, seed: int, device: torch.device):
    """``(x, y, x_test, y_test)`` on ``device``: pixels in [0, 255] minus the training set's mean image."""
    ds = data.load("cifar10")
    idx = torch.randperm(len(ds.train), generator=torch.Generator().manual_seed(seed))[:cfg.train_examples]
    mean = ds.train.x.float().mean(0, keepdim=True)
    x = (ds.train.x[idx].float() - mean).to(device)
    xt = (ds.test.x[:cfg.test_examples].float() - mean).to(device)
    return x, ds.train.y[idx].to(device), xt, ds.test.y[:cfg.test_examples].to(device)


def batches(x, y, cfg: ConvNetConfig, seed: int, salt: int):
    return shuffled_batches(x, y, cfg.batch_size, torch.Generator().manual_seed(seed * 7919 + salt))


def pretrain(x, y, cfg: ConvNetConfig, seed: int, device: torch.device) -> CaffeCifarConvNet:
    """The float ConvNet every arm of an experiment starts from (Caffe's multistep recipe)."""
    seed_everything(seed)
    model = CaffeCifarConvNet().to(device)
    steps = steps_for(cfg.pretrain_epochs, len(x), cfg.batch_size)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.pretrain_lr, momentum=0.9, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.1 ** sum(s >= d * steps for d in cfg.pretrain_drops))
    train(model, batches(x, y, cfg, seed, 1), steps=steps, optimizer=opt, scheduler=sched,
          desc=f"pretrain ConvNet seed {seed}")
    return model


def accuracy_pct(model: nn.Module, xt, yt) -> float:
    return 100 * accuracy(model, xt, yt, 1000)
