"""The measuring core of one seed run: seed, call the experiment under the health watch, time it.

This is the part of running an experiment that decides its values, so it is in the code hash that keys the
result cache (``bench.provenance``); ``bench.runner`` (the cache, the judging, the logs) is not, and can change
without marking any result stale.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from bench import data, health, registry
from bench.train import seed_everything


@dataclass
class Execution:
    """What one call of an experiment gave: its metrics or the reason it failed, the time, the data it read."""

    metrics: dict[str, float] | None
    error: str | None
    wall_s: float
    datasets: dict = field(default_factory=dict)


def execute(fn: registry.ExperimentFn, cfg: registry.ExperimentConfig, seed: int, device: torch.device,
            label: str) -> Execution:
    """Run ``fn(cfg, seed, device)`` once, seeded, with every optimizer step watched for divergence.

    Never raises for a failure of the experiment: the error comes back in words (``bench.health.describe``).
    """
    data.reset_loaded()
    seed_everything(seed)
    start = time.perf_counter()
    try:
        with health.watch(label):
            metrics = registry.run_experiment(fn, cfg, seed, device)
        health.check_metrics(metrics, label)
        error = None
    except Exception as e:  # recorded as the verdict `error`, with the reason
        metrics, error = None, health.describe(e)
    return Execution(metrics, error, time.perf_counter() - start, data.loaded_datasets())
