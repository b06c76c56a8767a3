"""The ADMM papers' LeNet-5/MNIST recipe, shared by the four papers whose claims are on it.

Settings are the authors' PyTorch engine's MNIST template (``yeshaokai/Robustness-Aware-Pruning-ADMM``,
``config.yaml.example`` and ``admm/admm.py``, read for this suite): Caffe's LeNet-5 (conv 20 and 50 of 5×5,
fc 500 and 10; 430.5K weights), batch 64; ADMM training with SGD (momentum 0.9) at lr 0.01 for 40 epochs, an
ADMM update every 4 epochs, ρ = 1e-3 × 1.3 per update, the learning rate restarting at each ADMM period and
divided by 10 after each third of it; masked retraining with Adam at lr 0.01 for 40 epochs; the per-layer
prune ratios 0.8 / 0.947 / 0.99 / 0.93 (conv1, conv2, fc1, fc2: 74.5× overall). The pretraining of the dense
network is not in the template (it loads a checkpoint): Caffe's LeNet recipe is assumed (SGD lr 0.01,
momentum 0.9, weight decay 5e-4, 10k iterations of batch 64 = 10.67 epochs).

A paper composes :func:`pretrain`, :func:`admm_stage` (ADMM training onto per-layer projections, then the
hard projection; a later stage passes the previous masks as ``frozen``: the progressive schedule) and
:func:`retrain` (masked). :func:`ratios_for_rate` spreads an overall pruning rate over the layers in the
template's proportions.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from bench import data
from bench.compress.admm import ADMM, Binary, FilterColumn, Masks, Projection, admm_train, masked_retrain
from bench.models import LeNet5
from bench.registry import ExperimentConfig
from bench.train import accuracy, seed_everything, shuffled_batches, steps_for, train

LAYERS = ("conv1", "conv2", "fc1", "fc2")
TEMPLATE_RATIOS = {"conv1": 0.8, "conv2": 0.947, "fc1": 0.99, "fc2": 0.93}  # the template's prune ratios


@dataclass
class LeNetADMMConfig(ExperimentConfig):
    """The authors' MNIST template (module docstring); a paper's ``claims.yaml`` scales it down for ``cpu``."""

    train_examples: int = 60000  # training images used (the first n of a seeded permutation)
    test_examples: int = 10000  # test images evaluated (fewer only in smoke runs)
    batch_size: int = 64
    pretrain_epochs: float = 10.67  # the dense network (Caffe's LeNet recipe)
    pretrain_lr: float = 0.01
    admm_epochs: float = 40.0  # ADMM training per stage
    admm_period: float = 4.0  # epochs between ADMM updates (Z, U, ρ)
    admm_lr: float = 0.01
    rho: float = 1e-3
    rho_mult: float = 1.3
    retrain_epochs: float = 40.0  # masked retraining per stage
    retrain_lr: float = 0.01  # Adam

    def __post_init__(self):
        if self.train_examples < self.batch_size:
            raise ValueError("train_examples must be at least batch_size")
        if self.admm_epochs < self.admm_period or self.admm_period <= 0:
            raise ValueError("admm_epochs must be at least one admm_period (> 0)")


def mnist(cfg: LeNetADMMConfig, seed: int, device: torch.device):
    """``(x, y, x_test, y_test)`` as tensors on ``device``; pixels scaled by 1/256 as Caffe's LeNet."""
    ds = data.load("mnist")
    idx = torch.randperm(len(ds.train), generator=torch.Generator().manual_seed(seed))[:cfg.train_examples]
    x = (ds.train.x[idx].float() / 256).to(device)
    xt = (ds.test.x[:cfg.test_examples].float() / 256).to(device)
    return x, ds.train.y[idx].to(device), xt, ds.test.y[:cfg.test_examples].to(device)


def weights(model: nn.Module) -> dict[str, nn.Parameter]:
    """The four weight tensors ADMM compresses (biases are kept, as in the authors' code)."""
    return {n: model.get_submodule(n).weight for n in LAYERS}


def ratios_for_rate(rate: float) -> dict[str, float]:
    """Per-layer prune ratios reaching ``rate``× overall, each layer keeping the template's share of weights.

    The template keeps 20% / 5.3% / 1% / 7% of conv1 / conv2 / fc1 / fc2 (74.5×); another rate scales every
    kept fraction by the same factor (capped at keeping everything).
    """
    model = LeNet5()
    sizes = {n: w.numel() for n, w in weights(model).items()}
    kept = {n: sizes[n] * (1 - r) for n, r in TEMPLATE_RATIOS.items()}
    scale = sum(sizes.values()) / rate / sum(kept.values())
    if scale * max(k / sizes[n] for n, k in kept.items()) > 1:
        raise ValueError(f"rate {rate}× is below what the template's proportions allow")
    return {n: 1 - kept[n] * scale / sizes[n] for n in LAYERS}


def structured_projections(rate: float, proportions: str = "uniform") -> dict[str, FilterColumn]:
    """Filter+column projections reaching ``rate``× (before unused paths are counted): each layer keeps a
    fraction ``f`` of its weights as ``√f`` of its rows and of its columns; fc2, whose rows are the 10 classes,
    keeps all rows and ``f`` of its columns. ``f`` is ``1/rate`` in every layer (``"uniform"``) or the
    template's proportions (``"template"``, :func:`ratios_for_rate`, rates of at least 15×)."""
    if proportions == "uniform":
        kept = {n: 1 / rate for n in LAYERS}
    elif proportions == "template":
        kept = {n: 1 - r for n, r in ratios_for_rate(rate).items()}
    else:
        raise ValueError("proportions must be 'uniform' or 'template'")
    out = {n: FilterColumn(1 - math.sqrt(kept[n]), column_ratio=1 - math.sqrt(kept[n])) for n in LAYERS[:-1]}
    out["fc2"] = FilterColumn(0.0, column_ratio=1 - kept["fc2"])
    return out


def batches(x, y, cfg: LeNetADMMConfig, seed: int, salt: int):
    return shuffled_batches(x, y, cfg.batch_size, torch.Generator().manual_seed(seed * 7919 + salt))


def pretrain(x, y, cfg: LeNetADMMConfig, seed: int, device: torch.device) -> LeNet5:
    """The dense LeNet-5 every arm of an experiment starts from."""
    seed_everything(seed)
    model = LeNet5().to(device)
    steps = steps_for(cfg.pretrain_epochs, len(x), cfg.batch_size)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.pretrain_lr, momentum=0.9, weight_decay=5e-4)
    train(model, batches(x, y, cfg, seed, 1), steps=steps, optimizer=opt, desc=f"pretrain seed {seed}")
    return model


def admm_stage(model: nn.Module, projections: Mapping[str, Projection], x, y, cfg: LeNetADMMConfig, seed: int,
               salt: int, frozen: Masks | None = None, epochs: float | None = None, desc: str = "admm") -> Masks:
    """ADMM training of ``model``'s layers onto ``projections`` (name → projection), then the hard projection.

    ``epochs`` overrides ``cfg.admm_epochs`` (a progressive schedule splits them between stages); the number of
    ADMM updates is ``epochs / cfg.admm_period``, rounded, at least 1. Returns the supports, merged with
    ``frozen``'s (weights already pruned stay pruned).
    """
    epochs = cfg.admm_epochs if epochs is None else epochs
    w = weights(model)
    engine = ADMM({n: (w[n], p) for n, p in projections.items()}, rho=cfg.rho, rho_mult=cfg.rho_mult)
    updates = max(1, round(epochs / cfg.admm_period))
    period = max(1, steps_for(epochs, len(x), cfg.batch_size) // updates)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.admm_lr, momentum=0.9, weight_decay=1e-4)
    # the template's schedule: lr restarts at every ADMM period and drops ×0.1 after each third of it
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.1 ** min(2, (3 * (s % period)) // period))
    admm_train(model, engine, batches(x, y, cfg, seed, salt), updates=updates, steps_per_update=period,
               optimizer=opt, scheduler=sched, frozen=frozen, desc=desc)
    masks = engine.project_()
    return masks.merged(frozen) if frozen is not None else masks


def retrain(model: nn.Module, masks: Masks, x, y, cfg: LeNetADMMConfig, seed: int, salt: int,
            epochs: float | None = None, desc: str = "retrain") -> None:
    """Masked retraining with Adam (the template's), ``epochs`` overriding ``cfg.retrain_epochs``."""
    epochs = cfg.retrain_epochs if epochs is None else epochs
    if epochs <= 0:
        return
    opt = torch.optim.Adam(model.parameters(), lr=cfg.retrain_lr)
    masked_retrain(model, masks, batches(x, y, cfg, seed, salt), steps=steps_for(epochs, len(x), cfg.batch_size),
                   optimizer=opt, desc=desc)


def accuracy_pct(model: nn.Module, xt, yt) -> float:
    return 100 * accuracy(model, xt, yt, 1000)


# ---------------------------------------------------------------------------------------------------------
# binarization of every layer: one-shot against progressive (Progressive ADMM; progressive ADMM quantization)


@dataclass
class BinarizeConfig(LeNetADMMConfig):
    """Every weight of LeNet-5 binarized (first and last layers included), ``α`` per layer.

    Progressive: the middle layers (``first_stage``) in the first stage, the first and last layers in the second
    [3rd-party reading of arXiv 1903.09769: "all layers but the first and last, then those"]; each stage has
    ``admm_epochs``; one-shot binarizes all four layers in one stage of ``2·admm_epochs``. After the last hard
    projection the binary weights are fixed and ``retrain_epochs`` train the biases only.
    """

    first_stage: tuple[str, ...] = ("conv2", "fc1")
    retrain_epochs: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        self.first_stage = tuple(self.first_stage)
        if not self.first_stage or set(self.first_stage) - set(LAYERS) or set(self.first_stage) == set(LAYERS):
            raise ValueError(f"first_stage must be a proper, nonempty subset of {LAYERS}")


BINARIZE_METRICS = ("fp_accuracy_pct", "oneshot_accuracy_pct", "oneshot_loss_pp", "progressive_stage1_accuracy_pct",
                    "progressive_accuracy_pct", "progressive_loss_pp", "progressive_gain_pp", "binary_fraction")


def _freeze(model: nn.Module, names) -> None:
    for n in names:
        model.get_submodule(n).weight.requires_grad_(False)


def _bias_retrain(model: nn.Module, x, y, cfg: BinarizeConfig, seed: int, salt: int, desc: str) -> None:
    if cfg.retrain_epochs <= 0:
        return
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=cfg.retrain_lr)
    train(model, batches(x, y, cfg, seed, salt), steps=steps_for(cfg.retrain_epochs, len(x), cfg.batch_size),
          optimizer=opt, desc=desc)


def binarize(cfg: BinarizeConfig, seed: int, device: torch.device) -> dict[str, float]:
    """One-shot and progressive ADMM binarization of every LeNet-5 weight from the same pretrained network."""
    x, y, xt, yt = mnist(cfg, seed, device)
    base = pretrain(x, y, cfg, seed, device)
    out = {"fp_accuracy_pct": accuracy_pct(base, xt, yt)}

    oneshot = copy.deepcopy(base)
    admm_stage(oneshot, {n: Binary() for n in LAYERS}, x, y, cfg, seed, 12, epochs=2 * cfg.admm_epochs,
               desc="one-shot binarize")
    _freeze(oneshot, LAYERS)
    _bias_retrain(oneshot, x, y, cfg, seed, 13, "one-shot bias retrain")
    out["oneshot_accuracy_pct"] = accuracy_pct(oneshot, xt, yt)

    prog = copy.deepcopy(base)
    admm_stage(prog, {n: Binary() for n in cfg.first_stage}, x, y, cfg, seed, 14, desc="progressive binarize 1")
    _freeze(prog, cfg.first_stage)
    out["progressive_stage1_accuracy_pct"] = accuracy_pct(prog, xt, yt)
    rest = [n for n in LAYERS if n not in cfg.first_stage]
    admm_stage(prog, {n: Binary() for n in rest}, x, y, cfg, seed, 15, desc="progressive binarize 2")
    _freeze(prog, rest)
    _bias_retrain(prog, x, y, cfg, seed, 16, "progressive bias retrain")
    out["progressive_accuracy_pct"] = accuracy_pct(prog, xt, yt)

    w = weights(prog)  # every weight is ±α of its layer: the share of weights at exactly two values per layer
    out["binary_fraction"] = sum(int((t.detach().abs() == t.detach().abs().max()).sum()) for t in w.values()) / sum(
        t.numel() for t in w.values())
    out["oneshot_loss_pp"] = out["fp_accuracy_pct"] - out["oneshot_accuracy_pct"]
    out["progressive_loss_pp"] = out["fp_accuracy_pct"] - out["progressive_accuracy_pct"]
    out["progressive_gain_pp"] = out["progressive_accuracy_pct"] - out["oneshot_accuracy_pct"]
    return out
