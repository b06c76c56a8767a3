"""A TrueNorth-style neurosynaptic core model: core counts and stochastic binary synapses (simulated).

**What it models.** A TrueNorth core (Merolla et al., Science 2014) has 256 input axons and 256 output neurons
joined by a binary synapse crossbar. Trained networks are deployed as in Esser et al. (NeurIPS 2015), the
deployment the TrueNorth learning-method paper (Wen et al., DAC 2016) starts from: every weight is trained as
a connection probability ``p = |w| ∈ [0, 1]`` with a sign, each deployed synapse is *on* with probability
``p`` (a Bernoulli draw made once, when the network is written to the chip), and several independently drawn
*copies* of the network run side by side, their outputs averaged, so that the ensemble approaches the trained
network. More copies cost more cores (copies in space) or more ticks (copies in time, the same cores reused).

- :func:`layer_cores`: a fully connected layer ``in → out`` tiled on cores of ``axons × neurons``:
  ``⌈in/axons⌉·⌈out/neurons⌉`` [assumption: the partial sums of a neuron whose inputs span several cores are
  merged without extra cores, as the tiling of PAPERS.md proposes; the real chip needs merge neurons];
- :func:`network_cores`: ``copies × Σ_layers layer_cores`` (copies in space);
- :func:`sample_synapses`: one deployed copy of a weight tensor, ``sign(w)·Bernoulli(min(|w|, 1))``, so its
  expectation is the clipped weight and its variance ``p(1 − p)`` per synapse, the quantity the DAC'16 paper
  constrains;
- :func:`synapse_variance`: ``Σ p(1 − p)``, the variance of one copy's weighted sum per unit input.

Version ``VERSION``; the neuron dynamics (leak, thresholds, spike coding) are not modelled: a deployed copy
computes with its sampled ``{−1, 0, +1}`` weights in floating point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import torch

NAME = "bench.hardware.truenorth (256×256 binary-synapse cores, Bernoulli deployment, copies in space)"
VERSION = "1"


@dataclass(frozen=True)
class CoreConfig:
    axons: int = 256  # inputs per core
    neurons: int = 256  # outputs per core
    source: str = "Merolla et al., Science 2014: 256 axons × 256 neurons per core, binary synapses"

    def describe(self) -> dict:
        return {"model": NAME, "version": VERSION, **asdict(self)}


TRUENORTH = CoreConfig()


def layer_cores(in_features: int, out_features: int, cfg: CoreConfig = TRUENORTH) -> int:
    """Cores one copy of an ``in → out`` fully connected layer takes: ``⌈in/axons⌉·⌈out/neurons⌉``."""
    if in_features < 1 or out_features < 1:
        raise ValueError("a layer needs at least one input and one output")
    return math.ceil(in_features / cfg.axons) * math.ceil(out_features / cfg.neurons)


def network_cores(shapes: Iterable[tuple[int, int]], copies: int = 1, cfg: CoreConfig = TRUENORTH) -> int:
    """Cores of ``copies`` copies (in space) of a network of ``(in, out)`` layers."""
    if copies < 1:
        raise ValueError("copies must be >= 1")
    return copies * sum(layer_cores(i, o, cfg) for i, o in shapes)


def connection_probability(weight: torch.Tensor) -> torch.Tensor:
    """``p = min(|w|, 1)``: the probability that a deployed synapse is on."""
    return weight.detach().abs().clamp(max=1.0)


def sample_synapses(weight: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One deployed copy of ``weight``: ``sign(w)`` where a Bernoulli(``p``) draw is on, else 0."""
    p = connection_probability(weight)
    on = torch.rand(p.shape, generator=generator, device="cpu").to(p.device) < p
    return torch.sign(weight.detach()) * on


def synapse_variance(weight: torch.Tensor) -> float:
    """``Σ p(1 − p)`` over the synapses: the variance a copy adds, per unit input, summed over the layer."""
    p = connection_probability(weight)
    return float((p * (1 - p)).sum())
