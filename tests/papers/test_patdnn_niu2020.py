"""PatDNN's pieces: two constraint sets per conv, projected connectivity-then-pattern, and baselines that prune the
same fraction of every layer."""

from __future__ import annotations

import pytest
import torch

from bench.compress.structured import Connectivity, Pattern
from papers.patdnn_niu2020 import experiment, method


def _model():
    torch.manual_seed(0)
    return method.PatternCNN()


def test_two_sets_per_conv_connectivity_first():
    model = _model()
    targets = method.patdnn_targets(model, method.extracted_library(model, 8))
    names = list(targets)
    assert names[:3] == ["conv2/connectivity", "conv3/connectivity", "conv4/connectivity"]
    assert {n for n in names if n.endswith("/pattern")} == {f"{c}/pattern" for c in method.CONVS}
    assert targets["conv2/connectivity"][0] is targets["conv2/pattern"][0]  # one parameter, two duals


def test_hard_projection_lands_in_both_sets_at_the_expected_rate():
    model = _model()
    lib = method.extracted_library(model, 8)
    targets = method.patdnn_targets(model, lib)
    experiment._project(targets)
    weights = method.conv_weights(model)
    for name, w in weights.items():
        assert Pattern(library=lib).contains(w)
        if name in method.CONNECTED:
            assert Connectivity(1 - 1 / 3.6).contains(w)
            kernels = w.flatten(2).abs().sum(2) > 0
            assert int(kernels.sum()) == round(kernels.numel() / 3.6)
    ratios = method.layer_prune_ratios(model)
    for name, w in weights.items():
        assert int((w != 0).sum()) / w.numel() == pytest.approx(1 - ratios[name], abs=1e-9)
    assert ratios["conv1"] == pytest.approx(5 / 9)


@pytest.mark.parametrize("kind", ["irregular", "filter"])
def test_baselines_prune_the_same_fraction_of_each_layer(kind):
    model = _model()
    ratios = method.layer_prune_ratios(model)
    experiment._project(method.equal_count_targets(model, kind))
    for name, w in method.conv_weights(model).items():
        kept = int((w != 0).sum()) / w.numel()
        tolerance = 1e-9 if kind == "irregular" else 0.5 / w.shape[0]  # whole filters: the nearest count
        assert kept == pytest.approx(1 - ratios[name], abs=tolerance)
        if kind == "filter":
            rows = w.flatten(1).abs().sum(1) > 0
            assert bool(((w.flatten(1) != 0) | ~rows[:, None]).all())  # kept filters stay whole


def test_random_connectivity_mutant_keeps_the_same_count_elsewhere():
    from papers.patdnn_niu2020.mutants import _RandomConnectivity

    w = torch.randn(32, 16, 3, 3)
    a, b = Connectivity(1 - 1 / 3.6).support(w), _RandomConnectivity(1 - 1 / 3.6).support(w)
    assert int(a.sum()) == int(b.sum()) and not torch.equal(a, b)


def test_latency_variants_compute_the_same_convolution_on_the_same_nonzeros():
    from papers.patdnn_niu2020 import latency

    cases = latency.latency_cases()
    groups = {c.group for c in cases}
    assert len(cases) == 3 * len(groups) == 9
    for group in groups:
        outs = {c.variant: c.build(torch.device("cpu"), 3)() for c in cases if c.group == group}
        assert set(outs) == {"dense", "csr", "pattern"}
        for variant in ("csr", "pattern"):
            torch.testing.assert_close(outs[variant], outs["dense"], rtol=1e-4, atol=1e-4)
    w = Connectivity(1 - 1 / method.CONNECTIVITY_RATE)(torch.randn(128, 128, 3, 3))
    w = Pattern(library=latency._library())(w)
    assert int((w != 0).sum()) == pytest.approx(128 * 128 * 4 / method.CONNECTIVITY_RATE, rel=0.01)
