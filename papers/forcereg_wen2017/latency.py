"""AlexNet's conv3–conv5 dense and low-rank, at the ranks of the paper's AlexNet table (poster Table 4).

Force Regularization's AlexNet keeps conv1 and conv2 (already low rank) and decomposes conv3–conv5 at "≤ 5% PCA
reconstruction error" into basis filters plus a 1×1 combination (:mod:`bench.compress.lowrank`, channel
scheme). Table 4 gives the ranks of the network trained without force and with the L2 force (top-1 error
43.21% and 43.25%), and the speedups of each layer on a GPU and a CPU together with the theoretical ones.

Layer shapes are Caffe's ``bvlc_alexnet`` at 227×227 input (13×13 maps for conv3–conv5; conv4 and conv5 have
two groups). A grouped layer is decomposed group by group: its rank is the sum of the groups' ranks, which is
what reproduces the table's theoretical speedups (3.26× for conv4 at rank 106 = 53 + 53, 1.85× for conv5 at
rank 129 = 64 + 65). How an odd rank splits between the groups is not published [assumption: as evenly as
possible, the larger half on the second group]; the MACs are the same either way for equal-shaped groups.

The batch is 10 images, the ``input_dim`` of Caffe's AlexNet ``deploy.prototxt`` [assumption: the paper does
not say at which batch it timed]. The forward pass of each layer is timed, without the ReLU and pooling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from bench.compress.lowrank import factorize
from bench.latency import LatencyCase


@dataclass(frozen=True)
class AlexNetConv:
    name: str
    in_channels: int
    filters: int
    groups: int
    rank_force: int  # Table 4, L2 force
    rank_noforce: int  # Table 4, no force
    kernel: int = 3
    padding: int = 1
    side: int = 13  # input and output maps are side × side

    def group_ranks(self, rank: int) -> list[int]:
        """``rank`` split over the groups, as evenly as possible, the larger parts last."""
        base, extra = divmod(rank, self.groups)
        return [base + (1 if g >= self.groups - extra else 0) for g in range(self.groups)]

    def macs(self, rank: int | None = None) -> int:
        """MACs per image of the dense layer (``rank=None``) or of its decomposition at total rank ``rank``."""
        cin, n = self.in_channels // self.groups, self.filters // self.groups
        k2, pixels = self.kernel ** 2, self.side ** 2
        if rank is None:
            return self.groups * n * cin * k2 * pixels
        return sum(r * (cin * k2 + n) * pixels for r in self.group_ranks(rank))


ALEXNET = (
    AlexNetConv("conv3", 256, 384, 1, rank_force=124, rank_noforce=184),
    AlexNetConv("conv4", 384, 384, 2, rank_force=106, rank_noforce=201),
    AlexNetConv("conv5", 384, 256, 2, rank_force=129, rank_noforce=146),
)
VARIANTS = ("dense", "lowrank-force", "lowrank-noforce")
BATCH = 10


def _rank(layer: AlexNetConv, variant: str) -> int | None:
    return {"dense": None, "lowrank-force": layer.rank_force, "lowrank-noforce": layer.rank_noforce}[variant]


def layer_callable(layer: AlexNetConv, variant: str, device: torch.device, seed: int,
                   batch: int = BATCH) -> Callable[[], torch.Tensor]:
    """One forward pass of ``layer`` (dense or decomposed) on a batch of random maps, on ``device``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
    gen = torch.Generator().manual_seed(seed * 1009 + ALEXNET.index(layer))
    weight = torch.randn(layer.filters, layer.in_channels // layer.groups, layer.kernel, layer.kernel,
                         generator=gen)
    x = torch.randn(batch, layer.in_channels, layer.side, layer.side, generator=gen).to(device)
    rank = _rank(layer, variant)
    if rank is None:
        w = weight.to(device)
        return lambda: F.conv2d(x, w, padding=layer.padding, groups=layer.groups)
    # per group: r basis filters (k×k) then a 1×1 combination, as nn_decomposer builds them
    n = layer.filters // layer.groups
    factors = [tuple(f.to(device) for f in factorize(weight[g * n:(g + 1) * n], "channel", r, balance=1.0))
               for g, r in enumerate(layer.group_ranks(rank))]
    if layer.groups == 1 or len({r for r in layer.group_ranks(rank)}) == 1:
        # equal ranks: the two convs stay grouped convs, as a Caffe layer with ``group`` would be
        basis = torch.cat([f[0] for f in factors])
        combination = torch.cat([f[1] for f in factors])
        return lambda: F.conv2d(F.conv2d(x, basis, padding=layer.padding, groups=layer.groups), combination,
                                groups=layer.groups)
    chunks = x.chunk(layer.groups, dim=1)
    return lambda: torch.cat([F.conv2d(F.conv2d(c, b, padding=layer.padding), m)
                              for c, (b, m) in zip(chunks, factors, strict=True)], dim=1)


def latency_cases() -> list[LatencyCase]:
    """conv3–conv5 dense, and decomposed at Table 4's ranks with and without the force."""
    return [LatencyCase("forcereg_wen2017", f"alexnet.{layer.name}", variant,
                        lambda device, seed, layer=layer, variant=variant: layer_callable(layer, variant, device, seed),
                        note=(f"{BATCH}×{layer.in_channels}×{layer.side}² → {layer.filters}, groups {layer.groups}"
                              + (f", rank {_rank(layer, variant)}" if _rank(layer, variant) else "")))
            for layer in ALEXNET for variant in VARIANTS]
