"""TernGrad's experiments: real data-parallel LeNet/MNIST training, fp32 against TernGrad, and ablations.

Every run starts ``workers`` processes (``distributed.launch``); each builds the same LeNet from the same seed,
reads the same global batch sequence and trains on its own shard of every batch (batch / workers examples),
exchanging gradients through :class:`~papers.terngrad_wen2017.distributed.GradientExchange` between backward
and the optimizer step. Rank 0 evaluates on the MNIST test set; every worker reports a checksum of its
parameters, and a run whose workers disagree is an error.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from bench import data
from bench.models import LeNet5
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, caffe_inv_lr, seed_everything, shuffled_batches, train

from .distributed import ExchangeConfig, GradientExchange, launch
from .method import packed_size

WORKERS = (2, 4, 8)


@dataclass
class LeNetTernGradConfig(ExperimentConfig):
    train_examples: int = 60000
    batch_size: int = 64  # total over the workers, as in the paper's LeNet runs [3rd]
    steps: int = 10000  # the paper's 10k iterations [3rd]
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    clip_factor: float = 2.5
    quantize_last: bool = False
    timeout_s: float = 1800.0


def _shards(batches, rank: int, world: int):
    for x, y in batches:
        per = len(x) // world
        yield x[rank * per:(rank + 1) * per], y[rank * per:(rank + 1) * per]


def lenet_worker(rank: int, world: int, cfg: LeNetTernGradConfig, exchange_cfg: ExchangeConfig, seed: int) -> dict:
    """One worker of a data-parallel LeNet run (executed in its own process by ``launch``)."""
    ds = data.load_mnist()
    x = ds.train.x[:cfg.train_examples].float() / 256
    y = ds.train.y[:cfg.train_examples]
    order = seed_everything(seed)  # same initial weights and batch order on every worker
    model = LeNet5()
    exchange = GradientExchange(list(model.parameters()), exchange_cfg,
                                generator=torch.Generator().manual_seed(seed * 1009 + rank))
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, caffe_inv_lr())
    batches = _shards(shuffled_batches(x, y, cfg.batch_size, order), rank, world)
    train(model, batches, steps=cfg.steps, optimizer=opt, scheduler=sched, after_backward=exchange,
          desc=f"{exchange_cfg.mode} N={world} rank {rank}")
    out = {"checksum": float(sum(p.detach().double().sum() for p in model.parameters())),
           "bytes_per_step": exchange.bytes_per_step,
           "quantized_numel": sum(exchange.params[i].numel() for i in exchange.quantized),
           "numel": sum(p.numel() for p in model.parameters())}
    if rank == 0:
        out["error_pct"] = 100 * (1 - accuracy(model, ds.test.x.float() / 256, ds.test.y))
    return out


def _run(cfg: LeNetTernGradConfig, world: int, exchange_cfg: ExchangeConfig, seed: int) -> dict:
    if cfg.batch_size % world:
        raise ValueError(f"batch {cfg.batch_size} does not split over {world} workers")
    results = launch(lenet_worker, world, (cfg, exchange_cfg, seed), timeout_s=cfg.timeout_s)
    sums = {r["checksum"] for r in results}
    if len(sums) != 1:
        raise RuntimeError(f"the {world} workers ended with different parameters (checksums {sorted(sums)})")
    return results[0]


@experiment(config=LeNetTernGradConfig, metrics=(
    *(f"{k}_n{n}" for n in WORKERS for k in ("fp32_error_pct", "terngrad_error_pct", "gap_pp")),
    "max_abs_gap_pp", "bits_per_element", "bytes_ratio"))
def lenet_terngrad(cfg: LeNetTernGradConfig, seed: int, device: torch.device) -> dict[str, float]:
    """fp32 and TernGrad LeNet/MNIST at N = 2, 4, 8 workers, same seed; gap = TernGrad − fp32 test error (pp)."""
    out: dict[str, float] = {}
    tern_cfg = ExchangeConfig("terngrad", cfg.clip_factor, cfg.quantize_last)
    for n in WORKERS:
        fp32 = _run(cfg, n, ExchangeConfig("fp32"), seed)
        tern = _run(cfg, n, tern_cfg, seed)
        out[f"fp32_error_pct_n{n}"] = fp32["error_pct"]
        out[f"terngrad_error_pct_n{n}"] = tern["error_pct"]
        out[f"gap_pp_n{n}"] = tern["error_pct"] - fp32["error_pct"]
        if n == WORKERS[0]:
            # bits each worker sends per quantized element (payload and scalers), and whole-model bytes vs fp32
            float_bytes = 4 * (tern["numel"] - tern["quantized_numel"])
            out["bits_per_element"] = 8 * (tern["bytes_per_step"] - float_bytes) / tern["quantized_numel"]
            out["bytes_ratio"] = fp32["bytes_per_step"] / tern["bytes_per_step"]
            assert tern["bytes_per_step"] >= packed_size(tern["quantized_numel"])
    out["max_abs_gap_pp"] = max(abs(out[f"gap_pp_n{n}"]) for n in WORKERS)
    return out


@dataclass
class AblationConfig(LeNetTernGradConfig):
    workers: int = 4


@experiment(config=AblationConfig, metrics=("full_error_pct", "noclip_error_pct", "one_scaler_error_pct",
                                            "noclip_minus_full_pp", "one_scaler_minus_full_pp"))
def lenet_terngrad_ablations(cfg: AblationConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Full TernGrad against TernGrad without clipping (s = max|g|) and with one model-wide scaler."""
    base = ExchangeConfig("terngrad", cfg.clip_factor, cfg.quantize_last)
    full = _run(cfg, cfg.workers, base, seed)["error_pct"]
    noclip = _run(cfg, cfg.workers, dataclasses.replace(base, clip_factor=0.0), seed)["error_pct"]
    one = _run(cfg, cfg.workers, dataclasses.replace(base, model_wide_scaler=True), seed)["error_pct"]
    return {"full_error_pct": full, "noclip_error_pct": noclip, "one_scaler_error_pct": one,
            "noclip_minus_full_pp": noclip - full, "one_scaler_minus_full_pp": one - full}
