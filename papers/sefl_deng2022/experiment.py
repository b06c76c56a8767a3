"""SEFL's proxy: FedAvg on Flower, plain against SecAgg+ under client dropouts, and SecAgg+ dense against pruned.

One seed deals Fashion-MNIST's training set to 10 clients (four label shards each) and draws the two clients that
drop out of each round. Phase 1 (8 rounds) trains the dense MLP with plain FedAvg and, separately, with SecAgg+;
phase 2 (22 rounds) continues each, and continues the SecAgg+ model a second time pruned to 10% of its parameters
(global magnitude, ``method.magnitude_mask``), only the kept coordinates entering SecAgg+. Clients of the same
phase and index share their data order across the runs. Measured: test accuracy of each final model; whether
every round's secure aggregate is the mean of the surviving clients' updates (checked against a verification
ledger of the updates in the clear, outside the protocol); the secure aggregation's wall time per round (the fit
stage minus local training) dense and pruned; uplink bytes per round.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from flwr.server.workflow import SecAggPlusWorkflow

from bench import data
from bench.federated import (
    FederatedRun,
    TorchClient,
    UpdateFedAvg,
    dense_decode,
    dense_encode,
    get_flat,
    label_shards,
    run_federated,
    set_flat,
)
from bench.models import MLP
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, seed_everything
from papers.sefl_deng2022.method import kept_decoder, kept_encoder, magnitude_mask

MASKED_STAGE = "collect_masked_vectors"  # SecAgg+'s stage 3: clients train and send masked updates


@dataclass
class SEFLConfig(ExperimentConfig):
    """The suite's federated setting [assumption: the paper's NLP setting and protocol were not reachable]."""

    clients: int = 10
    shards_per_client: int = 4
    hidden: int = 1024  # MLP 784-hidden-hidden-10
    warmup_rounds: int = 8  # dense rounds before pruning
    rounds: int = 22  # rounds after pruning (dense or pruned)
    local_steps: int = 20
    batch_size: int = 32
    lr: float = 0.05
    dropouts: int = 2  # clients that drop out of every round
    threshold: int = 6  # SecAgg+ reconstruction threshold (num_shares = all clients)
    keep: float = 0.1  # fraction of parameters kept by pruning


def _stage(message) -> str:
    configs = message.content.config_records.get("secaggplus_configs")
    return "" if configs is None else str(configs.get("stage", ""))


def _phase(cfg: SEFLConfig, seed: int, phase: int, weights: np.ndarray, rounds: int, parts, x, y,
           dropped: list[set[int]], secure: bool, mask: np.ndarray | None = None) -> FederatedRun:
    """One Flower run of ``rounds`` rounds from ``weights``; ``dropped[r - 1]`` leave round ``r``."""
    seed_everything(seed * 10 + phase)  # NumPy's global generator drives SecAgg+'s stochastic quantisation
    kept = None if mask is None else np.flatnonzero(mask)
    strategy = UpdateFedAvg(weights * (1 if mask is None else mask),
                            dense_decode if kept is None else kept_decoder(kept))
    clients = {}
    for i, p in enumerate(parts):
        model = MLP(784, (cfg.hidden, cfg.hidden), 10)
        clients[i + 1] = TorchClient(model, x[p], y[p], local_steps=cfg.local_steps, batch_size=cfg.batch_size,
                                     lr=cfg.lr, generator=torch.Generator().manual_seed(seed * 1000 + phase * 100 + i),
                                     encode=dense_encode if kept is None else kept_encoder(kept),
                                     ledger=strategy.ledger)
        clients[i + 1].mask = mask
    if secure:
        secagg = SecAggPlusWorkflow(num_shares=cfg.clients, reconstruction_threshold=cfg.threshold,
                                    max_weight=max(len(p) for p in parts))

        def drops(node, message):
            return node in dropped[int(message.metadata.group_id) - 1] and _stage(message) == MASKED_STAGE
    else:
        secagg = None

        def drops(node, message):
            return node in dropped[int(message.metadata.group_id) - 1] and message.metadata.message_type == "train"
    return run_federated(clients, strategy, rounds, secagg=secagg, drops=drops)


def _accuracy_pct(cfg: SEFLConfig, weights: np.ndarray, xt, yt) -> float:
    model = MLP(784, (cfg.hidden, cfg.hidden), 10)
    set_flat(model, weights)
    return 100 * accuracy(model, xt, yt)


def _protocol_s(run: FederatedRun) -> float:
    return (sum(run.fit_seconds) - run.train_seconds) / len(run.fit_seconds)


@experiment(config=SEFLConfig, metrics=(
    "accuracy_gap_pp", "accuracy_plain_pct", "accuracy_secure_pct", "accuracy_pruned_pct", "rounds_aggregated_pct",
    "secure_sum_error", "runtime_speedup_pruned", "protocol_s_dense", "protocol_s_pruned", "round_speedup_pruned",
    "round_s_dense", "round_s_pruned", "uplink_mb_plain", "uplink_mb_secure", "uplink_mb_pruned",
    "secure_uplink_overhead"))
def fmnist_secagg(cfg: SEFLConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Plain and SecAgg+ FedAvg under dropouts; SecAgg+ on the dense and the pruned model."""
    fm = data.load("fashion-mnist")
    x, y = fm.train.x.float().div(255), fm.train.y
    xt, yt = fm.test.x.float().div(255), fm.test.y
    gen = seed_everything(seed)
    parts = label_shards(y, cfg.clients, cfg.shards_per_client, gen)
    draw = np.random.default_rng(seed)
    total = cfg.warmup_rounds + cfg.rounds
    dropped = [set((draw.choice(cfg.clients, cfg.dropouts, replace=False) + 1).tolist()) for _ in range(total)]
    early, late = dropped[:cfg.warmup_rounds], dropped[cfg.warmup_rounds:]
    init = get_flat(MLP(784, (cfg.hidden, cfg.hidden), 10)).astype(np.float64)

    plain1 = _phase(cfg, seed, 1, init, cfg.warmup_rounds, parts, x, y, early, secure=False)
    plain2 = _phase(cfg, seed, 2, plain1.weights, cfg.rounds, parts, x, y, late, secure=False)
    secure1 = _phase(cfg, seed, 1, init, cfg.warmup_rounds, parts, x, y, early, secure=True)
    secure2 = _phase(cfg, seed, 2, secure1.weights, cfg.rounds, parts, x, y, late, secure=True)
    mask = magnitude_mask(secure1.weights, cfg.keep)
    pruned2 = _phase(cfg, seed, 2, secure1.weights, cfg.rounds, parts, x, y, late, secure=True, mask=mask)

    secure_runs = (secure1, secure2, pruned2)
    acc_plain = _accuracy_pct(cfg, plain2.weights, xt, yt)
    acc_secure = _accuracy_pct(cfg, secure2.weights, xt, yt)
    return {
        "accuracy_gap_pp": acc_plain - acc_secure,
        "accuracy_plain_pct": acc_plain,
        "accuracy_secure_pct": acc_secure,
        "accuracy_pruned_pct": _accuracy_pct(cfg, pruned2.weights, xt, yt),
        "rounds_aggregated_pct": 100 * sum(r.rounds_aggregated for r in secure_runs) / (total + cfg.rounds),
        "secure_sum_error": max(max(r.errors) for r in secure_runs),
        "runtime_speedup_pruned": _protocol_s(secure2) / _protocol_s(pruned2),
        "protocol_s_dense": _protocol_s(secure2),
        "protocol_s_pruned": _protocol_s(pruned2),
        "round_speedup_pruned": float(np.mean(secure2.fit_seconds) / np.mean(pruned2.fit_seconds)),
        "round_s_dense": float(np.mean(secure2.fit_seconds)),
        "round_s_pruned": float(np.mean(pruned2.fit_seconds)),
        "uplink_mb_plain": plain2.bytes_up / cfg.rounds / 1e6,
        "uplink_mb_secure": secure2.bytes_up / cfg.rounds / 1e6,
        "uplink_mb_pruned": pruned2.bytes_up / cfg.rounds / 1e6,
        "secure_uplink_overhead": secure2.bytes_up / plain2.bytes_up,
    }
