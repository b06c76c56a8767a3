"""bench/metrics/memory.py: bytes saved for backward, counted once per storage, parameters and scopes apart."""

import pytest
import torch

from bench.metrics.memory import peak_memory, saved_tensors


def test_counts_what_autograd_saves_once_per_storage():
    x = torch.randn(32, 100)
    w = torch.randn(100, 50, requires_grad=True)
    with saved_tensors() as saved:
        h = torch.relu(x @ w)  # mm saves x (w is saved only if x needs a gradient); relu saves its output
        loss = (h * h).sum()  # h saved twice by mul: one storage
    loss.backward()
    assert saved.activation_bytes == (32 * 100 + 32 * 50) * 4
    assert saved.tensors >= 3


def test_parameters_are_counted_apart():
    layer = torch.nn.Linear(8, 4)
    x = torch.randn(2, 8, requires_grad=True)
    with saved_tensors(layer.parameters()) as saved:
        y = layer(x).sum()
    y.backward()
    assert saved.parameter_bytes == 8 * 4 * 4  # the weight, saved for the input's gradient
    assert saved.activation_bytes == 2 * 8 * 4


def test_exclusive_bytes_leave_out_tensors_saved_outside_the_scope():
    x = torch.randn(16, 16, requires_grad=True)
    with saved_tensors() as saved:
        with saved.scope("node"):
            a = torch.sigmoid(x)  # saves its output a, only here
            b = a * 2.0
        c = (b * b).sum()  # saves b outside the scope too
    c.backward()
    assert saved.exclusive_bytes("node") == 16 * 16 * 4
    with pytest.raises(RuntimeError, match="inside scope"), saved.scope("a"), saved.scope("b"):
        pass


def test_no_grad_saves_nothing():
    with saved_tensors() as saved, torch.no_grad():
        torch.relu(torch.randn(10, requires_grad=True))
    assert saved.activation_bytes == 0 and saved.tensors == 0


def test_peak_is_none_on_the_cpu():
    with peak_memory("cpu") as peak:
        torch.zeros(1000)
    assert peak.bytes is None


def test_a_slice_counts_its_whole_storage_and_a_dropped_branch_counts_nothing():
    big = torch.randn(1000, 10)
    w = torch.randn(10, 10, requires_grad=True)
    with saved_tensors() as saved:
        out = (big[:4] @ w).sum()  # mm saves the slice: the whole 1000-row storage stays alive
        torch.sigmoid(big[:4] @ w)  # a branch nobody keeps: its graph, and what it saved, is freed
    out.backward()
    assert saved.activation_bytes == 1000 * 10 * 4
