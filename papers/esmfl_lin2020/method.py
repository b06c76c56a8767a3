"""Top-k sparsified client updates with error feedback, as Flower payloads (the suite's reading of ESMFL's
sparsification; see the package docstring)."""

from __future__ import annotations

import numpy as np

from bench.federated import TorchClient


def topk_encoder(density: float, error_feedback: bool = True):
    """An encoder for :class:`bench.federated.TorchClient`: send the ``density`` fraction of largest-magnitude
    coordinates of (update + carried residual) as ``[values float32, indices int32]``; keep the rest as the next
    round's residual (error feedback) unless ``error_feedback`` is off."""

    def encode(client: TorchClient, update: np.ndarray) -> list[np.ndarray]:
        acc = update.astype(np.float64)
        if error_feedback and client.residual is not None:
            acc = acc + client.residual
        k = max(1, round(density * acc.size))
        idx = np.sort(np.argpartition(np.abs(acc), acc.size - k)[acc.size - k:])
        if error_feedback:
            client.residual = acc.copy()
            client.residual[idx] = 0.0
        return [acc[idx].astype(np.float32), idx.astype(np.int32)]

    return encode


def sparse_decode(arrays: list[np.ndarray], size: int) -> np.ndarray:
    """The dense update a ``[values, indices]`` payload stands for."""
    values, idx = arrays
    out = np.zeros(size)
    out[np.asarray(idx, dtype=np.int64)] = values
    return out
