"""The memristor framework's pieces: the per-layer rate, the crossbar-block set's geometry, the quantization and the
lowered inputs."""

from __future__ import annotations

import pytest
import torch

from bench.compress.cifar_convnet import CaffeCifarConvNet
from bench.hardware.imc import mapped_arrays
from papers.memristor_admm_yuan2019 import method


def test_per_layer_compression_makes_the_whole_network_overall():
    model = CaffeCifarConvNet()
    c = method.per_layer_compression(model, 5.88)
    sizes = {n: m.weight.numel() for n, m in method.layers(model).items()}
    kept = sizes["conv1"] + sum(sizes[n] for n in method.PRUNED) / c
    assert sum(sizes.values()) / kept == pytest.approx(5.88)
    with pytest.raises(ValueError):
        method.per_layer_compression(model, 1000.0)  # the dense conv1 alone is more than 1/1000 of the weights


def test_crossbar_blocks_keep_the_same_outputs_in_every_block_of_inputs():
    torch.manual_seed(0)
    w = torch.randn(32, 32, 5, 5)  # conv2: 800 inputs = 25 blocks of a 32-row crossbar
    proj = method.projection("crossbar", w, 8.0, method.ARRAY)
    m = proj(w).reshape(32, -1)
    per_block = [int(m[:, i:i + 32].ne(0).any(1).sum()) for i in range(0, 800, 32)]
    assert per_block == [4] * 25  # 32 outputs / 8
    # 4 outputs × 2 columns (5-bit, 4-bit cells, positive and negative) fit one 32-column crossbar per block
    assert mapped_arrays(proj(w), method.ARRAY) == 25
    assert mapped_arrays(w, method.DENSE_ARRAY) == 25 * 4  # 32 outputs × 4 columns = 4 crossbars per block


def test_quantize_keeps_zeros_and_uses_few_levels():
    model = CaffeCifarConvNet()
    with torch.no_grad():
        model.conv2.weight[0] = 0
    method.quantize_(model, 5)
    w = model.conv2.weight
    assert bool((w[0] == 0).all())
    assert len(torch.unique(w)) <= 2 ** 5 - 1  # symmetric levels -15..15


def test_lowered_inputs_shapes_and_signs():
    model = CaffeCifarConvNet().eval()
    inputs = method.lowered_inputs(model, torch.randn(2, 3, 32, 32))
    assert inputs["conv1"].shape == (2 * 32 * 32, 75)
    assert inputs["conv3"].shape == (2 * 8 * 8, 800)
    assert inputs["ip1"].shape == (2, 1024)
    assert all(bool((v >= 0).all()) for v in inputs.values())
