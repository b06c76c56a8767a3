"""Mutants of Conv-M (bench/mutants.py).

- ``conv-m-as-fire``: ``experiment.BLOCKS["convm"]`` (looked up by ``_train`` in ``experiment``) becomes a module
  with Conv-M's squeeze and widths whose dilated and deconvolution branches are plain 3×3 convolutions: the same
  parameters, none of the diverse receptive fields the paper credits. It should break ``conv-m-recovers-da``.
"""

from __future__ import annotations

from unittest import mock

import torch
from torch import nn

from bench.mutants import mutant
from papers.conv_m_wu2017 import experiment, method


class _Uniform(method.ConvM):
    def __init__(self, cin: int, cout: int, squeeze: int):
        super().__init__(cin, cout, squeeze)
        q = cout // 4
        self.dilated = nn.Conv2d(squeeze, q, 3, padding=1)
        self.down = nn.Conv2d(squeeze, q, 3, padding=1)
        self.up = nn.Conv2d(q, cout - 3 * q, 4, padding="same")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.squeeze(x)
        return torch.relu(torch.cat([self.e1(s), self.e3(s), self.dilated(s), self.up(torch.relu(self.down(s)))], 1))


@mutant("conv-m-as-fire")
def conv_m_as_fire():
    """Conv-M without its dilated and deconvolution branches."""
    with mock.patch.dict(experiment.BLOCKS, {"convm": _Uniform}):
        yield
