"""CAP-RAM's proxy on LeNet-5/MNIST: a CNN pruned and quantized until it fits one 512×128 macro (65,536 bit cells),
then evaluated through the macro's simulated readout (7-bit ADC, read noise).

Per seed, from one pretrained dense LeNet-5 (the shared recipe, ``bench/compress/mnist_lenet.py``):

1. filter+column ADMM pruning at the smallest rate whose compacted 4-bit weights fit the macro
   (``method.rate_for_budget``), the hard projection;
2. masked retraining in floating point (``qat_inputs`` retrains through the 4-bit input levels instead; not the
   default, see the config);
3. the weights onto 4-bit symmetric levels (the best scale per layer, zeros kept), the inputs of every layer onto
   4-bit levels over ranges calibrated on training images;
4. accuracy on the test images: in floating point (before step 3), digitally at 4-bit weights and inputs, and
   through the analog readout (``method.READOUT``: 64-row partial sums, 7-bit ADC, 1 LSB read noise; the mean
   over ``noise_draws`` draws), and at other ADC widths on the first ``sweep_images`` test images (context).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from bench.compress import mnist_lenet as lenet
from bench.compress.admm import KBit, prune_rate
from bench.hardware.analog import analog, calibrate, input_ranges, quantized_inputs
from bench.registry import experiment
from papers.cap_ram_chen2021 import method

ADC_SWEEP = (4, 5, 6, 8)  # other ADC widths, one noise draw each on the first sweep_images test images (context)


@dataclass
class CapRamConfig(lenet.LeNetADMMConfig):
    weight_bits: int = 4  # [assumption] one of the macro's weight widths (the abstract: six levels, not listed)
    input_bits: int = 4  # [assumption] one of its eight activation precisions (not listed)
    budget_cells: int = method.CELLS
    calibration_images: int = 1000  # training images that set the input levels' and the ADC's ranges
    # retrain with the inputs on their levels (straight-through)? No: on calibration seed 1000 the network
    # retrained in floating point and given 4-bit inputs afterwards reached 96.9% digitally, the one retrained
    # through the quantizer 91.6% (75-85% on the first cpu run, before the straight-through estimator was clipped)
    qat_inputs: bool = False
    noise_draws: int = 2  # read-noise draws averaged for the accuracy through the readout
    sweep_images: int = 2000  # test images for the ADC-width sweep (context only)

    def __post_init__(self):
        super().__post_init__()
        if self.weight_bits < 2 or self.input_bits < 2 or self.noise_draws < 1:
            raise ValueError("weight_bits and input_bits must be >= 2 and noise_draws >= 1")


def _analog_accuracy(model, layers, ranges, readout, xt, yt, scales, draws: int, seed: int) -> float:
    gen = torch.Generator().manual_seed(seed)
    accs = []
    for _ in range(draws):
        with quantized_inputs(layers, ranges[0], ranges[1]), analog(layers, readout, scales, gen):
            accs.append(lenet.accuracy_pct(model, xt, yt))
    return sum(accs) / len(accs)


@experiment(config=CapRamConfig, metrics=(
    "analog_accuracy_pct", "cells", "adc_loss_pp", "total_loss_pp", "dense_accuracy_pct",
    "pruned_float_accuracy_pct", "digital_accuracy_pct", "prune_rate", "target_rate", "budget_fraction",
    "partial_sum_bits", "adc_full_scale_fc1", *(f"analog_accuracy_adc{b}_pct" for b in ADC_SWEEP)))
def mnist_macro(cfg: CapRamConfig, seed: int, device: torch.device) -> dict[str, float]:
    """LeNet-5 pruned and quantized into one macro's cells; its accuracy through the simulated readout."""
    x, y, xt, yt = lenet.mnist(cfg, seed, device)
    base = lenet.pretrain(x, y, cfg, seed, device)
    out = {"dense_accuracy_pct": lenet.accuracy_pct(base, xt, yt)}
    rate = method.rate_for_budget(cfg.budget_cells, cfg.weight_bits)
    model = copy.deepcopy(base)
    layers = method.layers(model)
    calib = x[:cfg.calibration_images]
    masks = lenet.admm_stage(model, method.projections(rate), x, y, cfg, seed, 2, desc="filter+column admm")
    if cfg.qat_inputs:
        with quantized_inputs(layers, cfg.input_bits, input_ranges(model, layers, calib)):
            lenet.retrain(model, masks, x, y, cfg, seed, 3, desc="retrain, 4-bit inputs")
    else:
        lenet.retrain(model, masks, x, y, cfg, seed, 3, desc="retrain")
    out["pruned_float_accuracy_pct"] = lenet.accuracy_pct(model, xt, yt)
    with torch.no_grad():
        for w in lenet.weights(model).values():
            w.copy_(KBit(bits=cfg.weight_bits)(w))
    weights = lenet.weights(model)
    out["cells"] = method.compact_cells(weights, cfg.weight_bits)
    out["budget_fraction"] = out["cells"] / cfg.budget_cells
    out["prune_rate"] = prune_rate({n: w.detach() for n, w in weights.items()})
    out["target_rate"] = rate
    ranges = (cfg.input_bits, input_ranges(model, layers, calib))
    with quantized_inputs(layers, *ranges):
        out["digital_accuracy_pct"] = lenet.accuracy_pct(model, xt, yt)
        scales = calibrate(model, layers, calib, method.READOUT)
    out["adc_full_scale_fc1"] = scales["fc1"]
    out["partial_sum_bits"] = method.effective_bits(method.READOUT, cfg.weight_bits, cfg.input_bits)
    out["analog_accuracy_pct"] = _analog_accuracy(model, layers, ranges, method.READOUT, xt, yt, scales,
                                                  cfg.noise_draws, seed)
    for bits in ADC_SWEEP:
        readout = method.with_adc_bits(bits)
        out[f"analog_accuracy_adc{bits}_pct"] = _analog_accuracy(
            model, layers, ranges, readout, xt[:cfg.sweep_images], yt[:cfg.sweep_images], scales, 1, seed)
    out["adc_loss_pp"] = out["digital_accuracy_pct"] - out["analog_accuracy_pct"]
    out["total_loss_pp"] = out["dense_accuracy_pct"] - out["analog_accuracy_pct"]
    return out
