"""TernGrad's training experiments: real data-parallel LeNet/MNIST and CifarNet/CIFAR-10 runs, fp32 against
TernGrad, and the ablations (the simulated throughput experiment is in ``performance.py``).

One run of N workers is one :func:`~papers.terngrad_wen2017.distributed.launch`: N processes, each with its own
LeNet built from the same seed, reading the same global batch sequence and training on its own shard of every
batch (batch / N examples), exchanging gradients through
:class:`~papers.terngrad_wen2017.distributed.GradientExchange` between backward and the optimizer step. Inside
one launch the workers train several *arms* one after the other (fp32, TernGrad, the ablations), each from the
same initial weights and batch order, so the arms of a seed differ only in their gradient exchange. Rank 0
evaluates; every worker reports a checksum of its parameters, and a run whose workers disagree is an error.

The LeNet recipe follows the repo's ``run_multi_gpus_lenet.sh`` and ``inception_train.py`` (CifarNet's is in
``cifarnet.py``):

- momentum SGD (0.9), learning rate 0.01 with TF's polynomial decay to 0 over the run, power 0.5;
- total batch 64 split over the N workers (the paper keeps the total batch fixed as N grows);
- weight decay 5e-4 on the weights as an L2 term of the loss, so it is part of the gradient that is
  ternarized (TF adds the regularization losses to the total loss before ``compute_gradients``);
- every tensor's gradient ternarized, the logits' included (the script sets ``QUANTIZE_LOGITS=True``);
- evaluation on the exponential moving average of the weights (``RESTORE_AVG_VAR=True``), with TF's
  ``ExponentialMovingAverage(0.9999, num_updates)`` decay ``min(0.9999, (1 + t) / (10 + t))``;
- inputs scaled to [-1, 1] as ``lenet_preprocessing.py`` does.

Assumptions, where this differs from the repo: the network is Caffe's LeNet (``bench.models.LeNet5``: valid
convolutions, no ReLU after them, 431,080 parameters), the one the repo's ``lenet`` docstring cites; the repo's
TensorFlow version uses 'SAME' convolutions with ReLU (2,450 inputs to fc3, 1,256,080 parameters). PyTorch's
default initialization replaces the repo's truncated normals. The repo's seed 123 is a single run; here every
seed is a paired comparison (same initial weights and batches for every arm).
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.optim.swa_utils import AveragedModel

from bench import data
from bench.models import LeNet5
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, seed_everything, shuffled_batches, train

from . import cifarnet
from .distributed import ExchangeConfig, GradientExchange, launch
from .performance import throughput_model  # noqa: F401  (an experiment of claims.yaml)

WORKERS = (2, 4, 8)  # the cpu-scale worker counts of the first claim
MORE_WORKERS = (16, 32, 64)  # the paper's larger N (full scale)


@dataclass
class LeNetTernGradConfig(ExperimentConfig):
    train_examples: int = 60000
    batch_size: int = 64  # total over the workers (run_multi_gpus_lenet.sh)
    steps: int = 10000  # MAX_STEPS
    lr: float = 0.01
    lr_power: float = 0.5  # polynomial decay to 0 over the run
    momentum: float = 0.9
    weight_decay: float = 5e-4
    ema_decay: float = 0.9999  # MOVING_AVERAGE_DECAY; 0 evaluates the raw weights
    test_examples: int = 10000
    clip_factor: float = 2.5
    quantize_last: bool = True  # QUANTIZE_LOGITS=True in the LeNet and CIFAR-10 scripts
    timeout_s: float = 3600.0


def _shards(batches, rank: int, world: int):
    for x, y in batches:
        per = len(x) // world
        yield x[rank * per:(rank + 1) * per], y[rank * per:(rank + 1) * per]


def _tf_ema(decay: float):
    """TF's ExponentialMovingAverage with num_updates: decay min(d, (1 + t)/(10 + t)) at the t-th update."""
    def avg(averaged: torch.Tensor, current: torch.Tensor, num: torch.Tensor) -> torch.Tensor:
        d = min(decay, (1.0 + float(num)) / (10.0 + float(num)))
        return d * averaged + (1.0 - d) * current
    return avg


class _L2InGradient:
    """Add ``wd·w`` to each weight's gradient (an L2 loss term), then exchange: TF quantizes the sum."""

    def __init__(self, weights: list[torch.nn.Parameter], weight_decay: float, exchange: GradientExchange):
        self.weights = weights
        self.weight_decay = weight_decay
        self.exchange = exchange

    def __call__(self, step: int) -> None:
        if self.weight_decay:
            for w in self.weights:
                w.grad.add_(w.detach(), alpha=self.weight_decay)
        self.exchange(step)


@dataclass
class CifarNetTernGradConfig(LeNetTernGradConfig):
    train_examples: int = 50000
    batch_size: int = 128  # total over the 2 workers (run_multi_gpus_cifar10.sh)
    steps: int = 300000
    workers: int = 2
    lr: float = 2e-4  # Adam, constant
    weight_decay: float = 0.004  # on the hidden fully connected layers' weights


class _Augmented:
    """Batches of uint8 images turned into CifarNet's training inputs with this worker's own random draws."""

    def __init__(self, batches, generator: torch.Generator):
        self.batches, self.generator = batches, generator

    def __iter__(self):
        return self

    def __next__(self):
        x, y = next(self.batches)
        return cifarnet.train_inputs(x, self.generator), y


def _parts(cfg: LeNetTernGradConfig, ds: data.Dataset, seed: int, rank: int, world: int, device: torch.device):
    """Model, training batches of this worker, optimizer, scheduler, decayed weights and test set of a recipe."""
    order = seed_everything(seed)  # same initial weights and batch order on every worker and every arm
    n = cfg.train_examples
    if isinstance(cfg, CifarNetTernGradConfig):
        model = cifarnet.CifarNet().to(device)
        batches = _Augmented(_shards(shuffled_batches(ds.train.x[:n], ds.train.y[:n], cfg.batch_size, order),
                                     rank, world), torch.Generator().manual_seed(seed * 7919 + rank))
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, eps=1e-8)
        return (model, batches, opt, None, model.decayed_weights(),
                cifarnet.test_inputs(ds.test.x[:cfg.test_examples]), ds.test.y[:cfg.test_examples])
    model = LeNet5().to(device)
    x = (ds.train.x[:n].float() / 255 - 0.5) * 2
    batches = _shards(shuffled_batches(x, ds.train.y[:n], cfg.batch_size, order), rank, world)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    sched = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=cfg.steps, power=cfg.lr_power)
    weights = [p for p in model.parameters() if p.dim() > 1]
    return (model, batches, opt, sched, weights,
            (ds.test.x[:cfg.test_examples].float() / 255 - 0.5) * 2, ds.test.y[:cfg.test_examples])


def train_arm(rank: int, world: int, cfg: LeNetTernGradConfig, exchange_cfg: ExchangeConfig, seed: int,
              ds: data.Dataset, device: torch.device) -> dict:
    """Train one arm on this worker; rank 0 also evaluates. Returns the worker's figures."""
    model, batches, opt, sched, decayed, test_x, test_y = _parts(cfg, ds, seed, rank, world, device)
    batches = ((x.to(device), y.to(device)) for x, y in batches)
    ema = AveragedModel(model, avg_fn=_tf_ema(cfg.ema_decay)) if cfg.ema_decay else None
    exchange = GradientExchange(list(model.parameters()), exchange_cfg,
                                generator=torch.Generator(device=device).manual_seed(seed * 1009 + rank))
    start = time.perf_counter()
    train(model, batches, steps=cfg.steps, optimizer=opt, scheduler=sched,
          after_backward=_L2InGradient(decayed, cfg.weight_decay, exchange),
          after_step=(lambda _: ema.update_parameters(model)) if ema is not None else None,
          desc=f"{exchange_cfg.mode} N={world} rank {rank}")
    out = {"checksum": float(sum(p.detach().double().sum() for p in model.parameters())),
           "bytes_per_step": exchange.bytes_per_step,
           "quantized_numel": sum(exchange.params[i].numel() for i in exchange.quantized),
           "numel": sum(p.numel() for p in model.parameters()),
           "train_s": time.perf_counter() - start}
    if rank == 0:
        evaluated = ema.module if ema is not None else model
        threads = torch.get_num_threads()
        torch.set_num_threads(min(world, os.cpu_count() or 1))  # the other workers idle at the barrier meanwhile
        out["error_pct"] = 100 * (1 - accuracy(evaluated, test_x.to(device), test_y.to(device)))
        torch.set_num_threads(threads)
    dist.barrier()  # the other workers wait for the evaluation, so the next arm starts together
    return out


def arms_worker(rank: int, world: int, cfg: LeNetTernGradConfig, arms: dict[str, ExchangeConfig],
                seed: int) -> dict[str, dict]:
    """One worker process: train every arm in turn (executed by ``launch``)."""
    device = torch.device(f"cuda:{rank % torch.cuda.device_count()}") if dist.get_backend() == "nccl" \
        else torch.device("cpu")
    ds = data.load_cifar10() if isinstance(cfg, CifarNetTernGradConfig) else data.load_mnist()
    return {name: train_arm(rank, world, cfg, ex, seed, ds, device) for name, ex in arms.items()}


def run_arms(cfg: LeNetTernGradConfig, world: int, arms: dict[str, ExchangeConfig], seed: int) -> dict[str, dict]:
    """Train ``arms`` with ``world`` workers in one launch; rank 0's figures per arm."""
    if cfg.batch_size % world:
        raise ValueError(f"total batch {cfg.batch_size} does not split over {world} workers")
    results = launch(arms_worker, world, (cfg, arms, seed), timeout_s=cfg.timeout_s)
    for name in arms:
        sums = {r[name]["checksum"] for r in results}
        if len(sums) != 1:
            raise RuntimeError(f"{name}: the {world} workers ended with different parameters "
                               f"(checksums {sorted(sums)})")
    return results[0]


def _terngrad(cfg: LeNetTernGradConfig, **changes) -> ExchangeConfig:
    return dataclasses.replace(ExchangeConfig("terngrad", cfg.clip_factor, cfg.quantize_last), **changes)


def _gaps(cfg: LeNetTernGradConfig, workers: tuple[int, ...], seed: int, out: dict[str, float],
          extra_arms: dict[str, ExchangeConfig] | None = None) -> dict[str, dict]:
    """fp32 once at the first N, TernGrad at every N; the extra arms ride along at the first N."""
    first = {"fp32": ExchangeConfig("fp32"), "terngrad": _terngrad(cfg)} | (extra_arms or {})
    runs = run_arms(cfg, workers[0], first, seed)
    out["fp32_error_pct"] = runs["fp32"]["error_pct"]
    for n in workers:
        tern = runs["terngrad"] if n == workers[0] else run_arms(cfg, n, {"terngrad": _terngrad(cfg)}, seed)["terngrad"]
        out[f"terngrad_error_pct_n{n}"] = tern["error_pct"]
        out[f"gap_pp_n{n}"] = tern["error_pct"] - out["fp32_error_pct"]
    out["max_abs_gap_pp"] = max(abs(out[f"gap_pp_n{n}"]) for n in workers)
    return runs


def _per_n(workers: tuple[int, ...]) -> tuple[str, ...]:
    return ("fp32_error_pct", *(f"{k}_n{n}" for n in workers
                                for k in ("terngrad_error_pct", "gap_pp")), "max_abs_gap_pp")


@experiment(config=LeNetTernGradConfig, metrics=(
    *_per_n(WORKERS),
    "noclip_error_pct", "one_scaler_error_pct", "noclip_minus_full_pp", "one_scaler_minus_full_pp",
    "fp32_bytes_per_step", "terngrad_bytes_per_step", "bytes_ratio", "bits_per_element",
    "fp32_step_s_n2", "terngrad_step_s_n2"))
def lenet_terngrad(cfg: LeNetTernGradConfig, seed: int, device: torch.device) -> dict[str, float]:
    """TernGrad LeNet/MNIST at N = 2, 4, 8 workers against fp32 (same seed); the ablations at N = 2.

    gap = TernGrad − fp32 test error (pp). fp32 runs once per seed, at N = 2, through the same distributed
    path: with a fixed total batch, fp32 data-parallel SGD averages the same gradient whatever N is (200-step
    runs at N = 1, 2, 4, 8 ended at 5.95, 5.94, 5.95, 5.95% error, differing only by float summation order),
    while TernGrad's noise depends on N. The ablations' differences are against full TernGrad at N = 2, same
    seed. Bytes are what one worker hands to the collectives per step, counted by the exchange.
    """
    out: dict[str, float] = {}
    r = _gaps(cfg, WORKERS, seed, out, extra_arms={"noclip": _terngrad(cfg, clip_factor=0.0),
                                                    "one_scaler": _terngrad(cfg, model_wide_scaler=True)})
    full = r["terngrad"]["error_pct"]
    out |= {"noclip_error_pct": r["noclip"]["error_pct"], "one_scaler_error_pct": r["one_scaler"]["error_pct"],
            "noclip_minus_full_pp": r["noclip"]["error_pct"] - full,
            "one_scaler_minus_full_pp": r["one_scaler"]["error_pct"] - full}
    fp32, tern = r["fp32"], r["terngrad"]
    out["fp32_bytes_per_step"] = fp32["bytes_per_step"]
    out["terngrad_bytes_per_step"] = tern["bytes_per_step"]
    out["bytes_ratio"] = fp32["bytes_per_step"] / tern["bytes_per_step"]
    float_bytes = 4 * (tern["numel"] - tern["quantized_numel"])  # unquantized tensors, if any, go as fp32
    out["bits_per_element"] = 8 * (tern["bytes_per_step"] - float_bytes) / tern["quantized_numel"]
    out["fp32_step_s_n2"] = fp32["train_s"] / cfg.steps
    out["terngrad_step_s_n2"] = tern["train_s"] / cfg.steps
    return out


@experiment(config=LeNetTernGradConfig, metrics=_per_n(MORE_WORKERS))
def lenet_terngrad_more_workers(cfg: LeNetTernGradConfig, seed: int, device: torch.device) -> dict[str, float]:
    """TernGrad LeNet/MNIST at the paper's larger N = 16, 32, 64 (4, 2, 1 examples per worker) against fp32."""
    out: dict[str, float] = {}
    _gaps(cfg, MORE_WORKERS, seed, out)
    return out


@experiment(config=CifarNetTernGradConfig, metrics=("fp32_error_pct", "terngrad_error_pct", "gap_pp",
                                                    "bits_per_element"))
def cifarnet_terngrad(cfg: CifarNetTernGradConfig, seed: int, device: torch.device) -> dict[str, float]:
    """fp32 and TernGrad CifarNet on CIFAR-10 with ``workers`` workers, same seed; gap = TernGrad − fp32 (pp)."""
    r = run_arms(cfg, cfg.workers, {"fp32": ExchangeConfig("fp32"), "terngrad": _terngrad(cfg)}, seed)
    tern = r["terngrad"]
    float_bytes = 4 * (tern["numel"] - tern["quantized_numel"])
    return {"fp32_error_pct": r["fp32"]["error_pct"], "terngrad_error_pct": tern["error_pct"],
            "gap_pp": tern["error_pct"] - r["fp32"]["error_pct"],
            "bits_per_element": 8 * (tern["bytes_per_step"] - float_bytes) / tern["quantized_numel"]}
