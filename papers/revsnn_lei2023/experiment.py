"""Reversible SNN experiments on Fashion-MNIST: node memory, accuracy after equal epochs, time per step.

Three spiking MLPs share one shape, 784 → H → … → H → 10 over T time steps (the image is the input current at
every step, the logits are averaged over time):

- ``standard``: every hidden layer a linear map then snnTorch's LIF node;
- ``revnode``: the same with the suite's reversible node (``method.ReversibleNode``) in place of each LIF node;
- ``revlayer``: the first hidden layer as ``standard``, each further one a reversible layer (``method.
  ReversibleLayer``: coupling over channel halves, F and G a half-width linear map and a LIF node).

``fmnist_nodes`` trains the three from one seed and data order and measures, on one training batch, the bytes
autograd saves for backward (``bench.metrics.memory``): per step, and what the nodes add beyond the tensors the
layers around them save anyway. ``step_time`` times a training step of each, side by side.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from bench import data
from bench.latency import time_interleaved
from bench.metrics.memory import saved_tensors
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, seed_everything, shuffled_batches, steps_for, train
from papers.revsnn_lei2023.method import ReversibleLayer, ReversibleNode, StandardNode

VARIANTS = ("standard", "revnode", "revlayer")


class SpikingMLP(nn.Module):
    """784 → hidden × layers → 10 over ``steps`` time steps, with the nodes of ``variant``."""

    def __init__(self, variant: str, hidden: int = 256, layers: int = 3, steps: int = 4):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
        self.variant, self.steps = variant, steps
        self.input = nn.Linear(784, hidden)
        node = ReversibleNode if variant == "revnode" else StandardNode
        self.nodes = nn.ModuleList([node()])
        self.linears = nn.ModuleList()
        for _ in range(layers - 1):
            if variant == "revlayer":
                self.linears.append(ReversibleLayer(hidden))
            else:
                self.linears.append(nn.Linear(hidden, hidden))
                self.nodes.append(node())
        self.output = nn.Linear(hidden, 10)
        self.meter = None  # a bench.metrics.memory.SavedTensors to attribute the nodes' saved tensors to

    def _node(self, i: int, x: torch.Tensor) -> torch.Tensor:
        if self.meter is None:
            return self.nodes[i](x)
        with self.meter.scope("node"):
            return self.nodes[i](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, 28, 28) -> (B, 10)
        current = self.input(x.flatten(1))  # the same current at every step (direct encoding)
        h = self._node(0, current.unsqueeze(0).expand(self.steps, *current.shape))  # (T, B, H)
        for i, layer in enumerate(self.linears):
            h = layer(h) if self.variant == "revlayer" else self._node(i + 1, layer(h))
        return self.output(h).mean(0)


@dataclass
class NodesConfig(ExperimentConfig):
    """Fashion-MNIST spiking MLPs. The paper's networks are ConvNets on CIFAR and DVS data; this MLP, its width,
    T = 4, Adam at 1e-3 and β = 0.9 are the suite's [assumption: the paper's settings were not reachable]."""

    hidden: int = 256
    layers: int = 3  # hidden layers
    steps: int = 4  # T, time steps
    train_examples: int = 60000
    test_examples: int = 10000
    epochs: float = 2.0
    batch_size: int = 128
    lr: float = 1e-3


def _fashion(cfg: NodesConfig, seed: int, device: torch.device):
    ds = data.load("fashion-mnist")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds.train), generator=g)[:cfg.train_examples]
    x = (ds.train.x[idx].float() / 255).to(device)
    xt = (ds.test.x[:cfg.test_examples].float() / 255).to(device)
    return x, ds.train.y[idx].to(device), xt, ds.test.y[:cfg.test_examples].to(device)


def step_memory(model: SpikingMLP, x: torch.Tensor, y: torch.Tensor) -> tuple[int, int]:
    """Activation bytes saved for backward by one training step, and the part only the nodes saved."""
    with saved_tensors(model.parameters()) as saved:
        model.meter = saved
        try:
            loss = F.cross_entropy(model(x), y)
        finally:
            model.meter = None
    loss.backward()
    model.zero_grad(set_to_none=True)
    return saved.activation_bytes, saved.exclusive_bytes("node")


@experiment(config=NodesConfig, metrics=(
    *(f"accuracy_{v}_pct" for v in VARIANTS), "accuracy_gap_pp",
    *(f"step_bytes_{v}" for v in VARIANTS), "node_bytes_standard", "node_bytes_revnode", "node_memory_fraction",
    "step_memory_ratio"))
def fmnist_nodes(cfg: NodesConfig, seed: int, device: torch.device) -> dict[str, float]:
    """The three networks trained for equal epochs; saved bytes of a training step and of the nodes in it."""
    x, y, xt, yt = _fashion(cfg, seed, device)
    steps = steps_for(cfg.epochs, len(x), cfg.batch_size)
    out: dict[str, float] = {}
    node_bytes = {}
    for variant in VARIANTS:
        seed_everything(seed)
        model = SpikingMLP(variant, cfg.hidden, cfg.layers, cfg.steps).to(device)
        # a copy of the batch: a slice would keep (and be counted as) the whole training set
        total, nodes = step_memory(model, x[:cfg.batch_size].clone(), y[:cfg.batch_size])
        out[f"step_bytes_{variant}"] = float(total)
        node_bytes[variant] = nodes
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        gen = torch.Generator().manual_seed(seed + 1_000_003)
        train(model, shuffled_batches(x, y, cfg.batch_size, gen), steps=steps, optimizer=opt,
              desc=f"{variant} seed {seed}")
        out[f"accuracy_{variant}_pct"] = 100 * accuracy(model, xt, yt, 500)
    out["accuracy_gap_pp"] = out["accuracy_standard_pct"] - out["accuracy_revnode_pct"]
    out["node_bytes_standard"] = float(node_bytes["standard"])
    out["node_bytes_revnode"] = float(node_bytes["revnode"])
    out["node_memory_fraction"] = node_bytes["revnode"] / node_bytes["standard"]
    out["step_memory_ratio"] = out["step_bytes_standard"] / out["step_bytes_revnode"]
    return out


@dataclass
class StepTimeConfig(ExperimentConfig):
    hidden: int = 256
    layers: int = 3
    steps: int = 4
    batch_size: int = 128
    rounds: int = 30  # timed rounds per variant (interleaved; medians)
    warmup: int = 3

    def __post_init__(self):
        if self.rounds < 1 or self.warmup < 0:
            raise ValueError("rounds must be >= 1 and warmup >= 0")


@experiment(config=StepTimeConfig, metrics=(
    *(f"step_ms_{v}" for v in VARIANTS), "time_reduction_vs_revlayer_pct", "revnode_over_standard"))
def step_time(cfg: StepTimeConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Median time of a training step (forward, backward) of each network on one batch, timed side by side."""
    seed_everything(seed)
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(cfg.batch_size, 1, 28, 28, generator=gen).to(device)
    y = torch.randint(0, 10, (cfg.batch_size,), generator=gen).to(device)
    models = {v: SpikingMLP(v, cfg.hidden, cfg.layers, cfg.steps).to(device) for v in VARIANTS}

    def step(model: nn.Module):
        def run() -> None:
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
        return run

    times = time_interleaved({v: step(m) for v, m in models.items()}, device, cfg.rounds, cfg.warmup)
    ms = {v: 1000 * statistics.median(t) for v, t in times.items()}
    out = {f"step_ms_{v}": ms[v] for v in VARIANTS}
    out["time_reduction_vs_revlayer_pct"] = 100 * (1 - ms["revnode"] / ms["revlayer"])
    out["revnode_over_standard"] = ms["revnode"] / ms["standard"]
    return out
