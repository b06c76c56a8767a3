"""SSL's method: group Lasso math, zeroing, frozen fine-tuning, exact compaction, the AlexNet GEMM cases."""

from __future__ import annotations

import pytest
import torch

from bench.models import MLP, LeNet5
from papers.ssl_wen2016.latency import ALEXNET, VARIANTS, gemm_callable, gemm_operands
from papers.ssl_wen2016.method import (
    ChainLayer,
    FrozenZeros,
    GroupLasso,
    GroupTerm,
    compact_chain,
    connectivity_mask,
    group_lasso_grad,
    group_lasso_penalty,
    group_norms,
    zerout_,
)

KINDS = ("filter", "channel", "shape", "depth")


@pytest.mark.parametrize("kind", KINDS)
def test_norms_partition_the_weight(kind):
    w = torch.randn(6, 4, 3, 3, generator=torch.Generator().manual_seed(0))
    # groups of one kind partition the tensor: their squared norms add up to the whole squared norm
    assert group_norms(w, kind).pow(2).sum() == pytest.approx(w.pow(2).sum().item(), rel=1e-5)
    expected = {"filter": 6, "channel": 4, "shape": 36, "depth": 1}[kind]
    assert group_norms(w, kind).numel() == expected


@pytest.mark.parametrize("kind", KINDS)
def test_grad_is_the_gradient_of_the_penalty(kind):
    w = torch.randn(6, 4, 3, 3, generator=torch.Generator().manual_seed(1), requires_grad=True)
    group_lasso_penalty(w, kind).backward()
    torch.testing.assert_close(group_lasso_grad(w.detach(), kind), w.grad)


def test_zero_group_gets_zero_subgradient():
    w = torch.randn(5, 3, 2, 2)
    w[2] = 0  # a zero filter
    g = group_lasso_grad(w, "filter")
    assert torch.equal(g[2], torch.zeros_like(g[2])) and torch.isfinite(g).all()
    # each nonzero group's subgradient has unit norm
    assert group_norms(g, "filter")[[0, 1, 3, 4]] == pytest.approx([1.0] * 4)


def test_subgradient_step_shrinks_each_group_norm_by_lr_lambda():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(4, 3, 3, 3))
    before = group_norms(w.detach(), "filter").clone()
    w.grad = torch.zeros_like(w)
    GroupLasso([GroupTerm(w, "filter", 0.5)]).add_grad_()
    with torch.no_grad():
        w -= 0.1 * w.grad  # plain SGD, no data gradient
    torch.testing.assert_close(group_norms(w.detach(), "filter"), before - 0.05)


def test_small_group_is_zeroed_whole_and_others_untouched():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(4, 2, 3, 3))
    with torch.no_grad():
        w[1] *= 1e-4  # a filter whose norm (≈4e-4) is within one step of zero
    model = torch.nn.Module()
    model.w = w
    big = w.detach()[[0, 2, 3]].clone()
    w.grad = torch.zeros_like(w)
    GroupLasso([GroupTerm(w, "filter", 4e-3)]).add_grad_()
    with torch.no_grad():
        w -= 0.1 * w.grad  # the step (4e-4) takes the small filter to ~0 along its own direction
    zerout_(model)
    assert torch.equal(w[1], torch.zeros_like(w[1]))
    assert (w.detach()[[0, 2, 3]] != 0).all()
    assert group_norms(w.detach()[[0, 2, 3]], "filter") == pytest.approx(
        (group_norms(big, "filter") - 4e-4).tolist(), abs=1e-5)


def test_invalid_arguments_raise():
    w = torch.nn.Parameter(torch.randn(2, 2))
    with pytest.raises(ValueError, match="group kind"):
        GroupLasso([GroupTerm(w, "row", 0.1)])
    with pytest.raises(ValueError, match=">= 0"):
        GroupLasso([GroupTerm(w, "filter", -1.0)])
    with pytest.raises(ValueError, match="mode"):
        connectivity_mask(w, "rowwise")


def test_groupwise_mask_drops_zero_rows_and_columns():
    w = torch.ones(3, 4)
    w[1] = 0
    w[:, 2] = 0
    w[0, 0] = 0  # an isolated zero stays trainable in group-wise mode
    mask = connectivity_mask(w, "groupwise")
    assert mask[1].sum() == 0 and mask[:, 2].sum() == 0 and mask[0, 0] == 1
    assert torch.equal(connectivity_mask(w, "eltwise"), (w != 0).float())


def test_frozen_zeros_survive_momentum_and_weight_decay():
    torch.manual_seed(0)
    lin = torch.nn.Linear(6, 4)
    with torch.no_grad():
        lin.weight[2] = 0
        lin.weight[:, 5] = 0
    frozen = FrozenZeros([lin.weight])
    opt = torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    for _ in range(3):
        opt.zero_grad()
        lin(torch.randn(8, 6)).pow(2).sum().backward()
        opt.step()
        frozen.apply_()
    assert lin.weight[2].abs().sum() == 0 and lin.weight[:, 5].abs().sum() == 0
    assert (lin.weight[[0, 1, 3]][:, :5] != 0).all()


def _sparse_lenet(seed=0):
    torch.manual_seed(seed)
    m = LeNet5()
    with torch.no_grad():
        for p in (m.conv1.bias, m.conv2.bias, m.fc1.bias):
            p.uniform_(-0.5, 0.5)  # nonzero biases: removed filters leave constants to fold
        m.conv1.weight[[1, 5, 7]] = 0  # zero filters of conv1
        m.conv2.weight[:, [2, 3, 9]] = 0  # conv2 channels never read: conv1 filters 2, 3, 9 are unused
        m.conv2.weight[[0, 4, 11]] = 0  # zero filters of conv2: constants folded into fc1
        m.conv2.weight.view(50, -1)[:, torch.randperm(500)[:200]] = 0  # shape columns
        m.conv1.weight.view(20, -1)[:, [0, 4, 24]] = 0
        m.fc1.weight[[3, 8]] = 0
    return m


def test_compacted_lenet_equals_masked_lenet():
    m = _sparse_lenet()
    chain = [ChainLayer(m.conv1, "maxpool2"), ChainLayer(m.conv2, "maxpool2"), ChainLayer(m.fc1, "relu", 16),
             ChainLayer(m.fc2)]
    compact = compact_chain(chain, (28, 28))
    x = torch.randn(16, 1, 28, 28)
    torch.testing.assert_close(compact(x), m(x), rtol=1e-5, atol=1e-5)
    conv1, conv2 = compact.stats[:2]
    assert conv1["rows"] == 20 - 3 - 3 and conv1["cols"] == 22  # zero and unused filters; 3 zero columns
    assert conv2["in_channels"] == 14 and conv2["rows"] == 47
    assert conv1["macs"] == 14 * 22 * 24 * 24 and conv1["dense_macs"] == 20 * 25 * 24 * 24


def test_compacted_mlp_equals_masked_mlp():
    torch.manual_seed(0)
    m = MLP(784, [50, 30], 10)
    lins = [x for x in m.net if isinstance(x, torch.nn.Linear)]
    with torch.no_grad():
        lins[0].weight[:, :300] = 0  # input pixels never read
        lins[0].weight[[5, 6]] = 0  # dead hidden neurons (constant relu(bias))
        lins[1].weight[:, 10:20] = 0  # hidden neurons nobody reads
    compact = compact_chain([ChainLayer(lins[0], "relu"), ChainLayer(lins[1], "relu"), ChainLayer(lins[2])], None)
    x = torch.randn(8, 1, 28, 28)
    torch.testing.assert_close(compact(x), m(x), rtol=1e-5, atol=1e-5)
    assert compact.stats[0]["cols"] == 484 and compact.stats[0]["rows"] == 50 - 2 - 10


def test_compaction_refuses_padded_convs():
    conv = torch.nn.Conv2d(1, 2, 3, padding=1)
    with pytest.raises(ValueError, match="unpadded"):
        compact_chain([ChainLayer(conv), ChainLayer(torch.nn.Conv2d(2, 2, 3))], (8, 8))


def test_alexnet_cases_match_the_paper_sparsity():
    conv3 = ALEXNET[2]
    assert conv3.kept == (228, 532)  # 384 × (1 − 0.406), 2304 × (1 − 0.769)
    assert conv3.flop_bound == pytest.approx(1 / ((228 / 384) * (532 / 2304)))
    mean_bound = sum(layer.flop_bound for layer in ALEXNET) / len(ALEXNET)
    assert 5.1 < mean_bound < 6.5  # the paper's measured 5.1× average sits below the FLOP bound
    out = {v: gemm_callable(conv3, v, torch.device("cpu"), 0)() for v in VARIANTS}
    assert [o.shape for o in out["dense"]] == [o.shape for o in out["csr-l1"]] == [(384, 169)]
    assert [o.shape for o in out["structured"]] == [(228, 169)]


@pytest.mark.parametrize("variant,attr", [("csr-l1", "l1_sparsity"), ("csr-equal", "ssl_sparsity")])
def test_csr_cases_have_the_intended_sparsity(variant, attr):
    conv2 = ALEXNET[1]
    mats = gemm_operands(conv2, variant, 0)
    assert len(mats) == conv2.groups == 2
    for w, _ in mats:
        assert w.layout == torch.sparse_csr
        assert w._nnz() / (conv2.filters * conv2.cols) == pytest.approx(1 - getattr(conv2, attr), abs=0.01)


def test_csr_product_equals_dense_product_of_the_same_weights():
    w, x = gemm_operands(ALEXNET[4], "csr-equal", 3)[0]
    torch.testing.assert_close(w @ x, w.to_dense() @ x, rtol=1e-4, atol=1e-3)
