"""Block-circulant fully connected layers computed by FFT.

A weight matrix W ∈ R^{m×n} is split into p×q square blocks of size b (p = ⌈m/b⌉, q = ⌈n/b⌉, the input and the
output zero-padded to multiples of b). Each block is circulant, defined by one vector w_ij ∈ R^b, its first
column:

    C(w)[r, c] = w[(r − c) mod b]                                  (every column a cyclic shift of the first)

so a block's product with a slice x_j of the input is the circular convolution of w_ij and x_j, which the
convolution theorem turns into an element-wise product of spectra:

    y_i = Σ_j C(w_ij) x_j = Σ_j IFFT( FFT(w_ij) ∘ FFT(x_j) )         (i = 1..p)

Storage falls from m·n to p·q·b = m·n / b (when b divides m and n), and the product from O(m·n) multiply-adds
to O(p·q·b log b): q FFTs of the input slices, p·q spectral products and p inverse FFTs. The sum over j is
taken in the frequency domain (one inverse FFT per output block), as in CirCNN. Training needs nothing more:
the gradients with respect to w_ij and x_j are themselves circular correlations, and autograd through
``torch.fft`` computes them by FFT too. Real inputs and weights use the real FFT (``rfft``), whose spectrum has
b/2 + 1 entries.

The first-column convention is the one for which the product above is an exact circular convolution; a
first-row convention (CirCNN's figure) is the transpose of a first-column circulant with the vector reversed
after its first entry, and has the same storage and cost.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def circulant(w: torch.Tensor) -> torch.Tensor:
    """The b×b circulant matrix whose first column is ``w`` (``C[r, c] = w[(r − c) mod b]``)."""
    b = w.shape[-1]
    r = torch.arange(b)
    return w[..., (r[:, None] - r[None, :]) % b]


def fft_product(x: torch.Tensor, wf: torch.Tensor, out_features: int, block: int) -> torch.Tensor:
    """``W x`` for a batch ``x`` (B, n), from the spectra ``wf = rfft(w)`` (p, q, b/2+1) of the blocks."""
    p, q, _ = wf.shape
    batch = x.shape[0]
    xb = nn.functional.pad(x, (0, q * block - x.shape[1])).view(batch, q, block)  # (B, q, b), zero-padded
    yf = torch.einsum("bqf,pqf->bpf", torch.fft.rfft(xb, dim=-1), wf)  # Σ_j FFT(w_ij) ∘ FFT(x_j), (B, p, b/2+1)
    return torch.fft.irfft(yf, n=block, dim=-1).reshape(batch, p * block)[:, :out_features]  # IFFT per block


class BlockCirculantLinear(nn.Module):
    """``y = W x + bias`` with W made of b×b circulant blocks, computed by FFT.

    Args:
        in_features: n (padded with zeros to a multiple of ``block``).
        out_features: m (computed on a multiple of ``block`` and cut back).
        block: b, the size of each circulant block; ``block=1`` is an ordinary dense layer (1×1 blocks).
        bias: add a learnable bias of ``out_features``.
    """

    def __init__(self, in_features: int, out_features: int, block: int, bias: bool = True):
        super().__init__()
        if block < 1:
            raise ValueError(f"block must be >= 1, not {block}")
        self.in_features, self.out_features, self.block = in_features, out_features, block
        self.p, self.q = math.ceil(out_features / block), math.ceil(in_features / block)
        # (p, q, b): one defining vector per block. Initialised like nn.Linear (uniform ±1/√n): each row of W
        # holds q·b weights, the entries of the q vectors it crosses
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(self.p, self.q, block).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, n) -> (B, m)
        y = fft_product(x, torch.fft.rfft(self.weight, dim=-1), self.out_features, self.block)
        return y + self.bias if self.bias is not None else y

    def dense_weight(self) -> torch.Tensor:
        """The m×n matrix this layer applies (its circulant blocks written out)."""
        blocks = circulant(self.weight)  # (p, q, b, b)
        full = blocks.permute(0, 2, 1, 3).reshape(self.p * self.block, self.q * self.block)
        return full[:self.out_features, :self.in_features]

    def stored_parameters(self) -> int:
        """Weights stored: p·q·b (plus the bias)."""
        return self.weight.numel() + (self.bias.numel() if self.bias is not None else 0)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, block={self.block}"


def fft_multiply_adds(in_features: int, out_features: int, block: int) -> float:
    """Real multiply-adds of one product, counting an FFT of length b as (b/2)·log2(b) complex butterflies
    of 4 real multiplies each: q input FFTs, p·q spectral products over b/2 + 1 bins (4 real multiplies each),
    p inverse FFTs. A model of the asymptotic cost, not a measurement."""
    p, q, b = math.ceil(out_features / block), math.ceil(in_features / block), block
    fft = 2 * b * math.log2(b) if b > 1 else 0.0
    return (q + p) * fft + p * q * 4 * (b // 2 + 1)
