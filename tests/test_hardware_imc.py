"""The in-memory-computing array model of bench/hardware/imc.py, pinned by hand-computed cases."""

from __future__ import annotations

import pytest
import torch

from bench.hardware.imc import IMCArray, adc_conversions, dense_arrays, imc_cost, input_bit_planes, mapped_arrays

W = torch.tensor([[1.0, 0.0, 0.0, 0.0],
                  [0.0, -2.0, 0.0, 0.0],
                  [0.0, 0.0, 0.0, 0.0]])  # (3 outputs, 4 inputs): inputs 2 and 3 unused, output 2 empty
X = torch.tensor([[3.0, 0.0, 5.0, 1.0]])  # at 2 bits, full scale 5: 3 -> 2, 0 -> 0, 5 -> 3, 1 -> 1


def small(**kw) -> IMCArray:
    return IMCArray(**{"rows": 2, "cols": 4, "weight_bits": 3, "cell_bits": 2, "input_bits": 2, **kw})


def test_cells_per_weight_by_sign_scheme():
    assert IMCArray().columns_per_weight == 8  # differential: 7 magnitude bits in 2-bit cells = 4 slices, twice
    assert IMCArray(sign="offset").columns_per_weight == 4  # 8 unsigned bits = 4 slices
    assert IMCArray(sign="offset").usable_cols == 127  # one reference column
    assert IMCArray(sign="polarized").columns_per_weight == 4  # 7 magnitude bits, sign per fragment
    assert IMCArray(weight_bits=16).columns_per_weight == 16  # ISAAC's 16-bit weights, differential


def test_dense_arrays_by_hand():
    # ⌈300/128⌉ = 3 row blocks; 50 outputs × 8 columns = 400 columns = ⌈400/128⌉ = 4 arrays per row block
    assert dense_arrays(300, 50, IMCArray()) == 12
    assert dense_arrays(4, 3, small()) == 2 * 2  # 2 row blocks; 3 outputs × 2 columns over 4 columns


def test_masked_mapping_drops_unused_inputs_and_empty_outputs():
    # used inputs {0, 1}: one block; outputs with a nonzero there: 0 and 1, 2 columns each: one 4-column array
    assert mapped_arrays(W, small()) == 1
    assert mapped_arrays(torch.zeros(3, 4), small()) == 0


def test_irregular_sparsity_saves_fewer_arrays_than_structured():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(64, 256, generator=g)
    irregular = w * (torch.rand(64, 256, generator=g) > 0.75)  # 75% zeros, scattered
    structured = w.clone()
    structured[16:] = 0  # 75% zeros as whole outputs
    cfg = IMCArray()
    assert mapped_arrays(irregular, cfg) == dense_arrays(256, 64, cfg) == 8
    assert mapped_arrays(structured, cfg) == 2


def test_input_bit_planes():
    planes = input_bit_planes(X, 2)
    assert planes[:, 0].int().tolist() == [[0, 0, 1, 1], [1, 0, 1, 0]]  # 2 = 10b, 0, 3 = 11b, 1 = 01b
    with pytest.raises(ValueError):
        input_bit_planes(-X, 2)


def test_adc_conversions_with_and_without_zero_skipping():
    cfg = small()
    # one fragment (inputs 0, 1); bit 0: both zero, skipped; bit 1: input 0 is one: 2 outputs × 2 columns
    assert adc_conversions(W, X, cfg) == 4
    assert adc_conversions(W, X, cfg, skip_zero=False) == 8
    # offset: 3 unsigned bits in 2-bit cells = 2 columns per weight; 2 outputs in 3 usable columns = 2 arrays,
    # so 4 weight columns + 2 reference columns are read in the one cycle that is not skipped
    assert adc_conversions(W, X, small(sign="offset")) == 6
    # polarized, fragments of one row: only input 0 in bit 1 is read: 2 outputs × 1 column
    assert adc_conversions(W, X, small(sign="polarized", fragment=1)) == 2


def test_cost_counts_and_unit_costs():
    out = imc_cost(W, X, small())
    assert out["arrays"] == 1 and out["cells"] == 8 and out["adc_conversions"] == 4 and out["energy_pj"] == 4


def test_invalid_configs():
    with pytest.raises(ValueError):
        IMCArray(sign="complement")
    with pytest.raises(ValueError):
        IMCArray(fragment=0)
    with pytest.raises(ValueError):
        IMCArray(cols=4, weight_bits=16)  # 16 columns per weight do not fit in 4
