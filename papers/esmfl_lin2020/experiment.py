"""ESMFL's proxy: FedAvg on Flower with dense against top-k (error feedback) client updates, non-IID MNIST.

One seed deals MNIST's training set to 10 clients, two label shards each (McMahan et al.'s pathological split),
then runs, for an MLP and for LeNet-5, two federated trainings from the same initial weights and data order:
clients send their dense weight update, or its top-k coordinates with error feedback (``method.topk_encoder``).
Test accuracy of the final global model and the uplink bytes (the Flower messages the clients send, serialised)
are measured for each.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench import data
from bench.federated import (
    TorchClient,
    UpdateFedAvg,
    dense_decode,
    dense_encode,
    get_flat,
    label_shards,
    run_federated,
    set_flat,
)
from bench.models import MLP, LeNet5
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, seed_everything
from papers.esmfl_lin2020.method import sparse_decode, topk_encoder

ARCHS = {"mlp": lambda: MLP(784, (200,), 10), "lenet5": LeNet5}


@dataclass
class ESMFLConfig(ExperimentConfig):
    """The suite's federated setting [assumption: the paper's was not reachable]."""

    clients: int = 10
    shards_per_client: int = 2
    rounds: int = 80
    local_steps: int = 10  # SGD steps per client per round
    batch_size: int = 32
    lr: float = 0.05
    density: float = 0.01  # fraction of the update's coordinates a top-k client sends


def federated_accuracy(arch: str, encode, decode, cfg: ESMFLConfig, seed: int, parts, x, y, xt, yt):
    """One federated training; returns (test accuracy %, uplink bytes)."""
    seed_everything(seed)
    init = get_flat(ARCHS[arch]())
    clients = {i + 1: TorchClient(ARCHS[arch](), x[p], y[p], local_steps=cfg.local_steps,
                                  batch_size=cfg.batch_size, lr=cfg.lr,
                                  generator=torch.Generator().manual_seed(seed * 1000 + i), encode=encode)
               for i, p in enumerate(parts)}
    run = run_federated(clients, UpdateFedAvg(init, decode), cfg.rounds)
    model = ARCHS[arch]()
    set_flat(model, run.weights)
    return 100 * accuracy(model, xt, yt), run.bytes_up


@experiment(config=ESMFLConfig, metrics=tuple(
    f"{m}_{a}" for a in ARCHS for m in ("accuracy_gap_pp", "uplink_reduction", "accuracy_dense_pct",
                                        "accuracy_topk_pct", "uplink_mb_dense", "uplink_mb_topk")))
def mnist_fedavg_topk(cfg: ESMFLConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Dense and top-k FedAvg for each architecture on one non-IID split."""
    mnist = data.load("mnist")
    x, y = mnist.train.x.float().div(255), mnist.train.y
    xt, yt = mnist.test.x.float().div(255), mnist.test.y
    parts = label_shards(y, cfg.clients, cfg.shards_per_client, seed_everything(seed))
    out: dict[str, float] = {}
    for arch in ARCHS:
        acc_d, up_d = federated_accuracy(arch, dense_encode, dense_decode, cfg, seed, parts, x, y, xt, yt)
        acc_k, up_k = federated_accuracy(arch, topk_encoder(cfg.density), sparse_decode, cfg, seed, parts,
                                         x, y, xt, yt)
        out |= {f"accuracy_dense_pct_{arch}": acc_d, f"accuracy_topk_pct_{arch}": acc_k,
                f"accuracy_gap_pp_{arch}": acc_d - acc_k, f"uplink_reduction_{arch}": up_d / up_k,
                f"uplink_mb_dense_{arch}": up_d / 1e6, f"uplink_mb_topk_{arch}": up_k / 1e6}
    return {k: float(v) for k, v in out.items()}
