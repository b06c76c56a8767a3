"""The analog readout of bench/hardware/analog.py and the polarization projection of bench/compress/polarize.py,
pinned by hand-computed cases."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.compress.polarize import Polarize, polarized_fraction, sign_lock
from bench.hardware.analog import (
    AnalogReadout,
    adc,
    analog,
    analog_matmul,
    calibrate,
    input_ranges,
    partial_sums,
    quantize_signed,
    quantize_unsigned,
    quantized_inputs,
)


def test_partial_sums_by_hand():
    v = torch.tensor([[1.0, 2.0, 3.0]])
    w = torch.tensor([[1.0, 1.0, 1.0], [2.0, 0.0, -1.0]])
    p = partial_sums(v, w, rows=2)  # groups {0, 1} and {2}
    assert p.shape == (2, 1, 2)
    assert p[0].tolist() == [[3.0, 2.0]]
    assert p[1].tolist() == [[3.0, -3.0]]


def test_adc_levels_and_clipping_by_hand():
    # 3 bits over [-4, 4): step 1, levels -4..3
    p = torch.tensor([-9.0, -3.6, -0.4, 0.5, 2.6, 3.4, 100.0])
    assert adc(p, 3, 4.0).tolist() == [-4.0, -4.0, -0.0, 0.0, 3.0, 3.0, 3.0]
    assert adc(p, 3, 0.0).abs().sum() == 0


def test_analog_matmul_without_noise_is_the_adc_of_each_partial_sum():
    v = torch.tensor([[1.0, 2.0, 3.0]])
    w = torch.tensor([[1.0, 1.0, 1.0], [2.0, 0.0, -1.0]])
    cfg = AnalogReadout(rows=2, adc_bits=3)
    # partial sums (3, 2) and (3, -3) at full scale 4, step 1: 3 + 3 = 6 and 2 + (-3) = -1
    assert analog_matmul(v, w, cfg, 4.0).tolist() == [[6.0, -1.0]]
    # at full scale 2 (step 0.5, levels -2..1.5) every sum clips: 1.5 + 1.5 = 3 and 1.5 - 2 = -0.5
    assert analog_matmul(v, w, cfg, 2.0).tolist() == [[3.0, -0.5]]
    # a fine ADC over a wide range gives back the exact product
    fine = AnalogReadout(rows=2, adc_bits=20)
    assert torch.allclose(analog_matmul(v, w, fine, 8.0), v @ w.T, atol=1e-4)


def test_read_noise_has_the_stated_spread():
    g = torch.Generator().manual_seed(0)
    v, w = torch.zeros(20000, 4), torch.zeros(1, 4)
    cfg = AnalogReadout(rows=4, adc_bits=16, noise_lsb=100.0)  # 100 steps of 2^-15: sd 0.00305 per partial sum
    y = analog_matmul(v, w, cfg, 1.0, g)
    assert float(y.std()) == pytest.approx(100 / 2 ** 15, rel=0.05)
    assert abs(float(y.mean())) < 1e-4


def test_analog_context_replaces_conv_and_linear_outputs():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    layers = {"0": model[0], "2": model[2]}
    x = torch.randn(4, 2, 4, 4)
    ideal = model(x)
    fine = AnalogReadout(rows=5, adc_bits=24)
    scales = calibrate(model, layers, x, fine)
    assert set(scales) == {"0", "2"} and all(s > 0 for s in scales.values())
    with analog(layers, fine, scales):
        close = model(x)
    assert torch.allclose(close, ideal, atol=1e-3)
    coarse = AnalogReadout(rows=5, adc_bits=2)
    with analog(layers, coarse, scales):
        far = model(x)
    assert not torch.allclose(far, ideal, atol=1e-2)
    assert torch.allclose(model(x), ideal)  # hooks removed


def test_input_quantizers_by_hand_and_straight_through():
    x = torch.tensor([0.05, 0.1, 0.5, 0.74, 2.0], requires_grad=True)
    q = quantize_unsigned(x, 2, 1.5)  # levels 0, 0.5, 1, 1.5
    assert q.tolist() == pytest.approx([0.0, 0.0, 0.5, 0.5, 1.5])
    q.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]  # 2.0 lies past the range: no gradient (clipped STE)
    s = quantize_signed(torch.tensor([-1.0, -0.2, 0.3, 0.9]), 3, 0.9)  # levels k·0.3, |k| <= 3
    assert s.tolist() == pytest.approx([-0.9, -0.3, 0.3, 0.9])


def test_quantized_inputs_uses_signed_levels_where_inputs_go_negative():
    model = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, -1.0]]))
        model[1].weight.copy_(torch.tensor([[1.0, 1.0]]))
    layers = {"a": model[0], "b": model[1]}
    x = torch.tensor([[0.3, 0.6]])
    ranges = input_ranges(model, layers, x)
    assert ranges["a"] == (pytest.approx(0.6), False) and ranges["b"] == (pytest.approx(0.6), True)
    # unsigned 2 bits over 0.6: levels 0, 0.2, 0.4, 0.6, so (0.3, 0.6) -> (0.4, 0.6) and layer a gives
    # (0.4, -0.6); signed 2 bits: levels -0.6, 0, 0.6, so (0.4, -0.6) -> (0.6, -0.6), and b sums them to 0
    with quantized_inputs(layers, 2, ranges):
        y = model(x)
    assert y.tolist() == [[pytest.approx(0.0, abs=1e-6)]]
    assert model(x).tolist() == [[pytest.approx(-0.3)]]
    with pytest.raises(ValueError):
        quantize_signed(x, 1, 1.0)


def test_polarize_keeps_the_larger_side_of_each_fragment():
    v = torch.tensor([[3.0, -1.0, -1.0, 1.0, -2.0, -2.0, 0.5]])  # fragments of 3: (3,-1,-1) (1,-2,-2) (0.5)
    p = Polarize(fragment=3)
    assert p(v).tolist() == [[3.0, 0.0, 0.0, 0.0, -2.0, -2.0, 0.5]]
    assert p.signs(v).tolist() == [[1.0, -1.0, 1.0]]
    assert p.contains(p(v)) and not p.contains(v)
    assert polarized_fraction(v, 3) == pytest.approx(1 / 3)  # only the short last fragment
    # a conv weight: fragments run along (channel, row, column) of one filter
    w = torch.randn(4, 2, 3, 3)
    assert Polarize(fragment=6).contains(Polarize(fragment=6)(w))
    assert Polarize(fragment=1)(w).equal(w)  # a one-weight fragment is always one-signed


def test_polarize_is_the_nearest_one_signed_vector():
    torch.manual_seed(1)
    v = torch.randn(1, 4)
    best = min((v * torch.tensor(s)).sub(v).norm() for s in ([[1.0 if x > 0 else 0 for x in v[0]]],
                                                             [[1.0 if x < 0 else 0 for x in v[0]]]))
    assert float((Polarize(fragment=4)(v) - v).norm()) == pytest.approx(float(best))


def test_sign_lock_holds_fragments_on_their_sign():
    w = nn.Parameter(torch.tensor([[1.0, 2.0, -1.0, -3.0]]))
    hook = sign_lock({"w": (w, Polarize(fragment=2))})
    with torch.no_grad():
        w.copy_(torch.tensor([[-0.5, 1.0, 0.5, -2.0]]))
    hook(0)
    assert w.tolist() == [[0.0, 1.0, 0.0, -2.0]]


def test_input_ranges_quantile_clips_outliers():
    model = nn.Sequential(nn.Identity())
    model[0] = nn.Linear(1, 1, bias=False)
    x = torch.cat([torch.linspace(0, 1, 1000), torch.tensor([100.0])])[:, None]
    layers = {"a": model[0]}
    assert input_ranges(model, layers, x, batch_size=2000)["a"][0] == pytest.approx(100.0)
    assert input_ranges(model, layers, x, batch_size=2000, quantile=0.99)["a"][0] == pytest.approx(0.99, abs=0.01)
    with pytest.raises(ValueError):
        input_ranges(model, layers, x, quantile=0.0)
