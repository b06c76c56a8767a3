"""SSL experiments: LeNet and MLP on MNIST, AlexNet-layer GEMM speedups, ResNet depth on CIFAR-10.

Each experiment takes its config, a seed and a device and returns a flat dict of metrics. Training follows
the authors' Caffe recipes where they are known (``wenwei202/caffe`` branch ``scnn``) and says where it
deviates (shorter schedules at the ``smoke`` and ``cpu`` scales).
"""

from __future__ import annotations

import copy
import statistics
import sys
from dataclasses import dataclass

import torch
from torch import nn

from bench import data
from bench.hardware import roofline, systolic
from bench.latency import median_speedups, time_interleaved
from bench.models import MLP, CifarResNet, LeNet5
from bench.registry import ExperimentConfig, experiment
from bench.train import (
    accuracy,
    caffe_inv_lr,
    random_crop_flip,
    seed_everything,
    shuffled_batches,
    steps_for,
    train,
)
from papers.ssl_wen2016.latency import ALEXNET, gemm_callable, systolic_gemms
from papers.ssl_wen2016.method import (
    ChainLayer,
    FrozenZeros,
    GroupLasso,
    GroupTerm,
    compact_chain,
    zerout_,
)

# ---------------------------------------------------------------------------------------------------------
# shared: one SSL pipeline (baseline → group Lasso → zeroing → frozen fine-tuning → compaction)


@dataclass
class StageConfig(ExperimentConfig):
    """Knobs shared by the MNIST experiments (LeNet and MLP)."""

    train_examples: int = 60000  # MNIST training images used (the first n of a seeded permutation)
    batch_size: int = 64  # Caffe's LeNet batch
    baseline_epochs: float = 2.0  # baseline training (Caffe: 10k iterations ≈ 10.7 epochs)
    baseline_lr: float = 0.01  # lenet_solver: base_lr 0.01, inv policy (gamma 1e-4, power 0.75), momentum 0.9
    weight_decay: float = 5e-4  # lenet_solver weight_decay (baseline and fine-tuning)
    ssl_epochs: float = 2.0  # group-Lasso training, started from the baseline
    ssl_lr: float = 0.01  # lenet_grouplasso_solver: base_lr 0.01, weight_decay 0
    finetune_epochs: float = 1.0  # fine-tuning with zero groups frozen
    finetune_lr: float = 0.001  # fine-tuning learning rate (0.1× the SSL rate)
    zero_threshold: float = 1e-4  # |w| below it is set to 0 after every update (Caffe ZEROUT_THRESHOLD)

    def __post_init__(self):
        if self.train_examples < self.batch_size:
            raise ValueError("train_examples must be at least batch_size")
        if min(self.baseline_epochs, self.ssl_epochs) <= 0 or self.finetune_epochs < 0:
            raise ValueError("epochs must be positive (fine-tuning may be 0)")


def _mnist(cfg: StageConfig, seed: int, device: torch.device):
    """MNIST scaled like Caffe's LeNet input (×1/256), the first ``train_examples`` of a seeded permutation."""
    ds = data.load("mnist")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds.train), generator=g)[:cfg.train_examples]
    x = (ds.train.x[idx].float() / 256).to(device)
    y = ds.train.y[idx].to(device)
    return x, y, (ds.test.x.float() / 256).to(device), ds.test.y.to(device)


def _sgd(model: nn.Module, lr: float, wd: float) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)


def _baseline(model: nn.Module, x, y, cfg: StageConfig, gen: torch.Generator, desc: str) -> None:
    steps = steps_for(cfg.baseline_epochs, len(x), cfg.batch_size)
    opt = _sgd(model, cfg.baseline_lr, cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, caffe_inv_lr())
    train(model, shuffled_batches(x, y, cfg.batch_size, gen), steps=steps, optimizer=opt, scheduler=sched, desc=desc)


def _ssl_then_finetune(model: nn.Module, terms: list[GroupTerm], x, y, cfg: StageConfig, gen: torch.Generator,
                       desc: str) -> None:
    """Group-Lasso training with zeroing after every step, then fine-tuning with the zero groups frozen."""
    lasso = GroupLasso(terms)
    steps = steps_for(cfg.ssl_epochs, len(x), cfg.batch_size)
    opt = _sgd(model, cfg.ssl_lr, 0.0)
    # lenet_grouplasso_solver: lr × 0.1 at 60% and 80% of the run
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [int(0.6 * steps), int(0.8 * steps)], 0.1)
    train(model, shuffled_batches(x, y, cfg.batch_size, gen), steps=steps, optimizer=opt, scheduler=sched,
          after_backward=lasso.add_grad_, after_step=lambda _: zerout_(model, cfg.zero_threshold),
          desc=f"{desc} ssl")
    if cfg.finetune_epochs:
        frozen = FrozenZeros([t.weight for t in terms], "groupwise")
        steps = steps_for(cfg.finetune_epochs, len(x), cfg.batch_size)
        opt = _sgd(model, cfg.finetune_lr, cfg.weight_decay)
        train(model, shuffled_batches(x, y, cfg.batch_size, gen), steps=steps, optimizer=opt,
              after_step=frozen.apply_, desc=f"{desc} finetune")


def _structure_metrics(prefix: str, compact, names: list[str], conv_count: int) -> dict[str, float]:
    """Kept filters, channels, columns and FLOP fractions per layer, and the total over the first layers."""
    out = {}
    for name, s in zip(names, compact.stats, strict=True):
        out[f"{prefix}_{name}_filters"] = s["rows"]
        out[f"{prefix}_{name}_channels"] = s["in_channels"]
        out[f"{prefix}_{name}_columns"] = s["cols"]
        out[f"{prefix}_{name}_flops_kept"] = s["macs"] / s["dense_macs"]
    counted = compact.stats[:conv_count]
    out[f"{prefix}_flops_kept"] = sum(s["macs"] for s in counted) / sum(s["dense_macs"] for s in counted)
    return out


# ---------------------------------------------------------------------------------------------------------
# LeNet on MNIST: filter-wise + channel-wise (Table 1) and shape-wise (Table 2) SSL from one baseline


@dataclass
class LeNetSSLConfig(StageConfig):
    """LeNet SSL: group strengths for the two variants trained from the same baseline."""

    lambda_filter: float = 0.005  # λ of filter-wise groups, conv1 and conv2 (breadth_decay of the example)
    lambda_channel: float = 0.005  # λ of channel-wise groups, conv2 (conv1 has one input channel)
    lambda_shape: float = 0.005  # λ of shape-wise groups, conv1 and conv2 (kernel_shape_decay of the example)


_LENET_LAYERS = ["conv1", "conv2", "fc1", "fc2"]
_LENET_METRICS = [f"{v}_{layer}_{k}" for v in ("fc", "shape") for layer in ("conv1", "conv2")
                  for k in ("filters", "channels", "columns", "flops_kept")]


def _lenet_chain(m: LeNet5) -> list[ChainLayer]:
    return [ChainLayer(m.conv1, "maxpool2"), ChainLayer(m.conv2, "maxpool2"), ChainLayer(m.fc1, "relu", 16),
            ChainLayer(m.fc2)]


@experiment(config=LeNetSSLConfig, metrics=(
    "baseline_error_pct", "control_error_pct",
    "fc_error_pct", "fc_error_increase_pp", "fc_flops_kept", "fc_compaction_max_abs_diff",
    "shape_error_pct", "shape_error_increase_pp", "shape_flops_kept", "shape_compaction_max_abs_diff",
    *_LENET_METRICS))
def lenet_ssl(cfg: LeNetSSLConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Baseline LeNet, then from it a control (λ = 0), filter+channel SSL and shape SSL, each fine-tuned.

    ``*_error_increase_pp`` is the SSL network's error minus the control's: the control continues the baseline
    through the same schedule without group Lasso, so extra training does not count as SSL's merit. Errors are
    measured on the compacted networks; ``*_flops_kept`` is the conv layers' MACs after compaction over the
    dense conv MACs (the paper's FLOP column is per layer; both are returned).
    """
    x, y, xt, yt = _mnist(cfg, seed, device)
    x, xt = x.contiguous(memory_format=torch.channels_last), xt.contiguous(memory_format=torch.channels_last)
    gen = seed_everything(seed)
    base = LeNet5().to(device, memory_format=torch.channels_last)
    _baseline(base, x, y, cfg, gen, "lenet baseline")
    out = {"baseline_error_pct": 100 * (1 - accuracy(base, xt, yt))}
    variants = {
        "control": lambda m: [GroupTerm(m.conv1.weight, "filter", 0.0)],
        "fc": lambda m: [GroupTerm(m.conv1.weight, "filter", cfg.lambda_filter),
                         GroupTerm(m.conv2.weight, "filter", cfg.lambda_filter),
                         GroupTerm(m.conv2.weight, "channel", cfg.lambda_channel)],
        "shape": lambda m: [GroupTerm(m.conv1.weight, "shape", cfg.lambda_shape),
                            GroupTerm(m.conv2.weight, "shape", cfg.lambda_shape)],
    }
    for name, terms in variants.items():
        model = copy.deepcopy(base)
        _ssl_then_finetune(model, terms(model), x, y, cfg, gen, f"lenet {name}")
        if name == "control":
            out["control_error_pct"] = 100 * (1 - accuracy(model, xt, yt))
            continue
        compact = compact_chain(_lenet_chain(copy.deepcopy(model).cpu()), (28, 28)).to(device)
        with torch.no_grad():
            diff = (compact(xt[:500]) - model(xt[:500])).abs().max().item()
        err = 100 * (1 - accuracy(compact, xt, yt))
        out |= {f"{name}_error_pct": err, f"{name}_error_increase_pp": err - out["control_error_pct"],
                f"{name}_compaction_max_abs_diff": diff}
        out |= {k: v for k, v in _structure_metrics(name, compact, _LENET_LAYERS, 2).items()
                if k in _LENET_METRICS or k == f"{name}_flops_kept"}
    return out


# ---------------------------------------------------------------------------------------------------------
# MLP on MNIST: neuron removal (row-wise and column-wise groups of every fully connected layer)


@dataclass
class MLPSSLConfig(StageConfig):
    """MLP 784-500-300-10 SSL: rows (output neurons) and columns (input neurons) of every layer."""

    hidden: tuple[int, ...] = (500, 300)  # Caffe examples/mnist/mlp.prototxt
    lambda_row: float = 0.005  # λ of row groups of ip1, ip2 (breadth_decay_mult 1 in the repo's MLP)
    lambda_column: float = 0.005  # λ of column groups of ip1, ip2, ip3 (kernel_shape_decay_mult 1)


@experiment(config=MLPSSLConfig, metrics=(
    "baseline_error_pct", "control_error_pct", "error_pct", "error_increase_pp", "flops_kept", "input_neurons",
    "hidden1_neurons", "hidden2_neurons", "compaction_max_abs_diff"))
def mlp_ssl(cfg: MLPSSLConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Baseline MLP, then from it a control (λ = 0) and SSL over rows and columns of each layer, fine-tuned.

    ``error_increase_pp`` is the compacted SSL network's error minus the control's (same schedule, no λ).
    """
    x, y, xt, yt = _mnist(cfg, seed, device)
    gen = seed_everything(seed)
    base = MLP(784, cfg.hidden, 10).to(device)
    for lin in (m for m in base.net if isinstance(m, nn.Linear)):  # mlp.prototxt: msra weights, zero biases
        nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        nn.init.zeros_(lin.bias)
    _baseline(base, x, y, cfg, gen, "mlp baseline")
    out = {"baseline_error_pct": 100 * (1 - accuracy(base, xt, yt))}
    for name in ("control", "ssl"):
        model = copy.deepcopy(base)
        linears = [m for m in model.net if isinstance(m, nn.Linear)]
        scale = 0.0 if name == "control" else 1.0
        terms = [GroupTerm(lin.weight, "channel", scale * cfg.lambda_column) for lin in linears]
        terms += [GroupTerm(lin.weight, "filter", scale * cfg.lambda_row) for lin in linears[:-1]]
        _ssl_then_finetune(model, terms, x, y, cfg, gen, f"mlp {name}")
        if name == "control":
            out["control_error_pct"] = 100 * (1 - accuracy(model, xt, yt))
            continue
        chain = [ChainLayer(copy.deepcopy(lin).cpu(), "relu" if i < len(linears) - 1 else "none")
                 for i, lin in enumerate(linears)]
        compact = compact_chain(chain, None).to(device)
        with torch.no_grad():
            diff = (compact(xt[:500]) - model(xt[:500])).abs().max().item()
        err = 100 * (1 - accuracy(compact, xt, yt))
        stats = compact.stats
        out |= {"error_pct": err, "error_increase_pp": err - out["control_error_pct"],
                "flops_kept": sum(s["macs"] for s in stats) / sum(s["dense_macs"] for s in stats),
                "input_neurons": stats[0]["cols"], "hidden1_neurons": stats[0]["rows"],
                "hidden2_neurons": stats[1]["rows"], "compaction_max_abs_diff": diff}
    return out


# ---------------------------------------------------------------------------------------------------------
# AlexNet conv layers: structured (SSL) against non-structured (CSR) GEMM speedups


@dataclass
class GemmSpeedupConfig(ExperimentConfig):
    """Timing of AlexNet's lowered conv GEMMs; every variant timed in the same interleaved rounds."""

    rounds: int = 30  # timed rounds per layer (median taken); each round runs every variant once
    warmup: int = 3  # untimed rounds first
    threads: int = 0  # torch CPU threads while timing; 0 keeps the process's setting

    def __post_init__(self):
        if self.rounds < 1 or self.warmup < 0 or self.threads < 0:
            raise ValueError("rounds must be >= 1, warmup and threads >= 0")


_SPEEDUP_METRICS = tuple(f"{v}_{layer.name}" for v in ("structured", "csr_l1", "csr_equal", "flop_bound",
                                                        "structured_over_bound", "structured_1thread",
                                                        "structured_over_bound_1thread")
                         for layer in ALEXNET)


@experiment(config=GemmSpeedupConfig, metrics=(
    "structured_mean", "csr_l1_mean", "csr_equal_mean", "flop_bound_mean", "structured_over_l1",
    "structured_over_equal", "structured_1thread_mean", *_SPEEDUP_METRICS))
def alexnet_gemm_speedup(cfg: GemmSpeedupConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Per-layer speedups over the dense GEMM (ratio of medians) and their means over conv1–conv5.

    The paper's "average speedup" is the arithmetic mean of the per-layer speedups (5.1× CPU, 3.1× GPU for
    SSL); ``structured_over_l1`` compares it with the mean ℓ1 (CSR) speedup at similar accuracy, and
    ``structured_over_equal`` with CSR at the same zero fraction. ``structured_1thread_*`` times the dense and
    compacted GEMMs again on one CPU thread (on CUDA it is a repeat). A seed draws new weights, inputs and zero
    positions and times them afresh.
    """
    threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        out: dict[str, float] = {}
        for layer in ALEXNET:
            fns = {v: gemm_callable(layer, v, device, seed) for v in ("dense", "structured", "csr-l1", "csr-equal")}
            speedups = median_speedups(time_interleaved(fns, device, cfg.rounds, cfg.warmup))
            out[f"structured_{layer.name}"] = speedups["structured"]
            out[f"csr_l1_{layer.name}"] = speedups["csr-l1"]
            out[f"csr_equal_{layer.name}"] = speedups["csr-equal"]
            out[f"flop_bound_{layer.name}"] = layer.flop_bound
            # how much of the FLOP reduction the compacted GEMM turns into speed (1 = all of it)
            out[f"structured_over_bound_{layer.name}"] = speedups["structured"] / layer.flop_bound
        # the same dense and compacted GEMMs on one CPU thread: the small compacted GEMMs gain less from a
        # second thread than the dense ones do, which this separates from the GEMM shapes themselves
        torch.set_num_threads(1)
        for layer in ALEXNET:
            fns = {v: gemm_callable(layer, v, device, seed) for v in ("dense", "structured")}
            one = median_speedups(time_interleaved(fns, device, cfg.rounds, cfg.warmup))["structured"]
            out[f"structured_1thread_{layer.name}"] = one
            out[f"structured_over_bound_1thread_{layer.name}"] = one / layer.flop_bound
    finally:
        torch.set_num_threads(threads)
    for v in ("structured", "csr_l1", "csr_equal", "flop_bound", "structured_1thread"):
        out[f"{v}_mean"] = statistics.fmean(out[f"{v}_{layer.name}"] for layer in ALEXNET)
    out["structured_over_l1"] = out["structured_mean"] / out["csr_l1_mean"]
    out["structured_over_equal"] = out["structured_mean"] / out["csr_equal_mean"]
    return out


# The paper's processors, simulated: the same GEMMs on a roofline model of the Xeon E5-2630 v2 and GTX Titan

SIMULATED_DEVICES = {"xeon": "xeon-e5-2630-v2", "titan": "gtx-titan"}


@dataclass
class RooflineConfig(ExperimentConfig):
    pass


@experiment(config=RooflineConfig, devices=("cpu",), metrics=(
    *(f"roofline_{d}_{layer.name}" for d in SIMULATED_DEVICES for layer in ALEXNET),
    *(f"roofline_{d}_mean" for d in SIMULATED_DEVICES), *(f"flop_bound_{layer.name}" for layer in ALEXNET)))
def alexnet_roofline_speedup(cfg: RooflineConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Structured over dense speedup of each conv layer's GEMMs on the paper's CPU and GPU, simulated.

    The dense and compacted GEMMs of ``latency.py`` run once under ``bench.hardware.roofline``, which counts
    every operator's FLOPs and bytes; each device's ideal time is the sum over operators of the larger of
    compute and memory time. Deterministic (the seed only draws the operands).
    """
    out: dict[str, float] = {}
    cpu = torch.device("cpu")
    for layer in ALEXNET:
        dense = roofline.op_costs(gemm_callable(layer, "dense", cpu, seed))
        structured = roofline.op_costs(gemm_callable(layer, "structured", cpu, seed))
        for short, key in SIMULATED_DEVICES.items():
            dev = roofline.DEVICES[key]
            out[f"roofline_{short}_{layer.name}"] = (roofline.roofline_time(dense, dev)["time_s"]
                                                    / roofline.roofline_time(structured, dev)["time_s"])
        out[f"flop_bound_{layer.name}"] = layer.flop_bound
    for short in SIMULATED_DEVICES:
        out[f"roofline_{short}_mean"] = statistics.fmean(out[f"roofline_{short}_{layer.name}"] for layer in ALEXNET)
    return out


# A systolic-array accelerator, simulated: the same dense and compacted GEMMs through SCALE-Sim


@dataclass
class SystolicConfig(ExperimentConfig):
    """The array of ``bench.hardware.systolic`` (SCALE-Sim's 32×32 example, weight-stationary, no stalls)."""

    array: int = 32  # rows = columns of multiply-accumulate units
    dataflow: str = "ws"
    sram_kb: int = 64  # each of the ifmap, filter and ofmap SRAMs
    shrink: int = 1  # every GEMM dimension divided by this (rounded up): > 1 only to prove the path quickly

    def __post_init__(self):
        if self.array < 1 or self.sram_kb < 1 or self.shrink < 1:
            raise ValueError("array, sram_kb and shrink must be positive")


@experiment(config=SystolicConfig, devices=("cpu",), metrics=(
    *(f"{m}_{layer.name}" for m in ("systolic", "flop_bound", "systolic_over_bound", "systolic_dram", "cycles_dense",
                                    "cycles_structured", "util_dense_pct", "util_structured_pct")
      for layer in ALEXNET),
    "systolic_mean", "systolic_dram_mean"))
def alexnet_systolic_speedup(cfg: SystolicConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Structured over dense speedup of each conv layer on a systolic array, simulated by SCALE-Sim.

    ``systolic_<layer>``: dense cycles over compacted cycles (all groups, one after the other);
    ``systolic_dram_<layer>``: dense DRAM traffic (words read and written) over compacted; ``util_*_pct``:
    SCALE-Sim's compute utilization. Deterministic: the seed is not used, and SCALE-Sim's results are cached
    by shape and array (``bench.hardware.systolic``).
    """
    array = systolic.ArrayConfig(rows=cfg.array, cols=cfg.array, dataflow=cfg.dataflow,
                                 ifmap_sram_kb=cfg.sram_kb, filter_sram_kb=cfg.sram_kb, ofmap_sram_kb=cfg.sram_kb)

    def shrunk(g: systolic.Gemm) -> systolic.Gemm:
        return systolic.Gemm(*(-(-d // cfg.shrink) for d in (g.m, g.n, g.k)), g.count)

    pairs = [(shrunk(systolic_gemms(layer, "dense")[0]), shrunk(systolic_gemms(layer, "structured")[0]))
             for layer in ALEXNET]
    sims = systolic.simulate([g for pair in pairs for g in pair], array,
                             log=lambda line: print(line, file=sys.stderr, flush=True))
    out: dict[str, float] = {}
    for i, layer in enumerate(ALEXNET):
        dense, comp = sims[2 * i], sims[2 * i + 1]
        bound = dense.gemm.macs / comp.gemm.macs
        out |= {f"systolic_{layer.name}": dense.total_cycles / comp.total_cycles,
                f"flop_bound_{layer.name}": bound,
                f"systolic_over_bound_{layer.name}": dense.total_cycles / comp.total_cycles / bound,
                f"systolic_dram_{layer.name}": dense.total_dram_words / comp.total_dram_words,
                f"cycles_dense_{layer.name}": dense.total_cycles, f"cycles_structured_{layer.name}": comp.total_cycles,
                f"util_dense_pct_{layer.name}": dense.compute_util_pct,
                f"util_structured_pct_{layer.name}": comp.compute_util_pct}
    out["systolic_mean"] = statistics.fmean(out[f"systolic_{layer.name}"] for layer in ALEXNET)
    out["systolic_dram_mean"] = statistics.fmean(out[f"systolic_dram_{layer.name}"] for layer in ALEXNET)
    return out


# ---------------------------------------------------------------------------------------------------------
# ResNet on CIFAR-10: depth-wise group Lasso removes layers


@dataclass
class ResNetDepthConfig(ExperimentConfig):
    """ResNet depth SSL (repo examples/cifar10/readme.md): baseline, depth group Lasso, frozen fine-tuning."""

    depth: int = 20  # ResNet-20 (3 stages × 3 basic blocks)
    shortcut: str = "B"  # the repo's generator uses 1×1 projection shortcuts where the shape changes
    train_examples: int = 50000  # CIFAR-10 training images used
    batch_size: int = 256  # repo: batch 256
    baseline_epochs: float = 328.0  # repo: 64k iterations × 256 ≈ 328 epochs, lr 0.1, steps at 50% / 75%
    ssl_epochs: float = 328.0  # repo: 64k iterations, lr 0.1, block_group_decay 0.007, steps at 50% / 75%
    finetune_epochs: float = 492.0  # repo: 96k iterations, lr 0.01, steps at 33% / 67%
    lr: float = 0.1
    finetune_lr: float = 0.01
    weight_decay: float = 1e-4
    lambda_depth: float = 0.007  # block_group_decay: one group per residual-branch conv layer
    zero_threshold: float = 1e-4

    def __post_init__(self):
        if self.shortcut not in ("A", "B"):
            raise ValueError("shortcut must be 'A' or 'B'")


@experiment(config=ResNetDepthConfig, metrics=(
    "baseline_accuracy_pct", "accuracy_pct", "accuracy_change_pp", "layers_removed", "depth_after"))
def resnet_depth(cfg: ResNetDepthConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Baseline ResNet, depth-wise SSL from it, fine-tuning with zeroed layers frozen; layers whose weights are
    all zero count as removed (the paper's SSL-ResNet-# counts the remaining weight layers)."""
    ds = data.load("cifar10")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ds.train), generator=g)[:cfg.train_examples]
    x = ds.normalized("train")[idx].to(device)
    y = ds.train.y[idx].to(device)
    xt, yt = ds.normalized("test").to(device), ds.test.y.to(device)
    gen = seed_everything(seed)
    model = CifarResNet(cfg.depth, shortcut=cfg.shortcut).to(device)
    augment = random_crop_flip(4)

    def stage(epochs: float, lr: float, milestones: tuple[float, float], desc: str, **hooks) -> None:
        steps = steps_for(epochs, len(x), cfg.batch_size)
        opt = _sgd(model, lr, cfg.weight_decay)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, [int(m * steps) for m in milestones], 0.1)
        train(model, shuffled_batches(x, y, cfg.batch_size, gen, augment), steps=steps, optimizer=opt,
              scheduler=sched, desc=desc, **hooks)

    stage(cfg.baseline_epochs, cfg.lr, (0.5, 0.75), "resnet baseline")
    base_acc = 100 * accuracy(model, xt, yt, 500)
    branch = [conv for b in model.blocks for conv in (b.conv1, b.conv2)]
    lasso = GroupLasso([GroupTerm(conv.weight, "depth", cfg.lambda_depth) for conv in branch])
    stage(cfg.ssl_epochs, cfg.lr, (0.5, 0.75), "resnet depth-ssl", after_backward=lasso.add_grad_,
          after_step=lambda _: zerout_(model, cfg.zero_threshold))
    frozen = FrozenZeros([conv.weight for conv in branch], "groupwise")
    stage(cfg.finetune_epochs, cfg.finetune_lr, (1 / 3, 2 / 3), "resnet finetune", after_step=frozen.apply_)
    acc = 100 * accuracy(model, xt, yt, 500)
    removed = sum(int(not conv.weight.any()) for conv in branch)
    return {"baseline_accuracy_pct": base_acc, "accuracy_pct": acc, "accuracy_change_pp": acc - base_acc,
            "layers_removed": removed, "depth_after": cfg.depth - removed}
