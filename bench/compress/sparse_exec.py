"""Execution of fine-grained structured weights on the CPU, for latency cases at equal nonzeros: a pattern-grouped
convolution (PatDNN, PCONV) and a block-compacted matrix-vector product (RTMobile's block row pruning), each against
the dense operator and CSR on the same weights.

These are the suite's PyTorch renderings of what the papers' compilers exploit, not the compilers: no filter-kernel
reordering for register reuse, no generated code, no auto-tuning. They do the work the formats imply (the same
multiply-adds as CSR, with the index each format stores), so a timing compares formats at equal nonzeros on this
machine, and says nothing of the papers' mobile speedups.

- :func:`pattern_grouped_conv`: a 3×3 convolution (stride 1, padding 1) whose kernels each keep one pattern of a
  library (``bench.compress.structured.Pattern``) and whose pruned kernels (connectivity) are absent. Kernels are
  grouped by pattern; per pattern, the 4 taps of that pattern are taken from the unfolded input (``unfold`` +
  ``index_select``: 4 rows per input channel instead of 9) and multiplied by the group's compact weight, ``(out,
  in·4)`` in CSR form, so each kept kernel stores 4 values and one column index per weight (a format with one
  index per kernel would store less; the work is the same).
- :func:`block_compact_mv`: ``y = W x`` for ``W`` with block row sparsity (``BlockRows``): per column block, the
  kept rows form a dense submatrix ``W[R_j, B_j]``, multiplied by ``x[B_j]`` and added into ``y[R_j]``. Index per
  kept row of a block: its row number.
- :func:`csr_conv` and :func:`csr_mv`: the same operators with the weight in ``torch.sparse_csr_tensor`` form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from bench.compress.structured import _cuts


def _unfolded(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, 9, H·W)``: every 3×3 tap (padding 1) of every input channel."""
    n, c = x.shape[:2]
    return F.unfold(x, 3, padding=1).view(n, c, 9, -1)


def pattern_grouped_conv(weight: torch.Tensor, library: Sequence[Sequence[int]]) -> Callable[[torch.Tensor],
                                                                                            torch.Tensor]:
    """A callable ``x -> conv2d(x, weight, padding=1)`` that touches only the kept kernels, grouped by pattern.

    Raises:
        ValueError: a nonzero kernel does not fit any pattern of ``library``.
    """
    out_ch, in_ch = weight.shape[:2]
    k = weight.detach().reshape(out_ch, in_ch, 9)
    nz = k != 0
    groups = []
    placed = torch.zeros(out_ch, in_ch, dtype=torch.bool, device=weight.device)
    for pattern in library:
        taps = torch.tensor(sorted(pattern), device=weight.device)
        inside = torch.zeros(9, dtype=torch.bool, device=weight.device)
        inside[taps] = True
        fits = nz.any(2) & ~(nz & ~inside).any(2) & ~placed
        if bool(fits.any()):
            placed |= fits
            compact = (k[:, :, taps] * fits[:, :, None]).reshape(out_ch, in_ch * len(taps))  # (out, in·4)
            groups.append((taps, compact.to_sparse_csr()))
    if bool((nz.any(2) & ~placed).any()):
        raise ValueError("a kept kernel fits no pattern of the library")

    def run(x: torch.Tensor) -> torch.Tensor:
        cols = _unfolded(x)  # (N, C, 9, HW)
        out = x.new_zeros(x.shape[0], out_ch, cols.shape[-1])
        for taps, compact in groups:
            taken = cols.index_select(2, taps).flatten(1, 2)  # (N, C·4, HW): the pattern's taps only
            for i in range(x.shape[0]):
                out[i] += compact @ taken[i]
        return out.view(x.shape[0], out_ch, x.shape[2], x.shape[3])

    return run


def csr_conv(weight: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """``x -> conv2d(x, weight, padding=1)`` as a CSR weight ``(out, in·9)`` times the unfolded input."""
    out_ch = weight.shape[0]
    w = weight.detach().reshape(out_ch, -1).to_sparse_csr()

    def run(x: torch.Tensor) -> torch.Tensor:
        cols = F.unfold(x, 3, padding=1)  # (N, C·9, HW)
        return torch.stack([w @ cols[i] for i in range(x.shape[0])]).view(x.shape[0], out_ch, *x.shape[2:])

    return run


def block_compact_mv(weight: torch.Tensor, blocks: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """``x -> W x`` for block-row-sparse ``W`` (``(rows, cols)``), from the dense kept submatrix of each column
    block (``BlockRows``' cuts; the product is exact for any cut, only the kept rows per block change)."""
    w = weight.detach()
    parts = []
    for start, stop in _cuts(w.shape[1], blocks):
        block = w[:, start:stop]
        rows = block.ne(0).any(1).nonzero(as_tuple=True)[0]
        parts.append((start, stop, rows, block[rows].contiguous()))
    n_rows = w.shape[0]

    def run(x: torch.Tensor) -> torch.Tensor:
        y = x.new_zeros(n_rows)
        for start, stop, rows, sub in parts:
            y.index_add_(0, rows, sub @ x[start:stop])
        return y

    return run


def csr_mv(weight: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """``x -> W x`` with ``W`` in CSR form."""
    w = weight.detach().to_sparse_csr()
    return lambda x: w @ x
