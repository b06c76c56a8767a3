"""The structured execution forms compute the same operator as the dense one on the same weights."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from bench.compress.sparse_exec import block_compact_mv, csr_conv, csr_mv, pattern_grouped_conv
from bench.compress.structured import BlockRows, Connectivity, Pattern, pattern_library


def _patterned(out_ch=12, in_ch=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(out_ch, in_ch, 3, 3, generator=g, dtype=torch.float64)
    lib = pattern_library([w], size=4)
    w = Pattern(library=lib)(Connectivity(0.7)(w))
    return w, lib


def test_pattern_grouped_and_csr_conv_equal_dense():
    w, lib = _patterned()
    x = torch.randn(2, 8, 7, 5, dtype=torch.float64)
    dense = F.conv2d(x, w, padding=1)
    torch.testing.assert_close(pattern_grouped_conv(w, lib)(x), dense)
    torch.testing.assert_close(csr_conv(w)(x), dense)


def test_pattern_grouped_conv_refuses_a_kernel_outside_the_library():
    w, lib = _patterned()
    w[0, 0] = 1.0  # all nine taps
    with pytest.raises(ValueError, match="fits no pattern"):
        pattern_grouped_conv(w, lib)


@pytest.mark.parametrize("blocks", [1, 3, 4])
def test_block_compact_and_csr_mv_equal_dense(blocks):
    w = BlockRows(0.8, blocks=blocks)(torch.randn(30, 22, dtype=torch.float64))
    x = torch.randn(22, dtype=torch.float64)
    torch.testing.assert_close(block_compact_mv(w, blocks)(x), w @ x)
    torch.testing.assert_close(csr_mv(w)(x), w @ x)
