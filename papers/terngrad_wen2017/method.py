"""TernGrad's gradient quantization: layer-wise scalers, stochastic ternarization and the 2-bit codec.

All functions work on one gradient tensor (a layer's weight or bias gradient); ``distributed.py`` applies them
to every tensor of a model inside the exchange between workers.
"""

from __future__ import annotations

import math

import torch

DEFAULT_CLIP_FACTOR = 2.5  # c in s = c·σ (the repo's --clip_factor)


def scaler(grad: torch.Tensor, clip_factor: float = DEFAULT_CLIP_FACTOR) -> torch.Tensor:
    """The tensor's scaler s: ``c·σ`` (population standard deviation) when ``c > 1e-5``, else ``max|g|``.

    As ``gradient_binarizing_scalers`` in the repo; returns a 0-d float tensor.
    """
    g = grad.detach().float()
    if clip_factor > 1e-5:
        return clip_factor * torch.sqrt(torch.mean((g - g.mean()) ** 2))
    return g.abs().max()


def ternarize(grad: torch.Tensor, s: torch.Tensor | float, generator: torch.Generator | None = None
              ) -> torch.Tensor:
    """Ternary signs ``t ∈ {-1, 0, +1}`` (int8) with ``s·t`` the stochastic ternary gradient.

    ``t_k = sign(g_k)`` when ``r_k < |g_k|`` for ``r_k ~ U(0, s)``, else 0: probability ``min(|g_k|/s, 1)``, so
    ``E[s·t] = g`` wherever ``|g| ≤ s`` and elements beyond ``s`` are clipped to ``±s`` (the repo's
    ``stochastical_binarize_gradients``). A zero scaler gives all zeros.
    """
    g = grad.detach()
    r = torch.rand(g.shape, generator=generator, device=g.device, dtype=torch.float32) * float(s)
    keep = r < g.abs().float()
    return (torch.sign(g).to(torch.int8) * keep.to(torch.int8)).reshape(grad.shape)


def packed_size(numel: int) -> int:
    """Bytes of the 2-bit code of ``numel`` values."""
    return math.ceil(numel / 4)


def pack(signs: torch.Tensor) -> torch.Tensor:
    """Pack int8 values in {-1, 0, +1} four to a byte (codes 0, 1, 2; value i in bit pair i mod 4)."""
    codes = (signs.reshape(-1).to(torch.int16) + 1).to(torch.uint8)
    if codes.numel() and (codes.max() > 2):
        raise ValueError("pack takes values in {-1, 0, +1}")
    pad = (-codes.numel()) % 4
    if pad:
        codes = torch.cat([codes, codes.new_ones(pad)])  # padding encodes 0
    q = codes.view(-1, 4)
    return q[:, 0] | (q[:, 1] << 2) | (q[:, 2] << 4) | (q[:, 3] << 6)


def unpack(packed: torch.Tensor, numel: int) -> torch.Tensor:
    """The int8 values in {-1, 0, +1} that :func:`pack` encoded, the first ``numel`` of them."""
    if packed.numel() != packed_size(numel):
        raise ValueError(f"{packed.numel()} bytes cannot hold exactly {numel} 2-bit values")
    b = packed.reshape(-1, 1)
    shifts = torch.tensor([0, 2, 4, 6], dtype=torch.uint8, device=packed.device)
    codes = (b >> shifts) & 3
    return codes.reshape(-1)[:numel].to(torch.int8) - 1


def unpack_sum(packed: torch.Tensor, numel: int) -> torch.Tensor:
    """The sum over rows of the values that each row of ``packed`` (workers × bytes, uint8) encodes, as int16.

    Equal to ``sum(unpack(row, numel) for row in packed)``: the decoding step of the exchange, where every
    worker sums the N payloads it gathered. The 2-bit codes (value + 1) are summed first and the N offsets
    subtracted once.
    """
    if packed.dim() != 2 or packed.shape[1] != packed_size(numel):
        raise ValueError(f"expected (workers, {packed_size(numel)}) bytes for {numel} values, "
                         f"got {tuple(packed.shape)}")
    shifts = torch.tensor([0, 2, 4, 6], dtype=torch.uint8, device=packed.device)
    codes = (packed.unsqueeze(-1) >> shifts) & 3  # (workers, bytes, 4)
    return codes.sum(0, dtype=torch.int16).reshape(-1)[:numel] - packed.shape[0]


def ternary_gradient(grad: torch.Tensor, clip_factor: float = DEFAULT_CLIP_FACTOR,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """One worker's TernGrad estimate ``s·t`` of ``grad`` with its own scaler (no sharing), as a float tensor."""
    s = scaler(grad, clip_factor)
    return ternarize(grad, s, generator).to(grad.dtype) * s
