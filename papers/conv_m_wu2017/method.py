"""Conv-M, the fire module and a plain block on one small backbone, the MNIST-M-like target domain, and the DA loss.

- :class:`ConvM`: the suite's reading of the paper's module (its exact layout was not reachable): a 1×1 squeeze,
  then four expand branches concatenated: 1×1, 3×3, dilated 3×3 (dilation 2), and a "deconvolution" branch (a
  stride-2 3×3 convolution followed by a stride-2 transposed convolution back to full size). More kinds of
  receptive field for about the parameters of a fire module.
- :class:`Fire`: SqueezeNet's fire module (1×1 squeeze, 1×1 and 3×3 expands concatenated).
- :class:`Plain`: two 3×3 convolutions, the uncompressed reference.
- :func:`blend_backgrounds`: MNIST digits on CIFAR-10 patches, ``|patch − digit|`` per channel, as Ganin and
  Lempitsky built MNIST-M from BSDS500 (here from the CIFAR-10 JPEG re-encoding, the only natural images at hand).
- :func:`da_loss`: the suite's reading of the paper's "unified" unsupervised DA objective (its formulas were not
  reachable): a multi-bandwidth Gaussian MMD between source and target features (reduce the divergence of feature
  representations) plus the entropy of the target predictions (adapt label prediction).
"""

from __future__ import annotations

import torch
from torch import nn


class Fire(nn.Module):
    def __init__(self, cin: int, cout: int, squeeze: int):
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(cin, squeeze, 1), nn.ReLU())
        self.e1 = nn.Conv2d(squeeze, cout // 2, 1)
        self.e3 = nn.Conv2d(squeeze, cout // 2, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.squeeze(x)
        return torch.relu(torch.cat([self.e1(s), self.e3(s)], 1))


class ConvM(nn.Module):
    def __init__(self, cin: int, cout: int, squeeze: int):
        super().__init__()
        q = cout // 4
        self.squeeze = nn.Sequential(nn.Conv2d(cin, squeeze, 1), nn.ReLU())
        self.e1 = nn.Conv2d(squeeze, q, 1)
        self.e3 = nn.Conv2d(squeeze, q, 3, padding=1)
        self.dilated = nn.Conv2d(squeeze, q, 3, padding=2, dilation=2)
        self.down = nn.Conv2d(squeeze, q, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(q, cout - 3 * q, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.squeeze(x)
        deconv = self.up(torch.relu(self.down(s)))[..., : s.shape[-2], : s.shape[-1]]
        return torch.relu(torch.cat([self.e1(s), self.e3(s), self.dilated(s), deconv], 1))


class Plain(nn.Module):
    def __init__(self, cin: int, cout: int, squeeze: int = 0):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Net(nn.Module):
    """stem 3×3 (3→32), pool, block (32→64), pool, block (64→128), average pool to a 3×3 map, flatten (1152
    features, those the MMD compares), linear 10.

    The 3×3 map and its flattened linear head (11.5K parameters, the same for every block kind) replace a global
    average pool and a 128→10 linear layer, which trained too slowly for the source-accuracy sanity bound."""

    def __init__(self, block: type[nn.Module], squeeze: tuple[int, int] = (16, 24), pool: int = 3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            block(32, 64, squeeze[0]), nn.MaxPool2d(2),
            block(64, 128, squeeze[1]), nn.AdaptiveAvgPool2d(pool), nn.Flatten())
        self.head = nn.Linear(128 * pool * pool, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        return f, self.head(f)


def params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def blend_backgrounds(digits: torch.Tensor, backgrounds: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """``digits`` (N, 28, 28) uint8 over random 28×28 crops of ``backgrounds`` (M, 3, 32, 32) uint8, as floats
    in [0, 1]: ``|patch − digit|`` per channel."""
    n = len(digits)
    pick = torch.randint(0, len(backgrounds), (n,), generator=gen)
    dy, dx = torch.randint(0, 5, (n,), generator=gen), torch.randint(0, 5, (n,), generator=gen)
    rows = dy[:, None] + torch.arange(28)
    cols = dx[:, None] + torch.arange(28)
    bg = backgrounds[pick].float().div(255)
    patch = bg[torch.arange(n)[:, None, None, None], torch.arange(3)[None, :, None, None],
               rows[:, None, :, None], cols[:, None, None, :]]
    return (patch - digits.float().div(255)[:, None]).abs()


def gray_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) or (N, 1, 28, 28) uint8 digits as (N, 3, 28, 28) floats in [0, 1]."""
    x = x.float().div(255)
    return (x if x.dim() == 4 else x[:, None]).expand(-1, 3, -1, -1).contiguous()


def mmd(a: torch.Tensor, b: torch.Tensor, bandwidths: tuple[float, ...] = (1.0, 4.0, 16.0)) -> torch.Tensor:
    """Squared maximum mean discrepancy with a sum of Gaussian kernels (biased estimate)."""
    x = torch.cat([a, b])
    d = torch.cdist(x, x).pow(2)
    k = sum(torch.exp(-d / (2 * s)) for s in bandwidths)
    n = len(a)
    return k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()


def da_loss(fs: torch.Tensor, ft: torch.Tensor, logits_t: torch.Tensor, entropy_weight: float) -> torch.Tensor:
    p = logits_t.softmax(1)
    entropy = -(p * p.clamp_min(1e-8).log()).sum(1).mean()
    return mmd(fs, ft) + entropy_weight * entropy
