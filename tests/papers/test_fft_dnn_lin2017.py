"""FFT-based DNN (papers/fft_dnn_lin2017): the block-circulant product by FFT against its dense matrix."""

import pytest
import torch

from papers.fft_dnn_lin2017 import latency
from papers.fft_dnn_lin2017.method import BlockCirculantLinear, circulant, fft_multiply_adds, fft_product


def test_circulant_columns_are_cyclic_shifts_of_the_first():
    w = torch.arange(5.0)
    c = circulant(w)
    assert torch.equal(c[:, 0], w)
    for j in range(1, 5):
        assert torch.equal(c[:, j], torch.roll(w, j))


@pytest.mark.parametrize("n_in,n_out,block", [(16, 8, 4), (20, 12, 8), (7, 5, 3), (256, 128, 128), (6, 6, 1)])
def test_fft_product_equals_the_dense_block_circulant_product(n_in, n_out, block):
    torch.manual_seed(0)
    layer = BlockCirculantLinear(n_in, n_out, block).double()
    x = torch.randn(4, n_in, dtype=torch.float64)
    torch.testing.assert_close(layer(x), x @ layer.dense_weight().T + layer.bias)


def test_gradients_equal_those_of_the_dense_expansion():
    torch.manual_seed(1)
    layer = BlockCirculantLinear(24, 16, 8, bias=False).double()
    x = torch.randn(3, 24, dtype=torch.float64, requires_grad=True)
    (layer(x) ** 2).sum().backward()
    g_fft, gx_fft = layer.weight.grad.clone(), x.grad.clone()
    layer.weight.grad, x.grad = None, None
    (x @ layer.dense_weight().T).pow(2).sum().backward()  # autograd through the written-out matrix
    torch.testing.assert_close(layer.weight.grad, g_fft)
    torch.testing.assert_close(x.grad, gx_fft)


@pytest.mark.parametrize("block", [1, 8, 32, 128])
def test_storage_falls_exactly_by_the_block_size(block):
    layer = BlockCirculantLinear(256, 128, block, bias=False)
    assert layer.stored_parameters() * block == 256 * 128
    assert layer.dense_weight().shape == (128, 256)


def test_invalid_block_is_refused():
    with pytest.raises(ValueError, match="block"):
        BlockCirculantLinear(8, 8, 0)


def test_multiply_adds_grow_as_n_log_n_for_one_block():
    dense = [n * n for n in (256, 4096)]
    fft = [fft_multiply_adds(n, n, n) for n in (256, 4096)]
    assert fft[1] / fft[0] == pytest.approx(16 * 12 / 8, rel=0.05)  # n log n: 16× the size, log 12 against 8
    assert dense[1] / dense[0] == 256


@pytest.mark.parametrize("n", [128, 512])
def test_latency_variants_compute_the_same_product(n):
    dense = latency.layer_callable(n, "dense", torch.device("cpu"), seed=3)()
    fft = latency.layer_callable(n, "fft", torch.device("cpu"), seed=3)()
    torch.testing.assert_close(fft, dense, rtol=1e-4, atol=1e-4)
    a = latency.arch1_callable("dense", torch.device("cpu"), seed=3)()
    b = latency.arch1_callable("fft", torch.device("cpu"), seed=3)()
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_fft_product_pads_a_ragged_input():
    torch.manual_seed(2)
    layer = BlockCirculantLinear(10, 7, 4, bias=False).double()
    x = torch.randn(2, 10, dtype=torch.float64)
    wf = torch.fft.rfft(layer.weight, dim=-1)
    torch.testing.assert_close(fft_product(x, wf, 7, 4), x @ layer.dense_weight().T)
