"""Force Regularization (papers/forcereg_wen2017/method.py): the force of the Caffe solver, term by term."""

import pytest
import torch

from papers.forcereg_wen2017.method import ForceRegularization, force_direction


def _brute_force(weight, kind, thr=1e-4):
    """The solver's double loop over pairs, written out literally."""
    w = weight.reshape(len(weight), -1).double()
    out = torch.zeros_like(w)
    for i in range(len(w)):
        if w[i].norm() <= thr:
            continue
        wi = w[i] / w[i].norm()
        total = torch.zeros_like(wi)
        for j in range(len(w)):
            if j == i or w[j].norm() <= thr:
                continue
            f = w[j] / w[j].norm() - wi
            if kind == "constant":
                if f.norm() <= thr:
                    continue
                f = f / f.norm()
            total += f - (f @ wi) * wi
        out[i] = w[i].norm() * total
    return out.reshape(weight.shape)


@pytest.mark.parametrize("kind", ["degradation", "constant"])
def test_force_matches_the_pairwise_definition(kind):
    torch.manual_seed(0)
    w = torch.randn(7, 3, 3, 3, dtype=torch.float64)
    w[2] = 0  # a dead filter takes no part
    w[5] = 2.5 * w[4]  # same direction as filter 4: no constant force between them
    torch.testing.assert_close(force_direction(w, kind), _brute_force(w, kind))
    assert force_direction(w, kind)[2].abs().max() == 0


@pytest.mark.parametrize("kind", ["degradation", "constant"])
def test_force_is_orthogonal_to_each_filter_and_keeps_its_norm_to_first_order(kind):
    torch.manual_seed(1)
    w = torch.randn(12, 4, 5, 5, dtype=torch.float64)
    d = force_direction(w, kind)
    flat_w, flat_d = w.reshape(12, -1), d.reshape(12, -1)
    cos = (flat_w * flat_d).sum(1) / (flat_w.norm(dim=1) * flat_d.norm(dim=1))
    assert cos.abs().max() < 1e-12
    for eps in (1e-3, 1e-4):  # the norm changes by O(eps²): halving eps quarters it
        change = ((flat_w + eps * flat_d).norm(dim=1) - flat_w.norm(dim=1)).abs().max()
        assert change <= eps ** 2 * (flat_d.norm(dim=1) ** 2 / flat_w.norm(dim=1)).max()


def test_force_pulls_filters_together_and_the_regularizer_adds_minus_lambda_delta():
    torch.manual_seed(2)
    w = torch.nn.Parameter(torch.randn(10, 8))
    w.grad = torch.zeros_like(w)
    reg = ForceRegularization([w], force_decay=0.01, kind="degradation")
    reg.add_grad_()
    torch.testing.assert_close(w.grad, -0.01 * force_direction(w, "degradation"))
    # a descent step along the force raises the mean pairwise cosine of the filters
    unit = lambda t: t / t.norm(dim=1, keepdim=True)  # noqa: E731
    before = (unit(w) @ unit(w).T).mean()
    after_w = w.detach() - 1.0 * w.grad
    assert (unit(after_w) @ unit(after_w).T).mean() > before


def test_errors():
    with pytest.raises(ValueError, match="force type"):
        force_direction(torch.randn(3, 4), "l3")
    with pytest.raises(ValueError, match="force_mult"):
        ForceRegularization([torch.zeros(2, 2)], 1e-3, mults=[1, 2])


def test_alexnet_ranks_split_by_group_and_reproduce_the_tables_theoretical_speedups():
    from papers.forcereg_wen2017.latency import ALEXNET, layer_callable

    conv3, conv4, conv5 = ALEXNET
    assert conv3.group_ranks(124) == [124] and conv4.group_ranks(106) == [53, 53] and conv5.group_ranks(129) == [64, 65]
    # the poster's theoretical row, to its two decimals
    assert [round(layer.macs() / layer.macs(layer.rank_force), 2) for layer in ALEXNET] == [2.65, 3.26, 1.85]
    assert [round(layer.macs() / layer.macs(layer.rank_noforce), 2) for layer in ALEXNET] == [1.79, 1.72, 1.63]
    # every variant returns the dense layer's output shape (conv5's unequal groups go through the split path)
    for variant in ("dense", "lowrank-force", "lowrank-noforce"):
        assert layer_callable(conv5, variant, torch.device("cpu"), 0, batch=2)().shape == (2, 256, 13, 13)
