"""CifarNet on CIFAR-10: the network and input pipeline of the repo's ``cifar10_alexnet`` (the TensorFlow
CIFAR-10 tutorial model), for TernGrad's CIFAR-10 claim.

From ``terngrad/inception/models.py`` and ``image_processing.py`` of ``wenwei202/terngrad`` and its
``run_multi_gpus_cifar10.sh``:

- conv 5×5, 64 (ReLU) → max-pool 3, stride 2 → LRN → conv 5×5, 64 (ReLU) → LRN → max-pool 3, stride 2 →
  fc 384 (ReLU) → fc 192 (ReLU) → fc 10, 'SAME' padding, on 24×24 crops. TF's LRN (depth radius 4, bias 1,
  alpha 0.001/9, beta 0.75) is PyTorch's ``LocalResponseNorm(9, alpha=0.001, beta=0.75, k=1)`` (PyTorch divides
  alpha by the window size);
- training input: a random 24×24 crop, a random horizontal flip, brightness ±63/255, contrast in [0.2, 1.8],
  then per-image standardization; test input: the central 24×24 crop, standardized;
- Adam, learning rate 2e-4 held constant, TF's defaults otherwise (β 0.9/0.999, ε 1e-8); weight decay 0.004 on
  the two hidden fully connected layers' weights only; 2 workers, total batch 128, 300k iterations; every
  gradient ternarized (logits included), clip factor 2.5; evaluation on the moving average of the weights.

Assumptions: PyTorch's default initialization instead of the tutorial's truncated normals; the brightness and
contrast draws are applied in TF's order (brightness, then contrast) as in ``image_processing.py``, on [0, 1]
pixels; CIFAR-10 is this project's JPEG q75 re-encoding unless the canonical files are present
(``bench.data.load_cifar10``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CifarNet(nn.Module):
    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 5, padding=2)
        self.conv2 = nn.Conv2d(64, 64, 5, padding=2)
        self.lrn = nn.LocalResponseNorm(9, alpha=0.001, beta=0.75, k=1.0)
        self.fc3 = nn.Linear(6 * 6 * 64, 384)
        self.fc4 = nn.Linear(384, 192)
        self.logits = nn.Linear(192, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lrn(F.max_pool2d(F.relu(self.conv1(x)), 3, 2, padding=1))  # (B, 64, 12, 12)
        x = F.max_pool2d(self.lrn(F.relu(self.conv2(x))), 3, 2, padding=1)  # (B, 64, 6, 6)
        x = F.relu(self.fc3(x.flatten(1)))
        x = F.relu(self.fc4(x))
        return self.logits(x)

    def decayed_weights(self) -> list[nn.Parameter]:
        """The weights the tutorial's weight decay applies to: the two hidden fully connected layers."""
        return [self.fc3.weight, self.fc4.weight]


def _standardize(x: torch.Tensor) -> torch.Tensor:
    """TF's per_image_standardization: (x − mean) / max(std, 1/sqrt(pixels)), per image."""
    flat = x.flatten(1)
    mean = flat.mean(1, keepdim=True)
    std = flat.std(1, unbiased=False, keepdim=True).clamp_min(1.0 / flat.shape[1] ** 0.5)
    return ((flat - mean) / std).view_as(x)


def train_inputs(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The training pipeline on a uint8 batch (B, 3, 32, 32): crop, flip, brightness, contrast, standardize."""
    b = len(x)
    top = torch.randint(0, 9, (b,), generator=generator)
    left = torch.randint(0, 9, (b,), generator=generator)
    crops = torch.stack([x[i, :, top[i]:top[i] + 24, left[i]:left[i] + 24] for i in range(b)]).float() / 255
    flip = torch.rand(b, generator=generator) < 0.5
    crops[flip] = crops[flip].flip(-1)
    crops = crops + (torch.rand(b, 1, 1, 1, generator=generator) * 2 - 1) * (63 / 255)
    factor = 0.2 + 1.6 * torch.rand(b, 1, 1, 1, generator=generator)
    mean = crops.mean(dim=(2, 3), keepdim=True)  # TF's adjust_contrast: per channel mean
    crops = (crops - mean) * factor + mean
    return _standardize(crops)


def test_inputs(x: torch.Tensor) -> torch.Tensor:
    """The central 24×24 crop of a uint8 batch, standardized."""
    return _standardize(x[:, :, 4:28, 4:28].float() / 255)
