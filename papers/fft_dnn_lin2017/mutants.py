"""Mutants of the FFT-based DNN (bench/mutants.py).

- ``spectra-detached``: ``method.fft_product`` (looked up by ``BlockCirculantLinear.forward`` in ``method``)
  receives the weight spectra detached from the graph, as a hand-written backward that omits Eq. 4's weight
  update would: the block-circulant layers never train. It should break ``accuracy-paper-setting`` and
  ``accuracy-smaller-blocks`` (``mnist_blocks``).
- ``circulant-as-dense``: ``latency.fft_product`` (looked up by ``layer_callable`` and ``arch1_callable`` in
  ``latency``) writes the circulant blocks out as a dense matrix inside every call and multiplies by it: the
  product costs O(n²) again and more. It should break ``fft-lower-computation`` (``fc_latency``).
"""

from __future__ import annotations

from unittest import mock

import torch

from bench.mutants import mutant
from papers.fft_dnn_lin2017 import latency, method

_fft_product = method.fft_product


def _detached(x, wf, out_features, block):
    return _fft_product(x, wf.detach(), out_features, block)


def _as_dense(x, wf, out_features, block):
    """The blocks' vectors recovered from their spectra, expanded to W (m×n), then ``x Wᵀ``."""
    w = torch.fft.irfft(wf, n=block, dim=-1)  # (p, q, b)
    p, q, _ = w.shape
    dense = method.circulant(w).permute(0, 2, 1, 3).reshape(p * block, q * block)[:out_features, :x.shape[1]]
    return x @ dense.T


@mutant("spectra-detached")
def spectra_detached():
    """The block-circulant layers' weights get no gradient."""
    with mock.patch.object(method, "fft_product", _detached):
        yield


@mutant("circulant-as-dense")
def circulant_as_dense():
    """The circulant product computed through the dense expansion."""
    with mock.patch.object(latency, "fft_product", _as_dense):
        yield
