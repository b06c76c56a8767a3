"""Copies (and so cores, or ticks) needed for equal accuracy on TrueNorth: baseline against the variance penalty.

Per seed, two MLPs are trained on MNIST from the same initialization and data order, both as expected networks
(``method.py``): the **baseline** (the deployment of Esser et al. 2015, which
the paper starts from) and the **method** (the same plus ``variance_penalty`` × ``penalty``). Each is deployed
by drawing Bernoulli copies (``draws`` independent sets of ``max_copies``) and the ensemble accuracy is measured
for every number of copies ``K``; the curves are averaged over the draws.

Copies needed: the fewest copies with which the method reaches the baseline's accuracy at ``reference_copies``
(cores, copies in space) and at ``speed_copies`` (ticks, copies in time). Cores per copy come from the core
model (``bench/hardware/truenorth.py``: 256 × 256 cores), so cores scale with copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from bench import data
from bench.hardware import truenorth
from bench.models import MLP
from bench.registry import ExperimentConfig, experiment
from bench.train import classification_loss, seed_everything, shuffled_batches, steps_for, train
from papers.truenorth_wen2016 import method


@dataclass
class TrueNorthConfig(ExperimentConfig):
    train_examples: int = 60000
    test_examples: int = 10000
    hidden: list[int] = field(default_factory=lambda: [512, 512])  # 784-512-512-10 [assumption]
    batch_size: int = 100
    epochs: float = 20.0  # [assumption]
    lr: float = 1e-3  # Adam [assumption]
    scale_mult: float = 3.0  # a layer's synaptic scale s = scale_mult/√fan_in (3× PyTorch's init bound) [assumption]
    penalty: float = 1e-6  # λ of λ·Σ p(1 − p) [assumption: calibrated on a seed not used for verdicts]
    max_copies: int = 64
    draws: int = 4  # independent draws of max_copies copies; accuracy curves averaged
    reference_copies: int = 16  # cores: the method's copies for the baseline's accuracy with this many
    speed_copies: int = 32  # speed: the same for copies in time

    def __post_init__(self):
        if not 1 <= self.reference_copies <= self.max_copies or not 1 <= self.speed_copies <= self.max_copies:
            raise ValueError("reference_copies and speed_copies must be in [1, max_copies]")
        if self.penalty < 0 or self.draws < 1:
            raise ValueError("penalty must be >= 0 and draws >= 1")


def _train(cfg: TrueNorthConfig, x, y, seed: int, device, penalty: float) -> MLP:
    seed_everything(seed)
    model = MLP(784, cfg.hidden, 10).to(device)
    method.clip_(model, cfg.scale_mult)

    def loss(m, batch):
        base = classification_loss(m, batch)
        return base + penalty * method.variance_penalty(m, cfg.scale_mult) if penalty else base

    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    train(model, shuffled_batches(x, y, cfg.batch_size, torch.Generator().manual_seed(seed)),
          steps=steps_for(cfg.epochs, len(x), cfg.batch_size), optimizer=opt, loss_fn=loss,
          after_step=lambda s: method.clip_(model, cfg.scale_mult), desc=f"{'method' if penalty else 'baseline'}")
    return model


def _curve(model, xt, yt, cfg: TrueNorthConfig, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed * 104729 + 17)
    return torch.stack([method.ensemble_accuracy(model, xt, yt, cfg.max_copies, cfg.scale_mult, gen)
                        for _ in range(cfg.draws)]).mean(0)


@experiment(config=TrueNorthConfig, metrics=(
    "baseline_float_accuracy_pct", "method_float_accuracy_pct", "baseline_1copy_pct", "method_1copy_pct",
    "reference_accuracy_pct", "method_copies", "cores_ratio", "baseline_cores", "method_cores",
    "speed_reference_accuracy_pct", "method_copies_speed", "speedup", "baseline_variance", "method_variance",
    "method_zero_fraction", "method_accuracy_at_speed_copies_pct"))
def mnist_truenorth(cfg: TrueNorthConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Ensemble accuracy against copies for the baseline and the variance-constrained MLP."""
    ds = data.load("mnist")
    idx = torch.randperm(len(ds.train), generator=torch.Generator().manual_seed(seed))[:cfg.train_examples]
    x, y = (ds.train.x[idx].float() / 255).to(device), ds.train.y[idx].to(device)
    xt, yt = (ds.test.x[:cfg.test_examples].float() / 255).to(device), ds.test.y[:cfg.test_examples].to(device)
    base = _train(cfg, x, y, seed, device, 0.0)
    ours = _train(cfg, x, y, seed, device, cfg.penalty)
    cb, co = _curve(base, xt, yt, cfg, seed), _curve(ours, xt, yt, cfg, seed)
    shapes = [(m.in_features, m.out_features) for m in method.synapse_layers(base).values()]
    ref = float(cb[cfg.reference_copies - 1])
    k = method.copies_needed(co, ref)
    speed_ref = float(cb[cfg.speed_copies - 1])
    k_speed = method.copies_needed(co, speed_ref)
    from bench.train import accuracy
    weights = [m.weight for m in method.synapse_layers(ours).values()]
    return {
        "baseline_float_accuracy_pct": 100 * accuracy(base, xt, yt), "method_float_accuracy_pct": 100 * accuracy(
            ours, xt, yt),
        "baseline_1copy_pct": float(cb[0]), "method_1copy_pct": float(co[0]),
        "reference_accuracy_pct": ref, "method_copies": float(k),
        "baseline_cores": float(truenorth.network_cores(shapes, cfg.reference_copies)),
        "method_cores": float(truenorth.network_cores(shapes, k)),
        "cores_ratio": truenorth.network_cores(shapes, k) / truenorth.network_cores(shapes, cfg.reference_copies),
        "speed_reference_accuracy_pct": speed_ref, "method_copies_speed": float(k_speed),
        "speedup": cfg.speed_copies / k_speed,
        "method_accuracy_at_speed_copies_pct": float(co[cfg.speed_copies - 1]),
        "baseline_variance": method.variance(base, cfg.scale_mult),
        "method_variance": method.variance(ours, cfg.scale_mult),
        "method_zero_fraction": sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights),
    }
