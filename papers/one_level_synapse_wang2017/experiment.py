"""The ablation ladder of one-level synapses on MNIST, for an MLP and for LeNet, and on CIFAR-10 for Caffe's
ConvNet (``bench/compress/cifar_convnet.py``; the paper's CIFAR-10 network is assumed to be it).

Per seed, a float network is trained (``epochs``) and continued in two arms from the same point with the same
data order for ``qr_epochs``: the **float** arm without regularizer (the "ideal system" the drop is measured
against) and the **QR** arm with the quantization regularizer. Then, from the float arm: naive quantization,
distribution-aware quantization (DQ); from the QR arm: DQ (DQ+QR), then bias tuning with the weights fixed
(DQ+QR+BT, ``bt_epochs``). Accuracy of each rung, the drop from the float arm and each step's gain.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch

from bench import data
from bench.compress import cifar_convnet
from bench.models import MLP, LeNet5
from bench.registry import ExperimentConfig, experiment
from bench.train import accuracy, classification_loss, seed_everything, shuffled_batches, steps_for, train
from papers.one_level_synapse_wang2017 import method


@dataclass
class OneLevelConfig(ExperimentConfig):
    network: str = "mlp"  # "mlp" (784-500-300-10 [assumption]), "lenet" (Caffe's LeNet) or "convnet" (CIFAR-10)
    hidden: list[int] = field(default_factory=lambda: [500, 300])
    train_examples: int = 60000
    test_examples: int = 10000
    batch_size: int = 64
    epochs: float = 10.67  # float training: Caffe's LeNet recipe (SGD lr 0.01, momentum 0.9, wd 5e-4)
    lr: float = 0.01
    weight_decay: float = 5e-4
    lr_drops: list[float] = field(default_factory=list)  # float training: lr × 0.1 at these shares of it
    qr: float = 0.1  # λ of the quantization regularizer [assumption: calibrated on a seed not used for verdicts]
    qr_epochs: float = 5.0  # training with the regularizer (and of the float arm) [assumption]
    qr_refresh: int = 50  # steps between refreshes of the DQ levels the regularizer pulls toward
    bt_epochs: float = 1.0  # bias tuning (Adam, lr 1e-3) [assumption]

    def __post_init__(self):
        if self.network not in ("mlp", "lenet", "convnet"):
            raise ValueError("network must be 'mlp', 'lenet' or 'convnet'")


METRICS = ("float_accuracy_pct", "naive_accuracy_pct", "dq_accuracy_pct", "dq_qr_accuracy_pct",
           "dq_qr_bt_accuracy_pct", "drop_pp", "dq_gain_pp", "qr_gain_pp", "bt_gain_pp", "levels_per_layer")


def _data(cfg: OneLevelConfig, seed: int, device):
    if cfg.network == "convnet":
        return cifar_convnet.cifar10(cfg, seed, device)
    ds = data.load("mnist")
    idx = torch.randperm(len(ds.train), generator=torch.Generator().manual_seed(seed))[:cfg.train_examples]
    x, xt = ds.train.x[idx].float() / 256, ds.test.x[:cfg.test_examples].float() / 256
    return x.to(device), ds.train.y[idx].to(device), xt.to(device), ds.test.y[:cfg.test_examples].to(device)


def _batches(x, y, cfg: OneLevelConfig, seed: int, salt: int):
    return shuffled_batches(x, y, cfg.batch_size, torch.Generator().manual_seed(seed * 7919 + salt))


def _sgd(model, cfg: OneLevelConfig):
    return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)


def _network(cfg: OneLevelConfig):
    if cfg.network == "mlp":
        return MLP(784, cfg.hidden, 10)
    return LeNet5() if cfg.network == "lenet" else cifar_convnet.CaffeCifarConvNet()


def ladder(cfg: OneLevelConfig, seed: int, device: torch.device) -> dict[str, float]:
    x, y, xt, yt = _data(cfg, seed, device)
    seed_everything(seed)
    net = _network(cfg).to(device)
    steps = steps_for(cfg.epochs, len(x), cfg.batch_size)
    opt = _sgd(net, cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.1 ** sum(s >= d * steps for d in cfg.lr_drops))
    train(net, _batches(x, y, cfg, seed, 1), steps=steps, optimizer=opt, scheduler=sched,
          desc=f"float {cfg.network} seed {seed}")
    steps = steps_for(cfg.qr_epochs, len(x), cfg.batch_size)
    qr_net = copy.deepcopy(net)
    train(net, _batches(x, y, cfg, seed, 2), steps=steps, optimizer=_sgd(net, cfg), desc="float continued")
    reg = method.QuantizationRegularizer(qr_net, cfg.qr, cfg.qr_refresh)
    train(qr_net, _batches(x, y, cfg, seed, 2), steps=steps, optimizer=_sgd(qr_net, cfg),
          loss_fn=lambda m, b: classification_loss(m, b) + reg(), desc="quantization regularizer")

    def acc(m):
        return 100 * accuracy(m, xt, yt)

    out = {"float_accuracy_pct": acc(net)}
    naive = copy.deepcopy(net)
    method.quantize_(naive, method.naive_levels(naive))
    out["naive_accuracy_pct"] = acc(naive)
    dq = copy.deepcopy(net)
    method.quantize_(dq, method.dq_levels(dq))
    out["dq_accuracy_pct"] = acc(dq)
    method.quantize_(qr_net, method.dq_levels(qr_net))
    out["dq_qr_accuracy_pct"] = acc(qr_net)

    for p in method.synapses(qr_net).values():
        p.requires_grad_(False)
    if cfg.bt_epochs > 0:
        opt = torch.optim.Adam([p for p in qr_net.parameters() if p.requires_grad], lr=1e-3)
        train(qr_net, _batches(x, y, cfg, seed, 3), steps=steps_for(cfg.bt_epochs, len(x), cfg.batch_size),
              optimizer=opt, desc="bias tuning")
    out["dq_qr_bt_accuracy_pct"] = acc(qr_net)
    out["levels_per_layer"] = float(method.distinct_values(qr_net))
    out["drop_pp"] = out["float_accuracy_pct"] - out["dq_qr_bt_accuracy_pct"]
    out["dq_gain_pp"] = out["dq_accuracy_pct"] - out["naive_accuracy_pct"]
    out["qr_gain_pp"] = out["dq_qr_accuracy_pct"] - out["dq_accuracy_pct"]
    out["bt_gain_pp"] = out["dq_qr_bt_accuracy_pct"] - out["dq_qr_accuracy_pct"]
    return out


@experiment(config=OneLevelConfig, metrics=METRICS)
def mnist_mlp_one_level(cfg: OneLevelConfig, seed: int, device: torch.device) -> dict[str, float]:
    """The ladder on the MNIST MLP (``cfg.network`` must be ``"mlp"``)."""
    if cfg.network != "mlp":
        raise ValueError("mnist_mlp_one_level runs the MLP: network must be 'mlp'")
    return ladder(cfg, seed, device)


@dataclass
class LeNetOneLevelConfig(OneLevelConfig):
    network: str = "lenet"


@experiment(config=LeNetOneLevelConfig, metrics=METRICS)
def mnist_lenet_one_level(cfg: LeNetOneLevelConfig, seed: int, device: torch.device) -> dict[str, float]:
    """The ladder on LeNet (``cfg.network`` must be ``"lenet"``)."""
    if cfg.network != "lenet":
        raise ValueError("mnist_lenet_one_level runs LeNet: network must be 'lenet'")
    return ladder(cfg, seed, device)


@dataclass
class ConvNetOneLevelConfig(OneLevelConfig):
    """Caffe's ``cifar10_full`` recipe for the float network (``bench/compress/cifar_convnet.py``); QR and bias
    tuning lengths are assumptions."""

    network: str = "convnet"
    train_examples: int = 50000
    batch_size: int = 100
    epochs: float = 140.0
    lr: float = 0.001
    weight_decay: float = 0.004
    lr_drops: list[float] = field(default_factory=lambda: [6 / 7, 13 / 14])
    qr_epochs: float = 10.0  # [assumption]
    bt_epochs: float = 2.0  # [assumption]


@experiment(config=ConvNetOneLevelConfig, metrics=METRICS)
def cifar10_convnet_one_level(cfg: ConvNetOneLevelConfig, seed: int, device: torch.device) -> dict[str, float]:
    """The ladder on Caffe's CIFAR-10 ConvNet (``cfg.network`` must be ``"convnet"``)."""
    if cfg.network != "convnet":
        raise ValueError("cifar10_convnet_one_level runs the ConvNet: network must be 'convnet'")
    return ladder(cfg, seed, device)
