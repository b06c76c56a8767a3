"""A reversible spiking node, a reversible spiking layer, and the standard node they replace.

The standard node is snnTorch's leaky integrate-and-fire neuron (``snntorch.Leaky``: U[t] = β·U[t−1] + I[t] −
S[t−1]·θ, S[t] = H(U[t] − θ), reset by subtraction, an arctan surrogate gradient for H). Unrolled over T time
steps, autograd keeps its internal states for backward.

**The suite's reversible node** (the paper's own equations were not reachable; this is the additive coupling
that ../shared/SOURCES-WAVE2.md proposes, labelled as the suite's). The node's input X (T, B, C) is split along
channels into X₁, X₂, and two LIF neurons (a, b), each carrying its membrane over time, couple them:

    Y₁ = X₁ + LIF_a(X₂)            Y₂ = X₂ + LIF_b(Y₁)

The output is real-valued (input plus spikes), as the paper's reviewers describe its node. The map is invertible
whatever the LIFs compute:

    X₂ = Y₂ − LIF_b(Y₁)            X₁ = Y₁ − LIF_a(X₂)

so :class:`ReversibleNodeFunction` saves only its output Y for backward. In backward it recomputes the LIF runs
from Y (forward in time, which needs no inverse of the membrane dynamics), reconstructs X, and backpropagates
through the recomputed LIF runs alone: the layers around the node are not recomputed, and the node keeps
nothing beyond Y, which the next layer saves anyway as its input.

**The reversible layer** (the baseline the paper compares time against, RevNet-style as in reversible SNNs such
as Zhang & Zhang's): the coupling wraps whole layers, F = LIF_f(Linear_f(·)) and G = LIF_g(Linear_g(·)) on the
channel halves, Y₁ = X₁ + F(X₂), Y₂ = X₂ + G(Y₁); backward reconstructs X and recomputes F and G, weights
included (:class:`ReversibleLayerFunction`).
"""

from __future__ import annotations

import snntorch as snn
import torch
from snntorch import surrogate
from torch import nn

BETA = 0.9  # membrane decay β [assumption: the paper's value was not reachable; snnTorch's tutorials use 0.9]
THRESHOLD = 1.0


def lif(beta: float = BETA, threshold: float = THRESHOLD) -> snn.Leaky:
    """snnTorch's LIF neuron: subtractive reset, arctan surrogate gradient."""
    return snn.Leaky(beta=beta, threshold=threshold, spike_grad=surrogate.atan())


def lif_sequence(neuron: snn.Leaky, x: torch.Tensor) -> torch.Tensor:
    """Spikes (T, B, C) of ``neuron`` driven by currents ``x`` (T, B, C), from a zero membrane."""
    mem = neuron.init_leaky()
    spikes = []
    for t in range(x.shape[0]):
        spk, mem = neuron(x[t], mem)
        spikes.append(spk)
    return torch.stack(spikes)


def coupled_node(x: torch.Tensor, a: snn.Leaky, b: snn.Leaky) -> torch.Tensor:
    """The reversible node's forward by plain autograd (keeps every internal state): the reference."""
    x1, x2 = x.chunk(2, dim=-1)
    y1 = x1 + lif_sequence(a, x2)
    y2 = x2 + lif_sequence(b, y1)
    return torch.cat([y1, y2], dim=-1)


def invert_node(y: torch.Tensor, a: snn.Leaky, b: snn.Leaky) -> torch.Tensor:
    """X from the node's output Y: X₂ = Y₂ − LIF_b(Y₁), X₁ = Y₁ − LIF_a(X₂)."""
    y1, y2 = y.chunk(2, dim=-1)
    x2 = y2 - lif_sequence(b, y1)
    x1 = y1 - lif_sequence(a, x2)
    return torch.cat([x1, x2], dim=-1)


class ReversibleNodeFunction(torch.autograd.Function):
    """The reversible node, saving only its output; backward reconstructs the input and recomputes the LIFs."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, a: snn.Leaky, b: snn.Leaky) -> torch.Tensor:
        with torch.no_grad():
            y = coupled_node(x, a, b)
        ctx.a, ctx.b = a, b
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y: torch.Tensor):
        (y,) = ctx.saved_tensors
        dy1, dy2 = grad_y.chunk(2, dim=-1)
        y1, y2 = (t.detach() for t in y.chunk(2, dim=-1))
        with torch.enable_grad():
            # Y₂ = X₂ + LIF_b(Y₁): recompute LIF_b from Y₁, recover X₂, carry dY₂ into dY₁
            y1_ = y1.clone().requires_grad_(True)
            s_b = lif_sequence(ctx.b, y1_)
            (g_y1,) = torch.autograd.grad(s_b, y1_, dy2)
        x2 = y2 - s_b.detach()
        dy1 = dy1 + g_y1
        with torch.enable_grad():
            # Y₁ = X₁ + LIF_a(X₂): recompute LIF_a from the recovered X₂, carry dY₁ into dX₂
            x2_ = x2.requires_grad_(True)
            s_a = lif_sequence(ctx.a, x2_)
            (g_x2,) = torch.autograd.grad(s_a, x2_, dy1)
        return torch.cat([dy1, dy2 + g_x2], dim=-1), None, None


class ReversibleNode(nn.Module):
    """The suite's reversible LIF node over (T, B, C) inputs, C even."""

    def __init__(self, beta: float = BETA, threshold: float = THRESHOLD):
        super().__init__()
        self.a, self.b = lif(beta, threshold), lif(beta, threshold)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 2:
            raise ValueError(f"the reversible node splits channels in two: {x.shape[-1]} is odd")
        if not torch.is_grad_enabled() or not x.requires_grad:
            return coupled_node(x, self.a, self.b)
        return ReversibleNodeFunction.apply(x, self.a, self.b)


class StandardNode(nn.Module):
    """snnTorch's LIF node over (T, B, C): spikes out, every state kept by autograd."""

    def __init__(self, beta: float = BETA, threshold: float = THRESHOLD):
        super().__init__()
        self.neuron = lif(beta, threshold)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return lif_sequence(self.neuron, x)


class _Branch(nn.Module):
    """F or G of a reversible layer: a linear map of one channel half, then a LIF neuron over time."""

    def __init__(self, width: int, beta: float, threshold: float):
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.neuron = lif(beta, threshold)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (T, B, C/2)
        return lif_sequence(self.neuron, self.linear(x))


class ReversibleLayerFunction(torch.autograd.Function):
    """A reversible layer saving only its output; backward reconstructs X and recomputes F and G with weights."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, f: _Branch, g: _Branch, *params: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            x1, x2 = x.chunk(2, dim=-1)
            y1 = x1 + f(x2)
            y = torch.cat([y1, x2 + g(y1)], dim=-1)
        ctx.f, ctx.g, ctx.n_f = f, g, len(list(f.parameters()))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y: torch.Tensor):
        (y,) = ctx.saved_tensors
        f_params, g_params = list(ctx.f.parameters()), list(ctx.g.parameters())
        dy1, dy2 = grad_y.chunk(2, dim=-1)
        y1, y2 = (t.detach() for t in y.chunk(2, dim=-1))
        with torch.enable_grad():
            y1_ = y1.clone().requires_grad_(True)
            g_out = ctx.g(y1_)  # G recomputed, its linear map included
            g_y1, *g_grads = torch.autograd.grad(g_out, [y1_, *g_params], dy2)
        x2 = y2 - g_out.detach()
        dy1 = dy1 + g_y1
        with torch.enable_grad():
            x2_ = x2.requires_grad_(True)
            f_out = ctx.f(x2_)
            g_x2, *f_grads = torch.autograd.grad(f_out, [x2_, *f_params], dy1)
        return (torch.cat([dy1, dy2 + g_x2], dim=-1), None, None, *f_grads, *g_grads)


class ReversibleLayer(nn.Module):
    """A RevNet-style spiking layer on (T, B, C): Y₁ = X₁ + F(X₂), Y₂ = X₂ + G(Y₁), F and G linear + LIF."""

    def __init__(self, channels: int, beta: float = BETA, threshold: float = THRESHOLD):
        super().__init__()
        if channels % 2:
            raise ValueError(f"the reversible layer splits channels in two: {channels} is odd")
        self.f, self.g = _Branch(channels // 2, beta, threshold), _Branch(channels // 2, beta, threshold)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled():
            x1, x2 = x.chunk(2, dim=-1)
            y1 = x1 + self.f(x2)
            return torch.cat([y1, x2 + self.g(y1)], dim=-1)
        return ReversibleLayerFunction.apply(x, self.f, self.g, *self.f.parameters(), *self.g.parameters())
