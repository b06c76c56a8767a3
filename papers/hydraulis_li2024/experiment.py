"""Hydraulis by simulation: heterogeneous plans with two-stage assignment against the best homogeneous strategy.

One seed draws a workload of sequence lengths, lets the strategy-proposal DP plan for it on the repository's
LLaMA-7B cost model (``costmodel.py``, ``planner.py``), then simulates ``iterations`` training iterations of
``tokens_per_iteration`` tokens each (the repository's global batch by token count, the last sequence truncated) on
``gpus`` GPUs:

- **homogeneous**: every ⟨TP, PP⟩ strategy whose memory bound allows, with padding (method 0) and with
  fixed-length packing (method 1); the best single strategy over the whole run is the baseline, as a system
  configured once would be;
- **Hydraulis**: per iteration, the best candidate plan of the DP with stage-1 dispatch and stage-2 packing.

Two workloads per seed: a long-tailed mix (lognormal lengths, the suite's stand-in for CommonCrawl, whose length
histogram is not in the repository) and a near-uniform mix (lengths uniform on a narrow band around 4K), on which
the imbalances Hydraulis targets are small and its gain should shrink.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass

import numpy as np
import torch

from bench.registry import ExperimentConfig, experiment
from papers.hydraulis_li2024.costmodel import LLAMA7B_A800
from papers.hydraulis_li2024.planner import homogeneous_packing, homogeneous_padding, hydraulis_time, propose


@dataclass
class HydraulisConfig(ExperimentConfig):
    """The simulated cluster and workloads. GPUs, the maximum length and the planner's grid are the repository's
    last 7B planner configuration (strategy_proposal.py:73-78); the tokens per iteration follow its 32-GPU
    GitHub script (100,000); the length distributions are the suite's [assumption: the paper's dataset
    histograms are not public]."""

    gpus: int = 32
    max_len: int = 32768  # longest sequence (longer ones are truncated, as llama_dataset.py does)
    tokens_per_iteration: int = 100_000
    iterations: int = 10  # simulated iterations per workload
    plan_batches: int = 50  # iterations' worth of sequences in the planner's length histogram
    median_len: int = 1024  # long-tailed mix: lognormal median (tokens)
    sigma: float = 1.2  # long-tailed mix: lognormal shape (about 1% of sequences above 16K tokens)
    uniform_lo: int = 3584  # near-uniform mix: lengths uniform on [uniform_lo, uniform_hi]
    uniform_hi: int = 4608
    trials: int = 50  # stage-1 random orders (the repository's MINI_TRIAL_NUM)


def _lengths(kind: str, cfg: HydraulisConfig, rng: np.random.Generator, n: int) -> np.ndarray:
    if kind == "longtail":
        x = rng.lognormal(math.log(cfg.median_len), cfg.sigma, n)
    else:
        x = rng.uniform(cfg.uniform_lo, cfg.uniform_hi + 1, n)
    return np.clip(x.astype(np.int64), 16, cfg.max_len)


def _batches(kind: str, cfg: HydraulisConfig, rng: np.random.Generator, count: int) -> list[list[int]]:
    """``count`` global batches of exactly ``tokens_per_iteration`` tokens (llama_dataloader.py's rule)."""
    out = []
    for _ in range(count):
        batch, total = [], 0
        while total < cfg.tokens_per_iteration:
            s = int(_lengths(kind, cfg, rng, 1)[0])
            s = min(s, cfg.tokens_per_iteration - total)
            batch.append(s)
            total += s
        out.append(batch)
    return out


def simulate(kind: str, cfg: HydraulisConfig, seed: int) -> dict[str, float]:
    """Simulated times of one workload: Hydraulis against the best homogeneous strategy."""
    rng = np.random.default_rng([seed, 0 if kind == "longtail" else 1])
    plan_seqs = np.concatenate([np.array(b) for b in _batches(kind, cfg, rng, cfg.plan_batches)])
    plans = propose(LLAMA7B_A800, cfg.gpus, plan_seqs, cfg.max_len, weight=1.0 / cfg.plan_batches)
    if not plans:
        raise ValueError(f"the planner found no plan for {cfg.gpus} GPUs up to {cfg.max_len} tokens")
    batches = _batches(kind, cfg, rng, cfg.iterations)
    pad = {k.name: sum(homogeneous_padding(b, k, cfg.gpus, cfg.max_len) for b in batches) for k in LLAMA7B_A800}
    packed = {k.name: sum(homogeneous_packing(b, k, cfg.gpus) for b in batches) for k in LLAMA7B_A800}
    prng = random.Random(seed)
    hyd, mixed = 0.0, 0
    for b in batches:
        tm, plan = hydraulis_time(b, plans, prng, cfg.trials)
        if plan is None:
            raise ValueError(f"no candidate plan holds a sequence of {max(b)} tokens")
        hyd += tm
        mixed += len({(k.tp, k.pp) for k in plan}) > 1
    best_pad, best_pack = min(pad.values()), min(packed.values())
    return {
        "hydraulis_ms": hyd / cfg.iterations,
        "padding_ms": best_pad / cfg.iterations,
        "packing_ms": best_pack / cfg.iterations,
        "speedup": min(best_pad, best_pack) / hyd,
        "speedup_over_padding": best_pad / hyd,
        "heterogeneous_share": mixed / cfg.iterations,
        "plans": float(len(plans)),
    }


@experiment(config=HydraulisConfig, metrics=(
    "speedup_longtail", "speedup_uniform", "speedup_gap", "speedup_over_padding_longtail",
    "hydraulis_ms_longtail", "packing_ms_longtail", "padding_ms_longtail", "hydraulis_ms_uniform",
    "packing_ms_uniform", "heterogeneous_share_longtail", "heterogeneous_share_uniform", "candidate_plans_longtail"))
def hydraulis_sim(cfg: HydraulisConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Both workloads on the repository's cost model; ``speedup_gap`` is long-tailed minus near-uniform."""
    lt = simulate("longtail", cfg, seed)
    un = simulate("uniform", cfg, seed)
    return {
        "speedup_longtail": lt["speedup"],
        "speedup_uniform": un["speedup"],
        "speedup_gap": lt["speedup"] - un["speedup"],
        "speedup_over_padding_longtail": lt["speedup_over_padding"],
        "hydraulis_ms_longtail": lt["hydraulis_ms"],
        "packing_ms_longtail": lt["packing_ms"],
        "padding_ms_longtail": lt["padding_ms"],
        "hydraulis_ms_uniform": un["hydraulis_ms"],
        "packing_ms_uniform": un["packing_ms"],
        "heterogeneous_share_longtail": lt["heterogeneous_share"],
        "heterogeneous_share_uniform": un["heterogeneous_share"],
        "candidate_plans_longtail": lt["plans"],
    }


SWEEP_TOKENS = (100, 200, 400, 800)  # thousands of tokens per iteration


@dataclass
class SweepConfig(HydraulisConfig):
    """The long-tailed mix at growing token budgets per iteration; fewer iterations and stage-1 orders than
    ``hydraulis_sim`` to keep the largest budget within a minute per seed."""

    iterations: int = 5
    trials: int = 20


@experiment(config=SweepConfig, metrics=tuple(f"{m}_t{k}" for k in SWEEP_TOKENS
                                              for m in ("speedup", "heterogeneous_share")))
def hydraulis_token_sweep(cfg: SweepConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Exploratory, added after the first verdict run of ``hydraulis_sim`` and judged by no claim: how the
    simulated speedup and the share of iterations run on heterogeneous plans move with the tokens per
    iteration (``tokens_per_iteration`` is replaced by each budget of ``SWEEP_TOKENS``)."""
    out = {}
    for k in SWEEP_TOKENS:
        r = simulate("longtail", dataclasses.replace(cfg, tokens_per_iteration=k * 1000), seed)
        out[f"speedup_t{k}"] = r["speedup"]
        out[f"heterogeneous_share_t{k}"] = r["heterogeneous_share"]
    return out
