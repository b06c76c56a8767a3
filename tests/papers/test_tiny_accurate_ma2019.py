"""Tiny but Accurate's pieces: Hinton's distillation loss by hand, the 8-bit weights, the crossbar counts."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from bench.compress import mnist_lenet as lenet
from bench.hardware.imc import dense_arrays, mapped_arrays
from bench.models import LeNet5
from papers.tiny_accurate_ma2019 import method

S = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.5, -1.0]])  # student logits (B=2, 3 classes)
T_ = torch.tensor([[3.0, 1.0, 0.0], [1.0, 1.0, 1.0]])  # teacher logits
Y = torch.tensor([2, 0])


def _softmax(row: list[float], temp: float) -> list[float]:
    e = [math.exp(v / temp) for v in row]
    return [v / sum(e) for v in e]


def _kl_by_hand(temp: float) -> float:
    """Mean over the batch of ``Σ_k p_t,k · log(p_t,k / p_s,k)`` at temperature ``temp``."""
    total = 0.0
    for s, t in zip(S.tolist(), T_.tolist(), strict=True):
        ps, pt = _softmax(s, temp), _softmax(t, temp)
        total += sum(a * math.log(a / b) for a, b in zip(pt, ps, strict=True))
    return total / len(S)


def _ce_by_hand() -> float:
    return sum(-math.log(_softmax(s, 1.0)[y]) for s, y in zip(S.tolist(), Y.tolist(), strict=True)) / len(S)


def test_distillation_is_cross_entropy_at_alpha_0():
    loss = method.distillation_loss(S, T_, Y, temperature=4.0, alpha=0.0)
    assert float(loss) == pytest.approx(_ce_by_hand(), rel=1e-6)
    assert float(loss) == pytest.approx(float(F.cross_entropy(S, Y)), rel=1e-6)


@pytest.mark.parametrize("temp", [1.0, 2.0, 4.0])
def test_distillation_is_t_squared_kl_at_alpha_1(temp):
    loss = method.distillation_loss(S, T_, Y, temperature=temp, alpha=1.0)
    assert float(loss) == pytest.approx(temp ** 2 * _kl_by_hand(temp), rel=1e-5)


def test_distillation_mixes_linearly_and_vanishes_on_the_teacher_itself():
    a, temp = 0.9, 4.0
    mixed = method.distillation_loss(S, T_, Y, temp, a)
    assert float(mixed) == pytest.approx(a * temp ** 2 * _kl_by_hand(temp) + (1 - a) * _ce_by_hand(), rel=1e-5)
    assert float(method.distillation_loss(T_, T_, Y, temp, 1.0)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError):
        method.distillation_loss(S, T_, Y, 0.0, 0.5)
    with pytest.raises(ValueError):
        method.distillation_loss(S, T_, Y, 4.0, 1.5)


def test_distillation_loss_reads_a_frozen_teacher():
    torch.manual_seed(0)
    student, teacher = LeNet5(), LeNet5()
    x, y = torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])
    loss = method.DistillationLoss(teacher, temperature=3.0, alpha=0.5)(student, (x, y))
    expected = method.distillation_loss(student(x), teacher(x).detach(), y, 3.0, 0.5)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    assert student.fc2.weight.grad is not None and teacher.fc2.weight.grad is None


def test_8bit_weights_keep_zeros_and_use_at_most_255_levels():
    torch.manual_seed(0)
    w = torch.randn(50, 20, 5, 5)
    w[:, 3] = 0  # a pruned column group
    w[7] = 0  # a pruned filter
    q = method.quantize_weight(w, 8)
    assert bool((q[w == 0] == 0).all())
    assert len(torch.unique(q)) <= 2 ** 8 - 1  # −127..127
    sqnr_db = 10 * math.log10(float(w.pow(2).sum() / (w - q).pow(2).sum()))
    assert sqnr_db > 35  # about 6 dB per bit for a Gaussian layer


def test_quantize_keeps_the_pruned_structure_and_the_biases():
    torch.manual_seed(0)
    model = LeNet5()
    with torch.no_grad():
        model.fc1.weight[:, 100:] = 0
        model.conv2.weight[5:] = 0
    biases = {n: model.get_submodule(n).bias.clone() for n in lenet.LAYERS}
    support = {n: w.detach() != 0 for n, w in lenet.weights(model).items()}
    copy8 = method.quantized(model, 8)
    assert copy8 is not model and bool((model.fc1.weight[:, :100] != copy8.fc1.weight[:, :100]).any())
    for n, w in lenet.weights(copy8).items():
        assert bool(((w != 0) <= support[n]).all())  # nothing pruned comes back
        assert torch.equal(copy8.get_submodule(n).bias, biases[n])


def test_array_holds_an_8bit_weight_in_two_4bit_cells_per_sign():
    assert (method.ARRAY.rows, method.ARRAY.cols) == (128, 64)
    assert method.ARRAY.columns_per_weight == 4  # 7-bit magnitude in two 4-bit cells, positive and negative copy


def test_crossbars_of_the_dense_lenet():
    model = LeNet5()
    # conv1 25→20: 1 block × ⌈80/64⌉ = 2; conv2 500→50: 4 blocks × ⌈200/64⌉ = 16; fc1 800→500: 7 × ⌈2000/64⌉ = 224;
    # fc2 500→10: 4 × ⌈40/64⌉ = 4
    assert method.crossbars(model) == 2 + 16 + 224 + 4
    assert method.crossbars(model) == sum(dense_arrays(w[0].numel(), w.shape[0], method.ARRAY)
                                          for w in lenet.weights(model).values())


def test_crossbars_of_a_hand_built_pruned_lenet():
    model = LeNet5()
    with torch.no_grad():
        for w in lenet.weights(model).values():
            w.zero_()
        model.conv1.weight[:17, 0, 0, 0] = 1.0  # one input used by 17 outputs: ⌈17·4/64⌉ = 2 crossbars
        model.conv2.weight[0] = 1.0  # one filter reading all 500 inputs: 4 blocks of 128 rows, 1 crossbar each
        model.fc2.weight[:, 7] = 1.0  # one input, 10 outputs: 1 crossbar
    assert mapped_arrays(model.conv1.weight, method.ARRAY) == 2
    assert mapped_arrays(model.conv2.weight, method.ARRAY) == 4
    assert mapped_arrays(model.fc1.weight, method.ARRAY) == 0  # all zero: nothing mapped
    assert method.crossbars(model) == 2 + 4 + 0 + 1
    # the 32x32 crossbars: conv1 ⌈68/32⌉ = 3; conv2 16 blocks of 32 rows (500 = 15·32 + 20); fc2 ⌈40/32⌉ = 2
    assert method.crossbars(model, method.SMALL_ARRAY) == 3 + 16 + 0 + 2
