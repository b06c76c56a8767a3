"""The pneumonia proxy's three sparsities keep the same fraction of every pruned layer, each in its own shape."""

from __future__ import annotations

import pytest
import torch

from bench.compress.cifar_convnet import CaffeCifarConvNet
from papers.pneumonia_li2019 import method


@pytest.mark.parametrize("kind", method.KINDS)
def test_each_sparsity_keeps_a_quarter_of_conv2_and_conv3(kind):
    torch.manual_seed(0)
    model = CaffeCifarConvNet()
    with torch.no_grad():
        for w, proj in method.targets(model, kind, 4.0).values():
            w.copy_(proj(w))
            assert proj.contains(w)
    for w in method.pruned_weights(model).values():
        m = w.reshape(w.shape[0], -1) != 0
        assert int(m.sum()) / m.numel() == pytest.approx(0.25, abs=0.01)
        rows, cols = int(m.any(1).sum()), int(m.any(0).sum())
        expected = {"filter": (w.shape[0] // 4, m.shape[1]), "column": (w.shape[0], m.shape[1] // 4),
                    "combined": (w.shape[0] // 2, m.shape[1] // 2)}[kind]
        assert (rows, cols) == expected
    assert bool((model.conv1.weight != 0).all())  # the first conv is not pruned


def test_unknown_sparsity_is_refused():
    with pytest.raises(ValueError, match="unknown sparsity"):
        method.projection("kernel", 4.0)


def test_combined_is_filter_mutant_turns_the_combined_arm_into_filters():
    from papers.pneumonia_li2019 import mutants

    proj = mutants._combined_as_filter("combined", 4.0)
    assert type(proj).__name__ == "Filter" and proj.ratio == pytest.approx(0.75)
