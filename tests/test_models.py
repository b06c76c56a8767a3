"""Shared models: output shapes, parameter counts of the reference architectures, argument checks."""

import pytest
import torch

from bench.models import MLP, CifarResNet, LeNet5, LSTMLanguageModel


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_lenet_is_caffe_lenet():
    m = LeNet5()
    assert m(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # 20·25+20 + 50·500+50 + 800·500+500 + 500·10+10
    assert n_params(m) == 520 + 25050 + 400500 + 5010


def test_mlp_shapes_and_batchnorm():
    m = MLP(784, [500, 300], 10, batch_norm=True)
    assert m(torch.zeros(4, 1, 28, 28)).shape == (4, 10)
    assert sum(isinstance(x, torch.nn.BatchNorm1d) for x in m.modules()) == 2


@pytest.mark.parametrize("shortcut,params", [("A", 269_722), ("B", 272_474)])
def test_resnet20(shortcut, params):
    m = CifarResNet(20, shortcut=shortcut)
    assert len(m.blocks) == 9 and m(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert n_params(m) == params  # He et al.: 0.27M


def test_resnet_depth_must_be_6k_plus_2():
    with pytest.raises(ValueError, match="6k\\+2"):
        CifarResNet(21)


def test_lstm_lm_shapes_and_state():
    m = LSTMLanguageModel(100, hidden=16, layers=2)
    logits, (h, c) = m(torch.zeros(3, 7, dtype=torch.long))
    assert logits.shape == (3, 7, 100) and h.shape == (2, 3, 16)
    logits2, _ = m(torch.zeros(3, 5, dtype=torch.long), (h, c))
    assert logits2.shape == (3, 5, 100)
