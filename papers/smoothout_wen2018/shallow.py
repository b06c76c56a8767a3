"""The shallow CIFAR network of the SmoothOut code (``models/cifar_shallow.py``, ``cifar10_shallow``).

conv 64@5×5 (pad 2, no bias) → max-pool 3/2 → BN → ReLU → conv 64@5×5 (pad 2, no bias) → max-pool 3/2 → BN →
ReLU → fc 384 (no bias) → BN → ReLU → dropout 0.5 → fc 192 (no bias) → BN → ReLU → dropout 0.5 → fc 10.
Input ``(B, 3, 32, 32)``; 32 → 15 → 7 after the two pools.
"""

from __future__ import annotations

import torch
from torch import nn


class ShallowCifarNet(nn.Module):
    """The repo's ``cifar10_shallow`` (named ``AlexNet`` there), in the order of its layers."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 5, padding=2, bias=False), nn.MaxPool2d(3, 2), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 64, 5, padding=2, bias=False), nn.MaxPool2d(3, 2), nn.BatchNorm2d(64), nn.ReLU(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(64 * 7 * 7, 384, bias=False), nn.BatchNorm1d(384), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(384, 192, bias=False), nn.BatchNorm1d(192), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(192, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))
