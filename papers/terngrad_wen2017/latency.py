"""TernGrad's codec throughput: ternarize and pack a 10-million-element fp32 gradient, next to a plain copy.

Two latency cases on the same tensor (``bench/test_latency.py`` times them under pytest-benchmark):

- ``copy``: ``out.copy_(g)``, the baseline (reads 40 MB, writes 40 MB);
- ``ternarize+pack``: the layer-wise scaler (c·σ, c = 2.5), the stochastic ternarization and the 2-bit
  packing of ``method.py``: what a worker does to a gradient tensor before sending it (2.5 MB out).

Both run on one thread (the issue's "one core"); the figure is the ratio of their times. On a GPU the cases
run on the device with its default threads.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from bench.latency import LatencyCase

from .method import DEFAULT_CLIP_FACTOR, pack, scaler, ternarize

NUMEL = 10_000_000


def _one_thread(fn: Callable[[], object], device: torch.device) -> Callable[[], object]:
    if device.type != "cpu":
        return fn

    def run() -> object:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn()
        finally:
            torch.set_num_threads(threads)
    return run


def codec_callable(variant: str, device: torch.device, seed: int) -> Callable[[], object]:
    gen = torch.Generator().manual_seed(seed)
    g = (torch.randn(NUMEL, generator=gen) * 1e-3).to(device)
    if variant == "copy":
        out = torch.empty_like(g)
        return _one_thread(lambda: out.copy_(g), device)
    rng = torch.Generator(device=device).manual_seed(seed + 1)
    return _one_thread(lambda: pack(ternarize(g, scaler(g, DEFAULT_CLIP_FACTOR), rng)), device)


def latency_cases() -> list[LatencyCase]:
    return [LatencyCase("terngrad_wen2017", "gradient.10M", variant,
                        lambda device, seed, variant=variant: codec_callable(variant, device, seed),
                        note="fp32 gradient of 10M elements, one thread on CPU", baseline="copy")
            for variant in ("copy", "ternarize+pack")]
