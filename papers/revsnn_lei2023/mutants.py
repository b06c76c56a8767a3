"""Mutants of the reversible SNN node (bench/mutants.py).

- ``node-keeps-states``: ``ReversibleNode.forward`` runs the coupled node by plain autograd, which keeps every
  LIF state for backward, as a node that is reversible on paper but not in its implementation: it should break
  ``node-memory`` (``fmnist_nodes``).
- ``coupling-gradient-dropped``: ``ReversibleNodeFunction.backward`` drops the cross term of Y₂ = X₂ + LIF_b(Y₁)
  (dY₂ is not carried into dY₁ through LIF_b), a hand-written backward's typical slip: gradients become wrong and
  the network should learn less, breaking ``accuracy-kept`` (``fmnist_nodes``).
"""

from __future__ import annotations

from unittest import mock

import torch

from bench.mutants import mutant
from papers.revsnn_lei2023 import method


def _keeps_states(self, x):
    return method.coupled_node(x, self.a, self.b)


def _backward_without_cross_term(ctx, grad_y):
    (y,) = ctx.saved_tensors
    dy1, dy2 = grad_y.chunk(2, dim=-1)
    y1, y2 = (t.detach() for t in y.chunk(2, dim=-1))
    with torch.no_grad():
        x2 = y2 - method.lif_sequence(ctx.b, y1)
    with torch.enable_grad():
        x2_ = x2.requires_grad_(True)
        (g_x2,) = torch.autograd.grad(method.lif_sequence(ctx.a, x2_), x2_, dy1)
    return torch.cat([dy1, dy2 + g_x2], dim=-1), None, None


@mutant("node-keeps-states")
def node_keeps_states():
    """The reversible node computed by plain autograd: every state kept."""
    with mock.patch.object(method.ReversibleNode, "forward", _keeps_states):
        yield


@mutant("coupling-gradient-dropped")
def coupling_gradient_dropped():
    """The reversible node's backward without the gradient through LIF_b."""
    with mock.patch.object(method.ReversibleNodeFunction, "backward", staticmethod(_backward_without_cross_term)):
        yield
