"""Progressive ADMM quantization on LeNet-5/MNIST: every weight binarized, one-shot against progressive.

The pipeline is the shared recipe's (``bench.compress.mnist_lenet.binarize``): the same pretrained network,
binarized by ADMM in one stage (all four layers) or in two (the middle layers, then the first and last) at
equal epochs, ``α`` per layer, then a short training of the biases with every weight fixed.
"""

from __future__ import annotations

import torch

from bench.compress import mnist_lenet as lenet
from bench.registry import experiment


@experiment(config=lenet.BinarizeConfig, metrics=lenet.BINARIZE_METRICS)
def lenet_binarize(cfg: lenet.BinarizeConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Fully binarized LeNet-5: one-shot against progressive ADMM, and the full-precision network they start from."""
    return lenet.binarize(cfg, seed, device)
