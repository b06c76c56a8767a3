"""The network, the libraries and the arms of PCONV's proxy.

- :class:`PatternCNN`: four 3×3 convolutions (16, 16, 32, 32 channels by default) with batch norm, two max-pools, global
  average pooling and a linear classifier: a small VGG-style network whose every conv is 3×3, so that every conv
  layer can take kernel patterns (PCONV's VGG-16 and ResNet-50 are beyond the ``cpu`` scale).
- :func:`extracted_library`: the library as the group's code builds it (``bench.compress.structured``): each
  kernel's candidate is the centre plus its three largest other entries, the most frequent candidates of the
  pretrained network form the library.
- :func:`random_library`: as many patterns drawn at random among the 56 four-entry patterns that keep the
  centre: the baseline for "carefully designed patterns".
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from bench.compress.structured import CENTRE, pattern_library

CONVS = ("conv1", "conv2", "conv3", "conv4")
# the 56 patterns of 4 entries that keep the centre, in a fixed order
ALL_PATTERNS = tuple(tuple(sorted((CENTRE, *rest))) for rest in itertools.combinations([0, 1, 2, 3, 5, 6, 7, 8], 3))


class PatternCNN(nn.Module):
    def __init__(self, widths: tuple[int, int, int, int] = (16, 16, 32, 32), num_classes: int = 10):
        super().__init__()
        a, b, c, d = widths

        def block(cin: int, cout: int) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
            return nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout)

        self.conv1, self.bn1 = block(3, a)
        self.conv2, self.bn2 = block(a, b)
        self.conv3, self.bn3 = block(b, c)
        self.conv4, self.bn4 = block(c, d)
        self.fc = nn.Linear(d, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = torch.relu
        x = r(self.bn1(self.conv1(x)))
        x = nn.functional.max_pool2d(r(self.bn2(self.conv2(x))), 2)
        x = r(self.bn3(self.conv3(x)))
        x = nn.functional.max_pool2d(r(self.bn4(self.conv4(x))), 2)
        return self.fc(x.mean((2, 3)))


def conv_weights(model: PatternCNN) -> dict[str, nn.Parameter]:
    return {n: getattr(model, n).weight for n in CONVS}


def extracted_library(model: PatternCNN, size: int) -> tuple[tuple[int, ...], ...]:
    return pattern_library([w.detach() for w in conv_weights(model).values()], size=size)


def random_library(size: int, gen: torch.Generator) -> tuple[tuple[int, ...], ...]:
    pick = torch.randperm(len(ALL_PATTERNS), generator=gen)[:size]
    return tuple(ALL_PATTERNS[i] for i in sorted(pick.tolist()))
