"""ADMM-NN-S on LeNet-5/MNIST: irregular against structured pruning at matched accuracy.

From one pretrained network per seed, two progressive ADMM runs (``bench/compress/admm.py``, the shared recipe
``bench/compress/mnist_lenet.py``) raise the rate in three stages each: irregular pruning (``Irregular``; the
last stage at the paper's 348×) and structured pruning (``FilterColumn``: filters and columns of every layer,
columns only in the output layer). After each stage the network is evaluated in full precision and quantized
to 8 and 4 bits (``KBit``, ``α`` per layer, no retraining), and its weight storage counted with index overhead
(``method.py``). Storage at matched accuracy is read off each run's (accuracy, storage) sequence at
``baseline − match_loss_pp``, or at the best accuracy the weaker run reaches if that is lower
(``method.matched_accuracy``), log-linearly between the two stages around it. The batch-1 CPU time of the CSR
and the compacted dense forms is measured on the last stage of each run at or above that accuracy in 8 bits,
side by side (``bench.latency.time_interleaved``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from bench.compress import mnist_lenet as lenet
from bench.compress.admm import Irregular, KBit, prune_rate
from bench.latency import median_speedups, time_interleaved
from bench.registry import experiment
from papers.admm_nn_s_ma2019 import method

BITS = (8, 4)
STAGES = (1, 2, 3)


@dataclass
class IrregularVsStructuredConfig(lenet.LeNetADMMConfig):
    irregular_rates: tuple[float, ...] = (40.0, 120.0, 348.0)  # progressive stages, the last the paper's 348×
    structured_rates: tuple[float, ...] = (5.0, 12.0, 30.0)
    match_loss_pp: float = 0.5  # matched accuracy: this far below the dense network, or lower (method.py)
    rounds: int = 30  # timed rounds (interleaved; medians)

    def __post_init__(self):
        super().__post_init__()
        self.irregular_rates, self.structured_rates = tuple(self.irregular_rates), tuple(self.structured_rates)
        for rates in (self.irregular_rates, self.structured_rates):
            if len(rates) != len(STAGES) or list(rates) != sorted(rates) or rates[0] <= 1:
                raise ValueError(f"need {len(STAGES)} rising rates above 1, got {rates}")


def _metrics() -> tuple[str, ...]:
    per_stage = [f"{arm}_{m}_s{s}" for arm in ("irregular", "structured") for s in STAGES
                 for m in ("rate", "accuracy_pct", *(f"accuracy_{b}bit_pct" for b in BITS),
                           *(f"storage_kb_{b}bit" for b in BITS))]
    summary = [f"{m}_{b}bit" for b in BITS for m in ("irregular_storage_kb", "structured_storage_kb", "storage_ratio",
                                                       "irregular_bracketed", "structured_bracketed")]
    summary += [f"matched_accuracy_{b}bit_pct" for b in BITS]
    return ("baseline_accuracy_pct", *per_stage, "irregular_loss_s3_pp", *summary, "dense_over_csr",
            "dense_over_compact", "csr_over_compact_time")


def _quantized(model, bits: int):
    q = copy.deepcopy(model)
    with torch.no_grad():
        for w in lenet.weights(q).values():
            w.copy_(KBit(bits=bits)(w))
    return q


@experiment(config=IrregularVsStructuredConfig, metrics=_metrics())
def lenet_irregular_vs_structured(cfg: IrregularVsStructuredConfig, seed: int,
                                  device: torch.device) -> dict[str, float]:
    """Irregular and structured progressive ADMM pruning of LeNet-5; storage and CPU time at matched accuracy."""
    x, y, xt, yt = lenet.mnist(cfg, seed, device)
    base = lenet.pretrain(x, y, cfg, seed, device)
    out = {"baseline_accuracy_pct": lenet.accuracy_pct(base, xt, yt)}
    arms = {"irregular": (cfg.irregular_rates,
                          lambda r: {n: Irregular(q) for n, q in lenet.ratios_for_rate(r).items()}),
            "structured": (cfg.structured_rates, lenet.structured_projections)}
    points = {(arm, b): [] for arm in arms for b in BITS}
    models = {arm: [] for arm in arms}  # per stage, for the timing
    for a, (arm, (rates, projections)) in enumerate(arms.items()):
        model, masks = copy.deepcopy(base), None
        for s, rate in zip(STAGES, rates, strict=True):
            salt = 100 * (a + 1) + 10 * s
            masks = lenet.admm_stage(model, projections(rate), x, y, cfg, seed, salt, frozen=masks,
                                     desc=f"{arm} admm {s}")
            lenet.retrain(model, masks, x, y, cfg, seed, salt + 1, desc=f"{arm} retrain {s}")
            w = {n: t.detach() for n, t in lenet.weights(model).items()}
            out[f"{arm}_rate_s{s}"] = prune_rate(w)
            out[f"{arm}_accuracy_pct_s{s}"] = lenet.accuracy_pct(model, xt, yt)
            for b in BITS:
                q = _quantized(model, b)
                acc = lenet.accuracy_pct(q, xt, yt)
                qw = {n: t.detach().cpu() for n, t in lenet.weights(q).items()}
                bits = sum(method.irregular_bits(t, b)[0] if arm == "irregular" else method.structured_bits(t, b)
                           for t in qw.values())
                out[f"{arm}_accuracy_{b}bit_pct_s{s}"] = acc
                out[f"{arm}_storage_kb_{b}bit_s{s}"] = bits / 8 / 1000
                points[(arm, b)].append((acc, bits / 8 / 1000))
            models[arm].append(copy.deepcopy(model).cpu())
    out["irregular_loss_s3_pp"] = out["baseline_accuracy_pct"] - out["irregular_accuracy_pct_s3"]
    for b in BITS:
        target = method.matched_accuracy(out["baseline_accuracy_pct"], cfg.match_loss_pp,
                                         *(points[(arm, b)] for arm in arms))
        out[f"matched_accuracy_{b}bit_pct"] = target
        for arm in arms:
            storage, bracketed = method.interpolate_storage(points[(arm, b)], target)
            out[f"{arm}_storage_kb_{b}bit"] = storage
            out[f"{arm}_bracketed_{b}bit"] = float(bracketed)
        out[f"storage_ratio_{b}bit"] = out[f"irregular_storage_kb_{b}bit"] / out[f"structured_storage_kb_{b}bit"]

    # timed: the last stage of each run at or above the matched accuracy in 8 bits
    target = out[f"matched_accuracy_{BITS[0]}bit_pct"]
    timed_model = {arm: [m for m, (acc, _) in zip(models[arm], points[(arm, BITS[0])], strict=True)
                         if acc >= target][-1] for arm in arms}
    gen = torch.Generator().manual_seed(seed)
    fns = {"dense": method.total(method.gemm_callables(base.cpu(), lenet.LAYERS, "dense", gen)),
           "csr": method.total(method.gemm_callables(timed_model["irregular"], lenet.LAYERS, "csr", gen)),
           "compact": method.total(method.gemm_callables(timed_model["structured"], lenet.LAYERS, "compact", gen))}
    speed = median_speedups(time_interleaved(fns, torch.device("cpu"), cfg.rounds, 3))
    out["dense_over_csr"], out["dense_over_compact"] = speed["csr"], speed["compact"]
    out["csr_over_compact_time"] = speed["compact"] / speed["csr"]
    return out
