"""DARB's pieces: the density-adaptive set is an exact projection for fixed block lengths, the length rule meets the
ratio and follows density, the 4x4-block projection is exact, and the storage counts."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from bench.compress.admm import Irregular
from bench.compress.structured import BlockMax, csr_storage
from papers.darb_ren2019 import method


def _w(rows: int = 64, cols: int = 16, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    scale = torch.rand(cols, generator=g) * 3  # lines of very different magnitude, so densities differ
    return torch.randn(rows, cols, generator=g) * scale


def test_density_adaptive_blocks_is_the_exact_projection_for_fixed_lengths():
    v = torch.randn(6, 2, generator=torch.Generator().manual_seed(1))
    proj = method.DensityAdaptiveBlocks(0.5, sizes=(2, 3))
    p = proj(v)
    assert proj.contains(p)
    torch.testing.assert_close(proj(p), p)
    # brute force: every member of the set that keeps one entry per run (the others are closer to nothing)
    best = math.inf
    runs = [[(0, 2), (2, 4), (4, 6)], [(0, 3), (3, 6)]]
    choices = [list(itertools.product(*[range(s, e) for s, e in r])) for r in runs]
    for c0 in choices[0]:
        for c1 in choices[1]:
            x = torch.zeros_like(v)
            x[list(c0), 0] = v[list(c0), 0]
            x[list(c1), 1] = v[list(c1), 1]
            best = min(best, float((x - v).norm()))
    assert float((p - v).norm()) == pytest.approx(best)


def test_equal_lengths_are_block_max():
    v = _w()
    torch.testing.assert_close(method.DensityAdaptiveBlocks(0.875, sizes=(8,) * 16)(v), BlockMax(0.875)(v))


@pytest.mark.parametrize("ratio", [0.875, 0.9375])
def test_block_sizes_meet_the_ratio_and_follow_density(ratio):
    w = _w()
    sizes = method.darb_block_sizes(w, ratio)
    proj = method.DensityAdaptiveBlocks(ratio, sizes=sizes)
    budget = w.numel() - round(ratio * w.numel())
    kept = proj.kept(w.shape[0])
    assert kept <= budget and kept >= 0.8 * budget
    assert all(b in method.SIZES for b in sizes)
    assert int((proj(w) != 0).sum()) == kept
    density = Irregular(ratio).support(w).sum(0)
    dense_line, sparse_line = int(density.argmax()), int(density.argmin())
    assert sizes[dense_line] < sizes[sparse_line]  # denser lines get shorter blocks
    assert len(set(sizes)) > 1


def test_block_sizes_are_uniform_for_uniform_density():
    w = torch.arange(64 * 8, dtype=torch.float).reshape(64, 8)  # interleaved: every line keeps 8 of 64
    assert set(method.darb_block_sizes(w, 0.875)) == {8}


def test_blocks2d_is_exact_and_keeps_whole_blocks():
    v = _w(8, 8, seed=2)
    proj = method.Blocks2D(0.5, block=(4, 4))
    p = proj(v)
    assert proj.contains(p) and int((p != 0).sum()) == 32
    torch.testing.assert_close(proj(p), p)
    blocks = [(r, c) for r in (0, 4) for c in (0, 4)]
    best = min(float(sum(v[r:r + 4, c:c + 4].pow(2).sum() for r, c in blocks if (r, c) not in keep))
               for keep in itertools.combinations(blocks, 2))
    assert float((p - v).pow(2).sum()) == pytest.approx(best, rel=1e-5)
    with pytest.raises(ValueError):
        proj(torch.randn(6, 8))


def test_index_bits_per_kept_weight():
    w = _w(512, 128)
    proj = method.DensityAdaptiveBlocks(0.9375, sizes=method.darb_block_sizes(w, 0.9375))
    p = proj(w)
    st = method.darb_storage(p, proj)
    offsets = sum(math.ceil(512 / b) * math.ceil(math.log2(b)) for b in proj.sizes)
    assert st.kept == proj.kept(512) and st.index_bits == offsets + 128 * 3
    csr = csr_storage(Irregular(0.9375)(w))
    assert st.index_bits / st.kept < csr.index_bits / csr.kept
    b = method.Blocks2D(0.825)
    blk = method.block2d_storage(b(w), b)
    assert blk.kept % 16 == 0 and blk.index_bits / blk.kept < 1
