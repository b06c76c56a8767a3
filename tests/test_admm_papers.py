"""The LeNet-5 ADMM papers' own pieces: the shared recipe's ratios and projections, ADMM-NN-S's storage model and
interpolation, P-RM's purification and unused path removal."""

import math

import pytest
import torch

from bench.compress import mnist_lenet as lenet
from bench.compress.admm import FilterColumn, prune_rate
from bench.models import LeNet5
from papers.admm_nn_s_ma2019 import method as nns
from papers.prm_ma2019 import method as prm


def test_ratios_for_rate_reach_the_rate_in_the_template_proportions():
    sizes = {n: w.numel() for n, w in lenet.weights(LeNet5()).items()}
    total = sum(sizes.values())
    assert total == 430500
    template = sum(sizes[n] * (1 - r) for n, r in lenet.TEMPLATE_RATIOS.items())
    assert total / template == pytest.approx(74.5, abs=0.1)
    for rate in (40, 246, 348):
        ratios = lenet.ratios_for_rate(rate)
        kept = {n: sizes[n] * (1 - r) for n, r in ratios.items()}
        assert total / sum(kept.values()) == pytest.approx(rate)
        for n in sizes:  # same proportions as the template
            assert kept[n] / sum(kept.values()) == pytest.approx(
                sizes[n] * (1 - lenet.TEMPLATE_RATIOS[n]) / template)
    with pytest.raises(ValueError):
        lenet.ratios_for_rate(10)


@pytest.mark.parametrize("proportions,rate", [("uniform", 12), ("template", 120)])
def test_structured_projections_prune_rows_and_columns_to_about_the_rate(proportions, rate):
    torch.manual_seed(0)
    model = LeNet5()
    w = lenet.weights(model)
    projections = lenet.structured_projections(rate, proportions)
    assert all(isinstance(p, FilterColumn) for p in projections.values())
    assert projections["fc2"].ratio == 0.0  # the 10 class rows stay
    pruned = {n: projections[n](t.detach()) for n, t in w.items()}
    for n, p in projections.items():
        assert p.contains(pruned[n])
    assert prune_rate(pruned) == pytest.approx(rate, rel=0.25)  # rows and columns are rounded per layer


def test_relative_index_counts_fillers_for_long_gaps():
    mask = torch.zeros(40, dtype=torch.bool)
    mask[[0, 3, 39]] = True  # gaps 1, 3, 36
    assert nns.relative_index_entries(mask, 2) == 1 + 1 + 9  # steps of at most 4
    assert nns.relative_index_entries(mask, 6) == 3
    w = torch.zeros(4, 10)
    w[0, 0], w[0, 3], w[3, 9] = 1.0, 2.0, 3.0
    bits, width = nns.irregular_bits(w, 8)
    assert bits == min(nns.relative_index_entries(w != 0, i) * (8 + i) for i in range(1, 17))
    assert bits <= 3 * (8 + 6)


def test_structured_bits_count_the_compacted_matrix_and_its_flags():
    w = torch.zeros(5, 2, 2, 2)  # 5 rows, 8 columns
    w[1, 0, 0, 1] = 1.0
    w[3, 1, 1, 0] = 1.0  # rows 1 and 3, columns 1 and 6: a 2×2 compacted matrix
    assert nns.structured_bits(w, 4) == 2 * 2 * 4 + 5 + 8


def test_storage_is_interpolated_between_the_stages_around_the_target():
    pts = [(99.0, 100.0), (98.0, 10.0), (96.0, 1.0)]
    s, ok = nns.interpolate_storage(pts, 97.0)
    assert ok and s == pytest.approx(math.sqrt(10.0))
    assert nns.interpolate_storage(pts, 95.0) == (1.0, False)  # every stage reaches it: the last
    with pytest.raises(ValueError):
        nns.interpolate_storage(pts, 99.5)
    # accuracy need not fall monotonically: the smallest storage reaching the target counts
    assert nns.interpolate_storage([(96.5, 20.0), (97.5, 8.0), (92.0, 3.0)], 97.0)[0] < 8.0
    assert nns.interpolate_storage([(97.5, 20.0), (96.0, 8.0), (97.2, 3.0)], 97.0) == (3.0, False)


def test_matched_accuracy_falls_to_what_the_weaker_run_reaches():
    irr, st = [(96.5, 20.0), (97.5, 8.0)], [(96.6, 80.0), (97.3, 30.0)]
    assert nns.matched_accuracy(98.5, 0.5, irr, st) == 97.3
    assert nns.matched_accuracy(97.0, 0.5, irr, st) == 96.5


def test_compacted_and_csr_gemms_compute_the_dense_product():
    torch.manual_seed(0)
    model = LeNet5()
    with torch.no_grad():
        for w in lenet.weights(model).values():
            w.mul_(FilterColumn(0.5, column_ratio=0.5, exact_limit=0).support(w))
    outs = {}
    for form in ("dense", "csr", "compact"):
        fns = nns.gemm_callables(model, lenet.LAYERS, form, torch.Generator().manual_seed(1))
        outs[form] = {n: f() for n, f in fns.items()}
    for n in lenet.LAYERS:
        dense = outs["dense"][n]
        torch.testing.assert_close(outs["csr"][n], dense, rtol=1e-4, atol=1e-4)
        kept_rows = (model.get_submodule(n).weight.reshape(dense.shape[0], -1) != 0).any(1)
        torch.testing.assert_close(outs["compact"][n], dense[kept_rows], rtol=1e-4, atol=1e-4)
        assert not dense[~kept_rows].any()


def test_unused_path_removal_follows_dead_filters_and_dead_channel_groups():
    torch.manual_seed(0)
    model = LeNet5()
    with torch.no_grad():
        model.conv1.weight[3] = 0  # conv1 filter 3 dead: conv2's channel group 3 reads nothing
        model.conv2.weight[:, 7] = 0  # conv2's channel group 7 all zero: conv1 filter 7 is unused
        model.fc1.weight[:, 16 * 5:16 * 6] = 0  # fc1 never reads conv2 filter 5
        model.fc2.weight[:, 11] = 0  # fc2 never reads fc1 neuron 11
    before = sum(int((w != 0).sum()) for w in lenet.weights(model).values())
    removed = prm.remove_unused_paths(model)
    after = sum(int((w != 0).sum()) for w in lenet.weights(model).values())
    assert removed == before - after > 0
    assert not model.conv2.weight[:, 3].any() and not model.conv1.weight[7].any()
    assert not model.conv2.weight[5].any() and not model.fc1.weight[11].any()
    assert model.conv1.bias[7] == 0 and model.fc1.bias[11] == 0
    assert prm.remove_unused_paths(model) == 0  # a fixed point


def test_purification_removes_only_empty_and_weak_groups():
    model = LeNet5()
    with torch.no_grad():
        for w in lenet.weights(model).values():
            w.fill_(1.0)
        model.conv2.weight[:, 2] = 0
        model.conv2.weight[0, 2, 0, 0] = 0.5  # channel group 2: 1 of 1250 weights left, weak: removed
        model.conv2.weight[:, 4] = 0
        model.conv2.weight[:, 4, 0, 0] = 100.0  # channel group 4: 96% empty but strong: kept
    prm.purify(model, emptiness=0.9, importance=0.5)
    assert not model.conv2.weight[:, 2].any()
    assert model.conv2.weight[:, 4, 0, 0].eq(100.0).all()
    assert model.conv2.weight[:, 0].eq(1.0).all()  # full groups untouched
