"""Group Scissor's two steps on a network of ``Conv2d``/``Linear`` layers: rank clipping, then group connection
deletion, with the crossbar accounting of ``bench/hardware/crossbar.py``.

**Rank clipping** (the authors' ``lowrank_netsolver.py``): every layer but the classifier is turned, at full
rank, into two factors, a low-rank layer of ``K`` outputs (a conv keeps its kernel, stride and padding; no bias)
and a linear layer ``K → out`` (a 1×1 conv for a conv; the bias). Training goes on, and every ``clip_every``
iterations each layer is brought to the smallest rank whose SVD keeps the ``energy`` share of the squared
singular values (:func:`clip_ranks`), both factors re-made from the truncated SVD and trained on.

**Deployment** (:func:`deploy`): a layer stays as two crossbar matrices only where they hold fewer cells than
the dense matrix (``K·(in + out) < in·out``); otherwise the product is mapped. :func:`matrices` lists what is
mapped; :func:`cells`, :func:`crossbar_count` and :func:`wires` measure it.

**Group connection deletion**: a group Lasso over the wires of every mapped matrix (``crossbar.wire_lasso``:
each input row segment and output column segment of each crossbar tile is a group) is added to the training
loss; then every wire whose weights' norm is below a threshold is deleted (:func:`delete_wires`) and the rest
fine-tuned with the deleted weights held at zero.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from bench.compress import lowrank
from bench.compress.admm import Masks
from bench.hardware import crossbar as xb

LAYER_TYPES = (nn.Conv2d, nn.Linear)


def _dense_weight(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The dense weight and bias a plain or factored (``nn.Sequential`` of two) layer computes."""
    if isinstance(module, LAYER_TYPES):
        return module.weight.detach(), None if module.bias is None else module.bias.detach()
    first, second = module
    k = first.weight.shape[0]
    w = second.weight.detach().reshape(second.weight.shape[0], k) @ first.weight.detach().reshape(k, -1)
    bias = None if second.bias is None else second.bias.detach()
    return w.reshape(second.weight.shape[0], *first.weight.shape[1:]), bias


def _template(module: nn.Module) -> nn.Module:
    """The plain layer whose geometry (stride, padding) a plain or factored layer has."""
    return module if isinstance(module, LAYER_TYPES) else module[0]


def _dense_layer(module: nn.Module) -> nn.Module:
    """A plain layer computing what ``module`` (plain or factored) computes."""
    w, b = _dense_weight(module)
    t = _template(module)
    if isinstance(t, nn.Conv2d):
        layer = nn.Conv2d(w.shape[1], w.shape[0], t.kernel_size, t.stride, t.padding, t.dilation,
                          bias=b is not None, padding_mode=t.padding_mode)
    else:
        layer = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
    layer = layer.to(device=w.device, dtype=w.dtype)
    with torch.no_grad():
        layer.weight.copy_(w)
        if b is not None:
            layer.bias.copy_(b)
    return layer


def full_rank(module: nn.Module) -> int:
    w, _ = _dense_weight(module)
    return min(w.shape[0], w[0].numel())


def rank(module: nn.Module) -> int:
    """The rank a layer is held at: its factors' width, or its full rank when plain."""
    return full_rank(module) if isinstance(module, LAYER_TYPES) else module[0].weight.shape[0]


def factored(module: nn.Module, k: int) -> nn.Sequential:
    """``module`` (plain or factored) as two factors of rank ``k`` from the truncated SVD (``√σ`` in each)."""
    dense = _dense_layer(module)
    if isinstance(dense, nn.Conv2d):
        return lowrank.decomposed_conv(dense, "channel", k, balance=0.5)
    u, s, vh = torch.linalg.svd(dense.weight.detach().double(), full_matrices=False)
    first = nn.Linear(dense.in_features, k, bias=False)
    second = nn.Linear(k, dense.out_features, bias=dense.bias is not None)
    first, second = first.to(dense.weight), second.to(dense.weight)
    with torch.no_grad():
        first.weight.copy_((s[:k, None].sqrt() * vh[:k]).to(dense.weight.dtype))
        second.weight.copy_((u[:, :k] * s[:k].sqrt()).to(dense.weight.dtype))
        if dense.bias is not None:
            second.bias.copy_(dense.bias)
    return nn.Sequential(first, second)


def factorize(model: nn.Module, names: Iterable[str]) -> None:
    """Replace each named layer by its two factors at full rank (exact), in place."""
    for name in names:
        module = model.get_submodule(name)
        model.set_submodule(name, factored(module, full_rank(module)))


def clip_ranks(model: nn.Module, names: Iterable[str], energy: float) -> dict[str, int]:
    """Clip each named layer to the smallest rank keeping ``energy`` of its squared singular values.

    A layer is re-factored only where that rank is below its current one (ranks never grow). Returns the ranks.
    """
    ranks = {}
    for name in names:
        module = model.get_submodule(name)
        w, _ = _dense_weight(module)
        k = lowrank.energy_rank(torch.linalg.svdvals(w.reshape(w.shape[0], -1).double()), energy)
        if k < rank(module):
            model.set_submodule(name, factored(module, k))
        ranks[name] = rank(model.get_submodule(name))
    return ranks


def _io(module: nn.Module) -> tuple[int, int]:
    w, _ = _dense_weight(module)
    return w[0].numel(), w.shape[0]


def deploy(model: nn.Module, names: Iterable[str]) -> dict[str, bool]:
    """Map each named layer as two factors only where they hold fewer cells than the dense matrix; otherwise
    replace it by the dense product, in place. Returns name → mapped as factors."""
    out = {}
    for name in names:
        module = model.get_submodule(name)
        inp, outp = _io(module)
        keep = not isinstance(module, LAYER_TYPES) and rank(module) * (inp + outp) < inp * outp
        if not keep and not isinstance(module, LAYER_TYPES):
            model.set_submodule(name, _dense_layer(module))
        out[name] = keep
    return out


def matrices(model: nn.Module) -> dict[str, nn.Parameter]:
    """Every weight mapped onto crossbars: the weight of each plain ``Conv2d``/``Linear`` module."""
    return {n: m.weight for n, m in model.named_modules() if isinstance(m, LAYER_TYPES)}


def cells(model: nn.Module) -> int:
    """Cross-points of the mapped matrices (a conv lowered to ``(out, in·kh·kw)``)."""
    return sum(w.numel() for w in matrices(model).values())


def crossbar_count(model: nn.Module, cfg: xb.CrossbarConfig = xb.CROSSBAR_64) -> int:
    """S×S crossbars tiling the mapped matrices densely."""
    return sum(xb.crossbars(w[0].numel(), w.shape[0], cfg) for w in matrices(model).values())


def wires(model: nn.Module, cfg: xb.CrossbarConfig = xb.CROSSBAR_64) -> int:
    """Routing wires of the mapped matrices (``crossbar.routing_wires``: used row and column segments)."""
    return sum(xb.routing_wires(w, cfg) for w in matrices(model).values())


def wire_lasso(model: nn.Module, cfg: xb.CrossbarConfig = xb.CROSSBAR_64) -> torch.Tensor:
    """The group Lasso over the wires of every mapped matrix."""
    return sum(xb.wire_lasso(w, cfg) for w in matrices(model).values())


def delete_wires(model: nn.Module, threshold: float, cfg: xb.CrossbarConfig = xb.CROSSBAR_64) -> Masks:
    """Delete every wire whose weights' L2 norm is below ``threshold`` (its weights set to zero); the masks
    hold them at zero through fine-tuning."""
    return Masks({n: (w, xb.wire_mask(w, threshold, cfg)) for n, w in matrices(model).items()})
