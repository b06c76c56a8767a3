"""Sparse convolution and fully connected layers on the CPU as CSR products, with the sparsity at which they beat
the dense operator (the crossover) measured on this machine.

- :func:`csr_conv2d`: any ``conv2d`` (kernel size, stride, padding, groups) as a CSR weight ``(out, in·k·k)`` times
  the lowered input (``F.unfold``). Groups are a block-diagonal CSR matrix: the entries off the diagonal blocks
  are structural zeros and cost nothing, so a grouped layer does exactly its own multiply-adds.
- :func:`csr_linear`: ``x Wᵀ + b`` with ``W`` in CSR form.
- :func:`crossover`: the smallest sparsity of a grid at which the CSR form of a layer is faster than the dense
  one, timed side by side (``bench.latency.time_interleaved``) on random weights of that support (the support
  decides the time, not the values).

These are PyTorch's CSR kernels on the lowered matrix, the "sparse with lowering" that Park et al. (ICLR'17)
compare their direct sparse convolution against. Their direct kernel (no lowering, the sparse weight applied to
shifted views of the input) is not reproduced here: it is hand-written C++ with per-architecture tuning. A
crossover measured here is an upper bound on theirs for the same machine, not their figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from bench.latency import median_speedups, time_interleaved


def _dense_matrix(weight: torch.Tensor, groups: int) -> torch.Tensor:
    """The ``(out, in·k·k)`` matrix of a (grouped) conv weight, zero off the group blocks."""
    out_ch, in_per_group = weight.shape[:2]
    taps = weight[0, 0].numel()
    if groups == 1:
        return weight.reshape(out_ch, in_per_group * taps)
    full = weight.new_zeros(out_ch, groups * in_per_group * taps)
    step_out, step_in = out_ch // groups, in_per_group * taps
    for g in range(groups):
        full[g * step_out:(g + 1) * step_out, g * step_in:(g + 1) * step_in] = \
            weight[g * step_out:(g + 1) * step_out].reshape(step_out, step_in)
    return full


def csr_conv2d(weight: torch.Tensor, bias: torch.Tensor | None = None, *, stride: int = 1, padding: int = 0,
               groups: int = 1) -> Callable[[torch.Tensor], torch.Tensor]:
    """``x -> conv2d(x, weight, bias, stride, padding, groups=groups)`` with the weight in CSR form."""
    out_ch, k = weight.shape[0], weight.shape[-1]
    w = _dense_matrix(weight.detach(), groups).to_sparse_csr()
    b = None if bias is None else bias.detach()[:, None]

    def run(x: torch.Tensor) -> torch.Tensor:
        n, _, h, wd = x.shape
        ho, wo = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
        cols = F.unfold(x, k, padding=padding, stride=stride)  # (N, C·k·k, Ho·Wo)
        ys = [w @ cols[i] for i in range(n)]
        y = torch.stack([v if b is None else v + b for v in ys])
        return y.view(n, out_ch, ho, wo)

    return run


def csr_linear(weight: torch.Tensor, bias: torch.Tensor | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """``x -> x Wᵀ + b`` with ``W`` in CSR form."""
    w = weight.detach().to_sparse_csr()
    b = None if bias is None else bias.detach()

    def run(x: torch.Tensor) -> torch.Tensor:
        y = (w @ x.T).T
        return y if b is None else y + b

    return run


class CSRLayer(nn.Module):
    """A trained ``nn.Conv2d`` or ``nn.Linear`` run in CSR form (inference only)."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        if isinstance(layer, nn.Conv2d):
            if layer.stride[0] != layer.stride[1] or layer.padding[0] != layer.padding[1] or layer.dilation != (1, 1):
                raise ValueError("csr form needs equal strides and paddings and no dilation")
            self.run = csr_conv2d(layer.weight, layer.bias, stride=layer.stride[0], padding=layer.padding[0],
                                  groups=layer.groups)
        elif isinstance(layer, nn.Linear):
            self.run = csr_linear(layer.weight, layer.bias)
        else:
            raise TypeError(f"no csr form for {type(layer).__name__}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x)


def random_support(shape: Sequence[int], sparsity: float, generator: torch.Generator) -> torch.Tensor:
    """A weight of ``shape`` with exactly ``round(sparsity · numel)`` zeros at random places."""
    w = torch.randn(*shape, generator=generator)
    n = w.numel()
    zero = torch.randperm(n, generator=generator)[:int(round(sparsity * n))]
    w.view(-1)[zero] = 0
    return w


def conv_pair(weight: torch.Tensor, x: torch.Tensor, *, stride: int = 1, padding: int = 0,
              groups: int = 1) -> dict[str, Callable[[], object]]:
    """Zero-argument callables of one convolution on ``x``, dense and CSR, for :func:`time_interleaved`."""
    run = csr_conv2d(weight, stride=stride, padding=padding, groups=groups)
    return {"dense": lambda: F.conv2d(x, weight, stride=stride, padding=padding, groups=groups),
            "csr": lambda: run(x)}


def conv_speedup(weight_shape: Sequence[int], input_shape: Sequence[int], sparsity: float, *, stride: int = 1,
                 padding: int = 0, groups: int = 1, seed: int = 0, rounds: int = 30) -> float:
    """Median dense time over median CSR time of one convolution at ``sparsity`` (random support)."""
    g = torch.Generator().manual_seed(seed)
    w = random_support(weight_shape, sparsity, g)
    x = torch.randn(*input_shape, generator=g)
    times = time_interleaved(conv_pair(w, x, stride=stride, padding=padding, groups=groups), torch.device("cpu"),
                             rounds=rounds)
    return median_speedups(times)["csr"]


def crossover(weight_shape: Sequence[int], input_shape: Sequence[int], grid: Sequence[float], *, stride: int = 1,
              padding: int = 0, groups: int = 1, seed: int = 0, rounds: int = 30) -> float:
    """The smallest sparsity in ``grid`` (ascending) at which CSR beats dense; 1.0 (nothing left) if none does.

    For a fully connected layer pass ``weight_shape = (out, in, 1, 1)`` and ``input_shape = (N, in, 1, 1)``.
    """
    for s in grid:
        if conv_speedup(weight_shape, input_shape, s, stride=stride, padding=padding, groups=groups, seed=seed,
                        rounds=rounds) > 1:
            return float(s)
    return 1.0
