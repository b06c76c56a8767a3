"""The TrueNorth core model (bench/hardware/truenorth.py) against hand-computed cases."""

import pytest
import torch

from bench.hardware import truenorth as tn


def test_core_counts_by_hand():
    assert tn.layer_cores(784, 500) == 4 * 2  # ⌈784/256⌉ = 4 axon blocks, ⌈500/256⌉ = 2 neuron blocks
    assert tn.layer_cores(256, 256) == 1
    assert tn.layer_cores(257, 10) == 2
    mlp = [(784, 500), (500, 300), (300, 10)]  # 8 + 2·2 + 2·1
    assert tn.network_cores(mlp) == 14
    assert tn.network_cores(mlp, copies=16) == 224
    assert tn.network_cores(mlp, cfg=tn.CoreConfig(axons=128, neurons=128)) == 7 * 4 + 4 * 3 + 3 * 1
    with pytest.raises(ValueError):
        tn.network_cores(mlp, copies=0)
    assert tn.TRUENORTH.describe()["version"] == tn.VERSION


def test_sampled_synapses_are_signed_bernoulli_with_the_weight_as_mean():
    w = torch.tensor([0.0, 1.0, -1.0, 0.25, -0.75, 2.0])
    gen = torch.Generator().manual_seed(0)
    draws = torch.stack([tn.sample_synapses(w, gen) for _ in range(20000)])
    assert set(draws.unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert draws[:, 0].eq(0).all() and draws[:, 1].eq(1).all() and draws[:, 2].eq(-1).all()
    assert draws[:, 5].eq(1).all()  # |w| > 1 is clipped to an always-on synapse
    torch.testing.assert_close(draws.mean(0)[3:5], torch.tensor([0.25, -0.75]), atol=0.015, rtol=0)
    assert draws[:, 3].var().item() == pytest.approx(0.25 * 0.75, abs=0.01)


def test_synapse_variance_is_p_times_one_minus_p():
    w = torch.tensor([[0.5, -0.5], [1.0, 0.1]])
    assert tn.synapse_variance(w) == pytest.approx(0.25 + 0.25 + 0.0 + 0.09)
