"""The TrueNorth deployment and the variance-constraining penalty (see the package docstring for sources).

A network is trained as its *expected* copy. On the chip a synapse is on or off and its neuron weighs it by an
integer fixed per axon type, so a layer's weight ``w`` is deployed as ``s·sign(w)·Bernoulli(|w|/s)``, with a
fixed synaptic scale per layer ``s = mult/√fan_in`` (:func:`scale`); training keeps ``|w| ≤ s``
(:func:`clip_`), so ``p = |w|/s`` is the connection probability (:func:`probabilities`; the sampling is
``bench/hardware/truenorth.py``'s). Deployment draws independent copies (:func:`copy_weights`) and averages their
outputs (:func:`ensemble_accuracy`: the accuracy of the average of the first ``K`` copies, for every ``K``).
The method adds :func:`variance_penalty`, ``λ·Σ p(1 − p)``, the summed variance of the Bernoulli synapses, to the
training loss: probabilities are pushed to 0 or 1, so each copy is closer to the expected network and fewer
copies reach the same accuracy.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from bench.hardware import truenorth


def synapse_layers(model: nn.Module) -> dict[str, nn.Linear]:
    """The layers deployed on cores: every ``nn.Linear`` (biases stay deterministic, in the neurons)."""
    return {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear)}


def scale(weight: torch.Tensor, mult: float) -> float:
    """The layer's synaptic scale ``s = mult/√fan_in`` (fixed by the layer's shape)."""
    return mult / math.sqrt(weight[0].numel())


@torch.no_grad()
def clip_(model: nn.Module, mult: float) -> None:
    """Keep every synapse weight in ``[−s, s]`` (a connection probability times the layer's scale)."""
    for layer in synapse_layers(model).values():
        s = scale(layer.weight, mult)
        layer.weight.clamp_(-s, s)


def probabilities(weight: torch.Tensor, mult: float) -> torch.Tensor:
    """Connection probabilities ``p = |w|/s``, differentiable in ``w``."""
    return weight.abs() / scale(weight, mult)


def variance_penalty(model: nn.Module, mult: float) -> torch.Tensor:
    """``Σ p(1 − p)`` over the synapses of every layer, differentiable."""
    total = 0.0
    for layer in synapse_layers(model).values():
        p = probabilities(layer.weight, mult)
        total = total + (p * (1 - p)).sum()
    return total


def copy_weights(weights: dict[str, torch.Tensor], mult: float, generator: torch.Generator
                 ) -> dict[str, torch.Tensor]:
    """One deployed copy of trained ``weights`` (name → weight): each sampled as ``s·sign(w)·Bernoulli(|w|/s)``."""
    out = {}
    for n, w in weights.items():
        s = scale(w, mult)
        out[n] = s * truenorth.sample_synapses(w.detach() / s, generator)
    return out


def variance(model: nn.Module, mult: float) -> float:
    """``Σ p(1 − p)`` of the deployed network (``truenorth.synapse_variance`` of ``w/s``)."""
    return sum(truenorth.synapse_variance(m.weight.detach() / scale(m.weight, mult))
               for m in synapse_layers(model).values())


@torch.no_grad()
def ensemble_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, copies: int, mult: float,
                      generator: torch.Generator, batch_size: int = 2000) -> torch.Tensor:
    """Accuracy (in %) of the average output of the first ``K`` deployed copies, for ``K = 1 … copies``."""
    layers = synapse_layers(model)
    saved = {n: m.weight.detach().clone() for n, m in layers.items()}
    was_training = model.training
    model.eval()
    total = torch.zeros(len(x), model(x[:1]).shape[1], device=x.device)
    correct = torch.zeros(copies)
    try:
        for k in range(copies):
            for n, w in copy_weights(saved, mult, generator).items():
                layers[n].weight.copy_(w)
            total += torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
            correct[k] = (total.argmax(1) == y).sum().item()
    finally:
        for n, w in saved.items():
            layers[n].weight.copy_(w)
        model.train(was_training)
    return 100 * correct / len(x)


def copies_needed(curve: torch.Tensor, target: float) -> int:
    """The fewest copies whose ensemble accuracy reaches ``target`` (%), or ``2·len(curve)`` if none does
    (a finite stand-in for "more than measured")."""
    hit = (curve >= target).nonzero()
    return int(hit[0]) + 1 if len(hit) else 2 * len(curve)
