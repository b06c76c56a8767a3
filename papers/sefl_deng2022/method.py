"""Pruning for SEFL's proxy: a global magnitude mask and a payload of the kept coordinates (the suite's reading;
see the package docstring)."""

from __future__ import annotations

import numpy as np

from bench.federated import TorchClient


def magnitude_mask(weights: np.ndarray, keep: float) -> np.ndarray:
    """0/1 mask keeping the ``keep`` fraction of largest-magnitude coordinates (ties broken by position)."""
    k = max(1, round(keep * weights.size))
    mask = np.zeros(weights.size, dtype=np.float32)
    mask[np.argpartition(np.abs(weights), weights.size - k)[weights.size - k:]] = 1.0
    return mask


def kept_encoder(kept: np.ndarray):
    """Send only the coordinates ``kept`` (sorted indices of the public mask): what enters secure aggregation."""

    def encode(client: TorchClient, update: np.ndarray) -> list[np.ndarray]:
        return [update[kept]]

    return encode


def kept_decoder(kept: np.ndarray):
    """Scatter an aggregated vector of kept coordinates back to the full parameter vector."""

    def decode(arrays: list[np.ndarray], size: int) -> np.ndarray:
        out = np.zeros(size)
        out[kept] = arrays[0]
        return out

    return decode
