r"""PruneTrain: group Lasso over channels during training, with periodic physical reconfiguration of a CIFAR ResNet.

**The groups** (the authors' code, as read for this suite; nothing copied). For every conv weight
:math:`W \in \mathbb{R}^{N \times C \times K \times K}`: its output channels :math:`W_{n,:,:,:}` (filters), and its
input channels :math:`W_{:,c,:,:}` for every conv except the stem (the network's first conv, which reads the image);
shortcut 1×1 convs included. The final linear layer contributes its input columns. The penalty is
:math:`\lambda \sum_g \lVert w_g \rVert_2`; :func:`group_terms` expresses it with SSL's ``GroupTerm``/``GroupLasso``
(``papers.ssl_wen2016.method``): a conv's groups are SSL's ``"filter"`` and ``"channel"`` kinds, the linear layer's
columns SSL's ``"channel"`` kind (``group_norms`` and its broadcast already handle 2-D weights). ``GroupLasso`` adds
the subgradient :math:`\lambda w / \lVert w_g \rVert_2` to the gradient (0 for an all-zero group): the gradient
autograd gives for the penalty added to the loss, wherever a group's norm is nonzero (tested).

**λ** is set once, at the first batch, so that the penalty is the fraction :math:`r = 0.2` of the regularized loss:
:math:`\lambda = r L_0 / ((1-r) R_0)` with :math:`L_0` that batch's loss and :math:`R_0` the unweighted penalty
(:func:`auto_lambda`, :func:`penalty_sum`); then it stays fixed.

**Reconfiguration** (every few epochs): first every conv and linear weight with :math:`|w| < 10^{-4}` is set to 0 in
place (:func:`zero_small_`). The authors' code means to do this but does not: it writes
``torch.where(param < threshold, 0, param)`` (no ``abs``, so every negative weight would go too) into a rebound local
name, so the parameter is never changed; we do what it intends. A channel is then *live* when a weight touching it is
nonzero (:func:`live_channels`):

- the inner channel ``j`` of a block (conv1's output, conv2's input) is live iff conv1's filter ``j`` is nonzero AND
  conv2's input slice ``j`` is nonzero. With either all zero nothing flows through it once masked (our choice: an
  all-zero conv1 filter still feeds conv2 the constant ``relu(bn1(0))``; removing the channel drops that constant, as
  zeroing its BN γ and β would, which is what the masked model :func:`masked_copy` does);
- a residual channel ``c`` of a stage is live iff it is nonzero in ANY layer meeting at the stage's join (the
  authors' union rule): the writers (the stem's filter ``c`` for stage 1, the shortcut conv's filter ``c`` for later
  stages, every block's conv2 filter ``c``) and the readers (every conv1 and shortcut reading the stage's stream,
  the linear layer's column ``c`` for the last stage). A channel dead in all of them is read by nobody, so removing
  it changes nothing, whatever its BN biases carry;
- a stage or block keeps at least one channel: if all died, the one with the largest summed squared norm of its
  slices (the lowest index on ties) is kept and named in the report's ``forced``.

:func:`reconfigure` builds a :class:`PrunableResNet` of the surviving widths (the same class), copies the surviving
slices of every conv, BN (γ, β, running mean and variance, ``num_batches_tracked``) and the linear layer, and
hands back a new optimizer over the new parameters with the same param-group hyperparameters: with ``carry_state``
the old state (SGD's momentum buffers) sliced to the surviving channels, as the authors' code slices them; without
it a fresh optimizer (their code also re-creates SGD every epoch). Tested (``tests/papers/test_prunetrain_lym2019.py``):
the shrunk network computes, in eval mode, what :func:`masked_copy` computes; the union rule keeps a channel only one
reader uses; the momentum buffers are the sliced old ones exactly.

**FLOPs** come from ``torch.utils.flop_counter.FlopCounterMode`` (:func:`train_step_flops`, :func:`inference_flops`):
it counts convolutions and matrix products (2 per multiply-add, backward included), not BatchNorm, ReLU, pooling or
the residual additions. :class:`FlopLedger` sums ``steps × per-step FLOPs`` of the architecture in force.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from bench.compress.lowrank import count_flops
from papers.ssl_wen2016.method import GroupLasso, GroupTerm

ZERO_THRESHOLD = 1e-4
PENALTY_RATIO = 0.2  # r: the penalty's share of the regularized loss at the first batch


class PrunableBlock(nn.Module):
    """``relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x))``; conv1 ``in→inner`` (stride), conv2 ``inner→out``, the
    shortcut a 1×1 conv + BN (option B) where the block downsamples, identity otherwise."""

    def __init__(self, in_w: int, inner: int, out_w: int, stride: int, downsample: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(in_w, inner, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(inner)
        self.conv2 = nn.Conv2d(inner, out_w, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_w)
        self.shortcut = nn.Sequential(nn.Conv2d(in_w, out_w, 1, stride, bias=False), nn.BatchNorm2d(out_w)) \
            if downsample else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class PrunableResNet(nn.Module):
    """CIFAR ResNet (He et al. 2016), depth ``6k+2``, with explicit widths so that a shrunk network is one too.

    ``stage_widths[s]`` is stage ``s``'s residual width (stem or shortcut output, every conv2 output, every conv1
    and shortcut input reading the stage, the linear layer's input for the last stage); ``inner_widths[b]`` block
    ``b``'s conv1 output / conv2 input (default: its stage's width). Stages after the first start with a stride-2
    block with a 1×1-conv shortcut.
    """

    def __init__(self, depth: int = 20, stage_widths: Sequence[int] = (16, 32, 64),
                 inner_widths: Sequence[int] | None = None, num_classes: int = 10, in_channels: int = 3):
        super().__init__()
        if (depth - 2) % 6 or depth < 8:
            raise ValueError(f"CIFAR ResNet depth must be 6k+2 >= 8, not {depth}")
        k = (depth - 2) // 6
        self.depth, self.blocks_per_stage, self.num_classes, self.in_channels = depth, k, num_classes, in_channels
        self.stage_widths = tuple(int(w) for w in stage_widths)
        n_blocks = k * len(self.stage_widths)
        if inner_widths is None:
            inner_widths = [self.stage_widths[b // k] for b in range(n_blocks)]
        if len(inner_widths) != n_blocks:
            raise ValueError(f"need {n_blocks} inner widths, got {len(inner_widths)}")
        self.inner_widths = tuple(int(w) for w in inner_widths)
        if min(self.stage_widths + self.inner_widths) < 1:
            raise ValueError("every width must be at least 1")
        self.conv1 = nn.Conv2d(in_channels, self.stage_widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.stage_widths[0])
        self.blocks = nn.ModuleList()
        for b, inner in enumerate(self.inner_widths):
            s, down = b // k, b // k > 0 and b % k == 0
            self.blocks.append(PrunableBlock(self.stage_widths[s - 1 if down else s], inner, self.stage_widths[s],
                                             2 if down else 1, down))
        self.fc = nn.Linear(self.stage_widths[-1], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def spec(self) -> dict:
        """The constructor's arguments: ``PrunableResNet(**net.spec())`` has the same architecture."""
        return {"depth": self.depth, "stage_widths": self.stage_widths, "inner_widths": self.inner_widths,
                "num_classes": self.num_classes, "in_channels": self.in_channels}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))  # (B, S0, H, W)
        for block in self.blocks:
            x = block(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))  # (B, classes)


def _layers(model: PrunableResNet) -> list[tuple[str, str | None, tuple | None, tuple | None]]:
    """Every conv and the linear layer as ``(name, its BN's name, output key, input key)``; a key names the channel
    space a dimension lives in: ``("stage", s)`` a residual stream, ``("inner", b)`` a block's inner channels,
    ``None`` one never pruned (the image, the logits)."""
    k, last = model.blocks_per_stage, len(model.stage_widths) - 1
    out: list = [("conv1", "bn1", ("stage", 0), None)]
    for b, block in enumerate(model.blocks):
        s = b // k
        s_in = s - 1 if block.shortcut is not None else s
        out += [(f"blocks.{b}.conv1", f"blocks.{b}.bn1", ("inner", b), ("stage", s_in)),
                (f"blocks.{b}.conv2", f"blocks.{b}.bn2", ("stage", s), ("inner", b))]
        if block.shortcut is not None:
            out.append((f"blocks.{b}.shortcut.0", f"blocks.{b}.shortcut.1", ("stage", s), ("stage", s_in)))
    return out + [("fc", None, None, ("stage", last))]


def group_terms(model: PrunableResNet, lam: float) -> list[GroupTerm]:
    """PruneTrain's groups as SSL terms: every conv's filters, every non-stem conv's input channels, the linear
    layer's input columns, all with strength ``lam``."""
    terms = []
    for name, _, okey, ikey in _layers(model):
        w = model.get_submodule(name).weight
        if okey is not None:
            terms.append(GroupTerm(w, "filter", lam))
        if ikey is not None:
            terms.append(GroupTerm(w, "channel", lam))
    return terms


def penalty_sum(model: PrunableResNet) -> float:
    """The unweighted penalty :math:`R = \\sum_g \\lVert w_g \\rVert_2` over :func:`group_terms`."""
    return GroupLasso(group_terms(model, 1.0)).penalty()


def auto_lambda(loss0: float, reg0: float, r: float = PENALTY_RATIO) -> float:
    """λ with ``λ·reg0 / (λ·reg0 + loss0) = r``: ``r·loss0 / ((1−r)·reg0)``."""
    if not 0 < r < 1 or reg0 <= 0:
        raise ValueError(f"need 0 < r < 1 and reg0 > 0, got r={r}, reg0={reg0}")
    return r * loss0 / ((1 - r) * reg0)


@torch.no_grad()
def zero_small_(model: nn.Module, threshold: float = ZERO_THRESHOLD) -> None:
    """In place, set every conv and linear weight with ``|w| < threshold`` to 0 (what the authors' code intends)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            m.weight.masked_fill_(m.weight.abs() < threshold, 0.0)


def _per_channel(w: torch.Tensor, dim: int) -> torch.Tensor:
    """``w`` as ``(channels along dim, rest)``."""
    return w.transpose(0, dim).reshape(w.shape[dim], -1)


@torch.no_grad()
def live_channels(model: PrunableResNet) -> dict:
    """The surviving channels: ``{"stage": [index tensor per stage], "inner": [per block], "forced": [names]}``,
    indexes ascending; ``forced`` names the stages/blocks that lost every channel and keep their largest-norm one."""
    alive: dict = {}
    norm2: dict = {}
    for name, _, okey, ikey in _layers(model):
        w = model.get_submodule(name).weight
        for key, dim in ((okey, 0), (ikey, 1)):
            if key is None:
                continue
            nz, n2 = (_per_channel(w, dim) != 0).any(1), _per_channel(w, dim).pow(2).sum(1)
            if key in alive:  # a residual stream takes the union over its join, a block's inner the intersection
                alive[key] = alive[key] | nz if key[0] == "stage" else alive[key] & nz
                norm2[key] = norm2[key] + n2
            else:
                alive[key], norm2[key] = nz, n2
    out: dict = {"stage": [], "inner": [], "forced": []}
    for key in sorted(alive):
        idx = alive[key].nonzero().flatten()
        if len(idx) == 0:
            idx = norm2[key].argmax().reshape(1)
            out["forced"].append(f"{key[0]} {key[1]}")
        out[key[0]].append(idx.cpu())
    return out


def _dims(live: dict, key: tuple | None) -> torch.Tensor | None:
    return None if key is None else live[key[0]][key[1]]


@torch.no_grad()
def masked_copy(model: PrunableResNet, live: dict | None = None) -> PrunableResNet:
    """A deep copy with every removed channel silenced: its producers' filters and BN γ, β and its consumers' slices
    set to 0, so its activations are exactly 0 in eval mode. What :func:`reconfigure`'s network computes."""
    live = live_channels(model) if live is None else live
    out = copy.deepcopy(model)
    for name, bn, okey, ikey in _layers(out):
        w = out.get_submodule(name).weight
        for key, dim in ((okey, 0), (ikey, 1)):
            if key is None:
                continue
            dead = torch.ones(w.shape[dim], dtype=torch.bool)
            dead[_dims(live, key)] = False
            w.transpose(0, dim)[dead.to(w.device)] = 0.0
            if dim == 0 and bn is not None:
                out.get_submodule(bn).weight[dead.to(w.device)] = 0.0
                out.get_submodule(bn).bias[dead.to(w.device)] = 0.0
    return out


def _take(t: torch.Tensor, rows: torch.Tensor | None, cols: torch.Tensor | None) -> torch.Tensor:
    """``t[rows][:, cols]`` with ``None`` keeping a dimension whole."""
    t = t if rows is None else t.index_select(0, rows.to(t.device))
    return t if cols is None else t.index_select(1, cols.to(t.device))


def n_params(model: nn.Module) -> int:
    """The number of learnable values."""
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def reconfigure(model: PrunableResNet, optimizer: torch.optim.Optimizer | None = None, carry_state: bool = True
                ) -> tuple[PrunableResNet, torch.optim.Optimizer | None, dict]:
    """Rebuild ``model`` with only its live channels (:func:`live_channels`; call :func:`zero_small_` first).

    Returns the new network (same device, dtype and train/eval mode), a new optimizer of ``optimizer``'s class over
    its parameters with the same param-group hyperparameters (``None`` without ``optimizer``; with ``carry_state``
    every state tensor shaped like its parameter, SGD's momentum buffer, is sliced like it, other state copied), and a
    report: widths and parameter counts before and after, and the ``forced`` stages/blocks.
    """
    live = live_channels(model)
    spec = dict(model.spec(), stage_widths=[len(i) for i in live["stage"]],
                inner_widths=[len(i) for i in live["inner"]])
    ref = next(model.parameters())
    new = PrunableResNet(**spec).to(device=ref.device, dtype=ref.dtype).train(model.training)
    cuts: dict = {}  # state-dict entry → (rows, cols)
    for name, bn, okey, ikey in _layers(model):
        rows, cols = _dims(live, okey), _dims(live, ikey)
        cuts[f"{name}.weight"], cuts[f"{name}.bias"] = (rows, cols), (rows, None)
        for entry in ("weight", "bias", "running_mean", "running_var") if bn else ():
            cuts[f"{bn}.{entry}"] = (rows, None)
    new.load_state_dict({k: _take(v, *cuts.get(k, (None, None))) for k, v in model.state_dict().items()})
    report = {"stage_widths_before": model.stage_widths, "stage_widths_after": new.stage_widths,
              "inner_widths_before": model.inner_widths, "inner_widths_after": new.inner_widths,
              "params_before": n_params(model), "params_after": n_params(new), "forced": live["forced"]}
    if optimizer is None:
        return new, None, report
    names = {id(p): n for n, p in model.named_parameters()}
    new_params = dict(new.named_parameters())
    groups = [{**{k: v for k, v in g.items() if k != "params"},
               "params": [new_params[names[id(p)]] for p in g["params"]]} for g in optimizer.param_groups]
    new_opt = type(optimizer)(groups, **optimizer.defaults)
    if carry_state:
        for p, state in optimizer.state.items():
            name = names[id(p)]
            rows, cols = cuts.get(name, (None, None))
            new_opt.state[new_params[name]] = {
                k: _take(v, rows, cols).clone() if torch.is_tensor(v) and v.shape == p.shape else copy.deepcopy(v)
                for k, v in state.items()}
    return new, new_opt, report


def _random_batch(model: nn.Module, batch_shape: Sequence[int]) -> torch.Tensor:
    ref = next(model.parameters())
    return torch.randn(*batch_shape, device=ref.device, dtype=ref.dtype)


def train_step_flops(model: nn.Module, batch_shape: Sequence[int] = (128, 3, 32, 32)) -> int:
    """FLOPs of one training step's forward and backward pass (cross-entropy on random data, train mode), counted by
    ``FlopCounterMode`` on a deep copy: ``model``'s weights, gradients, BN statistics and mode are untouched."""
    net = copy.deepcopy(model).train()
    x = _random_batch(net, batch_shape)
    with FlopCounterMode(display=False) as counter:
        logits = net(x)
        F.cross_entropy(logits, torch.randint(logits.shape[1], (len(x),), device=x.device)).backward()
    return int(counter.get_total_flops())


def inference_flops(model: nn.Module, batch_shape: Sequence[int] = (1, 3, 32, 32)) -> int:
    """FLOPs of one forward pass in eval mode (``bench.compress.lowrank.count_flops``; ``model``'s mode restored)."""
    with torch.no_grad():
        return count_flops(model, _random_batch(model, batch_shape))


class FlopLedger:
    """The training FLOPs of a run whose architecture changes: :meth:`add` books ``steps`` steps of the network in
    force (its per-step count cached by architecture and batch size); ``total`` is the sum."""

    def __init__(self, input_hw: tuple[int, int] = (32, 32)):
        self.input_hw = tuple(input_hw)
        self.total = 0
        self.entries: list[dict] = []
        self._per_step: dict = {}

    def add(self, model: PrunableResNet, steps: int, batch_size: int) -> int:
        """Book ``steps`` training steps of ``model`` at ``batch_size``; returns the FLOPs added."""
        key = (repr(model.spec()), batch_size)
        if key not in self._per_step:
            self._per_step[key] = train_step_flops(model, (batch_size, model.in_channels, *self.input_hw))
        flops = steps * self._per_step[key]
        self.total += flops
        self.entries.append({"spec": model.spec(), "steps": steps, "batch_size": batch_size, "flops": flops})
        return flops
