"""Reversible SNN (papers/revsnn_lei2023): the reversible node and layer against plain autograd."""

import pytest
import torch

from bench.metrics.memory import saved_tensors
from papers.revsnn_lei2023.experiment import SpikingMLP, step_memory
from papers.revsnn_lei2023.method import (
    ReversibleLayer,
    ReversibleNode,
    StandardNode,
    coupled_node,
    invert_node,
)


def _input(seed=0, shape=(4, 8, 16)):
    torch.manual_seed(seed)
    return (2 * torch.randn(*shape, dtype=torch.float64)).requires_grad_(True)


def test_the_node_inverts_exactly():
    node = ReversibleNode().double()
    x = _input().detach()
    torch.testing.assert_close(invert_node(coupled_node(x, node.a, node.b), node.a, node.b), x)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reversible_node_gradients_equal_the_standard_autograd_ones(seed):
    node = ReversibleNode().double()
    x = _input(seed)
    g = torch.randn(4, 8, 16, dtype=torch.float64)
    y = node(x)
    (y * g).sum().backward()
    grad_rev = x.grad.clone()
    x.grad = None
    y_ref = coupled_node(x, node.a, node.b)
    (y_ref * g).sum().backward()
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(grad_rev, x.grad, rtol=1e-10, atol=1e-12)


def test_reversible_layer_gradients_equal_the_standard_autograd_ones():
    layer = ReversibleLayer(16).double()
    x = _input(3)
    g = torch.randn(4, 8, 16, dtype=torch.float64)
    (layer(x) * g).sum().backward()
    grads = [x.grad.clone()] + [p.grad.clone() for p in layer.parameters()]
    x.grad = None
    layer.zero_grad(set_to_none=True)
    x1, x2 = x.chunk(2, dim=-1)
    y1 = x1 + layer.f(x2)
    (torch.cat([y1, x2 + layer.g(y1)], dim=-1) * g).sum().backward()
    for got, want in zip(grads, [x.grad] + [p.grad for p in layer.parameters()], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_the_reversible_node_saves_only_its_output():
    x = _input().float().detach().requires_grad_(True)
    with saved_tensors() as saved:
        y = ReversibleNode()(x)
    y.sum().backward()
    assert saved.activation_bytes == y.numel() * 4
    with saved_tensors() as standard:
        s = StandardNode()(x)
    s.sum().backward()
    assert standard.activation_bytes > y.numel() * 4


def test_in_a_network_the_reversible_nodes_add_nothing_and_standard_nodes_do():
    x, y = torch.rand(16, 1, 28, 28), torch.randint(0, 10, (16,))
    total_std, nodes_std = step_memory(SpikingMLP("standard", hidden=32, steps=3), x, y)
    total_rev, nodes_rev = step_memory(SpikingMLP("revnode", hidden=32, steps=3), x, y)
    assert nodes_rev == 0 < nodes_std
    assert total_rev < total_std


def test_odd_channels_are_refused():
    with pytest.raises(ValueError, match="odd"):
        ReversibleNode()(torch.randn(2, 3, 5))
    with pytest.raises(ValueError, match="odd"):
        ReversibleLayer(5)
