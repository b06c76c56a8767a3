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
  reachable), one part per phrase of the abstract, each from the DA method of its time that does what the phrase
  says: a domain-adversarial loss through a gradient reversal layer (DANN, Ganin and Lempitsky 2015: "learn
  invariance across domains"), a multi-kernel MMD of the features (DAN, Long et al. 2015: "reduce divergence of
  feature representations"), and the entropy of the target predictions (RTN, Long et al. 2016: "adapt label
  prediction"), the last left at weight 0 (``experiment.ConvMConfig`` says why).

No kept library was used for the three losses: the Transfer-Learning-Library (``tllib``) is not on PyPI, and
``pytorch-adapt`` pins ``torchmetrics==0.9.3`` and has had no release since 2023; each loss is a few lines here,
tested in ``tests/papers/test_conv_m_wu2017.py``.
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
    """stem 3×3 (3→32), batch norm, pool, block (32→64), batch norm, pool, block (64→128), batch norm, average
    pool to a 3×3 map, flatten (1152 features, those the DA terms compare), linear 10.

    The 3×3 map and its flattened linear head (11.5K parameters, the same for every block kind) replace a global
    average pool and a 128→10 linear layer, which trained too slowly for the source-accuracy sanity bound. The
    batch norms (448 parameters, the same for every block kind) made the DA training adapt in every calibration
    training (``experiment.ConvMConfig``); under DA the source and target batches go through them together, so
    their statistics, at training and at test time, are those of both domains."""

    def __init__(self, block: type[nn.Module], squeeze: tuple[int, int] = (16, 24), pool: int = 3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            block(32, 64, squeeze[0]), nn.BatchNorm2d(64), nn.MaxPool2d(2),
            block(64, 128, squeeze[1]), nn.BatchNorm2d(128), nn.AdaptiveAvgPool2d(pool), nn.Flatten())
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


class _ReverseGradient(torch.autograd.Function):
    """Identity forward; the gradient multiplied by ``-coeff`` backward (DANN's gradient reversal layer)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, coeff: float) -> torch.Tensor:
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.coeff * grad, None


def reverse_gradient(x: torch.Tensor, coeff: float) -> torch.Tensor:
    return _ReverseGradient.apply(x, coeff)


class DomainCritic(nn.Module):
    """DANN's domain classifier (one hidden layer of 100 units, as in Ganin et al.'s MNIST-M network) behind a
    gradient reversal layer: it learns to tell source from target features, and the features learn, through the
    reversed gradient, to make it fail. A training aid only: it is not part of the network whose parameters are
    counted."""

    def __init__(self, features: int, hidden: int = 100):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, fs: torch.Tensor, ft: torch.Tensor, coeff: float) -> torch.Tensor:
        """The domain-classification loss (binary cross-entropy, source 0, target 1)."""
        logits = self.net(reverse_gradient(torch.cat([fs, ft]), coeff)).squeeze(1)
        domain = torch.cat([fs.new_zeros(len(fs)), fs.new_ones(len(ft))])
        return nn.functional.binary_cross_entropy_with_logits(logits, domain)


def mmd(a: torch.Tensor, b: torch.Tensor, multipliers: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)) -> torch.Tensor:
    """Squared maximum mean discrepancy (biased estimate) with a sum of Gaussian kernels whose bandwidths are
    multiples of the batch's mean squared distance (DAN's multi-kernel MMD), so that the kernels follow the
    features' scale; the bandwidth carries no gradient."""
    x = torch.cat([a, b])
    sq = x.pow(2).sum(1)
    d = (sq[:, None] + sq[None, :] - 2 * x @ x.T).clamp_min(0)  # cdist's gradient is NaN at zero distance
    n = len(x)
    base = (d.detach().sum() / (n * n - n)).clamp_min(1e-6)
    k = sum(torch.exp(-d / (base * m)) for m in multipliers)
    na = len(a)
    return k[:na, :na].mean() + k[na:, na:].mean() - 2 * k[:na, na:].mean()


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean entropy of the softmax predictions."""
    p = logits.softmax(1)
    return -(p * p.clamp_min(1e-8).log()).sum(1).mean()


def da_loss(fs: torch.Tensor, ft: torch.Tensor, logits_t: torch.Tensor, critic: DomainCritic, ramp: float,
            adversarial_weight: float, mmd_weight: float, entropy_weight: float) -> torch.Tensor:
    """The suite's reading of the unified DA objective, ``ramp`` (0 → 1 over training) scaling each part:
    domain-adversarial loss through the gradient reversal layer (learn invariance across domains), multi-kernel
    MMD of the features (reduce the divergence of feature representations), entropy of the target predictions
    (adapt label prediction; weight 0 by default, see ``ConvMConfig``)."""
    loss = adversarial_weight * critic(fs, ft, ramp) + ramp * mmd_weight * mmd(fs, ft)
    if entropy_weight:
        loss = loss + ramp * entropy_weight * entropy(logits_t)
    return loss
