"""Models shared by the papers: Caffe's LeNet, MLPs, CIFAR ResNet-n (He et al. 2016) and an LSTM language model.

Widths are constructor arguments so that a compressed network (fewer filters, neurons or hidden units) is
the same class with smaller numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class LeNet5(nn.Module):
    """Caffe's LeNet (``examples/mnist/lenet_train_test.prototxt``), the network SSL used on MNIST.

    conv 20@5×5 → max-pool 2 → conv 50@5×5 → max-pool 2 → ip 500 → ReLU → ip 10. As in Caffe there is no
    nonlinearity after the convolutions. Input ``(B, 1, 28, 28)``.
    """

    def __init__(self, conv1: int = 20, conv2: int = 50, fc: int = 500, num_classes: int = 10,
                 in_channels: int = 1, image_size: int = 28):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, conv1, 5)
        self.conv2 = nn.Conv2d(conv1, conv2, 5)
        side = ((image_size - 4) // 2 - 4) // 2  # 4 for 28×28 inputs
        self.fc1 = nn.Linear(conv2 * side * side, fc)
        self.fc2 = nn.Linear(fc, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(self.conv1(x), 2)  # (B, 20, 12, 12)
        x = F.max_pool2d(self.conv2(x), 2)  # (B, 50, 4, 4)
        x = F.relu(self.fc1(x.flatten(1)))  # (B, 500)
        return self.fc2(x)


class MLP(nn.Module):
    """A fully connected network ``in → hidden[0] → … → num_classes`` with ReLU, optional BatchNorm and dropout."""

    def __init__(self, in_features: int, hidden: Sequence[int], num_classes: int, batch_norm: bool = False,
                 dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class BasicBlock(nn.Module):
    """The two-layer residual block of CIFAR ResNets: ``relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x))``.

    ``shortcut="A"`` is He et al.'s parameter-free option (stride-2 subsampling and zero-padded channels),
    ``"B"`` a 1×1 convolution with BatchNorm where the shape changes.
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1, shortcut: str = "A"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut_type = shortcut
        self.shortcut: nn.Module = nn.Identity()
        self.pad = 0
        if stride != 1 or in_planes != planes:
            if shortcut == "A":
                self.pad = planes - in_planes
                self.stride = stride
            elif shortcut == "B":
                self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                                              nn.BatchNorm2d(planes))
            else:
                raise ValueError(f"shortcut must be 'A' or 'B', not {shortcut!r}")

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """The stacked layers (the part depth-wise SSL can remove)."""
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

    def skip(self, x: torch.Tensor) -> torch.Tensor:
        """The shortcut path."""
        if self.pad:
            x = x[:, :, :: self.stride, :: self.stride]  # (B, C, H/2, W/2)
            return F.pad(x, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return self.shortcut(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.residual(x) + self.skip(x))


class CifarResNet(nn.Module):
    """ResNet-n for CIFAR (He et al. 2016, Sec. 4.2): n = 6k + 2; 3 stages of k blocks with 16, 32, 64 filters."""

    def __init__(self, depth: int = 20, num_classes: int = 10, shortcut: str = "A", widths=(16, 32, 64)):
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"CIFAR ResNet depth must be 6k+2 (8, 14, 20, 32, 44, 56, 110), not {depth}")
        k = (depth - 2) // 6
        self.depth = depth
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        blocks, in_planes = [], widths[0]
        for stage, planes in enumerate(widths):
            for i in range(k):
                blocks.append(BasicBlock(in_planes, planes, 2 if stage > 0 and i == 0 else 1, shortcut))
                in_planes = planes
        self.blocks = nn.ModuleList(blocks)
        self.fc = nn.Linear(in_planes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))  # (B, 16, 32, 32)
        for block in self.blocks:
            x = block(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)  # (B, 64)
        return self.fc(x)


class LSTMLanguageModel(nn.Module):
    """Word-level LSTM language model (Zaremba et al. 2014): embedding → LSTM layers → linear decoder."""

    def __init__(self, vocab_size: int, hidden: int = 200, layers: int = 2, dropout: float = 0.0,
                 tie_weights: bool = False):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, hidden)
        self.drop = nn.Dropout(dropout)
        self.lstm = nn.LSTM(hidden, hidden, layers, dropout=dropout if layers > 1 else 0.0, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)

    def forward(self, tokens: torch.Tensor, state=None) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Logits ``(B, T, V)`` for tokens ``(B, T)``, and the final LSTM state to carry to the next window."""
        h, state = self.lstm(self.drop(self.embedding(tokens)), state)  # (B, T, H)
        return self.decoder(self.drop(h)), state
