"""RTMobile's pieces: the three constraint sets at equal compression, BSP's block structure, and the storage
context."""

from __future__ import annotations

import pytest
import torch

from bench.compress import ptb_lm
from papers.rtmobile_dong2020 import method


def _w(seed: int = 0) -> torch.Tensor:
    return torch.randn(96, 32, generator=torch.Generator().manual_seed(seed))  # a GRU (3·32, 32) matrix


@pytest.mark.parametrize("arm", method.ARMS)
def test_every_arm_is_a_feasible_idempotent_projection_at_10x(arm):
    proj = method.projection(arm, 0.9, blocks=4)
    p = proj(_w())
    assert proj.contains(p)
    torch.testing.assert_close(proj(p), p)
    assert abs(int((p != 0).sum()) / p.numel() - 0.1) < 0.01


def test_bsp_prunes_rows_inside_each_of_four_column_blocks():
    p = method.bsp(0.9, blocks=4)(_w())
    for c0 in range(0, 32, 8):
        block = p[:, c0:c0 + 8] != 0
        rows = block.any(1)
        assert int(rows.sum()) == 10 and bool((block[rows]).all())  # 10 of 96 rows, each kept whole in the block
    kept_rows = [(p[:, c0:c0 + 8] != 0).any(1) for c0 in range(0, 32, 8)]
    assert not all(torch.equal(kept_rows[0], r) for r in kept_rows[1:])  # blocks choose their rows independently


def test_whole_rows_keep_entire_rows_and_bsp_keeps_at_least_their_energy():
    w = _w(1)
    rows = method.whole_rows(0.9)(w)
    nz = rows != 0
    assert bool((nz.any(1) == nz.all(1)).all())
    bsp = method.bsp(0.9)(w)
    unstructured = method.unstructured(0.9)(w)
    # finer sets keep more energy at the same count: unstructured >= BSP >= whole rows
    assert unstructured.norm() >= bsp.norm() >= rows.norm()


def test_unknown_arm_is_refused():
    with pytest.raises(ValueError):
        method.projection("column", 0.9, 4)


def test_bsp_index_is_far_smaller_than_csr():
    w = method.bsp(0.9)(_w())
    bsp_bits = method.block_rows_storage(w, method.bsp(0.9)).index_bits / int((w != 0).sum())
    csr_bits = method.csr_storage(w).index_bits / int((w != 0).sum())
    assert bsp_bits < 1.5 < 5 < csr_bits


def test_projections_apply_to_every_recurrent_matrix_of_a_gru_lm():
    model = ptb_lm.RecurrentLM(50, hidden=32, layers=2, cell="gru")
    proj = method.bsp(0.9)
    with torch.no_grad():
        for w in ptb_lm.recurrent_weights(model).values():
            w.copy_(proj(w))
    assert abs(ptb_lm.kept_fraction(model) - 0.1) < 0.01
