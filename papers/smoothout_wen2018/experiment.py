"""SmoothOut experiments: the Monte Carlo check of unbiasedness, and small batch against large batch with and
without (Ada)SmoothOut on Fashion-MNIST (the F1 MLP) and CIFAR-10 (the shallow net).

The batch studies train five variants from the same initialization and data order per seed, so the
differences between them are paired: ``small`` (batch 128), ``small_so`` (batch 128 + SmoothOut), ``large``
(batch 4096 in ghost batches of 128, learning rate × sqrt(4096/128)), ``large_so`` and ``large_ada`` (the same
with SmoothOut and AdaSmoothOut). All variants train for the same number of epochs (the paper's comparison
"at equal epochs"). Settings follow ``main_gbn.py`` and the models' ``regime`` in ``wenwei202/smoothout``;
each config field says where its default comes from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from bench import data
from bench.metrics.sharpness import epsilon_sharpness
from bench.models import MLP
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, random_crop_flip, seed_everything, shuffled_batches, steps_for, train
from papers.smoothout_wen2018.method import GhostBatchLoss, SmoothOut, large_batch_lr, perturbed_parameters
from papers.smoothout_wen2018.shallow import ShallowCifarNet

# ---------------------------------------------------------------------------------------------------------
# C1: stochastic SmoothOut is an unbiased estimate of the gradient of the smoothed loss


@dataclass
class UnbiasednessConfig(ExperimentConfig):
    """A loss with a closed-form smoothed gradient: f(θ) = Σ sin(ωθ_i), θ ∈ R^dim, noise U(−a, a)^dim."""

    dim: int = 64  # coordinates of θ (each one a test of the mean)
    strength: float = 0.5  # a: large enough that the smoothed gradient differs clearly from the plain one
    frequency: float = 4.0  # ω: E[cos ω(θ+n)] = cos ωθ · sin(ωa)/(ωa) = 0.45 · cos ωθ at a = 0.5
    samples: int = 20000  # stochastic SmoothOut gradients drawn (one noise draw each)


class _SineLoss(nn.Module):
    def __init__(self, theta: torch.Tensor, frequency: float):
        super().__init__()
        self.theta = nn.Parameter(theta)
        self.frequency = frequency

    def forward(self) -> torch.Tensor:
        return torch.sin(self.frequency * self.theta).sum()


@experiment(config=UnbiasednessConfig, devices=("cpu",), metrics=(
    "smoothed_chi2_per_dim", "plain_chi2_per_dim", "smoothed_max_abs_z", "restore_max_abs_diff"))
def smoothout_unbiasedness(cfg: UnbiasednessConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Draw stochastic SmoothOut gradients through ``SmoothOut.perturbed`` and compare their mean with ∇F.

    The original SmoothOut minimizes F(θ) = E_n f(θ + n), n ~ U(−a, a)^d (the average over infinitely many
    perturbed copies); stochastic SmoothOut takes one draw per step and the gradient ∇f(θ + n). Unbiasedness:
    E_n ∇f(θ + n) = ∇F(θ). For f = Σ sin(ωθ_i), ∇F(θ)_i = ω cos(ωθ_i) · sin(ωa)/(ωa) exactly. Per coordinate,
    z = (mean of the draws − target) / standard error; ``*_chi2_per_dim`` is the mean of z² over the
    coordinates (about 1 ± 0.18 when the target is the draws' expectation, large when it is not), for the
    smoothed gradient ∇F and for the plain gradient ∇f(θ), which the draws must *not* match if the noise acts.
    ``restore_max_abs_diff``: the largest change of θ after all the perturb/denoise cycles (0 when exact).
    """
    seed_everything(seed)
    theta = torch.empty(cfg.dim).uniform_(-math.pi, math.pi)
    loss = _SineLoss(theta.clone(), cfg.frequency)
    smoothout = SmoothOut([loss.theta], cfg.strength)
    draws = torch.empty(cfg.samples, cfg.dim, dtype=torch.float64)
    for k in range(cfg.samples):
        loss.theta.grad = None
        with smoothout.perturbed(k):
            loss().backward()
        draws[k] = loss.theta.grad
    mean, se = draws.mean(0), draws.std(0) / math.sqrt(cfg.samples)
    wa = cfg.frequency * cfg.strength
    plain = cfg.frequency * torch.cos(cfg.frequency * theta.double())
    smoothed = plain * math.sin(wa) / wa
    z_smoothed, z_plain = (mean - smoothed) / se, (mean - plain) / se
    return {"smoothed_chi2_per_dim": z_smoothed.pow(2).mean().item(),
            "plain_chi2_per_dim": z_plain.pow(2).mean().item(),
            "smoothed_max_abs_z": z_smoothed.abs().max().item(),
            "restore_max_abs_diff": (loss.theta.detach() - theta).abs().max().item()}


# ---------------------------------------------------------------------------------------------------------
# C2-C4: small batch, large batch, and large batch with (Ada)SmoothOut at equal epochs

VARIANTS = ("small", "small_so", "large", "large_so", "large_ada")
_PER_VARIANT = ("accuracy_pct", "train_accuracy_pct", "sharpness")
_DERIVED = ("large_batch_gap_pp", "smoothout_gain_pp", "adasmoothout_gain_pp", "small_smoothout_gain_pp",
            "smoothout_sharpness_ratio", "adasmoothout_sharpness_ratio", "large_over_small_sharpness")
BATCH_METRICS = tuple(f"{v}_{m}" for v in VARIANTS for m in _PER_VARIANT) + _DERIVED


@dataclass
class BatchStudyConfig(ExperimentConfig):
    """What the batch studies share (defaults: ``main_gbn.py`` and the F1 model's regime)."""

    epochs: float = 50.0  # run_experiments.sh, mnist_f1: --epochs 50 for every variant
    train_examples: int = 60000  # training images used (the first n of a seeded permutation)
    small_batch: int = 128  # the small-batch baseline
    large_batch: int = 4096  # run_experiments.sh: -b 4096
    ghost_batch: int = 128  # --mini-batch-size 128: the ghost batch and the base of the learning-rate fix
    lr: float = 0.1  # mnist_f1 regime: lr 0.1 for batch 128
    lr_policy: str = "sqrt"  # --lr_bb_fix with --lr_fix_policy sqrt: lr × sqrt(batch / ghost_batch)
    # the regime as (fraction of the run, multiplier of lr): mnist_f1 × 0.1 at epochs 10, 20, 30 of 50
    lr_schedule: tuple = ((0.0, 1.0), (0.2, 0.1), (0.4, 0.01), (0.6, 0.001))
    momentum: float = 0.9  # regime momentum 0.9
    weight_decay: float = 1e-4  # mnist_f1 regime weight_decay 1e-4
    clip_norm: float = 5.0  # clip_grad_norm(model.parameters(), 5.) before every step
    smoothout_strength: float = 0.01  # a of SmoothOut (--ss with --adapt-type none) at the large batch: U(−a, a)
    small_smoothout_strength: float = 0.01  # a of SmoothOut at the small batch
    adasmoothout_strength: float = 0.1  # a of AdaSmoothOut (--ss with --adapt-type filter): ‖noise‖ = a·‖filter‖
    noise_schedule: str = "constant"  # --smoothing-type (constant, anneal, tanh); the repo's default
    augment: bool = True  # main_gbn.py --augment (default on): pad, random crop, horizontal flip
    eval_on: str = "test"  # "test", or "holdout": the last holdout_examples training images (calibration)
    holdout_examples: int = 10000  # held out of the training images when eval_on is "holdout"
    test_examples: int = 0  # evaluation images used (0: all)
    train_eval_examples: int = 10000  # training images (un-augmented) on which training accuracy is measured
    sharpness_examples: int = 2000  # evaluation images on which ε-sharpness is measured (the repo: the val set)
    sharpness_epsilon: float = 5e-4  # measure_sharpness.py --epsilon
    sharpness_steps: int = 10  # gradient-ascent steps (the repo: 10 L-BFGS-B iterations)

    def __post_init__(self):
        if self.eval_on not in ("test", "holdout"):
            raise ValueError(f"eval_on must be 'test' or 'holdout', not {self.eval_on!r}")
        for b in (self.small_batch, self.large_batch):
            if b % min(b, self.ghost_batch):
                raise ValueError(f"batch {b} is not a multiple of the ghost batch {self.ghost_batch}")
        if self.epochs <= 0:
            raise ValueError("epochs must be positive")


@dataclass
class _Data:
    x: torch.Tensor  # training images, stored as ``transform`` expects
    y: torch.Tensor
    x_eval: torch.Tensor  # evaluation images, normalized
    y_eval: torch.Tensor
    x_train_eval: torch.Tensor  # training images, normalized, un-augmented
    y_train_eval: torch.Tensor
    transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor]  # per batch: augment and normalize


def _split(cfg: BatchStudyConfig, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Indices of the training images used, and of the held-out ones when evaluating on a holdout."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    if cfg.eval_on == "holdout":
        return perm[:n - cfg.holdout_examples][:cfg.train_examples], perm[n - cfg.holdout_examples:]
    return perm[:cfg.train_examples], None


def _fashion_mnist(cfg: BatchStudyConfig, seed: int, device: torch.device) -> _Data:
    """Fashion-MNIST in [0, 1]; per batch: pad 2 with black, crop 28, flip, then (x − 0.5)/0.5 (preprocess.py)."""
    ds = data.load("fashion-mnist")
    x = ds.train.x.float().div_(255).to(device)
    tr, ho = _split(cfg, len(x), seed)
    crop = random_crop_flip(pad=2)

    def normalize(t: torch.Tensor) -> torch.Tensor:
        return (t - 0.5) / 0.5

    def transform(xb: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        return normalize(crop(xb, g) if cfg.augment else xb)

    if ho is None:
        x_eval, y_eval = normalize(ds.test.x.float().div_(255).to(device)), ds.test.y.to(device)
    else:
        x_eval, y_eval = normalize(x[ho]), ds.train.y[ho].to(device)
    x_tr, y_tr = x[tr], ds.train.y[tr].to(device)
    return _Data(x_tr, y_tr, *_cut(cfg, x_eval, y_eval), normalize(x_tr[:cfg.train_eval_examples]),
                 y_tr[:cfg.train_eval_examples], transform)


def _cifar10(cfg: BatchStudyConfig, seed: int, device: torch.device) -> _Data:
    """CIFAR-10 (JPEG q75 here) standardized per channel; per batch: pad 4, crop 32, flip.

    The repo pads with gray (127) before normalizing with ImageNet statistics; here the images are
    standardized with CIFAR-10's own statistics first and padded with 0, the mean, which is the same gray to
    within the difference of the two statistics.
    """
    ds = data.load("cifar10")
    x = ds.normalized("train").to(device)
    tr, ho = _split(cfg, len(x), seed)
    crop = random_crop_flip(pad=4)

    def transform(xb: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        return crop(xb, g) if cfg.augment else xb

    if ho is None:
        x_eval, y_eval = ds.normalized("test").to(device), ds.test.y.to(device)
    else:
        x_eval, y_eval = x[ho], ds.train.y[ho].to(device)
    x_tr, y_tr = x[tr], ds.train.y[tr].to(device)
    return _Data(x_tr, y_tr, *_cut(cfg, x_eval, y_eval), x_tr[:cfg.train_eval_examples],
                 y_tr[:cfg.train_eval_examples], transform)


def _cut(cfg: BatchStudyConfig, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return (x[:cfg.test_examples], y[:cfg.test_examples]) if cfg.test_examples else (x, y)


def _lr_multiplier(schedule, steps: int) -> Callable[[int], float]:
    """LambdaLR factor from ``(fraction of the run, multiplier)`` pairs: the last pair started applies."""
    points = sorted((float(f), float(m)) for f, m in schedule)
    if not points or points[0][0] != 0.0:
        raise ValueError(f"lr_schedule must start at fraction 0.0, got {schedule}")

    def factor(step: int) -> float:
        return [m for f, m in points if step >= f * steps][-1]

    return factor


def _train_variant(variant: str, make_model: Callable[[], nn.Module], d: _Data, cfg: BatchStudyConfig, seed: int,
                   device: torch.device, desc: str) -> nn.Module:
    """Train one variant from the seed's initialization and data order; return the trained model."""
    gen = seed_everything(seed)  # same initialization and data order for every variant of a seed
    model = make_model().to(device)
    batch = cfg.large_batch if variant.startswith("large") else cfg.small_batch
    ghost = min(cfg.ghost_batch, batch)
    steps = steps_for(cfg.epochs, len(d.x), batch)
    lr = large_batch_lr(cfg.lr, batch, ghost, cfg.lr_policy)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_multiplier(cfg.lr_schedule, steps))
    smoothout = None
    if variant.endswith("_so") or variant.endswith("_ada"):
        adaptive = variant.endswith("_ada")
        strength = (cfg.adasmoothout_strength if adaptive else
                    cfg.smoothout_strength if variant.startswith("large") else cfg.small_smoothout_strength)
        smoothout = SmoothOut(perturbed_parameters(model), strength,
                              adaptive=adaptive, schedule=cfg.noise_schedule, total_steps=steps)
    loss_fn = GhostBatchLoss(ghost, smoothout, cfg.clip_norm)
    train(model, shuffled_batches(d.x, d.y, batch, gen, augment=d.transform), steps=steps, optimizer=opt,
          scheduler=sched, loss_fn=loss_fn, after_backward=lambda _: loss_fn.clip(model),
          log_every=max(1, min(50, steps // 10)), desc=f"{desc} {variant} (batch {batch}, {steps} steps)")
    return model


def _batch_study(cfg: BatchStudyConfig, seed: int, device: torch.device, d: _Data,
                 make_model: Callable[[], nn.Module], desc: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for v in VARIANTS:
        model = _train_variant(v, make_model, d, cfg, seed, device, desc)
        out[f"{v}_accuracy_pct"] = 100 * accuracy(model, d.x_eval, d.y_eval)
        out[f"{v}_train_accuracy_pct"] = 100 * accuracy(model, d.x_train_eval, d.y_train_eval)
        n = cfg.sharpness_examples
        out[f"{v}_sharpness"] = epsilon_sharpness(model, d.x_eval[:n], d.y_eval[:n], epsilon=cfg.sharpness_epsilon,
                                                  steps=cfg.sharpness_steps).sharpness
    acc, sharp = (lambda v: out[f"{v}_accuracy_pct"]), (lambda v: out[f"{v}_sharpness"])
    out |= {"large_batch_gap_pp": acc("small") - acc("large"),
            "smoothout_gain_pp": acc("large_so") - acc("large"),
            "adasmoothout_gain_pp": acc("large_ada") - acc("large"),
            "small_smoothout_gain_pp": acc("small_so") - acc("small"),
            "smoothout_sharpness_ratio": sharp("large_so") / sharp("large"),
            "adasmoothout_sharpness_ratio": sharp("large_ada") / sharp("large"),
            "large_over_small_sharpness": sharp("large") / sharp("small")}
    return out


@dataclass
class FashionF1Config(BatchStudyConfig):
    """The F1 MLP of ``models/mnist_f1.py``: 784 → ``depth`` × (Linear ``width`` → BN → ReLU) → 10."""

    width: int = 512  # mnist_f1: 512
    depth: int = 5  # mnist_f1: five hidden layers


@experiment(config=FashionF1Config, metrics=BATCH_METRICS)
def fmnist_f1_batch(cfg: FashionF1Config, seed: int, device: torch.device) -> dict[str, float]:
    """The five variants on Fashion-MNIST with the F1 MLP (the repo's MNIST setting; MNIST's gap is tiny)."""
    d = _fashion_mnist(cfg, seed, device)
    return _batch_study(cfg, seed, device, d, lambda: MLP(784, [cfg.width] * cfg.depth, 10, batch_norm=True),
                        "fmnist f1")


@dataclass
class ShallowCifarConfig(BatchStudyConfig):
    """The shallow CIFAR net; defaults from ``models/cifar_shallow.py`` and run_experiments.sh."""

    epochs: float = 200.0  # --epochs 200
    train_examples: int = 50000
    lr: float = 1e-3  # cifar10_shallow regime: 1e-3, then 1e-2 at 60, 1e-3 at 120, 1e-4 at 180 (of 200)
    lr_schedule: tuple = ((0.0, 1.0), (0.3, 10.0), (0.6, 1.0), (0.9, 0.1))
    weight_decay: float = 5e-4  # cifar10_shallow regime weight_decay 5e-4


@experiment(config=ShallowCifarConfig, metrics=BATCH_METRICS)
def cifar10_shallow_batch(cfg: ShallowCifarConfig, seed: int, device: torch.device) -> dict[str, float]:
    """The five variants on CIFAR-10 with the repo's shallow net (batch 4096 in ghost batches of 128)."""
    d = _cifar10(cfg, seed, device)
    return _batch_study(cfg, seed, device, d, ShallowCifarNet, "cifar10 shallow")
