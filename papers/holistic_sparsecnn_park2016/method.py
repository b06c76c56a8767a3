"""Holistic SparseCNN's pruning (SkimCaffe's L1 with the gradient-aware threshold), its guidance by a per-layer
performance model, and the deployment of a pruned network layer by layer in the faster of the dense and CSR forms.

**Pruning** (``IntelLabs/SkimCaffe``, ``src/caffe/solvers/sgd_solver.cpp``, regularization type ``L1`` with
``max_threshold_factor`` ≥ 2; read, not copied): the L1 term adds ``λ·sign(w)`` to the gradient; after every
update each weight is zeroed if ``|w_i| ≤ th_i`` with

    th_i = 1 / (α·|d_i| + β),   α = 1/th₀,   β = 1/(factor·th₀),

so a weight whose ``d_i`` is 0 is cut below ``factor·th₀`` and one with a large ``d_i`` only below about ``th₀``.
The code's comment calls ``d_i`` the derivative of the loss, but it reads the blob's diff after
``ComputeUpdateValue``, which then holds the update (learning rate times gradient plus L1, plus momentum history).
This follows the code: ``d_i`` is the step the optimizer just took, ``lr·|momentum buffer|`` for PyTorch's SGD
(equal to Caffe's history at a fixed learning rate). The recipe's values: th₀ = 1e-4, factor 10
(``models/bvlc_reference_caffenet/train_script.sh 0.001 5e-5 0.0001 10``). Pruned weights may grow back; the
threshold cuts them again while they stay small. The second phase, fine-tuning with L2 at fixed sparsity, is
``bench.compress.admm.masked_retrain``.

**Guidance** [assumption: the paper's guided sparsity learning is only in the paper and in which layers the
``*_gesl*`` prototxts give L1]: a layer is pruned only if its performance model says a sparse kernel can beat the
dense one at a sparsity pruning can reach. The performance model here is not the paper's analytic one but a
measurement on this machine: the crossover sparsity of the layer's shape (``bench.compress.sparse_conv.crossover``).
Layers whose crossover is above ``reach`` stay dense and unregularised.

**Deployment**: each prunable layer runs in whichever of its dense and CSR forms is faster on its trained weights,
timed side by side (:func:`choose_forms`); the network's time is then measured whole (:func:`deployed`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

import torch
from torch import nn

from bench.compress.sparse_conv import CSRLayer, conv_pair, crossover, csr_linear
from bench.latency import median_speedups, time_interleaved

TH0 = 1e-4  # train_script.sh's threshold
FACTOR = 10  # train_script.sh's threshold factor (max_threshold_factor)


def prunable(model: nn.Module) -> dict[str, nn.Module]:
    """The conv and fully connected layers, by name, in order."""
    return {n: m for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}


class GradientAwareL1:
    """SkimCaffe's L1 regularisation with the gradient-aware threshold on the weights of ``layers``.

    Use :meth:`add_grad_` as the training loop's ``after_backward`` hook and :meth:`threshold_` as its
    ``after_step`` hook; the optimizer must be ``torch.optim.SGD`` (the threshold reads its momentum buffer).
    """

    def __init__(self, layers: Mapping[str, nn.Module], optimizer: torch.optim.SGD, lam: float, th0: float = TH0,
                 factor: float = FACTOR):
        if factor < 2:
            raise ValueError("the gradient-aware threshold needs factor >= 2 (SkimCaffe's max_threshold_factor)")
        self.weights = {n: m.weight for n, m in layers.items()}
        self.optimizer, self.lam = optimizer, lam
        self.alpha, self.beta = 1 / th0, 1 / (factor * th0)

    @torch.no_grad()
    def add_grad_(self, step: int | None = None) -> None:
        for w in self.weights.values():
            if w.grad is not None:
                w.grad.add_(torch.sign(w), alpha=self.lam)

    def _lr(self, w: nn.Parameter) -> float:
        for group in self.optimizer.param_groups:
            if any(p is w for p in group["params"]):
                return group["lr"]
        raise KeyError("a regularised weight is not in the optimizer")

    @torch.no_grad()
    def threshold_(self, step: int | None = None) -> None:
        for w in self.weights.values():
            buf = self.optimizer.state.get(w, {}).get("momentum_buffer")
            update = (w.grad if buf is None else buf).abs() * self._lr(w)
            th = 1 / (self.alpha * update + self.beta)
            w.masked_fill_(w.abs() <= th, 0)


def sparsity(module: nn.Module) -> float:
    w = module.weight
    return float((w == 0).sum()) / w.numel()


def layer_shapes(model: nn.Module, example: torch.Tensor) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """Per prunable layer: its weight shape and its input shape for ``example`` (fully connected layers as 1×1
    convolutions), recorded by forward hooks."""
    shapes, hooks = {}, []
    for name, m in prunable(model).items():
        def hook(mod, inputs, _out, name=name):
            x = inputs[0]
            if isinstance(mod, nn.Linear):
                shapes[name] = ((*mod.weight.shape, 1, 1), (x.shape[0], x.shape[1], 1, 1))
            else:
                shapes[name] = (tuple(mod.weight.shape), tuple(x.shape))
        hooks.append(m.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in hooks:
            h.remove()
    return shapes


def crossovers(model: nn.Module, example: torch.Tensor, grid: Iterable[float], seed: int = 0,
               rounds: int = 30) -> dict[str, float]:
    """The performance model: per prunable layer, the smallest sparsity of ``grid`` at which its CSR form beats
    its dense form on this machine (1.0: at none), for inputs shaped like ``example``."""
    out = {}
    layers = prunable(model)
    for name, (w_shape, x_shape) in layer_shapes(model, example).items():
        m = layers[name]
        conv = isinstance(m, nn.Conv2d)
        out[name] = crossover(w_shape, x_shape, sorted(grid), stride=m.stride[0] if conv else 1,
                              padding=m.padding[0] if conv else 0, groups=m.groups if conv else 1, seed=seed,
                              rounds=rounds)
    return out


def guided_layers(crossover_by_layer: Mapping[str, float], reach: float) -> list[str]:
    """The layers the guidance prunes: those whose crossover sparsity is at most ``reach``."""
    return [n for n, c in crossover_by_layer.items() if c <= reach]


def _pair(m: nn.Module, x: torch.Tensor):
    if isinstance(m, nn.Conv2d):
        return conv_pair(m.weight.detach(), x, stride=m.stride[0], padding=m.padding[0], groups=m.groups)
    run = csr_linear(m.weight)
    w = m.weight.detach()
    return {"dense": lambda: x @ w.T, "csr": lambda: run(x)}


def choose_forms(model: nn.Module, example: torch.Tensor, rounds: int = 30) -> dict[str, tuple[str, float]]:
    """Per prunable layer: the faster form on its trained weights (``"dense"`` or ``"csr"``) and the CSR form's
    speedup over dense, timed side by side on inputs shaped like ``example``'s."""
    inputs = {}
    hooks = [m.register_forward_hook(lambda mod, i, o, n=n: inputs.__setitem__(n, i[0].detach()))
             for n, m in prunable(model).items()]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in hooks:
            h.remove()
    out = {}
    with torch.no_grad():
        for name, m in prunable(model).items():
            speedup = median_speedups(time_interleaved(_pair(m, inputs[name]), example.device, rounds=rounds))["csr"]
            out[name] = ("csr" if speedup > 1 else "dense", speedup)
    return out


def deployed(model: nn.Module, forms: Mapping[str, str]) -> nn.Module:
    """A copy of ``model`` (eval mode) whose layers named in ``forms`` with ``"csr"`` run in CSR form."""
    out = copy.deepcopy(model).eval()
    for name, form in forms.items():
        if form == "csr":
            parent, _, attr = name.rpartition(".")
            holder = out.get_submodule(parent) if parent else out
            setattr(holder, attr, CSRLayer(getattr(holder, attr)))
    return out
