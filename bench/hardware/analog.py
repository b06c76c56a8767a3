"""Analog inference on an in-memory-computing array: partial sums of a few rows, read noise and a finite ADC
(simulated; the suite's model).

:mod:`bench.hardware.imc` counts what a mapping costs (arrays, conversions); this module says what it computes. A
layer ``y = W·x`` (a conv lowered to ``(out, in·k·k)``) mapped onto an array is evaluated as the arrays do it:

- the inputs are cut into groups of ``rows`` (the word lines active together); each group's dot product with an
  output's weights is one analog **partial sum** (a bit-line current or a charge);
- **read noise**: Gaussian noise of ``noise_lsb`` ADC steps is added to every partial sum, fresh at every read
  (thermal and charge-injection noise, device read variation lumped together);
- **conductance variation** (``weight_noise``): every stored weight is perturbed by Gaussian noise of
  ``weight_noise × max|W|`` of its layer, drawn once per forward pass (one programming of the array);
- the **ADC** converts each partial sum with ``adc_bits`` bits, uniformly over ``[−full_scale, full_scale)``
  (mid-tread, ``2^adc_bits`` levels of ``full_scale / 2^(adc_bits−1)``, clipped at both ends); the digital
  periphery adds the converted partial sums and the bias.

``full_scale`` is set per layer by :func:`calibrate`: the largest ideal partial sum on calibration inputs (the
macro's programmable ADC range set on training data) [assumption: the papers' range-setting rule was not read].
The inputs themselves may be quantized to ``k``-bit levels by :func:`quantized_inputs` (with a straight-through
gradient, so it can also be trained through).

Used by the CAP-RAM proxy (``papers/cap_ram_chen2021``); every configuration names its source. IBM's aihwkit, the
field's analog-device library, was not used (``papers/memristor_admm_yuan2019``'s docstring gives why: no wheel
for this Python works beside the suite's torch). Hand-computed tests: ``tests/test_hardware_analog.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

ANALOG_NAME = "bench.hardware.analog.AnalogReadout (row-group partial sums, Gaussian read noise, uniform ADC)"
ANALOG_VERSION = "1"


@dataclass(frozen=True)
class AnalogReadout:
    """How one array computes a layer: ``rows`` inputs per partial sum, the ADC, the noise (module docstring)."""

    rows: int = 64
    adc_bits: int = 7
    noise_lsb: float = 0.0
    weight_noise: float = 0.0
    source: str = "[assumption] 64-row partial sums, a 7-bit ADC, no noise"

    def __post_init__(self):
        if self.rows < 1 or self.adc_bits < 1:
            raise ValueError("rows and adc_bits must be >= 1")
        if self.noise_lsb < 0 or self.weight_noise < 0:
            raise ValueError("noise levels must be >= 0")

    def describe(self) -> dict:
        return {"model": ANALOG_NAME, "version": ANALOG_VERSION, **asdict(self)}


def _lowered(module: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, tuple]:
    """``(N·positions, in)``: the vectors the layer's matrix multiplies, and how to fold the outputs back."""
    if isinstance(module, nn.Conv2d):
        if module.groups != 1 or module.padding_mode != "zeros":
            raise ValueError("only ungrouped, zero-padded convolutions are mapped")
        cols = F.unfold(x, module.kernel_size, module.dilation, module.padding, module.stride)  # (N, in, L)
        h = (x.shape[2] + 2 * module.padding[0] - module.dilation[0] * (module.kernel_size[0] - 1) - 1) \
            // module.stride[0] + 1
        return cols.transpose(1, 2).reshape(-1, cols.shape[1]), ("conv", x.shape[0], h)
    if isinstance(module, nn.Linear):
        return x.reshape(-1, x.shape[-1]), ("linear", x.shape[:-1])
    raise TypeError(f"cannot map a {type(module).__name__}")


def _folded(y: torch.Tensor, module: nn.Module, how: tuple) -> torch.Tensor:
    if how[0] == "conv":
        n, h = how[1], how[2]
        return y.reshape(n, -1, y.shape[1]).transpose(1, 2).reshape(n, y.shape[1], h, -1)
    return y.reshape(*how[1], y.shape[1])


def partial_sums(v: torch.Tensor, w: torch.Tensor, rows: int) -> torch.Tensor:
    """``(groups, N, out)``: the dot products of ``v`` ``(N, in)`` with ``w`` ``(out, in)`` over consecutive groups
    of ``rows`` inputs (the last group may be shorter)."""
    rows = min(rows, v.shape[1])
    pad = (-v.shape[1]) % rows
    if pad:
        v, w = F.pad(v, (0, pad)), F.pad(w, (0, pad))
    groups = v.shape[1] // rows
    return torch.bmm(v.reshape(-1, groups, rows).transpose(0, 1), w.reshape(-1, groups, rows).permute(1, 2, 0))


def adc(p: torch.Tensor, bits: int, full_scale: float) -> torch.Tensor:
    """A mid-tread uniform ADC over ``[−full_scale, full_scale)``: ``2^bits`` levels ``k·step``,
    ``step = full_scale / 2^(bits−1)``, ``k ∈ [−2^(bits−1), 2^(bits−1) − 1]`` (values beyond are clipped)."""
    if full_scale <= 0:
        return torch.zeros_like(p)
    step = full_scale / 2 ** (bits - 1)
    return torch.clamp(torch.round(p / step), -2 ** (bits - 1), 2 ** (bits - 1) - 1) * step


def analog_matmul(v: torch.Tensor, w: torch.Tensor, cfg: AnalogReadout, full_scale: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """``(N, out)``: ``v @ w.T`` as the array computes it (module docstring), without the bias."""
    if cfg.weight_noise:
        w = w + cfg.weight_noise * w.abs().max() * torch.randn(w.shape, generator=generator, dtype=w.dtype).to(w)
    p = partial_sums(v, w, cfg.rows)
    if cfg.noise_lsb and full_scale > 0:
        step = full_scale / 2 ** (cfg.adc_bits - 1)
        p = p + cfg.noise_lsb * step * torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p)
    return adc(p, cfg.adc_bits, full_scale).sum(0)


@torch.no_grad()
def calibrate(model: nn.Module, layers: Mapping[str, nn.Module], x: torch.Tensor, cfg: AnalogReadout,
              batch_size: int = 500) -> dict[str, float]:
    """Per layer, the largest magnitude of an ideal partial sum over the inputs ``x`` (the ADC's full scale)."""
    top = dict.fromkeys(layers, 0.0)

    def hook(name):
        def run(mod, inputs, output):
            v, _ = _lowered(mod, inputs[0])
            top[name] = max(top[name], float(partial_sums(v, mod.weight.reshape(mod.weight.shape[0], -1),
                                                          cfg.rows).abs().max()))
        return run

    handles = [m.register_forward_hook(hook(n)) for n, m in layers.items()]
    was = model.training
    model.eval()
    try:
        for s in range(0, len(x), batch_size):
            model(x[s:s + batch_size])
    finally:
        for h in handles:
            h.remove()
        model.train(was)
    return top


@contextlib.contextmanager
def analog(layers: Mapping[str, nn.Module], cfg: AnalogReadout, full_scale: Mapping[str, float],
           generator: torch.Generator | None = None) -> Iterator[None]:
    """Within the block, the ``layers`` compute their outputs as the arrays do (:func:`analog_matmul` plus the
    bias); the ideal output the module computes is replaced."""

    def hook(name):
        def run(mod, inputs, output):
            v, how = _lowered(mod, inputs[0])
            y = analog_matmul(v, mod.weight.reshape(mod.weight.shape[0], -1), cfg, full_scale[name], generator)
            if mod.bias is not None:
                y = y + mod.bias
            return _folded(y, mod, how)
        return run

    handles = [m.register_forward_hook(hook(n)) for n, m in layers.items()]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def quantize_unsigned(x: torch.Tensor, bits: int, scale: float) -> torch.Tensor:
    """``x`` on the ``bits``-bit levels ``k·scale/(2^bits − 1)``, ``k ∈ [0, 2^bits − 1]``, with the clipped
    straight-through gradient: the rounding passes the gradient unchanged inside ``[0, scale]`` and none outside
    (an input pushed past the range gets no gradient pushing it further, so training cannot inflate it)."""
    step = scale / (2 ** bits - 1)
    inside = torch.clamp(x, 0, scale)  # the gradient is zero where the levels clip
    q = torch.round(inside / step) * step
    return inside + (q - inside).detach()


def quantize_signed(x: torch.Tensor, bits: int, scale: float) -> torch.Tensor:
    """``x`` on the symmetric levels ``k·scale/(2^(bits−1) − 1)``, ``|k| ≤ 2^(bits−1) − 1``, with the clipped
    straight-through gradient (none outside ``[−scale, scale]``)."""
    if bits < 2:
        raise ValueError("signed levels need bits >= 2 (a sign and a magnitude)")
    top = 2 ** (bits - 1) - 1
    step = scale / top
    inside = torch.clamp(x, -scale, scale)  # the gradient is zero where the levels clip
    q = torch.round(inside / step) * step
    return inside + (q - inside).detach()


@torch.no_grad()
def input_ranges(model: nn.Module, layers: Mapping[str, nn.Module], x: torch.Tensor, batch_size: int = 500,
                 quantile: float = 1.0) -> dict[str, tuple[float, bool]]:
    """Per layer, the input magnitude at full scale and whether any input is negative (signed levels).

    The full scale is the ``quantile`` of the input magnitudes on ``x`` (1.0: the largest, which a few outliers
    can set far above the bulk; below 1 the outliers clip), taken per batch of ``batch_size`` and maximized over
    the batches."""
    if not 0 < quantile <= 1:
        raise ValueError("quantile must be in (0, 1]")
    seen: dict[str, tuple[float, bool]] = {n: (0.0, False) for n in layers}

    def hook(name):
        def run(mod, inputs):
            a, neg = seen[name]
            mag = inputs[0].abs().flatten()
            top = float(mag.max()) if quantile == 1 else float(torch.quantile(mag[:2 ** 24].float(), quantile))
            seen[name] = (max(a, top), neg or bool((inputs[0] < 0).any()))
        return run

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in layers.items()]
    was = model.training
    model.eval()
    try:
        for s in range(0, len(x), batch_size):
            model(x[s:s + batch_size])
    finally:
        for h in handles:
            h.remove()
        model.train(was)
    return seen


@contextlib.contextmanager
def quantized_inputs(layers: Mapping[str, nn.Module], bits: int,
                     ranges: Mapping[str, tuple[float, bool]]) -> Iterator[None]:
    """Within the block, every layer's input is put on ``bits``-bit levels over its calibrated range
    (:func:`input_ranges`): unsigned levels where the inputs are non-negative, symmetric ones where they are not.
    The gradient passes straight through, so training inside the block is quantization-aware."""

    def hook(name):
        scale, signed = ranges[name]

        def run(mod, inputs):
            q = quantize_signed if signed else quantize_unsigned
            return (q(inputs[0], bits, scale),) if scale > 0 else None
        return run

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in layers.items()]
    try:
        yield
    finally:
        for h in handles:
            h.remove()
