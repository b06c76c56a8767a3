"""The SOT-MRAM PIM proxy on LeNet-5/MNIST: filter+column ADMM pruning, then ADMM quantization of the kept weights
to the engine's bit width, against the dense network, against direct rounding, and counted on a bitwise engine.

Per seed one LeNet-5 is pretrained (``bench/compress/mnist_lenet.py``). From the same weights:

- ``dense``: trained on with its pretraining recipe for the compressed arm's epochs (ADMM pruning, retraining and
  quantization), evaluated in floating point; its cost at 8-bit weights and 8-bit activations;
- ``compressed``: ADMM onto filters and columns of every layer at ``rate`` (the template's proportions), hard
  pruning, masked retraining (the network ``pruned``), then a second ADMM stage onto ``weight_bits``-bit levels with
  the pruning masks frozen (:func:`quantize_admm_`) and its hard projection;
- ``rounding``: the same pruned network trained for the same epochs with the same optimizer, schedule, data and
  frozen masks but without the ADMM term, then projected onto the same levels (:func:`quantize_rounding_`).

Accuracies of quantized networks are measured with every layer's input at ``activation_bits`` bits (per-layer
scale calibrated on training images; ``bench.hardware.analog.quantized_inputs``), the network the cost model counts; the
compressed network in floating-point activations is reported beside it. Counts: ``method.pim_cost``.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import torch

from bench.compress import mnist_lenet as lenet
from bench.compress.admm import KBit, Masks, prune_rate
from bench.hardware.analog import input_ranges, quantized_inputs
from bench.registry import experiment
from bench.train import steps_for, train
from papers.sot_mram_pim_yuan2019 import method


@dataclass
class SOTConfig(lenet.LeNetADMMConfig):
    """The shared LeNet-5 recipe plus the quantization stage and the engine's bit widths."""

    rate: float = 40.0  # filter+column pruning rate [assumption: the paper's LeNet-5 rate was not reachable]
    weight_bits: int = method.WEIGHT_BITS  # [assumption] 2 bits (ternary levels)
    activation_bits: int = method.ACTIVATION_BITS  # [assumption] 8 bits, evaluation only
    dense_bits: int = method.DENSE_BITS  # the dense reference of the cost: 8-bit weights and activations
    quant_epochs: float = 40.0  # ADMM quantization stage (the template's stage length) [assumption]
    quant_period: float = 4.0  # epochs between its ADMM updates (the template's) [assumption]
    quant_rho: float = 1e-3  # its initial ρ (the template's; ×rho_mult per update) [assumption]
    calibration_images: int = 1000  # training images that set the activation scales

    def __post_init__(self):
        super().__post_init__()
        if self.rate < 15:
            raise ValueError("rate must be at least 15 (the template's proportions)")
        if self.quant_epochs < self.quant_period or self.quant_period <= 0:
            raise ValueError("quant_epochs must be at least one quant_period (> 0)")
        if self.quant_rho <= 0:
            raise ValueError("quant_rho must be > 0")
        if min(self.weight_bits, self.activation_bits, self.dense_bits) < 1:
            raise ValueError("bit widths must be >= 1")


def _quant_cfg(cfg: SOTConfig) -> SOTConfig:
    """The recipe's settings for the quantization stage: its own update period and ρ."""
    return dataclasses.replace(cfg, admm_period=cfg.quant_period, rho=cfg.quant_rho)


def quantize_admm_(model, masks: Masks, x, y, cfg: SOTConfig, seed: int, salt: int) -> Masks:
    """ADMM onto ``weight_bits``-bit levels in every layer, pruned weights frozen at zero; the hard projection."""
    projections = {n: method.quantizer(cfg.weight_bits) for n in method.LAYERS}
    return lenet.admm_stage(model, projections, x, y, _quant_cfg(cfg), seed, salt, frozen=masks,
                            epochs=cfg.quant_epochs, desc="admm quantize")


def quantize_rounding_(model, masks: Masks, x, y, cfg: SOTConfig, seed: int, salt: int) -> Masks:
    """The same stage without the ADMM term (an ADMM stage with no constrained layer is plain masked training
    with the same optimizer, schedule and data), then the same projection: direct rounding."""
    masks = lenet.admm_stage(model, {}, x, y, _quant_cfg(cfg), seed, salt, frozen=masks, epochs=cfg.quant_epochs,
                             desc="train, then round")
    with torch.no_grad():
        for w in lenet.weights(model).values():
            w.copy_(method.quantizer(cfg.weight_bits)(w))
    masks.apply_()
    return masks


def _masks_of(model, masks: Masks) -> Masks:
    """``masks``' supports bound to ``model``'s weights (a copy of the network they were made on)."""
    return Masks({n: (model.get_submodule(n).weight, m) for n, (_, m) in masks.masks.items()})


def _accuracy_quantized(model, x_cal, xt, yt, bits: int) -> float:
    layers = {n: model.get_submodule(n) for n in method.LAYERS}
    with quantized_inputs(layers, bits, input_ranges(model, layers, x_cal)):
        return lenet.accuracy_pct(model, xt, yt)


ARMS = ("dense_float", "dense_8bit", "pruned", "compressed_float_act", "compressed", "rounding")


@experiment(config=SOTConfig, metrics=(
    "accuracy_drop_pp", "admm_over_rounding_pp", "bit_ops_reduction", "cells_reduction", "weight_levels_max",
    "pretrained_accuracy_pct", *(f"accuracy_{a}_pct" for a in ARMS), "prune_rate", "stored_rate",
    "bit_ops_dense", "bit_ops_compressed", "cells_dense", "cells_compressed"))
def lenet_sot_pim(cfg: SOTConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Dense, ADMM-compressed and rounded LeNet-5 from one pretrained network; bit-plane counts."""
    x, y, xt, yt = lenet.mnist(cfg, seed, device)
    x_cal = x[:cfg.calibration_images]
    base = lenet.pretrain(x, y, cfg, seed, device)
    out = {"pretrained_accuracy_pct": lenet.accuracy_pct(base, xt, yt)}
    positions = method.output_positions(base, xt)

    dense = copy.deepcopy(base)  # the pretraining recipe, on for the compressed arm's epochs
    steps = steps_for(cfg.admm_epochs + cfg.retrain_epochs + cfg.quant_epochs, len(x), cfg.batch_size)
    opt = torch.optim.SGD(dense.parameters(), lr=cfg.pretrain_lr, momentum=0.9, weight_decay=5e-4)
    train(dense, lenet.batches(x, y, cfg, seed, 2), steps=steps, optimizer=opt, desc="dense train on")
    out["accuracy_dense_float_pct"] = lenet.accuracy_pct(dense, xt, yt)
    with torch.no_grad():
        for w in lenet.weights(dense).values():
            w.copy_(KBit(bits=cfg.dense_bits)(w))
    out["accuracy_dense_8bit_pct"] = _accuracy_quantized(dense, x_cal, xt, yt, cfg.dense_bits)
    dense_cost = method.pim_cost(dense, positions, cfg.dense_bits, cfg.dense_bits)

    pruned = copy.deepcopy(base)
    masks = lenet.admm_stage(pruned, lenet.structured_projections(cfg.rate, "template"), x, y, cfg, seed, 3,
                             desc="filter+column admm")
    lenet.retrain(pruned, masks, x, y, cfg, seed, 4, desc="retrain")
    out["accuracy_pruned_pct"] = lenet.accuracy_pct(pruned, xt, yt)

    compressed, rounded = copy.deepcopy(pruned), copy.deepcopy(pruned)
    quantize_admm_(compressed, _masks_of(compressed, masks), x, y, cfg, seed, 5)
    quantize_rounding_(rounded, _masks_of(rounded, masks), x, y, cfg, seed, 5)  # same data order: paired
    out["accuracy_compressed_float_act_pct"] = lenet.accuracy_pct(compressed, xt, yt)
    out["accuracy_compressed_pct"] = _accuracy_quantized(compressed, x_cal, xt, yt, cfg.activation_bits)
    out["accuracy_rounding_pct"] = _accuracy_quantized(rounded, x_cal, xt, yt, cfg.activation_bits)

    cost = method.pim_cost(compressed, positions, cfg.weight_bits, cfg.activation_bits)
    w = {n: t.detach() for n, t in lenet.weights(compressed).items()}
    total = sum(t.numel() for t in w.values())
    out["prune_rate"] = prune_rate(w)
    out["stored_rate"] = total / cost["stored"]
    out["weight_levels_max"] = float(method.weight_levels(compressed))
    out["bit_ops_dense"], out["bit_ops_compressed"] = float(dense_cost["bit_ops"]), float(cost["bit_ops"])
    out["cells_dense"], out["cells_compressed"] = float(dense_cost["cells"]), float(cost["cells"])
    out["bit_ops_reduction"] = dense_cost["bit_ops"] / cost["bit_ops"]
    out["cells_reduction"] = dense_cost["cells"] / cost["cells"]
    out["accuracy_drop_pp"] = out["accuracy_dense_float_pct"] - out["accuracy_compressed_pct"]
    out["admm_over_rounding_pp"] = out["accuracy_compressed_pct"] - out["accuracy_rounding_pct"]
    return out
