"""P-RM on LeNet-5: network purification and unused path removal after filter+column ADMM pruning.

Layers are read as ``W.reshape(out, −1)`` matrices whose columns come in *channel groups*: the
``k·k`` columns of one input channel of a conv, the ``4·4`` columns of fc1 fed by one conv2 filter, the single
column of fc2 fed by one fc1 neuron. Output channel ``c`` of a layer feeds channel group ``c`` of the next.

- **Unused path removal** (exact on the path, repeated to a fixed point): an output channel whose filter is all
  zero feeds nothing, so the next layer's channel group reading it is removed; a channel group that is all zero
  reads nothing, so the filter producing it is removed. A removed filter's bias goes too [the constant it
  would still feed the next layer is dropped, and the measured accuracy says what that costs].
- **Network purification** [assumption: the paper defines an emptiness ratio ``η`` and an importance score
  ``σ``, whose formulas were not reachable]: within a layer, a channel group or a filter whose share of zero
  weights is at least ``emptiness`` and whose L2 norm is at most ``importance`` × the mean norm of the
  layer's nonzero groups of the same kind is removed — the nearly empty, weak leftovers that column pruning
  leaves scattered over channels.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

# (previous layer, layer, columns per channel group)
LENET_LINKS = (("conv1", "conv2", 25), ("conv2", "fc1", 16), ("fc1", "fc2", 1))


def _groups(w: torch.Tensor, size: int) -> torch.Tensor:
    """``W`` as ``(out, channels, size)``: the columns of each channel group."""
    return w.reshape(w.shape[0], -1, size)


@torch.no_grad()
def remove_unused_paths(model: nn.Module, links=LENET_LINKS) -> int:
    """Zero the filters and channel groups on dead paths until nothing changes; return how many weights went."""
    removed = 0
    changed = True
    while changed:
        changed = False
        for prev, layer, size in links:
            p, m = model.get_submodule(prev), model.get_submodule(layer)
            pw = p.weight.reshape(p.weight.shape[0], -1)
            g = _groups(m.weight, size)  # (out, channels, size): a view of m.weight
            dead_filters = ~(pw != 0).any(1)  # output channels of prev that are all zero
            dead_groups = ~(g != 0).any(0).any(1)  # channel groups of layer that are all zero
            newly = (g[:, dead_filters] != 0).sum() + (pw[dead_groups] != 0).sum()
            if int(newly):
                removed += int(newly)
                changed = True
            g[:, dead_filters] = 0
            pw[dead_groups] = 0
            if p.bias is not None:
                p.bias[dead_groups | dead_filters] = 0
    return removed


def _weak_empty(rows: torch.Tensor, emptiness: float, importance: float) -> torch.Tensor:
    """Which rows (groups) are alive, at least ``emptiness`` zero, and at most ``importance`` × mean norm."""
    nz = rows != 0
    alive = nz.any(1)
    if int(alive.sum()) == 0:
        return alive
    norms = rows.double().norm(dim=1)
    return alive & (1 - nz.double().mean(1) >= emptiness) & (norms <= importance * norms[alive].mean())


@torch.no_grad()
def purify(model: nn.Module, emptiness: float, importance: float, links=LENET_LINKS) -> int:
    """Remove nearly empty, weak channel groups and filters (module docstring); return the weights removed."""
    before = nonzero({n: model.get_submodule(n).weight for n in _names(links)})
    for _, layer, size in links:  # channel groups of a layer's input
        if size > 1:
            g = _groups(model.get_submodule(layer).weight, size)  # (out, channels, size), a view
            cut = _weak_empty(g.transpose(0, 1).reshape(g.shape[1], -1), emptiness, importance)
            g[:, cut] = 0
    for prev, _, _ in links:  # filters (rows) of every layer that feeds another
        w = model.get_submodule(prev).weight
        rows = w.reshape(w.shape[0], -1)  # a view
        rows[_weak_empty(rows, emptiness, importance)] = 0
    return before - nonzero({n: model.get_submodule(n).weight for n in _names(links)})


def _names(links) -> list[str]:
    return list(dict.fromkeys(n for prev, layer, _ in links for n in (prev, layer)))


def nonzero(weights: Mapping[str, torch.Tensor]) -> int:
    return sum(int((w != 0).sum()) for w in weights.values())
