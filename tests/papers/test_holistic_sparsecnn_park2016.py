"""Holistic SparseCNN's pieces: CSR convolutions exact against the dense operators (groups, stride, padding), the
gradient-aware threshold by hand, the guidance rule, and a deployed network computing what the trained one does."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bench.compress.cifar_convnet import CaffeCifarConvNet
from bench.compress.sparse_conv import csr_conv2d, csr_linear, random_support
from papers.holistic_sparsecnn_park2016 import method


@pytest.mark.parametrize("w_shape,x_shape,stride,padding,groups", [
    ((32, 3, 5, 5), (2, 3, 12, 12), 1, 2, 1),
    ((8, 4, 3, 3), (1, 8, 9, 9), 2, 1, 2),
    ((6, 2, 1, 1), (1, 6, 5, 5), 1, 0, 3),
])
def test_csr_conv_equals_dense_conv(w_shape, x_shape, stride, padding, groups):
    g = torch.Generator().manual_seed(0)
    w = random_support(w_shape, 0.7, g)
    b, x = torch.randn(w_shape[0], generator=g), torch.randn(*x_shape, generator=g)
    ref = F.conv2d(x, w, b, stride=stride, padding=padding, groups=groups)
    assert torch.allclose(csr_conv2d(w, b, stride=stride, padding=padding, groups=groups)(x), ref, atol=1e-5)


def test_csr_linear_equals_linear():
    g = torch.Generator().manual_seed(1)
    w, b, x = random_support((10, 40), 0.9, g), torch.randn(10, generator=g), torch.randn(3, 40, generator=g)
    assert torch.allclose(csr_linear(w, b)(x), F.linear(x, w, b), atol=1e-6)


def test_random_support_has_the_exact_sparsity():
    w = random_support((10, 10), 0.37, torch.Generator().manual_seed(2))
    assert int((w == 0).sum()) == 37


def test_gradient_aware_threshold_by_hand():
    layer = nn.Linear(4, 1, bias=False)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[9e-4, 9e-4, 2e-4, 0.5]]))
    # the step each weight just took: lr * |momentum buffer| = 0, 1, 1e-3, 0
    opt.state[layer.weight]["momentum_buffer"] = torch.tensor([[0.0, 10.0, 1e-2, 0.0]])
    l1 = method.GradientAwareL1({"fc": layer}, opt, lam=0.0)
    l1.threshold_()
    # th = 1 / (1e4·d + 1e3): d = 0 gives 1e-3 (9e-4 cut); d = 1 gives 1/11000 = 9.1e-5 (9e-4 kept);
    # d = 1e-3 gives 1/1010 = 9.9e-4 (2e-4 cut); 0.5 is above any threshold
    assert layer.weight.tolist() == [[0.0, pytest.approx(9e-4), 0.0, 0.5]]


def test_l1_adds_lambda_sign():
    layer = nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.2, -0.1, 0.0]]))
    layer.weight.grad = torch.zeros_like(layer.weight)
    method.GradientAwareL1({"fc": layer}, torch.optim.SGD(layer.parameters(), lr=0.1), lam=0.01).add_grad_()
    assert layer.weight.grad.tolist() == [[pytest.approx(0.01), pytest.approx(-0.01), 0.0]]


def test_guidance_prunes_layers_whose_crossover_is_reachable():
    assert method.guided_layers({"a": 0.8, "b": 1.0, "c": 0.9, "d": 0.95}, 0.9) == ["a", "c"]


def test_deployed_network_computes_what_the_trained_one_does():
    torch.manual_seed(3)
    model = CaffeCifarConvNet().eval()
    with torch.no_grad():
        for m in method.prunable(model).values():
            m.weight.mul_(torch.rand_like(m.weight) > 0.8)
    x = torch.randn(2, 3, 32, 32)
    forms = {n: "csr" for n in method.prunable(model)}
    out = method.deployed(model, forms)
    assert all(isinstance(getattr(out, n), nn.Module) and type(getattr(out, n)).__name__ == "CSRLayer" for n in forms)
    with torch.no_grad():
        assert torch.allclose(out(x), model(x), atol=1e-4)


def test_layer_shapes_record_inputs():
    shapes = method.layer_shapes(CaffeCifarConvNet(), torch.zeros(1, 3, 32, 32))
    assert shapes["conv3"] == ((64, 32, 5, 5), (1, 32, 8, 8))
    assert shapes["ip1"] == ((10, 1024, 1, 1), (1, 1024, 1, 1))
