"""FORMS's proxy on Caffe's CIFAR-10 ConvNet (10k images of the JPEG q75 re-encoding): polarization by ADMM at
several fragment heights against the unconstrained network, then FORMS against ISAAC on the suite's array model.

Per seed one ConvNet is pretrained (pneumonia_li2019's schedule). From the same weights and data order:

- ``dense``: trained on for the polarized arms' epochs, then its weights made 8-bit;
- ``polar{F}`` for each fragment height ``F``: ADMM onto the polarized set (every layer; one sign per ``F``
  consecutive inputs of an output), the hard projection, retraining with the signs locked, 8-bit weights.

Then, on the lowered inputs of real test images (simulated; ``method.py`` gives the designs and their sources):
the dense 8-bit network on ISAAC (offset weights, 128 rows per read, no skipping) against the polarized network on
FORMS (``F`` rows per read, zero fragments skipped): throughput per area and energy per image.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from bench.compress import cifar_convnet as convnet
from bench.compress.admm import ADMM, KBit, admm_train, masked_retrain
from bench.compress.polarize import polarized_fraction, sign_lock
from bench.registry import experiment
from bench.train import seed_everything, steps_for, train
from papers.forms_yuan2021 import method

HEADLINE_FRAGMENT = 8  # the fragment height the throughput claims use [assumption until the paper's is read]
ARMS = ("dense", *(f"polar{f}" for f in method.FRAGMENTS))


@dataclass
class FormsConfig(convnet.ConvNetConfig):
    """Caffe's ConvNet with pneumonia_li2019's cpu schedule (6 pretraining epochs; ADMM 2.5 + retraining 1 per
    arm; ρ 1.0 ×1.3 every half epoch, chosen there on its calibration seed by the ADMM residual alone)
    [assumption: the paper's ResNet-18 / VGG schedules were not read]."""

    train_examples: int = 10_000
    test_examples: int = 10_000
    pretrain_epochs: float = 6.0
    pretrain_lr: float = 0.001
    admm_epochs: float = 2.5
    retrain_epochs: float = 1.0
    lr: float = 0.001
    rho: float = 1.0
    rho_mult: float = 1.3
    weight_bits: int = 8  # FORMS's weights [3rd]
    mapping_images: int = 16  # test images whose lowered inputs count the conversions


def _sgd(model, cfg: FormsConfig) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)


def _arm(base, arm: str, x, y, cfg: FormsConfig, seed: int, salt: int):
    model = copy.deepcopy(base)
    n = len(x)
    admm_steps = steps_for(cfg.admm_epochs, n, cfg.batch_size)
    retrain_steps = steps_for(cfg.retrain_epochs, n, cfg.batch_size)
    if arm == "dense":
        steps = admm_steps + retrain_steps
        opt = _sgd(model, cfg)
        train(model, convnet.batches(x, y, cfg, seed, salt), steps=steps, optimizer=opt,
              scheduler=torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps), desc="dense train on")
        return model, 0.0
    fragment = int(arm.removeprefix("polar"))
    targets = method.targets(model, fragment)
    per_update = max(1, steps_for(0.5, n, cfg.batch_size))
    engine = ADMM(targets, rho=cfg.rho, rho_mult=cfg.rho_mult)
    admm_train(model, engine, convnet.batches(x, y, cfg, seed, salt), updates=max(1, admm_steps // per_update),
               steps_per_update=per_update, optimizer=_sgd(model, cfg), desc=f"{arm} admm")
    residual = max(engine.residuals().values())
    masks = engine.project_()
    opt = _sgd(model, cfg)
    masked_retrain(model, masks, convnet.batches(x, y, cfg, seed, salt + 1), steps=retrain_steps, optimizer=opt,
                   scheduler=torch.optim.lr_scheduler.CosineAnnealingLR(opt, retrain_steps), desc=f"{arm} retrain",
                   after_step=sign_lock(targets))
    return model, residual


@torch.no_grad()
def _quantize_(model, bits: int) -> None:
    for m in method.layers(model).values():
        m.weight.copy_(KBit(bits=bits)(m.weight))


@experiment(config=FormsConfig, metrics=(
    "accuracy_drop_polar_pp", "polarized_fraction", "throughput_area_over_isaac", "efficiency_over_isaac",
    "pretrained_accuracy_pct", "accuracy_dense_float_pct", *(f"accuracy_{a}_pct" for a in ARMS),
    *(f"accuracy_drop_polar{f}_pp" for f in method.FRAGMENTS), *(f"admm_residual_polar{f}" for f in method.FRAGMENTS),
    *(f"zeroed_fraction_polar{f}" for f in method.FRAGMENTS),
    "conversions_isaac", "conversions_forms", "conversions_forms_noskip", "skipped_fraction",
    "time_ns_isaac", "time_ns_forms", "area_mm2_isaac", "area_mm2_forms", "energy_pj_isaac", "energy_pj_forms",
    "adc_bits_needed_forms"))
def cifar_forms(cfg: FormsConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Dense and polarized ConvNets from one pretrained network; FORMS against ISAAC on the array model."""
    x, y, xt, yt = convnet.cifar10(cfg, seed, device)
    seed_everything(seed)
    base = convnet.CaffeCifarConvNet().to(device)
    steps = steps_for(cfg.pretrain_epochs, len(x), cfg.batch_size)
    opt = torch.optim.SGD(base.parameters(), lr=cfg.pretrain_lr, momentum=0.9, weight_decay=cfg.weight_decay)
    train(base, convnet.batches(x, y, cfg, seed, 1), steps=steps, optimizer=opt,
          scheduler=torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps), desc=f"pretrain seed {seed}")
    out = {"pretrained_accuracy_pct": convnet.accuracy_pct(base, xt, yt)}
    models = {}
    for i, arm in enumerate(ARMS):
        model, residual = _arm(base, arm, x, y, cfg, seed, 10 * (i + 2))
        if arm == "dense":
            out["accuracy_dense_float_pct"] = convnet.accuracy_pct(model, xt, yt)
        else:
            out[f"admm_residual_{arm}"] = residual
        _quantize_(model, cfg.weight_bits)
        out[f"accuracy_{arm}_pct"] = convnet.accuracy_pct(model, xt, yt)
        models[arm] = model.eval()
    for f in method.FRAGMENTS:
        w = [m.weight for m in method.layers(models[f"polar{f}"]).values()]
        out[f"accuracy_drop_polar{f}_pp"] = out["accuracy_dense_pct"] - out[f"accuracy_polar{f}_pct"]
        out[f"zeroed_fraction_polar{f}"] = sum(int((t == 0).sum()) for t in w) / sum(t.numel() for t in w)
        if f == HEADLINE_FRAGMENT:
            out["polarized_fraction"] = min(polarized_fraction(t, f) for t in w)
    out["accuracy_drop_polar_pp"] = out[f"accuracy_drop_polar{HEADLINE_FRAGMENT}_pp"]

    images = xt[:cfg.mapping_images]
    polar = models[f"polar{HEADLINE_FRAGMENT}"]
    isaac = method.performance(models["dense"], method.lowered_inputs(models["dense"], images), len(images),
                               method.ISAAC)
    polar_inputs = method.lowered_inputs(polar, images)
    forms = method.performance(polar, polar_inputs, len(images), method.forms(HEADLINE_FRAGMENT))
    noskip = method.performance(polar, polar_inputs, len(images), method.forms(HEADLINE_FRAGMENT, skip_zero=False))
    for k in ("time_ns", "area_mm2", "energy_pj"):
        out[f"{k}_isaac"], out[f"{k}_forms"] = isaac[k], forms[k]
    out["conversions_isaac"], out["conversions_forms"] = isaac["conversions"], forms["conversions"]
    out["conversions_forms_noskip"] = noskip["conversions"]
    out["skipped_fraction"] = 1 - forms["conversions"] / noskip["conversions"]
    out["throughput_area_over_isaac"] = (isaac["time_ns"] * isaac["area_mm2"]) / (forms["time_ns"] * forms["area_mm2"])
    out["efficiency_over_isaac"] = isaac["energy_pj"] / forms["energy_pj"]
    out["adc_bits_needed_forms"] = method.adc_bits_needed(method.forms(HEADLINE_FRAGMENT))
    return out
