"""Mutants of P-RM (``bench/mutants.py``).

- ``forward-only-path-removal``: unused path removal walks one way only. A filter (output channel) that is all
  zero still removes the channel group of the next layer that reads it, but a channel group that is all zero no
  longer removes the filter producing it. The intact cpu run gets all of P-RM's gain (2.26x) from unread fc1
  neurons and conv2 filters (the backward direction), so ``prm_gain`` should fall below 1.2 and break
  ``prm-adds-compression``; ``lenet-232x`` is judged too (its rate falls; its loss is not reproduced intact).

- ``prm-on-a-copy``: purification and unused path removal both act on a copy of the network (as when they are
  applied to a state-dict copy and the original model is retrained), so the model keeps the ADMM rate:
  ``prm_gain`` falls to 1 and should break ``prm-adds-compression``.

``experiment.py`` calls ``method.remove_unused_paths`` at run time (for ``unused_path_rate`` and in P-RM), so the
mutant patches that module attribute with the forward-only version below (the original's loop without the
``dead_groups`` direction).
"""

from __future__ import annotations

from unittest import mock

import torch
from torch import nn

from bench.mutants import mutant
from papers.prm_ma2019 import method


@torch.no_grad()
def _forward_only(model: nn.Module, links=method.LENET_LINKS) -> int:
    """``method.remove_unused_paths`` without removing the filters whose output channel nobody reads."""
    removed = 0
    changed = True
    while changed:
        changed = False
        for prev, layer, size in links:
            p, m = model.get_submodule(prev), model.get_submodule(layer)
            pw = p.weight.reshape(p.weight.shape[0], -1)
            g = method._groups(m.weight, size)
            dead_filters = ~(pw != 0).any(1)
            newly = int((g[:, dead_filters] != 0).sum())
            if newly:
                removed += newly
                changed = True
            g[:, dead_filters] = 0
            if p.bias is not None:
                p.bias[dead_filters] = 0
    return removed


@mutant("forward-only-path-removal")
def forward_only_path_removal():
    """Unused path removal without its backward direction (unread filters are kept)."""
    with mock.patch.object(method, "remove_unused_paths", _forward_only):
        yield


def _on_a_copy(model: nn.Module, *args, **kwargs) -> int:
    """Purification or path removal on a copy of the network: the network itself is left as it was."""
    return 0


@mutant("prm-on-a-copy")
def prm_on_a_copy():
    """P-RM's two steps run on a copy of the network; the network retrained is the ADMM one."""
    with mock.patch.object(method, "purify", _on_a_copy), mock.patch.object(method, "remove_unused_paths", _on_a_copy):
        yield
