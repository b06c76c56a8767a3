"""How a paper declares its experiments: the ``@experiment`` decorator and the config base class.

An experiment is a function ``fn(cfg, seed, device) -> dict[str, float]`` in ``papers/<slug>/experiment.py``.
It declares its configuration dataclass (one field per knob, each with a default and a comment) and the
metrics it returns, so ``claims.yaml`` can be validated without running anything::

    @dataclass
    class LeNetSSLConfig(ExperimentConfig):
        epochs: float = 2.0  # baseline training epochs

    @experiment(config=LeNetSSLConfig, metrics=("error_pct", "flops_kept"))
    def lenet_ssl(cfg: LeNetSSLConfig, seed: int, device: torch.device) -> dict[str, float]:
        ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

ExperimentFn = Callable[..., dict[str, float]]


@dataclass
class ExperimentConfig:
    """Base class of experiment configs: built from a scale's mapping, unknown keys rejected."""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ExperimentConfig:
        """Build the config from ``claims.yaml`` values; raise ValueError naming unknown keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown config key(s) {', '.join(unknown)} for {cls.__name__} "
                             f"(known: {', '.join(sorted(names))})")
        return cls(**values)


@dataclass(frozen=True)
class ExperimentInfo:
    """What an experiment declares: its config class and the names of the metrics it returns."""

    config: type[ExperimentConfig]
    metrics: tuple[str, ...]
    devices: tuple[str, ...] = ("cpu", "cuda")


def experiment(*, config: type[ExperimentConfig], metrics: Iterable[str],
               devices: Iterable[str] = ("cpu", "cuda")) -> Callable[[ExperimentFn], ExperimentFn]:
    """Mark ``fn`` as an experiment with its config class, its metric names and the devices it runs on."""
    if not (isinstance(config, type) and issubclass(config, ExperimentConfig)):
        raise TypeError("config must be a dataclass deriving from bench.registry.ExperimentConfig")

    def wrap(fn: ExperimentFn) -> ExperimentFn:
        fn.__experiment__ = ExperimentInfo(config, tuple(metrics), tuple(devices))
        return fn

    return wrap


def info(fn: Any) -> ExperimentInfo | None:
    """The declaration of an experiment function, or None if ``fn`` is not one."""
    return getattr(fn, "__experiment__", None)


def run_experiment(fn: ExperimentFn, cfg: ExperimentConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Call an experiment and check it returned exactly its declared metrics as finite floats."""
    declared = info(fn).metrics
    out = fn(cfg, seed, device)
    if not isinstance(out, Mapping):
        raise TypeError(f"{fn.__name__} returned {type(out).__name__}, not a dict of metrics")
    missing = [m for m in declared if m not in out]
    extra = [m for m in out if m not in declared]
    if missing or extra:
        raise KeyError(f"{fn.__name__} returned metrics that differ from its declaration: "
                       f"missing {missing}, undeclared {extra}")
    return {m: float(out[m]) for m in declared}
