"""The memristor framework's proxy: crossbar-block ADMM pruning plus 8-bit weights against irregular ADMM pruning
at the same rate and the dense network, on Caffe's CIFAR-10 ConvNet (10k images of the JPEG q75 re-encoding),
each mapped onto in-memory-computing arrays (``bench.hardware.imc.IMCArray``; simulated, the suite's model).

Per seed one ConvNet is pretrained (pneumonia_li2019's schedule). From the same weights and data order:

- ``dense``: trained on for the pruning arms' epochs, then its weights made 8-bit;
- ``crossbar``: ADMM onto crossbar-block pruning of conv2, conv3 and ip1 at ``compression`` per layer (every
  block of one array's inputs keeps the same number of outputs), hard pruning, masked retraining, 8-bit weights;
- ``irregular``: the same with irregular (magnitude) pruning at the same per-layer rate.

Each network is mapped layer by layer onto the arrays (pruned inputs and output columns packed away); the ADC
conversions per image are counted on the lowered inputs of real test images (zero-skipping off: every input bit
cycle reads every fragment, as a plain crossbar design does). Energy and area follow from the counts with the
constants of ``ARRAY_COSTS`` (their source there).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from bench.compress import cifar_convnet as convnet
from bench.compress.admm import ADMM, admm_train, masked_retrain
from bench.hardware.imc import IMCCosts, dense_arrays, imc_cost
from bench.registry import experiment
from bench.train import seed_everything, steps_for, train
from papers.memristor_admm_yuan2019 import method

ARMS = ("dense", *method.KINDS)
ARRAY_COSTS = IMCCosts()  # unit costs: power as ADC conversions, area as crossbars (ratios only)


@dataclass
class MemristorConfig(convnet.ConvNetConfig):
    """Caffe's ConvNet with pneumonia_li2019's cpu schedule (6 pretraining epochs; ADMM 2.5 + retraining 1 per
    arm; ρ 1.0 ×1.3 every half epoch, chosen there on its calibration seed by the ADMM residual alone)
    [assumption: the paper's VGG-16 / ResNet-18 schedules were not read]."""

    train_examples: int = 10_000
    test_examples: int = 10_000
    pretrain_epochs: float = 6.0
    pretrain_lr: float = 0.001
    admm_epochs: float = 2.5
    retrain_epochs: float = 1.0
    lr: float = 0.001
    rho: float = 1.0
    rho_mult: float = 1.3
    compression: float = 5.88  # the whole network's, the paper's most compressed ConvNet [3rd]
    mapping_images: int = 16  # test images whose lowered inputs count the ADC conversions


def _sgd(model, cfg: MemristorConfig) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)


def _arm(base, arm: str, x, y, cfg: MemristorConfig, seed: int, salt: int):
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
    per_update = max(1, steps_for(0.5, n, cfg.batch_size))
    per_layer = method.per_layer_compression(model, cfg.compression)
    engine = ADMM(method.targets(model, arm, per_layer, method.ARRAY), rho=cfg.rho, rho_mult=cfg.rho_mult)
    admm_train(model, engine, convnet.batches(x, y, cfg, seed, salt), updates=max(1, admm_steps // per_update),
               steps_per_update=per_update, optimizer=_sgd(model, cfg), desc=f"{arm} admm")
    residual = max(engine.residuals().values())
    masks = engine.project_()
    opt = _sgd(model, cfg)
    masked_retrain(model, masks, convnet.batches(x, y, cfg, seed, salt + 1), steps=retrain_steps, optimizer=opt,
                   scheduler=torch.optim.lr_scheduler.CosineAnnealingLR(opt, retrain_steps), desc=f"{arm} retrain")
    return model, residual


def _mapping(model, images, array) -> dict[str, float]:
    inputs = method.lowered_inputs(model, images)
    total = {"arrays": 0.0, "adc_conversions": 0.0, "energy_pj": 0.0, "area": 0.0}
    for name, m in method.layers(model).items():
        cost = imc_cost(m.weight, inputs[name], array, ARRAY_COSTS, skip_zero=False)
        for k in total:
            total[k] += cost[k] * (1 if k in ("arrays", "area") else inputs[name].shape[0] / len(images))
    return total


@experiment(config=MemristorConfig, metrics=(
    "accuracy_drop_crossbar_pp", "power_reduction_crossbar", "area_reduction_crossbar",
    "arrays_crossbar_over_irregular",
    "pretrained_accuracy_pct", *(f"accuracy_{a}_pct" for a in ARMS), *(f"accuracy_{a}_float_pct" for a in ARMS),
    *(f"arrays_{a}" for a in ARMS), "arrays_dense_unpacked", *(f"adc_conversions_{a}" for a in ARMS),
    *(f"compression_{k}" for k in method.KINDS), *(f"admm_residual_{k}" for k in method.KINDS),
    "accuracy_drop_irregular_pp", "power_reduction_irregular", "area_reduction_irregular"))
def cifar_memristor(cfg: MemristorConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Dense, crossbar-block and irregular arms from one pretrained ConvNet; 8-bit weights; array counts."""
    x, y, xt, yt = convnet.cifar10(cfg, seed, device)
    seed_everything(seed)
    base = convnet.CaffeCifarConvNet().to(device)
    steps = steps_for(cfg.pretrain_epochs, len(x), cfg.batch_size)
    opt = torch.optim.SGD(base.parameters(), lr=cfg.pretrain_lr, momentum=0.9, weight_decay=cfg.weight_decay)
    train(base, convnet.batches(x, y, cfg, seed, 1), steps=steps, optimizer=opt,
          scheduler=torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps), desc=f"pretrain seed {seed}")
    out = {"pretrained_accuracy_pct": convnet.accuracy_pct(base, xt, yt)}
    images = xt[:cfg.mapping_images]
    total_weights = sum(m.weight.numel() for m in method.layers(base).values())
    out["arrays_dense_unpacked"] = sum(dense_arrays(m.weight[0].numel(), m.weight.shape[0], method.DENSE_ARRAY)
                                       for m in method.layers(base).values())
    for i, arm in enumerate(ARMS):
        model, residual = _arm(base, arm, x, y, cfg, seed, 10 * (i + 2))
        out[f"accuracy_{arm}_float_pct"] = convnet.accuracy_pct(model, xt, yt)
        array = method.DENSE_ARRAY if arm == "dense" else method.ARRAY
        method.quantize_(model, array.weight_bits)
        out[f"accuracy_{arm}_pct"] = convnet.accuracy_pct(model, xt, yt)
        mapped = _mapping(model.eval(), images, array)
        out[f"arrays_{arm}"] = mapped["arrays"]
        out[f"adc_conversions_{arm}"] = mapped["adc_conversions"]
        out[f"_energy_{arm}"], out[f"_area_{arm}"] = mapped["energy_pj"], mapped["area"]
        if arm != "dense":
            kept = sum(int((m.weight != 0).sum()) for m in method.layers(model).values())
            out[f"compression_{arm}"] = total_weights / kept
            out[f"admm_residual_{arm}"] = residual
    for k in method.KINDS:  # accuracy against the dense network in floating point (the original model)
        out[f"accuracy_drop_{k}_pp"] = out["accuracy_dense_float_pct"] - out[f"accuracy_{k}_pct"]
        out[f"power_reduction_{k}"] = 1 - out.pop(f"_energy_{k}") / out["_energy_dense"]
        out[f"area_reduction_{k}"] = 1 - out.pop(f"_area_{k}") / out["_area_dense"]
    out.pop("_energy_dense"), out.pop("_area_dense")
    out["arrays_crossbar_over_irregular"] = out["arrays_crossbar"] / out["arrays_irregular"]
    return out
