"""TernGrad's recipes: the TF moving average, L2 inside the quantized gradient, CifarNet and its inputs, the
throughput experiment's inputs."""

from __future__ import annotations

import math

import pytest
import torch

from papers.terngrad_wen2017 import cifarnet, performance
from papers.terngrad_wen2017.experiment import _L2InGradient, _tf_ema


def test_moving_average_follows_tf_num_updates():
    avg = _tf_ema(0.9999)
    a, c = torch.tensor([1.0]), torch.tensor([3.0])
    d = 2 / 11  # min(0.9999, (1 + 1) / (10 + 1)) at the first update after the copy
    assert avg(a, c, torch.tensor(1)).item() == pytest.approx(d * 1 + (1 - d) * 3)
    assert avg(a, c, torch.tensor(10**6)).item() == pytest.approx(0.9999 + 0.0001 * 3)


def test_weight_decay_is_added_to_the_gradient_before_the_exchange():
    w = torch.nn.Parameter(torch.tensor([[2.0, -1.0]]))
    w.grad = torch.tensor([[0.5, 0.5]])
    seen = []
    hook = _L2InGradient([w], 0.1, lambda step: seen.append(w.grad.clone()))
    hook(0)
    assert torch.allclose(seen[0], torch.tensor([[0.7, 0.4]]))  # what the exchange quantizes includes wd·w


def test_cifarnet_shapes_and_size():
    net = cifarnet.CifarNet()
    assert net(torch.zeros(3, 3, 24, 24)).shape == (3, 10)
    # conv 3·25·64+64, conv 64·25·64+64, fc 2304·384+384, fc 384·192+192, fc 192·10+10
    assert sum(p.numel() for p in net.parameters()) == 4864 + 102464 + 885120 + 73920 + 1930


def test_lrn_is_tf_local_response_normalization():
    x = torch.rand(1, 12, 3, 3)
    out = cifarnet.CifarNet().lrn(x)
    sq = torch.nn.functional.pad(x**2, (0, 0, 0, 0, 4, 4))
    window = torch.stack([sq[:, c:c + 9].sum(1) for c in range(12)], 1)  # depth radius 4
    tf = x / (1.0 + 0.001 / 9 * window) ** 0.75
    assert torch.allclose(out, tf, atol=1e-6)


def test_inputs_are_cropped_and_standardized_per_image():
    x = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8)
    a = cifarnet.train_inputs(x, torch.Generator().manual_seed(0))
    b = cifarnet.train_inputs(x, torch.Generator().manual_seed(0))
    assert a.shape == (5, 3, 24, 24) and torch.equal(a, b)
    flat = a.flatten(1)
    assert torch.allclose(flat.mean(1), torch.zeros(5), atol=1e-5)
    assert torch.allclose(flat.std(1, unbiased=False), torch.ones(5), atol=1e-4)
    t = cifarnet.test_inputs(x)
    centre = x[:, :, 4:28, 4:28].float()
    assert torch.allclose(t.flatten(1), cifarnet._standardize(centre / 255).flatten(1))


def test_throughput_inputs_are_the_torchvision_models():
    sizes = performance.tensor_sizes("alexnet", {})
    assert sum(sizes) == 61_100_840 and len(sizes) == 16
    assert math.isclose(sum(performance.tensor_sizes("vgg11", {})), 132_863_336)
    assert set(performance.PAPER_SPEEDUP) == {f"{w}_{c}" for w in performance.NETWORKS for c in performance.CLUSTERS}
    assert all(len(v) == len(performance.GPUS) for v in performance.PAPER_SPEEDUP.values())
