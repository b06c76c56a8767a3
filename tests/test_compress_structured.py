"""The fine-grained projections (bench/compress/structured.py) are exact Euclidean projections: the result is in
the set, projecting again changes nothing, and no member of the set, enumerated by brute force on small random
cases, is closer; two constraint sets on one layer get one copy and one dual each in the engine."""

import itertools

import pytest
import torch
from torch import nn

from bench.compress import admm
from bench.compress import structured as st


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _dist(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).pow(2).sum())


def _best_over_supports(v: torch.Tensor, supports) -> float:
    """The squared distance from ``v`` to the closest member of a union of coordinate subspaces."""
    return min(_dist(v, v * s) for s in supports)


def _check(proj, v: torch.Tensor, best: float) -> None:
    p = proj(v)
    assert p.shape == v.shape
    assert proj.contains(p)
    assert torch.allclose(proj(p), p)  # idempotent
    assert _dist(v, p) <= best + 1e-9  # no enumerated member is closer
    assert _dist(v, p) >= best - 1e-9  # and the projection is one of them


# --- patterns and connectivity -----------------------------------------------------------------------------


LIB = ((0, 1, 4, 5), (1, 3, 4, 7), (4, 5, 7, 8))


def test_pattern_projection_is_exact_by_enumeration():
    proj = st.Pattern(library=LIB)
    assert proj.ratio == pytest.approx(5 / 9)
    masks = [torch.zeros(9, dtype=torch.bool).index_fill_(0, torch.tensor(p), True) for p in LIB]
    for seed in range(5):
        v = torch.randn(1, 2, 3, 3, generator=_gen(seed), dtype=torch.float64)
        supports = [torch.stack([a, b]).reshape(1, 2, 3, 3) for a, b in itertools.product(masks, repeat=2)]
        _check(proj, v, _best_over_supports(v, supports))


def test_pattern_contains_rejects_entries_outside_every_pattern():
    proj = st.Pattern(library=LIB)
    w = torch.zeros(1, 1, 3, 3)
    w[0, 0, 0, 0] = w[0, 0, 2, 2] = 1.0  # indices 0 and 8 are in no single pattern
    assert not proj.contains(w)
    assert proj.contains(proj(w))


def test_library_keeps_the_centre_and_counts_the_most_frequent():
    w = torch.zeros(3, 1, 3, 3)
    w[:, 0, 1, 1] = 0.01  # the centre is kept even when it is the smallest entry
    w[0, 0, 0, :] = w[1, 0, 0, :] = torch.tensor([3.0, 2.0, 1.0])  # two kernels with top entries 0, 1, 2
    w[2, 0, 2, :] = torch.tensor([3.0, 2.0, 1.0])
    assert st.candidate_patterns(w) == [(0, 1, 2, 4), (0, 1, 2, 4), (4, 6, 7, 8)]
    assert st.pattern_library([w], size=1) == ((0, 1, 2, 4),)
    assert st.pattern_library([w], size=8) == ((0, 1, 2, 4), (4, 6, 7, 8))


def test_connectivity_projection_is_exact_by_enumeration():
    proj = st.Connectivity(0.5)  # keep 3 of 6 kernels
    for seed in range(5):
        v = torch.randn(2, 3, 3, 3, generator=_gen(seed), dtype=torch.float64)
        supports = []
        for kept in itertools.combinations(range(6), 3):
            s = torch.zeros(6, 9, dtype=torch.bool)
            s[list(kept)] = True
            supports.append(s.reshape(2, 3, 3, 3))
        _check(proj, v, _best_over_supports(v, supports))


def test_kernel_projections_need_conv_weights():
    with pytest.raises(ValueError, match="conv weight"):
        st.Connectivity(0.5)(torch.randn(4, 4))
    with pytest.raises(ValueError, match="library"):
        st.Pattern(library=())


# --- blocks ------------------------------------------------------------------------------------------------


def _row_subsets(rows: int, k: int):
    for kept in itertools.combinations(range(rows), k):
        m = torch.zeros(rows, dtype=torch.bool)
        m[list(kept)] = True
        yield m


def _fragment_supports(shape, row_cuts, col_cuts, k):
    """Every support that keeps ``k`` whole rows inside each fragment."""
    frags = [(r, c) for r in row_cuts for c in col_cuts]
    choices = [list(_row_subsets(r[1] - r[0], k)) for r, _ in frags]
    for pick in itertools.product(*choices):
        s = torch.zeros(shape, dtype=torch.bool)
        for ((r0, r1), (c0, c1)), rows in zip(frags, pick, strict=True):
            s[r0:r1, c0:c1] = rows[:, None]
        yield s


@pytest.mark.parametrize("row_blocks,col_blocks", [(1, 2), (2, 2), (1, 3)])
def test_balanced_block_projection_is_exact_by_enumeration(row_blocks, col_blocks):
    shape = (4, 6)
    proj = st.BalancedBlocks(0.5, row_blocks=row_blocks, col_blocks=col_blocks)
    rows, cols = st._cuts(4, row_blocks), st._cuts(6, col_blocks)
    k = admm._kept(rows[0][1] - rows[0][0], 0.5)
    supports = list(_fragment_supports(shape, rows, cols, k))
    for seed in range(4):
        v = torch.randn(shape, generator=_gen(seed), dtype=torch.float64)
        _check(proj, v, _best_over_supports(v, supports))


def test_block_rows_is_rtmobile_default_and_block_columns_its_transpose():
    v = torch.randn(8, 12, generator=_gen(1), dtype=torch.float64)
    rows = st.BlockRows(0.75)
    assert (rows.row_blocks, rows.col_blocks) == (1, 4)
    p = rows(v)
    for c0, c1 in st._cuts(12, 4):  # each column block keeps 2 of its 8 rows
        assert int((p[:, c0:c1] != 0).any(1).sum()) == 2
    cols = st.BlockColumns(0.5, blocks=2)
    assert torch.equal(cols(v), st.BlockRows(0.5, blocks=2)(v.T).T)
    supports = [s.T for s in _fragment_supports((6, 4), st._cuts(6, 1), st._cuts(4, 2), 3)]
    w = torch.randn(4, 6, generator=_gen(2), dtype=torch.float64)
    _check(cols, w, _best_over_supports(w, supports))


def test_block_projections_differ_from_whole_row_pruning():
    """Each block picks its own rows: a row strong in one block only survives there."""
    v = torch.zeros(2, 4)
    v[0, :2] = 5.0
    v[1, 2:] = 5.0
    p = st.BlockRows(0.5, blocks=2)(v)
    assert torch.equal(p, v)
    assert int((admm.Filter(0.5)(v) != 0).sum()) == 2


# --- block max ---------------------------------------------------------------------------------------------


def test_block_max_projection_is_exact_by_enumeration():
    proj = st.BlockMax(2 / 3)  # keep 1 in 3
    assert proj.block == 3 and proj.index_bits() == 2
    shape = (5, 2)  # runs [0, 3) and [3, 5) along each column
    runs = [(0, 3), (3, 5)]
    supports = []
    for pick in itertools.product(*[range(s, e) for s, e in runs for _ in range(shape[1])]):
        s = torch.zeros(shape, dtype=torch.bool)
        for j, row in enumerate(pick):
            s[row, j % shape[1]] = True
        if all(int(s[a:b].sum(0).max()) <= 1 for a, b in runs):
            supports.append(s)
    for seed in range(5):
        v = torch.randn(shape, generator=_gen(seed), dtype=torch.float64)
        _check(proj, v, _best_over_supports(v, supports))


def test_block_max_on_a_linear_runs_along_the_outputs_of_each_input():
    w = torch.arange(16.0).reshape(4, 4)  # (out, in)
    p = st.BlockMax(0.5)(w)
    assert torch.equal((p != 0).sum(0), torch.full((4,), 2))  # per input: one kept in each run of 2 outputs
    assert torch.equal(p[1], w[1]) and torch.equal(p[3], w[3])


# --- unification -------------------------------------------------------------------------------------------


def _unify_block(b: torch.Tensor) -> torch.Tensor:
    return b.abs().mean() * torch.where(b >= 0, 1.0, -1.0).to(b.dtype)


def test_unify_projection_is_exact_by_enumeration():
    proj = st.Unify(0.5, block=(1, 2))
    for seed in range(5):
        v = torch.randn(2, 4, generator=_gen(seed), dtype=torch.float64)
        blocks = [(r, c) for r in range(2) for c in (0, 2)]
        best = float("inf")
        for chosen in itertools.combinations(blocks, 2):
            x = v.clone()
            for r, c in chosen:
                x[r, c:c + 2] = _unify_block(v[r, c:c + 2])
            best = min(best, _dist(v, x))
        _check(proj, v, best)


def test_unify_by_sampling_against_random_members():
    """On a conv-shaped weight, random members of the set (random blocks unified at random magnitudes) are
    never closer than the projection."""
    proj = st.Unify(0.75, block=(2, 2))
    gen = _gen(3)
    v = torch.randn(4, 2, 2, 2, generator=gen, dtype=torch.float64)
    d = _dist(v, proj(v))
    assert proj.contains(proj(v))
    blocks = proj._blocks(v)
    for _ in range(500):
        b = torch.randn(blocks.shape, generator=gen, dtype=torch.float64) * 0.3 + blocks
        pick = torch.randperm(len(b), generator=gen)[: round(0.75 * len(b))]
        b[pick] = b[pick].abs().mean(1, keepdim=True) * torch.sign(torch.randn(len(pick), 4, generator=gen,
                                                                                dtype=torch.float64))
        assert _dist(v, proj._unblock(b, v)) >= d - 1e-12


def test_unify_rejects_a_matrix_that_does_not_split():
    with pytest.raises(ValueError, match="does not split"):
        st.Unify(0.5, block=(1, 4))(torch.randn(3, 6))


# --- more than one constraint set per layer ----------------------------------------------------------------


def test_two_constraint_sets_on_one_layer_get_a_copy_and_a_dual_each():
    """PatDNN's two duals: pattern (Z, U) and connectivity (Y, V) on the same weight, as two engine targets."""
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 4, 3, bias=False)
    lib = st.pattern_library([conv.weight], size=4)
    pattern, conn = st.Pattern(library=lib), st.Connectivity(0.5)
    engine = admm.ADMM({"conv:pattern": (conv.weight, pattern), "conv:connectivity": (conv.weight, conn)}, rho=0.1)
    w = conv.weight.detach()
    expected = 0.05 * ((w - pattern(w)).pow(2).sum() + (w - conn(w)).pow(2).sum())
    assert torch.allclose(engine.penalty(), expected)
    with torch.no_grad():
        conv.weight.add_(0.01 * torch.randn_like(conv.weight))
    w = conv.weight.detach().clone()
    engine.update()
    assert torch.allclose(engine.Z["conv:pattern"], pattern(w))
    assert torch.allclose(engine.Z["conv:connectivity"], conn(w))
    assert torch.allclose(engine.U["conv:pattern"], w - pattern(w))
    assert torch.allclose(engine.U["conv:connectivity"], w - conn(w))
    masks = engine.project_()
    final = conv.weight.detach()
    assert pattern.contains(final) and conn.contains(final)
    kept = (final != 0).reshape(8, 9).any(1)
    assert int(kept.sum()) <= 4
    assert len(masks.masks) == 2


# --- storage that counts the index -------------------------------------------------------------------------


def test_csr_storage_counts_values_columns_and_row_pointers():
    w = torch.zeros(4, 8)
    w[0, 1] = w[2, 5] = w[2, 7] = 1.0
    s = st.csr_storage(w, value_bits=8)
    # 3 values of 8 bits, 3 column indices of 3 bits, 5 row pointers of 2 bits (0..3)
    assert (s.kept, s.value_bits, s.index_bits) == (3, 24, 9 + 10)
    assert s.bits_per_kept == pytest.approx(43 / 3)


def test_pattern_storage_counts_kernel_index_pattern_id_and_filter_pointers():
    w = torch.zeros(2, 4, 3, 3)
    proj = st.Pattern(library=LIB)
    w[0, 1] = w[1, 3] = 1.0
    w = proj(w)
    s = st.pattern_storage(w, library_size=3, value_bits=8)
    # 2 kept kernels x (2-bit channel index + 2-bit pattern id) + 3 filter pointers of 2 bits; 2 x 4 values
    assert (s.kept, s.value_bits, s.index_bits) == (8, 64, 2 * 4 + 3 * 2)


def test_block_storages_against_hand_counts():
    w = torch.randn(8, 12, generator=_gen(0))
    proj = st.BlockRows(0.75)  # 4 column blocks of 3, 2 of 8 rows kept in each
    s = st.block_rows_storage(proj(w), proj, value_bits=8)
    assert (s.kept, s.value_bits, s.index_bits) == (24, 24 * 8, 4 * 8)
    bm = st.BlockMax(0.75)  # runs of 4 along the 8 outputs: 2 runs per input, 2-bit offsets
    s = st.block_max_storage(bm(w), bm, value_bits=8)
    assert (s.kept, s.value_bits, s.index_bits) == (24, 24 * 8, 24 * 2)
    # at this density the block-max index is far smaller than CSR's
    assert s.index_bits < st.csr_storage(bm(w), value_bits=8).index_bits / 2
