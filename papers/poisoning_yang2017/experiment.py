"""Generative against direct-gradient poisoning of an MNIST MLP, and the loss-based detector.

One seed pretrains the scripts' target MLP (784-64-10) and the generator auto-encoder (to reconstruct MNIST, as
the scripts load a pretrained one), then makes ``poisons`` poisons from training images with the label shifted by
one (``label + 1``, modulo 10) by each method, timing each, and measures:

- the **accuracy degradation**: the test accuracy (10,000 images) of the pretrained model minus its accuracy after
  the one SGD step on a poison, averaged over the poisons; the unoptimised seed images with shifted labels are the
  reference;
- the **generation rate** of each method (poisons per second of wall time; the generator's time counts its
  poisoning rounds and the final generation, not its reconstruction pretraining, as the scripts' timers do; the
  ratio with the pretraining included is reported too);
- the **detector's AUC**: poisons against clean training samples, scored by the rise of the model's loss on
  held-out clean data after a one-step update on each (:func:`method.update_effect`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, vmap

from bench import data
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, seed_everything, shuffled_batches, train
from papers.poisoning_yang2017.method import (
    AutoEncoder,
    auc,
    direct_poison,
    generative_poisons,
    one_step,
    target_mlp,
    update_effect,
)


@dataclass
class PoisonConfig(ExperimentConfig):
    """The scripts' settings where they give them (one-step attack at lr 0.05, 10 clean samples, 5 direct rounds of
    step 0.2 with h = 0.01, 10 generator rounds at lr 0.005); the rest is the suite's [assumption]."""

    pretrain_steps: int = 900  # target MLP, Adam 1e-3, batches of 64 (about one epoch)
    ae_pretrain_steps: int = 900  # generator reconstruction pretraining, same optimizer
    poisons: int = 20  # poisons per method (the scripts make one)
    num_normal: int = 10  # clean samples whose loss the attacker raises
    direct_rounds: int = 5
    direct_step: float = 0.2
    generative_rounds: int = 10
    detector_reference: int = 500  # held-out clean samples whose loss the detector watches
    detector_clean: int = 200  # clean training samples scored as negatives


def _flat(split) -> tuple[torch.Tensor, torch.Tensor]:
    return split.x.float().div(255).flatten(1), split.y


def _accuracy_after_steps(model: nn.Module, params: dict, xs, ys, xt, yt) -> torch.Tensor:
    """Test accuracy after one step on each sample ``(xs[i], ys[i])``: shape ``(len(xs),)``."""
    def acc(x, y):
        p = one_step(model, params, x, y)
        return (functional_call(model, p, (xt,)).argmax(1) == yt).float().mean()
    return torch.stack([vmap(acc)(xs[i:i + 5], ys[i:i + 5]) for i in range(0, len(xs), 5)]).flatten()


@experiment(config=PoisonConfig, metrics=(
    "speed_ratio", "speed_ratio_with_pretraining", "poisons_per_s_direct", "poisons_per_s_generative",
    "degradation_direct_pp", "degradation_generative_pp", "degradation_flip_pp", "degradation_margin_pp",
    "detector_auc_generative", "detector_auc_direct", "input_loss_auc_generative", "accuracy_clean_pct"))
def mnist_poisoning(cfg: PoisonConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Both attacks on the same pretrained target, seeds and clean samples (CPU: the work is small)."""
    mnist = data.load("mnist")
    xtr, ytr = _flat(mnist.train)
    xte, yte = _flat(mnist.test)
    gen = seed_everything(seed)
    model = target_mlp()
    train(model, shuffled_batches(xtr, ytr, 64, gen), steps=cfg.pretrain_steps,
          optimizer=torch.optim.Adam(model.parameters(), 1e-3), desc=f"target seed {seed}")
    ae = AutoEncoder()
    t0 = time.perf_counter()
    train(ae, shuffled_batches(xtr, xtr, 64, gen), steps=cfg.ae_pretrain_steps,
          optimizer=torch.optim.Adam(ae.parameters(), 1e-3),
          loss_fn=lambda m, b: nn.functional.mse_loss(m(b[0]), b[1]), desc=f"generator seed {seed}")
    ae_pretrain_s = time.perf_counter() - t0
    model.eval()
    params = {k: v.detach() for k, v in model.named_parameters()}
    perm = torch.randperm(len(xtr), generator=gen)
    seeds_idx, clean_idx = perm[: cfg.poisons], perm[cfg.poisons: cfg.poisons + cfg.num_normal]
    ref_idx = perm[cfg.poisons + cfg.num_normal: cfg.poisons + cfg.num_normal + cfg.detector_reference]
    neg_idx = perm[-cfg.detector_clean:]
    x0, y_p = xtr[seeds_idx], (ytr[seeds_idx] + 1) % 10
    xc, yc = xtr[clean_idx], ytr[clean_idx]

    t0 = time.perf_counter()
    direct = torch.stack([direct_poison(model, params, x0[i], y_p[i], xc, yc, cfg.direct_rounds, cfg.direct_step)
                          for i in range(cfg.poisons)])
    direct_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    generated = generative_poisons(model, params, ae, x0, y_p, xc, yc, cfg.generative_rounds)
    generative_s = time.perf_counter() - t0

    acc0 = accuracy(model, xte, yte)
    drop = {name: 100 * (acc0 - _accuracy_after_steps(model, params, xs, y_p, xte, yte).mean().item())
            for name, xs in (("direct", direct), ("generative", generated), ("flip", x0))}
    xr, yr = xtr[ref_idx], ytr[ref_idx]
    neg = update_effect(model, params, xtr[neg_idx], ytr[neg_idx], xr, yr)
    with torch.no_grad():
        in_loss = nn.functional.cross_entropy(model(generated), y_p, reduction="none")
        in_loss_clean = nn.functional.cross_entropy(model(xtr[neg_idx]), ytr[neg_idx], reduction="none")
    return {
        "speed_ratio": direct_s / generative_s,
        "speed_ratio_with_pretraining": direct_s / (generative_s + ae_pretrain_s),
        "poisons_per_s_direct": cfg.poisons / direct_s,
        "poisons_per_s_generative": cfg.poisons / generative_s,
        "degradation_direct_pp": drop["direct"],
        "degradation_generative_pp": drop["generative"],
        "degradation_flip_pp": drop["flip"],
        # the generative degradation minus half the direct one: >= 0 when it reaches half of it
        "degradation_margin_pp": drop["generative"] - 0.5 * drop["direct"],
        "detector_auc_generative": auc(update_effect(model, params, generated, y_p, xr, yr), neg),
        "detector_auc_direct": auc(update_effect(model, params, direct, y_p, xr, yr), neg),
        "input_loss_auc_generative": auc(in_loss, in_loss_clean),
        "accuracy_clean_pct": 100 * acc0,
    }
