"""The low-rank toolkit (bench.compress.lowrank): exact at full rank, within the energy bound below it."""

import pytest
import torch
from torch import nn

from bench.compress import lowrank as lr

CONVS = [  # (in, out, kernel, stride, padding)
    (6, 10, 3, 1, 1), (6, 10, 3, 2, 1), (4, 12, 5, 1, 0), (3, 8, 5, 2, 2), (5, 7, (3, 5), (1, 2), (1, 2)),
]


@pytest.mark.parametrize("scheme", lr.SCHEMES)
@pytest.mark.parametrize("shape", CONVS)
def test_decomposed_conv_is_exact_at_full_rank(scheme, shape):
    torch.manual_seed(0)
    conv = nn.Conv2d(*shape).double()
    x = torch.randn(2, shape[0], 13, 11, dtype=torch.float64)
    full = len(lr.singular_values(conv.weight, scheme))
    for balance in (0.0, 0.5):
        dec = lr.decomposed_conv(conv, scheme, full, balance)
        torch.testing.assert_close(dec(x), conv(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("scheme", lr.SCHEMES)
@pytest.mark.parametrize("energy", [0.5, 0.8, 0.95])
def test_reduced_rank_error_is_within_the_energy_bound(scheme, energy):
    torch.manual_seed(1)
    conv = nn.Conv2d(8, 16, 3, 1, 1).double()
    sigma = lr.singular_values(conv.weight, scheme)
    rank = lr.energy_rank(sigma, energy)
    assert lr.energy_kept(sigma, rank) >= energy > lr.energy_kept(sigma, rank - 1) if rank > 1 else True
    w = lr.low_rank_weight(conv.weight, scheme, rank)
    rel_err = ((w - conv.weight) ** 2).sum() / (conv.weight ** 2).sum()
    assert rel_err <= 1 - energy + 1e-12  # Eckart–Young: the error is the dropped energy
    torch.testing.assert_close(rel_err.item(), 1 - lr.energy_kept(sigma, rank), rtol=1e-9, atol=1e-12)
    # the two-conv layer computes the conv with the rank-r weight, and the first factor is orthonormal at balance 0
    dec = lr.decomposed_conv(conv, scheme, rank, balance=0.0)
    ref = nn.Conv2d(8, 16, 3, 1, 1).double()
    with torch.no_grad():
        ref.weight.copy_(w)
        ref.bias.copy_(conv.bias)
    x = torch.randn(2, 8, 9, 9, dtype=torch.float64)
    torch.testing.assert_close(dec(x), ref(x), rtol=0, atol=1e-12)
    first = dec[0].weight  # (r, C, kh, kw) or (r, C, kh, 1): rows are the first factor's orthonormal vectors
    basis = first.reshape(rank, -1)
    torch.testing.assert_close(basis @ basis.T, torch.eye(rank, dtype=torch.float64), rtol=0, atol=1e-12)


def test_rank_rules():
    s = torch.tensor([4.0, 2.0, 1.0, 0.5, 0.0])
    # energies 16, 4, 1, 0.25 of 21.25: cumulative 0.753, 0.941, 0.988, 1
    assert lr.energy_rank(s, 0.75) == 1
    assert lr.energy_rank(s, 0.94) == 2
    assert lr.energy_rank(s, 0.95) == 3
    assert lr.energy_rank(s, 1.0) == 4
    assert lr.threshold_rank(s, 0.75) == 3
    assert lr.threshold_rank(s, 0.3, relative=True) == 2
    assert lr.threshold_rank(torch.zeros(3), 0.1) == 1
    with pytest.raises(ValueError, match="energy"):
        lr.energy_rank(s, 0)


@pytest.mark.parametrize("scheme", lr.SCHEMES)
def test_nuclear_subgradient_is_u_vt_and_the_gradient_of_the_nuclear_norm(scheme):
    torch.manual_seed(2)
    w = torch.randn(5, 3, 3, 3, dtype=torch.float64)
    g = lr.nuclear_subgradient(w, scheme)
    m = lr.as_matrix(w, scheme)
    u, s, vh = torch.linalg.svd(m, full_matrices=False)
    torch.testing.assert_close(lr.as_matrix(g, scheme), u @ vh)
    # where singular values are distinct and nonzero, U·Vᵀ is the gradient of Σσ: autograd agrees
    wr = w.clone().requires_grad_()
    torch.linalg.svdvals(lr.as_matrix(wr, scheme)).sum().backward()
    torch.testing.assert_close(wr.grad, g)
    # truncated: U_r·V_rᵀ
    torch.testing.assert_close(lr.as_matrix(lr.nuclear_subgradient(w, scheme, 2), scheme), u[:, :2] @ vh[:2])
    # the subgradient's inner product with the matrix is its nuclear norm
    torch.testing.assert_close((g * w).sum(), s.sum())


def test_matrix_round_trip_and_errors():
    w = torch.randn(4, 3, 2, 5)
    for scheme in lr.SCHEMES:
        assert torch.equal(lr.from_matrix(lr.as_matrix(w, scheme), scheme, w.shape), w)
    assert lr.as_matrix(w, "spatial").shape == (3 * 2, 4 * 5)
    with pytest.raises(ValueError, match="scheme"):
        lr.as_matrix(w, "tucker")
    with pytest.raises(ValueError, match="rank"):
        lr.factorize(w, "channel", 0)


def test_decompose_replaces_selected_convs_and_counts_flops():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(32, 32, 1))
    x = torch.randn(1, 3, 8, 8)
    dense = lr.count_flops(model, x)
    assert dense == 2 * 64 * (16 * 3 * 9 + 32 * 16 * 9 + 32 * 32)  # 2 FLOPs per MAC, 8×8 outputs
    new, report = lr.decompose(model, "channel", lambda name, s: 4 if name == "2" else 20,
                               include=lambda name, conv: name != "0")
    assert [r.name for r in report] == ["2", "4"]
    assert report[0].replaced and not report[1].replaced  # 1×1 32→32 at rank 20: 1280 MACs > 1024, kept
    assert isinstance(new[2], nn.Sequential) and isinstance(new[0], nn.Conv2d) and new[4] is not model[4]
    assert lr.count_flops(new, x) == 2 * 64 * (16 * 3 * 9 + 4 * 16 * 9 + 32 * 4 + 32 * 32)
    head = nn.Sequential(model, nn.Flatten(), nn.Linear(32 * 64, 10))
    assert lr.count_flops(head, x) == dense + 2 * 32 * 64 * 10
    assert lr.count_flops(head, x, conv_only=True) == dense
    assert [r.rank for r in report] == [4, 20] and report[0].full_rank == 32
    assert lr.conv_macs(model[2], (8, 8), "channel", 4) == 64 * (4 * 16 * 9 + 32 * 4)
    assert isinstance(model[2], nn.Conv2d)  # the original is untouched
