"""CAP-RAM's proxy pieces: the cell budget rule and the rate that meets it."""

from __future__ import annotations

import torch

from bench.compress import mnist_lenet as lenet
from papers.cap_ram_chen2021 import method


def test_compact_cells_count_kept_rows_times_kept_columns():
    w = torch.zeros(4, 6)
    w[0, 1], w[2, 1], w[2, 4] = 1.0, -1.0, 2.0  # rows {0, 2}, columns {1, 4}: a 2x2 compacted block
    assert method.compact_cells({"a": w}, 4) == 2 * 2 * 4
    conv = torch.zeros(3, 2, 2, 2)
    conv[1, 0, 1, 1] = 1.0  # one filter, one column
    assert method.compact_cells({"a": w, "b": conv}, 4) == 16 + 4


def test_rate_for_budget_fits_the_macro_and_a_dense_lenet_does_not():
    dense = sum(w.numel() for w in lenet.weights(lenet.LeNet5()).values())
    assert dense * 4 > method.CELLS  # 430,500 weights of 4 bits: 26x the macro
    rate = method.rate_for_budget()
    assert method.projected_cells(rate, 4) <= method.CELLS
    assert method.projected_cells(rate / 1.01, 4) > method.CELLS  # the smallest such rate, in 1% steps


def test_partial_sum_bits_by_hand():
    # 64 rows x 8 (largest 4-bit signed magnitude) x 15 (largest 4-bit input) = 7680: log2(2·7680 + 1)
    assert abs(method.effective_bits(method.READOUT, 4, 4) - 13.907) < 1e-3
